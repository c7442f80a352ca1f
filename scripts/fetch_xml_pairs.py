#!/usr/bin/env python3
"""Fetch again the R4 example pairs of ``tests/fixtures/xml-pairs`` (see its README).

JSON: HL7's R4 4.0.1 examples from the npm package ``hl7.fhir.r4.examples`` (``npm pack``).
XML: the R4 specification's published example files, as kept in the public repository
``fhir-ru/fhir-ru.github.io`` (a build of the R4 specification site) at a fixed commit.
``observation-example-bloodpressure.json`` comes from there too: it is the JSON published
beside that XML in the same build (4.0.1's differs only in how the narrative writes the date).

Every file is checked against ``SHA256SUMS`` in the folder; with ``--check`` nothing is
written and the exit code says whether the fixtures are still what the sources publish.
Needs ``npm`` and network access to the npm registry and to GitHub.

Usage::

    python scripts/fetch_xml_pairs.py [--out tests/fixtures/xml-pairs] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "tests" / "fixtures" / "xml-pairs"
PACKAGE = "hl7.fhir.r4.examples@4.0.1"
MIRROR = ("https://raw.githubusercontent.com/fhir-ru/fhir-ru.github.io/"
          "73deef6284d1692879ccfbac8390a4e965e6d215/")
# fixture stem → the JSON file in the npm package (None: the mirror's own JSON).
PAIRS: dict[str, str | None] = {
    "bundle-example": "Bundle-bundle-example.json",
    "careteam-example": "CareTeam-example.json",
    "encounter-example-home": "Encounter-home.json",
    "observation-example-bloodpressure": None,
    "patient-example-b": "Patient-pat2.json",
    "questionnaire-example-bluebook": "Questionnaire-bb.json",
    "questionnaireresponse-example": "QuestionnaireResponse-3141.json",
    "relatedperson-example": "RelatedPerson-benedicte.json",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=FOLDER, help="where to write")
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args(argv)
    expected = _sums(FOLDER / "SHA256SUMS")
    fetched = _fetch()
    bad = [name for name, data in fetched.items()
           if hashlib.sha256(data).hexdigest() != expected.get(name)]
    for name in bad:
        print(f"{name}: differs from SHA256SUMS", file=sys.stderr)
    if not args.check:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, data in fetched.items():
            (args.out / name).write_bytes(data)
        print(f"wrote {len(fetched)} files to {args.out}")
    return 1 if bad else 0


def _sums(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def _fetch() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", tmp], check=True,
                       capture_output=True, timeout=600)
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as archive:
            for stem, member in PAIRS.items():
                if member is not None:
                    data = archive.extractfile(f"package/{member}")
                    assert data is not None
                    files[f"{stem}.json"] = data.read()
    for stem, member in PAIRS.items():
        files[f"{stem}.xml"] = _get(f"{MIRROR}{stem}.xml")
        if member is None:
            files[f"{stem}.json"] = _get(f"{MIRROR}{stem}.json")
    return dict(sorted(files.items()))


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
    return data


if __name__ == "__main__":
    sys.exit(main())
