"""Typed builders: eCAN+ messages as plain FHIR R4 JSON from an integrator's own data.

Input types are frozen dataclasses that refuse impossible input with :class:`BuildError`
(naming the field); the ``build_*`` functions return ``dict`` s ready to ``json.dumps`` and
validate against the pilot package (``ecanfhir.pilot``). Ids and clock come from a
:class:`BuildContext`, so a seeded context builds the same bundle every time. The dicts are
the FHIR JSON form: :func:`ecanfhir.formats.to_xml` writes the same content as FHIR XML.

>>> from datetime import UTC, date, datetime
>>> at = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
>>> referral = build_referral_message(
...     Referral("CASE-2026-0042", "tumour-board-review", "National tumour board assessment", at),
...     sender=Organization("Hospital oncology", sor="123456789012", gln="5790000121526"),
...     receiver=Organization("National cancer centre", sor="987654321098", gln="5790001382445"),
...     patient=Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male"),
...     diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3"),
...     context=BuildContext.seeded(42, at=at))
>>> build_acknowledgement(referral, "ok", context=BuildContext.seeded(43, at=at))["entry"][0][
...     "resource"]["response"]["code"]
'ok'
>>> from ecanfhir.formats import to_xml
>>> to_xml(referral).splitlines()[1]
'<Bundle xmlns="http://hl7.org/fhir">'
"""

from __future__ import annotations

from .._exceptions import BuildError
from ._context import BuildContext
from .acknowledgement import AckIssue, build_acknowledgement
from .care_plan import Recommendation, TumourBoardOutcome, build_tumour_board_outcome_message
from .condition import CancerDiagnosis
from .datatypes import Coding, Identifier
from .document import to_document
from .encounter import TelemedicineConsultation, build_telemedicine_message
from .message import resend
from .metastasis import Metastasis
from .observation import Ecog, TnmStage
from .organization import Organization
from .patient import Patient
from .practitioner import PractitionerRole
from .questionnaire import SymptomScores, build_pro_response
from .referral import Referral, build_referral_message
from .tumour_marker import TumourMarker

__all__ = [
    "AckIssue",
    "BuildContext",
    "BuildError",
    "CancerDiagnosis",
    "Coding",
    "Ecog",
    "Identifier",
    "Metastasis",
    "Organization",
    "Patient",
    "PractitionerRole",
    "Recommendation",
    "Referral",
    "SymptomScores",
    "TelemedicineConsultation",
    "TnmStage",
    "TumourBoardOutcome",
    "TumourMarker",
    "build_acknowledgement",
    "build_pro_response",
    "build_referral_message",
    "build_telemedicine_message",
    "build_tumour_board_outcome_message",
    "resend",
    "to_document",
]
