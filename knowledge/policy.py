"""The policy check before retrieval: questions the assistant refuses and hands to a person, in any wording.

Two layers. The rules in knowledge/guard.py are the floor: a question they catch is refused, whatever the model
says. Above them a small classifier (logistic regression) on the question's sentence embedding (the same
all-MiniLM-L6-v2 model that retrieval uses) beside its word and character n-grams (how the question is put, misspelt or not)
learns the policy from examples: which medicine or antibiotic to take,
whether to start, stop or change one, a dose, what a symptom or a value means for the patient's own diagnosis, or
something outside the clinic's business. "my a1c is 6.1, what does that mean" is answered (the documents' band);
"my a1c is 6.1, do I have diabetes" is refused.

The examples: knowledge/training/policy.jsonl (written for this, never taken from a blind set), the studied sets'
questions in patients' voices, each labelled by its author (knowledge/training/policy_studied.jsonl, written by
scripts/policy_studied.py: without them the classifier had learned the voice as well as the policy, and refused
"will yall be open christmas day"), the refusals of the adapter's training set, and the adapter's grounded training
questions as questions to answer. The classifier is fitted once per process, on first use or at warm-up (about 4,500
short texts). Its recall and false refusals are measured by ``scripts/bench_policy.py`` on the sets never trained
on: tests/data/policy_check.jsonl, policy_dev6.jsonl and policy_dev7.jsonl, and the answer benchmark's project set.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from knowledge.embeddings import Embedder, embed_cached, fitted_cached
from knowledge.guard import PolicyKind, asks_price_or_unit, names_condition, names_medicine, policy_hit
from knowledge.sentences import asking_sentences, message_sentences

log = logging.getLogger(__name__)

POLICY_EXAMPLES = Path(__file__).resolve().parent / "training" / "policy.jsonl"
# The studied sets' questions, in patients' voices, each labelled by its author (scripts/policy_studied.py writes it)
STUDIED_EXAMPLES = Path(__file__).resolve().parent / "training" / "policy_studied.jsonl"
# Refused unless the classifier finds an ordinary question more than 1 - REFUSE_AT[kind] likely, the kind being the
# likeliest refusal. With the studied sets' questions among the examples (STUDIED_EXAMPLES), on the sets never trained
# on (policy_check, policy_dev6, policy_dev7, the project's questions and answers_dev19-21: 245 to refuse, 498 to
# answer), at even odds for every kind it let through 17 to refuse, policy_check's "my b12 is 150, does that explain
# the numbness" among them, and refused 10 to answer; at 0.3 for every kind, 11 and 19, but "do u take aetna" and "what
# should my hdl be" were dose refusals. So a diagnosis is refused at 0.3 and the rest at even odds: 14 and 18. Dose
# and medicine at 0.7 would answer "my total cholesterol is 245 and i smoke, would quitting help" (medicine 0.48, ok
# 0.38), but also "my 4 yr old has a runny nose wat can i give". Without those examples, at even odds: 27 and 28.
EVEN_ODDS = 0.5
REFUSE_AT = {"diagnosis": 0.3, "dose": EVEN_ODDS, "medicine": EVEN_ODDS, "out_of_scope": EVEN_ODDS}
FIT_C = 16.0  # the logistic regression's inverse regularisation
NGRAM_WEIGHT = 0.5  # how much the word and character n-grams weigh beside the embedding (each has unit length)
Label = Literal["ok", "dose", "medicine", "diagnosis", "out_of_scope"]
Layer = Literal["rule", "model", ""]
# The classifier says "out of scope" only of a question it can read: at least this share of its words are the
# examples' (all English). A message in Spanish is a patient's question in another language, not one off the subject.
KNOWN_FOR_SCOPE = 0.5
# A message that tells a story and then asks in general ("what is sign of low calcium in blood? my mother have cramps
# in legs and tingle around lips") is read by the classifier as the story: the symptoms weigh towards a diagnosis. When
# every sentence that asks (ends in "?") names no one, points back at nothing and gives no number, the classifier's
# diagnosis refusal holds only if it refuses those sentences alone too. "TSH 6.1 what is it mean?" (a number), "is it
# dangerous?" (points back) and a message without a question mark keep the whole message's reading.
_PERSONAL = re.compile(r"\b(i|i'?m|im|me|my|mine|we|us|our|you|your|he|she|him|his|her|they|them|their|it|its|this|that|"
                       r"these|those|there)\b|\d", re.I)

# How common something is in a group of people ("is low vitamin D more common in people who dont get much sun", "is
# anemia more common in women") asks about the group: the classifier read the condition's name as a diagnosis. Given
# up only for a diagnosis, and only when the message names no one and gives no number (_PERSONAL).
_HOW_COMMON = re.compile(r"\b((more|less|most|least) (common|likely|frequent|prevalent)|(common|frequent|prevalent|"
                         r"rare)) (in|among) (the )?(people|persons|adults|women|men|children|kids|babies|infants|teens|"
                         r"teenagers|older|elderly|seniors|vegans|vegetarians|athletes|smokers|pregnant)\b", re.I)


# What a medicine does to a test or a value, asked as a fact ("could the metformin be why", "can antibiotics throw off
# an INR test", "can certain blood pressure medicines raise potassium?"): the classifier reads the medicine's name as a
# medicine decision. Given up for a dose or medicine refusal when the sentence that asks names a cause or an
# interference, or (naming no one and nothing of the patient's) a rise or a fall, and asks nothing of anyone: no
# "should", "ok to", "help", "best", "which", no "can I take/stop/start...". "my a1c is 7, would metformin lower it"
# asks a treatment and stays refused.
# the words that open a question about an effect, shared by the two patterns below
_ASKS_EFFECT = r"\b(can|could|does|do|will|would|might|may|is it true|is it possible)\b[^.?!]*"
_CAUSE = re.compile(_ASKS_EFFECT + r"\b(affect|affects|alter|alters|"
                    r"throw off|throws off|"
                    r"mess (up|with)|messes (up|with)|interfere|interferes|skew|skews|be (why|the reason|behind|causing))\b",
                    re.I)
_RISE_OR_FALL = re.compile(_ASKS_EFFECT + r"\b(raise|raises|raising|lower|"
                           r"lowers|lowering|change|changes|go (up|down)|goes (up|down))\b", re.I)
_DECISION = re.compile(r"\b(should|ought|ok to|okay to|safe to|alright to|all right to|need to|needs to|have to|has to|"
                       r"better to|worth|help|helps|best|which|recommend\w*|instead|try|trying|want to|wanna|switch\w*)\b|"
                       r"\b(can|could|may|do|shall|would it be) (i|we|he|she|they|you|my \w+)\b[^.?!]{0,20}\b(take|start|"
                       r"stop|skip|switch|hold|restart|quit|try|use|give|have|go off|go on|cut|double|change)\b", re.I)


# a last sentence that asks without its question mark ("... tingling in my fingers. what can cause low calcium")
_OPENS_A_QUESTION = re.compile(r"^(what|whats|what's|why|how|when|where|which|who|can|could|does|do|is|are)\b", re.I)
# Coming in, late or not, with no medicine in the message ("gonna be like 25 min late for my 2 oclock. still ok to
# come?"): the classifier read "ok to" as a medicine decision (0.37, even with ok). Given up for a dose or medicine
# refusal only.
_VISIT = re.compile(r"\b(late|appt|appts|appointment|appointments|visit|visits|come in|to come|get there|arrive|"
                    r"check in|reschedule)\b", re.I)
_TAKING = re.compile(r"\b(take|takes|taking|took|dose|doses|dosing|pill|pills|tablet|tablets|capsules?|shot|shots)\b",
                     re.I)


# Getting a refill ("whats the fastest way to get my bp med refilled, im down to like 6 pills"): how, when and how
# fast are the refill page's; nothing is asked about taking, stopping or changing the medicine.
_REFILL = re.compile(r"\b(refill|refills|refilled|refilling)\b", re.I)
_TAKING_OR_CHANGING = re.compile(r"\b(take|takes|taking|took|stop|stopped|start|switch|skip|double|dose|doses|dosage|"
                                 r"how much|instead|change|increase|decrease|more|less|higher|lower|stronger)\b", re.I)


def asks_about_a_visit(question: str) -> bool:
    """The message is about coming to a visit and names no medicine and nothing taken, or about getting a refill and
    asks nothing about taking or changing the medicine."""
    if _REFILL.search(question) and not _TAKING_OR_CHANGING.search(question):
        return True
    return bool(_VISIT.search(question)) and not names_medicine(question) and not _TAKING.search(question)


def asks_an_effect(question: str) -> bool:
    """The message asks what something does to a test or a value, as a fact, and asks no one to do anything."""
    asked = asking_sentences(question)
    if not asked or any(_DECISION.search(a) for a in asked):
        return False
    last = asked[-1]
    return bool(_CAUSE.search(last)) or (bool(_RISE_OR_FALL.search(last)) and not _PERSONAL.search(last))


# Whether to get in touch ("on warfarin and my gums bleed a little when i brush. should i call yall"): the documents
# say when to call, and no one is asked to take, stop or change anything. The classifier read the medicine beside
# "should i" as a medicine decision; its dose or medicine refusal is given up when the sentence that asks is this.
_CONTACT = re.compile(r"\b((should|do|can|could|shall|must) (i|we|he|she|my \w+) (just )?(call|text|message|phone|ring|"
                      r"contact|reach out to|let)\b|who (do|should|can|could) (i|we) (call|text|contact|talk to))"
                      r"(?![^.?!]*\b(take|stop|start|skip|double|change|switch)\b)", re.I)
# What something does to a test's result ("i have anemia. can that throw off my a1c?"): how far a result can be
# trusted, as a fact. The classifier read the condition in the story as a diagnosis; its diagnosis refusal is given up
# when the sentence that asks is about interference with a result and names no condition or organ itself, asks
# nothing of anyone, and asks no "why" of the patient's value: "could my liver be why" and "can that affect my
# kidneys" are never given up here.
_ASKS_IF = r"(?:can|could|does|do|will|would|might|may|is it true)"  # how the sentence that asks it opens
_INTERFERES = re.compile(rf"\b{_ASKS_IF}\b[^.?!]*\b(affect|affects|throw off|"
                         r"throws off|mess (up|with)|messes (up|with)|interfere( with)?|interferes( with)?|skew|skews|"
                         r"change|changes)\b( (the|my|his|her|an?|their) \w+)?( (test|result|results|reading|number)s?)?"
                         r"\W*$", re.I)
# A comma before the clause that asks ("i have sickle trait and anemia, could that throw off my a1c result"): what comes
# before it is the story, as in "i have anemia. can that throw off my a1c?"
_ASKING_CLAUSE = re.compile(rf",\s*(?={_ASKS_IF}\b)", re.I)


# a story of too much medicine taken keeps its refusal (and triage's overdose rule): "i took an extra pill, should i call"
_TOOK_TOO_MUCH = re.compile(r"\b(too (many|much)|extra|double\w*|overdos\w*|wrong (pill|medicine|dose|one)|by mistake|"
                            r"twice|accident\w*)\b", re.I)


def asks_about_contact(question: str) -> bool:
    """The message's last asking sentence asks whether, or whom, to call or message, after no story of too much
    medicine taken."""
    asked = asking_sentences(question)
    return bool(asked) and bool(_CONTACT.search(asked[-1])) and not _TOOK_TOO_MUCH.search(question)


# Where to be seen while the office is closed, or whether it is open ("hola, ustedes open el sabado? mi hijo is sick",
# "yall closed, urgent care ok for that?"): the office hours and after-hours pages answer it. The classifier read the
# symptom in the story as a diagnosis; its refusal (of any kind) is given up when every sentence that asks is about
# where or when to be seen and the message names no medicine and no story of too much taken. Red flags are triage's,
# answered before any of this.
_WHERE_TO_BE_SEEN = re.compile(r"\b(where (do|should|can|could|would) (i|we) (go|take (him|her|them|my \w+))|where to go|"
                               r"urgent care|walk[- ]in|(are|r) (you|u|y'?all|you guys|ustedes) open|(ustedes|yall) open|"
                               r"(you'?re|youre|ur|u r|y'?all|yall|you are|you guys are) closed)\b", re.I)


def asks_where_to_be_seen(question: str) -> bool:
    """Every sentence of the message that asks with a question mark (else its last asking sentence) asks where to be
    seen or whether the office is open, with no medicine named and no story of too much taken."""
    asked = asking_sentences(question) or message_sentences(question)[-1:]
    marked = [a for a in asked if a.rstrip().endswith("?")] or asked[-1:]
    return bool(marked) and all(_WHERE_TO_BE_SEEN.search(a) for a in marked) and not names_medicine(question) and not (
        _TOOK_TOO_MUCH.search(question))


def asks_interference(question: str) -> bool:
    """The message's last asking sentence asks whether something throws off a result, naming no condition."""
    asked = asking_sentences(question)
    if not asked or any(_DECISION.search(a) for a in asked):
        return False
    last = _ASKING_CLAUSE.split(asked[-1])[-1]  # "i have anemia, could that throw off my a1c": the asking clause
    return bool(_INTERFERES.search(last)) and not names_condition(last)


