"""Dual conformance: every valid example also satisfies the upstream rules the pilot copies.

DOMAIN.md §2(a) ("aligns with") says EcanMessage, EcanPatient, EcanOrganization, the cancer
profiles... copy constraints from DK-core, MedCom, HL7 Europe base/core and mCODE, so that an
instance valid for the pilot is valid for those too. The upstream packages are not available
offline, so each copied rule is written here ONCE, independently of our profiles: the upstream
FHIRPath expression evaluated with fhirpathpy directly (verbatim where the upstream expression
stands alone), or a small Python predicate where the upstream rule is a cardinality, a fixed
code or needs resolution. Nothing here goes through ``ecanfhir.Validator`` or
``profiles/``: the test proves the examples meet the upstream rules on their own.

Sources (repositories and commits of DOMAIN.md §0; MedCom and DK-core FSH read from the
medcomdk/* and hl7dk/dk-core repositories) are in the ``RULES`` table below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
R4 = models["r4"]

Json = dict[str, Any]
Node = tuple[str, Any]                      # (where, the node a rule applies to)
Selector = Callable[[Json, str], Iterator[Node]]

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
GLN_SYSTEMS = ("https://www.gs1.org/gln", "http://www.gs1.org/gln")   # DOMAIN.md §4.1
ECAN_SD = "https://ecanfhir.example/fhir/StructureDefinition/"

# --- upstream expressions, verbatim -------------------------------------------------------------

# hl7dk/dk-core input/fsh/DkCoreCprIdentifier.fsh, invariant `cpr` (on Identifier.value).
DK_CPR = ("matches('^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|"
          "2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))[0-9]{6})$')")
# hl7dk/dk-core input/fsh/SORIdentifier.fsh, invariant `min-digits-sor` (on Identifier.value).
DK_SOR = "matches('^([0-9]){11,}$')"
# hl7dk/dk-core input/fsh/GLNIdentifier.fsh, invariants `gln-length`, `gln-modulus-10`.
DK_GLN_LENGTH = "value.matches('^[0-9]{13}$')"
DK_GLN_MOD10 = ("((\n(10-((value.substring(0,1).toInteger()*1)+\n"
                "(value.substring(1,1).toInteger()*3)+\n(value.substring(2,1).toInteger()*1)+\n"
                "(value.substring(3,1).toInteger()*3)+\n(value.substring(4,1).toInteger()*1)\n"
                "+(value.substring(5,1).toInteger()*3)\n+(value.substring(6,1).toInteger()*1)\n"
                "+(value.substring(7,1).toInteger()*3)\n+(value.substring(8,1).toInteger()*1)\n"
                "+(value.substring(9,1).toInteger()*3)\n+(value.substring(10,1).toInteger()*1)\n"
                "+(value.substring(11,1).toInteger()*3))mod(10))mod(10))"
                "=value.substring(12,1).toInteger())")
# hl7dk/dk-core input/fsh/DkCoreOrganization.fsh, `dk-core-organization-mandatory-identifier`
# (SOR, KOMBIT or CVR; DOMAIN.md §1 lists `http://cvr.dk` for CVR as well, accepted here too).
DK_ORG_ID = ("identifier.where(system='urn:oid:1.2.208.176.1.1' or "
             "system='https://kombit.dk/sts/organisation' or "
             "system='urn:oid:2.16.840.1.113883.2.24.1.1' or system='http://cvr.dk').exists()")
# medcomdk/dk-medcom-messaging MedComMessagingMessage, `medcom-messaging-2`.
MEDCOM_MSG_2 = "entry.resource.ofType(Provenance).exists()"
# medcomdk/dk-medcom-messaging MedComMessagingMessage, `medcom-messaging-1`: upstream it is
# `entry[0].resource.conformsTo(<MedCom header profile>)`; offline we keep its structural part.
MEDCOM_MSG_1 = "entry.first().resource is MessageHeader"
# medcomdk/dk-medcom-acknowledgement MedComAcknowledgementMessage, `medcom-acknowledgement-1`.
MEDCOM_ACK_1 = ("iif(entry.resource.ofType(MessageHeader).response.code = 'ok', true, "
                "entry.resource.ofType(MessageHeader).response.code != 'ok' and "
                "entry.resource.ofType(OperationOutcome).exists())")
# hl7-eu/base PatientEuCore, `eu-pat-1` (on Patient.name).
EU_PAT_1 = ("family.exists() or given.exists() or text.exists() or "
            "extension('http://hl7.org/fhir/StructureDefinition/data-absent-reason').exists()")
# MedCom (medcom-uuidv4, DOMAIN.md §4.9): UUID version 4, lower or upper case hex.
UUID4 = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-"
                   r"[0-9A-Fa-f]{12}$")
# MedCom `medcom-datetime-has-time-and-zone` / DOMAIN.md §4.11: a time carries a zone.
HAS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
ZONED = re.compile(r"T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def fhirpath(node: Any, expression: str) -> bool:
    """The upstream expression's verdict on ``node`` (fhirpathpy, R4 model): all true."""
    result = evaluate(node, expression, {}, R4)
    return result != [] and all(v is True for v in result)


