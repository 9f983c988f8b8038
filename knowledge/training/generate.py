"""Generate the adapter's training examples from the knowledge documents.

Run: ``python -m knowledge.training.generate`` (writes ``train.jsonl`` and ``heldout.jsonl`` next to this file).

Every example is (question, chosen sentences) -> answer, in the prompt format the assistant uses
(``knowledge.prompt.build_messages``): the context is what the assistant gives the model at answer time, the
sentences knowledge/select.py chooses by meaning, within the SMS budget.
- grounded answers: the chosen sentences of the section the question was written for, word for word, so every
  number is in the context and every sentence passes the copy check by construction. A third of the examples also
  carry a sentence from a neighbouring section that the answer leaves out: the model learns to drop what does not
  answer, not only to copy;
- refusals: medicine doses, diagnosis, and questions the clinic's documents do not cover.
Questions come from templates over the section headings plus handwritten variations, some in lower case without
punctuation, the way patients type.

A fifth of the examples is held out, by whole section: every question about a held-out section is held out,
so the held-out set asks about text the adapter never trained on (a paraphrase of a training question would
flatter it). Sections, and refusals of each kind, are taken in the order of a hash of their key until a fifth
is reached, so the split does not depend on file order and changes little when a document is added.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from knowledge.guard import SENTENCE_END, fits_sms
from knowledge.prompt import build_messages
from knowledge.select import SentenceSelector
from knowledge.types import Passage

HERE = Path(__file__).resolve().parent
DOCUMENTS = HERE.parent / "documents"
HELDOUT_SHARE = 0.2
SMS_PARTS = 3  # the default sms.max_segments
_WORD_RE = re.compile(r"[a-z0-9]+")
_STOP = set(
    ["a", "an", "the", "is", "are", "was", "be", "to", "of", "and", "or", "in", "on", "at", "for", "with", "my", "your", "you", "i", "me", "do", "does", "can", "could", "what", "when", "how", "should", "would", "will", "it", "this", "that", "there", "about", "from", "by", "if", "get", "have", "has", "our", "we", "us", "tell", "know"]
)


@dataclass(frozen=True)
class Section:
    title: str
    heading: str
    text: str
    source: str
    kind: str


def parse_document(path: Path, root: Path) -> list[Section]:
    """Front matter + one section per ``## heading`` (the intro before the first one is skipped)."""
    raw = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    if raw.startswith("---"):
        _, front, raw = raw.split("---", 2)
        meta = yaml.safe_load(front) or {}
    title = str(meta.get("title") or path.stem)
    sections: list[Section] = []
    heading, lines = "", list[str]()
    for line in [*raw.splitlines(), "## "]:
        if line.startswith("## "):
            body = _plain(lines)
            if heading and body:
                rel = str(path.relative_to(root))
                sections.append(Section(title, heading, body, rel, str(meta.get("kind", ""))))
            heading, lines = line[3:].strip(), []
        elif not line.startswith("# "):
            lines.append(line)
    return sections


def _plain(lines: list[str]) -> str:
    """Markdown to plain sentences: tables become "cell: cell." rows, list items become sentences."""
    out: list[str] = []
    table_rows = 0
    in_item = False
    for raw in lines:
        line = raw.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            table_rows += 1
            if table_rows == 1 or set("".join(cells)) <= set("-: "):
                continue  # header and separator rows
            row = ": ".join(c for c in cells if c)
            out.append(row if row.endswith(".") else row + ".")
            continue
        table_rows = 0
        item = re.match(r"^(?:[-*]|\d+\.)\s+", line)
        if item or not line:
            _end_item(out, in_item)
            in_item = bool(item)
        line = line[item.end():] if item else line
        if line:
            out.append(line.replace("**", ""))
    _end_item(out, in_item)
    text = " ".join(out)
    return re.sub(r"\s+", " ", text).strip()


def _end_item(out: list[str], in_item: bool) -> None:
    """A list item (its wrapped lines included) is a sentence of its own: end it with a full stop."""
    if in_item and out and not out[-1].endswith((".", "!", "?", ":")):
        out[-1] += "."


def load_sections(root: Path = DOCUMENTS) -> list[Section]:
    return [s for path in sorted(root.glob("*/*.md")) for s in parse_document(path, root)]


