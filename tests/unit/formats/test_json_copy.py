"""copy_json: a deep copy of JSON data (ecanfhir.formats.json_copy)."""

from __future__ import annotations

import copy

from ecanfhir.formats.json_copy import copy_json


def test_copy_json_is_deep() -> None:
    original = {"a": [{"b": 1}, [2, {"c": "d"}]], "e": None}
    copied = copy_json(original)
    assert copied == original
    copied["a"][0]["b"] = 9
    copied["a"][1][1]["c"] = "x"
    copied["a"][1].append(3)
    assert original == {"a": [{"b": 1}, [2, {"c": "d"}]], "e": None}


def test_copy_json_equals_deepcopy_on_a_resource() -> None:
    """What copy.deepcopy gives, and no dict or list shared with the original."""
    resource = {"resourceType": "Provenance", "id": "p1", "target": [{"reference": "urn:uuid:1"}],
                "recorded": "2026-01-01T10:00:00+01:00", "agent": [{"who": {"display": "x"},
                "type": {"coding": [{"code": "author"}]}}], "_x": [None, {"id": "e"}],
                "n": 1.5, "ok": True}
    copied = copy_json(resource)
    assert copied == copy.deepcopy(resource)

    def containers(value: object) -> list[int]:
        if isinstance(value, dict):
            return [id(value), *(i for v in value.values() for i in containers(v))]
        if isinstance(value, list):
            return [id(value), *(i for v in value for i in containers(v))]
        return []

    assert not set(containers(copied)) & set(containers(resource))
