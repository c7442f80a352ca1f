"""``generate``: a seed and a count → synthetic message files and their manifest.

Determinism: one ``random.Random(seed)`` draws a 63-bit seed per case, and each case is drawn
from its own ``random.Random`` (so case *k* is the same whatever ``count`` is); ids come from
:meth:`ecanfhir.builders.BuildContext.seeded` and clocks from the drawn dates. The global
``random`` module is never used. Same kind, seed, count and flags → byte-identical files.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ._cases import KINDS, Kind, SyntheticCase, draw_case
from ._invalid import MUTATIONS, Expected

__all__ = ["MANIFEST", "GeneratedFile", "Summary", "dumps", "generate", "write_cases"]

MANIFEST = "manifest.json"
_EVENT = {"referral": "cancer-case-referral", "outcome": "tumour-board-outcome",
          "telemedicine": "telemedicine-encounter"}


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """One message file of a generated case; ``expected`` is set on negative cases."""

    name: str
    bundle: dict[str, Any]
    case: SyntheticCase
    role: str
    expected: Expected | None = None

    def manifest_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"file": self.name, "case": self.case.number,
                                 "event": _EVENT[self.role], "site": self.case.site.key,
                                 "valid": self.expected is None}
        if self.expected is not None:
            entry["expected"] = self.expected.to_json()
        return entry


@dataclass(frozen=True, slots=True)
class Summary:
    """What :func:`write_cases` wrote."""

    cases: int
    files: int
    out: Path


def generate(kind: Kind, *, count: int, seed: int, invalid: bool = False
             ) -> Iterator[GeneratedFile]:
    """Generate ``count`` cases of ``kind``.

    Valid cases yield one file per message (a tumour-board-outcome case: the referral, then the
    outcome that answers it). With ``invalid``, case *k* is a valid case mutated by the
    ``k mod n``-th of the kind's *n* mutations (:data:`~ecanfhir.synthetic.MUTATIONS`), one
    file each, labelled with the rule it breaks.

    >>> [f.name for f in generate("tumour-board-outcome", count=1, seed=7)]
    ['tumour-board-outcome-000001-referral.json', 'tumour-board-outcome-000001.json']
    >>> next(generate("telemedicine", count=1, seed=7, invalid=True)).expected.label
    'ecan-enc-1'
    """
    if kind not in KINDS:
        raise ValueError(f"kind: one of {', '.join(KINDS)}, not {kind!r}")
    if count < 1:
        raise ValueError(f"count: at least 1, not {count}")
    # The kind and validity are part of the seed: `generate referral --seed 1`, `generate
    # telemedicine --seed 1` and `generate referral --seed 1 --invalid` must not share
    # MessageHeader ids, or a centre would take one for a resend of the other.
    master = random.Random(f"{kind}:{'invalid' if invalid else 'valid'}:{seed}")
    mutations = [m for m in MUTATIONS if kind in m.kinds]
    for number in range(1, count + 1):
        rng = random.Random(master.getrandbits(63))
        stem = f"{kind}-{number:06d}"
        if not invalid:
            case = draw_case(kind, number, rng)
            for role, bundle in case.messages():
                suffix = "-referral" if kind == "tumour-board-outcome" and role == "referral" \
                    else ""
                yield GeneratedFile(f"{stem}{suffix}.json", bundle, case, role)
            continue
        mutation = mutations[(number - 1) % len(mutations)]
        case = draw_case(kind, number, rng, require=mutation.require)
        role, bundle = case.messages()[-1]
        expected = mutation.apply(bundle)
        yield GeneratedFile(f"{stem}-invalid.json", bundle, case, role, expected)


def dumps(data: Any, *, pretty: bool = False) -> bytes:
    """JSON bytes as written: compact by default (``json``'s C encoder; ``indent`` would switch
    to its pure-Python encoder, about 5x slower), indented with ``pretty``."""
    text = json.dumps(data, indent=2 if pretty else None, ensure_ascii=False,
                      separators=None if pretty else (",", ":"))
    return (text + "\n").encode("utf-8")


def write_cases(kind: Kind, out: Path, *, count: int, seed: int, invalid: bool = False,
                pretty: bool = False, advance: Callable[[], None] | None = None,
                format: Literal["json", "xml"] = "json") -> Summary:
    """Generate cases into the folder ``out`` (created if needed) with a ``manifest.json``.

    Args:
        kind: referral, tumour-board-outcome or telemedicine.
        out: the output folder.
        count: how many cases (at least 1).
        seed: the seed.
        invalid: negative cases, each labelled in the manifest with its rule and location.
        pretty: indent the message files (the manifest is always indented).
        advance: called once per case written (a progress bar).
        format: ``xml`` writes each message as FHIR XML (``.xml`` files, same stems); the
            manifest stays JSON.

    Raises:
        ValueError: count below 1.
        OSError: ``out`` cannot be created or written.
    """
    out.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    last = 0
    for generated in generate(kind, count=count, seed=seed, invalid=invalid):
        name, data = _serialised(generated, format=format, pretty=pretty)
        (out / name).write_bytes(data)
        entries.append({**generated.manifest_entry(), "file": name})
        if advance is not None and generated.case.number != last:
            advance()
        last = generated.case.number
    manifest = {"generator": "ecanfhir generate", "kind": kind, "seed": seed, "count": count,
                "invalid": invalid, "files": entries}
    (out / MANIFEST).write_bytes(dumps(manifest, pretty=True))
    return Summary(count, len(entries), out)


def _serialised(generated: GeneratedFile, *, format: str, pretty: bool) -> tuple[str, bytes]:
    if format == "json":
        return generated.name, dumps(generated.bundle, pretty=pretty)
    from ..formats.xml_write import to_xml

    return (generated.name.removesuffix(".json") + ".xml",
            to_xml(generated.bundle, pretty=pretty).encode("utf-8"))