# ---- questions ---------------------------------------------------------------------------------

_RULES: list[tuple[str, list[str]]] = [
    (r"^what (?:a |an )?(.+?) can mean(?: \((.+)\))?$", ["What does {0} mean?", "My result says {0}. What can that mean?"]),
    (r"^(?:typical )?(.+?) (?:ranges?|levels)$", ["What is the normal range for {0}?", "What are typical {0} numbers?"]),
    (r"^when to call the clinic about (?:your )?(.+)$", ["When should I call the clinic about my {0}?", "Should I call you about my {0}?"]),
    (r"^what (?:the )?(.+?) (?:test )?measures?$", ["What does the {0} measure?", "What is the {0} for?"]),
    (r"^how to (.+)$", ["How do I {0}?", "how can i {0}"]),
    (r"^things that can change (.+)$", ["What can change {0}?", "Can anything throw off {0}?"]),
]

_HANDWRITTEN: dict[str, list[str]] = {
    "how long a refill takes": ["How long does a refill take?", "when will my refill be ready"],
    "office hours": ["What are your hours?", "Are you open late on Wednesday?"],
    "our phone number": ["What is your phone number?", "What number do I call to book?"],
    "late cancellation and no-show fee": ["Is there a fee if I miss my appointment?", "Do you charge for late cancellations?"],
    "running late": ["I'm running late, what should I do?", "What if I am late to my visit?"],
    "parking at the clinic": ["Where do I park?", "Is parking free?"],
    "getting here by bus": ["Can I take the bus to the clinic?", "Is there a bus stop near you?"],
    "payment plans": ["Can I pay my bill over time?", "Do you have payment plans?"],
    "fasting before a lab test": ["Do I need to fast before my blood test?", "Can I eat before my lab work?"],
    "when lab results are ready": ["When will my lab results be ready?", "How long do lab results take?"],
    "controlled substances": ["Can I refill my ADHD medicine by text?", "How do I get a refill of a controlled medicine?"],
    "urgent care": ["Where can I go for urgent care?", "Is there an urgent care you recommend?"],
    "after-hours nurse line": ["Who do I call at night?", "Is there a nurse I can call after hours?"],
    "forgot your portal password or cannot log in": ["I forgot my portal password", "I can't log in to the portal"],
    "what to bring to your first visit": ["What should I bring to my first visit?", "What do new patients need to bring?"],
    "insurance plans accepted at maple street family medicine": ["Do you take my insurance?", "Which insurance plans do you accept?"],
    "weekend and holiday hours": ["Are you open on Saturday?", "Are you open on holidays?"],
    "poison help": ["What do I do if my child swallowed something?", "What is the poison control number?"],
}


def questions_for(section: Section) -> list[str]:
    heading = section.heading.strip().rstrip("?")
    low = heading.lower()
    found = list(_HANDWRITTEN.get(low, []))
    for pattern, templates in _RULES:
        match = re.match(pattern, low)
        if match:
            subject = match.group(1).replace("your ", "my ")
            found += [t.format(subject) for t in templates]
            break
    if section.heading.endswith("?"):
        found.append(section.heading)
    found += [f"What can you tell me about {low.replace('your ', 'my ')}?", f"{heading}: can you explain?"]
    unique: list[str] = []
    for q in found:
        q = q[0].upper() + q[1:]
        if q.lower() not in {u.lower() for u in unique}:
            unique.append(q)
    typed = re.sub(r"[?.!]+$", "", unique[0].lower()).replace("what is", "whats").replace("i am", "im")
    return [*unique[:3], *([typed] if typed not in {u.lower() for u in unique[:3]} else [])]


# ---- answers -----------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if w not in _STOP}


def answer_sentences(section: Section) -> list[str]:
    """The section's sentences of five words or more that are not questions (what the reading-level check grades)."""
    return [
        s.strip() for s in SENTENCE_END.split(section.text) if len(s.split()) >= 5 and not s.strip().endswith("?")
    ] or [section.text]


def _fits(body: str) -> bool:
    """The SMS budget of an answer, with room for the longest source line."""
    return fits_sms(f"{body}\nSource: {'x' * 70}", SMS_PARTS)


