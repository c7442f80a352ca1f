"""Resources modelled with the ``fhir.resources`` package (pydantic classes) as FHIR JSON.

``fhir.resources`` ships R4B, R5 and STU3 models, not R4; its objects serialise themselves to
FHIR JSON (``model_dump_json()`` on pydantic 2 releases, ``json()`` on older ones), and that
JSON is what ecanfhir reads, so the validator and the client take such objects as they are.
Nothing is imported from ``fhir.resources``: an object is recognised by its methods, so the
package stays optional and costs nothing to those who do not use it.

What an R4B model changes in R4 data (it validates against R4B before ecanfhir sees it) is
told in the README ("Objects from fhir.resources").

>>> class Patient:   # stands in for fhir.resources.R4B.patient.Patient
...     def get_resource_type(self) -> str:
...         return "Patient"
...     def model_dump_json(self) -> str:
...         return '{"resourceType": "Patient", "active": true}'
>>> resource_json(Patient())
{'resourceType': 'Patient', 'active': True}
>>> resource_json({"resourceType": "Patient"})
{'resourceType': 'Patient'}
"""

from __future__ import annotations

import json
from typing import Any, Protocol

__all__ = ["ResourceModel", "is_resource_model", "resource_json"]


class ResourceModel(Protocol):
    """What a ``fhir.resources`` resource object has (for type hints)."""

    def get_resource_type(self) -> str: ...


_PLAIN = (dict, list, str, bytes, bytearray, int, float, bool, type(None))


def is_resource_model(value: Any) -> bool:
    """Whether ``value`` is a ``fhir.resources`` resource object (by its methods)."""
    if isinstance(value, (*_PLAIN, type)):
        return False
    return callable(getattr(value, "get_resource_type", None)) and (
        callable(getattr(value, "model_dump_json", None)) or callable(getattr(value, "json",
                                                                               None)))


def resource_json(value: Any) -> Any:
    """The FHIR JSON form of a ``fhir.resources`` object, serialised by the object itself;
    any other value is returned as it is."""
    if not is_resource_model(value):
        return value
    # pydantic 2 models (fhir.resources 7 and later) write FHIR JSON with model_dump_json();
    # their json() is pydantic's deprecated alias. Older releases (pydantic 1) have json().
    dump = getattr(value, "model_dump_json", None)
    text = dump() if callable(dump) else value.json()
    return json.loads(text)
