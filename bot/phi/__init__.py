"""PHI scrubbing: patient identifiers out, clinical content kept.

Two modes (see :mod:`bot.phi.scrubber`): ``strict``, the default, for logs, tracebacks and
``clinicbot scrub`` (only known-safe words, clinical terms and clinical values survive), and
``preview`` for the staff console (recognizers only, clinical content kept).

``get_scrubber(allow_list, mode)`` gives the process's :class:`Scrubber` for that allow-list and
mode (spaCy, Presidio and the word lists load on the first call, never at import). ``scrub(text,
mode)`` uses the allow-list from ``Settings.phi.allow_list``.
"""

from __future__ import annotations

from functools import lru_cache

from bot.phi.scrubber import Finding, Mode, Scrubber, TextScrubber

__all__ = ["Finding", "Mode", "Scrubber", "TextScrubber", "get_scrubber", "scrub"]


@lru_cache(maxsize=8)
def get_scrubber(allow_list: tuple[str, ...] = (), mode: Mode = "strict") -> Scrubber:
    """The scrubber for ``allow_list`` and ``mode``, built once per process (all share one analyzer)."""
    return Scrubber(allow_list, mode=mode)


def scrub(text: str, mode: Mode = "strict") -> str:
    """Scrub ``text`` with the configured allow-list (``phi.allow_list`` in config.yml)."""
    from bot.settings import get_settings

    return get_scrubber(tuple(get_settings().phi.allow_list), mode).scrub(text)
