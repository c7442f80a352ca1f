"""The README's "Build a referral in Python" snippet runs as written, and the API is exported."""

from __future__ import annotations

import ecanfhir.builders


def test_readme_snippet() -> None:
    """The snippet builds, validates and acknowledges a referral (kept in sync with README.md)."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from ecanfhir import Validator
    from ecanfhir.builders import (
        CancerDiagnosis,
        Ecog,
        Organization,
        Patient,
        Referral,
        build_acknowledgement,
        build_referral_message,
    )
    from ecanfhir.definitions.pilot import pilot_registry

    now = datetime(2026, 11, 27, 9, 15, tzinfo=ZoneInfo("Europe/Copenhagen"))
    message = build_referral_message(
        Referral("CASE-2026-0042", "tumour-board-review", "National tumour board assessment",
                 authored=now, priority="urgent"),
        sender=Organization("Hospital oncology", sor="123456789012", gln="5790000121526"),
        receiver=Organization("National cancer centre", sor="987654321098", gln="5790001382445"),
        patient=Patient("Testpatient", ("Bruno",), cpr="2512489996", gender="male"),
        diagnosis=CancerDiagnosis(date(2026, 11, 20), icd10="C50.4", morphology="8500/3",
                                  laterality="left"),
        ecog=Ecog(1, date(2026, 11, 21)),
    )
    assert Validator(pilot_registry()).validate(message).ok
    ack = build_acknowledgement(message, "ok")  # what the national centre answers

    assert ack["entry"][0]["resource"]["response"]["code"] == "ok"


def test_builders_all_is_honest() -> None:
    """Every name in ecanfhir.builders.__all__ exists and has a docstring; no public name is
    missing from it."""
    module = ecanfhir.builders
    for name in module.__all__:
        assert getattr(module, name).__doc__, name
    public = {n for n, v in vars(module).items()
              if not n.startswith("_") and not isinstance(v, type(module))}
    assert public - {"annotations"} == set(module.__all__)
