"""Names found by the words around them, and schools and employers.

spaCy's small English model finds capitalised names in ordinary sentences but misses the
lower-case ones that texting produces ("this is dave", "my daughter emma has a fever").
:class:`ContextNameRecognizer` reads the cue in front of a name ("this is", "my son",
"patient:", a sign-off) and takes the one to three name-like words after it. Strong cues accept
lower-case names; weak ones ("i'm", "it's" mid-sentence, titles) only capitalised ones.
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

ICASE = re.IGNORECASE

RELATIVES = (
    r"son|daughter|wife|husband|mom|mother|mum|dad|father|brother|sister|grandson|granddaughter|"
    r"grandma|grandmother|grandpa|grandfather|aunt|uncle|niece|nephew|cousin|baby|baby\s+girl|"
    r"baby\s+boy|partner|boyfriend|girlfriend|fiance|fiancee|child|kid|stepson|stepdaughter|"
    r"granddad|grandchild|spouse|caregiver|roommate|neighbor|friend"
)
# Words that end a name (or show the word after a cue is not one).
_STOP_TEXT = """
    a an the and or but if so to of in on at by for from with about as into than then too very
    is am are was were be been being has have had do does did will would can could should shall
    may might must not no yes ok okay just still also only even really here there now today
    tonight tomorrow yesterday again back out up down over off
    i me my mine you your he him his she her hers it its we us our they them their this that
    these those who what when where why how which
    calling texting writing asking checking following running going coming getting having
    feeling doing trying looking waiting needing hoping wondering
    need needs needed want wants wanted took take takes taking got get gets fell fall falls
    goes go went attends attend uses use used said says say called call calls came come
    feels feel felt started start keeps keep kept woke wakes saw see seen seems looks
    sick ill better worse fine good well bad sore tired dizzy pregnant due late early new
    home sorry thanks thank please pls plz hi hey hello dear
    sure not still
    patient pt dr doctor nurse np md do pa office clinic front desk
    appt appointment visit refill prescription results result labs lab test shot
    name dob mrn id number phone cell email address
    mg ml
    urgent important serious emergency weird strange normal abnormal painful swollen red itchy
    bleeding broken infected concerning scary worried concerned scared confused unable allergic
    diabetic asthmatic anemic nauseous feverish hurting throbbing awful horrible terrible
    almost currently already afraid having trying
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
NAME_WORD = r"[A-Za-z][A-Za-z]*(?:['’-][A-Za-z]+)*\.?"

STRONG_CUES = [
    r"\bthis\s+is",
    r"\bmy\s+name\s+is",
    r"\b(?:his|her|their|the)\s+name\s+is",
    r"\bname\s+is",
    r"\b(?:pt|patient)?\s*name\s*[:\-]",
    r"\b(?:pt|patient)\s+name",
    r"\b(?:patient|pt)\s*:",
    r"\bfrom\s*:",
    rf"\b(?:my|our|his|her)\s+(?:{RELATIVES})(?:['’]s\s+name\s+is)?\s*,?",
    r"\bcalling\s+for",
    r"\bname\s+on\s+(?:the\s+|my\s+)?(?:card|file|account|chart|policy|insurance|booking|form)\s+(?:is|says|reads)",
    r"\b(?:s?he\s*['’]?s|shes|hes|(?:s?he|they|who)\s+(?:is|was|are|were))\s+(?:called|named)",
]
# After these a name may open with a word that is also a common short word ("her name is may hope",
# "my name is will grant"), when a second word follows it.
NAMING_CUES = [r"\bname\s+is", STRONG_CUES[-2], STRONG_CUES[-1]]
SIGN_OFFS = [
    r"(?:^|\s)[-–—~]\s*",
    r"\b(?:thanks|thank\s+you|thx|ty|regards|best|cheers|sincerely|signed|love)\b\s*[,!.]*\s*[-–—]?\s*",
]
# "its dave, ..." at the start of a message: a lower-case word is a name only when punctuation
# or a word like "from" follows it ("its swollen and red" is not a name).
GREETING_CUES = [
    r"^\s*(?:(?:hi|hey|hello|hiya|yo|good\s+morning|good\s+afternoon)(?:\s+(?:doc|doctor|there|all|team|everyone))?)?"
    r"[\s,!.]*(?:it'?s|it’s|its)",
]
GREETING_END = re.compile(
    r"\s*(?:[,.!;:)(-]|$|(?:from|here|again|calling|texting|checking|writing)\b)", re.IGNORECASE
)
WEAK_CUES = [
    r"\b(?:i\s*['’]?\s*m|i\s+am|im)",
    r"\b(?:it'?s|it’s|its)",
    r"\b(?:mr|mrs|ms|miss|mx)\.?",
    rf"\b(?:{RELATIVES})\s+is",
    r"\bre\s*:",
    r"\bpatient",
]
# A nickname is a name whatever word it is ("goes by Tiny", "aka Bubba"); it needs its capital.
NICKNAME_CUES = [r"\bgo(?:es)?\s+by", r"\bnicknamed?", r"\bnickname\s+is", r"\ba\.?k\.?a\.?"]
TITLE = r"(?:(?:mr|mrs|ms|miss|mx)\.?\s+)?"
# a transcript's speaker label at a line's start ("Patient: ...", "Staff: ...", "Caller: ...")
SPEAKER_LINE = re.compile(r"^[ \t]*(?:patient|pt|staff|caller|nurse|doctor|dr|provider|agent|receptionist|front\s+desk|"
                          r"bot|assistant|clinicbot|user|parent|mom|dad|daughter|son|wife|husband|rn|ma|md)[ \t]*:[ \t]*",
                          ICASE | re.MULTILINE)


