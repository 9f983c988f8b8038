"""Process memory in megabytes (10^6 bytes), for the tune report and the model benchmark."""

from __future__ import annotations

import resource


def rss_mb() -> float:
    """The resident set size now (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def peak_rss_mb() -> float:
    """The highest resident set size so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
