"""Inputs and checks shared by the builder tests."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ecanfhir import ValidationResult
from ecanfhir.builders import (
    BuildContext,
    CancerDiagnosis,
    Ecog,
    Organization,
    Patient,
    PractitionerRole,
    Recommendation,
    Referral,
    TelemedicineConsultation,
    TnmStage,
    TumourBoardOutcome,
)

CET = timezone(timedelta(hours=1))
AT = datetime(2026, 11, 27, 9, 15, tzinfo=CET)
HOSPITAL = Organization("Aarhus University Hospital, Oncology", sor="123456789012",
                        gln="5790000121526")
CENTRE = Organization("National Cancer Centre, Tumour Board", sor="987654321098",
                      gln="5790001382445", endpoint="https://centre.example/fhir/$process-message")
GP = Organization("General practice", sor="112233445566", gln="5790001340056")
PATIENT = Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male")
DOCTOR = PractitionerRole("Hansen", ("Ida",), role="Consultant oncologist")
DIAGNOSIS = CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3",
                            laterality="left", body_site="C50.4", text="Breast cancer")
STAGE = TnmStage("IIA", date(2026, 11, 20), t="T2", n="N0", m="M0")
ECOG = Ecog(1, date(2026, 11, 21))
REFERRAL = Referral("CASE-2026-0042", "tumour-board-review", "National tumour board assessment",
                    AT, priority="urgent", note="Please assess", requested_date=date(2026, 12, 3))
OUTCOME = TumourBoardOutcome("pre-therapeutic", AT + timedelta(days=6), (
    Recommendation("surgery", "Breast-conserving surgery"),
    Recommendation("radiotherapy", "Adjuvant radiotherapy", "scheduled")), note="Consensus")
CONSULTATION = TelemedicineConsultation("TC-981", "video", "finished", AT,
                                        AT + timedelta(minutes=25))
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
ZONED = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def context(seed: int = 1, at: datetime = AT) -> BuildContext:
    return BuildContext.seeded(seed, at=at)


def assert_no_errors(result: ValidationResult) -> None:
    assert result.errors == (), "\n".join(f"{i.expression}: {i.message} [{i.rule}]"
                                           for i in result.errors)


def _walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)
    else:
        yield key, node


def resources(bundle: Mapping[str, Any], resource_type: str | None = None
              ) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"]
            if resource_type is None or e["resource"]["resourceType"] == resource_type]


def assert_well_formed(bundle: Mapping[str, Any]) -> None:
    """UUID v4 ids agreeing with fullUrls, zoned dateTimes, references resolving, narrative and
    meta.profile on every resource."""
    assert UUID4.match(bundle["id"])
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert UUID4.match(resource["id"]), resource["id"]
        assert uuid.UUID(resource["id"]).version == 4
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        assert resource["text"]["status"] == "generated"
        assert resource["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        if bundle["type"] == "message":
            assert resource["meta"]["profile"][0].startswith(
                "https://ecanfhir.example/fhir/StructureDefinition/ecan-")
    for key, value in _walk(bundle):
        if isinstance(value, str) and DATETIME.match(value):
            assert ZONED.search(value), (key, value)
        if key == "reference":
            assert value in full_urls or value.startswith("MessageHeader/"), value
