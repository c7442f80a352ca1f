"""The store's bulk path and reference rewriting: ``Store.commit_many`` stores several
messages in one transaction as ``commit`` stores each (duplicates included), and
``rewrite_references`` changes ``reference`` values only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _centre_messages import referral

from ecanfhir import Validator
from testservers.national_centre import Settings
from testservers.national_centre._kpifacts import kpi_facts
from testservers.national_centre.database import open_store
from testservers.national_centre.messaging import MessageService, envelope_of, stored_entries
from testservers.national_centre.storage import (
    Envelope,
    Processed,
    SearchQuery,
    rewrite_references,
    serialised,
    texts_rewritten,
)

URN = "urn:uuid:6d1c3f0a-0000-4000-8000-000000000001"


def _accepted(service: MessageService, bundle: dict[str, Any]) -> tuple[Envelope, Processed]:
    envelope = envelope_of(bundle)
    ack = service._ack(bundle, "ok", [])
    return envelope, Processed(json.dumps(ack).encode(), "ok",
                               (bundle, *stored_entries(bundle), ack),
                               kpi_facts(bundle, envelope.event))


def test_commit_many_stores_each_message_and_answers_a_duplicate(tmp_path: Path) -> None:
    """Three messages and a resend of the first in one call: three processed, the resend
    answered with the first's acknowledgement; the messages' resources are searchable."""
    database = str(tmp_path / "bulk.sqlite3")
    store = open_store(database)
    try:
        service = MessageService(Settings(database=database), store, Validator())
        batch = [_accepted(service, referral(f"CASE-BULK-{n}", seed=300 + n)) for n in range(3)]
        receipts = store.commit_many([*batch, batch[0]])
        assert [r.kind for r in receipts] == ["processed"] * 3 + ["resend"]
        assert receipts[3].ack == batch[0][1].ack
        assert len(store.messages()) == 3
        assert store.search(SearchQuery("ServiceRequest")).total == 3
    finally:
        store.close()


def test_rewrite_changes_references_only() -> None:
    """A reference to a Bundle fullUrl becomes Type/id, in lists and nested elements; the same
    text as an identifier value, inside a string, or in another key stays as it was."""
    resource = {
        "resourceType": "Condition", "subject": {"reference": URN, "display": "Ærø"},
        "evidence": [{"detail": [{"reference": URN}, {"reference": "Patient/9"}]}],
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": URN}],
        "note": [{"text": f'"reference":"{URN}"'}], "url": URN,
    }
    out = rewrite_references(resource, {URN: "Patient/1"})
    assert out["subject"] == {"reference": "Patient/1", "display": "Ærø"}
    assert out["evidence"][0]["detail"] == [{"reference": "Patient/1"},
                                           {"reference": "Patient/9"}]
    assert out["identifier"][0]["value"] == URN and out["url"] == URN
    assert out["note"][0]["text"] == f'"reference":"{URN}"'
    assert resource["subject"]["reference"] == URN      # a copy: the input is unchanged


def test_the_resources_of_a_bundle_are_rewritten_together() -> None:
    """A resource referring to a target is a rewritten copy; one referring to none is the
    very same item, not a copy; without targets the list is as it was."""
    patient = serialised({"resourceType": "Patient", "id": "1", "name": [{"family": "Ærø"}]})
    condition = serialised({"resourceType": "Condition", "subject": {"reference": URN}})
    out = texts_rewritten([patient, condition], {URN: "Patient/1"})
    assert out[0] is patient
    assert out[1].resource == {"resourceType": "Condition", "subject": {"reference": "Patient/1"}}
    assert out[1].text == '{"resourceType":"Condition","subject":{"reference":"Patient/1"}}'
    assert condition.resource["subject"]["reference"] == URN
    assert texts_rewritten([condition], {}) == [condition]
