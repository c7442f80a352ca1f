"""Tumour markers and metastases in a referral: EcanTumorMarkerTest and
EcanSecondaryCancerCondition, valid for the pilot and linked to the primary cancer."""

from __future__ import annotations

from datetime import date

import pytest
from _builders_support import (
    CENTRE,
    DIAGNOSIS,
    DOCTOR,
    HOSPITAL,
    PATIENT,
    REFERRAL,
    assert_no_errors,
    context,
    resources,
)

from ecanfhir import BuildError, Validator
from ecanfhir.builders import Metastasis, TumourMarker, build_referral_message

MARKER = TumourMarker("6875-9", "Cancer Ag 15-3 [Units/volume] in Serum or Plasma", 28.5,
                      "U/mL", date(2026, 11, 19))
LIVER = Metastasis("C78.7", "Secondary malignant neoplasm of liver", date(2026, 11, 22))


def test_referral_carries_markers_and_metastases(validator: Validator) -> None:
    """Both are supporting information of the referral, point at the primary cancer, and the
    message stays valid for the pilot profiles."""
    message = build_referral_message(REFERRAL, sender=HOSPITAL, receiver=CENTRE,
                                     patient=PATIENT, diagnosis=DIAGNOSIS, requester=DOCTOR,
                                     markers=[MARKER], metastases=[LIVER], context=context(4))
    assert_no_errors(validator.validate(message))
    primary, secondary = resources(message, "Condition")
    (marker,) = resources(message, "Observation")
    primary_ref = f"urn:uuid:{primary['id']}"
    assert secondary["extension"][0]["valueReference"]["reference"] == primary_ref
    assert [c["code"] for c in secondary["code"]["coding"]] == ["C78.7", "DC787"]
    assert marker["focus"][0]["reference"] == primary_ref
    assert marker["valueQuantity"] == {"value": 28.5, "unit": "U/mL",
                                       "system": "http://unitsofmeasure.org", "code": "U/mL"}
    assert marker["performer"][0]["reference"].startswith("urn:uuid:")
    (request,) = resources(message, "ServiceRequest")
    supporting = {r["reference"] for r in request["supportingInfo"]}
    assert {f"urn:uuid:{secondary['id']}", f"urn:uuid:{marker['id']}"} <= supporting


@pytest.mark.parametrize(("make", "field"), [
    (lambda: TumourMarker("6875-9", "x", -1, "U/mL", date(2026, 1, 1)), "TumourMarker.value"),
    (lambda: TumourMarker("6875-9", "x", 1, " ", date(2026, 1, 1)), "TumourMarker.unit"),
    (lambda: Metastasis("C78.7", " ", date(2026, 1, 1)), "Metastasis.text"),
])
def test_impossible_findings_are_refused(make: object, field: str) -> None:
    """A negative value, no unit or no text: BuildError naming the field."""
    with pytest.raises(BuildError, match=field):
        make()  # type: ignore[operator]
