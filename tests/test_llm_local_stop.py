"""The local model's generation stops at the first repeated sentence (unit test: no model, a word tokenizer)."""

from __future__ import annotations

from typing import ClassVar

import torch

from bot.llm.base import cut_at_repeat
from bot.llm.local import _StopOnRepeat


class WordTokenizer:
    """Token id i is the i-th word of a small vocabulary; decode joins them with spaces."""

    vocab: ClassVar[list[str]] = ["<prompt>", "I", "can't", "help.", "Call", "us."]

    def decode(self, ids: torch.Tensor, skip_special_tokens: bool = True) -> str:
        return " ".join(self.vocab[int(i)] for i in ids)


def ids(*words: str) -> list[int]:
    return [WordTokenizer.vocab.index(w) for w in words]


def test_generation_stops_once_a_sentence_comes_back_and_not_before() -> None:
    stop = _StopOnRepeat(WordTokenizer(), prompt_length=1)
    looping = torch.tensor([ids("<prompt>", "I", "can't", "help.", "Call", "us.", "I", "can't", "help.")])
    assert stop(looping, None).tolist() == [True]
    for n in range(2, looping.shape[1]):  # every earlier step goes on
        assert stop(looping[:, :n], None).tolist() == [False]
    # only the answer counts: the same tokens with the first sentence in the prompt are no loop
    assert _StopOnRepeat(WordTokenizer(), prompt_length=4)(looping, None).tolist() == [False]


def test_the_letters_of_am_and_pm_are_no_repeated_sentence() -> None:
    assert cut_at_repeat("We are open 8:00 a.m. to 5:00 p.m. on Thursday.") is None
    assert cut_at_repeat("Call us. Call us. Call us.") == "Call us."