def _compile(cues: list[str]) -> re.Pattern[str]:
    return re.compile(rf"(?:{'|'.join(cues)})\s+{TITLE}(?={NAME_WORD})", ICASE | re.MULTILINE)


class ContextNameRecognizer(LocalRecognizer):
    """PERSON spans after cue words; see the module docstring."""

    def __init__(self, score: float = 0.8) -> None:
        self.score = score
        self._strong = _compile(STRONG_CUES)
        self._weak = _compile(WEAK_CUES)
        self._greeting = _compile(GREETING_CUES)
        self._nickname = _compile(NICKNAME_CUES)
        self._sign = re.compile(rf"(?:{'|'.join(SIGN_OFFS)})(?={NAME_WORD})", ICASE)
        self._word = re.compile(rf"\s*({NAME_WORD})")
        self._naming = _compile(NAMING_CUES)
        self.label = "ContextNameRecognizer"
        super().__init__(supported_entities=["PERSON"], name=self.label)

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        spans: list[tuple[int, int]] = []
        transcript = len(SPEAKER_LINE.findall(text)) >= 2
        for match in self._strong.finditer(text):
            if transcript and SPEAKER_LINE.match(text, match.start()):
                continue  # "Patient: one 62 after my run": who speaks, not a name field (judged below)
            spans += self._take(text, match.end(), capital_only=False)
        for match in self._naming.finditer(text):
            spans += self._take(text, match.end(), capital_only=False, short_first=True)
        for match in self._nickname.finditer(text):
            spans += self._take(text, match.end(), capital_only=True)
        for match in self._greeting.finditer(text):
            found = self._take(text, match.end(), capital_only=False)
            if found and (text[found[0][0]].isupper() or GREETING_END.match(text, found[0][1])):
                spans += found
        from bot.phi.lexicon import load

        lex = load()

        def name_like(found: list[tuple[int, int]]) -> bool:
            """A weak cue or a dash needs a word that is a name or no everyday word ("- Hemoglobin is")."""
            words = re.findall(r"[a-z]+", " ".join(text[s:e] for s, e in found).lower())
            return any(lex.is_name(w) or w not in lex.safe for w in words)

        for match in SPEAKER_LINE.finditer(text) if transcript else ():
            # an answer that opens with a capitalised name ("Patient: Dana Kolb, 4/9/71"), not a drug or a word
            found = self._take(text, match.end(), capital_only=True)
            if found and name_like(found) and not all(w in lex.clinical and not lex.is_name(w) for w in
                                                      re.findall(r"[a-z]+", text[found[0][0]:found[0][1]].lower())):
                spans += found
        for match in self._weak.finditer(text):
            found = self._take(text, match.end(), capital_only=True)
            if found and name_like(found):
                spans += found
        for match in self._sign.finditer(text):
            found = self._take(text, match.end(), capital_only=False)
            # A lower-case word after a dash or "thanks" is a name only when it ends the message.
            if found and name_like(found) and (text[found[0][0]].isupper()
                                               or not re.search(r"\w", text[found[0][1] :])):
                spans += found
        return [self._result(s, e) for s, e in spans]

    def _take(self, text: str, pos: int, capital_only: bool, short_first: bool = False) -> list[tuple[int, int]]:
        words: list[tuple[int, int]] = []
        first_capital = False
        while len(words) < 3:
            match = self._word.match(text, pos)
            if not match:
                break
            word = match.group(1)
            bare = re.sub(r"['’]s$", "", word.rstrip(".")).lower()
            if short_first and not words and bare in STOP_WORDS and bare.isalpha() and len(bare) > 2:
                second = re.match(rf"[ \t]+({NAME_WORD})(?:[ \t]*(?:[,.!;:)(]|$))", text[match.end(1) :])
                if second and second.group(1).rstrip(".").lower() not in STOP_WORDS:  # "may hope", not "not sure"
                    words.append((match.start(1), match.end(1)))
                    pos = match.end(1)
                    continue
            if bare in STOP_WORDS or (not words and re.fullmatch(RELATIVES, bare)):
                break  # "this is grandma to lily-mae": who is writing, not a name
            capital = word[0].isupper()
            if not words:
                if capital_only and not capital:
                    break
                first_capital = capital
            elif first_capital and not capital:
                break
            # The initial in "anna k." keeps its dot; any other trailing dot ends the sentence.
            end = match.end(1)
            if word.endswith(".") and len(word.rstrip(".")) > 1:
                end -= 1
            possessive = re.search(r"['’]s\.?$", word)
            if possessive:
                end = match.start(1) + possessive.start()
            words.append((match.start(1), end))
            if possessive or end < match.end(1) or text[end : end + 1] in (",", "(", ")", "\n", "<"):
                break
            pos = match.end(1)
        if not words:
            return []
        return [(words[0][0], words[-1][1])]

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type="PERSON",
            start=start,
            end=end,
            score=self.score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


