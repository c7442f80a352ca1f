"""What the KPIs need from one accepted message (DOMAIN.md §2(d)), read once at receipt.

Facts are aggregates-ready and carry no patient data: case and patient keys are keyed hashes
(HMAC-SHA256), strata are organisation numbers, codes, an age band.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import date
from typing import Any

from ._dates import instant

__all__ = ["CPR_SYSTEM", "SOR_SYSTEM", "kpi_facts", "pseudonym", "resolve", "sor_of"]

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SKS = "urn:oid:1.2.208.176.2.4.12"
_KEY = b"ecanfhir mock national cancer centre: KPI pseudonyms"


def pseudonym(*parts: str) -> str:
    """A keyed hash of the parts: counts distinct values without keeping them."""
    return hmac.new(_KEY, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def resolve(bundle: Mapping[str, Any], reference: Any) -> dict[str, Any] | None:
    """The entry resource a Reference (or reference string) points to, inside the bundle."""
    if isinstance(reference, dict):
        reference = reference.get("reference")
    if not isinstance(reference, str):
        return None
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        own = f"{resource.get('resourceType')}/{resource.get('id')}"
        if entry.get("fullUrl") == reference or reference == own or reference.endswith("/" + own):
            return resource
    return None


def sor_of(organization: Mapping[str, Any] | None) -> str | None:
    for ident in _list((organization or {}).get("identifier")):
        if isinstance(ident, dict) and ident.get("system") == SOR_SYSTEM:
            value = ident.get("value")
            return value if isinstance(value, str) else None
    return None


def kpi_facts(bundle: Mapping[str, Any], event: str | None) -> dict[str, Any]:
    header = bundle["entry"][0]["resource"]
    focus = resolve(bundle, next(iter(_list(header.get("focus"))), None)) or {}
    sender = sor_of(resolve(bundle, header.get("sender"))) or "unknown"
    activities = sorted({str(c.get("code")) for e in bundle.get("entry") or []
                         if isinstance(e, dict)
                         for c in _codings(_provenance_activity(e.get("resource")))
                         if isinstance(c.get("code"), str)})
    facts: dict[str, Any] = {"sender": sender, "activities": activities}
    if event == "cancer-case-referral":
        facts.update(_referral_facts(bundle, focus, sender))
    elif event == "telemedicine-encounter":
        facts.update(_encounter_facts(bundle, focus))
    elif event == "tumour-board-outcome":
        referrals = [resolve(bundle, ref) for ref in _list(focus.get("basedOn"))]
        facts["based_on_cases"] = sorted({_referral_key(bundle, r, sender) for r in referrals
                                          if r is not None})
    return facts


def _referral_facts(bundle: Mapping[str, Any], referral: Mapping[str, Any],
                    sender: str) -> dict[str, Any]:
    site = "unknown"
    for ref in _list(referral.get("reasonReference")):
        condition = resolve(bundle, ref)
        site = _cancer_site(condition) if condition else site
        if site != "unknown":
            break
    reason = next((c.get("code") for cat in _list(referral.get("category"))
                   for c in _codings(cat) if isinstance(c.get("code"), str)), "unknown")
    return {"case": _referral_key(bundle, referral, sender), "cancer_site": site,
            "reason": reason}


def _referral_key(bundle: Mapping[str, Any], referral: Mapping[str, Any], sender: str) -> str:
    """EcanCancerReferral.identifier; fallback patient + primary condition code + sender SOR."""
    ident = _first_identifier(referral)
    if ident is not None:
        return pseudonym("case", *ident)
    condition = next((resolve(bundle, r) for r in _list(referral.get("reasonReference"))), None)
    return pseudonym("case-fallback", _patient_id(bundle, referral.get("subject")),
                     _cancer_site(condition) if condition else "", sender)


def _encounter_facts(bundle: Mapping[str, Any], encounter: Mapping[str, Any]) -> dict[str, Any]:
    period = encounter.get("period")
    period = period if isinstance(period, dict) else {}
    start = period.get("start") if isinstance(period.get("start"), str) else None
    # A valid start that Python cannot place in UTC (9999-12-31T23:30:00-05:00) is no fact:
    # the consultation stays out of K2 (kpi.py reads facts that are there the same way).
    placed = start if instant(start) is not None else None
    provider = sor_of(resolve(bundle, encounter.get("serviceProvider"))) or "unknown"
    patient = _patient_id(bundle, encounter.get("subject"))
    ident = _first_identifier(encounter)
    case = pseudonym("encounter", *ident) if ident else pseudonym(
        "encounter-fallback", provider, patient, start or "")
    cls = encounter.get("class")
    modality = next((c.get("code") for t in _list(encounter.get("type")) for c in _codings(t)
                     if isinstance(c.get("code"), str)), "unknown")
    return {"case": case, "class": cls.get("code") if isinstance(cls, dict) else None,
            "status": encounter.get("status"), "start": placed, "modality": modality,
            "provider": provider, "patient": pseudonym("patient", patient),
            "age_band": _age_band(resolve(bundle, encounter.get("subject")), placed)}


def _first_identifier(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    for ident in _list(resource.get("identifier")):
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            return str(ident.get("system") or ""), ident["value"]
    return None


def _patient_id(bundle: Mapping[str, Any], reference: Any) -> str:
    patient = resolve(bundle, reference) or {}
    ident = _first_identifier(patient)
    return "|".join(ident) if ident else str(patient.get("id") or "")


def _cancer_site(condition: Mapping[str, Any]) -> str:
    """ICD-10 three-character category (SKS-D ``DC509`` → ``C50``)."""
    for coding in _codings(condition.get("code")):
        code = coding.get("code")
        if not isinstance(code, str):
            continue
        if coding.get("system") == ICD10:
            return code[:3]
        if coding.get("system") == SKS and code.startswith("D") and len(code) >= 4:
            return code[1:4]
    return "unknown"


def _age_band(patient: Mapping[str, Any] | None, start: str | None) -> str:
    birth = (patient or {}).get("birthDate")
    if not isinstance(birth, str) or len(birth) < 4 or not start or len(start) < 10:
        return "unknown"
    try:
        born = date.fromisoformat(birth if len(birth) == 10 else birth[:4] + "-07-01")
        on = date.fromisoformat(start[:10])
    except ValueError:
        return "unknown"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 18:
        return "0-17"
    low = min(age // 10 * 10, 80)
    return "80+" if low >= 80 else f"{max(low, 18)}-{low + 9}"


def _provenance_activity(resource: Any) -> Any:
    if isinstance(resource, dict) and resource.get("resourceType") == "Provenance":
        return resource.get("activity")
    return None


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in _list(concept.get("coding")) if isinstance(c, dict)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []
