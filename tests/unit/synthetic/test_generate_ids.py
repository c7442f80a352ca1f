"""Generated sets never share message ids, whatever kinds and flags share a seed."""

from __future__ import annotations

from collections import Counter

from ecanfhir.synthetic import KINDS, generate


def test_kinds_and_invalid_sets_with_one_seed_share_no_message_id() -> None:
    """Same seed for every kind, valid and --invalid: every MessageHeader.id and Bundle.id is
    new, so a centre never takes one generated message for a resend of another."""
    headers: Counter[str] = Counter()
    bundles: Counter[str] = Counter()
    for kind in KINDS:
        for invalid in (False, True):
            for file in generate(kind, count=5, seed=1, invalid=invalid):
                bundles[file.bundle["id"]] += 1
                header = file.bundle["entry"][0]["resource"]
                if header.get("resourceType") == "MessageHeader":
                    headers[header["id"]] += 1
    assert len(headers) > 20
    assert [k for k, n in headers.items() if n > 1] == []
    assert [k for k, n in bundles.items() if n > 1] == []
