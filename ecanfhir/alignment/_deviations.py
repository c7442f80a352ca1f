"""Intended deviations: the cells of the alignment matrix the pilot does not meet on purpose.

They are listed in the pilot package's ``deviations.md``, one table row each::

    | pilot profile | counterpart | rule | path | reason | proposed upstream |

``pilot profile`` is a row key of the matrix (``ecan-patient``, ``document``...) and
``counterpart`` the counterpart's short name (``medcom-messaging-messageHeader``); ``rule`` and
``path`` are the error group's rule and FHIRPath location without indexes, and may use ``*``
wildcards (fnmatch). A cell whose every error group is covered by a row is an intended
deviation; the reason and the upstream proposal are what the report shows for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from ..definitions.pilot import pilot_source

__all__ = ["DEVIATIONS_FILE", "Deviation", "load_deviations", "parse_deviations"]

DEVIATIONS_FILE = "deviations.md"
_COLUMNS = ("pilot profile", "counterpart", "rule", "path", "reason", "proposed upstream")


@dataclass(frozen=True, slots=True)
class Deviation:
    """One intended deviation: which errors it covers, why, and what the pilot proposes."""

    row: str
    counterpart: str
    rule: str
    path: str
    reason: str
    proposal: str

    def covers(self, row: str, counterpart: str, rule: str, path: str) -> bool:
        return (self.row == row and self.counterpart == counterpart
                and fnmatchcase(rule, self.rule) and fnmatchcase(path, self.path))


def parse_deviations(text: str) -> Iterator[Deviation]:
    """The deviations of the Markdown tables in ``text`` that have the six columns above.

    >>> head = "| pilot profile | counterpart | rule | path | reason | proposed upstream |"
    >>> row = "| ecan-message | medcom-messaging-message | medcom-* | Bundle | why | what |"
    >>> rows = list(parse_deviations(chr(10).join([head, "|---|---|---|---|---|---|", row])))
    >>> rows[0].covers("ecan-message", "medcom-messaging-message", "medcom-messaging-1", "Bundle")
    True
    """
    in_table = False
    for line in text.splitlines():
        cells = [_unquoted(c.strip()) for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|"):
            in_table = False
        elif tuple(c.lower() for c in cells) == _COLUMNS:
            in_table = True
        elif in_table and len(cells) == len(_COLUMNS) and not set(cells[0]) <= set("-: "):
            yield Deviation(*cells)


def _unquoted(cell: str) -> str:
    """A cell that is one code span (`ecan-message`) without its backticks."""
    if len(cell) > 1 and cell[0] == cell[-1] == "`" and cell.count("`") == 2:
        return cell[1:-1]
    return cell


def load_deviations(path: Path | None = None) -> tuple[Deviation, ...]:
    """The pilot's intended deviations (``profiles/deviations.md``); none if the file is absent."""
    file = path if path is not None else pilot_source() / DEVIATIONS_FILE
    if not file.is_file():
        return ()
    return tuple(parse_deviations(file.read_text(encoding="utf-8")))
