"""Synthetic people and places: fictitious CPR numbers, foreign test ids, names, departments.

**Fictitious CPR numbers.** A CPR number is ``DDMMYY`` + a sequence of four digits whose first
(the number's seventh digit) gives the century together with ``YY`` (CPR-kontoret's rule, the
one :func:`ecanfhir.builders.patient.birth_date_from_cpr` applies), and whose last digit is odd
for men and even for women. Every number issued before October 2007 satisfies the modulus-11
check (weights 4 3 2 7 6 5 4 3 2 1); the numbers made here are built to *fail* it, the
convention of the test CPR numbers used in Danish test data (e.g. MedCom's 2512489996). They
therefore cannot collide with any number issued before 2007. Residual risk, stated plainly:
since 2007 CPR-kontoret also issues numbers failing modulus 11 for birth dates whose modulus-11
series ran out, so no format-valid number is *guaranteed* unused; never send these to a
production system. They pass DK-core's ``cpr`` format check and the century rule.

**Foreign patients** carry ids from documented test ranges: Finnish HETU (``urn:oid:1.2.246.21``)
with an individual number 900–999 (reserved for temporary and test ids) and its mod-31 check
character; Norwegian synthetic fødselsnummer (``urn:oid:2.16.578.1.12.4.1.4.1``) with 80 added
to the month (Skatteetaten's synthetic-id convention) and both mod-11 check digits.

**Departments** have fictitious SOR codes (15 digits, not looked up in SOR) and GLNs with a
valid GS1 mod-10 check digit; names are generic.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

from ..builders import Identifier, Organization, PractitionerRole
from ..builders.organization import gln_check_digit

__all__ = ["CENTRE", "DEPARTMENTS", "FINNISH_HETU_SYSTEM", "NORWEGIAN_FNR_SYSTEM",
           "copenhagen", "cpr_modulus_11", "fictitious_cpr", "foreign_identifier",
           "person_name", "practitioner"]

FINNISH_HETU_SYSTEM = "urn:oid:1.2.246.21"
NORWEGIAN_FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
_MOD11_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def cpr_modulus_11(cpr: str) -> bool:
    """True when a CPR number satisfies the (pre-2007) modulus-11 check.

    >>> cpr_modulus_11("2512489996")
    False
    """
    return sum(int(d) * w for d, w in zip(cpr, _MOD11_WEIGHTS, strict=True)) % 11 == 0


def _seventh_digits(year: int) -> tuple[int, ...]:
    """The seventh digits CPR-kontoret's century rule allows for a birth year."""
    yy = year % 100
    if 1900 <= year <= 1999:
        return (0, 1, 2, 3, 4, 9) if yy >= 37 else (0, 1, 2, 3)
    if 2000 <= year <= 2036:
        return (4, 5, 6, 7, 8, 9)
    if 2037 <= year <= 2057:
        return (5, 6, 7, 8)
    raise ValueError(f"no CPR century rule for birth year {year} in the generator's range")


def fictitious_cpr(birth: date, male: bool, rng: random.Random) -> str:
    """A fictitious CPR number: real birth date, century digit per the rule, sex digit, and
    failing modulus 11 (see the module docstring).

    >>> cpr = fictitious_cpr(date(1948, 12, 25), True, random.Random(1))
    >>> cpr[:6], int(cpr[-1]) % 2, cpr_modulus_11(cpr)
    ('251248', 1, False)
    """
    head = birth.strftime("%d%m%y")
    sevenths = _seventh_digits(birth.year)
    while True:
        cpr = f"{head}{rng.choice(sevenths)}{rng.randrange(100):02d}{rng.randrange(10)}"
        if int(cpr[-1]) % 2 == int(male) and not cpr_modulus_11(cpr):
            return cpr


def _hetu(birth: date, rng: random.Random) -> str:
    sign = "-" if birth.year < 2000 else "A"
    individual = rng.randrange(900, 1000)
    digits = f"{birth:%d%m%y}{individual:03d}"
    return f"{birth:%d%m%y}{sign}{individual:03d}{_HETU_CHECK[int(digits) % 31]}"


