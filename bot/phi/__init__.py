"""PHI scrubbing: patient identifiers out, clinical content kept.

``get_scrubber(allow_list)`` gives the process's :class:`Scrubber` for that allow-list (spaCy and
Presidio load on the first call, never at import). ``scrub(text)`` uses the allow-list from
``Settings.phi.allow_list``.
"""

from __future__ import annotations

from functools import lru_cache

from bot.phi.scrubber import Finding, Scrubber, TextScrubber

__all__ = ["Finding", "Scrubber", "TextScrubber", "get_scrubber", "scrub"]


@lru_cache(maxsize=8)
def get_scrubber(allow_list: tuple[str, ...] = ()) -> Scrubber:
    """The scrubber for ``allow_list``, built once per process (all share one analyzer)."""
    return Scrubber(allow_list)


def scrub(text: str) -> str:
    """Scrub ``text`` with the configured allow-list (``phi.allow_list`` in config.yml)."""
    from bot.settings import get_settings

    return get_scrubber(tuple(get_settings().phi.allow_list)).scrub(text)
