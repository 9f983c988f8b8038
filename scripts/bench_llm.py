"""Local model benchmark: SmolLM2-135M-Instruct in each weight layout on the CPU: packed 4-bit NF4, the NF4 layers
dequantized with the adapter merged in (``merged``, float32, the runtime default) and the same in bfloat16 (``bf16``),
and the unquantized fp32 original (``none``).

    .venv/bin/python scripts/bench_llm.py                        # nf4 and none, 3 runs, 48 new tokens
    .venv/bin/python scripts/bench_llm.py --adapter var/adapter  # also nf4 with that LoRA adapter
    .venv/bin/python scripts/bench_llm.py --runs 5 --new-tokens 64 --json var/bench-llm.json

Each configuration runs in its own child process (``bench_llm.py --one nf4``), so its peak memory
(``ru_maxrss``) is its own. In each child:

- load: tokenizer and model from the prepared safetensors copy (``bot.llm.local.load_base``), plus
  the adapter when there is one; ``weights_mb`` is ``model.get_memory_footprint()``.
- prompt: ``knowledge.prompt.build_messages`` with the first held-out question that has two passages
  (``knowledge/training/heldout.jsonl``), through the tokenizer's chat template, as the app does.
- one warm-up generation (not counted), then ``--runs`` rounds of:
  - time to first token: a separate greedy ``generate`` with ``max_new_tokens=1`` (prompt prefill
    plus one decoding step, timed around the call; no streamer, whose text chunks wait for word ends);
  - generation: greedy ``generate`` with ``min_new_tokens = max_new_tokens = --new-tokens``, so every
    run makes the same number of tokens; ``tokens_per_s`` is new tokens / wall time of that call
    (prefill included), ``decode_tokens_per_s`` leaves out the time to first token.
- medians over the runs are reported; ``gen_cpu_s`` is the CPU time of one generation (less
  sensitive than wall time to other load on a shared machine), and the 1-minute load average at the
  start is recorded so a busy machine shows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.llm.memory import peak_rss_mb, rss_mb  # noqa: E402  (the project root is on sys.path from here)

HELDOUT = ROOT / "knowledge" / "training" / "heldout.jsonl"
MODELS_DIR = ROOT / "var" / "models"
DEFAULT_JSON = ROOT / "var" / "bench-llm.json"
CONFIGS = ("nf4", "merged", "bf16", "none")  # merged, bf16: bot.llm.local.load_for_inference's CPU layouts
# (label in the table, key in each configuration's figures)
FIGURES = (
    ("load time (s)", "load_s"),
    ("weights in memory (MB)", "weights_mb"),
    ("RSS after load (MB)", "rss_loaded_mb"),
    ("RSS after the runs (MB)", "rss_end_mb"),
    ("peak RSS of the process (MB)", "peak_rss_mb"),
    ("prompt tokens", "prompt_tokens"),
    ("time to first token (ms)", "ttft_ms"),
    ("generation tokens/s (incl. prefill)", "tokens_per_s"),
    ("decode tokens/s (after first token)", "decode_tokens_per_s"),
    ("generation wall time (s)", "gen_s"),
    ("generation CPU time (s)", "gen_cpu_s"),
)

# the flat figures run() returns for scripts/bench.py's table; the rest stays under "configs"
SUMMARY = ("load_s", "weights_mb", "peak_rss_mb", "ttft_ms", "tokens_per_s", "decode_tokens_per_s")


def prompt_example(path: Path = HELDOUT) -> tuple[str, list[Any]]:
    """The first held-out question answered from two passages: the size of a real prompt."""
    from knowledge.types import Passage

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("kind") == "grounded" and len(row["passages"]) >= 2:
            return row["question"], [Passage(score=0.0, **p) for p in row["passages"][:2]]
    raise SystemExit(f"no grounded held-out example with two passages in {path}")


def measure_one(
    config: str, *, runs: int, new_tokens: int, adapter: Path | None = None, threads: int = 0
) -> dict[str, Any]:
    """Load one configuration in this process and time it (called in the child process)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers.utils import logging as hf_logging

    from bot.llm.local import attach_adapter, load_base, load_for_inference
    from bot.llm.prepare import prepare_base_model
    from bot.settings import load_settings
    from knowledge.prompt import build_messages

    hf_logging.disable_progress_bar()
    if threads:
        torch.set_num_threads(threads)
    load_avg = os.getloadavg()[0]
    base = prepare_base_model(MODELS_DIR)
    question, passages = prompt_example()
    messages = build_messages(question, passages, load_settings().clinic.name)

    started = time.perf_counter()
    if config in ("merged", "bf16"):  # the 4-bit model dequantized, the adapter (if any) merged in
        model, tokenizer = load_for_inference(str(base), adapter, weights=config)
    else:
        model, tokenizer = load_base(str(base), quantization=config, device="cpu")
        if adapter is not None:
            model = attach_adapter(model, adapter)
        model.eval()
    load_s = time.perf_counter() - started
    weights_mb = model.get_memory_footprint() / 1e6
    rss_loaded_mb = rss_mb()

    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    prompt_tokens = int(inputs["input_ids"].shape[1])
    greedy = {"do_sample": False, "pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id}

    def generate(count: int) -> tuple[float, float, int]:
        cpu0, t0 = time.process_time(), time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=count, min_new_tokens=count, **greedy)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return wall, cpu, int(out.shape[1]) - prompt_tokens

    generate(4)  # warm-up: first-call allocations and kernel selection
    ttft, gen, gen_cpu = [], [], []
    for _ in range(runs):
        wall, _cpu, made = generate(1)
        ttft.append(wall)
        wall, cpu, made = generate(new_tokens)
        if made != new_tokens:
            raise RuntimeError(f"{config}: generated {made} tokens, expected {new_tokens}")
        gen.append(wall)
        gen_cpu.append(cpu)
    ttft_s, gen_s = statistics.median(ttft), statistics.median(gen)
    return {
        "config": config + ("+lora" if adapter is not None else ""),
        "quantization": config,
        "adapter": str(adapter) if adapter is not None else None,
        "runs": runs,
        "new_tokens": new_tokens,
        "prompt_tokens": prompt_tokens,
        "threads": torch.get_num_threads(),
        "load_avg_1m": round(load_avg, 2),
        "load_s": round(load_s, 2),
        "weights_mb": round(weights_mb, 1),
        "rss_loaded_mb": round(rss_loaded_mb, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(max(peak_rss_mb(), rss_mb()), 1),  # the two differ in rounding
        "ttft_ms": round(ttft_s * 1000, 1),
        "tokens_per_s": round(new_tokens / gen_s, 2),
        # None when noise made the short call slower than the long one (a busy machine)
        "decode_tokens_per_s": round((new_tokens - 1) / (gen_s - ttft_s), 2) if gen_s > ttft_s else None,
        "gen_s": round(gen_s, 2),
        "gen_cpu_s": round(statistics.median(gen_cpu), 2),
        "gen_s_all": [round(x, 3) for x in gen],
        "ttft_ms_all": [round(x * 1000, 1) for x in ttft],
    }


def _child(config: str, runs: int, new_tokens: int, adapter: Path | None, threads: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--one", config,
               "--runs", str(runs), "--new-tokens", str(new_tokens), "--threads", str(threads)]
    if adapter is not None:
        command += ["--adapter", str(adapter)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench_llm --one {config} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(runs: int = 3, new_tokens: int = 48, adapter: Path | None = None, threads: int = 0) -> dict[str, Any]:
    """Every configuration, one child process each; flat figures ("nf4_tokens_per_s") plus the details."""
    from bot.llm.prepare import prepare_base_model

    prepare_base_model(MODELS_DIR)  # once, here, so no child pays for it or races another
    plan: list[tuple[str, Path | None]] = [(c, None) for c in CONFIGS]
    if adapter is not None:
        from bot.llm.local import adapter_exists

        adapter = adapter.expanduser().resolve()  # the child runs in the project folder
        if not adapter_exists(adapter):
            raise SystemExit(f"no adapter at {adapter} (adapter_config.json missing)")
        plan.append(("nf4", adapter))
    configs = []
    for config, with_adapter in plan:
        print(f"[bench_llm] {config}{'+lora' if with_adapter else ''}...", file=sys.stderr, flush=True)
        configs.append(_child(config, runs, new_tokens, with_adapter, threads))
    result: dict[str, Any] = {}
    for figures in configs:
        prefix = figures["config"].replace("+", "_")
        for key in SUMMARY:
            result[f"{prefix}_{key}"] = figures[key]
    result["configs"] = configs
    return result


def table(result: dict[str, Any]) -> str:
    configs = result["configs"]
    lines = ["| figure | " + " | ".join(c["config"] for c in configs) + " |",
             "| --- |" + " ---: |" * len(configs)]
    for label, key in FIGURES:
        lines.append(f"| {label} | " + " | ".join("n/a" if c[key] is None else str(c[key]) for c in configs) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed rounds per configuration (median reported)")
    parser.add_argument("--new-tokens", type=int, default=48, help="tokens generated per round")
    parser.add_argument("--adapter", type=Path, default=None, help="also benchmark nf4 with this LoRA adapter")
    parser.add_argument("--threads", type=int, default=0, help="torch threads per process (0: torch's default)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"write the results here ({DEFAULT_JSON})")
    parser.add_argument("--one", choices=CONFIGS, help=argparse.SUPPRESS)  # the child: one config, JSON out
    args = parser.parse_args(argv)
    if args.runs < 1 or args.new_tokens < 2:
        parser.error("--runs must be at least 1 and --new-tokens at least 2")
    if args.one:
        print(json.dumps(measure_one(
            args.one, runs=args.runs, new_tokens=args.new_tokens, adapter=args.adapter, threads=args.threads
        )))
        return 0
    result = run(args.runs, args.new_tokens, args.adapter, args.threads)
    first = result["configs"][0]
    print(f"Machine: {platform.machine()}, {first['threads']} torch threads, Python {platform.python_version()}; "
          f"load average {', '.join(str(c['load_avg_1m']) for c in result['configs'])} at each start")
    print(f"Prompt: {first['prompt_tokens']} tokens; {first['new_tokens']} new tokens (greedy), "
          f"median of {first['runs']} runs\n")
    print(table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"\nraw results: {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
