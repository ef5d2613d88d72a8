"""What the two continent families share: the countries whose continent is asked about."""
from __future__ import annotations

from orca2_kit.tasks.families.common import cap
from orca2_kit.tasks.facts import CONTINENTS, COUNTRIES, OTHER_COUNTRIES, TRANSCONTINENTAL

# (country, continent, capital or ""), every continent one of CONTINENTS (see facts.py for who is left out)
CONTINENT_COUNTRIES: tuple[tuple[str, str, str], ...] = tuple(
    (name, continent, capital)
    for name, capital, continent in COUNTRIES + tuple((n, "", c) for n, c in OTHER_COUNTRIES)
    if continent in CONTINENTS and name not in TRANSCONTINENTAL
    and not any(stem in name for stem in ("Afric", "Americ", "Asia", "Europ")))  # no giveaway in the name


def continent_fact(country: str, continent: str, capital: str) -> str:
    return f"{cap(country)} is a country in {continent}" + (f"; its capital is {capital}." if capital else ".")
