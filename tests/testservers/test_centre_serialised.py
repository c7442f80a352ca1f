"""Resources of a message are serialised once: the text made at receipt is carried through the
reference rewrites to the store, which splices ``meta`` into it. What is stored must be the very
bytes the dict form gives (``json.dumps`` of ``{**resource, "meta": …}``, compact, UTF-8)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from _centre_messages import referral

from ecanfhir import ValidationResult, Validator
from testservers.national_centre import Settings, _sqlite
from testservers.national_centre._sql import put_resources, with_meta
from testservers.national_centre.database import open_store
from testservers.national_centre.messaging import MessageService
from testservers.national_centre.storage import (
    SearchQuery,
    Serialised,
    compact_json,
    composed_json,
    serialised,
    texts_rewritten,
)

URN = "urn:uuid:6d1c3f0a-0000-4000-8000-000000000002"
STAMP = "2026-03-01T10:00:00.000000+00:00"


def _dict_form(resource: dict[str, Any], version: int, stamp: str = STAMP) -> str:
    meta = dict(resource.get("meta") or {})
    meta.update(versionId=str(version), lastUpdated=stamp)
    return json.dumps({**resource, "meta": meta}, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("resource", [
    {"resourceType": "Patient", "id": "1", "name": [{"family": "Ærø"}]},
    {"resourceType": "Patient", "id": "1", "meta": {"profile": ["p"]}, "active": True},
    {"resourceType": "Patient", "meta": {"versionId": "7", "tag": []}, "id": "1"},
    {"resourceType": "Patient", "id": "1", "meta": None},
    {"resourceType": "Patient", "id": "1", "meta": {}},
    # the meta of a contained resource, the same text as the resource's own, comes first
    {"resourceType": "Observation", "contained": [{"resourceType": "Patient", "meta": {"a": 1}}],
     "meta": {"a": 1}, "note": [{"text": '"meta":{"a":1}'}]},
])
def test_meta_is_spliced_as_the_dict_form_writes_it(resource: dict[str, Any]) -> None:
    """versionId and lastUpdated land where ``{**resource, "meta": meta}`` puts them: in the
    resource's own meta (kept in place, never a contained resource's), or last."""
    assert with_meta(serialised(resource), 3, STAMP) == _dict_form(resource, 3)


def test_rewritten_texts_stay_the_resources_texts() -> None:
    """A rewritten item's text is its new resource's text; an item that refers to nothing
    rewritten is the same object; non-ASCII stays as it is in the text."""
    patient = serialised({"resourceType": "Patient", "id": "1", "name": [{"family": "Ærø"}]})
    condition = serialised({"resourceType": "Condition", "subject": {"reference": URN}})
    same, changed = texts_rewritten([patient, condition], {URN: "Patient/1"})
    assert same is patient and "Ærø" in patient.text
    assert changed.resource == {"resourceType": "Condition",
                                "subject": {"reference": "Patient/1"}}
    assert changed.text == compact_json(changed.resource)


class _Accepting:
    """A validator that finds nothing (what is stored is the question here)."""

    def __init__(self) -> None:
        self.registry = Validator().registry

    def validate(self, *_args: Any, **_kwargs: Any) -> ValidationResult:
        return ValidationResult(())


def test_stored_messages_are_their_dict_forms(database: str) -> None:
    """Every resource version stored for a received message (the Bundle, its entries with
    references rewritten, the ack) is the compact JSON of its dict with meta set; the
    entries' urn:uuid references name the stored Type/id."""
    store = open_store(database)
    try:
        service = MessageService(Settings(database=database), store,
                                 _Accepting())  # type: ignore[arg-type]
        for n in range(2):     # the second message's Organizations are the first's
            assert service.receive(referral(f"CASE-TEXT-{n}", seed=40 + n)).ack_code == "ok"
        ids = [r.id for r in store.search(SearchQuery("Bundle")).resources]
        assert len(ids) == 4                   # two messages, two acknowledgements
        for rtype in ("Bundle", "ServiceRequest", "Condition", "Organization"):
            for found in store.search(SearchQuery(rtype)).resources:
                stored = json.loads(found.json)
                assert found.json.decode() == _dict_form(stored, found.version,
                                                              found.last_updated)
                assert stored["meta"]["lastUpdated"] == found.last_updated
                assert ("urn:uuid:" in found.json.decode()) == (rtype == "Bundle")
    finally:
        store.close()