# --- where the rules apply ----------------------------------------------------------------------

def resources(example: Json, where: str) -> Iterator[tuple[str, Json, Json | None]]:
    """Every resource of an example: (location, resource, the message Bundle it is in or None)."""
    yield where, example, None
    if example.get("resourceType") == "Bundle":
        bundle = example if example.get("type") == "message" else None
        for i, entry in enumerate(example.get("entry", ())):
            yield f"{where}.entry[{i}]", entry["resource"], bundle


def of_type(resource_type: str, *, in_message: bool = False) -> Selector:
    def select(example: Json, where: str) -> Iterator[Node]:
        for at, resource, bundle in resources(example, where):
            if resource.get("resourceType") == resource_type and (bundle or not in_message):
                yield at, resource
    return select


def claiming(profile_id: str) -> Selector:
    """Resources naming a pilot profile (selection only: nothing is validated against it)."""
    def select(example: Json, where: str) -> Iterator[Node]:
        for at, resource, _ in resources(example, where):
            if ECAN_SD + profile_id in resource.get("meta", {}).get("profile", ()):
                yield at, resource
    return select


def identifiers(system: str | tuple[str, ...]) -> Selector:
    systems = (system,) if isinstance(system, str) else system

    def select(example: Json, where: str) -> Iterator[Node]:
        for at, resource, _ in resources(example, where):
            for i, ident in enumerate(resource.get("identifier", ()) if isinstance(
                    resource.get("identifier"), list) else ()):
                if ident.get("system") in systems:
                    yield f"{at}.identifier[{i}]", ident
    return select


def names_of(resource_type: str) -> Selector:
    def select(example: Json, where: str) -> Iterator[Node]:
        for at, resource in of_type(resource_type)(example, where):
            for i, name in enumerate(resource.get("name", ())):
                yield f"{at}.name[{i}]", name
    return select


def message_bundles(example: Json, where: str) -> Iterator[Node]:
    if example.get("resourceType") == "Bundle" and example.get("type") == "message":
        yield where, example


def acknowledgements(example: Json, where: str) -> Iterator[Node]:
    for at, bundle in message_bundles(example, where):
        if bundle["entry"][0]["resource"].get("response") is not None:
            yield at, bundle


def message_participants(example: Json, where: str) -> Iterator[Node]:
    """Organizations a MessageHeader names as sender or receiver."""
    for at, bundle in message_bundles(example, where):
        header = bundle["entry"][0]["resource"]
        refs = [header.get("sender", {}).get("reference")]
        refs += [d.get("receiver", {}).get("reference") for d in header.get("destination", ())]
        by_url = {e["fullUrl"]: (i, e["resource"]) for i, e in enumerate(bundle["entry"])}
        for ref in refs:
            if ref in by_url:
                i, org = by_url[ref]
                yield f"{at}.entry[{i}]", org


def narrated_in_message(example: Json, where: str) -> Iterator[Node]:
    for at, resource, bundle in resources(example, where):
        if bundle is not None and resource.get("resourceType") in (
                "MessageHeader", "Provenance", "Organization", "Patient"):
            yield at, resource


def message_ids(example: Json, where: str) -> Iterator[Node]:
    """Bundle.id, every entry's resource id and urn:uuid fullUrl, response.identifier."""
    for at, bundle in message_bundles(example, where):
        yield f"{at}.id", bundle.get("id")
        for i, entry in enumerate(bundle["entry"]):
            yield f"{at}.entry[{i}].resource.id", entry["resource"].get("id")
            yield f"{at}.entry[{i}].fullUrl", str(entry["fullUrl"]).removeprefix("urn:uuid:")
        response = bundle["entry"][0]["resource"].get("response")
        if response:
            yield f"{at}.entry[0].resource.response.identifier", response.get("identifier")


def date_times(example: Json, where: str) -> Iterator[Node]:
    """Every JSON string shaped like a dateTime/instant with a time (narrative aside)."""
    def walk(node: Any, at: str) -> Iterator[Node]:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key != "div":
                    yield from walk(value, f"{at}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{at}[{i}]")
        elif isinstance(node, str) and HAS_TIME.match(node):
            yield at, node
    yield from walk(example, where)


# --- the rules ----------------------------------------------------------------------------------

