"""Deterministic synthetic eCAN+ cases (``ecanfhir generate``): valid messages and labelled
negative ones, for tests, demos and load.

Cases are drawn from ``random.Random(seed)`` only and built with :mod:`ecanfhir.builders`:
cancer sites with realistic shares, ICD-10 + SKS-D codes, ICD-O-3 morphology consistent with the
site, laterality for paired organs only, TNM consistent with the stage group, ECOG skewed low,
serum tumour markers and metastases (M1), dates in order, fictitious CPR numbers (see
:mod:`ecanfhir.synthetic._people`), Danish and foreign patients, several sending departments
(SOR, GLN), a mix of teleconsultation modalities and statuses. All data is synthetic.

>>> files = list(generate("referral", count=2, seed=1))
>>> [f.name for f in files], files[0].bundle["type"]
(['referral-000001.json', 'referral-000002.json'], 'message')
"""

from __future__ import annotations

from ._cases import KINDS, Kind, SyntheticCase, draw_case
from ._generate import MANIFEST, GeneratedFile, Summary, generate, write_cases
from ._invalid import MUTATIONS, Expected, Mutation
from ._people import CENTRE, DEPARTMENTS, cpr_modulus_11, fictitious_cpr
from ._sites import SITES, CancerSite, stage_group

__all__ = ["CENTRE", "DEPARTMENTS", "KINDS", "MANIFEST", "MUTATIONS", "SITES", "CancerSite",
           "Expected", "GeneratedFile", "Kind", "Mutation", "Summary", "SyntheticCase",
           "cpr_modulus_11", "draw_case", "fictitious_cpr", "generate", "stage_group",
           "write_cases"]