DOSE_QUESTIONS = [
    "How many mg of ibuprofen can I take?", "Can I take two of my blood pressure pills today?",
    "Should I double my metformin if my sugar is high?", "How much Tylenol can I give my 5 year old?",
    "What dose of vitamin D should I take?", "Can I take more of my thyroid pill?",
    "How many iron tablets should I take a day?", "I missed a dose, should I take two now?",
    "Is 40 mg of my statin too much?", "How much B12 should I take for a low level?",
    "Can I stop my blood thinner before my INR test?", "What is the max amount of aspirin per day?",
    "How many units of insulin do I take if my sugar is 250?", "Should I cut my potassium pill in half?",
    "How often can I take my inhaler?", "Can I take my sleeping pill with alcohol?",
    "what dose of levothyroxine is right for me", "Can I take extra calcium pills?",
    "how much warfarin should i take tonight", "Can I give my baby allergy medicine?",
    "Is it ok to take 3 advil at once?", "how many mg of prednisone should I take",
    "Can I change when I take my cholesterol medicine?", "What's the right dose of fish oil?",
    "Should I take my water pill twice today?",
]
DIAGNOSIS_QUESTIONS = [
    "My glucose was 130, do I have diabetes?", "Do I have anemia?", "Is my TSH of 6 bad? Do I have thyroid disease?",
    "My PSA is 5, do I have cancer?", "Do I have kidney disease?", "What's wrong with me? I feel tired all the time.",
    "My ALT is high, is my liver failing?", "Do I have a UTI?", "Is my cholesterol going to give me a heart attack?",
    "I have a rash on my arm, what is it?", "Can you tell me if my results mean I'm sick?",
    "My A1c is 6.1, am I diabetic?", "Do I have low vitamin D?", "Is my potassium dangerous?",
    "Does my INR mean I will bleed?", "I get headaches every day, what do I have?",
    "Is my calcium level a sign of cancer?", "Do I have an infection?", "Am I pregnant?",
    "My ferritin is 10, what disease do I have?", "What is causing my back pain?",
    "Is this mole skin cancer?", "Do my urine results mean kidney stones?", "Am I having a thyroid problem?",
    "Tell me what my blood test says I have",
]
OUT_OF_SCOPE = [
    "What's the weather tomorrow?", "Who won the game last night?", "Write me a poem about cats.",
    "What stocks should I buy?", "Can you help with my math homework?", "What is a good pizza place near you?",
    "Tell me a joke", "How do I fix my car's brakes?", "What's the capital of France?",
    "Can you book me a flight?", "What movie should I watch tonight?", "How do I bake bread?",
    "Do you sell gift cards?", "Can you recommend a lawyer?", "Is the post office open today?",
    "What is the meaning of life?", "Translate this to Spanish for me", "Can you order me food?",
    "What's your favorite color?", "Do you know a good dentist?", "Can you lend me money?",
    "What time is the football game?",
]
_DOSE_ANSWERS = [
    "I can't give medicine doses or tell you to change how you take a medicine. Please ask your pharmacist or call the clinic, and the care team will help.",
    "I'm sorry, I can't answer questions about how much medicine to take. Your pharmacist or the care team at the clinic can help you with that.",
]
_DIAGNOSIS_ANSWERS = [
    "I can't diagnose or tell you what a result means for you. Your clinician will review it with you, so please call the clinic and the care team will help.",
    "I'm not able to diagnose health problems. Please call the clinic or book a visit, and the care team will help. If this is an emergency, get emergency care now.",
]
_SCOPE_ANSWERS = [
    "I can only help with questions about {clinic}. I will pass your question to the front desk.",
    "Sorry, I can't help with that here. I can answer questions about {clinic}, or pass your question to the front desk.",
]


def _pick(options: list[str], key: str) -> str:
    return options[int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % len(options)]


def split_key(example: dict[str, Any]) -> str:
    """What is held out together: a grounded example's section ("source#heading"), or a refusal itself."""
    eid = str(example["id"])
    return eid.rsplit("#", 1)[0] if example["kind"] == "grounded" else eid


