"""500 synthetic cases look like a cancer-care pilot: shares, codes, TNM, dates, identifiers.

Checks read the built Bundles (what a receiver sees), with rules written here independently of
the generator: ICD-O-3 families per site, UICC stage invariants, the DK-core ``cpr`` regex taken
from the pilot profile, the GS1 mod-10 check digit.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ecanfhir.builders.patient import birth_date_from_cpr
from ecanfhir.synthetic import SITES, GeneratedFile, cpr_modulus_11, generate

N = 500
ROOT = Path(__file__).resolve().parents[3]
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SKS = "urn:oid:1.2.208.176.2.4.12"
CPR = "urn:oid:1.2.208.176.1.2"
# ICD-O-3 morphology families that are plausible per site (first three digits).
FAMILIES = {"breast": {"850", "852", "848"}, "prostate": {"814", "850"},
            "lung": {"814", "807", "804", "801"}, "colorectal": {"814", "848"},
            "melanoma": {"872", "874"}, "bladder": {"812", "813"},
            "lymphoma": {"968", "965", "969"}, "pancreas": {"850", "814"},
            "kidney": {"831", "826"}, "uterus": {"838"}, "ovary": {"844", "838"},
            "upper-gi": {"814", "807", "849"}, "head-neck": {"807"}, "thyroid": {"826", "833"},
            "leukaemia": {"982", "986"}, "cervix": {"807", "814"}, "testis": {"906", "907"},
            "brain": {"944", "940"}, "liver": {"817"}}
PAIRED = {"breast", "lung", "kidney", "ovary", "testis"}


def _of(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == resource_type]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


@pytest.fixture(scope="module")
def referrals() -> list[GeneratedFile]:
    return list(generate("referral", count=N, seed=2026))


@pytest.fixture(scope="module")
def outcomes() -> list[GeneratedFile]:
    return [f for f in generate("tumour-board-outcome", count=200, seed=2026)
            if f.role == "outcome"]


@pytest.fixture(scope="module")
def consultations() -> list[GeneratedFile]:
    return list(generate("telemedicine", count=N, seed=2026))


def _tolerance(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n) + 0.005


def test_site_shares_match_the_catalogue(referrals: list[GeneratedFile]) -> None:
    """Each site's share of 500 cases is within 4 standard errors of its catalogue share."""
    counts = Counter(f.case.site.key for f in referrals)
    assert math.isclose(sum(s.share for s in SITES), 1.0)
    for site in SITES:
        assert abs(counts[site.key] / N - site.share) <= _tolerance(site.share, N), site.key
    assert counts.most_common(1)[0][0] in {"breast", "prostate", "lung", "colorectal"}


def test_codes_morphology_and_laterality_fit_the_site(referrals: list[GeneratedFile]) -> None:
    """ICD-10 and SKS-D agree; morphology belongs to the site; laterality only when paired."""
    for f in referrals:
        condition = _of(f.bundle, "Condition")[0]
        codes = {c["system"]: c["code"] for c in condition["code"]["coding"]}
        assert codes[SKS] == "D" + codes[ICD10].replace(".", "")
        assert re.fullmatch(r"(C[0-9]{2}|D0[0-9])(\.[0-9])?", codes[ICD10])
        extensions = {x["url"].rsplit("/", 1)[1]: x["valueCodeableConcept"]["coding"][0]
                      for x in condition.get("extension", [])}
        morphology = extensions["ecan-histology-morphology-behavior"]
        assert morphology["system"] == ICDO3
        assert morphology["code"][:3] in FAMILIES[f.case.site.key], (f.case.site.key, morphology)
        in_situ = codes[ICD10].startswith("D0")
        assert morphology["code"].endswith("/2" if in_situ else "/3")
        assert ("ecan-laterality" in extensions) == (f.case.site.key in PAIRED)
        assert condition["bodySite"][0]["coding"][0]["system"] == ICDO3


def test_sex_specific_sites(referrals: list[GeneratedFile]) -> None:
    """Prostate and testis cancers are men's; uterus, ovary and cervix cancers women's."""
    for f in referrals:
        gender = _of(f.bundle, "Patient")[0]["gender"]
        if f.case.site.key in ("prostate", "testis"):
            assert gender == "male"
        if f.case.site.key in ("uterus", "ovary", "cervix"):
            assert gender == "female"


def test_tnm_agrees_with_the_stage_group(referrals: list[GeneratedFile]) -> None:
    """M1 iff stage IV; Tis iff stage 0; stage I is N0; T4 or N2-3 without M1 is stage III."""
    staged = 0
    for f in referrals:
        observations = _of(f.bundle, "Observation")
        if f.case.site.tnm is False:
            assert all(o["code"]["coding"][0]["code"] == "89247-1" for o in observations)
            continue
        staged += 1
        group, *members = observations[:4]
        value = {o["id"]: o["valueCodeableConcept"]["coding"][0]["code"] for o in members}
        t, n, m = (value[r["reference"].removeprefix("urn:uuid:")] for r in group["hasMember"])
        stage = group["valueCodeableConcept"]["coding"][0]["code"]
        assert (t, n, m) == (f.case.stage.t, f.case.stage.n, f.case.stage.m)  # type: ignore[union-attr]
        assert m.startswith("M1") == (stage == "IV")
        assert (t == "Tis") == (stage == "0")
        if stage.rstrip("AB") == "I":
            assert n == "N0" and t[:2] in ("T1", "T2")
        if not m.startswith("M1") and (t.startswith("T4") or n in ("N2", "N3")):
            assert stage.startswith("III")
    assert staged > N * 0.8


