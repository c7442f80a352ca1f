"""Input types refuse impossible input with a BuildError naming the field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from _builders_support import AT

from ecanfhir import EcanfhirError
from ecanfhir.builders import (
    AckIssue,
    BuildContext,
    BuildError,
    CancerDiagnosis,
    Coding,
    Ecog,
    Identifier,
    Organization,
    Patient,
    PractitionerRole,
    Recommendation,
    Referral,
    TelemedicineConsultation,
    TnmStage,
    TumourBoardOutcome,
)

NAIVE = datetime(2026, 11, 27, 9, 15)
DAY = date(2026, 11, 20)
REFUSALS: list[tuple[str, Callable[[], object], str]] = [
    ("cpr-length", lambda: Patient("X", cpr="251248999"),
     "Patient.cpr: a CPR number has exactly 10"),
    ("cpr-letters", lambda: Patient("X", cpr="25124899AB"), "Patient.cpr: a CPR number"),
    ("cpr-date", lambda: Patient("X", cpr="3102489996"), "Patient.cpr: the date part 310248"),
    ("cpr-month", lambda: Patient("X", cpr="0113489996"), "Patient.cpr: the date part"),
    ("no-identifier", lambda: Patient("X"), "Patient.cpr: give exactly one"),
    ("two-identifiers", lambda: Patient("X", cpr="2512489996",
                                        foreign_identifier=Identifier("urn:oid:1.2.246.21", "1")),
     "Patient.cpr: give exactly one"),
    ("birth-date", lambda: Patient("X", cpr="2512489996", birth_date=date(1948, 12, 24)),
     "Patient.birth_date: 1948-12-24 contradicts"),
    ("family", lambda: Patient(" ", cpr="2512489996"), "Patient.family"),
    ("given-str", lambda: Patient("X", "Bruno", cpr="2512489996"),  # type: ignore[arg-type]
     "Patient.given"),
    ("gln-check", lambda: Organization("X", sor="123456789012", gln="5790000121527"),
     "Organization.gln: 5790000121527 fails the GS1 mod-10"),
    ("gln-length", lambda: Organization("X", sor="123456789012", gln="579000012152"),
     "Organization.gln: a GLN has exactly 13"),
    ("sor-short", lambda: Organization("X", sor="1234567890", gln="5790000121526"),
     "Organization.sor: a SOR code has at least 11 digits"),
    ("org-name", lambda: Organization("", sor="123456789012", gln="5790000121526"),
     "Organization.name"),
    ("endpoint", lambda: Organization("X", sor="123456789012", gln="5790000121526",
                                      endpoint="not a url"), "Organization.endpoint"),
    ("referral-naive", lambda: Referral("C", "second-opinion", "MDT", NAIVE),
     "Referral.authored: needs a time zone"),
    ("referral-reason", lambda: Referral("C", "cure", "MDT", AT),  # type: ignore[arg-type]
     "Referral.reason"),
    ("referral-case", lambda: Referral(" ", "second-opinion", "MDT", AT), "Referral.case_id"),
    ("referral-service", lambda: Referral("C", "second-opinion", "", AT),
     "Referral.requested_service"),
    ("referral-priority", lambda: Referral("C", "second-opinion", "MDT", AT,
                                           priority="soon"),  # type: ignore[arg-type]
     "Referral.priority"),
    ("referral-date", lambda: Referral("C", "second-opinion", "MDT", AT,
                                       requested_date=date(2026, 11, 1)),
     "Referral.requested_date: 2026-11-01 is before"),
    ("ecog-high", lambda: Ecog(6, DAY), "Ecog.score: ECOG is 0-5, not 6"),
    ("ecog-negative", lambda: Ecog(-1, DAY), "Ecog.score"),
    ("ecog-bool", lambda: Ecog(True, DAY), "Ecog.score"),
    ("ecog-naive", lambda: Ecog(1, NAIVE), "Ecog.assessed: needs a time zone"),
    ("icd10-not-cancer", lambda: CancerDiagnosis(DAY, icd10="I21.9"),
     "CancerDiagnosis.icd10: I21.9 is not a primary cancer code"),
    ("icd10-benign", lambda: CancerDiagnosis(DAY, icd10="D12.6"),
     "CancerDiagnosis.icd10: D12.6 is not a primary cancer"),
    ("icd10-syntax", lambda: CancerDiagnosis(DAY, icd10="C5O.4"), "CancerDiagnosis.icd10: not"),
    ("sks-not-cancer", lambda: CancerDiagnosis(DAY, sks="DI219"),
     "CancerDiagnosis.sks: I21.9 is not a primary cancer"),
    ("sks-syntax", lambda: CancerDiagnosis(DAY, sks="C509"), "CancerDiagnosis.sks: not an SKS"),
    ("sks-disagrees", lambda: CancerDiagnosis(DAY, icd10="C50.4", sks="DC509"),
     "CancerDiagnosis.sks: DC509 does not refine ICD-10 C50.4"),
    ("no-code", lambda: CancerDiagnosis(DAY), "CancerDiagnosis.icd10: give at least one"),
    ("morphology-behaviour", lambda: CancerDiagnosis(DAY, icd10="C50.4", morphology="8500/6"),
     "CancerDiagnosis.morphology"),
    ("topography", lambda: CancerDiagnosis(DAY, icd10="C50.4", body_site="C504"),
     "CancerDiagnosis.body_site"),
    ("laterality", lambda: CancerDiagnosis(DAY, icd10="C50.4",
                                           laterality="up"),  # type: ignore[arg-type]
     "CancerDiagnosis.laterality"),
    ("snomed", lambda: CancerDiagnosis(DAY, snomed="abc"), "CancerDiagnosis.snomed"),
    ("diagnosed-naive", lambda: CancerDiagnosis(NAIVE, icd10="C50.4"),
     "CancerDiagnosis.diagnosed: needs a time zone"),
    ("tnm-stage", lambda: TnmStage("V", DAY), "TnmStage.stage_group"),
    ("tnm-t", lambda: TnmStage("IIA", DAY, t="T7"), "TnmStage.t: not a UICC T category"),
    ("tnm-m", lambda: TnmStage("IIA", DAY, m="M2"), "TnmStage.m"),
    ("tnm-naive", lambda: TnmStage("IIA", NAIVE), "TnmStage.assessed: needs a time zone"),
    ("end-before-start", lambda: TelemedicineConsultation("T", "video", "finished", AT,
                                                          AT - timedelta(minutes=1)),
     "TelemedicineConsultation.end: 2026-11-27T09:14:00+01:00 is before start"),
    ("finished-no-end", lambda: TelemedicineConsultation("T", "video", "finished", AT),
     "TelemedicineConsultation.end: required"),
    ("start-naive", lambda: TelemedicineConsultation("T", "video", "planned", NAIVE),
     "TelemedicineConsultation.start: needs a time zone"),
    ("modality", lambda: TelemedicineConsultation("T", "fax", "planned",  # type: ignore[arg-type]
                                                  AT), "TelemedicineConsultation.modality"),
    ("encounter-id", lambda: TelemedicineConsultation("", "video", "planned", AT),
     "TelemedicineConsultation.identifier"),
    ("stopped-no-reason", lambda: Recommendation("surgery", status="stopped"),
     "Recommendation.status_reason: required"),
    ("no-recommendation", lambda: TumourBoardOutcome("pre-therapeutic", AT, ()),
     "TumourBoardOutcome.recommendations"),
    ("board-type", lambda: TumourBoardOutcome("weekly", AT,  # type: ignore[arg-type]
                                              (Recommendation("surgery"),)),
     "TumourBoardOutcome.board_type"),
    ("board-naive", lambda: TumourBoardOutcome("pre-therapeutic", NAIVE,
                                               (Recommendation("surgery"),)),
     "TumourBoardOutcome.held: needs a time zone"),
    ("practitioner-given", lambda: PractitionerRole("Hansen", ()), "PractitionerRole.given"),
    ("coding-system", lambda: Coding("snomed", "123"), "Coding.system"),
    ("identifier-value", lambda: Identifier("urn:oid:1.2", " "), "Identifier.value"),
    ("ack-code", lambda: AckIssue("MSG_Unknown"),  # type: ignore[arg-type]
     "AckIssue.error_code"),
    ("context-naive", lambda: BuildContext.seeded(1, at=NAIVE), "BuildContext.at"),
]


@pytest.mark.parametrize(("build", "message"), [(b, m) for _, b, m in REFUSALS],
                         ids=[name for name, _, _ in REFUSALS])
def test_impossible_input_is_refused_naming_the_field(build: Callable[[], object],
                                                      message: str) -> None:
    """Each impossible input raises BuildError whose message starts with Type.field."""
    with pytest.raises(BuildError) as caught:
        build()
    assert message in str(caught.value)
    assert str(caught.value).split(":")[0].count(".") == 1


def test_build_error_is_an_ecanfhir_error() -> None:
    """BuildError sits under the one exception root (and is a ValueError)."""
    assert issubclass(BuildError, EcanfhirError)
    assert issubclass(BuildError, ValueError)


def test_possible_input_is_accepted() -> None:
    """Valid edge cases pass: CPR centuries, SKS sub-codes, in-situ codes, ECOG 0 and 5."""
    assert Patient("X", cpr="0101054000").birth == date(2005, 1, 1)
    assert Patient("X", cpr="0101584000").birth == date(1958, 1, 1)
    assert Patient("X", cpr="0101585000").birth == date(1858, 1, 1)
    assert CancerDiagnosis(DAY, sks="DC509A").icd10_code == "C50.9"
    assert CancerDiagnosis(DAY, icd10="C50", sks="DC509").sks_code == "DC509"
    assert CancerDiagnosis(DAY, icd10="D05.1").sks_code == "DD051"
    assert CancerDiagnosis(DAY, snomed="254837009").icd10_code is None
    assert Ecog(0, DAY).score == 0 and Ecog(5, DAY).score == 5
    assert TnmStage("IVB", DAY, t="Tis", n="N1a", m="M1c").t == "Tis"
    assert Patient("X", foreign_identifier=Identifier("urn:oid:1.2.246.21", "1")).birth is None
