"""Demo targets: the real bright stars shipped with ``ephem``, famous X-ray sources, and generated ones."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from random import Random

#: ephem lists some stars twice under other spellings; the canonical name is kept.
_ALIASES = frozenset({"Adara", "Agena", "Albereo", "Alcaid", "Sirrah", "Etamin", "Formalhaut", "Gienah"})

#: Well-known sources with their real J2000 positions (degrees); calibrations return to them.
FAMOUS: tuple[tuple[str, float, float], ...] = (
    ("Cas A", 350.8500, 58.8150),
    ("Crab Nebula", 83.6331, 22.0145),
    ("Sgr A*", 266.4168, -29.0078),
    ("M87", 187.7059, 12.3911),
    ("Eta Car", 161.2648, -59.6845),
    ("Vela Pulsar", 128.8361, -45.1764),
    ("Cyg X-1", 299.5903, 35.2016),
    ("Sco X-1", 244.9795, -15.6402),
    ("Perseus Cluster", 49.9507, 41.5117),
    ("3C 273", 187.2779, 2.0524),
    ("Tycho SNR", 6.3340, 64.1360),
    ("SN 1987A", 83.8667, -69.2697),
    ("Orion Nebula Cluster", 83.8221, -5.3911),
    ("E0102-72", 16.0083, -72.0314),
    ("Capella", 79.1723, 45.9980),
)

#: One target whose name is markup, so every page that shows it must escape it.
MARKUP_TARGET = ('3C 273 <b>jet</b> & "knot A"', 187.2779, 2.0524)


@dataclass(frozen=True)
class Target:
    """A named position; ``star`` marks a real bright star whose position must never be edited."""

    name: str
    ra_deg: float
    dec_deg: float
    vmag: float | None = None
    star: bool = False


@lru_cache(maxsize=1)
def bright_stars() -> tuple[Target, ...]:
    """The bright stars of ``ephem.stars`` with J2000 positions and V magnitudes, by name."""
    import ephem
    import ephem.stars

    stars: dict[tuple[float, float], Target] = {}
    for name in sorted(ephem.stars.stars):
        if name in _ALIASES:
            continue
        body = ephem.star(name)  # a fresh copy: the catalogue's shared bodies are left alone
        body.compute("2000/1/1")  # the magnitude is only defined after a compute
        ra, dec = math.degrees(float(body._ra)), math.degrees(float(body._dec))
        stars.setdefault(
            (round(ra, 3), round(dec, 3)), Target(name, round(ra, 6), round(dec, 6), float(body.mag), True)
        )
    return tuple(sorted(stars.values(), key=lambda target: target.name))


def random_position(rng: Random) -> tuple[float, float]:
    """A position drawn uniformly over the sphere (degrees)."""
    ra = rng.uniform(0.0, 360.0)
    dec = math.degrees(math.asin(rng.uniform(-1.0, 1.0)))
    return round(ra, 6), round(dec, 6)


def _sexagesimal(ra: float, dec: float, ra_decimals: int, dec_decimals: int) -> str:
    """``HHMMSS.s+DDMMSS`` as used in IAU-style J names."""

    def split(value: float, decimals: int) -> str:
        units, rest = divmod(abs(value), 1.0)
        minutes, rest = divmod(rest * 60.0, 1.0)
        seconds = math.floor(rest * 60.0 * 10**decimals) / 10**decimals
        width = 2 + (decimals + 1 if decimals else 0)
        return f"{int(units):02d}{int(minutes):02d}{seconds:0{width}.{decimals}f}"

    return split(ra / 15.0, ra_decimals) + ("+" if dec >= 0 else "-") + split(dec, dec_decimals)


def generated_name(rng: Random, ra: float, dec: float, *, today: date) -> str:
    """A plausible catalogue name for a position (survey J-names follow the coordinates).

    Names that carry a date (GRB yymmdd, SN year) are dated before ``today``: a burst named after
    next week would give the demo away.
    """
    pattern = rng.choices(
        ["ngc", "ic", "sdss", "xmmu", "cxou", "2mass", "psr", "grb", "sn", "abell", "hd", "swift"],
        weights=[10, 5, 12, 10, 12, 8, 6, 5, 5, 5, 8, 4],
    )[0]
    letters = "abcdefghijklmnopqrstuvwxyz"
    match pattern:
        case "ngc":
            return f"NGC {rng.randint(1, 7840)}"
        case "ic":
            return f"IC {rng.randint(1, 5386)}"
        case "sdss":
            return "SDSS J" + _sexagesimal(ra, dec, 2, 1)
        case "xmmu":
            return "XMMU J" + _sexagesimal(ra, dec, 1, 0)
        case "cxou":
            return "CXOU J" + _sexagesimal(ra, dec, 1, 0)
        case "2mass":
            return "2MASS J" + _sexagesimal(ra, dec, 2, 1).replace(".", "")
        case "psr":
            coarse = _sexagesimal(ra, dec, 0, 0)
            return f"PSR J{coarse[:4]}{coarse[6:11]}"
        case "grb":
            burst = today - timedelta(days=rng.randint(30, 3 * 365))
            return f"GRB {burst:%y%m%d}{rng.choice('AB')}"
        case "sn":
            return f"SN {today.year - rng.randint(0, 3)}" + "".join(rng.choice(letters) for _ in range(3))
        case "abell":
            return f"Abell {rng.randint(1, 4076)}"
        case "hd":
            return f"HD {rng.randint(1, 359083)}"
        case _:
            coarse = _sexagesimal(ra, dec, 0, 0)
            return f"Swift J{coarse[:4]}.{rng.randint(0, 9)}{coarse[6:11]}"


def generated_targets(rng: Random, count: int, *, today: date) -> list[Target]:
    """``count`` targets: mostly random positions with generated names (dated before ``today``), some famous ones."""
    targets = []
    for _ in range(count):
        if rng.random() < 0.08:
            name, ra, dec = rng.choice(FAMOUS)
            targets.append(Target(name, ra, dec))
            continue
        ra, dec = random_position(rng)
        vmag = round(rng.uniform(9.0, 19.5), 2) if rng.random() < 0.3 else None
        targets.append(Target(generated_name(rng, ra, dec, today=today), ra, dec, vmag))
    return targets
