"""Resource skeletons, Bundle entries and references, in one convention.

Every built resource has a UUID v4 ``id`` and sits in its Bundle under ``fullUrl``
``urn:uuid:<id>`` (R4 §3.3.1.4.2: a ``urn:uuid`` reference resolves to the entry with that
fullUrl), so references between resources of one message always resolve inside it. A reference
to a resource of an *earlier* message (Provenance.entity.what) uses the MedCom form
``MessageHeader/<id>`` instead (DOMAIN.md §2(a) EcanProvenance).
"""

from __future__ import annotations

from typing import Any

from ..definitions.pilot import pilot_url
from ._claims import claimed_profiles
from ._context import BuildContext
from ._narrative import narrative

__all__ = ["entry_for", "new_resource", "previous_message", "reference_to"]


def new_resource(ctx: BuildContext, resource_type: str, profile: str | None,
                 *text: str) -> dict[str, Any]:
    """A resource with a new id, ``meta.profile`` naming the pilot profile (and the national
    and European profiles it also meets, :mod:`._claims`) and a narrative."""
    resource: dict[str, Any] = {"resourceType": resource_type, "id": ctx.new_id()}
    if profile is not None:
        resource["meta"] = {"profile": [pilot_url("StructureDefinition", profile),
                                        *claimed_profiles(profile)]}
    resource["text"] = narrative(*text)
    return resource


def reference_to(resource: dict[str, Any], display: str | None = None) -> dict[str, Any]:
    """A Reference to a resource of the same Bundle (by its ``urn:uuid`` fullUrl)."""
    ref: dict[str, Any] = {"reference": f"urn:uuid:{resource['id']}"}
    if display:
        ref["display"] = display
    return ref


def previous_message(header_id: str) -> dict[str, Any]:
    """A Reference to the MessageHeader of an earlier message (MedCom ``MessageHeader/<id>``)."""
    return {"reference": f"MessageHeader/{header_id}"}


def entry_for(resource: dict[str, Any]) -> dict[str, Any]:
    """The Bundle entry holding ``resource``: fullUrl ``urn:uuid:<id>`` agrees with its id."""
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
