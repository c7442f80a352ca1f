"""The CapabilityStatement of the mock centre, built once per app (``GET /metadata``)."""

from __future__ import annotations

from typing import Any

from ecanfhir import __version__
from ecanfhir.definitions.pilot import pilot_url

from .definitions import DEFINITION_PARAMS, DEFINITION_TYPES
from .settings import Settings

__all__ = ["STORED_TYPES", "capability_statement"]

# The resource types pilot messages carry; any other type can be read too if stored.
STORED_TYPES = ("Bundle", "MessageHeader", "Provenance", "Patient", "Organization",
                "Practitioner", "PractitionerRole", "CareTeam", "ServiceRequest", "Condition",
                "Observation", "DiagnosticReport", "DocumentReference", "CarePlan", "Encounter",
                "Appointment", "QuestionnaireResponse", "OperationOutcome")
_COMMON = [("_id", "token"), ("_lastUpdated", "date"), ("identifier", "token"),
           ("status", "token"), ("patient", "reference"), ("subject", "reference")]


def _smart_security(base: str) -> dict[str, Any]:
    """SMART Backend Services, as the SMART App Launch IG declares it in R4 (the oauth-uris
    extension naming the token endpoint)."""
    return {
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                           "restful-security-service", "code": "SMART-on-FHIR"}]}],
        "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                              "oauth-uris",
                       "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}]}],
        "description": "SMART Backend Services: client_credentials with a private_key_jwt "
                       "assertion (RS384/ES384); see /.well-known/smart-configuration",
    }


def _documentation(settings: Settings) -> str:
    """What the server offers beyond FHIR's own interactions (an OpenAPI document; in the test
    harness the fault rules and the request recorder, which are not FHIR operations)."""
    text = "The HTTP API is also described as OpenAPI 3.1 at /openapi.json."
    if settings.faults:
        text += (f" Test harness: {len(settings.faults)} fault rule(s) answer some messages "
                 "with transient-error, fatal-error, latency or 503 on purpose.")
    if settings.recorder:
        text += (" Test harness: every request is recorded; GET /$recorded-requests lists them, "
                 "GET /$recorded-requests/{n} returns one's body, DELETE forgets them.")
    return text


def _definition_entry(rtype: str) -> dict[str, Any]:
    """A conformance resource type of the pilot package: read and search, nothing else."""
    entry: dict[str, Any] = {
        "type": rtype, "versioning": "no-version", "readHistory": False,
        "documentation": "The pilot package's resources (ecanfhir.pilot), read-only",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [{"name": n, "type": t} for n, t in DEFINITION_PARAMS]}
    if rtype == "Measure":
        entry["operation"] = [{
            "name": "evaluate-measure",
            "definition": "http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure"}]
    return entry


def capability_statement(settings: Settings, published: str) -> dict[str, Any]:
    base = settings.base_url.rstrip("/")
    resources = []
    for rtype in STORED_TYPES:
        params = _COMMON + ([("class", "token")] if rtype == "Encounter" else [])
        # POST /Bundle takes a message ($process-message), so Bundles are not created.
        create = rtype != "Bundle"
        entry: dict[str, Any] = {
            "type": rtype, "versioning": "versioned", "readHistory": True,
            "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "search-type"},
                            *([{"code": "create"}] if create else [])],
            "conditionalCreate": create,
            "searchParam": [{"name": n, "type": t} for n, t in params],
            "operation": [{"name": "validate",
                           "definition": "http://hl7.org/fhir/OperationDefinition/"
                                         "Resource-validate"}],
        }
        resources.append(entry)
    # The audit trail is written by the server alone: read and search only.
    resources.append({
        "type": "AuditEvent", "versioning": "versioned", "readHistory": True,
        "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "search-type"}],
        "searchParam": [{"name": n, "type": t} for n, t in (
            ("_id", "token"), ("_lastUpdated", "date"), ("date", "date"),
            ("outcome", "token"))]})
    resources += [_definition_entry(rtype) for rtype in DEFINITION_TYPES]
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": published,
        "kind": "instance", "fhirVersion": "4.0.1",
        # Both FHIR formats, by name and by media type (R4 CapabilityStatement.format).
        "format": ["json", "xml", "application/fhir+json", "application/fhir+xml"],
        "software": {"name": "ecanfhir mock national cancer centre", "version": __version__},
        "implementation": {"description": "Mock national cancer centre for the eCAN+ pilots "
                                          "(test server)", "url": base},
        "rest": [{
            "mode": "server",
            "documentation": _documentation(settings),
            **({"security": _smart_security(base)} if settings.auth is not None else {}),
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "operation": [
                {"name": "process-message",
                 "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-"
                               "message"},
                {"name": "validate",
                 "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"},
            ],
        }],
        "messaging": [{
            "endpoint": [{"protocol": {"system": "http://terminology.hl7.org/CodeSystem/"
                                                 "message-transport", "code": "http"},
                          "address": f"{base}/$process-message"}],
            "reliableCache": settings.reliable_cache_minutes,
            "documentation": "Duplicates per MedCom: a resent message (same MessageHeader.id) "
                             "gets the byte-identical first acknowledgement; a reused Bundle.id "
                             "with a new MessageHeader.id gets a fatal-error acknowledgement.",
            "supportedMessage": [{"mode": "receiver",
                                  "definition": pilot_url("MessageDefinition", f"ecan-{event}")}
                                 for event in ("cancer-case-referral", "tumour-board-outcome",
                                               "telemedicine-encounter")],
        }],
    }
