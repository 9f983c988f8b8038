"""Non-emergency urgency: ``urgent`` (seen today), ``routine`` (book a visit) or ``self_care``.

Deterministic and explainable: each rule that fires adds a reason a staff member can read.
Order of decision, on the negation-masked text of :mod:`bot.triage.red_flags`:

1. any *urgent* rule (high fever for the age, pain 7/10 or worse, dehydration, a possible
   fracture, a wound that needs closing, a bite, a blistering burn, a painful eye, a swollen calf,
   pregnancy symptoms, mild breathing trouble, fainting, a head injury, blood in the urine, very
   high blood sugar or blood pressure...) -> ``urgent``;
2. a *routine* rule (weeks or months of a symptom, a refill, a check-up, a skin, sleep, mood,
   weight or medicine question, chest pain explained by a strain) -> ``routine``;
3. a minor, common complaint (cold, mild sore throat, bug bite, bruise, mild headache...) ->
   ``self_care``;
4. any other symptom -> ``routine`` (someone should look); no symptom at all -> ``self_care``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.triage.normalize import extract_age_years, extract_temperature_f


@dataclass(frozen=True)
class Context:
    """What the rules know besides the words: from the intake form or parsed from the text."""

    age_years: float | None = None
    severity: int | None = None
    temperature_f: float | None = None
    pregnant: bool | None = None


@dataclass
class _Rule:
    reason: str
    pattern: re.Pattern[str]
    raw: bool = False  # match the normalized text (the negation is part of the sign)


def _r(reason: str, *parts: str, raw: bool = False) -> _Rule:
    return _Rule(reason, re.compile("|".join(f"(?:{p})" for p in parts)), raw)


_URGENT: list[_Rule] = [
    _r("cannot keep fluids down or signs of dehydration",
       r"\b(?:can't|cannot|unable to|not|won't)(?: even)? (?:keep|keeping|hold|holding) (?:\w+ ){0,4}down\b",
       r"\b(?:hasn't|has not|haven't|not|hadn't) (?:peed|pee|urinated|peeing|had a wet diaper)\b|\bno wet diapers?\b",
       r"\b(?:won't|isn't|not|refuses to) (?:drink|drinking)\b",
       raw=True),
    _r("cannot keep fluids down or signs of dehydration",
       r"\b(?:vomit\w*|throw\w* up|puk\w*|diarrhea) (?:\w+ ){0,3}(?:all day|all night|nonstop|non stop|every hour)\b",
       r"\bdehydrat\w*|\bdizzy when (?:i|he|she|they) stand|\b(?:mouth|lips) (?:is |are )?(?:really |very |so )?dry\b"),
    _r("cannot use or bear weight on an injured limb; possible fracture",
       r"\b(?:can't|cannot|unable to|won't) (?:move|bend|straighten|use|put (?:any )?weight on|walk on|stand on)\b",
       raw=True),
    _r("cannot use or bear weight on an injured limb; possible fracture",
       r"\b(?:think|might be|maybe|could be|looks) (?:it's |its |is )?broken\b|\bfractur\w*|\bdeformed\b|\bbent wrong\b"),
    _r("wound may need closing", r"\bdeep (?:cut|puncture|wound|gash)|\bpretty deep\b|\bgaping\b|\bneeds? stitch\w*|\bwon't close\b"),
    _r("puncture wound", r"\bpunctur\w*|\brusty\b|\bstepped on (?:a |an )?(?:nail|needle)|\bwent (?:in )?deep\b"),
    _r("painful urination", r"\b(?:burn\w*|pain\w*|hurts?|stings?) (?:when|while|to) (?:i |he |she |they )?(?:pee|urinat)\w*"
       r"|\b(?:pee|peeing|urinat\w*)\b(?:\s+\S+){0,5}\s+(?:burns|burning|hurts|stings)\b|\buti\b|\bbladder infection\b"),
    _r("swelling of the face or jaw", r"\b(?:jaw|face|cheek|gums?) (?:is |are )?(?:really |very |all )?(?:swollen|swelling)\b"
       r"|\bswollen (?:jaw|face|cheek)\b"),
    _r("possible double dose of a medicine",
       r"^(?!.*\b(?:vitamins?|multivitamins?|fish oil|probiotics?)\b).*?(?:\b(?:twice|two doses|double dose|doubled|extra (?:dose|pill))\b(?:\s+\S+){0,4}\s+(?:by mistake|by accident|accidentally)"
       r"|\b(?:by mistake|by accident|accidentally) (?:took|taken|gave)\b|\bdouble dos\w*)"),
    _r("animal or human bite", r"\bbit(?:ten)? by (?:a |an |the |my |our )?(?:\w+ )?(?:dog|cat|animal|bat|raccoon|snake|spider|person|kid)\b|\b(?:dog|cat|animal|human|bat|raccoon|snake|spider) bit\w*|\bbit (?:me|my|him|her)\b"),
    _r("possible infection spreading", r"\bred streak\w*|\bstreaking\b|\bspreading redness\b|\bpus\b|\binfected\b"),
    _r("burn with blisters", r"\bburn\w*\b(?:\s+\S+){0,6}\s+blister\w*|\bblister\w*(?:\s+\S+){0,6}\s+burn\w*"),
    _r("painful or injured eye",
       r"\beye (?:\w+ ){0,4}(?:pain\w*|hurts|hurting)\b|\blight hurts\b|\bsomething in (?:my|his|her) eye\b|"
       r"\bchemical in (?:my|his|her) eye\b|\bvision (?:is )?(?:blurry|changes|changed)\b"),
    _r("swollen or painful calf (possible clot)",
       r"\bcalf (?:\w+ ){0,3}(?:swollen|swelling|pain\w*|red|warm|hot)\b|\bswollen (?:\w+ )?calf\b"),
    _r("breathing trouble, not severe",
       r"\bshort of breath\b|\bwheez\w*|\bwinded\b|\basthma (?:\w+ ){0,3}(?:acting up|flare\w*|attack|bad|worse)\b|"
       r"\b(?:trouble|difficulty|hard time|problems?|hard to) breath\w*"),
    _r("fainted", r"\bfaint\w*|\bpassed out\b|\bblacked out\b|\bsyncope\b"),
    _r("head injury with symptoms",
       r"\b(?:hit|bumped|banged|fell on) (?:my|his|her|their) head\b(?:\s+\S+){0,10}\s+(?:threw up|vomit\w*|confus\w*|dizz\w*|sleepy)"
       r"|\bconcussion\b"),
    _r("blood in the urine", r"\bblood in (?:my |his |her |the )?(?:urine|pee)\b|\bpeeing blood\b|\bbloody (?:urine|pee)\b"),
    _r("severe pain",
       r"\b(?:severe|excruciating|unbearable|agoni\w*|intense) (?:\w+ ){0,2}(?:pain|cramp\w*|ache)\b|\bcan't sit still\b|"
       r"\bscreaming\b|\b(?:pain|ache|hurts?) (?:\w+ ){0,2}(?:so|really|very) bad\b|\bkidney stone\b"),
    _r("lower right abdominal pain", r"\b(?:lower )?right (?:lower )?(?:side of (?:my |the )?)?(?:belly|abdomen|stomach)\b"),
    _r("cannot swallow", r"\b(?:can't|can barely|can hardly|unable to) swallow\b|\bdrool\w*", raw=True),
    _r("testicle pain", r"\btestic\w*|\bscrot\w*|\bballs? (?:hurt|pain)"),
    _r("allergic reaction", r"\ballergic reaction\b"),
    _r("reduced fetal movement or pregnancy symptoms", r"\bbaby (?:is )?(?:moving|kicking) less\b|\bnot moving as much\b"),
]

_PREGNANCY_SYMPTOM = re.compile(
    r"\bspott\w*|\bbleed\w*|\bcramp\w*|\bpain\w*|\bmoving less\b|\bkicking less\b|\bleak\w*|\bwater broke\b|"
    r"\bcontractions?\b|\bheadache\b|\bswell\w*|\bvision\b|\bvomit\w*|\bfever\w*"
)
_FEVER_WORD = re.compile(r"\bfever\w*|\bfebrile\b|\bburning up\b|\b(?:feels?|felt) (?:really |very )?hot\b")
_FEVER_GONE = re.compile(r"\b(?:went|gone|came) down\b|\bbroke\b|\bgone\b|\bresolved\b|\bis better\b")
_FEVER_COMPANION = re.compile(
    r"\brash\b|\bstiff neck\b|\bear\w*\b|\bback pain\b|\bpain in (?:my |his |her )?(?:lower )?back\b|\bburn\w* (?:when|while) "
    r"(?:i |he |she )?(?:pee|urinat)\w*|\bswallow\w*|\bchest\b|\bconfus\w*|\bsleepy\b|\blethargic\b|\b(?:3|4|5|6|7|three|four|"
    r"five) days\b"
)
_CHILD = re.compile(r"\b(?:baby|infant|toddler|son|daughter|kid|child|boy|girl|newborn)\b")
_BABY = re.compile(r"\b(?:baby|infant|newborn)\b")
_ELDERLY = re.compile(r"\belderly\b|\bgrand(?:ma|pa|mother|father)\b")
_ELDERLY_SIGN = re.compile(r"\bfever\w*|\bconfus\w*|\bsleepy\b|\bfell\b|\bfall\b|\bnot eating\b|\bweak\w*")
_BP = re.compile(r"\b(?:bp|blood pressure|pressure)\D{0,12}(\d{2,3}) ?/ ?(\d{2,3})\b")
_SUGAR = re.compile(r"\b(?:blood sugar|sugar|glucose|bg|bs)\b\D{0,20}(\d{2,3})\b")
_SEVERITY = re.compile(r"\b(10|\d)(?:\.\d)? ?(?:/|out of) ?10\b")
_URINARY = re.compile(r"\b(?:burn\w*|pain\w*|hurts?) (?:when|while) (?:i |he |she )?(?:pee|urinat)\w*|\buti\b|\bbladder infection\b")

_CHRONIC = re.compile(
    r"\b(?:for|past|last|over|in) (?:the )?(?:past |last )?(?:a|one|\d+|a few|few|several|couple(?: of)?|two|three|many) "
    r"(?:weeks?|months?|years?)\b|\bfor (?:weeks|months|years|ages|a while)\b|\bon and off\b|\boff and on\b|"
    r"\blately\b|\bkeeps? (?:on |getting |coming|happening|\w+ing\b)|\bthis (?:month|year)\b|\balways\b|\bmost (?:nights|days|mornings|afternoons|evenings)\b|\bchronic\b|"
    r"\bwon't go away\b|\bnot going away\b|\bsince (?:school|last (?:month|year)|the (?:spring|summer|fall|winter))\b|"
    r"\bfor months\b|\bbeen there\b|\bbeen like (?:that|this)\b|\bthan last year\b"
)
_ROUTINE_TOPIC = re.compile(
    r"\brefill\w*|\brenew\w*|\bprescription\b|\bmeds\b|\bmedications?\b|\bcheck ?up\b|\bphysical\b|\bfollow ?up\b|"
    r"\bmole\b|\bacne\b|\bweight\b|\bhair (?:loss|falling|is falling)|\bbed ?wett\w*|\bwetting the bed\b|"
    r"\b(?:trouble|can't) sleep\w*|\binsomnia\b|\bnot sleeping\b|\banxi\w*|\bdepress\w*|\bstress\w*|\bfeeling down\b|"
    r"\bsad\b|\bpanic\b|\bdiabet\w*|\bgums?\b|\bperiods?\b|\bpregnan\w*|\bpalpitat\w*|"
    r"\btherap\w*|\bcounsel\w*|\bheart (?:\w+ )?(?:races|racing|pounding|flutter\w*|skipp\w*)|"
    r"\b(?:took|take|taking|mix\w*)\b(?:\s+\S+){0,8}\s+is (?:that|it|this) (?:ok|okay|safe|bad|alright)\b|"
    r"\bchest (?:\w+ ){0,2}(?:pain|hurts?|hurting|ache|pressure|tight\w*)|\b(?:pain|ache) in (?:my |his |her )?chest\b|"
    r"\bfeeling (?:a bit |kind of |kinda |really |so |very )?(?:low|down|hopeless|empty|depressed)\b|\bresults?\b|\blabs?\b|"
    r"\bpink ?eye\b|\bconjunctivitis\b|\bstye\b|\bsnor\w*|\bsleep apnea\b|\bnote for (?:work|school)\b|\bforms?\b|"
    r"\bpaperwork\b|\bappointment\b|\bappt\b|\bvaccin\w*|\bshots?\b|\bsmok\w*|\bvap(?:e|ing)\b|\bbirth control\b|\breferral\b|\bscreening\b|"
    r"\blump\b|\bswollen (?:ankles?|feet|legs?)\b|\bankles? (?:are |is )?swollen\b|\btremor\b|\bshak\w*"
)
_SELF_CARE_TOPIC = re.compile(
    r"\brunny nose\b|\bsneez\w*|\bsniffl\w*|\bstuffy\b|\bcongest\w*|\bcold\b|\bsore throat\b|\bcough\w*|"
    r"\b(?:mosquito|bug|insect|ant) bites?\b|\bbites?\b|\bstings?\b|\bsunburn\w*|\bheadache\b|\bmigraine\b|"
    r"\bsore\b|\bscrape\w*|\bbruise\w*|\bsplinter\b|\bhung ?over\b|\bhangover\b|\bnause\w*|\bdiarrhea\b|"
    r"\bteething\b|\bsmall cut\b|\bminor cut\b|\bcut\b|\ballerg\w*|\bitch\w*|\bhives\b|\bfood poisoning\b|"
    r"\bthrew up\b|\bvomit\w*|\bback (?:is )?(?:pain|killing|hurts|sore)|\bneck\b|\btired\b|\bfever\w*|"
    r"\bnumb\b(?:\s+\S+){0,6}\s+(?:slept|sleeping|dentist)|\bdentist\b|\bslept on\b|\bout of breath\b|\bheartburn\b|"
    r"\bear ?(?:ache|hurts|pain)|\bblow (?:my|his|her) nose\b|\bdry air\b|\bchapped\b|\bsprain\w*|\bglands\b|\bstiff neck\b|\bbump\w*|\bpush ?ups\b|\bwork ?out\b"
)
_ANY_SYMPTOM = re.compile(
    r"\bpain\w*|\bache\w*|\bhurt\w*|\bsore\b|\bswell\w*|\bswollen\b|\brash\b|\bnumb\w*|\btingl\w*|\bdizz\w*|\bbleed\w*|"
    r"\bblood\b|\bfever\w*|\bvomit\w*|\bcough\w*|\bsick\b|\bill\b|\binfection\b|\blump\b|\bbump\b|\bitch\w*|\bburn\w*|"
    r"\btired\b|\bweak\w*|\bsymptoms?\b|\binjur\w*|\bfell\b|\bfall\b"
)


def _extract_severity(masked: str) -> int | None:
    values = [int(m.group(1)) for m in _SEVERITY.finditer(masked)]
    return max(values) if values else None


@dataclass
class UrgencyDecision:
    urgency: str
    reasons: list[str] = field(default_factory=list)


def classify_urgency(normalized: str, masked: str, context: Context) -> UrgencyDecision:
    """Urgent, routine or self_care for a message that carries no red flag."""
    age = context.age_years if context.age_years is not None else extract_age_years(normalized)
    temp = context.temperature_f if context.temperature_f is not None else extract_temperature_f(masked)
    severity = context.severity if context.severity is not None else _extract_severity(masked)
    pregnant = context.pregnant if context.pregnant is not None else bool(re.search(r"\bpregnan\w*", masked))

    urgent: list[str] = []
    for rule in _URGENT:
        if rule.pattern.search(normalized if rule.raw else masked) and rule.reason not in urgent:
            urgent.append(rule.reason)
    if severity is not None and severity >= 7:
        urgent.append(f"pain {severity}/10")
    fever = (temp is not None and temp >= 100.4) or (temp is None and bool(_FEVER_WORD.search(masked)))
    fever_gone = bool(_FEVER_GONE.search(masked))
    is_child = (age is not None and age < 18) or bool(_CHILD.search(masked))
    if fever and not fever_gone:
        if temp is not None and temp >= 103:
            urgent.append(f"temperature {temp:g}°F")
        elif age is not None and age < 1:
            urgent.append("fever in a baby under 1 year")
        elif age is None and _BABY.search(masked):
            urgent.append("fever in a baby of unknown age")
        elif is_child and (age is None or age < 3) and temp is not None and temp >= 102:
            urgent.append(f"temperature {temp:g}°F in a young child")
        elif _FEVER_COMPANION.search(masked) or (_URINARY.search(masked) and temp is not None):
            urgent.append("fever with another warning symptom")
        elif (age is not None and age >= 65) or _ELDERLY.search(masked):
            urgent.append("fever in an older adult")
    if ((age is not None and age >= 65) or _ELDERLY.search(masked)) and _ELDERLY_SIGN.search(masked) and not urgent:
        urgent.append("older adult with fever, confusion or a fall")
    if pregnant and _PREGNANCY_SYMPTOM.search(masked):
        urgent.append("symptom during pregnancy")
    bp = _BP.search(masked)
    if bp and (int(bp.group(1)) >= 180 or int(bp.group(2)) >= 110):
        urgent.append(f"blood pressure {bp.group(1)}/{bp.group(2)}")
    sugar = _SUGAR.search(masked)
    if sugar and (int(sugar.group(1)) >= 300 or int(sugar.group(1)) < 60):
        urgent.append(f"blood sugar {sugar.group(1)}")
    if urgent:
        return UrgencyDecision("urgent", urgent)

    routine: list[str] = []
    if _CHRONIC.search(masked):
        routine.append("symptom lasting weeks or recurring")
    topic = _ROUTINE_TOPIC.search(masked)
    if topic:
        routine.append(f"needs a clinician's review ({topic.group()})")
    if age is not None and age < 0.26:
        routine.append("baby under 3 months")
    if routine:
        return UrgencyDecision("routine", routine)

    minor = _SELF_CARE_TOPIC.search(masked)
    if minor:
        mild = f" ({severity}/10)" if severity is not None else ""
        return UrgencyDecision("self_care", [f"minor, common complaint ({minor.group()}){mild}"])
    other = _ANY_SYMPTOM.search(masked)
    if other:
        return UrgencyDecision("routine", [f"symptom to be checked ({other.group()})"])
    return UrgencyDecision("self_care", ["no symptom described"])
