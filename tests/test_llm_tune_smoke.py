"""A real QLoRA run on the 4-bit base: a few steps, adapter saved, loaded back, and it generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.llm.local import LocalLLM, adapter_exists
from bot.llm.prepare import prepare_base_model
from bot.llm.prompt import build_messages
from bot.llm.tune import TuneConfig, tune
from knowledge.types import Passage


@pytest.mark.slow
def test_tune_a_few_steps_then_load_the_adapter_and_generate(tmp_path: Path) -> None:
    base = prepare_base_model(Path(__file__).resolve().parents[1] / "var" / "models")
    out = tmp_path / "adapter"
    report = tune(str(base), out, clinic_name="Maple Street Family Medicine", config=TuneConfig(steps=2, eval_limit=1))
    assert adapter_exists(out)
    assert (out / "report.md").is_file() and (out / "loss.png").is_file()
    assert 0 < report["trainable_share"] < 0.05
    llm = LocalLLM(str(base), adapter=out, max_new_tokens=8)
    passage = Passage("Directions and parking", "Parking", "Parking is free behind the building.", "p.md", 0.9)
    reply = llm.generate(build_messages("Where do I park?", [passage], "Maple Street Family Medicine"))
    assert isinstance(reply, str) and reply.strip()
