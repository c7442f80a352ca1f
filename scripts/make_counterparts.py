#!/usr/bin/env python3
"""Extract the counterpart profiles the alignment report needs into tests/fixtures/counterparts.

``ecanfhir align`` checks the pilot's resources against the national (DK-core, MedCom) and
European (HL7 Europe base, EU patient summary, IPS) profiles listed in
``ecanfhir.alignment.COUNTERPARTS``. Its tests must run offline, so this script keeps
a small copy of exactly those profiles and what they need: the dependency closure over every
canonical they name (base profiles, type and target profiles, extensions, the value sets of
required and extensible bindings, the code systems and value sets those include). Example and
preferred bindings are not followed (a validator does not check them).

To stay small, each copied resource loses what validation never reads: its narrative
(``text``), ``mapping`` and, for published packages, the ``snapshot`` (ecanfhir generates it
from the differential, as it does for the IG sources, which carry differentials only).

The output is a FHIR package cache: ``<out>/<id>#<version>/package/`` with a ``package.json``
(dependencies on the other copied packages) and one file per resource, so a test loads it with
``FHIR_PACKAGE_CACHE=<out>`` or ``--ig <out>/<id>#<version>``. A ``README.md`` beside it names
each package's source and licence.

Usage (from the repository root; both sources are read-only)::

    python3 scripts/make_counterparts.py --real-igs ../shared/corpus/real-igs \
        --ips hl7.fhir.uv.ips-2.0.0.tgz            # `npm pack hl7.fhir.uv.ips@2.0.0`
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ecanfhir.alignment import COUNTERPARTS  # noqa: E402

CONFORMANCE = ("StructureDefinition", "ValueSet", "CodeSystem")
# Keys whose text is prose or mappings, never a reference validation follows.
_PROSE = frozenset({"text", "mapping", "description", "definition", "comment", "requirements",
                    "purpose", "copyright", "short", "meaningWhenMissing", "orderMeaning",
                    "publisher", "contact", "isModifierReason", "human", "snapshot"})
_CHECKED_STRENGTHS = ("required", "extensible")


@dataclass(frozen=True, slots=True)
class Source:
    """One package the copy is made from."""

    folder: str             # folder under real-igs/igs/, or "" for a .tgz
    package: str            # id
    version: str
    licence: str
    origin: str             # repository @ commit, or the registry
    canonical: str
    dependencies: tuple[str, ...] = ()


SOURCES = (
    Source("dk-core", "hl7.fhir.dk.core", "3.8.0", "CC0-1.0",
           "github.com/hl7dk/dk-core @ 832200373b (FSH compiled with SUSHI 3.21.0)",
           "http://hl7.dk/fhir/core"),
    Source("dk-medcom-terminology", "medcom.fhir.dk.terminology", "2.0.1",
           "no licence file; MedCom's public IG for implementers (code lists)",
           "github.com/medcomdk/dk-medcom-terminology @ 3b57f3f989 (SUSHI 3.21.0)",
           "http://medcomfhir.dk/ig/terminology"),
    Source("dk-medcom-core", "medcom.fhir.dk.core", "4.0.0", "MIT",
           "github.com/medcomdk/dk-medcom-core @ 9970842188 (SUSHI 3.21.0)",
           "http://medcomfhir.dk/ig/core",
           ("hl7.fhir.dk.core#3.8.0", "medcom.fhir.dk.terminology#2.0.1")),
    Source("dk-medcom-messaging", "medcom.fhir.dk.messaging", "4.0.1", "MIT",
           "github.com/medcomdk/dk-medcom-messaging @ 5855d1f121 (SUSHI 3.21.0)",
           "http://medcomfhir.dk/ig/messaging",
           ("medcom.fhir.dk.core#4.0.0", "medcom.fhir.dk.terminology#2.0.1")),
    Source("eu-extensions", "hl7.fhir.eu.extensions.r4", "1.3.0", "CC0-1.0",
           "github.com/hl7-eu/extensions @ 1fbcb13fd3 (FSH recompiled as R4, SUSHI 3.21.0)",
           "http://hl7.eu/fhir/extensions"),
    Source("eu-base", "hl7.fhir.eu.base", "2.0.0", "CC0-1.0",
           "github.com/hl7-eu/base @ 04064c7ef9 (SUSHI 3.21.0)", "http://hl7.eu/fhir/base",
           ("hl7.fhir.eu.extensions.r4#1.3.0",)),
    Source("", "hl7.fhir.uv.ips", "2.0.0", "CC0-1.0",
           "the published package hl7.fhir.uv.ips#2.0.0 (packages.fhir.org, npm)",
           "http://hl7.org/fhir/uv/ips"),
    Source("eu-eps", "hl7.fhir.eu.eps", "1.0.0-xtehr", "CC0-1.0",
           "github.com/hl7-eu/eps @ 9d54a6ff94 (SUSHI 3.21.0)", "http://hl7.eu/fhir/eps",
           ("hl7.fhir.eu.base#2.0.0", "hl7.fhir.uv.ips#2.0.0",
            "hl7.fhir.eu.extensions.r4#1.3.0")),
)


@dataclass(slots=True)
class Pool:
    """Every conformance resource of the sources, by canonical URL."""

    by_url: dict[str, tuple[Source, str, dict[str, Any]]] = field(default_factory=dict)

    def add(self, source: Source, name: str, resource: dict[str, Any]) -> None:
        url = resource.get("url")
        if resource.get("resourceType") in CONFORMANCE and isinstance(url, str):
            self.by_url.setdefault(url, (source, name, resource))


def _read_ips(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if path.is_dir():
        root = path / "package" if (path / "package").is_dir() else path
        for file in sorted(root.glob("*.json")):
            yield file.name, json.loads(file.read_text(encoding="utf-8"))
        return
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 2 and parts[1].endswith(".json"):
                data = archive.extractfile(member)
                assert data is not None
                yield parts[1], json.loads(data.read())


def load_pool(real_igs: Path, ips: Path) -> Pool:
    pool = Pool()
    for source in SOURCES:
        if source.folder:
            for file in sorted((real_igs / "igs" / source.folder).glob("*.json")):
                pool.add(source, file.name, json.loads(file.read_text(encoding="utf-8")))
        else:
            for name, resource in _read_ips(ips):
                pool.add(source, name, resource)
    return pool


def canonicals(node: Any) -> Iterator[str]:
    """The canonical URLs a conformance resource names where validation follows them."""
    if isinstance(node, dict):
        if node.get("strength") in ("example", "preferred") and "valueSet" in node:
            return  # an example or preferred binding is not checked
        for key, value in node.items():
            if key not in _PROSE:
                yield from canonicals(value)
    elif isinstance(node, list):
        for item in node:
            yield from canonicals(item)
    elif isinstance(node, str) and node.startswith(("http://", "https://", "urn:")):
        yield node.partition("|")[0]


def closure(pool: Pool, roots: list[str]) -> tuple[list[str], list[str]]:
    """The URLs reachable from ``roots`` in the pool, and the named ones it lacks."""
    seen: list[str] = []
    missing: set[str] = set()
    todo = list(roots)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        if url not in pool.by_url:
            missing.add(url)
            continue
        seen.append(url)
        todo.extend(u for u in canonicals(pool.by_url[url][2]) if u in pool.by_url)
    return seen, sorted(m for m in missing if m in roots)


def slim(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without what validation never reads."""
    kept = {k: v for k, v in resource.items() if k not in ("text", "mapping")}
    if "differential" in kept:
        kept.pop("snapshot", None)
    return kept


