"""Text preparation for the triage rules: normalisation, negation scope, ages and temperatures.

1. :func:`normalize` lower-cases, straightens apostrophes, expands SMS shorthand ("cant brth" ->
   "can't breathe", "cp" -> "chest pain", "3yo" -> "3 year old") and repairs misspelt key terms
   with a small edit-distance match ("siezing" -> "seizing", "unconcious" -> "unconscious",
   "breating" -> "breathing") that leaves real look-alike words alone ("breeding", "chess").
2. :func:`mask_negated` blanks the words a negation cue governs ("no chest pain", "denies
   fever"), up to a comma, a contrast word ("but", "just"...) or seven words, and blanks past
   history ("had a stroke 3 years ago", "a febrile seizure when he was 2").
3. :func:`extract_age_years` and :func:`extract_temperature_f` read the numbers the rules need.
"""

from __future__ import annotations

import re
from functools import lru_cache

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})

_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
}

_PHRASE_FIXES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"\bw/o\b", "without "),
        (r"\bw/", "with "),
        (r"\bb/c\b", "because"),
        (r"\bh/o\b", "history of"),
        (r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?=[\s-]+(?:days?|weeks?|wks?|months?|mos?)\b)",
         "<num:\\1>"),
        (r"\b(\d+)\s*(?:yo|y/o|y\.o\.|yr old|yrs old|yr-old|yrs)\b", r"\1 year old"),
        (r"\b(\d+)\s*(?:wks?|weeks?)(?=\W|$)", r"\1 weeks"),
        (r"\b(\d+)\s*(?:d|dy|days?)\s+old\b", r"\1 days old"),
        (r"\b(\d+)\s*(?:mos?|mths?|months?)\s+old\b", r"\1 months old"),
        (r"\b(?:od'?d|o\.d\.?'?d?|oded|od-ed)(?=\W|$)", "overdosed"),
        (r"\bod\b", "overdose"),
        (r"\bepi[\s-]?pen", "epipen"),
        (r"\b(?:heart|hart)\s*(?:attack|attck|atack|attak|atk)\b", "heart attack"),
        (r"\bcan\s+not\b", "can't"),
        (r"\bshort\s+(?:of\s+)?breath(?:ed)?\b", "short of breath"),
        (r"\b(\d+)\s*(?:mins?|minutes)\b", r"\1 minutes"),
        (r"\b(feels?|felt|feeling|went|gone|so|very|really|getting|real|is|are|and)\s+week\b(?!\s+(?:ago|old|of|now|\d))", r"\1 weak"),
        (r"\bouta\b|\boutta\b", "out of"),
        (r"\bnose\s+bleed", "nosebleed"),
        (r"\bun\s*alive\b", "kill"),
    ]
]

