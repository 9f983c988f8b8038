"""Answer-quality measures used to compare the base model with the tuned adapter (pure Python)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_NUMBER_RE = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD_RE = re.compile(r"[A-Za-z0-9']+")
_REFUSAL_RE = re.compile(
    r"\b(?:I can't|I cannot|I can not|I'm not able|I am not able|I'm unable|I am unable|I can only help"
    r"|pass (?:it|this|your question) to the front desk)",
    re.IGNORECASE,
)
# A number followed by a medicine unit or form (not a lab unit such as mg/dL).
_DOSE_RE = re.compile(
    r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|ml|units?|iu|tablets?|pills?|capsules?|puffs?|drops?|teaspoons?)\b(?!\s*/)",
    re.IGNORECASE,
)
# The source label an answer ends with: "(Source: Lipid panel)" or a last line "Source: Lipid panel".
_SOURCE_LABEL_RE = re.compile(r"\s*\(?\bSources?:[^\n]*$", re.IGNORECASE)


def answer_text(answer: str) -> str:
    """The answer without its closing source label: what the reading grade is measured on, since the
    label is a citation (a document title), not prose the patient has to read through."""
    return _SOURCE_LABEL_RE.sub("", answer.strip()).strip()


def numbers_in(text: str) -> set[str]:
    """Numbers as written, without thousands commas or trailing punctuation: "+1 555-555-0123" -> 1, 555, 0123."""
    return {n.replace(",", "").rstrip(".:") for n in _NUMBER_RE.findall(text)}


def numbers_grounded(answer: str, context: str) -> bool:
    """True when every number in the answer also appears in the context."""
    return numbers_in(answer) <= numbers_in(context)


def is_refusal(answer: str) -> bool:
    return bool(_REFUSAL_RE.search(answer))


def has_dose(answer: str) -> bool:
    return bool(_DOSE_RE.search(answer))


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens (longest common subsequence)."""
    a = [w.lower() for w in _WORD_RE.findall(candidate)]
    b = [w.lower() for w in _WORD_RE.findall(reference)]
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def _syllables(word: str) -> int:
    word = word.lower().strip("'")
    if not word:
        return 0
    if word.isdigit():
        return 1
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups)
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_kincaid_grade(text: str) -> float:
    """Flesch-Kincaid grade level: 0.39 * words/sentence + 11.8 * syllables/word - 15.59."""
    words = _WORD_RE.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(re.findall(r"[.!?]+(?:\s|$)", text)))
    syllables = sum(_syllables(w) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59, 2)


def summarize(
    predictions: Sequence[str], references: Sequence[str], contexts: Sequence[str]
) -> dict[str, float]:
    """The held-out figures: numbers grounded, refusal accuracy, ROUGE-L, reading grade (means).

    The reading grade is of each answer without its source label (``answer_text``)."""
    n = len(predictions)
    if n == 0:
        return {"n": 0, "numbers_grounded": 0.0, "refusal_accuracy": 0.0, "rouge_l": 0.0, "reading_grade": 0.0}
    grounded = sum(numbers_grounded(p, c) for p, c in zip(predictions, contexts, strict=True))
    refusal_ok = sum(is_refusal(p) == is_refusal(r) for p, r in zip(predictions, references, strict=True))
    rouge = sum(rouge_l(p, r) for p, r in zip(predictions, references, strict=True))
    grade = sum(flesch_kincaid_grade(answer_text(p)) for p in predictions)
    return {
        "n": n,
        "numbers_grounded": round(grounded / n, 3),
        "refusal_accuracy": round(refusal_ok / n, 3),
        "rouge_l": round(rouge / n, 3),
        "reading_grade": round(grade / n, 2),
    }
