"""Copy-constrained decoding (bot/llm/copying.py): the model can only write what the answer check would send."""

from __future__ import annotations

import torch

from bot.llm.copying import CopyProcessor, CopyRule
from knowledge.sentences import copied_from
from knowledge.types import Passage

INR = Passage("PT/INR", "What the numbers mean", "People taking warfarin, a blood thinner, usually aim for an INR of 2.0 "
              "to 3.0. A high INR is not always a concern. The lab is open 8 a.m. to 5 p.m. Monday to Friday.",
              "labs/inr.md", 0.9)
SOURCES = ["People taking warfarin, a blood thinner, usually aim for an INR of 2.0 to 3.0.",
           "A high INR is not always a concern.", "The lab is open 8 a.m. to 5 p.m. Monday to Friday."]


def test_a_draft_stays_on_the_path_to_a_copy_and_may_leave_words_out() -> None:
    rule = CopyRule(SOURCES)
    assert rule.allows("People taking warfarin, a blood thin")  # "thin" may still become "thinner"
    assert not rule.allows("People taking warfarin, a blood thin and")  # "thin" ended: a changed word
    assert rule.allows("People taking warfarin usually aim for an INR of 2.0 to 3.0.", final=True)  # words left out
    assert not rule.allows("People taking warfarin usually aim for an INR of 2.0", final=True)  # cut short
    assert not rule.allows("A high INR is always")  # a negation left out changes the meaning
    assert not rule.allows("A low INR")  # a word the sources do not have there


def test_a_sentence_ends_only_where_the_check_would_cut_one() -> None:
    rule = CopyRule(SOURCES)
    assert rule.allows("The lab is open 8 a.m.")  # "a.m." may go on ...
    assert rule.allows("The lab is open 8 a.m. to 5 p.m. Monday to Friday. A high INR")
    assert not rule.allows("The lab is open 8 a.m. A high INR")  # ... but a new sentence after it is a cut copy


def test_what_the_rule_lets_through_the_answer_check_takes_as_a_copy() -> None:
    rule = CopyRule(SOURCES)
    for draft in ("People taking warfarin usually aim for an INR of 2.0 to 3.0. A high INR is not always a concern.",
                  "The lab is open 8 a.m. to 5 p.m. Monday to Friday."):
        assert rule.allows(draft, final=True) and copied_from(draft, [INR]) is not None
    for draft in ("People taking warfarin, a blood thin, usually aim for an INR of 2.0 to 3.0.",
                  "A high INR is always a concern."):
        assert not rule.allows(draft, final=True) and copied_from(draft, [INR]) is None


class _Words:
    """A tokenizer whose tokens are whole pieces of text (id = position in ``pieces``)."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.eos_token_id = len(pieces)

    def decode(self, ids: object, skip_special_tokens: bool = True) -> str:
        values = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)  # type: ignore[call-overload]
        return "".join(self.pieces[i] for i in values if i != self.eos_token_id)


def test_the_models_slip_is_replaced_by_its_likeliest_token_that_keeps_the_copy() -> None:
    pieces = ["A", " high", " INR", " is", " not", " always", " a", " concern", ".", " low"]
    tokenizer = _Words(pieces)
    processor = CopyProcessor(tokenizer, prompt_length=0, sources=SOURCES, top_k=4)
    so_far = torch.tensor([[0]])  # "A"
    scores = torch.full((1, len(pieces) + 1), -5.0)
    scores[0, 9], scores[0, 1] = 3.0, 2.0  # the model prefers " low"; " high" is its next choice
    out = processor(so_far, scores)
    assert int(out[0].argmax()) == 1 and out[0, 9] == float("-inf")
    scores = torch.full((1, len(pieces) + 1), -5.0)
    scores[0, 1] = 3.0  # the model's own choice keeps the copy: nothing changes
    assert torch.equal(processor(so_far, scores), scores)


def test_prompt_lookups_probe_with_flat_logits_is_not_cropped() -> None:
    """transformers' prompt lookup asks the processors about flat logits to crop its candidates; answering it with
    the copy rule would crop every candidate and make decoding one token per forward pass."""
    tokenizer = _Words(["A", " high"])
    flat = torch.ones((1, 3))
    assert torch.equal(CopyProcessor(tokenizer, 0, SOURCES)(torch.tensor([[0]]), flat), torch.ones((1, 3)))


def test_with_nothing_to_keep_only_the_end_of_text_is_left() -> None:
    tokenizer = _Words(["A", " zebra", " yak"])
    processor = CopyProcessor(tokenizer, prompt_length=0, sources=SOURCES, top_k=2, wide=2)
    scores = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    out = processor(torch.tensor([[0]]), scores)
    assert int(out[0].argmax()) == tokenizer.eos_token_id and processor.cut_off == 1


def test_a_step_after_a_rejected_lookup_candidate_is_left_alone() -> None:
    """Prompt lookup scores every candidate position in one pass; after a candidate the copy rule rejects, the
    later positions are thrown away, so they are not searched (that search was most of the processor's time)."""
    tokenizer = _Words(["Call", " us"])
    processor = CopyProcessor(tokenizer, prompt_length=0, sources=SOURCES, top_k=2, wide=2)
    scores = torch.tensor([[1.0, 2.0, 0.0]])
    assert torch.equal(processor(torch.tensor([[0]]), scores), scores) and processor.cut_off == 0


def test_punctuation_the_sources_do_not_have_is_no_copy() -> None:
    rule = CopyRule(SOURCES)
    assert rule.allows("People taking warfarin, a blood thinner, usually")
    assert not rule.allows("People taking warfarin... a blood")  # the tuned model's "(liver...), or... ..."
    assert not rule.allows("People taking warfarin \ufffd")  # half of a character the sources never use
