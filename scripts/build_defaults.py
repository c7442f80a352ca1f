#!/usr/bin/env python3
"""Build the HL7 packages ecanfhir knows by default, as the HL7 validator does.

The HL7 validator loads, besides R4 core, the FHIR Extensions Pack
(``hl7.fhir.uv.extensions.r4``), HL7 Terminology (``hl7.terminology.r4``, THO) and the
cross-version extension paths (``hl7.fhir.xver-extensions``). All three are HL7 packages
published under CC0 on the npm registry. This script turns their ``.tgz`` files into:

- ``ecanfhir/data/hl7-extensions-r4.zip`` and ``ecanfhir/data/hl7-terminology-r4.zip``: the
  StructureDefinitions, ValueSets and CodeSystems, one zip member per resource plus
  ``index.json`` (the layout of ``r4-core.zip``, see ``build_core.py``), trimmed of narrative,
  prose, mappings and differentials. CodeSystems keep codes, displays, hierarchy and the
  properties that a value-set filter or the validator reads; designations and other properties
  go (THO's big code systems are most of the weight).
- ``ecanfhir/data/xver-paths.zip``: the element paths of FHIR 1.0, 1.4, 3.0, 4.0 and 5.0 with
  their types, child elements and modifier flag (``xver-paths-{version}.json``), one member per
  version, from which ``ecanfhir.definitions.xver`` synthesises cross-version extension definitions.
- ``ecanfhir/data/defaults.json``: the two packages in look-up order, with the folders and the
  digests of their URLs, so that the validator opens a zip only for a URL it holds.

Usage::

    python scripts/build_defaults.py EXTENSIONS.tgz TERMINOLOGY.tgz XVER.tgz
    python scripts/build_defaults.py --fetch     # npm pack the pinned versions into a temp dir

The script is deterministic: the same input gives the same zips, byte for byte.
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_core import check_offsets, data_at, mark_index, member_name, trim  # a sibling

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "ecanfhir" / "data"
PACKAGES = {
    "extensions": ("hl7.fhir.uv.extensions.r4", "5.3.0-ballot-tc1", "hl7-extensions-r4.zip"),
    "terminology": ("hl7.terminology.r4", "7.0.1", "hl7-terminology-r4.zip"),
    "xver": ("hl7.fhir.xver-extensions", "0.1.0", "xver-paths.zip"),
}
KEEP_TYPES = ("StructureDefinition", "ValueSet", "CodeSystem")
XVER_VERSIONS = ("1.0", "1.4", "3.0", "4.0", "5.0")
DATE = (2019, 11, 1, 0, 0, 0)
# Concept properties the validator reads whatever the value sets say: status and selectability
# (R4 CodeSystem §4.8.10 and THO's "status"/"notSelectable"), hierarchies given as properties.
BASE_PROPERTIES = frozenset({
    "status", "inactive", "notSelectable", "deprecated", "abstract", "parent", "child",
    "subsumedBy", "deprecationDate", "retirementDate",
})


def read_package(tgz: Path) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The manifest and the (name, bytes) of every ``package/`` file of a package .tgz."""
    with tarfile.open(tgz, "r:gz") as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        files = [(m.name[len("package/"):], _read(tar, m)) for m in members
                 if m.name.startswith("package/")]
    manifest: dict[str, Any] = next(
        (json.loads(data) for name, data in files if name == "package.json"), {})
    return manifest, files


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    fh = tar.extractfile(member)
    assert fh is not None
    return fh.read()