_WORD_FIXES: dict[str, str] = {
    # contractions typed without the apostrophe
    "cant": "can't", "cannot": "can't", "wont": "won't", "dont": "don't", "doesnt": "doesn't",
    "didnt": "didn't", "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't", "werent": "weren't",
    "havent": "haven't", "hasnt": "hasn't", "hadnt": "hadn't", "couldnt": "couldn't",
    "wouldnt": "wouldn't", "shouldnt": "shouldn't", "aint": "isn't", "im": "i'm", "ive": "i've",
    "hes": "he's", "shes": "she's", "theyre": "they're", "thats": "that's", "whats": "what's",
    "theres": "there's", "wanna": "want to", "gonna": "going to", "gunna": "going to",
    # SMS shorthand
    "u": "you", "ur": "your", "r": "are", "n": "and", "bc": "because", "cuz": "because", "coz": "because",
    "2day": "today", "tmrw": "tomorrow", "tmr": "tomorrow", "rn": "right now", "pls": "please",
    "plz": "please", "bby": "baby", "lil": "little", "abt": "about", "tho": "though", "thru": "through",
    "b4": "before", "gf": "girlfriend", "bf": "boyfriend", "hubby": "husband", "wk": "week",
    "wks": "weeks", "hr": "hour", "hrs": "hours", "dr": "doctor", "cp": "chest pain",
    "sob": "short of breath", "kms": "kill myself", "unalive": "kill", "kys": "kill yourself",
    "preg": "pregnant", "prego": "pregnant", "preggo": "pregnant", "preggers": "pregnant",
    "tummy": "stomach", "af": "very", "ppl": "people", "bout": "about", "gma": "grandma", "gpa": "grandpa",
    "grandmas": "grandma's", "grandpas": "grandpa's", "moms": "mom's", "dads": "dad's",
    # common misspellings that the edit-distance match below would not reach
    "pian": "pain", "pregnent": "pregnant", "pregant": "pregnant", "pragnant": "pregnant", "prenant": "pregnant",
    "chst": "chest", "chets": "chest", "chset": "chest", "hurtin": "hurting", "breath": "breath",
    "brth": "breathe", "brethe": "breathe", "breth": "breathe", "breate": "breathe", "brething": "breathing",
    "sezure": "seizure", "seazure": "seizure", "seisure": "seizure", "siezures": "seizures", "seizres": "seizures",
    "siezing": "seizing", "seizeing": "seizing", "seezing": "seizing", "colapsed": "collapsed",
    "pased": "passed", "bledding": "bleeding", "stomache": "stomach", "stomack": "stomach",
    "fevr": "fever", "feaver": "fever", "fver": "fever", "vomitting": "vomiting", "vommiting": "vomiting",
    "diarea": "diarrhea", "diarrhoea": "diarrhea", "diarhea": "diarrhea", "diahrea": "diarrhea",
    "diarrea": "diarrhea", "alergic": "allergic", "alergy": "allergy", "allergie": "allergy",
    "anaphalactic": "anaphylactic", "anaphylatic": "anaphylactic", "anafalactic": "anaphylactic",
    "anaphalaxis": "anaphylaxis", "anaphylaxsis": "anaphylaxis", "hedache": "headache",
    "headach": "headache", "haedache": "headache", "hedake": "headache", "headake": "headache",
    "migrane": "migraine", "migrain": "migraine", "sucidal": "suicidal", "suicdal": "suicidal",
    "suicidle": "suicidal", "suicde": "suicide", "sucide": "suicide", "sever": "severe", "servere": "severe",
    "sevre": "severe", "severly": "severely", "swolen": "swollen", "sweling": "swelling", "swollow": "swallow",
    "swalowed": "swallowed", "swallowd": "swallowed", "swollowed": "swallowed", "throut": "throat",
    "thraot": "throat", "tounge": "tongue", "poisen": "poison", "posion": "poison", "poision": "poison",
    "pils": "pills", "dizy": "dizzy", "dizzey": "dizzy", "slured": "slurred", "slurrd": "slurred",
    "slurin": "slurring", "stroek": "stroke", "storke": "stroke", "preasure": "pressure", "presure": "pressure",
    "pressur": "pressure", "feinted": "fainted", "bloood": "blood", "temprature": "temperature",
    "tempature": "temperature", "vison": "vision", "confussed": "confused", "confued": "confused",
    "unconcious": "unconscious", "unconsious": "unconscious", "consious": "conscious", "concious": "conscious",
    "responsing": "responding", "accidently": "accidentally", "numbb": "numb",
}

