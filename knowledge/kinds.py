"""What a question asks for (its kind), and which sentences of a section give it (their role).

The documents are written one fact to a sentence under headings of a few shapes ("What a high INR can mean",
"Things that can change an A1c result", "Getting ready for a BMP or CMP"), so the kind of a question and the role of
a sentence both show in the wording:

- cause: "what makes inr go up", "what causes low potassium", "why is my b12 low", "what can throw off my a1c",
  "might that have affected the result", "did the bike ride change it", "could that explain it" (not "can you
  explain"). A sentence gives a cause when the question's subject is the effect of a causal verb: after a forward
  one ("Some water pills can also cause low potassium", "Some medicines can lower your B12"), before a backward one
  ("A high INR can come from a change in diet", "Low potassium can happen if you throw up").
- symptom: "high tsh symptoms", "how does low b12 feel". A sentence gives a symptom when it says how one feels ("can
  make you tired", "you may bruise", "may feel weak") or has the subject cause something that is not the subject
  ("Low potassium can cause muscle cramps").
- compare: "bmp vs cmp", "difference between ldl and hdl": the sentences that name both, else what each one is.
- prep: "do i need to fast", "can i eat before my lipid panel": the sentences about fasting and getting ready.
- purpose: "what is a pee test for", "what does a cbc check for": what the test is used to find.
- list: "what all does a bmp check", "which plans do you take", "what do i bring": the section's list, its lead-in and
  items (knowledge/lists.py), by the list's shape, not its words.
- often: "how often should i get my a1c checked": a sentence that says how often ("at least twice a year", "every
  year").
- number: "what is the nurse line number", "how much is the no-show fee", "what time do you close": a sentence that
  gives a number, a time or a day.
- time: "how early do i show up", "how long do results take": a sentence that gives a length of time or a time of day
  (a phone number is no answer to it).
- online: "is there an email address for the front desk", "do you have a website": a sentence that gives an email or
  a web address.
- identity: "is that a bill", "am I expected to remit payment on it": the sentence that says what the thing is or
  is not ("The EOB is not a bill").
- steps: "how do i get on the portal", "how can we update our insurance": a sentence that says what to do ("To sign up
  for the portal ..., ask the front desk for an invite", "Call ...").

A question may have several kinds ("what causes high potassium symptoms"); one with none is left to the similarity
of meaning alone. The kinds only add to that similarity (knowledge/select.py): they never pick a sentence alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_ASKS = {
    "cause": re.compile(
        r"\b(cause[sd]?|causing|reasons?|causa[rn]?|por qu[eé]|why (is|are|was|were|would|do|does|did|has|have|might|could)|"
        r"what (else )?((kinds?|sorts?|types?) of (things? |stuff |factors? )?)?(can |could |would |might |will )?"
        r"(else )?(make|makes|made|raise|raises|lower|lowers|increase|increases|"
        r"decrease|decreases|affect|affects|change|changes|throw|throws|mess|messes|bring|brings|drop|drops|push|"
        r"pushes|give|gives|lead|leads)|(go|goes|went|going|gone) (up|down|high|low|higher|lower)|"
        r"(push|pushes|pushed|drive|drives|drove|send|sends|sent) (it|them|[\w ]{1,25}?) (up|down|higher|lower)|"
        r"throw(s)? off|mess(es)? (up|with)|(mess|messes|throw|throws) (it|them|that|this|things) (up|off)|"
        r"(can|could|would|do|does|did|will|might) [\w ]{1,30}(raised?|lower(ed)?|affect(ed)?|changed?|increased?|"
        r"decreased?|throw(n)? off|mess(ed)? up|(make|made) [\w ]+ (high|low|wrong|off))|(raised|lowered) by|from what|how come|"
        r"(can|could|would|might|did|does|do) (the|my|a|an|all|that|this) [\w ]{1,25}(do|cause) (that|this|it)|"
        r"(can|could|would|might|did|does|will) (that|this|it|these|those|either|any|one|the|my|his|her|their)\b"
        r"[\w ]{0,30}explain(s|ed)?)\b",
        re.I),
    "symptom": re.compile(
        r"\b(symptoms?|signs?|sympt\w*|feel|feels|feeling|felt|how (would|will|do|does|can) (i|you|someone) "
        r"(know|tell)|effects? of|side effects?|does (it|that|this) (do|affect)|(can|could|will|would|might) (it|that|this) "
        r"do to|long[- ]term)\b", re.I),
    "steps": re.compile(r"\bhow (do|can|could|should|would) (i|we) (\w+ )?(get|sign|find|know|check|make sure|become|"
                        r"set|request|move|transfer|send|switch|change|update|pay)\b", re.I),
    "compare": re.compile(r"\b(vs\.?|versus|difference|differences|diffs?|diferencias?|differ|differs|different (from|than)|compared?|comparison|same as|"
                          r"(better|worse|bigger|more|less) than|\w+ or \w+,? which|which (one|is|has)\b[\w ]* or)\b",
                          re.I),
    "prep": re.compile(
        r"\b(fast|fasting|prep|prepare|preparing|preparation|get(ting)? ready|empty stomach|before (the|my|a|an|"
        r"this|your|getting|i|having|doing) [\w ]{0,20}(test|draw|labs?|blood ?work|panel|visit)|eat (before|first)|"
        r"(eat|drink|food|coffee|water) before|(can|should|do) i (eat|drink))\b", re.I),
    "purpose": re.compile(
        r"(\b(used for|for what|purpose|point of|why (do|would|did|does|should) (i|you|someone|they|we|(my|the|a|your|our) \w+) "
        r"(need|get|have|order|do|run|want|check)|why (get|do|order)|what (does|do|can|will) [\w ]{1,30} (find|show|detect|tell|"
        r"check|test|look) for)\b|\bfor\s*\??\s*$)", re.I),
    "list": re.compile(
        r"\b(what all|which all|(what|which) (kinds?|types|sorts) of|which (ones|plans|insurances?|tests|things|cards|"
        r"forms|papers|documents|items)|what (insurances?|plans|tests|things|documents|papers|forms|items|cards) (do|does|"
        r"are|is|can|should|will|must)|what (do|does|should|can|will|must) (i|we|you|they|it|the \w+|a \w+|an \w+) "
        r"(need to |have to |got to )?(bring|include|check|cover|test|accept|take)( on| in| for| with| to)?\s*\??\s*$|"
        r"what (do|does|should|can|will|must) (i|we|you|they|it|the \w+|a \w+|an \w+) (need to |have to |got to )?"
        r"(bring|include|check|cover|accept|take) (on|in|to|for|with)\b|list of|steps?)\b", re.I),
    "often": re.compile(r"\b(how (often|frequently|regularly)|how many times)\b", re.I),
    "number": re.compile(
        r"\b(number|phone|call who|who (do|can|should|could|would) (i|we) call|who (i|we) (can|should) call|who to call|"
        r"how much|cost|costs|price|fee|fees|charge|charges|what time|when (is|are|do|does|"
        r"can|will)|how many|what day|which day|what days|which days)\b", re.I),
    "time": re.compile(r"\bhow (long|soon|early|late)\b", re.I),  # "how early do i show up": 15 minutes, not a phone
    "online": re.compile(r"\b(e-?mail|web ?site|url) (address|addy|id)\b|\b(what|what's|whats|is there|do you have|have "
                         r"an?|your|clinic'?s?|office'?s?) (is |are )?(your |the |an? |any )?(e-?mail|web ?site|url)\b",
                         re.I),  # "is there an email address for the front desk": the address, not the word
    # whether a thing is what the patient takes it for: "is that a bill", "is this a bill I must pay"
    "identity": re.compile(r"\b(is|are) (it|this|that|these|those|they|the [\w ]{1,20}?) (really |actually |just )?"
                           r"(a|an) [a-z]+|\b((must|do|should) (i|we) (really )?(have to |need to )?|(am i|are we) (expected|supposed|required|meant) "
                           r"to )(pay|remit payment on|make (a )?payment on) (for )?(it|this|that|these|those|them)\b",
                           re.I),
}

# A question with the patient's own number that asks more than where it falls ("is that bad", "what does that mean").
ASKS_MORE = re.compile(r"\b(mean|means|meaning|bad|why|worr(y|ied)|serious|concern(ed|ing)?|dangerous|points? to|"
                       r"indicates?|suggests?)\b", re.I)
_FORWARD = re.compile(r"\b(cause[sd]?|causing|cause of|raise[sd]?|lower(s|ed)?|increase[sd]?|decrease[sd]?|"
                      r"(can|may|might|could|will|do|does) (also |often |sometimes )?change|changes|changed|"
                      r"affect(s|ed)?|lead(s)? to|make[s]?|throw(s)? off|push(es)? (up|down)|"
                      r"bring(s)? (up|down)|give[s]? (you )?(a|an))\b", re.I)
_BACKWARD = re.compile(r"\b(comes? from|came from|happens? (if|when|with|after|because)|can happen|caused by|"
                       r"(up|down|high|higher|low|lower) (for a (short )?while |for a short time )?(after|in people (with|who))|"
                       r"due to|because of|results? from|from (not|too|eating|drinking|taking|using|a|an|low|high)|"
                       r"most often means|can mean you|(more |most )?common (with|in|if|when|after)|(can|may|might)( also)? be a "
                       r"sign|is (often )?a sign)\b", re.I)
_FEEL = re.compile(r"\b(makes? you|you may|you might|may feel|can feel|feel(s|ing)?|(symptoms|signs) (of|include)|"
                   r"may notice|you can get|easier for you to)\b", re.I)
_PREP = re.compile(r"\b(fast|fasting|no food|getting ready|prepare|before (a|the|your|this|you|an|some)\b|"
                   r"do not need to|don't need to|need to|eat|drink|water)\b", re.I)
_PURPOSE = re.compile(r"\b(used (to|for|most often)|can (also )?(help )?find|help(s)? find|checks? (for|how|your|"
                      r"that|if)|looks? (for|at)|to check|to find|to see|is done|shows?|measures?|tells?|counts?)\b",
                      re.I)
_OFTEN = re.compile(r"\b(once|twice|every|times (a|per|each)|(a|per|each) (day|week|month|year)|yearly|annual(ly)?|"
                    r"monthly|weekly|daily)\b", re.I)
_TIME = re.compile(r"\b(\d+|a|one|two|three|four|five|a few|several)( (to|or|-) \d+)? (business |working )?(minutes?|"
                   r"mins?|hours?|hrs?|days?|weeks?|months?|years?)\b|\d:\d\d|\b(a\.m\.|p\.m\.|noon)", re.I)
# a step to take: "To sign up for the portal, ask the front desk ...", "To check, call the member services phone number"
_STEPS = re.compile(r"^(to [a-z]+\b[^,.]{0,60}, |(call|ask|sign|bring|fill|send|tell|reply|log|use)\b)", re.I)
_IDENTITY = re.compile(r"\b(is|are)( not| never| usually not| always)? (a|an) ([a-z]+)", re.I)
_ONLINE = re.compile(r"\S@\w|\bhttps?://|\bwww\.", re.I)
_NUMBER = re.compile(r"\d|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|noon|midnight)\b", re.I)
_HEADINGS = {
    "cause": re.compile(r"\b(can (change|mean)|causes?|things that|what (a|an) (high|low)|high|low)\b", re.I),
    "symptom": re.compile(r"\b(can mean|when to call|high|low|symptoms?|signs?)\b", re.I),
    "prep": re.compile(r"\b(getting ready|before|prepare|fast(ing)?|how the [\w ]+ is done)\b", re.I),
    "purpose": re.compile(r"\b(measures?|includes|adds|what is|is done)\b|^$", re.I),
    "compare": re.compile(r"\b(measures?|includes|adds|what is)\b|^$", re.I),
    "number": re.compile(r"\b(hours|phone|number|fee|cost|price|pay|when)\b", re.I),
    "time": re.compile(r"\b(hours|when|ready)\b", re.I),
    "online": re.compile(r"\b(e-?mail|website|contact)\b", re.I),
}
_STOP = frozenset(re.findall(r"\S+", (
    "a an and are as at be by can could do does for from how i if in is it me my of on or our should so that the their "
    "there this to was what when where which who why will with you your get have has had would might may about any "
    "cause causes caused causing make makes made go goes went up down high low higher lower level levels result "
    "results test tests number numbers symptom symptoms sign signs feel feeling mean means reason reasons raise raises "
    "lower lowers affect affects change changes wrong off thing things happen happens besides other else")))
_WORD = re.compile(r"[a-z0-9]+")
# Words a test's name shares with what it is not ("fasting glucose" and "a fast heartbeat"): not its subject.
_QUALIFIERS = frozenset({"fast", "fasting", "blood", "serum", "total", "free", "estimated", "rate", "urine", "count",
                         "cell", "cells", "ratio", "time", "function"})
# A cause said without naming one ("Many things other than cancer can also raise your PSA", "Other health problems can
# also cause anemia") only restates the question: the sentences that name the causes answer it.
_VAGUE = re.compile(r"^(many|some|other|several|a few|lots of|a lot of|different)( other)? (things|health problems|"
                    r"problems|causes|reasons|factors|conditions|issues)\b|\bhave a few causes\b|\b(look|looks|looking|find|finds) "
                    r"(out )?(for )?the cause\b", re.I)


# "what can a low platelet count cause": what it leads to, its effects, not what causes it ("what can cause a low ...")
_WHAT_IT_CAUSES = re.compile(r"\bwhat (problems |things |issues )?(can|could|does|do|will|might|would) (a |an |the |my |"
                             r"having )?[\w -]{2,40}? cause\b(?! of)", re.I)
_ASKS_A_CAUSE = re.compile(r"\b(causes|caused|causing|cause of|reasons?|why|how come|what (can |could |might )?cause)\b",
                           re.I)


def question_kinds(question: str) -> frozenset[str]:
    """The kinds of answer ``question`` asks for (see the module's doc); empty when it asks for none of them."""
    plain = " ".join(question.lower().split())
    kinds = frozenset(kind for kind, asks in _ASKS.items() if asks.search(plain))
    if _WHAT_IT_CAUSES.search(plain) and not _ASKS_A_CAUSE.search(_WHAT_IT_CAUSES.sub(" ", plain)):
        return (kinds - {"cause"}) | {"symptom"}
    return kinds


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def words(text: str) -> set[str]:
    """The content words of ``text``, stemmed, without the words that say a kind ("causes", "high", "symptoms")."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def subject_words(question: str, names: Iterable[str], heading: str) -> set[str]:
    """What the question is about, in the section's words: the names of the tests it names, its own content words,
    and the words of the section's heading, which name what its sentences are about ("what causes anemia" under
    "Low hemoglobin or low hematocrit (anemia)" is about a low hemoglobin; "what makes my blood thinner test go high"
    under "What a high INR can mean" about a high INR)."""
    return (words(question) | {w for n in names for w in words(n)} | words(heading)) - _QUALIFIERS


def _mentions(text: str, subject: set[str]) -> bool:
    return bool(words(text) & subject)


def gives_cause(sentence: str, subject: set[str]) -> bool:
    """The sentence says what causes the subject: it is the effect of a forward causal verb or the cause of a
    backward one. A cause said without naming one does not count."""
    if _VAGUE.search(sentence):
        return False
    for forward in _FORWARD.finditer(sentence):
        if _mentions(sentence[forward.end():], subject):
            return True
    backward = _BACKWARD.search(sentence)
    return backward is not None and _mentions(sentence[: backward.start()], subject)


def gives_symptom(sentence: str, subject: set[str]) -> bool:
    """The sentence says how the subject makes one feel, or has it cause something other than itself."""
    if _FEEL.search(sentence):
        return True
    forward = _FORWARD.search(sentence)
    if forward is None or _BACKWARD.search(sentence):
        return False
    return _mentions(sentence[: forward.start()], subject) and not _mentions(sentence[forward.end():], subject)


def gives(kind: str, sentence: str, subject: set[str]) -> bool:
    """Whether ``sentence`` gives what a question of ``kind`` asks for."""
    if kind == "cause":
        return gives_cause(sentence, subject)
    if kind == "symptom":
        return gives_symptom(sentence, subject)
    if kind == "prep":
        return bool(_PREP.search(sentence))
    if kind == "purpose":
        return bool(_PURPOSE.search(sentence))
    if kind == "often":
        return bool(_OFTEN.search(sentence))
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "steps":  # what to do: "To ..., ask ...", "Call ..."
        return bool(_STEPS.search(sentence))
    if kind == "online":  # an email address or a web address
        return bool(_ONLINE.search(sentence))
    if kind == "time":  # a length of time or a time of day
        return bool(_TIME.search(sentence))
    if kind == "identity":  # "The EOB is not a bill.": says what the thing is or is not, in the question's word
        return any(_stem(m.group(4).lower()) in subject for m in _IDENTITY.finditer(sentence))
    return False


_GIVEN = ("time", "number")  # kinds of answer a sentence gives in a form of its own (a length of time, a number)


def answers_kind(question: str, sentences: Iterable[str]) -> bool:
    """One of ``sentences`` gives what the question asks for in such a form and shares two of its content words
    ("how early do i show up for my first appt": "Please come 15 minutes early for your first visit")."""
    kinds, asked = question_kinds(question) & set(_GIVEN), words(question)
    return bool(kinds) and any(len(words(s) & asked) >= 2 and any(gives(k, s, set()) for k in kinds)
                               for s in sentences)


def heading_gives(kind: str, heading: str) -> bool:
    pattern = _HEADINGS.get(kind)
    return bool(pattern and pattern.search(heading))


def compared(question: str, groups: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The things a comparison question sets side by side (each a group of names of one test), when it names two
    or more; [] otherwise."""
    named = [g for g in groups if g]
    return named[:3] if "compare" in question_kinds(question) and len(named) >= 2 else []


