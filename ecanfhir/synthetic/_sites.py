"""Cancer sites for synthetic cases: shares, ICD-10/SKS-D, ICD-O-3, TNM (UICC 8th, simplified).

Each :class:`CancerSite` carries the ICD-10 (WHO) codes of the site with the ICD-O-3 topography
that goes with each (``CancerDiagnosis.body_site``), the ICD-O-3 morphologies seen at that site
(so a breast cancer is never a melanoma), whether the organ is paired (laterality only then),
the sex it occurs in and whether UICC TNM applies (not to lymphomas, leukaemias, brain tumours).
Shares roughly follow Danish incidence (NORDCAN, all ages, non-melanoma skin cancer excluded);
they are for realistic variety, not for epidemiology.

TNM: :func:`stage_group` maps T, N and M to a UICC stage group by one simplified rule set that
is never contradictory (M1 ⇒ IV; T4 or N2–3 ⇒ III; T3 or N1 ⇒ II; T1–2 N0 ⇒ I; Tis N0 ⇒ 0).
Real UICC 8th tables differ per site; these keep the invariants a reader expects.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["SITES", "CancerSite", "Sex", "draw_tnm", "numeral", "stage_group"]

Sex = Literal["male", "female"]
Weighted = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class CancerSite:
    """One cancer site.

    Args:
        key: short name (``breast``).
        share: share of all generated cases.
        codes: (ICD-10, ICD-O-3 topography, weight) triples.
        morphologies: (ICD-O-3 morphology ``NNNN/3``, weight) pairs.
        paired: a paired organ (laterality is coded).
        sex: the only sex the site occurs in, or None; ``female_share`` when both.
        tnm: UICC TNM applies.
        stages: weights of stage groups I, II, III, IV at referral.
    """

    key: str
    share: float
    codes: tuple[tuple[str, str, float], ...]
    morphologies: Weighted
    paired: bool = False
    sex: Sex | None = None
    female_share: float = 0.5
    tnm: bool = True
    stages: tuple[float, float, float, float] = (0.3, 0.3, 0.2, 0.2)
    bilateral: bool = False


SITES: tuple[CancerSite, ...] = (
    CancerSite("breast", 0.15, (("C50.4", "C50.4", 0.45), ("C50.2", "C50.2", 0.15),
                                ("C50.5", "C50.5", 0.1), ("C50.9", "C50.9", 0.3)),
               (("8500/3", 0.75), ("8520/3", 0.15), ("8522/3", 0.05), ("8480/3", 0.05)),
               paired=True, female_share=0.99, stages=(0.45, 0.35, 0.12, 0.08), bilateral=True),
    CancerSite("prostate", 0.13, (("C61", "C61.9", 1.0),),
               (("8140/3", 0.97), ("8500/3", 0.03)), sex="male",
               stages=(0.3, 0.35, 0.15, 0.2)),
    CancerSite("lung", 0.12, (("C34.1", "C34.1", 0.5), ("C34.3", "C34.3", 0.3),
                              ("C34.9", "C34.9", 0.2)),
               (("8140/3", 0.45), ("8070/3", 0.3), ("8041/3", 0.15), ("8012/3", 0.1)),
               paired=True, stages=(0.2, 0.1, 0.2, 0.5)),
    CancerSite("colorectal", 0.13, (("C18.7", "C18.7", 0.25), ("C18.0", "C18.0", 0.15),
                                    ("C18.2", "C18.2", 0.15), ("C19", "C19.9", 0.1),
                                    ("C20", "C20.9", 0.35)),
               (("8140/3", 0.85), ("8480/3", 0.15)), female_share=0.45,
               stages=(0.2, 0.3, 0.3, 0.2)),
    CancerSite("melanoma", 0.07, (("C43.5", "C44.5", 0.4), ("C43.6", "C44.6", 0.2),
                                  ("C43.7", "C44.7", 0.25), ("C43.3", "C44.3", 0.15)),
               (("8720/3", 0.5), ("8743/3", 0.35), ("8721/3", 0.15)),
               stages=(0.6, 0.2, 0.12, 0.08)),
    CancerSite("bladder", 0.05, (("C67.2", "C67.2", 0.3), ("C67.9", "C67.9", 0.7)),
               (("8120/3", 0.8), ("8130/3", 0.2)), female_share=0.25,
               stages=(0.4, 0.25, 0.15, 0.2)),
    CancerSite("lymphoma", 0.05, (("C83.3", "C77.9", 0.5), ("C81.9", "C77.9", 0.2),
                                  ("C82.9", "C77.9", 0.3)),
               (("9680/3", 1.0),), female_share=0.45, tnm=False),
    CancerSite("pancreas", 0.03, (("C25.0", "C25.0", 0.6), ("C25.9", "C25.9", 0.4)),
               (("8500/3", 0.9), ("8140/3", 0.1)), stages=(0.1, 0.2, 0.2, 0.5)),
    CancerSite("kidney", 0.03, (("C64", "C64.9", 1.0),),
               (("8312/3", 0.7), ("8310/3", 0.2), ("8260/3", 0.1)), paired=True,
               female_share=0.35, stages=(0.45, 0.15, 0.2, 0.2)),
    CancerSite("uterus", 0.03, (("C54.1", "C54.1", 1.0),), (("8380/3", 1.0),), sex="female",
               stages=(0.7, 0.1, 0.12, 0.08)),
    CancerSite("ovary", 0.02, (("C56", "C56.9", 1.0),), (("8441/3", 0.7), ("8380/3", 0.3)),
               paired=True, sex="female", stages=(0.2, 0.1, 0.45, 0.25), bilateral=True),
    CancerSite("upper-gi", 0.04, (("C16.9", "C16.9", 0.5), ("C15.5", "C15.5", 0.5)),
               (("8140/3", 0.7), ("8070/3", 0.2), ("8490/3", 0.1)), female_share=0.3,
               stages=(0.15, 0.2, 0.3, 0.35)),
    CancerSite("head-neck", 0.04, (("C32.9", "C32.9", 0.35), ("C01", "C01.9", 0.3),
                                   ("C09.9", "C09.9", 0.35)),
               (("8070/3", 1.0),), female_share=0.3, stages=(0.2, 0.2, 0.25, 0.35)),
    CancerSite("thyroid", 0.02, (("C73", "C73.9", 1.0),), (("8260/3", 0.85), ("8330/3", 0.15)),
               female_share=0.7, stages=(0.7, 0.15, 0.1, 0.05)),
    CancerSite("leukaemia", 0.03, (("C91.1", "C42.1", 0.6), ("C92.0", "C42.1", 0.4)),
               (("9823/3", 1.0),), female_share=0.4, tnm=False),
    CancerSite("cervix", 0.01, (("C53.9", "C53.9", 1.0),), (("8070/3", 0.8), ("8140/3", 0.2)),
               sex="female", stages=(0.45, 0.2, 0.2, 0.15)),
    CancerSite("testis", 0.01, (("C62.9", "C62.9", 1.0),), (("9061/3", 0.6), ("9070/3", 0.4)),
               paired=True, sex="male", stages=(0.7, 0.15, 0.1, 0.05)),
    CancerSite("brain", 0.02, (("C71.9", "C71.9", 1.0),), (("9440/3", 0.7), ("9400/3", 0.3)),
               tnm=False),
    CancerSite("liver", 0.02, (("C22.0", "C22.0", 1.0),), (("8170/3", 1.0),),
               female_share=0.3, stages=(0.25, 0.2, 0.25, 0.3)),
)
"""All sites; the shares add up to 1."""

# Lymphoma morphology follows the ICD-10 code (DLBCL, Hodgkin, follicular); leukaemia likewise.
MORPHOLOGY_BY_CODE = {"C83.3": "9680/3", "C81.9": "9650/3", "C82.9": "9690/3",
                      "C91.1": "9823/3", "C92.0": "9861/3"}

_T = ("T1", "T1a", "T1b", "T1c", "T2", "T2a", "T2b", "T3", "T4", "T4a", "T4b")
_N = ("N0", "N1", "N2", "N3")
_M1 = ("M1", "M1a", "M1b", "M1c")


def _t_level(t: str) -> int:
    return 0 if t == "Tis" else int(t[1])


def stage_group(t: str, n: str, m: str) -> str:
    """The UICC stage group of a T, N and M category (simplified, see the module docstring).

    >>> stage_group("T2", "N0", "M0"), stage_group("T1c", "N2", "M0")
    ('IB', 'IIIB')
    >>> stage_group("T1", "N0", "M1b")
    'IV'
    >>> stage_group("Tis", "N0", "M0")
    '0'
    """
    tl, nl = _t_level(t), int(n[1])
    if m.startswith("M1"):
        return "IV"
    if tl == 0 and nl == 0:
        return "0"
    if tl == 4 or nl >= 2:
        return "IIIC" if nl == 3 else "IIIB" if nl == 2 else "IIIA"
    if tl == 3 or nl == 1:
        return "IIA" if nl == 0 else "IIB"
    return "IA" if tl == 1 else "IB"


def numeral(group: str) -> str:
    """The roman numeral of a stage group (``IIIB`` → ``III``)."""
    return group.rstrip("ABC") or group


def draw_tnm(rng: random.Random, site: CancerSite, *, in_situ: bool = False
             ) -> tuple[str, str, str, str]:
    """T, N, M and stage group for ``site``: the numeral drawn from the site's weights, then
    T and N drawn until :func:`stage_group` agrees."""
    if in_situ:
        return "Tis", "N0", "M0", "0"
    target = rng.choices(("I", "II", "III", "IV"), weights=site.stages)[0]
    m = rng.choice(_M1) if target == "IV" else "M0"
    while True:
        t, n = rng.choice(_T), rng.choices(_N, weights=(0.5, 0.25, 0.15, 0.1))[0]
        group = stage_group(t, n, m)
        if numeral(group) == target:
            return t, n, m, group
