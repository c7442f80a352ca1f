"""Generated referrals carry tumour markers for sites that have one and metastases for M1
cancers, found between the diagnosis and the referral."""

from __future__ import annotations

import random

from ecanfhir.synthetic import SITES, draw_case
from ecanfhir.synthetic._cases import MARKERS


def test_findings_follow_site_and_stage() -> None:
    """Markers only for sites in MARKERS, metastases only when M1; both dated in order; over
    100 referrals both occur."""
    markers = metastases = 0
    for number in range(100):
        case = draw_case("referral", number + 1, random.Random(number),
                         site=SITES[number % len(SITES)])
        assert not case.markers or case.site.key in MARKERS
        m1 = case.stage is not None and (case.stage.m or "").startswith("M1")
        assert bool(case.metastases) <= m1
        assert case.referral is not None
        for marker in case.markers:
            assert marker.loinc == MARKERS[case.site.key][0]
            assert case.diagnosis.diagnosed <= marker.measured <= case.referral.authored.date()
        for metastasis in case.metastases:
            assert case.diagnosis.diagnosed <= metastasis.recorded
            assert metastasis.icd10[:3] in ("C77", "C78", "C79")
        markers += bool(case.markers)
        metastases += bool(case.metastases)
    assert markers > 0 and metastases > 0