# Key terms the rules depend on. A word one edit away (two for long words) is repaired to the
# term (two for words of 11+ letters), unless it is a real word in _REAL_WORDS. Same first letter
# and length >= 5 only.
_KEY_TERMS = (
    "breathe", "breathing", "breath", "breathless", "seizure", "seizures", "seizing", "convulsing",
    "convulsions", "unconscious", "conscious", "unresponsive", "responding", "responsive", "collapsed",
    "bleeding", "blood", "pregnant", "pregnancy", "chest", "pressure", "headache", "suicide", "suicidal",
    "overdose", "overdosed", "swallowed", "anaphylaxis", "allergic", "swelling", "swollen", "throat",
    "tongue", "slurred", "slurring", "confused", "vision", "poison", "poisoning", "fever", "newborn",
    "stroke", "unresponsive", "fainted", "wheezing", "gasping", "choking", "twitching", "jerking",
    "crushing", "squeezing", "tightness", "radiating", "spurting", "gushing", "epipen", "inhaler",
    "drooping", "droopy", "numbness", "paralyzed", "clammy", "vomiting", "myself",
)
_REAL_WORDS = frozenset(
    {
        "breeding", "bleeping", "beeping", "blending", "breed", "bleep", "bloody", "bloom", "blond", "blonde",
        "chess", "cheat", "chase", "cheese", "chests", "threat", "threats", "version", "visions", "fewer",
        "fiver", "prison", "poisons", "inhaled", "inhales", "inhalers", "crashing", "brushing", "rushing",
        "cooking", "choking", "grasping", "rasping", "wheeling", "sizing", "seizes", "breather", "breathes",
        "breadth", "bread", "breach", "breaching", "strike", "strikes", "stoke", "stoked", "stokes", "stroked",
        "strokes", "pleasure", "dropping", "dropped", "drops", "droops", "slurped", "swearing", "jerkin",
        "twitchy", "tighten", "tighter", "tights", "pregnancies", "pressures", "pressured", "collapse",
        "collapses", "bleeds", "bleeder", "gushy", "clamps", "vomits", "tongues", "swallow", "brood",
        "crest", "chesty", "strode", "drooling", "slurping", "smelling", "spelling", "selling", "sporting",
        "spurring", "radiation", "sneezing", "consulting", "conclusions", "conclusion",
        "swallows", "allergy", "allergies", "confuses", "confusing", "conscience", "fevers", "newborns",
        "overdoses", "breaths", "headaches", "throats", "convulse", "crusher", "squeeze", "squeezed",
        "radiate", "radiates", "epipens", "choked", "chokes", "gasped", "gasps", "jerked", "jerks",
        "twitched", "twitches", "fainter", "faints", "faint", "responds", "response", "responded",
        "visiting", "gaping", "gapping", "gassing", "breathed", "breathy", "compulsions", "confusions",
        "conversions", "confuse", "shelling", "spurning", "spurred", "bloods", "blooms", "seized", "seize", "stroll", "strobe", "suited",
    }
)
_ING_STEMS = frozenset(
    {
        "bleedin", "breathin", "seizin", "convulsin", "shakin", "jerkin", "twitchin", "gaspin", "chokin",
        "wheezin", "throwin", "droolin", "slurrin", "pukin", "vomitin", "faintin", "passin", "swellin",
        "burnin", "crushin", "squeezin", "spurtin", "gushin", "pourin", "respondin", "breakin",
    }
)


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, giving up past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


_TERMS_BY_LETTER: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {}
for _term in _KEY_TERMS:
    _TERMS_BY_LETTER[_term[0]] = (*_TERMS_BY_LETTER.get(_term[0], ()), (_term, frozenset(_term)))


@lru_cache(maxsize=4096)
def _repair(word: str) -> str:
    """The key term a misspelt word stands for, or the word itself."""
    if word in _ING_STEMS:
        return word + "g"
    if len(word) < 5 or word in _REAL_WORDS or not word.isalpha():
        return word
    best, best_d = word, 99
    letters = frozenset(word)
    for term, term_letters in _TERMS_BY_LETTER.get(word[0], ()):
        if term == word:
            return word
        limit = 2 if len(term) >= 11 and abs(len(term) - len(word)) <= 1 else 1
        # cheap necessary condition: each edit changes the set of letters by at most two
        if abs(len(term) - len(word)) > limit or len(letters ^ term_letters) > 2 * limit:
            continue
        d = _distance(word, term, limit)
        if d <= limit and d < best_d:
            best, best_d = term, d
    return best


_WORD_RE = re.compile(r"[a-z0-9']+")
_NUM_TOKEN = re.compile(r"<num:(\w+)>")


def _fix_word(match: re.Match[str]) -> str:
    word = match.group()
    fixed = _WORD_FIXES.get(word)
    return fixed if fixed is not None else _repair(word)


def normalize(text: str) -> str:
    """Lower-case, straight apostrophes, SMS shorthand and misspellings expanded, spaces collapsed."""
    out = text.translate(_APOSTROPHES).lower()
    for pattern, repl in _PHRASE_FIXES:
        out = pattern.sub(repl, out)
    out = _NUM_TOKEN.sub(lambda m: _NUMBER_WORDS[m.group(1)], out)
    out = _WORD_RE.sub(_fix_word, out)
    # a fix may have produced "3 wks": re-run the unit rules once
    out = re.sub(r"\b(\d+)\s*(?:weeks?)(?=\W|$)", r"\1 weeks", out)
    return re.sub(r"\s+", " ", out).strip()


