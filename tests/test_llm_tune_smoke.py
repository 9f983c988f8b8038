"""A real QLoRA run on the 4-bit base: a few steps, adapter saved, loaded back, and it generates."""

from __future__ import annotations

import pytest

from bot.llm.local import LocalLLM, adapter_exists
from bot.llm.prompt import build_messages
from knowledge.types import Passage
from tests.conftest import TinyAdapter


@pytest.mark.slow
def test_tune_a_few_steps_then_load_the_adapter_and_generate(tiny_adapter: TinyAdapter) -> None:
    out, report = tiny_adapter.path, tiny_adapter.report
    assert adapter_exists(out)
    assert (out / "report.md").is_file() and (out / "loss.png").is_file()
    assert 0 < report["trainable_share"] < 0.05
    llm = LocalLLM(str(tiny_adapter.base_model), adapter=out, max_new_tokens=8)
    passage = Passage("Directions and parking", "Parking", "Parking is free behind the building.", "p.md", 0.9)
    reply = llm.generate(build_messages("Where do I park?", [passage], "Maple Street Family Medicine"))
    assert isinstance(reply, str) and reply.strip()