def test_ecog_is_skewed_low(referrals: list[GeneratedFile]) -> None:
    """ECOG scores 0-4 (no dead patients referred), mostly 0 or 1."""
    scores = [o["valueInteger"] for f in referrals for o in _of(f.bundle, "Observation")
              if o["code"]["coding"][0]["code"] == "89247-1"]
    assert len(scores) > N * 0.8
    assert set(scores) <= {0, 1, 2, 3, 4} and {0, 1, 2, 3} <= set(scores)
    assert sum(s <= 1 for s in scores) / len(scores) > 0.6


def test_referral_dates_are_in_order(referrals: list[GeneratedFile]) -> None:
    """diagnosis <= staging <= ECOG and staging <= referral authored <= message sent."""
    for f in referrals:
        diagnosed = _day(_of(f.bundle, "Condition")[0]["onsetDateTime"])
        request = _of(f.bundle, "ServiceRequest")[0]
        authored = _instant(request["authoredOn"])
        for o in _of(f.bundle, "Observation"):
            assert diagnosed <= _day(o["effectiveDateTime"]) <= authored.date()
        assert authored <= _instant(f.bundle["timestamp"])
        if "occurrenceDateTime" in request:
            assert _day(request["occurrenceDateTime"]) >= authored.date()
        assert _instant(f.bundle["timestamp"]).utcoffset() is not None


def test_board_follows_the_referral(outcomes: list[GeneratedFile]) -> None:
    """The referral precedes the board, which precedes the outcome message."""
    for f in outcomes:
        authored = _instant(_of(f.bundle, "ServiceRequest")[0]["authoredOn"])
        held = _instant(_of(f.bundle, "CarePlan")[0]["created"])
        assert _day(_of(f.bundle, "Condition")[0]["onsetDateTime"]) <= authored.date()
        assert authored < held < _instant(f.bundle["timestamp"])


def test_every_cpr_is_valid_and_fictitious(referrals: list[GeneratedFile],
                                           consultations: list[GeneratedFile]) -> None:
    """CPR numbers match DK-core's cpr regex, encode the birthDate, fail modulus 11 and agree
    with the gender (odd last digit: male)."""
    profile = json.loads((ROOT / "profiles/StructureDefinition/ecan-patient.json").read_text())
    expression = next(c["expression"] for e in profile["differential"]["element"]
                      for c in e.get("constraint", []) if c["key"] == "cpr")
    regex = re.compile(re.search(r"matches\('(.+)'\)", expression).group(1))  # type: ignore[union-attr]
    seen = 0
    for f in referrals + consultations:
        patient = _of(f.bundle, "Patient")[0]
        for ident in patient["identifier"]:
            if ident["system"] != CPR:
                continue
            seen += 1
            cpr = ident["value"]
            assert regex.match(cpr), cpr
            assert birth_date_from_cpr(cpr).isoformat() == patient["birthDate"]
            assert not cpr_modulus_11(cpr)
            assert int(cpr[-1]) % 2 == (patient["gender"] == "male")
    assert seen > 2 * N * 0.8


def test_danish_and_foreign_patients(referrals: list[GeneratedFile]) -> None:
    """About 12% of patients are foreign (Finnish or Norwegian test ids), the rest have CPR."""
    systems = Counter(_of(f.bundle, "Patient")[0]["identifier"][0]["system"] for f in referrals)
    assert abs(1 - systems[CPR] / N - 0.12) <= _tolerance(0.12, N)
    assert systems["urn:oid:1.2.246.21"] > 0 and systems["urn:oid:2.16.578.1.12.4.1.4.1"] > 0


def _gs1_ok(gln: str) -> bool:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(gln[:12]))
    return len(gln) == 13 and (10 - total % 10) % 10 == int(gln[12])


def test_departments_have_sor_and_valid_gln(referrals: list[GeneratedFile]) -> None:
    """Several senders; every organisation has a SOR code of 11+ digits and a mod-10 GLN."""
    senders = set()
    for f in referrals:
        sender = f.bundle["entry"][0]["resource"]["sender"]["reference"]
        for entry in f.bundle["entry"][1:]:
            org = entry["resource"]
            if org["resourceType"] != "Organization":
                continue
            ids = {i["system"]: i["value"] for i in org["identifier"]}
            assert re.fullmatch(r"[0-9]{11,}", ids["urn:oid:1.2.208.176.1.1"])
            assert _gs1_ok(ids["https://www.gs1.org/gln"])
            if entry["fullUrl"] == sender:
                senders.add(ids["urn:oid:1.2.208.176.1.1"])
    assert len(senders) >= 6


def test_telemedicine_mix(consultations: list[GeneratedFile]) -> None:
    """Video, phone and asynchronous consultations; most finished; start before end."""
    modalities, statuses = Counter(), Counter()
    for f in consultations:
        encounter = _of(f.bundle, "Encounter")[0]
        modalities[encounter["type"][0]["coding"][0]["code"]] += 1
        statuses[encounter["status"]] += 1
        period = encounter["period"]
        if "end" in period:
            assert _instant(period["start"]) < _instant(period["end"])
            assert _instant(period["end"]) < _instant(f.bundle["timestamp"])
        assert ("end" in period) == (encounter["status"] == "finished")
    for modality, share in (("video", 0.5), ("phone", 0.4), ("async-message", 0.1)):
        assert abs(modalities[modality] / N - share) <= _tolerance(share, N)
    assert statuses["finished"] / N > 0.75 and len(statuses) == 4