# --------------------------------------------------------------------------------------------
# Negation scope and history
# --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[a-z0-9'./_]+|[,;:!?\n()\-]")
_NEG_CUES = frozenset({"no", "not", "never", "denies", "denied", "deny", "without", "none", "nor", "negative"})
# "not sure if it's a stroke" doubts, it does not deny.
_PSEUDO_NEG = re.compile(
    r"\b(?:not sure|not certain|no idea|don't know|do not know|can't tell|not only|no matter|"
    r"not (?:helping|working|going away|getting better|better|improving|stopping)|"
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
_PAST_EVENT = r"strokes?|heart attacks?|seizures?|overdos\w*|suicid\w*|self[- ]harm\w*|fainted|passed out|blacked out"
_LONG_AGO = (
    r"(?:(?:\d+|a|a few|few|several|many|two|three|couple of|a couple of) )?(?:years?|months?) ago|years back|long ago|"
    r"last (?:year|spring|summer|fall|winter)|in (?:19|20)\d\d|"
    r"when (?:i|he|she|they) (?:was|were) (?:\d+|a baby|a kid|a child|little|young|younger|a teen\w*|in (?:high )?school|in college)|"
    r"as a (?:kid|child|baby|teen\w*)|in (?:high school|college|my twenties)"
)
# A past event, a condition on a medicine list, is not happening now.
_HISTORY_RE = re.compile(
    rf"\b(?:history of|hx of|previous|prior|past)\s+(?:\w+\s+){{0,2}}?(?:{_PAST_EVENT})\b"
    rf"|\b(?:{_PAST_EVENT})\s+(?:\S+\s+){{0,5}}?(?:{_LONG_AGO})\b"
    rf"|\b(?:was|used to be|used to feel|felt|have been|had been)\s+(?:\w+\s+){{0,2}}?suicidal\s+(?:\S+\s+){{0,3}}?(?:{_LONG_AGO})\b"
    r"|\b(?:strokes?|seizures?|heart attacks?)\s+(?:meds?|medications?|medicines?|pills|doctor|neurologist|clinic|"
    r"prevention|risk|free|disorder|specialist|action plan|forms?)\b"
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
# Numbers the rules need: age and temperature
# --------------------------------------------------------------------------------------------

_AGE_RE = re.compile(
    r"\b(\d+(?:\.\d+)?)[\s-]*(day|days|week|weeks|month|months|mo|mos|m/o|year|years)[\s-]*old\b"
    r"|\b(\d+(?:\.\d+)?)[\s-]*(day|days|week|weeks|month|months|mo|mos)\s+(?:old\s+)?(?:baby|infant|boy|girl|son|daughter|newborn)\b"
    r"|\b(?:baby|infant|son|daughter|newborn|he|she) (?:is|was|turned|just turned) (\d+(?:\.\d+)?) (day|days|week|weeks)\b(?! ago)"
    r"|\bborn (\d+(?:\.\d+)?) (day|days|week|weeks) ago\b"
)
# years in one of each unit (the one table: intake answers use it too)
YEARS_PER_UNIT = {"minute": 1 / 525600, "hour": 1 / 8760, "day": 1 / 365, "week": 7 / 365, "month": 1 / 12, "year": 1.0}
_UNIT_YEARS = {**YEARS_PER_UNIT, "mo": 1 / 12, "m/o": 1 / 12}
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
        groups = [g for g in match.groups() if g]
        value = float(groups[0])
        unit = groups[1].rstrip("s")
        return value * _UNIT_YEARS.get(unit, 1.0)
    if re.search(r"\b(?:newborn|new born|neonate|just born|born (?:yesterday|last week|this week))\b", normalized):
        return 14 / 365
    return None


def extract_temperature_f(normalized: str) -> float | None:
    """Highest plausible body temperature in the text, in °F (Celsius values are converted)."""
    found: list[float] = []
    for match in _TEMP_RE.finditer(normalized):
        raw = match.group(1) or match.group(3) or match.group(5) or match.group(7)
        unit = match.group(2) or match.group(4) or match.group(6) or None
        value = body_temperature_f(float(raw), unit)
        if value is not None:
            found.append(value)
    return max(found) if found else None


def body_temperature_f(value: float, unit: str | None, celsius_up_to: float = 43) -> float | None:
    """A reading in °F (°C converted; a bare 34 to ``celsius_up_to`` is taken for °C); None when no body has it."""
    if unit == "c" or (unit is None and 34 <= value <= celsius_up_to):
        value = value * 9 / 5 + 32
    return round(value, 1) if 93 <= value <= 110 else None