def test_a_resource_without_its_text_is_serialised_when_stored() -> None:
    """serialised() keeps an item that has its text and makes the text of a plain dict."""
    item = Serialised({"resourceType": "Basic"}, '{"resourceType":"Basic"}')
    assert serialised(item) is item
    assert serialised({"resourceType": "Basic", "id": "Ø"}).text == (
        '{"resourceType":"Basic","id":"Ø"}')


def test_a_bundles_text_is_composed_from_its_entries_texts() -> None:
    """composed_json gives compact_json's text, taking the known entries' texts as they are
    (a text that is not the object's own would show) and serialising the rest."""
    patient = {"resourceType": "Patient", "id": "1", "name": [{"family": "Ærø"}]}
    bundle = {"resourceType": "Bundle", "type": "message", "timestamp": "2026",
              "entry": [{"fullUrl": URN, "resource": patient},
                        {"resource": {"resourceType": "Basic", "amount": 1.5e-7}}, {}, []],
              "signature": {"data": None}}
    assert composed_json(bundle, {id(patient): compact_json(patient)}) == compact_json(bundle)
    marked = composed_json(bundle, {id(patient): '{"x":1}'})
    assert json.loads(marked)["entry"][0]["resource"] == {"x": 1}
    assert composed_json({"entry": []}, {}) == '{"entry":[]}'


def test_resources_put_together_are_numbered_and_indexed_in_order() -> None:
    """One put of several resources: a resource named twice gets versions 1 and 2 and is
    indexed as its last version; one stored before gets its next version and loses the index
    rows of the one before; audit puts refuse what exists."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(_sqlite.SCHEMA)
    try:
        old = {"resourceType": "Patient", "id": "p", "identifier": [{"value": "old"}]}
        put_resources(conn.execute, conn.executemany, [old], STAMP, "?")
        first = {"resourceType": "Organization", "id": "o", "identifier": [{"value": "1"}]}
        second = {**first, "identifier": [{"value": "2"}]}
        new = {**old, "identifier": [{"value": "new"}]}
        stored = put_resources(conn.execute, conn.executemany,
                               [first, serialised(new), second], STAMP, "?")
        assert [(s.id, s.version) for s in stored] == [("o", 1), ("p", 2), ("o", 2)]
        assert sorted(conn.execute("SELECT id, value FROM search_index").fetchall()) == [
            ("o", "2"), ("p", "new")]
        assert conn.execute("SELECT type, id, version FROM resources ORDER BY id").fetchall() == [
            ("Organization", "o", 2), ("Patient", "p", 2)]
        with pytest.raises(PermissionError, match="append-only"):
            put_resources(conn.execute, conn.executemany, [
                {"resourceType": "AuditEvent", "id": "a"},
                {"resourceType": "AuditEvent", "id": "a"}], STAMP, "?", audit=True)
    finally:
        conn.close()


@pytest.mark.parametrize("resource", [
    {"resourceType": "Observation", "id": "o", "meta": {"extension": [
        {"url": "x", "valueReference": {"reference": URN}}]}, "subject": {"reference": URN}},
    {"resourceType": "Provenance", "id": "p", "meta": {"profile": ["p"]},
     "target": [{"reference": URN}], "contained": [{"resourceType": "Basic", "meta": {}}]},
    {"resourceType": "Basic", "id": "b", "contained": [
        {"resourceType": "Basic", "meta": {"extension": [{"url": "x", "valueReference": {
            "reference": "Patient/1"}}]}}],
     "meta": {"extension": [{"url": "x", "valueReference": {"reference": URN}}]}},
])
def test_a_rewritten_resource_is_stored_and_indexed_as_its_rewritten_dict(
        resource: dict[str, Any]) -> None:
    """A rewritten text is parsed only when needed; what is stored (meta spliced, also into a
    meta whose references were rewritten) and indexed is what the rewritten dict gives."""
    (item,) = texts_rewritten([serialised(resource)], {URN: "Patient/1"})
    expected = json.loads(item.text)
    assert with_meta(item, 2, STAMP) == _dict_form(expected, 2)
    assert item.like is resource and item.resource == expected
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(_sqlite.SCHEMA)
    try:
        put_resources(conn.execute, conn.executemany, [item], STAMP, "?")
        index = conn.execute("SELECT param, system, value FROM search_index").fetchall()
        assert sorted(index) == ([("patient", "Patient", "1"), ("subject", "Patient", "1")]
                         if "subject" in resource else [])
    finally:
        conn.close()