def asks_how_common(question: str) -> bool:
    """The message asks how common something is in a group of people, and names no one."""
    return bool(_HOW_COMMON.search(question)) and not _PERSONAL.search(question)


def policy_examples(path: Path = POLICY_EXAMPLES, studied: Path | None = STUDIED_EXAMPLES) -> list[tuple[str, str]]:
    """(text, label) pairs: the handwritten policy examples, the studied sets' questions (``studied``, where given
    and there), then the adapter's training questions."""
    rows = [json.loads(line) for p in (path, studied) if p is not None and p.is_file()
            for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [(str(r["text"]), str(r["label"])) for r in rows]
    try:
        from knowledge.training import generate

        for kind, questions in (("dose", generate.DOSE_QUESTIONS), ("diagnosis", generate.DIAGNOSIS_QUESTIONS),
                                ("out_of_scope", generate.OUT_OF_SCOPE)):
            pairs += [(q, kind) for q in questions]
        pairs += [(q, "ok") for s in generate.load_sections() for q in generate.questions_for(s)]
        pairs += value_questions(generate.DOCUMENTS)
    except Exception:  # the documents folder moved: the handwritten examples still make a classifier
        log.warning("knowledge.policy.no_training_questions")
    return list(dict.fromkeys(pairs))


_ASK_VALUE = ["my {name} is {value}", "{name} {value} is that bad", "is my {name} too {direction}",
              "my {name} came back {value}, what does that mean", "{name} of {value}, is that {direction}"]
_ASK_DIAGNOSIS = ["my {name} is {value}, do i have a disease", "{name} {value}, is something wrong with me",
                  "does my {name} of {value} mean i am sick"]


def value_questions(documents_dir: Path) -> list[tuple[str, str]]:
    """Questions about a patient's own value, for every test the documents give a range: answered (the band) when
    they ask where it falls, refused when they ask what it means for their health."""
    from knowledge.documents import load_documents
    from knowledge.ranges import ranges_from

    documents = load_documents(documents_dir)
    pairs: list[tuple[str, str]] = []
    for n, (code, test) in enumerate(sorted(ranges_from(documents).items())):
        names = next((d.names[code] for d in documents if code in d.names), [code])
        bound = next((b for band in test.bands for b in (band.high, band.low) if b), 1.0)
        value, direction = f"{bound * 1.2:g}", ("high", "low")[n % 2]
        for k, template in enumerate(_ASK_VALUE):
            pairs.append((template.format(name=names[k % len(names)].lower(), value=value, direction=direction), "ok"))
        template = _ASK_DIAGNOSIS[n % len(_ASK_DIAGNOSIS)]
        pairs.append((template.format(name=names[0].lower(), value=value), "diagnosis"))
    return pairs


def refused(policy: PolicyCheck, written: str, heard: str, places_only: Callable[[str], bool],
            about_a_page: Callable[[str], bool]) -> PolicyKind | None:
    """What the answers refuse: the policy what was written trips, else what was meant (knowledge/spoken.py). A
    diagnosis or dose the classifier reads in a patient's number asked only where it falls is the band ("egfr 55, am I
    ok", "tsh 7 ok?"), unless a medicine is named ("potassium 5.2, ok to keep my pills?"). A question out of scope by a
    rule's word or by the classifier is in scope when a page is about it: "my boy needs a physical for football, do
    you take new patients his age", "twisted his ankle at soccer, urgent care or ER?" (the pages say what the clinic's
    business is; the safety refusals are never given up this way)."""
    kind, layer = policy.decide(written)
    if kind is None and heard != written:
        kind, layer = policy.decide(heard)
    if kind in ("diagnosis", "dose") and layer == "model" and places_only(heard) and (
            kind == "diagnosis" or not names_medicine(heard)):
        return None
    return None if kind == "out_of_scope" and about_a_page(heard) else kind


class PolicyCheck:
    """Rules first, then the learned check; ``kind(question, vector)`` is the policy a question trips, or None."""

    def __init__(self, embedder: Embedder | None, examples: Sequence[tuple[str, str]] | None = None,
                 refuse_at: Mapping[str, float] | None = None) -> None:
        self.embedder = embedder
        self._examples = examples
        self.refuse_at = dict(REFUSE_AT if refuse_at is None else refuse_at)  # per kind (see REFUSE_AT)
        self._model: Any = None
        self._grams: list[Any] = []
        self._labels: list[str] = []
        self._lock = threading.Lock()

    def fit(self) -> None:
        """Fit the classifier now (``warm_up`` calls this, so the first patient does not wait)."""
        if self.embedder is None:
            return
        with self._lock:
            if self._model is not None:
                return
            import sklearn

            examples = list(self._examples or policy_examples())
            key = "\n".join([self.embedder.name, sklearn.__version__, f"C={FIT_C} ngrams={NGRAM_WEIGHT}",
                             *(f"{text}\t{label}" for text, label in examples)])
            embedder = self.embedder
            self._grams, model = fitted_cached("policy", key, lambda: self._fit(embedder, examples))
            self._labels = [str(c) for c in model.classes_]
            self._model = model

    def _fit(self, embedder: Embedder, examples: Sequence[tuple[str, str]]) -> tuple[list[Any], Any]:
        """The n-gram vocabularies and the logistic regression, fitted on the examples (7 to 11 s on 2 cores)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = [text for text, _ in examples]
        lowered = [t.lower() for t in texts]
        self._grams = [TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True),
                       TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)]
        for grams in self._grams:
            grams.fit(lowered)
        model = LogisticRegression(C=FIT_C, max_iter=5000)
        model.fit(self._features(texts, embed_cached(embedder, texts)), [label for _, label in examples])
        return self._grams, model

    def _features(self, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> Any:
        """The sentence embedding (what the question means) beside its word and character n-grams (how it is put:
        "do i have", "should i", "my ... is", and misspellings of them), one sparse row per text."""
        from scipy.sparse import csr_matrix, hstack

        lowered = [t.lower() for t in texts]
        grams = [NGRAM_WEIGHT * g.transform(lowered) for g in self._grams]
        return hstack([csr_matrix([list(v) for v in vectors]), *grams]).tocsr()

    def knows_a_word(self, question: str) -> bool:
        """Whether the question has a word the examples use: with none ("blorp"), the classifier has nothing to go
        on and must not refuse (the retrieval finds nothing and the front desk gets it)."""
        self.fit()
        return bool(self._grams) and self._grams[1].transform([question.lower()]).nnz > 0

    def probabilities(self, question: str, vector: Sequence[float]) -> dict[str, float]:
        self.fit()
        if self._model is None:
            return {}
        row = self._model.predict_proba(self._features([question], [vector]))[0]
        return dict(zip(self._labels, (float(p) for p in row), strict=True))

    def likeliest_refusal(self, question: str) -> str:
        """The refusal the classifier finds likeliest for ``question``, whatever its odds beside "ok"."""
        assert self.embedder is not None
        probabilities = self.probabilities(question, self.embedder.embed([question])[0])
        return max((k for k in probabilities if k != "ok"), key=lambda k: probabilities[k], default="diagnosis")

    def kind(self, question: str, vector: Sequence[float] | None = None) -> PolicyKind | None:
        return self.decide(question, vector)[0]

    def decide(self, question: str, vector: Sequence[float] | None = None) -> tuple[PolicyKind | None, Layer]:
        """The policy a question trips (or None) and the layer that decided: "rule" (the floor, never overruled),
        "model" (the classifier) or "" when neither refuses."""
        floor = policy_hit(question)
        if floor is not None:
            return floor, "rule"
        if self.embedder is None:
            return None, ""
        if vector is None:
            vector = self.embedder.embed([question])[0]
        probabilities = self.probabilities(question, vector)
        if not probabilities:
            return None, ""
        label = max((k for k in probabilities if k != "ok"), key=lambda k: probabilities[k])
        if probabilities.get("ok", 1.0) > 1 - self.refuse_at.get(label, EVEN_ODDS) or not self.knows_a_word(question):
            return None, ""
        if label == "diagnosis" and (asks_how_common(question) or self._asks_in_general(question)):
            return None, ""
        if label in ("dose", "medicine") and (asks_price_or_unit(question) or asks_an_effect(question)
                                              or asks_about_contact(question) or asks_about_a_visit(question)):
            return None, ""  # a price or a unit; a medicine's effect asked as a fact; whether to call; a visit, a refill
        if asks_where_to_be_seen(question):
            return None, ""  # where to go while the office is closed, or whether it is open
        if label == "diagnosis" and asks_interference(question):
            return None, ""  # what throws a result off is a fact about the test
        if label == "out_of_scope" and self.known_share(question) < KNOWN_FOR_SCOPE:  # another language, not off topic
            others = [k for k in probabilities if k not in ("ok", "out_of_scope")]
            if sum(probabilities[k] for k in others) < probabilities.get("ok", 0.0):
                return None, ""  # a dose, medicine or diagnosis refusal is never given up: only this one
            label = max(others, key=lambda k: probabilities[k])
        return ("dose" if label == "medicine" else label), "model"  # type: ignore[return-value]

    def _asks_in_general(self, question: str) -> bool:
        """The message's questions ask in general (no person, no "it" or "that", no number) and the classifier,
        reading them without the story around them, does not refuse them."""
        asked = asking_sentences(question, last=False) or [s for s in message_sentences(question)[-1:]
                                                           if _OPENS_A_QUESTION.match(s)]
        if not asked or " ".join(asked) == " ".join(question.split()) or any(_PERSONAL.search(a) for a in asked):
            return False
        assert self.embedder is not None
        text = " ".join(asked)
        return self.probabilities(text, self.embedder.embed([text])[0]).get("ok", 0.0) > 1 - self.refuse_at["diagnosis"]

    def known_share(self, question: str) -> float:
        """The share of the question's words that the examples use ("voy a llegar como 20 minutos tarde": few)."""
        self.fit()
        if not self._grams:
            return 1.0
        said = self._grams[1].build_tokenizer()(question.lower())
        known = self._grams[1].vocabulary_
        return sum(w in known for w in said) / len(said) if said else 1.0