CAP_WORDS = r"(?:(?:[A-Z][A-Za-z'&.-]*|of|the|and|&)\s+){0,4}?"
SCHOOL_KINDS = (
    r"Elementary|Middle|High|Junior\s+High|Academy|School|College|University|Preparatory|Prep|"
    r"Montessori|Daycare|Preschool|Kindergarten|Institute"
)
# "work nights at", "works part time for": when someone works says nothing about where
WORK = r"(?:work(?:s|ing|ed)?|driv(?:e|es|ing)|drove|deliver(?:s|ing|ed)?)(?:\s+(?:nights|days|evenings|weekends|overnights?|shifts|part[\s-]time|full[\s-]time))?"
ORG_PATTERNS = [
    # Lincoln Elementary, Jefferson Middle School, Westview Academy
    re.compile(rf"\b[A-Z][A-Za-z'.-]*\s+{CAP_WORDS}(?:{SCHOOL_KINDS})\b(?:\s+School)?"),
    # work at / employer is / boss at + a capitalised name
    re.compile(
        rf"(?i:\b(?:{WORK}\s+(?:at|for)|employed\s+(?:at|by)|employer\s*(?:is|:)?|"
        r"boss\s+at|job\s+at|teacher\s+at|nurse\s+at|manager\s+at|school\s*(?:is|:)|"
        r"(?:works?\s+as|i\s*['’]?\s*m|i\s+am|(?:s?he|they)\s*['’]?\s*(?:s|re)|(?:s?he|they)\s+(?:is|are))"
        r"\s+an?\s+\w+(?:\s+\w+)?\s+(?:at|for))\s+)"
        r"(?P<v>[A-Z][A-Za-z'&.-]*(?:\s+(?:[A-Z][A-Za-z'&.-]*|of|&)){0,4})"
    ),
]
# The same cues in lower case ("i work at walmart on the night shift"): up to three words, ending at
# a common short word, so "work at home" or "work for myself" take nothing.
EMPLOYER_LOWER = re.compile(
    rf"\b(?:{WORK}\s+(?:at|for)|employed\s+(?:at|by)|employer\s*(?:is|:)?|job\s+at|boss\s+at|"
    r"manager\s+at|shift\s+at|(?:i\s*['’]?\s*m|i\s+am|she\s*['’]?s|he\s*['’]?s|works?\s+as)\s+an?\s+[a-z]+"
    r"\s+(?:at|for))"
    r"\s+(?:the\s+)?(?P<v>[a-z][a-z'&.-]+(?:\s+[a-z][a-z'&.-]+){0,2})"
)
NOT_EMPLOYER = frozenset(["long", "miles", "hours", "minutes", "while", "work", "home", "night", "nights", "day", "days", "noon", "myself", "yourself", "himself", "herself", "all", "least", "most", "times", "time"])


class OrganizationRecognizer(LocalRecognizer):
    """Schools and employers (capitalised names after "work at", "... Elementary" and the like)."""

    # above spaCy's 0.85, as the name lists are: Presidio drops a result that one of the same type and a higher or
    # equal score covers, and spaCy's "B&Q" of "works at B&Q" may then be judged no PHI (short capitals)
    def __init__(self, score: float = 0.86) -> None:
        self.score = score
        self.label = "SchoolEmployerRecognizer"
        super().__init__(supported_entities=["ORG"], name=self.label)

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "ORG" not in entities:
            return []
        results = []
        for match in EMPLOYER_LOWER.finditer(text):
            start = match.start("v")
            words = list(re.finditer(r"\S+", match.group("v")))
            kept = []
            for w in words:
                bare = w.group(0).strip(".,;:").lower()
                if bare in STOP_WORDS or bare in NOT_EMPLOYER:
                    break
                kept.append(w)
            if kept:
                results.append(self._org(start + kept[0].start(), start + kept[-1].end()))
        for pattern in ORG_PATTERNS:
            for match in pattern.finditer(text):
                group = "v" if "v" in pattern.groupindex else 0
                start, end = match.span(group)
                stop = re.search(r"[a-z]{2}\.\s", text[start:end])  # "at Fidelity. ALT 88": the sentence ends the name
                results.append(self._org(start, start + stop.start() + 2 if stop else end))
        return results

    def _org(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            "ORG",
            start,
            end,
            self.score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


# spaCy's small model calls many capitalised drug names people ("Eliquis 5 mg", "Zyrtec").
# A PERSON from spaCy is dropped when it holds a digit, is followed by a dose or a clinical noun,
# or is made only of words from this list of common medicines and clinical words.
_CLINICAL_TEXT = """
    eliquis xarelto coumadin warfarin januvia jardiance farxiga ozempic wegovy trulicity mounjaro
    victoza lantus humalog novolog levemir tresiba basaglar metformin glucophage glipizide
    lipitor crestor zocor pravachol atorvastatin rosuvastatin simvastatin zetia lisinopril
    losartan cozaar norvasc amlodipine toprol lopressor metoprolol coreg carvedilol lasix
    furosemide hctz hydrochlorothiazide aldactone spironolactone plavix clopidogrel aspirin
    synthroid levothyroxine zyrtec claritin allegra benadryl flonase singulair montelukast
    albuterol ventolin proair symbicort advair breo spiriva prednisone medrol amoxicillin
    augmentin azithromycin zpack zithromax keflex cephalexin cipro ciprofloxacin levaquin
    doxycycline bactrim macrobid nitrofurantoin flagyl diflucan valtrex tamiflu paxlovid
    zoloft sertraline lexapro escitalopram prozac fluoxetine celexa citalopram wellbutrin
    bupropion effexor venlafaxine cymbalta duloxetine trazodone xanax alprazolam ativan
    lorazepam klonopin clonazepam ambien zolpidem adderall ritalin concerta vyvanse abilify
    seroquel lamictal lamotrigine keppra gabapentin neurontin lyrica topamax imitrex
    sumatriptan tylenol acetaminophen advil motrin ibuprofen aleve naproxen tramadol
    norco percocet oxycodone hydrocodone flexeril cyclobenzaprine mobic meloxicam celebrex
    prilosec omeprazole nexium pantoprazole protonix pepcid famotidine zofran ondansetron
    miralax colace dulcolax imodium humira enbrel stelara dupixent xolair epipen narcan
    viagra cialis flomax tamsulosin finasteride premarin estradiol provera depo nuvaring
    covid flu hep hepatitis tdap dtap mmr hpv shingrix prevnar pneumovax gardasil rsv
    a1c hba1c tsh ldl hdl cbc cmp bmp inr psa ekg ecg mri ct xray x-ray ultrasound
"""
CLINICAL_WORDS = frozenset(_CLINICAL_TEXT.split())
_AFTER_CLINICAL = re.compile(
    r"\s*(?:\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|units?|iu|%|tabs?|pills?)\b|"
    r"(?:vaccine|vaccination|shot|booster|test|tablets?|pills?|cream|inhaler|injection|dose|refill|"
    r"prescription|rx|code|level|levels|panel|results?)\b)",
    re.IGNORECASE,
)


def not_a_name(text: str, start: int, end: int) -> bool:
    """True when a spaCy PERSON span is clinical text rather than a person's name."""
    span = text[start:end]
    if any(c.isdigit() for c in span):
        return True
    if _AFTER_CLINICAL.match(text, end):
        return True
    words = re.findall(r"[a-z][a-z-]*", span.lower())
    return bool(words) and all(w in CLINICAL_WORDS for w in words)