def write(pool: Pool, urls: list[str], out: Path) -> dict[str, int]:
    if out.exists():
        shutil.rmtree(out)
    counts: dict[str, int] = {}
    for url in urls:
        source, name, resource = pool.by_url[url]
        folder = out / f"{source.package}#{source.version}" / "package"
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(slim(resource), ensure_ascii=False, separators=(",", ":"))
        (folder / name).write_text(text + "\n", encoding="utf-8")
        counts[source.package] = counts.get(source.package, 0) + 1
    for source in SOURCES:
        folder = out / f"{source.package}#{source.version}" / "package"
        if not folder.is_dir():
            continue
        deps = {d.partition("#")[0]: d.partition("#")[2] for d in source.dependencies
                if (out / d).is_dir()}
        manifest = {"name": source.package, "version": source.version,
                    "canonical": source.canonical, "fhirVersions": ["4.0.1"],
                    "license": source.licence, "dependencies": {"hl7.fhir.r4.core": "4.0.1",
                                                                **deps},
                    "description": f"Extract for ecanfhir's tests from {source.origin}"}
        (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                             encoding="utf-8")
    return counts


def readme(counts: dict[str, int], missing: list[str]) -> str:
    rows = "\n".join(f"| `{s.package}#{s.version}` | {counts[s.package]} | {s.origin} | "
                     f"{s.licence} |" for s in SOURCES if s.package in counts)
    gaps = "".join(f"\n- `{m}`" for m in missing) or " none."
    return f"""# Counterpart profiles for `ecanfhir align` (test data)

Made by `scripts/make_counterparts.py`; do not edit by hand, rerun the script. It copies, from
the packages below, exactly the profiles `ecanfhir align` checks the pilot against (the table
`COUNTERPARTS` in `ecanfhir/alignment/_counterparts.py`) and their dependency closure: base
profiles, type and target profiles, extensions, the value sets of required and extensible
bindings and the code systems those include. Narrative, mappings and (for the published IPS
package) snapshots are removed; nothing else is changed. The folder is a FHIR package cache
(`<id>#<version>/package/`), so the tests run `ecanfhir align` with
`FHIR_PACKAGE_CACHE` pointing here: no network, no other checkout.

| package | resources | source | licence |
|---|---|---|---|
{rows}

The CC0-1.0 packages are dedicated to the public domain. The two MedCom packages marked MIT
are used under the MIT licence of their repositories, reproduced in `LICENSE.md` beside this
file. The MedCom terminology repository has no licence file; its code lists are MedCom's public
material for implementers, copied here only as the value sets the MedCom profiles bind.

Counterpart profiles named by the alignment table but not found in these sources:{gaps}
"""