def _norwegian_synthetic(birth: date, rng: random.Random) -> str:
    k1w, k2w = (3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    head = f"{birth.day:02d}{birth.month + 80:02d}{birth.year % 100:02d}"
    while True:
        individual = rng.randrange(0, 500) if birth.year < 2000 else rng.randrange(500, 1000)
        digits = [int(c) for c in f"{head}{individual:03d}"]
        k1 = (11 - sum(d * w for d, w in zip(digits, k1w, strict=True)) % 11) % 11
        k2 = (11 - sum(d * w for d, w in zip([*digits, k1], k2w, strict=True)) % 11) % 11
        if k1 < 10 and k2 < 10:
            return "".join(map(str, digits)) + f"{k1}{k2}"


def foreign_identifier(birth: date, rng: random.Random) -> tuple[str, Identifier]:
    """A foreign patient's country (ISO 3166 alpha-2) and national test id."""
    if rng.random() < 0.5:
        return "FI", Identifier(FINNISH_HETU_SYSTEM, _hetu(birth, rng))
    return "NO", Identifier(NORWEGIAN_FNR_SYSTEM, _norwegian_synthetic(birth, rng))


_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # country: (male given names, female given names, family names)
    "DK": (("Jens", "Peter", "Lars", "Michael", "Henrik", "Søren", "Niels", "Anders", "Erik",
            "Ole", "Bent", "Poul", "Mads", "Kristian"),
           ("Anne", "Kirsten", "Hanne", "Mette", "Susanne", "Lene", "Inge", "Birgitte", "Karen",
            "Marianne", "Camilla", "Ida", "Grethe", "Lone"),
           ("Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
            "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
            "Thomsen", "Poulsen", "Johansen", "Møller", "Mortensen", "Testesen")),
    "FI": (("Juha", "Timo", "Matti", "Kari", "Mikko"), ("Aino", "Tuula", "Ritva", "Leena", "Sari"),
           ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Hämäläinen")),
    "NO": (("Ole", "Knut", "Arne", "Per", "Bjørn"), ("Ingrid", "Kari", "Solveig", "Liv", "Randi"),
           ("Hansen", "Johansen", "Olsen", "Berg", "Haugen")),
}


def person_name(country: str, male: bool, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A family name and one or two given names typical of ``country``."""
    men, women, families = _NAMES.get(country, _NAMES["DK"])
    pool = men if male else women
    given = (rng.choice(pool),) if rng.random() < 0.7 else tuple(rng.sample(pool, 2))
    return rng.choice(families), given


def _gln(first12: str) -> str:
    return first12 + str(gln_check_digit(first12))


def _department(name: str, n: int) -> Organization:
    return Organization(name, sor=f"9{n:02d}4561000016{n % 10}0", gln=_gln(f"57900019{n:02d}37"))


DEPARTMENTS: tuple[Organization, ...] = tuple(_department(name, n) for n, name in enumerate((
    "Department of Oncology, North Region University Hospital",
    "Department of Oncology, Central Region University Hospital",
    "Department of Oncology, Capital Region University Hospital",
    "Department of Oncology, South Region Hospital",
    "Department of Haematology, Capital Region University Hospital",
    "Department of Surgery (cancer), Zealand Region Hospital",
    "Department of Urology (cancer), Central Region Hospital",
    "Department of Lung Medicine, South Region University Hospital",
), start=1))
"""Sending hospital departments (fictitious SOR and GLN)."""

CENTRE = Organization("National Cancer Centre (synthetic)", sor="900000000000017",
                      gln=_gln("579000199990"))
"""The receiving national cancer centre."""

_AUTH_CHARS = "BCDFGHJKLMNPQRSTVWXYZ0123456789"


def practitioner(rng: random.Random, role: str) -> PractitionerRole:
    """A referring or consulting clinician with a format-valid (fictitious) authorisation id."""
    male = rng.random() < 0.5
    family, given = person_name("DK", male, rng)
    auth = "".join(rng.choice(_AUTH_CHARS) for _ in range(5)) if rng.random() < 0.8 else None
    return PractitionerRole(family, given, role=role, authorisation_id=auth)


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def copenhagen(local: datetime) -> datetime:
    """A naive Danish wall-clock time with its offset, CET (+01:00) or CEST (+02:00): summer
    time from the last Sunday of March to the last Sunday of October (EU rule; no tz database
    needed, so output is the same on every machine)."""
    start = datetime.combine(_last_sunday(local.year, 3), datetime.min.time()).replace(hour=2)
    end = datetime.combine(_last_sunday(local.year, 10), datetime.min.time()).replace(hour=3)
    offset = 2 if start <= local < end else 1
    return local.replace(tzinfo=timezone(timedelta(hours=offset)))


def utc(value: datetime) -> datetime:
    """``value`` in UTC (for comparisons in tests)."""
    return value.astimezone(UTC)
