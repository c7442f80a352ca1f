"""The pilot's conformance resources, served read-only: what the centre validates against.

A FHIR server serves the definitions it uses (R4 §2.1.0.3 "conformance resources"): the
CapabilityStatement names the MessageDefinitions of ``supportedMessage``, the acknowledgements
cite the StructureDefinitions, ``$evaluate-measure`` runs the KPI Measures. They are the pilot
package (``ecanfhir.pilot``, ``profiles/``) with ``{{canonical}}`` filled in, held in memory.

Types served (:data:`DEFINITION_TYPES`): read ``GET /{type}/{id}`` and search ``GET /{type}``
with the R4 common definition parameters (:data:`DEFINITION_PARAMS`):

=============  ===========  =========================================================
parameter      type         matches
=============  ===========  =========================================================
``_id``        token        the id
``url``        uri          the canonical URL, exactly; ``url|version`` also the version
``version``    token        the business version
``name``       string       ``name`` starts with the value, ignoring case
``title``      string       ``title`` starts with the value, ignoring case
``status``     token        ``status`` (draft, active, retired, unknown)
=============  ===========  =========================================================

Comma-separated values are alternatives; ``_count``, ``_offset`` and ``_summary=count`` page as
for stored resources. Unknown parameters are ignored unless ``Prefer: handling=strict``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecanfhir.definitions.packages.load import CANONICAL_TOKEN
from ecanfhir.definitions.pilot import pilot_canonical, pilot_source

from ._fhirio import FhirError
from .storage import SearchPage, SearchQuery, StoredResource

__all__ = ["DEFINITION_PARAMS", "DEFINITION_TYPES", "Definitions"]

DEFINITION_TYPES = ("CodeSystem", "ConceptMap", "Measure", "MessageDefinition", "Questionnaire",
                    "StructureDefinition", "TestScript", "ValueSet")
DEFINITION_PARAMS = (("_id", "token"), ("url", "uri"), ("version", "token"),
                     ("name", "string"), ("title", "string"), ("status", "token"))
_PAGING = ("_count", "_offset", "_summary", "_format")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


@dataclass(frozen=True, slots=True)
class Definitions:
    """The served conformance resources by type and id (immutable, shared by all requests)."""

    resources: Mapping[tuple[str, str], bytes]
    published: str

    @classmethod
    def from_pilot(cls, published: str) -> Definitions:
        """The pilot package's resources of :data:`DEFINITION_TYPES`."""
        canonical = pilot_canonical().encode()
        found: dict[tuple[str, str], bytes] = {}
        for path in sorted(pilot_source().glob("*/*.json")):
            raw = path.read_bytes().replace(CANONICAL_TOKEN, canonical)
            resource = json.loads(raw)
            rtype, rid = resource.get("resourceType"), resource.get("id")
            if rtype in DEFINITION_TYPES and isinstance(rid, str):
                found[(rtype, rid)] = json.dumps(resource, ensure_ascii=False,
                                                 separators=(",", ":")).encode()
        return cls(found, published)

    def read(self, resource_type: str, resource_id: str) -> bytes | None:
        return self.resources.get((resource_type, resource_id))

    def search(self, resource_type: str, params: Sequence[tuple[str, str]], *,
               default_count: int, max_count: int, strict: bool
               ) -> tuple[SearchPage, SearchQuery, list[tuple[str, str]]]:
        """The page of matches, the query (for the links) and the parameters used."""
        filters: list[tuple[str, list[str]]] = []
        used: list[tuple[str, str]] = []
        count, offset, summary = default_count, 0, False
        names = {n for n, _ in DEFINITION_PARAMS}
        for name, value in params:
            base, _, modifier = name.partition(":")
            if base not in names and base not in _PAGING:
                if strict:
                    raise FhirError(400, "not-supported", f"unknown search parameter "
                                    f"{name[:60]} (this type is searched by "
                                    f"{', '.join(sorted(names))})")
                continue
            if modifier:
                raise FhirError(400, "not-supported", f"search modifier :{modifier[:30]} is "
                                "not supported")
            used.append((name, value))
            if base == "_count":
                count = min(_integer(value, name), max_count)
            elif base == "_offset":
                offset = _integer(value, name)
            elif base == "_summary":
                if value not in ("count", "false"):
                    raise FhirError(400, "not-supported", f"_summary={value[:20]}: only "
                                    "count and false")
                summary = value == "count"
            elif base != "_format":
                values = [v for v in value.split(",") if v]
                if base == "_id" and not all(_ID.fullmatch(v) for v in values):
                    raise FhirError(400, "invalid", "_id: a resource id is 1-64 letters, "
                                    "digits, '-' or '.'")
                filters.append((base, values))
        matches = [(rid, body) for (rtype, rid), body in sorted(self.resources.items())
                   if rtype == resource_type and _matches(json.loads(body), filters)]
        query = SearchQuery(resource_type, count=count, offset=offset, summary_count=summary)
        page = () if summary else tuple(
            StoredResource(resource_type, rid, 1, self.published, body)
            for rid, body in matches[offset:offset + count])
        return SearchPage(len(matches), page), query, used


def _matches(resource: Mapping[str, Any], filters: Sequence[tuple[str, list[str]]]) -> bool:
    return all(any(_match(resource, name, value) for value in values)
               for name, values in filters)


def _match(resource: Mapping[str, Any], name: str, value: str) -> bool:
    if name == "_id":
        return resource.get("id") == value
    if name == "url":
        url, _, version = value.partition("|")
        return resource.get("url") == url and (not version or resource.get("version") == version)
    found = resource.get(name)
    if not isinstance(found, str):
        return False
    if name in ("name", "title"):
        return found.casefold().startswith(value.casefold())
    return found == value


def _integer(value: str, name: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise FhirError(400, "invalid", f"{name}={value[:20]} is not a non-negative integer")
    return int(value)