def heldout_keys(examples: list[dict[str, Any]], share: float = HELDOUT_SHARE) -> set[str]:
    """Split keys to hold out: within each kind, keys in hash order until ``share`` of its examples is reached."""
    chosen: set[str] = set()
    for kind in sorted({e["kind"] for e in examples}):
        sizes: dict[str, int] = {}
        for e in (e for e in examples if e["kind"] == kind):
            sizes[split_key(e)] = sizes.get(split_key(e), 0) + 1
        target, taken = round(share * sum(sizes.values())), 0
        for key in sorted(sizes, key=lambda k: hashlib.sha1(k.encode()).hexdigest()):
            if taken >= target:
                break
            chosen.add(key)
            taken += sizes[key]
    return chosen


def _passage(s: Section) -> Passage:
    return Passage(title=s.title, heading=s.heading, text=s.text, source=s.source, score=0.0)


def _nearest(question: str, sections: list[Section], exclude: str, n: int) -> list[Section]:
    wanted = _words(question)
    ranked = sorted(
        (s for s in sections if s.source != exclude),
        key=lambda s: (-len(wanted & _words(s.heading + " " + s.text)), s.source, s.heading),
    )
    return ranked[:n]


def _record(eid: str, kind: str, question: str, passages: list[Passage], answer: str, clinic: str) -> dict[str, Any]:
    messages = [*build_messages(question, passages, clinic), {"role": "assistant", "content": answer}]
    return {
        "id": eid,
        "kind": kind,
        "question": question,
        "passages": [{"title": p.title, "heading": p.heading, "text": p.text, "source": p.source} for p in passages],
        "answer": answer,
        "messages": messages,
    }


def build_examples(sections: list[Section], clinic: str, selector: SentenceSelector | None = None
                   ) -> list[dict[str, Any]]:
    """Every example; ``selector`` chooses the sentences (all-MiniLM-L6-v2 unless one is given)."""
    if selector is None:
        from knowledge.embeddings import MiniLMEmbedder

        selector = SentenceSelector(MiniLMEmbedder())
    selector.prime([_passage(s) for s in sections])
    examples: list[dict[str, Any]] = []
    for s in sections:
        for n, question in enumerate(questions_for(s)):
            eid = f"{s.source}#{s.heading}#{n}"
            chosen = selector.select(question, [_passage(s)], _fits)
            if not chosen.sentences:
                continue
            context = chosen.passages
            neighbour = _nearest(question, sections, s.source, 1)
            if neighbour and int(hashlib.sha1(eid.encode()).hexdigest()[:8], 16) % 3 == 0:
                extra = selector.score(question, [_passage(neighbour[0])])[:1]
                if extra and _fits(f"{chosen.text} {extra[0].text}"):
                    context = [*context, replace(extra[0].passage, text=extra[0].text)]
                    random.Random(eid).shuffle(context)
            examples.append(_record(eid, "grounded", question, context, chosen.text, clinic))
    refusals = [("dose", q, _DOSE_ANSWERS) for q in DOSE_QUESTIONS]
    refusals += [("diagnosis", q, _DIAGNOSIS_ANSWERS) for q in DIAGNOSIS_QUESTIONS]
    refusals += [("out_of_scope", q, _SCOPE_ANSWERS) for q in OUT_OF_SCOPE]
    for kind, question, answers in refusals:
        eid = f"refusal:{kind}:{question}"
        seen = selector.select(question, [_passage(p) for p in _nearest(question, sections, "", 2)], _fits)
        answer = _pick(answers, eid).format(clinic=clinic)
        examples.append(_record(eid, f"refusal_{kind}", question, seen.passages, answer, clinic))
    return examples


def write(examples: list[dict[str, Any]], out_dir: Path = HERE) -> tuple[int, int]:
    held = heldout_keys(examples)
    train = [e for e in examples if split_key(e) not in held]
    heldout = [e for e in examples if split_key(e) in held]
    for name, rows in (("train.jsonl", train), ("heldout.jsonl", heldout)):
        with (out_dir / name).open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(train), len(heldout)


def main() -> int:
    clinic = "Maple Street Family Medicine"
    try:
        from bot.settings import get_settings

        clinic = get_settings().clinic.name
    except Exception:  # no config: keep the demo clinic's name
        pass
    sections = load_sections()
    n_train, n_heldout = write(build_examples(sections, clinic))
    print(f"{len(sections)} sections -> {n_train} training and {n_heldout} held-out examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