def _narrative(resource: Json) -> bool:
    text = resource.get("text", {})
    return (text.get("status") in ("generated", "extensions", "additional")
            and str(text.get("div", "")).startswith('<div xmlns="http://www.w3.org/1999/xhtml"'))


def _sor_and_gln(org: Json) -> bool:
    systems = [i.get("system") for i in org.get("identifier", ())]
    return (len(systems) >= 2 and SOR_SYSTEM in systems
            and any(s in GLN_SYSTEMS for s in systems))


def _ecog(obs: Json) -> bool:
    coded = any(c.get("system") == "http://loinc.org" and c.get("code") == "89247-1"
                for c in obs.get("code", {}).get("coding", ()))
    values = [k for k in obs if k.startswith("value")]
    score = obs.get("valueInteger")
    return (coded and values == ["valueInteger"] and isinstance(score, int)
            and not isinstance(score, bool) and 0 <= score <= 5)


def _board_decision(plan: Json) -> bool:
    return all(a.get("detail", {}).get("status") not in ("cancelled", "stopped")
               or "statusReason" in a.get("detail", {}) for a in plan.get("activity", ()))


@dataclass(frozen=True)
class Rule:
    """An upstream rule: where it comes from, where it applies, and the check."""

    source: str       # IG (package) — artefact — rule key
    select: Selector
    check: Callable[[Any], bool]


RULES: dict[str, Rule] = {
    "dk-cpr": Rule(
        "DK-core (hl7.fhir.dk.core) — DkCoreCprIdentifier — inv cpr",
        identifiers(CPR_SYSTEM), lambda i: fhirpath(i, f"value.all({DK_CPR})")),
    "dk-cpr-use": Rule(
        "DK-core — DkCoreCprIdentifier — use = official (exactly)",
        identifiers(CPR_SYSTEM), lambda i: i.get("use") == "official"),
    "dk-sor": Rule(
        "DK-core — SORIdentifier — inv min-digits-sor",
        identifiers(SOR_SYSTEM), lambda i: fhirpath(i, f"value.all({DK_SOR})")),
    "dk-gln-length": Rule(
        "DK-core — GLNIdentifier — inv gln-length",
        identifiers(GLN_SYSTEMS), lambda i: fhirpath(i, DK_GLN_LENGTH)),
    "dk-gln-modulus-10": Rule(
        "DK-core — GLNIdentifier — inv gln-modulus-10",
        identifiers(GLN_SYSTEMS), lambda i: fhirpath(i, DK_GLN_MOD10)),
    "dk-org-identifier": Rule(
        "DK-core — DkCoreOrganization — inv dk-core-organization-mandatory-identifier",
        of_type("Organization"), lambda o: fhirpath(o, DK_ORG_ID)),
    "medcom-messaging-1": Rule(
        "MedCom Messaging 4.0.1 — MedComMessagingMessage — inv medcom-messaging-1 "
        "(structural part: entry[0] is the MessageHeader)",
        message_bundles, lambda b: fhirpath(b, MEDCOM_MSG_1)),
    "medcom-messaging-2": Rule(
        "MedCom Messaging 4.0.1 — MedComMessagingMessage — inv medcom-messaging-2",
        message_bundles, lambda b: fhirpath(b, MEDCOM_MSG_2)),
    "medcom-message-timestamp": Rule(
        "MedCom Messaging 4.0.1 — MedComMessagingMessage — id 1.., timestamp 1..",
        message_bundles, lambda b: bool(b.get("id")) and bool(b.get("timestamp"))),
    "medcom-participant-sor-gln": Rule(
        "MedCom Messaging 4.0.1 — MedComMessagingOrganization — identifier 2.., EAN-ID 1.. "
        "(+ MedComCoreOrganization SOR-ID 1..)",
        message_participants, _sor_and_gln),
    "medcom-narrative": Rule(
        "MedCom Messaging 4.0.1 — MessageHeader/Provenance/Organization (+ MedCom core "
        "Patient) — text SHALL be present in a MedCom Bundle (text.status, text.div 1..1)",
        narrated_in_message, _narrative),
    "medcom-acknowledgement-1": Rule(
        "MedCom Acknowledgement 2.0.3 — MedComAcknowledgementMessage — "
        "inv medcom-acknowledgement-1",
        acknowledgements, lambda b: fhirpath(b, MEDCOM_ACK_1)),
    "medcom-uuidv4": Rule(
        "MedCom CareCommunication 5.0.4 / governance — inv medcom-uuidv4 (ids are UUID v4)",
        message_ids, lambda v: isinstance(v, str) and bool(UUID4.match(v))),
    "medcom-datetime-zone": Rule(
        "MedCom — inv medcom-datetime-has-time-and-zone (DOMAIN.md §4.11)",
        date_times, lambda v: bool(ZONED.search(v))),
    "eu-pat-1": Rule(
        "HL7 Europe Base & Core 2.0.0 — PatientEuCore — inv eu-pat-1",
        names_of("Patient"), lambda n: fhirpath(n, EU_PAT_1)),
    "eu-condition-code": Rule(
        "HL7 Europe Base & Core 2.0.0 — ConditionEuCore — code 1..1",
        of_type("Condition"), lambda c: isinstance(c.get("code"), dict)),
    "mcode-ecog": Rule(
        "mCODE STU4 — ECOGPerformanceStatus — code = LOINC 89247-1, value[x] only integer 0..5",
        claiming("ecan-ecog-performance-status"), _ecog),
    "mcode-tnm-stage-group": Rule(
        "mCODE STU4 — TNMStageGroup — method 1..1, focus 1..1",
        claiming("ecan-tnm-stage-group"), lambda o: "method" in o and bool(o.get("focus"))),
    "mcode-tnm-category": Rule(
        "mCODE STU4 — TNM{PrimaryTumor,RegionalNodes,DistantMetastases}Category — method 1..1",
        claiming("ecan-tnm-category"), lambda o: "method" in o),
    "mii-tumorkonferenz": Rule(
        "MII Onkologie 2025.0.0 — mii-pr-onko-tumorkonferenz — "
        "tumorkonferenz-empfehlung-entscheidung-patient (cancelled/stopped need statusReason)",
        of_type("CarePlan"), _board_decision),
}