def conformance_resources(files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    out = []
    for name, data in files:
        if "/" in name or not name.endswith(".json") or not name.startswith(KEEP_TYPES):
            continue
        resource = json.loads(data)
        if resource.get("resourceType") in KEEP_TYPES and isinstance(resource.get("url"), str):
            out.append(resource)
    return out


def filter_properties(value_sets: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Per code system, the properties value-set filters select on."""
    used: dict[str, set[str]] = {}
    for vs in value_sets:
        compose = vs.get("compose") or {}
        for part in compose.get("include", []) + compose.get("exclude", []):
            for flt in part.get("filter", []):
                prop = flt.get("property")
                if isinstance(part.get("system"), str) and isinstance(prop, str):
                    used.setdefault(part["system"], set()).add(prop)
    return used


def trim_code_system(cs: dict[str, Any], keep: frozenset[str]) -> dict[str, Any]:
    out = trim(cs)  # the core trim: codes, displays, status-like properties, nesting
    out["concept"] = _concepts(cs.get("concept", []), keep)
    if not out["concept"]:
        del out["concept"]
    declared = [{k: v for k, v in p.items() if k in ("code", "type", "uri")}
                for p in cs.get("property", []) if p.get("code") in keep]
    if declared:
        out["property"] = declared
    return out


def _concepts(concepts: list[dict[str, Any]], keep: frozenset[str]) -> list[dict[str, Any]]:
    out = []
    for c in concepts:
        t: dict[str, Any] = {"code": c["code"]}
        if "display" in c:
            t["display"] = c["display"]
        props = [p for p in c.get("property", []) if p.get("code") in keep]
        if props:
            t["property"] = props
        if c.get("concept"):
            t["concept"] = _concepts(c["concept"], keep)
        out.append(t)
    return out


def trim_structure_definition(sd: dict[str, Any]) -> dict[str, Any]:
    out = trim(sd)
    out.pop("differential", None)  # snapshots are complete; differentials only cost space
    return out


def trim_all(resources: list[dict[str, Any]], used: dict[str, set[str]]
             ) -> dict[tuple[str, str], dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in resources:
        rt = resource["resourceType"]
        if rt == "StructureDefinition":
            if not resource.get("snapshot", {}).get("element"):
                continue
            trimmed = trim_structure_definition(resource)
        elif rt == "CodeSystem":
            keep = BASE_PROPERTIES | frozenset(used.get(resource["url"], ()))
            trimmed = trim_code_system(resource, keep)
        else:
            trimmed = trim(resource)
        seen.setdefault((resource["url"], resource.get("version", "")), trimmed)
    return seen


def _entry(info_name: str, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(info_name, date_time=DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info, data


def write_definitions(out: Path, manifest: dict[str, Any],
                      resources: dict[tuple[str, str], dict[str, Any]]) -> dict[str, int]:
    """Write the zip in ``r4-core.zip``'s layout (index rows with offsets; see build_core)."""
    index = []
    counts: dict[str, int] = {}
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for (url, version), resource in sorted(resources.items()):
            member = member_name(url, version)
            zf.writestr(*_entry(member, json.dumps(resource, separators=(",", ":"),
                                                   ensure_ascii=False).encode()))
            rt = resource["resourceType"]
            counts[rt] = counts.get(rt, 0) + 1
            index.append([url, version, rt, member, resource.get("type"), resource.get("kind"),
                          resource.get("derivation"), *data_at(zf.infolist()[-1])])
        head = {"fhirVersion": "4.0.1", "package": manifest["name"],
                "packageVersion": manifest["version"], "license": manifest.get("license"),
                "resources": index}
        zf.writestr(*_entry("index.json", json.dumps(head, separators=(",", ":")).encode()))
        mark_index(zf)
    tmp.replace(out)
    check_offsets(out, index)
    return counts


def url_key(url: str) -> str:
    """A short digest of a URL: ``defaults.json`` lists the digests of every package's URLs, so
    a look-up of a URL the package lacks does not open its zip
    (``ecanfhir.definitions.core.url_key``)."""
    return hashlib.sha1(url.encode()).hexdigest()[:10]


def write_listing(written: list[tuple[str, dict[str, Any], list[str]]]) -> None:
    """``data/defaults.json``: the packages in look-up order, the folders of their URLs and the
    digests of the URLs (so that a look-up opens a package's zip only when the package holds
    the URL)."""
    listing = {"packages": [
        {"file": file_name, "package": f"{m['name']}#{m['version']}", "license": m.get("license"),
         "folders": sorted({url.rpartition("/")[0] + "/" for url in urls}),
         "urls": sorted({url_key(url) for url in urls})}
        for file_name, m, urls in written]}
    (DATA / "defaults.json").write_text(json.dumps(listing, indent=1) + "\n", encoding="utf-8")


def write_xver(out: Path, manifest: dict[str, Any], files: list[tuple[str, bytes]]) -> int:
    paths = {}
    for name, data in files:
        for version in XVER_VERSIONS:
            if name == f"other/xver-paths-{version}.json":
                table = json.loads(data)
                table.pop("doco", None)
                paths[version] = table
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for version, table in sorted(paths.items()):
            zf.writestr(*_entry(f"{version}.json", json.dumps(
                table, separators=(",", ":"), sort_keys=True).encode()))
        head = {"package": manifest["name"], "packageVersion": manifest["version"],
                "license": manifest.get("license"), "versions": sorted(paths)}
        zf.writestr(*_entry("index.json", json.dumps(head, separators=(",", ":")).encode()))
    tmp.replace(out)
    return sum(len(t) for t in paths.values())


def core_value_sets() -> list[dict[str, Any]]:
    """R4 core's value sets: their filters name properties of THO code systems too."""
    with zipfile.ZipFile(DATA / "r4-core.zip") as zf:
        index = json.loads(zf.read("index.json"))["resources"]
        return [json.loads(zf.read(row[3])) for row in index if row[2] == "ValueSet"]


def fetch(into: Path) -> list[Path]:
    """``npm pack`` the pinned versions (the npm registry hosts HL7's FHIR packages)."""
    out = []
    for name, version, _ in PACKAGES.values():
        done = subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=into,
                              check=True, capture_output=True, text=True)
        out.append(into / done.stdout.strip().splitlines()[-1])
    return out


def build(extensions: Path, terminology: Path, xver: Path) -> None:
    ext_manifest, ext_files = read_package(extensions)
    tho_manifest, tho_files = read_package(terminology)
    ext = conformance_resources(ext_files)
    tho = conformance_resources(tho_files)
    used = filter_properties([r for r in ext + tho if r["resourceType"] == "ValueSet"]
                             + core_value_sets())
    written = []
    for manifest, resources, key in ((ext_manifest, ext, "extensions"),
                                     (tho_manifest, tho, "terminology")):
        name, version, file_name = PACKAGES[key]
        if (manifest.get("name"), manifest.get("version")) != (name, version):
            print(f"build_defaults: note: {manifest.get('name')}#{manifest.get('version')} "
                  f"is not the pinned {name}#{version}", file=sys.stderr)
        out = DATA / file_name
        trimmed = trim_all(resources, used)
        counts = write_definitions(out, manifest, trimmed)
        written.append((file_name, manifest, [url for url, _ in trimmed]))
        print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KiB): {counts}")
    write_listing(written)
    xver_manifest, xver_files = read_package(xver)
    out = DATA / PACKAGES["xver"][2]
    count = write_xver(out, xver_manifest, xver_files)
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KiB): {count} paths")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tgz", nargs="*", type=Path,
                        help="the extensions, terminology and xver-extensions .tgz files")
    parser.add_argument("--fetch", action="store_true", help="npm pack the pinned versions")
    args = parser.parse_args(argv[1:])
    if args.fetch:
        with tempfile.TemporaryDirectory() as tmp:
            build(*fetch(Path(tmp)))
        return 0
    if len(args.tgz) != 3 or not all(p.is_file() for p in args.tgz):
        parser.error("give the three package .tgz files (extensions, terminology, xver)")
    build(*args.tgz)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
