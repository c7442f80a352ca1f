"""Just enough UCUM to compare two Quantities given in different units of the same kind.

UCUM (https://ucum.org/ucum, §2 "Prefixes", §4 "Base units") builds metric units from a prefix
and a metric atom (``mg`` = milli + gram), and ratios with ``/`` (``mmol/L``). A profile's
``maxValueQuantity`` of ``0.5 kg`` and an instance value of ``11000 g`` compare after conversion,
as the HL7 validator does; so do a Questionnaire's limits and enableWhen answers. Time units and
a few customary units convert by a fixed factor. Everything else (``Cel``, ``[degF]``,
annotations, arbitrary units) is not converted: callers then do not compare at all, rather than
guess.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["to_base"]

PREFIXES = {
    "Y": Decimal("1e24"), "Z": Decimal("1e21"), "E": Decimal("1e18"), "P": Decimal("1e15"),
    "T": Decimal("1e12"), "G": Decimal("1e9"), "M": Decimal("1e6"), "k": Decimal("1e3"),
    "h": Decimal("1e2"), "da": Decimal("1e1"), "": Decimal(1), "d": Decimal("1e-1"),
    "c": Decimal("1e-2"), "m": Decimal("1e-3"), "u": Decimal("1e-6"), "n": Decimal("1e-9"),
    "p": Decimal("1e-12"), "f": Decimal("1e-15"), "a": Decimal("1e-18"),
}
# Metric atoms (they take a prefix), by the name they are compared under.
METRIC = {"g": "g", "m": "m", "L": "L", "l": "L", "s": "s", "mol": "mol", "eq": "eq",
          "Hz": "Hz", "Pa": "Pa", "J": "J", "W": "W", "V": "V", "A": "A", "K": "K", "Bq": "Bq",
          "Gy": "Gy", "Sv": "Sv", "N": "N", "C": "C", "Ohm": "Ohm", "U": "U", "[IU]": "[IU]"}
# Units that take no prefix, by a factor of a metric one (checked before prefixes: "a" is a
# year, "h" an hour, "d" a day, not atto-, hecto-, deci- anything).
FIXED = {"min": ("s", Decimal(60)), "h": ("s", Decimal(3600)), "d": ("s", Decimal(86400)),
         "wk": ("s", Decimal(604800)), "mo": ("s", Decimal(2629800)),
         "a": ("s", Decimal(31557600)), "[in_i]": ("m", Decimal("0.0254")),
         "[ft_i]": ("m", Decimal("0.3048")), "[mi_i]": ("m", Decimal("1609.344")),
         "[lb_av]": ("g", Decimal("453.59237")), "[oz_av]": ("g", Decimal("28.349523125")),
         "1": ("1", Decimal(1)), "%": ("1", Decimal("0.01"))}
_ATOMS = sorted(METRIC.items(), key=lambda item: -len(item[0]))


def _atom(code: str) -> tuple[str, Decimal] | None:
    if code in FIXED:
        return FIXED[code]
    for atom, base in _ATOMS:
        if code.endswith(atom) and code[:-len(atom)] in PREFIXES:
            return base, PREFIXES[code[:-len(atom)]]
    return None


def to_base(value: Decimal, code: str) -> tuple[Decimal, str] | None:
    """``value`` in ``code`` units as ``(value, base unit)``, or None outside the subset.

    >>> to_base(Decimal(11000), "g")
    (Decimal('11000'), 'g')
    >>> to_base(Decimal("0.5"), "kg") == (Decimal(500), "g")
    True
    >>> to_base(Decimal(5), "mmol/L")
    (Decimal('0.005'), 'mol/L')
    >>> to_base(Decimal(98), "[degF]") is None
    True
    """
    parts = code.split("/")
    if len(parts) > 2 or not all(parts):
        return None
    found = [_atom(p) for p in parts]
    if any(f is None for f in found):
        return None
    top = found[0]
    assert top is not None
    if len(found) == 1:
        return value * top[1], top[0]
    bottom = found[1]
    assert bottom is not None
    return value * top[1] / bottom[1], f"{top[0]}/{bottom[0]}"