def _valid_examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.rglob("*.json")
                  if not p.name.startswith("invalid-") and not p.name.endswith(".expected.json"))


VALID = [(p.relative_to(EXAMPLES).as_posix(), json.loads(p.read_text(encoding="utf-8")))
         for p in _valid_examples()]


@pytest.mark.parametrize("key", sorted(RULES))
def test_valid_examples_satisfy_upstream_rule(key: str) -> None:
    """Every valid example satisfies the upstream rule wherever it applies, and the rule
    applies somewhere (a rule no example exercises proves nothing)."""
    rule = RULES[key]
    applied, failures = 0, []
    for name, example in VALID:
        for where, node in rule.select(example, example.get("resourceType", "?")):
            applied += 1
            if not rule.check(node):
                failures.append(f"{name}: {where}")
    assert applied > 0, f"{key} ({rule.source}) applies to no valid example"
    assert failures == [], f"{key} ({rule.source}) fails:\n" + "\n".join(failures)


@pytest.mark.parametrize(("key", "node", "verdict"), [
    ("dk-cpr", {"system": CPR_SYSTEM, "value": "3102489996"}, False),     # 31 February
    ("dk-cpr", {"system": CPR_SYSTEM, "value": "2512489996"}, True),
    ("dk-sor", {"system": SOR_SYSTEM, "value": "1234567890"}, False),     # 10 digits
    ("dk-gln-length", {"system": GLN_SYSTEMS[0], "value": "579000012152"}, False),
    ("dk-gln-modulus-10", {"system": GLN_SYSTEMS[0], "value": "5790000121527"}, False),
    ("dk-gln-modulus-10", {"system": GLN_SYSTEMS[1], "value": "5790000121526"}, True),
    ("dk-org-identifier", {"resourceType": "Organization", "name": "No SOR"}, False),
    ("eu-pat-1", {"use": "official"}, False),
    ("mcode-ecog", {"code": {"coding": [{"system": "http://loinc.org", "code": "89247-1"}]},
                    "valueInteger": 6}, False),
    ("medcom-uuidv4", "5f2d7b9c-1e3a-1b8d-a6c2-9f0e1d3b5a72", False),   # version 1
    ("medcom-datetime-zone", "2026-11-27T09:15:00", False),
    ("medcom-participant-sor-gln", {"identifier": [{"system": SOR_SYSTEM,
                                                     "value": "123456789012"}]}, False),
    ("mii-tumorkonferenz", {"activity": [{"detail": {"status": "stopped"}}]}, False),
])
def test_upstream_check_discriminates(key: str, node: Any, verdict: bool) -> None:
    """The independent checks are not vacuous: each rejects what the upstream rule rejects."""
    assert RULES[key].check(node) is verdict


def test_acknowledgement_rule_rejects_error_without_outcome() -> None:
    """medcom-acknowledgement-1 (verbatim FHIRPath) fails a fatal-error ack with no
    OperationOutcome."""
    ack = next(e for name, e in VALID if name == "ecan-acknowledgement/valid-fatal-error.json")
    stripped = {**ack, "entry": [e for e in ack["entry"]
                                 if e["resource"]["resourceType"] != "OperationOutcome"]}
    assert RULES["medcom-acknowledgement-1"].check(ack)
    assert not RULES["medcom-acknowledgement-1"].check(stripped)
