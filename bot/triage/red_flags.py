"""Deterministic red-flag rules: the messages that must be told to call 911 (or 988, or Poison Control).

Pipeline for one message:

1. :func:`normalize` lower-cases, straightens apostrophes and expands SMS shorthand and common
   misspellings ("cant brth" -> "can't breathe", "cp" -> "chest pain", "3yo" -> "3 year old").
2. :func:`mask_negated` blanks the words a negation cue governs ("no chest pain", "denies fever",
   "without trouble breathing"), up to a comma, a contrast word ("but", "just"...) or seven words.
   Phrases whose meaning *is* a negation ("can't breathe", "isn't breathing", "won't wake up",
   "won't stop bleeding", "no reason to live") are matched before masking, so they stay positive.
3. Each rule is a set of regular expressions over the masked text (and the raw ones over the
   normalized text). Third person ("my dad...") needs no special case: no rule requires "I".

Safety first: a real red-flag phrasing with no clear negation or benign explanation is an emergency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class RedFlag:
    id: str
    label: str


FLAG_LABELS: dict[str, str] = {
    "chest_pain": "Chest pain with warning signs",
    "stroke": "Possible stroke signs",
    "breathing": "Severe trouble breathing",
    "anaphylaxis": "Possible severe allergic reaction",
    "bleeding": "Severe bleeding",
    "suicide": "Suicidal thoughts or self-harm",
    "overdose": "Overdose or poisoning",
    "unresponsive": "Person unresponsive or collapsed",
    "seizure": "Seizure",
    "infant_fever": "Fever in a baby under 3 months",
    "pregnancy_bleeding": "Pregnancy with heavy bleeding or severe pain",
    "worst_headache": "Sudden or worst-ever headache",
}

# --------------------------------------------------------------------------------------------
# 1. Normalisation
# --------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})

_PHRASE_FIXES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"\bw/o\b", "without "),
        (r"\bw/", "with "),
        (r"\bb/c\b", "because"),
        (r"\bh/o\b", "history of"),
        (r"\b(\d+)\s*(?:yo|y/o|y\.o\.|yr old|yrs old|yr-old|yrs)\b", r"\1 year old"),
        (r"\b(?:od'?d|o\.d\.?'?d?|oded|od-ed)(?=\W|$)", "overdosed"),
        (r"\bod\b", "overdose"),
        (r"\bepi[\s-]?pen", "epipen"),
        (r"\b(?:heart|hart)\s*(?:attack|attck|atack|attak|atk)\b", "heart attack"),
        (r"\bcan\s+not\b", "can't"),
        (r"\bshort\s+(?:of\s+)?breath(?:ed)?\b", "short of breath"),
        (r"\b(\d+)\s*(?:mins?|minutes)\b", r"\1 minutes"),
    ]
]

_WORD_FIXES: dict[str, str] = {
    # contractions typed without the apostrophe
    "cant": "can't", "cannot": "can't", "wont": "won't", "dont": "don't", "doesnt": "doesn't",
    "didnt": "didn't", "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't", "werent": "weren't",
    "havent": "haven't", "hasnt": "hasn't", "hadnt": "hadn't", "couldnt": "couldn't",
    "wouldnt": "wouldn't", "shouldnt": "shouldn't", "aint": "isn't", "im": "i'm", "ive": "i've",
    "hes": "he's", "shes": "she's", "theyre": "they're", "thats": "that's", "whats": "what's",
    # SMS shorthand
    "u": "you", "ur": "your", "r": "are", "n": "and", "bc": "because", "cuz": "because", "coz": "because",
    "2day": "today", "tmrw": "tomorrow", "tmr": "tomorrow", "rn": "right now", "pls": "please",
    "plz": "please", "bby": "baby", "lil": "little", "abt": "about", "tho": "though", "thru": "through",
    "b4": "before", "gf": "girlfriend", "bf": "boyfriend", "hubby": "husband", "wk": "week",
    "wks": "weeks", "hr": "hour", "hrs": "hours", "dr": "doctor", "cp": "chest pain",
    "sob": "short of breath", "sobbing": "sobbing", "kms": "kill myself", "unalive": "kill",
    "preg": "pregnant", "prego": "pregnant", "preggo": "pregnant", "preggers": "pregnant",
    "tummy": "stomach", "af": "very",
    # common misspellings
    "pregnent": "pregnant", "pregant": "pregnant", "pragnant": "pregnant", "pian": "pain",
    "chst": "chest", "chets": "chest", "cheast": "chest", "chset": "chest", "hurtin": "hurting",
    "breath": "breath", "breth": "breathe", "brethe": "breathe", "brth": "breathe", "breate": "breathe",
    "breathin": "breathing", "breating": "breathing", "breahting": "breathing", "brething": "breathing",
    "siezure": "seizure", "seizur": "seizure", "sezure": "seizure", "seazure": "seizure",
    "seisure": "seizure", "siezures": "seizures", "seizres": "seizures", "siezing": "seizing",
    "unconcious": "unconscious", "unconsious": "unconscious", "unconscous": "unconscious",
    "unconsciuos": "unconscious", "unresponsve": "unresponsive", "unrespnsive": "unresponsive",
    "colapsed": "collapsed", "collasped": "collapsed", "collapesd": "collapsed", "pased": "passed",
    "bleading": "bleeding", "bledding": "bleeding", "bleedin": "bleeding", "bleeing": "bleeding",
    "stomache": "stomach", "stomack": "stomach", "fevr": "fever", "feaver": "fever", "fver": "fever",
    "vomitting": "vomiting", "vomting": "vomiting", "vommiting": "vomiting", "vomitin": "vomiting",
    "diarea": "diarrhea", "diarrhoea": "diarrhea", "diarhea": "diarrhea", "diahrea": "diarrhea",
    "diarrea": "diarrhea", "alergic": "allergic", "alergy": "allergy", "allergie": "allergy",
    "anaphalactic": "anaphylactic", "anaphylatic": "anaphylactic", "anafalactic": "anaphylactic",
    "anaphalaxis": "anaphylaxis", "anaphylaxsis": "anaphylaxis", "hedache": "headache",
    "headach": "headache", "haedache": "headache", "hedake": "headache", "headake": "headache",
    "sucidal": "suicidal", "suicdal": "suicidal", "suicidle": "suicidal", "suicde": "suicide",
    "sucide": "suicide", "sever": "severe", "servere": "severe", "sevre": "severe",
    "severly": "severely", "swolen": "swollen", "sweling": "swelling", "swollow": "swallow",
    "throut": "throat", "thraot": "throat", "tounge": "tongue", "poisen": "poison", "posion": "poison",
    "poision": "poison", "pils": "pills", "dizy": "dizzy", "dizzey": "dizzy", "slured": "slurred",
    "slurrd": "slurred", "stroek": "stroke", "preasure": "pressure", "presure": "pressure",
    "pressur": "pressure", "feinted": "fainted", "bloood": "blood", "temprature": "temperature",
}

_WORD_RE = re.compile(r"[a-z0-9']+")


def normalize(text: str) -> str:
    """Lower-case, straight apostrophes, SMS shorthand and misspellings expanded, spaces collapsed."""
    out = text.translate(_APOSTROPHES).lower()
    for pattern, repl in _PHRASE_FIXES:
        out = pattern.sub(repl, out)
    out = _WORD_RE.sub(lambda m: _WORD_FIXES.get(m.group(), m.group()), out)
    return re.sub(r"\s+", " ", out).strip()


# --------------------------------------------------------------------------------------------
# 2. Negation scope and history
# --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[a-z0-9'./_]+|[,;:!?\n()\-]")
_NEG_CUES = frozenset({"no", "not", "never", "denies", "denied", "deny", "without", "none", "nor", "negative"})
# "not sure if it's a stroke" doubts, it does not deny.
_PSEUDO_NEG = re.compile(
    r"\b(?:not sure|not certain|no idea|don't know|do not know|can't tell|not only|no matter|"
    r"not (?:helping|working|going away|getting better|better|improving)|"
    r"(?:isn't|doesn't|won't|aren't|didn't) (?:help|helping|work|working|go away|going away|get better|getting better|improving))\b"
)
_TERMINATORS = frozenset(
    {"but", "however", "though", "although", "except", "just", "only", "yet", "still", "now", "then",
     "because", "which", "who", "so", "until", "since", "after", "while", "when"}
)
_SUBJECTS = frozenset(
    {"i", "i'm", "he", "he's", "she", "she's", "they", "we", "my", "his", "her", "it", "it's", "you", "the", "now", "then"}
)
_SCOPE_MAX = 7
# A past event, a condition on a medicine list, is not happening now.
_HISTORY_RE = re.compile(
    r"\b(?:history of|hx of|previous|prior|past)\s+(?:\w+\s+){0,2}?(?:strokes?|heart attacks?|seizures?|overdoses?)\b"
    r"|\b(?:strokes?|heart attacks?|seizures?)\s+(?:\w+\s+){0,3}?(?:(?:\d+|a|a few|few|several|many|two|three)\s+(?:years?|months?)\s+ago|last (?:year|month|spring|summer|fall|winter)|in (?:19|20)\d\d)\b"
    r"|\b(?:strokes?|seizures?|heart attacks?)\s+(?:meds?|medications?|medicines?|pills|doctor|neurologist|clinic|"
    r"prevention|risk|free|disorder|specialist)\b"
    r"|\bheat\s?stroke\b|\bsun\s?stroke\b|\bstroke of\b|\bstrok(?:e|ing) (?:the|my|his|her) (?:cat|dog|hair)\b"
)


# "can't breathe", "won't wake up", "couldn't move": inability is a symptom, not a denial.
_INABILITY = frozenset({"can't", "couldn't", "won't", "wouldn't", "unable"})


def _negation_cue(token: str) -> bool:
    return token in _NEG_CUES or (token.endswith("n't") and token not in _INABILITY)


def mask_negated(normalized: str) -> str:
    """Replace negated words (and past history) with '~' so positive rules cannot match them."""
    keep = _PSEUDO_NEG.sub(lambda m: m.group().replace(" ", "_"), normalized)
    keep = _HISTORY_RE.sub(lambda m: re.sub(r"\S", "~", m.group()), keep)
    tokens = list(_TOKEN_RE.finditer(keep))
    out = list(keep)
    i = 0
    while i < len(tokens):
        word = tokens[i].group()
        if not _negation_cue(word):
            i += 1
            continue
        j, scoped = i + 1, 0
        while j < len(tokens) and scoped < _SCOPE_MAX:
            tok = tokens[j].group()
            if tok in {",", ";", ":", "!", "?", "\n", "(", ")", "-"} or tok.endswith(".") or tok in _TERMINATORS:
                break
            if tok == "and" and j + 1 < len(tokens) and tokens[j + 1].group() in _SUBJECTS:
                break
            if not _negation_cue(tok):
                for k in range(tokens[j].start(), tokens[j].end()):
                    out[k] = "~"
            scoped += 1
            j += 1
        i = j
    return "".join(out).replace("_", " ")


# --------------------------------------------------------------------------------------------
# 3. Numbers the rules need: age and temperature
# --------------------------------------------------------------------------------------------

_AGE_RE = re.compile(
    r"\b(\d+(?:\.\d+)?)[\s-]*(day|days|week|weeks|month|months|mo|mos|m/o|year|years)[\s-]*old\b"
    r"|\b(\d+(?:\.\d+)?)[\s-]*(day|days|week|weeks|month|months|mo|mos)\s+(?:old\s+)?(?:baby|infant|boy|girl|son|daughter)\b"
)
_UNIT_YEARS = {"day": 1 / 365, "week": 7 / 365, "month": 1 / 12, "mo": 1 / 12, "m/o": 1 / 12, "year": 1.0}
_TEMP_RE = re.compile(
    r"\b(?:temp|temperature|fever|fevers|t)\s*(?:of|is|was|at|reading|read|=|:)?\s*(?:of\s+|is\s+|about\s+|around\s+)?"
    r"(\d{2,3}(?:\.\d+)?)\s*(?:°|deg|degrees)?\s*([fc])?\b"
    r"|\b(\d{2,3}(?:\.\d+)?)\s*(?:°|deg\b|degrees\b)\s*([fc])?\b"
    r"|\b(\d{2,3}(?:\.\d+)?)\s*([fc])\b"
    r"|\b(\d{2,3}(?:\.\d+)?)\s*(?:degree\s+)?(?:temp|temperature|fever)\b()"
)


def extract_age_years(normalized: str) -> float | None:
    """Age from phrases like '6 week old', '3 year old', '2 mo baby'; 'newborn' is 2 weeks."""
    match = _AGE_RE.search(normalized)
    if match:
        value = float(match.group(1) or match.group(3))
        unit = (match.group(2) or match.group(4)).rstrip("s")
        return value * _UNIT_YEARS.get(unit, 1.0)
    if re.search(r"\b(?:newborn|new born|neonate)\b", normalized):
        return 14 / 365
    return None


def extract_temperature_f(normalized: str) -> float | None:
    """Highest plausible body temperature in the text, in °F (Celsius values are converted)."""
    found: list[float] = []
    for match in _TEMP_RE.finditer(normalized):
        raw = match.group(1) or match.group(3) or match.group(5) or match.group(7)
        unit = match.group(2) or match.group(4) or match.group(6) or None
        value = float(raw)
        if unit == "c" or (unit is None and 34 <= value <= 43):
            value = value * 9 / 5 + 32
        if 93 <= value <= 110:
            found.append(round(value, 1))
    return max(found) if found else None


# --------------------------------------------------------------------------------------------
# 4. The rules
# --------------------------------------------------------------------------------------------


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


_PERSON = r"(?:he|she|they|he's|she's|they're|him|her|them|my \w+|his \w+|her \w+|grandma|grandpa|mom|dad|baby)"

# Matched on the normalized text: the negation is part of the emergency.
_RAW: dict[str, re.Pattern[str]] = {
    "breathing": _rx(
        r"\b(?:can't|couldn't|unable to|can barely|can hardly) breathe?\b(?! (?:through|out of|thru) )",
        r"\b(?:not|isn't|wasn't|stopped|no longer|quit) breathing\b",
        r"\bcan't (?:catch|get) (?:my|his|her|their|a) breath\b",
        r"\bcan't get (?:enough )?air\b",
        r"\bcan't (?:talk|speak) in (?:full )?sentences\b",
        r"\binhaler (?:isn't|is not|not|doesn't|does not|didn't) (?:help|helping|work|working)\b",
    ),
    "bleeding": _rx(
        r"\b(?:won't|can't|doesn't|isn't|not|will not|cannot) stop(?:ping)? (?:the )?bleeding\b",
        r"\b(?:bleed\w*|nose ?bleed|blood)\b(?:\s+\S+){0,6}\s+(?:won't|doesn't|isn't|will not|does not|is not|not|can't) "
        r"(?:stop|stopping|slow)",
    ),
    "suicide": _rx(
        r"\bdon't want to (?:live|be alive|be here|wake up|exist)\b",
        r"\bno (?:reason|point) (?:to|in) (?:live|living|go on|going on)\b",
        r"\bcan't (?:go on|do this anymore|take it anymore)\b",
        r"\bnot worth living\b",
    ),
    "unresponsive": _rx(
        r"\b(?:won't|can't|cannot|couldn't|not|isn't) wak(?:e|ing)(?: (?:him|her|them|up|my \w+|\w+))?\b",
        r"\b(?:not|isn't|is not|wasn't) (?:responding|responsive|reacting|conscious)\b",
        rf"\b{_PERSON} (?:is |was )?(?:not|isn't) (?:answering|moving)\b",
        r"\bno (?:pulse|heartbeat|heart beat)\b",
    ),
    "worst_headache": _rx(
        r"\bnever (?:had|felt|ever had) (?:a |such a )?(?:\w+ )?(?:headache|head pain|migraine)(?: (?:this|so|that) (?:bad|painful|severe))?\b"
        r"(?<!had a headache)(?<!had headache)(?<!a migraine)",
    ),
}

_CHEST = (
    r"\b(?:chest|heart) (?:\w+ ){0,3}?(?:pain|pains|pressure|tightness|tight|heaviness|heavy|hurts|hurting|ache|aching|"
    r"discomfort|squeez\w*|crush\w*|burning)\b"
    r"|\b(?:pain|pressure|tightness|heaviness|squeezing) (?:in|on) (?:my|his|her|the) chest\b"
    r"|\b(?:sitting|standing|weight|pressing|pushing|stepping) on (?:my|his|her|the) chest\b"
    r"|\btight chest\b|\belephant\b(?:\s+\S+){0,6}\s+chest\b|\bchest\b(?:\s+\S+){0,4}\s+elephant"
)
_CHEST_WARNING = (
    r"\bcrush\w*|\bpressure\b|\btight\w*|\bsqueez\w*|\bheav(?:y|iness)\b|\belephant\b|\bradiat\w*|\bspread\w*|"
    r"\b(?:going|goes|shoot\w*|down|into|to) (?:my|his|her|the) (?:left )?(?:arm|jaw|neck|back|shoulder)|"
    r"\bsweat\w*|\bclammy\b|\bgr[ae]y\b|\bpale\b|\b(?:sitting|standing|weight) on\b|\bshort of breath\b|\bcan't breathe|\btrouble breathing|\bnause\w*|\bfeel\w* sick\b|"
    r"\bvomit\w*|\bthrow\w* up\b|\bdizz\w*|\blight ?headed|\bfaint\w*|\bpass\w* out\b|\breally bad\b|\bso bad\b|"
    r"\bsevere\w*|\bworst\b|\b(?:[7-9]|10) ?(?:/|out of) ?10\b|\bheart attack\b|\bambulance\b"
)
# Chest pain explained by a benign cause: pressing on it, a workout, a cough, a strain, food.
_CHEST_BENIGN = (
    r"\bpress\w*(?! on (?:my|his|her) chest\b)|\btouch\w*|\btender\b|\bribs?\b|\bgym\b|\bwork ?out\b|\blift\w*|"
    r"\bcough\w*|\bpulled\b|\bstrain\w*|\bmuscle\b|\bsore from\b|\bbruise\w*|\bfell\b|\bheartburn\b|\bspicy\b"
)

# Household chemicals: swallowing any is a Poison Control call.
_CHEMICAL = (
    r"bleach|button batter(?:y|ies)|batter(?:y|ies)|detergent|soap|pods?|cleaner|cleaning (?:stuff|products?|spray)|"
    r"chemicals?|poison|antifreeze|pesticide|weed killer|lighter fluid|gasoline|drano|lye|nail polish remover|mouthwash|"
    r"windex|lysol|clorox|tide pods?|febreze|pine-?sol|comet|ajax|fabuloso|purell|listerine|"
    r"vape (?:juice|liquid)|e-?liquid|nicotine|magnets?|rat poison|windshield fluid|lamp oil|essential oils?|hand sanitizer"
)
# Medicines: only for a child, someone else's medicine, or an amount beyond a dose.
_MEDICINE = r"pills?|tablets?|capsules|meds|medicine|medications?|vitamins|gummies|edibles?|tylenol|advil|ibuprofen|xanax"
_SWALLOW = r"swallowed|drank|drunk|ate|eaten|chewed|got into|licked|ingested"
_CHILD_SUBJECT = r"\b(?:toddler|baby|kid|child|son|daughter|\d+ year old|little one|grandson|granddaughter)\b"
_MUCH = (
    r"some of|all (?:of )?|a bunch|a handful|handfuls|whole|entire|bottle|too many|a lot|\d{2,}|\w+'s|grandmas?|grandpas?"
    r"|(?:mom|dad|grandma|grandpa|her|his|their|someone) else's"
)

_PLAIN: dict[str, re.Pattern[str]] = {
    "chest_pain": _rx(r"\bheart attack\b", r"\bchest (?:is )?(?:being )?crush\w*", r"\bcrushing\b(?:\s+\S+){0,3}\s+chest\b"),
    "stroke": _rx(
        r"\bstrok(?:e|ing out)\b(?! of\b)",
        r"\bmini[- ]stroke\b|\btia\b",
        r"\b(?:face|smile|mouth) (?:\w+ ){0,2}(?:droop\w*|crooked|lopsided|uneven|sagging)|\b(?:droop\w*|crooked|lopsided) (?:face|smile|mouth)\b",
        r"\bone side of (?:my|his|her|their|the) (?:face|body|mouth)\b(?:\s+\S+){0,4}\s+(?:droop\w*|numb|weak|crooked|"
        r"sagging|looks|not moving)",
        r"\bslurr\w*|\bwords? (?:come|coming|came|are coming) out (?:wrong|weird|jumbled)|\bgarbled\b",
        r"\b(?:can't|unable to|trouble|hard to) (?:talk|speak|get (?:my|his|her|the) words out)\b(?! in (?:full )?sentences)",
        r"\b(?:can't|unable to|couldn't) (?:move|lift|raise|feel|use) (?:my|his|her|their) (?:left |right )?(?:arm|leg|hand|side|foot)\b"
        r"(?!(?:\s+\S+){0,8}\s+(?:since|after) (?:i|he|she|they) (?:fell|hurt|twisted|injured))",
        r"\b(?:suddenly|sudden) (?:can't|unable to) (?:move|lift|feel|use)\b",
        r"\b(?:numb\w*|weak\w*|paraly\w*|tingl\w*) (?:\w+ ){0,3}(?:one side|(?:left|right) (?:side|arm|leg|hand))\b"
        r"(?!(?:\s+\S+){0,4}\s+(?:slept|sleeping|dentist|novocaine))",
        r"\b(?:one|left|right) side (?:\w+ ){0,3}(?:numb\w*|weak\w*|paraly\w*)\b",
        r"\b(?:can't|unable to|couldn't) (?:feel|move|use) (?:the )?(?:left|right|one) side\b",
        r"\bnot making (?:any )?sense\b|\btalking (?:gibberish|nonsense)\b",
        r"\b(?:sudden(?:ly)?|all of a sudden) (?:\w+ ){0,2}confus\w*|\bconfus\w* (?:\w+ ){0,2}(?:sudden(?:ly)?|all of a sudden)",
        r"\bcan't see out of (?:one|my|his|her) eye|\b(?:sudden(?:ly)?) (?:\w+ ){0,2}(?:blind|vision loss|lost (?:my |his |her )?vision)",
    ),
    "breathing": _rx(
        r"\bstruggl\w* (?:to|for) (?:breathe?|air)\b",
        r"(?<!little )(?<!bit of )(?<!mild )(?<!slight )\b(?:trouble|difficulty|difficult|hard time|problems?) breathing\b",
        r"(?<!little )(?<!bit )(?<!mild )(?<!slightly )\bhard to breathe\b|\blabou?red breathing\b",
        r"\bgasp\w*|\bchoking\b(?! on (?:my|his|her) (?:words|tears))",
        r"\b(?:lips?|face|skin|fingers|he|she|baby|they) (?:\w+ ){0,2}(?:turning |turned |look\w* |are |is )?(?:blue|purple|gr[ae]y)\b",
        r"\bblue lips\b",
        r"\bsucking in (?:under|between) (?:his|her|the|their) ribs|\bretractions\b|\bnostrils flaring\b",
        r"\b(?:severe(?:ly)?|very|extremely|really) short of breath\b|\bshort of breath (?:at rest|sitting|lying|even)",
        r"\bcan (?:barely|hardly) (?:talk|speak)\b",
        r"\bbarely breathing\b|\bbreathing (?:really |very |super |so )?(?:fast|hard|shallow|weird|funny|noisy)\b",
        r"\bribs (?:\w+ )?(?:suck\w*|pull\w*) in\b",
        r"\b(?:bad|severe|really bad|major|big) asthma attack\b|\binhaler (?:does|did|is doing) nothing\b",
    ),
    "anaphylaxis": _rx(
        r"\banaphyla\w*",
        r"\bthroat (?:is |feels )?(?:\w+ )?(?:closing|swell\w*|swollen|tight\w*)",
        r"\b(?:tongue|lips?|mouth)(?: and (?:tongue|lips?|throat|face))? (?:is |are |look |looks )?(?:\w+ )?(?:swell\w*|swollen)\b",
        r"\bswell\w* (?:of|in) (?:my|his|her|the)? ?(?:tongue|lips?|throat)\b",
        r"\b(?:used|gave|give|giving|needed|using) (?:\w+ )?epipen|\bepinephrine\b",
        r"\ballergic reaction\b(?:\W+\w+){0,8}?\W+(?:breath\w*|swallow\w*|throat|tongue|wheez\w*|lips?|voice|face)\b",
        r"\b(?:face|eyes|lips?|tongue|throat) (?:\w+ ){0,2}swell\w*(?:\s+\S+){0,8}\s+(?:hard to|can't|trouble) (?:swallow|breathe?)",
        r"\b(?:allergic|allergy|ate|sting|stung|new (?:med\w*|antibiotic|pill))(?:\s+\S+){0,10}\s+(?:throat|tongue) (?:\w+ ){0,2}"
        r"(?:tight|closing|swell\w*|swollen)",
    ),
    "bleeding": _rx(
        r"\bbleed\w* (?:\w+ )?(?:heavily|a lot|badly|profusely|everywhere|like crazy|nonstop|non stop|so much|really bad|very bad)\b",
        r"(?<!period )\b(?:heavy|lots of|a lot of|massive|severe) (?:bleeding|blood)\b(?!\s+(?:during|with|from) (?:my|her) period)",
        r"\bblood in (?:my |his |her |the )?vomit\b|\bvomit\w* (?:\w+ ){0,2}blood\b",
        r"\bblood (?:is |keeps |keep |won't stop )?(?:everywhere|spurting|gushing|pouring|squirting)\b|\b(?:spurting|gushing|pouring) (?:out )?blood\b",
        r"\b(?:spurting|gushing|squirting)\b",
        r"\bsoak\w* (?:through )?(?:\w+ ){0,3}(?:towels?|bandages?|shirt|cloth|gauze)\b",
        r"\b(?:vomit\w*|throw\w* up|threw up|puk\w*|cough\w* up|spit\w* up) (?:\w+ ){0,2}blood\b",
        r"\bpool of blood\b",
    ),
    "suicide": _rx(
        r"\bkill\w* (?:myself|himself|herself|themselves|themself|my self)\b",
        r"\bsuicid\w*",
        r"\bend(?:ing|ed)? (?:my|his|her|their) (?:own )?life\b|\bend(?:ing)? it all\b|\btak(?:e|ing) (?:my|his|her) (?:own )?life\b",
        r"\b(?:saved|saving|stockpil\w*|hoard\w*) (?:up )?(?:\w+ )?(?:pills|meds)\b|\b(?:pills|meds) saved\b",
        r"\b(?:have|got|made|making) a plan\b(?:\s+\S+){0,6}\s+(?:die|end|kill|pills|gun|jump|hang)"
        r"|\b(?:pills|gun|rope)\b(?:\s+\S+){0,6}\s+a plan\b",
        r"\b(?:hang|shoot|drown|stab|poison) (?:myself|himself|herself|themselves)\b",
        r"\b(?:want|wants|wanna|wanted|going|gonna|ready|plan\w*) to die\b",
        r"\b(?:want|wants|wanna|wish) (?:it all|everything|my life|it) to (?:end|be over|stop)\b",
        r"\bbetter off (?:dead|without me|if i (?:was|were|wasn't|weren't)\b)",
        r"\b(?:cutting|cut|hurting|hurt|harming|harm|burning) (?:myself|himself|herself|themselves)\b",
        r"\bself[- ]?harm\w*",
    ),
    "overdose": _rx(
        r"\boverdos\w*",
        r"\btook (?:a |the )?(?:whole|entire|full) (?:bottle|pack|box|packet)\b",
        r"\btook (?:like |about |around |maybe |over |at least )?(?:all|too many|a handful|handfuls|a bunch|\d{2,}) (?:of )?"
        r"(?:my |his |her |their |the )?(?!minutes|hours|days|weeks|mg|seconds|years|steps|dollars|bucks|tries)\w+",
        rf"\b(?:{_SWALLOW})\b(?:\s+\S+){{0,5}}\s+(?:{_CHEMICAL})\b|\b(?:{_CHEMICAL})\b(?:\s+\S+){{0,6}}\s+(?:{_SWALLOW})\b",
        rf"{_CHILD_SUBJECT}(?:\s+\S+){{0,6}}\s+(?:{_SWALLOW}|took)\b(?:\s+\S+){{0,5}}\s+(?:{_MEDICINE})\b",
        rf"\b(?:{_SWALLOW}|took)\s+(?:{_MUCH})\s+(?:\S+\s+){{0,3}}?(?:{_MEDICINE})\b",
        r"(?<!food )\bpoison(?:ed|ing)?\b(?! (?:ivy|oak|sumac|control number))",
        r"\bcarbon monoxide\b",
    ),
    "unresponsive": _rx(
        r"\bun ?conscious\b|\bunresponsive\b|\bknocked out\b|\bcollaps\w*",
        rf"\b{_PERSON} (?:is |was |has |just |has just )*(?:passed out|fainted|blacked out)\b",
        rf"\bfound (?:{_PERSON}) (?:\w+ ){{0,3}}(?:on the floor|not moving|unresponsive|unconscious|blue)",
    ),
    "seizure": _rx(
        r"\bseizures?\b|\bseizing\b|\bconvuls\w*|\bgrand mal\b",
        r"\b(?:having|had|has|is|was|started|keeps) (?:a )?fit(?:ting)?\b",
        r"\beyes (?:\w+ )?rolled back\b|\b(?:shaking|jerking|twitching) all over\b|\bfoam\w* at the mouth\b",
        r"\b(?:is|was|started|keeps) (?:\w+ )?jerking\b|\bstiff and (?:shaking|jerking)\b",
    ),
    "pregnancy_bleeding": _rx(),  # needs context, see detect_red_flags
    "worst_headache": _rx(
        r"\bworst (?:\w+ ){0,2}(?:headache|migraine|head pain)\b",
        r"\b(?:headache|migraine)\b(?:\s+\S+){0,3}\s+worst\b",
        r"\bthunderclap\b",
        r"\bhead\b(?:\s+\S+){0,4}\s+(?:explod\w*|worst (?:pain )?(?:i've|i have|she's|he's) ever)",
        r"\bsudden(?:ly)? (?:\w+ ){0,2}(?:severe|excruciating|explosive|terrible|horrible|blinding) (?:headache|head pain)\b",
        r"\b(?:severe|excruciating|explosive|terrible|horrible|blinding) (?:headache|head pain)\b(?:\s+\S+){0,6}\s+"
        r"(?:sudden(?:ly)?|all of a sudden|out of nowhere|like a bang|exploded)",
    ),
}

_PREGNANT = re.compile(r"\bpregnan\w*|\bweeks along\b|\bexpecting a baby\b|\bmy (?:unborn|fetus)\b")
_PREGNANCY_DANGER = _rx(
    r"\bbleed\w* (?:\w+ )?(?:heavily|a lot|badly|really bad|so much)\b|\b(?:heavy|lots of|a lot of) (?:bleeding|blood)\b",
    r"\b(?:soak\w*|bleed\w*) (?:through )?(?:a |\d+ |one |my |her )?pads?\b|\bclots?\b|\bgush\w* (?:of )?blood\b",
    r"\b(?:severe|really bad|terrible|excruciating|unbearable|very bad) (?:\w+ ){0,2}(?:pain|cramps?|cramping)\b",
    r"\b(?:[7-9]|10) ?(?:/|out of) ?10\b",
    r"(?<!light )(?<!little )(?<!bit of )(?<!some )(?<!spotting and )\bbleed\w*\b(?! a (?:little|bit))",
)
_FEVER = re.compile(r"\bfever\w*|\bfebrile\b|\bburning up\b|\b(?:feels?|is|felt|very|really|so) hot\b|\bhigh temp")


def detect_red_flags(
    text: str, *, age_years: float | None = None, pregnant: bool | None = None, temperature_f: float | None = None
) -> list[RedFlag]:
    """The red flags in one message, in a fixed order; ``[]`` when none."""
    norm = normalize(text)
    masked = mask_negated(norm)
    found: set[str] = {fid for fid, rx in _RAW.items() if rx.search(norm)}
    found |= {fid for fid, rx in _PLAIN.items() if rx.pattern and rx.search(masked)}
    if re.search(_CHEST, masked) and (re.search(_CHEST_WARNING, masked) or not re.search(_CHEST_BENIGN, masked)):
        found.add("chest_pain")
    if (pregnant or _PREGNANT.search(masked)) and _PREGNANCY_DANGER.search(masked):
        found.add("pregnancy_bleeding")
        found.discard("bleeding")
    age = age_years if age_years is not None else extract_age_years(norm)
    temp = temperature_f if temperature_f is not None else extract_temperature_f(masked)
    has_fever = (temp is not None and temp >= 100.4) or (temp is None and _FEVER.search(masked) is not None)
    if age is not None and age < 0.26 and has_fever:  # "3 month old" counts: when in doubt, emergency
        found.add("infant_fever")
    return [RedFlag(fid, label) for fid, label in FLAG_LABELS.items() if fid in found]


# --------------------------------------------------------------------------------------------
# 5. The answer that goes first
# --------------------------------------------------------------------------------------------

_CRISIS_ONLY = frozenset({"suicide", "overdose"})


def emergency_message(flags: list[RedFlag], clinic_name: str) -> str:
    """Short (at most two SMS segments, GSM characters only) emergency instructions for these flags."""
    ids = {f.id for f in flags}
    parts: list[str] = []
    needs_911 = bool(ids - _CRISIS_ONLY) or not ids
    if needs_911:
        parts.append("This may be an emergency. Call 911 now or go to the nearest ER. Do not wait for a reply.")
    if "suicide" in ids:
        parts.append(
            "Please call or text 988 now (Suicide & Crisis Lifeline)."
            if needs_911
            else "You are not alone. Please call or text 988 now (Suicide & Crisis Lifeline). If you are in danger, call 911."
        )
    if "overdose" in ids:
        parts.append(
            "Poison Control: 1-800-222-1222."
            if needs_911 or "suicide" in ids
            else "Call Poison Control now: 1-800-222-1222. Call 911 if the person is hard to wake, "
            "has trouble breathing or a seizure."
        )
    name = clinic_name.strip()
    return (f"{name}: " if name else "") + " ".join(parts)
