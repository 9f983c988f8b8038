"""Deterministic checks around the language model: the safety policy and the draft checks.

- :func:`policy_hit` is the floor of the policy check (knowledge/policy.py learns the rest): whether a question asks
  for a medication dose, which medicine to take or whether to start, stop or change one, a diagnosis, or something
  outside a clinic's business.
- :func:`unsupported_numbers`, :func:`has_dosing_language` and :func:`fits_sms` check a draft.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from bot.llm.base import cut_at_repeat
from bot.llm.copying import SENTENCE_END as SENTENCE_END  # one sentence rule: checks, training set, decoding
from bot.messaging.sms_budget import fits_sms

PolicyKind = Literal["dose", "medicine", "diagnosis", "out_of_scope"]

_DRUGS_DRAFT = (
    r"(ibuprofen|advil|motrin|tylenol|acetaminophen|paracetamol|aspirin|aleve|naproxen|benadryl|"
    r"insulin|metformin|warfarin|coumadin|eliquis|lisinopril|amlodipine|atorvastatin|statins?|levothyroxine|"
    r"synthroid|prednisone|antibiotics?|amoxicillin|melatonin|sleeping pills?|painkillers?|opioids?)"
)
# Medicines patients name by brand or short name: "leftover cipro", "my omeprazole" (the policy rules only: the draft
# check keeps the list above).
_DRUGS = (rf"({_DRUGS_DRAFT[1:-1]}|cipro|ciprofloxacin|keflex|cephalexin|doxycycline|bactrim|azithromycin|z-?pack|"
          r"augmentin|macrobid|nitrofurantoin|omeprazole|prilosec|pantoprazole|nexium|losartan|metoprolol|"
          r"simvastatin|rosuvastatin|crestor|lipitor|ozempic|gabapentin|tramadol|zoloft|sertraline)")
# Supplements and remedies patients buy themselves, named by what they are: "cinnamon or berberine for my sugar".
_REMEDIES = (r"(cinnamon|berberine|fish oil|omega[- ]?3s?|turmeric|curcumin|red yeast rice|coq ?10|ashwagandha|"
             r"apple cider vinegar|psyllium|metamucil|herbs?|herbal (remedy|remedies|tea|teas)|probiotics?|multivitamins?)")
_MED_WORDS = (
    r"medicines?|medications?|meds|med|pills?|tablets?|capsules?|caps|softgels?|"
    r"gumm(y|ies)|vitamins?( [a-z0-9]+)?|supplements?|iron|"
    r"potassium|inhalers?|blood thinners?|water pills?|drugs?|creams?|shots?|injections?|prescriptions?|"
    r"antidepressants?|steroids?|hormones?")
_MEDS = rf"({_DRUGS[1:-1]}|{_REMEDIES[1:-1]}|{_MED_WORDS})"
_MEDS_DRAFT = rf"({_DRUGS_DRAFT[1:-1]}|{_REMEDIES[1:-1]}|{_MED_WORDS})"
# The same asked in Spanish, as patients text it (accents often left off): "cuantas unidades tengo que tomar al dia",
# "que pastilla le doy", "puedo dejar de tomar la metformina".
_DRUGS_ES = (r"insulina|metformina|ibuprofeno|paracetamol|acetaminof[eé]n|aspirina|warfarina|antibi[oó]ticos?|amoxicilina|"
             r"prednisona|levotiroxina")
_MEDS_ES = (r"(medicinas?|medicamentos?|pastillas?|p[ií]ldoras?|tabletas?|c[aá]psulas?|gotas|jarabe|inyecci[oó]n(es)?|"
            rf"unidades|miligramos|mg|{_DRUGS_ES}|suplementos?)")
_DOSE_ES = [
    r"\bdosis\b",
    rf"\bcu[aá]nt[oa]s? {_MEDS_ES}",
    r"\bcu[aá]nt[oa]s?\b(?:(?!\b(agua|caf[eé]|l[ií]quidos?|jugo)\b).){0,50}\b(tomar|darle|tomo|le doy|le damos)\b",
    r"\b\d+(\.\d+)?\s*(unidades|miligramos|tabletas|pastillas|gotas)\b",
    r"\b(puedo|debo|puede|podemos|se puede) (tomar|darle|dar|usar) (m[aá]s|otra|otras|doble|el doble)\b",
]
_MEDICINE_ES = [
    rf"\b(qu[eé]|cu[aá]l(es)?)\b.{{0,20}}\b{_MEDS_ES}\b.{{0,30}}\b(tomar|tomo|tome|usar|darle|doy|sirve|recomienda|"
    r"conviene|es mejor)\b",
    r"\b(puedo|debo|deber[ií]a|puede|podemos|se puede|es seguro) (tomar|darle|dar|mezclar|usar)\b.{0,40}\b"
    rf"({_DRUGS_ES}|advil|tylenol|motrin|aleve)\b",
    rf"\b(dejar de tomar|dejo de tomar|suspender|suspendo|parar|paro|cambiar|cambio|empezar a tomar|empiezo a tomar|"
    rf"comenzar a tomar)\b.{{0,40}}\b{_MEDS_ES}",
]
# "how many/how much" asks an amount of medicine unless it asks a time or a price: "how many days does a refill take",
# "how many hours do I have to fast", "how much does a visit cost". A time is still a dose's when someone takes it:
# "how many days should I take it".
_TIME_UNITS = r"(more |longer |extra )?(days?|hours?|hrs|minutes?|mins|weeks?|months?|years?|business days|working days)"
_PRICE_WORDS = r"cost|costs|charge|charges|fees?|price|prices|pay|owe|co-?pays?"
# nor a supply still on hand: "when should i ask for my refill, like how many pills left"
_ON_HAND = (r"(?! (more )?(pills?|tablets?|capsules?|doses?|days?|refills?)( of \w+)? (are |do i have |i have )?"
            r"(left|remaining)\b(?![^.?!]*\b(take|give|use)\b))")
_NOT_AN_AMOUNT = (rf"(?! {_TIME_UNITS}\b(?![^.?!]*\b(i|we|he|she|they|my \w+) (take|give|use|keep taking|stay on|be on)\b))"
                  rf"(?![^.?!]*\b({_PRICE_WORDS})\b){_ON_HAND}")
# nor how often a test is done: "how often ought I to have the A1c test performed", "how often do i need to have my
# cholesterol checked" (the test's page says; "how often can i have another one" is still a dose)
_NOT_A_TEST = (r"(?! (it |this |that |my |his |her |the |a |an |these |those )?([\w-]+ ){0,2}(tests?|checked|done|drawn|"
               r"labs?|blood ?work|screenings?|panels?|physicals?|check-?ups?|visits?|appointments?)\b)")
_DOSE_PATTERNS = [*_DOSE_ES,
    r"\b(dose|doses|dosage|dosing)\b",
    # (not a supply on hand: "im down to like 6 pills", "3 tablets left")
    r"(?<!down to )(?<!down to like )(?<!down to about )"
    r"\b\d+(\.\d+)?\s*(mg|mcg|milligrams?|micrograms?|ml|units?|iu|tablets?|pills?|capsules?)\b(?!\s*/)"
    r"(?!\s+(left|remaining)\b)",
    rf"\bhow (much|many|often)\b(?! (notice|warning|time|lead time)\b){_NOT_AN_AMOUNT}.*\b(take|give|use|have"
    rf"{_NOT_A_TEST})\b",
    rf"\bhow (much|many)\b{_NOT_AN_AMOUNT}.*\b{_MEDS}",
    # the amount asked without "dose": "is that the amount i should be on too", "the right amount for me to take"
    r"\b(amount|strength)\b[^.?!]{0,25}\b(i|we|he|she|my \w+) (should|need to|ought to|have to|must)?\s?"
    r"(be on|be taking|take|give|use)\b",
    rf"\b(double|increase|decrease|lower|raise|cut|split|halve)\b.{{0,20}}\b(my |the |his |her )?{_MEDS}",
    rf"(?<!\bgo )(?<!\bgoes )(?<!\bwent )(?<!\bgoing )(?<!\bgone )\bup\b.{{0,20}}\b(my |the |his |her )?{_MEDS}",  # not "go up on"
    rf"\b(should|can|could|may|do|shall) (i|we|he|she|my \w+) (go|move|bump) up\b.{{0,20}}\b{_MEDS}",
    r"\b(can|should|may) (i|we|he|she|my \w+) (take|give|have) (more|another|extra|\d+|two|three)\b",
    # a new amount said without a medicine's name: "the 25 isnt doing anything can i go up to 50"
    r"\b(should|can|could|may|do|shall) (i|we|he|she) (go|move|bump|step|jump|switch) (up |down )?(from \d+(\.\d+)? )?"
    r"to \d",
    rf"\bmax(imum)? (amount|number)\b.*{_MEDS}",
    rf"\b(can|should|may|ok to|okay to|safe to) (i |we |he |she )?(take|give|mix|combine|use)\b.{{0,40}}\b{_DRUGS}",
    # how often to take it: "should i go to twice a day", "can he take it 3 times a day"
    r"\b(should|can|could|may|ok to|okay to|safe to|do) (i|we|he|she|my \w+)\b(?:(?!\b(check|test|measure|come|"
    r"visit|call)).){0,30}\b(once|twice|three times|"
    r"four times|\d+ times) (a|per|each) day\b",
]
_MEDICINE_PATTERNS = [*_MEDICINE_ES,
    rf"\b(which|what|what kind of|best|any|a good)\b.{{0,20}}\b{_MEDS}\b.{{0,30}}\b(should|do|can|could|would|to)\b"
    r".{0,15}\b(i|we|he|she|my \w+)\b.{0,12}\b(take|use|get|try|give|start|be on)\b",
    rf"\b(should|can|could|may|do) (i|we|he|she|my \w+) (stop|quit|start|switch|change|come off|go off|get off|skip|"
    rf"restart|begin)\b.{{0,40}}\b{_MEDS}",
    rf"\b(i|we|he|she|they|my \w+) (should|can|could|may|might|must|will|need to|have to|ought to)( just| not)? "
    rf"(stop|quit|start|switch|change|come off|go off|get off|skip|restart|begin)\b.{{0,40}}\b{_MEDS}",
    # without a person only where nothing else can be the one who stops: "need to stop my metformin?", "ok to skip my
    # pill", "Should stop metformin?", not "antibiotics can change the INR of people on warfarin"
    rf"(\b(need to|ok to|okay to|safe to|is it ok(ay)? to)|(^|[.?!,]\s*)(should|can|could|may|do)) "
    rf"(stop|quit|start|switch|change|come off|go off|get off|skip|restart|begin)\b.{{0,40}}\b{_MEDS}",
    # taking it again, or stopping it, said of "it" in a message that names a medicine: "I stopped my omeprazole ...
    # Can I restart it now"
    rf"^(?=.*\b{_MEDS}\b).*\b(should|can|could|may|do|need to|ok to|okay to|safe to|is it ok(ay)? to)\b "
    r"(i |we |he |she |my \w+ )?(just |not )?(restart|resume|go back on|get back on|start back on|start taking|"
    r"start|stop taking|stop|quit|keep taking)\b (it|them|this|that|these|those)\b",
    # someone else's medicine, or one left over: "can i just use hers?", "the leftover antibiotics"
    r"\b(can|could|should|may|ok to|okay to|safe to) (i |we |he |she |my \w+ )?(just )?(take|use|try|borrow|have|give)\b"
    r"( (him|her|them|me))?( some of)? (hers|his|theirs|yours|my \w+'s)(?=\s*([?.!,]|$|\b(for|instead|too|then|now)\b))",
    rf"\b(can|could|should|may|ok to|okay to|safe to) (i |we |he |she |my \w+ )?(just )?(take|use|try|borrow|have|give)\b"
    rf"( (him|her|them|me))?( some of)? (his|her|their|my \w+'?s) ([a-z]+ ){{0,2}}{_MEDS}\b",
    rf"\b(leftover|left over|left-over|old|expired|extra)\b[^.?!]{{0,20}}\b{_MEDS}\b[^?]{{0,80}}\b(take|use|give|try)\b"
    r"|\b(take|use|give|try)\b[^.?!]{0,30}\b(leftover|left over|left-over)\b",
    # put on one: "do I need to be on a statin", "should she be on metformin"
    rf"\b(i|we|he|she|my \w+) (need|needs|have|has|ought) to be on (a |an |the |some )?{_MEDS}",
    rf"\b(should|must) (i|we|he|she|my \w+) be on (a |an |the |some )?{_MEDS}",
    rf"\b(do|will) (i|we|he|she) need (an? |to take |to start )?{_MEDS}",
    rf"\b(should|need to|have to|do|will|must)\b.{{0,20}}\b(go|get|be put|be started|put (me|him|her|us)) on "
    rf"(a |an |the |some |my )?{_MEDS}",  # starting one, said as going on it
    rf"\bswitch(ing)? (from|to)\b.{{0,30}}\b{_DRUGS}",
    rf"\b(what|which) {_MEDS} (is|are|works?) (best|better|safest)\b",
    # a choice between remedies, or the best one: "which is better for lowering, cinnamon or berberine", "fish oil or
    # a statin", "the best vitamin for energy"
    rf"\b(which|what)( one| kind| type)?( is| are| would be| works)? (better|best|stronger|safer|more effective)\b"
    rf"[^.?!]{{0,60}}\b{_MEDS}\b",
    rf"\b{_MEDS}\b[^.?!,]{{0,30}}\b(or|vs\.?|versus)\b[^.?!]{{0,30}}\b{_MEDS}\b[^.?!]{{0,40}}"
    r"\b(better|best|stronger|safer|more effective|(for|to) (lower|rais|reduc|bring|get|improv|boost|fix)\w*)",
    rf"\b(better|best|stronger|safer|(for|to) (lower|rais|reduc|bring|get|improv|boost|fix)\w*)\b[^.?!]{{0,40}}"
    rf"\b{_MEDS}\b[^.?!,]{{0,30}}\b(or|vs\.?|versus)\b[^.?!]{{0,30}}\b{_MEDS}\b",
    rf"\b(the |a )?(best|better|good|right|strongest|safest) (\w+ )?{_MEDS} (for|to)\b",
    # whether one would work as a treatment: "would taking fish oil capsules help thin my blood", "would saw palmetto
    # be worth a try"
    rf"\b(would|will|could|can|does|do|might)\b[^.?!]{{0,40}}\b{_MEDS}\b[^.?!]{{0,30}}\b(help|helps|be worth|worth (a try|trying|it))\b",
    rf"(^|[.!?,]\s*){_DRUGS}\s*\?",  # a medicine named as the whole question: "statin? my ldl is 195"
    r"\b(prescribe|(call|phone|send) in (a |an |some |me )?(new )?(prescription|script|rx|z ?-?pack|antibiotics?|meds?|"
    rf"medicine|{_DRUGS[1:-1]}))\b",
]
_CONDITIONS = (
    r"(cancer|diabetes|prediabetes|infection|uti|stroke|heart attack|heart disease|covid|flu|strep|pneumonia|"
    r"tumou?r|disease|anemia|anaemia|leukemia|hepatitis|kidney (disease|failure)|thyroid problem|"
    r"hypothyroidism|hyperthyroidism|high blood pressure|hypertension|an? std|sti|hiv|lupus|arthritis|"
    r"gout|depression|adhd|autism|asthma|allergy|allergies|mono|lyme|shingles|sepsis|appendicitis|"
    r"something (serious|wrong|bad))\b(?! range| levels?\b| cut-?off)"  # "the diabetes range" is a band's name
)
_ORGANS = r"(kidneys?|liver|thyroid|parathyroids?|pancreas|heart|prostate|bones?|bone marrow|gallbladder)"
_DIAGNOSIS_ES = [  # "quiere decir que tengo cancer", "es problema de mi paratiroides?"
    r"\b(quiere decir|significa|ser[aá]|puede ser) que (tengo|tiene|tenga|tenemos)\b",
    r"\b(tengo|tendr[eé]|tiene|tendr[aá]|es|ser[aá]) (un |una )?(c[aá]ncer|diabetes|prediabetes|anemia|infecci[oó]n|leucemia|"
    r"hepatitis|lupus|covid|gripe|algo (grave|malo|serio))\b[^?.]{0,25}\?",
    r"\b(es|ser[aá]|puede ser) (un )?problema (de|en|con) (mi|mis|su|sus) (paratiroides|tiroides|ri[ñn]ones?|h[ií]gado|"
    r"coraz[oó]n|p[aá]ncreas|pr[oó]stata|huesos?)\b",
]
_DIAGNOSIS_PATTERNS = [*_DIAGNOSIS_ES,
    r"\bdiagnos(e|is|ing)\b",
    rf"\b(do|could|might|can) (i|he|she|we|my \w+) (have|has|got) (a |an )?([a-z]+ )?{_CONDITIONS}",
    # asked politely or indirectly: "tell me plainly whether I have prostate cancer", "let me know if she has diabetes"
    rf"\b(whether|(tell|let|say|know)( me| us)? if) (i|he|she|we|my \w+) (have|has|got) (a |an )?([a-z]+ )?{_CONDITIONS}",
    # the stage of a disease asked for the patient: "egfr 48 what stage of ckd am i in", "is my dad stage 3"
    r"\bwhat stage\b[^.?!]{0,30}\b(am i|are we|is (he|she|it|my \w+)|i'?m in|im in)\b|"
    r"\b(am i|is (he|she|my \w+)) (in )?stage \d",
    # "Does she have Gilbert's?", "does my son have diabetes": a person, then a condition (not "flu shots")
    rf"\bdoes (he|she|my (son|daughter|kid|child|baby|husband|wife|partner|mom|mother|dad|father|brother|sister|"
    rf"grandma|grandmother|grandpa|grandfather)) (have|has) (a |an )?([a-z]+ )?{_CONDITIONS}(?! (shots?|vaccines?|tests?|"
    r"testing|screening))",
    r"\b(do|does|could|might) (i|he|she|my \w+) (have|has) [a-z]+'s( (disease|syndrome))?\s*(\?|$)",
    r"\bwhat do (i|you think i) have\b",
    r"\b(something|anything) (seriously )?wrong with (me|my)\b",
    r"\bwhat('s| is) wrong with (me|my)\b",
    r"\bwhat (disease|condition|illness|infection|cancer) (do|does|could|might) (i|he|she|my)\b",
    r"\b(could|might|does) (it|this|that|i|he|she) (be|have) (a |an )?"
    r"(cancer|diabetes|diabetic|infection|stroke|heart attack|covid|flu|strep|pneumonia|tumou?r|disease)\b",
    r"\bis (it|this|that) (cancer|diabetes|an infection|a tumou?r|serious|contagious)\b(?! range| levels?\b)",
    rf"\b(is|could|might) (it|this|that)( be)? (?!(always|ever|only|usually) )(a |an )?([a-z]+ )?{_CONDITIONS}",
    r"\bam i (sick|diabetic|anemic|anaemic|pregnant|dying|ok|okay)\b",
    r"\b(mole|rash|lump|spot|bump)\b.*\b(cancer|serious|dangerous|normal)\b",
    r"\b(mean|means|meaning) (that )?(i|he|she|my \w+) (have|has|am|is|got|'m)\b",
    # the same said with a contraction: "does that mean it's cancer?", "worried thats an infection"
    rf"\b(mean|means|meaning|think|worried|afraid|scared|sure)( that)? (it'?s|its|it is|that'?s|thats|this is|there'?s) "
    rf"(a |an )?([a-z]+ )?{_CONDITIONS}",
    r"\b(mean|means|meaning) (that )?(i'm|im|i am) (a )?\w+",
    rf"\b(sign|because) (that )?(i|he|she) (have|has|got) (a |an )?{_CONDITIONS}",
    rf"\bmeans? (that )?(i'?m |i am |im |i have |i've got )?(a |an )?(hypothyroid\w*|hyperthyroid\w*|diabetic|"
    rf"prediabetic|anemic|anaemic|{_CONDITIONS[1:]}",
    r"\b(so|then|now) (i am|i'm|im) (now |probably |officially )?(diabetic|prediabetic|anemic|anaemic|"
    r"hypothyroid|hyperthyroid)\b",
    # the cause put on the patient's own organ: "is it his kidneys?", "is my pancreas in trouble"
    rf"\b(is|could|might) (it|this|that)( be)? (from |because of |due to )?(my|his|her|their) {_ORGANS}\b",
    rf"\b(is|are) (my|his|her|their) {_ORGANS} (in trouble|failing|damaged|shutting down|giving out)\b",
]
_SCOPE_PATTERNS = [
    r"\b(weather|forecast|stock|stocks|crypto|bitcoin|lottery|election|president|politics)\b",
    r"\b(football|soccer|baseball|basketball|nfl|nba|super bowl|world cup)\b",
    r"\b(recipe|restaurant|movie|netflix|song|lyrics|joke|riddle|poem|story|essay|homework)\b",
    r"\b(write|generate|debug|fix) (me )?(a |an |some |my )?(code|program|script|python|javascript|essay|poem)\b",
    # a text to translate, not someone to interpret at a visit ("can you get someone to translate at her visit")
    r"\btranslate\b(?![^.?!]{0,60}\b(visits?|appointments?|appts?|doctor|nurse|clinician|provider|exam|check-?ups?)\b)",
    r"\b(capital of|who won|tell me about yourself|meaning of life)\b",
    # legal matters: "can I sue him", "fight the other driver's insurance company"
    r"\b(can|could|should|do) (i|we) (sue|take \w+ to court)\b|\b(suing|lawsuit|legal advice|small claims)\b|"
    r"\b(know|recommend|find|need) (me )?(a |an )?(good |cheap )?(lawyer|attorney)\b",  # not "my lawyer needs my records"
    r"\b(fight|negotiate with|argue with|claim against|go after)\b[^.?!]{0,30}\b(other driver|other party|at-fault)"
    r"[^.?!]{0,20}\binsurance\b",
    # another business's hours: "what time does the walgreens on 5th street close"
    r"\b(what time|when|how late|till when|until when)\b[^.?!]{0,15}\b(walgreens|cvs|rite aid|walmart|target|costco|"
    r"kroger|safeway|drugstore|drug store|post office|dmv|bank|grocery store|supermarket)\b[^.?!]{0,40}"
    r"\b(close|closes|closed|closing|open|opens)\b",
]
_COMPILED: dict[PolicyKind, list[re.Pattern[str]]] = {
    "dose": [re.compile(p, re.IGNORECASE) for p in _DOSE_PATTERNS],
    "medicine": [re.compile(p, re.IGNORECASE) for p in _MEDICINE_PATTERNS],
    "diagnosis": [re.compile(p, re.IGNORECASE) for p in _DIAGNOSIS_PATTERNS],
    "out_of_scope": [re.compile(p, re.IGNORECASE) for p in _SCOPE_PATTERNS],
}


def policy_hit(question: str) -> PolicyKind | None:
    """The first safety rule a question trips (dose, medicine, diagnosis, then scope), or None."""
    text = " ".join(question.split())
    for kind in ("dose", "medicine", "diagnosis", "out_of_scope"):
        if any(p.search(text) for p in _COMPILED[kind]):
            return kind
    return None


_CONDITION_RE = re.compile(rf"\b({_CONDITIONS[1:]}|\b{_ORGANS}\b", re.IGNORECASE)


_MEDS_RE = re.compile(rf"\b{_MEDS}\b", re.IGNORECASE)
_PRICE = rf"({_PRICE_WORDS}|charged|bill|billed)"
_PRICE_RE = re.compile(rf"\bhow (much|many)\b[^.?!]*\b{_PRICE}\b|\b{_PRICE}\b[^.?!]*\bhow (much|many)\b|"
                       rf"\bwhat(s| is|'s| are) the {_PRICE}\b", re.IGNORECASE)
# a concentration in blood or urine, the unit a lab result is given in (never a medicine's amount)
_LAB_UNIT = r"(n|p|m|µ|u|micro)?(g|mol|mmol|iu|units?)\s?/\s?(d?l|ml)"
_CONVERSION_RE = re.compile(rf"\b(in|to|into)\s{_LAB_UNIT}\b|\bconvert\w*\b[^.?!]{{0,40}}\b{_LAB_UNIT}\b", re.IGNORECASE)


def asks_price_or_unit(text: str) -> bool:
    """The message asks what something costs and names no medicine ("how much do u charge if i cancel same day"), or
    asks a lab result in another unit ("vitamin d 50 nmol/L, how much is that in ng/mL"): "how much" is no amount to
    take there."""
    return bool(_CONVERSION_RE.search(text)) or (bool(_PRICE_RE.search(text)) and not _MEDS_RE.search(text))


def names_medicine(text: str) -> bool:
    """The text names a medicine, a remedy or a word for one ("metformin", "fish oil", "my pills")."""
    return bool(_MEDS_RE.search(text))


def names_condition(text: str) -> bool:
    """The text names a condition or an organ ("diabetes", "my kidneys"): said beside a number, the patient links
    the two, which is for a clinician."""
    return bool(_CONDITION_RE.search(text))


# -- numbers -----------------------------------------------------------------------------
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?|\d+")
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        re.findall(
            r"\S+",
            "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty",
        )
    )
    if w != "_"
}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100})
_NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


def _normal(raw: str) -> str:
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return raw
    text = format(value.normalize(), "f")
    return text


def numbers_in(text: str) -> set[str]:
    """Every number in ``text``, normalised ("1,000" -> "1000", "7.0" -> "7", "0124" -> "124", "two" -> "2")."""
    found = {_normal(m.group(0)) for m in _NUMBER_RE.finditer(text)}
    found |= {str(_NUMBER_WORDS[m.group(1).lower()]) for m in _NUMBER_WORD_RE.finditer(text)}
    return found


def unsupported_numbers(draft: str, context: str) -> list[str]:
    """Numbers in the draft that do not appear in the context (sorted); empty means the draft passes."""
    return sorted(numbers_in(draft) - numbers_in(context))


# -- dosing language in a draft --------------------------------------------------------------
_DOSING_RE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(dose|doses|dosage|dosing)\b",
        r"\b\d+(\.\d+)?\s*(mg|mcg|µg|milligrams?|micrograms?|ml|cc|units?|iu|tablets?|pills?|capsules?|"
        r"puffs?|drops?)\b(?!\s*/)",
        r"\b(once|twice|three times|four times|\d+ times) (a|per|each) day\b",
        r"\bevery \d+(\s*(to|-)\s*\d+)? (hours|hrs)\b",
        # "stop taking your warfarin", not "can raise the INR on warfarin" (the medicine is not what is raised); not "Medicare"
        rf"\b(take|double|increase|decrease|lower|raise|stop|skip)\b(?:(?!\b(?:on|in|while)\b).){{0,15}}\b{_MEDS_DRAFT}\b",
    )
]


def has_dosing_language(text: str) -> bool:
    return any(p.search(text) for p in _DOSING_RE)


# -- SMS length: the channel's one rule (bot/messaging/sms_budget.py), so what passes here is what arrives ---------------
__all__ = ["fits_sms"]


# -- drafts that say nothing ---------------------------------------------------------------------
_WORD_RE = re.compile(r"[a-z0-9]+")


def is_repetitive(text: str, n: int = 10) -> bool:
    """True when the draft loops: a sentence comes back, a run of words repeats right after itself ("the office
    hours are the office hours are"), or a run of ``n`` words comes back. Small models loop when they have
    nothing to say. Plain-language sentences name their subject again ("A low platelet count can cause
    bruising. A low platelet count can also cause nosebleeds."), so a short run coming back later is no loop."""
    if cut_at_repeat(text) is not None:
        return True
    words = _WORD_RE.findall(text.lower())
    for size in range(3, len(words) // 2 + 1):
        if any(words[i : i + size] == words[i + size : i + 2 * size] for i in range(len(words) - 2 * size + 1)):
            return True
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(grams) != len(set(grams))


def informative_terms(draft: str, question: str, context: str, titles: list[str]) -> set[str]:
    """Words of the draft that come from the context but not from the question or the titles."""
    known = set(_WORD_RE.findall(question.lower()))
    for title in titles:
        known |= set(_WORD_RE.findall(title.lower()))
    in_context = set(_WORD_RE.findall(context.lower()))
    return {w for w in _WORD_RE.findall(draft.lower()) if len(w) > 2 or w.isdigit()} & in_context - known