LICENCES = """# Licences of the counterpart copies

## medcom.fhir.dk.core, medcom.fhir.dk.messaging: MIT

Source: github.com/medcomdk/dk-medcom-core and github.com/medcomdk/dk-medcom-messaging; the
copyright holder is the one named in each repository's LICENSE file (MedCom).

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

## hl7.fhir.dk.core, hl7.fhir.eu.*, hl7.fhir.uv.ips: CC0-1.0

Creative Commons Zero v1.0 Universal: the authors dedicated these works to the public domain
(https://creativecommons.org/publicdomain/zero/1.0/). HL7 Europe's eps sushi-config adds
"Used by permission of HL7 Europe".
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-igs", required=True, type=Path,
                        help="folder with igs/<ig>/ (the SUSHI builds of the IG sources)")
    parser.add_argument("--ips", required=True, type=Path,
                        help="hl7.fhir.uv.ips#2.0.0: its .tgz or package folder")
    parser.add_argument("--out", type=Path, default=REPO / "tests/fixtures/counterparts")
    args = parser.parse_args(argv)
    pool = load_pool(args.real_igs, args.ips)
    roots = sorted({url for urls in COUNTERPARTS.values() for url in urls})
    urls, missing = closure(pool, roots)
    counts = write(pool, urls, args.out)
    (args.out / "README.md").write_text(readme(counts, missing), encoding="utf-8")
    (args.out / "LICENSE.md").write_text(LICENCES, encoding="utf-8")
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"{len(urls)} resources from {len(counts)} packages, {size // 1024} KB in {args.out}")
    for url in missing:
        print(f"not found: {url}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
