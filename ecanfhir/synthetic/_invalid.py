"""Negative cases: one targeted mutation of a valid generated message per rule.

Each :class:`Mutation` breaks exactly one rule of the pilot profiles and says where the
validator must report it: ``rule`` is the issue's rule (an invariant key such as ``ecan-enc-2``,
or a check such as ``cardinality-min``) and ``expression`` the FHIRPath location, computed from
the mutated Bundle's own structure (the index of the entry touched), not by running the
validator. ``label`` is the invariant key, or ``rule@Type.element`` for structural checks.

A resource that no longer conforms also makes every reference *to* it fail its target profile
(``reference-profile``), and a bad reference inside it may fail ``reference-type`` or
``reference-bundle``; ``resource`` names the resource touched so a checker can tell these
consequences from unrelated errors. Where the profile states one rule twice (``ecan-enc-1`` and
the ``patternCoding`` on ``Encounter.class``), ``also`` lists the twin issue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..definitions.pilot import pilot_url
from ..formats.json_copy import copy_json

__all__ = ["MUTATIONS", "Expected", "Mutation"]

Bundle = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Expected:
    """The issue a negative case must produce."""

    label: str
    rule: str
    expression: str
    resource: str
    description: str
    also: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "rule": self.rule,
                               "expression": self.expression, "resource": self.resource,
                               "description": self.description}
        if self.also:
            out["also"] = [{"rule": rule, "expression": at} for rule, at in self.also]
        return out


@dataclass(frozen=True, slots=True)
class Mutation:
    """A targeted change that breaks one rule (see the module docstring)."""

    label: str
    kinds: tuple[str, ...]
    description: str
    change: Callable[[Bundle], tuple[str, str]]
    require: frozenset[str] = frozenset()
    also: tuple[tuple[str, str], ...] = ()  # (rule, path below the resource)

    @property
    def rule(self) -> str:
        return self.label.split("@", 1)[0]

    def apply(self, bundle: Bundle) -> Expected:
        """Mutate ``bundle`` in place; the issue it must now produce."""
        expression, resource = self.change(bundle)
        also = tuple((rule, f"{resource}{suffix}") for rule, suffix in self.also)
        return Expected(self.label, self.rule, expression, resource, self.description, also)


def _profiled(bundle: Bundle, profile: str) -> int:
    """The entry whose resource claims the pilot profile ``profile``."""
    url = pilot_url("StructureDefinition", profile)
    return next(i for i, e in enumerate(bundle["entry"])
                if url in e["resource"].get("meta", {}).get("profile", ()))


def _index(bundle: Bundle, resource_type: str, n: int = 0) -> int:
    found = [i for i, e in enumerate(bundle["entry"])
             if e["resource"]["resourceType"] == resource_type]
    return found[n] if n >= 0 else found[-1]


def _by_url(bundle: Bundle, url: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["fullUrl"] == url)


def _at(i: int) -> str:
    return f"Bundle.entry[{i}].resource"


def _res(bundle: Bundle, i: int) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][i]["resource"]
    return resource


def _sender(bundle: Bundle) -> int:
    return _by_url(bundle, _res(bundle, 0)["sender"]["reference"])


def _receiver(bundle: Bundle) -> int:
    return _by_url(bundle, _res(bundle, 0)["destination"][0]["receiver"]["reference"])


def _gln_slot(org: dict[str, Any]) -> int:
    return next(k for k, ident in enumerate(org["identifier"]) if "gs1.org" in ident["system"])


def _gln_check(bundle: Bundle) -> tuple[str, str]:
    i = _sender(bundle)
    k = _gln_slot(_res(bundle, i))
    ident = _res(bundle, i)["identifier"][k]
    ident["value"] = ident["value"][:12] + str((int(ident["value"][12]) + 1) % 10)
    return f"{_at(i)}.identifier[{k}]", _at(i)


def _gln_length(bundle: Bundle) -> tuple[str, str]:
    i = _receiver(bundle)
    k = _gln_slot(_res(bundle, i))
    _res(bundle, i)["identifier"][k]["value"] = _res(bundle, i)["identifier"][k]["value"][:12]
    return f"{_at(i)}.identifier[{k}]", _at(i)


def _sor_digits(bundle: Bundle) -> tuple[str, str]:
    i = _sender(bundle)
    k = next(k for k, x in enumerate(_res(bundle, i)["identifier"]) if "gs1" not in x["system"])
    _res(bundle, i)["identifier"][k]["value"] = _res(bundle, i)["identifier"][k]["value"][:10]
    return f"{_at(i)}.identifier[{k}]", _at(i)


def _org_without_gln(bundle: Bundle) -> tuple[str, str]:
    i = _sender(bundle)
    del _res(bundle, i)["identifier"][_gln_slot(_res(bundle, i))]
    return _at(i), _at(i)


def _cpr_date(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Patient")
    ident = _res(bundle, i)["identifier"][0]
    ident["value"] = "3102" + ident["value"][4:]  # 31 February
    return f"{_at(i)}.identifier[0]", _at(i)


def _no_provenance(bundle: Bundle) -> tuple[str, str]:
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "Provenance"]
    return "Bundle", "Bundle"


def _dangling_reference(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "CarePlan")
    _res(bundle, i)["subject"] = {"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"}
    return "Bundle", _at(i)


def _two_patients(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Patient")
    twin = copy_json(bundle["entry"][i])
    twin["resource"]["id"] = "ffffffff" + twin["resource"]["id"][8:]
    twin["fullUrl"] = f"urn:uuid:{twin['resource']['id']}"
    bundle["entry"].insert(i + 1, twin)
    return "Bundle", _at(i + 1)


def _no_focus(bundle: Bundle) -> tuple[str, str]:
    del _res(bundle, 0)["focus"]
    return f"{_at(0)}.focus", _at(0)


def _focus_on_patient(bundle: Bundle) -> tuple[str, str]:
    _res(bundle, 0)["focus"] = [{"reference": bundle["entry"][_index(bundle, "Patient")]
                                 ["fullUrl"]}]
    return _at(0), _at(0)


def _not_cancer(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Condition")
    _res(bundle, i)["code"]["coding"] = [
        {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I21.9"},
        {"system": "urn:oid:1.2.208.176.2.4.12", "code": "DI219"}]
    return f"{_at(i)}.code", _at(i)


def _metastatic_behaviour(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Condition")
    coding = _res(bundle, i)["extension"][0]["valueCodeableConcept"]["coding"][0]
    coding["code"] = coding["code"][:5] + "6"  # /6: metastatic site, only on a secondary
    return _at(i), _at(i)


def _no_diagnosis_date(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Condition")
    del _res(bundle, i)["onsetDateTime"]
    return _at(i), _at(i)


def _ecog_out_of_range(bundle: Bundle) -> tuple[str, str]:
    i = _profiled(bundle, "ecan-ecog-performance-status")
    _res(bundle, i)["valueInteger"] = 6
    return _at(i), _at(i)


def _tnm_prefix_contradicts_code(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Observation")  # the stage group comes first
    group = _res(bundle, i)
    group["extension"] = [{"url": pilot_url("StructureDefinition", "ecan-tnm-prefix"),
                           "valueCode": "c"}]
    group["code"]["coding"][0]["code"] = "21902-2"  # pathological stage group
    return _at(i), _at(i)


def _referral_without_cancer(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "ServiceRequest")
    _res(bundle, i)["reasonReference"] = [
        {"reference": bundle["entry"][_index(bundle, "Patient")]["fullUrl"]}]
    return _at(i), _at(i)


def _referral_intent(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "ServiceRequest")
    _res(bundle, i)["intent"] = "plan"
    return f"{_at(i)}.intent", _at(i)


def _authorisation_id(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Practitioner")
    _res(bundle, i)["identifier"][0]["value"] = "AEIOU"  # vowels: not an authorisation id
    return f"{_at(i)}.identifier[0]", _at(i)


def _naive_timestamp(bundle: Bundle) -> tuple[str, str]:
    bundle["timestamp"] = bundle["timestamp"][:19]
    return "Bundle.timestamp", "Bundle"


def _collection(bundle: Bundle) -> tuple[str, str]:
    bundle["type"] = "collection"
    return "Bundle.type", "Bundle"


def _provenance_date_only(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Provenance", -1)
    _res(bundle, i)["occurredDateTime"] = _res(bundle, i)["occurredDateTime"][:10]
    return _at(i), _at(i)


def _provenance_role(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Provenance", -1)
    _res(bundle, i)["entity"][0]["role"] = "derivation"
    return f"{_at(i)}.entity[0]", _at(i)


def _cancelled_without_reason(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "CarePlan")
    detail = _res(bundle, i)["activity"][0]["detail"]
    detail["status"] = "cancelled"
    detail.pop("statusReason", None)
    return f"{_at(i)}.activity[0].detail", _at(i)


def _care_plan_intent(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "CarePlan")
    _res(bundle, i)["intent"] = "proposal"
    return f"{_at(i)}.intent", _at(i)


def _not_virtual(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Encounter")
    _res(bundle, i)["class"] = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                "code": "AMB", "display": "ambulatory"}
    return _at(i), _at(i)


def _finished_without_end(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Encounter")
    del _res(bundle, i)["period"]["end"]
    return _at(i), _at(i)


def _encounter_arrived(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Encounter")
    _res(bundle, i)["status"] = "arrived"
    return f"{_at(i)}.status", _at(i)


def _no_service_provider(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Encounter")
    del _res(bundle, i)["serviceProvider"]
    return f"{_at(i)}.serviceProvider", _at(i)


def _practitioner_family_only(bundle: Bundle) -> tuple[str, str]:
    i = _index(bundle, "Practitioner")
    del _res(bundle, i)["name"][0]["given"]
    return f"{_at(i)}.name[0]", _at(i)


def _pro_item(bundle: Bundle, link_id: str) -> tuple[int, int]:
    """The PRO QuestionnaireResponse entry and the index of its item ``link_id``."""
    i = _index(bundle, "QuestionnaireResponse")
    items = _res(bundle, i)["item"]
    return i, next(k for k, item in enumerate(items) if item["linkId"] == link_id)


def _pro_score_over_ten(bundle: Bundle) -> tuple[str, str]:
    i, k = _pro_item(bundle, "fatigue")   # maxValue 10 in ecan-pro-symptoms
    _res(bundle, i)["item"][k]["answer"] = [{"valueInteger": 11}]
    return f"{_at(i)}.item[{k}].answer[0].value.ofType(integer)", _at(i)


def _pro_required_unanswered(bundle: Bundle) -> tuple[str, str]:
    i, k = _pro_item(bundle, "pain")      # required in ecan-pro-symptoms
    del _res(bundle, i)["item"][k]
    return _at(i), _at(i)


def _pro_answer_type(bundle: Bundle) -> tuple[str, str]:
    i, k = _pro_item(bundle, "fatigue")   # an integer item
    _res(bundle, i)["item"][k]["answer"] = [{"valueString": "4"}]
    return f"{_at(i)}.item[{k}].answer[0].value.ofType(string)", _at(i)


R, T, M = "referral", "tumour-board-outcome", "telemedicine"
_PRO = frozenset({"pro", "finished"})

MUTATIONS: tuple[Mutation, ...] = (
    # Telemedicine first, so `--count 1 --invalid` shows the encounter rule.
    Mutation("ecan-enc-1", (M,), "Encounter.class AMB instead of VR", _not_virtual,
             also=(("pattern", ".class"),)),
    Mutation("binding-required@Encounter.status", (M,),
             "encounter status arrived (R4 code outside the pilot's status value set)",
             _encounter_arrived),
    Mutation("ecan-enc-2", (M,), "finished encounter without period.end",
             _finished_without_end, frozenset({"finished"})),
    Mutation("cardinality-min@Encounter.serviceProvider", (M,),
             "encounter without its service provider", _no_service_provider),
    Mutation("ecan-prac-1", (M,), "practitioner with a family name only",
             _practitioner_family_only),
    Mutation("ecan-cond-3", (M,), "cancer condition without a diagnosis date",
             _no_diagnosis_date),
    Mutation("gln-modulus-10", (R, M), "sender GLN with a wrong GS1 check digit", _gln_check),
    Mutation("ecan-org-2", (R, M), "sender with SOR but no GLN", _org_without_gln),
    Mutation("cpr", (R, M), "CPR number dated 31 February", _cpr_date, frozenset({"cpr"})),
    Mutation("ecan-msg-2", (R, M), "message without Provenance", _no_provenance),
    Mutation("cardinality-min@MessageHeader.focus", (R, M), "MessageHeader without focus",
             _no_focus),
    Mutation("ecan-mh-1", (T, M), "MessageHeader.focus on the Patient", _focus_on_patient),
    Mutation("min-digits-sor", (R,), "sender SOR code of 10 digits", _sor_digits),
    Mutation("ecan-msg-4", (R,), "two Patient entries", _two_patients),
    Mutation("ecan-cond-1", (R,), "primary cancer condition coded I21.9 (not cancer)",
             _not_cancer),
    Mutation("ecan-cond-2", (R,), "ICD-O-3 behaviour /6 on a primary cancer",
             _metastatic_behaviour),
    Mutation("ecan-ecog-1", (R,), "ECOG 6", _ecog_out_of_range, frozenset({"ecog"})),
    Mutation("ecan-tnm-1", (R,), "c prefix on a pathological stage-group code",
             _tnm_prefix_contradicts_code, frozenset({"stage"})),
    Mutation("ecan-ref-1", (R,), "referral reasonReference to the Patient",
             _referral_without_cancer),
    Mutation("fixed@ServiceRequest.intent", (R,), "referral intent plan", _referral_intent),
    Mutation("type-instant@Bundle.timestamp", (R,), "Bundle.timestamp without a time zone",
             _naive_timestamp),
    Mutation("ecan-tb-1", (T,), "cancelled recommendation without statusReason",
             _cancelled_without_reason),
    Mutation("fixed@CarePlan.intent", (T,), "tumour board outcome intent proposal",
             _care_plan_intent),
    Mutation("ecan-msg-3", (T,), "outcome subject resolving nowhere in the Bundle",
             _dangling_reference),
    Mutation("ecan-prov-1", (T,), "Provenance.occurredDateTime without a time",
             _provenance_date_only),
    Mutation("ecan-prov-2", (T,), "Provenance entity role derivation", _provenance_role),
    Mutation("gln-length", (T,), "receiver GLN of 12 digits", _gln_length),
    Mutation("authorization-id-format", (T,), "authorisation id AEIOU", _authorisation_id,
             frozenset({"authorisation"})),
    Mutation("fixed@Bundle.type", (T,), "Bundle.type collection", _collection),
    # Last, so the earlier telemedicine cases of a seed keep their mutation.
    Mutation("qr-max-value", (M,), "PRO fatigue score 11 (ecan-pro-symptoms allows 0-10)",
             _pro_score_over_ten, _PRO),
    Mutation("qr-required", (M,), "PRO answers without the required pain score",
             _pro_required_unanswered, _PRO),
    Mutation("qr-answer-type", (M,), "PRO fatigue score given as text",
             _pro_answer_type, _PRO),
)
"""Every mutation, with the kinds of message it applies to."""