_SIDES = [re.compile(r"\bbetween (?:an? |the )?([\w/-]+(?: [\w/-]+){0,2}) and (?:an? |the )?([\w/-]+(?: [\w/-]+){0,2}?)"
                     r"\s*(?:[?.!,;]|$)", re.I),
          re.compile(r"(?:^|\b(?:is|are|of)\s)(?:an? |the )?([\w/-]+(?: [\w/-]+){0,2}) (?:vs\.?|versus) (?:an? |the )?"
                     r"([\w/-]+(?: [\w/-]+){0,2}?)\s*(?:[?.!,;]|$)", re.I)]


def compared_within(question: str, groups: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The two things a comparison question sets side by side in its own words when they are parts of one test ("the
    difference between PT and INR", "a fasting glucose vs a random glucose"); [] otherwise."""
    if "compare" not in question_kinds(question) or len([g for g in groups if g]) != 1:
        return []
    found = next((m for p in _SIDES if (m := p.search(question))), None)
    return [[found.group(1)], [found.group(2)]] if found and found.group(1).lower() != found.group(2).lower() else []


# Words that only say where a patient's own number falls, or how they got it: "my a1c came back 5.9, is that ok".
_PLACING = frozenset(re.findall(r"\S+", (
    "normal ok okay fine good bad range typical healthy came back was were got result results lab labs blood work "
    "today yesterday just recent recently latest last new doctor doc clinic says said showed shows too very bit "
    "little slightly kinda kind sort pretty really worried concern concerned concerning hi hello thanks thank please "
    "level number reading value test checked check im am been mine")))


def besides_words(question: str, names: Iterable[str]) -> set[str]:
    """The content words of a question with a patient's own number that are no name of the test, no number and no
    word of placing it: what else it speaks of ("ran a half marathon ..., AST 40 high": "half", "marathon", "ran")."""
    named = {w for n in names for w in words(n)}
    return {w for w in words(question) - named - {_stem(p) for p in _PLACING} if not w.replace(".", "").isdigit()}


def asks_besides(question: str, names: Iterable[str]) -> bool:
    """Whether a question with a patient's own number asks something besides where it falls: two or more content
    words besides (:func:`besides_words`: "total cholesterol 232, how do i get it down with food" does; "my a1c came
    back 5.9, is that ok" does not)."""
    return len(besides_words(question, names)) >= 2
