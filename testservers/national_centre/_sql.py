"""SQL the two stores share, written once for both dialects' parameter markers.

SQLite (``?``) and PostgreSQL (``%s``, psycopg) run the same statements for the duplicate
rules of DOMAIN.md §2(c) point 5, the message log and token search; each store passes its
connection's ``execute`` and its marker. Locking differs and stays in the stores: SQLite
serialises writers with ``BEGIN IMMEDIATE``, PostgreSQL with advisory locks.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._aggregates import record_aggregates
from .storage import (
    SERVER_WRITTEN,
    Envelope,
    IndexEntry,
    MessageFact,
    Processed,
    Receipt,
    SearchPage,
    SearchQuery,
    Serialised,
    StoredResource,
    TokenParam,
    compact_json,
    index_entries,
    now,
    serialised,
)

__all__ = ["Execute", "InsertMany", "classify", "message_facts", "put_resource",
           "put_resources", "read_resource", "record_message", "search_resources", "search_where",
           "transmission_count", "vread_resource"]

Execute = Callable[..., Any]  # connection.execute(sql, params) -> a cursor
InsertMany = Callable[[str, list[tuple[Any, ...]]], object]  # executemany(sql, rows)
_CHUNK = 400    # ids per statement: far below SQLite's bound on parameters (999 before 3.32)


def classify(execute: Execute, envelope: Envelope, p: str) -> Receipt | None:
    """The four cases of Bundle.id / MessageHeader.id, inside the caller's write transaction:
    None for a new message; else what to answer (the stored acknowledgement, or an error)."""
    row = execute(f"SELECT header_id FROM transmissions WHERE bundle_id = {p}",
                  (envelope.bundle_id,)).fetchone()
    if row is not None and row[0] != envelope.header_id:
        execute("INSERT INTO rejected_transmissions (bundle_id, header_id, received, reason) "
                f"VALUES ({p},{p},{p},{p})",
                (envelope.bundle_id, envelope.header_id, now(), "bundle-id-reused"))
        return Receipt("bundle-id-reused")
    message = execute(f"SELECT ack, ack_code FROM messages WHERE header_id = {p}",
                      (envelope.header_id,)).fetchone()
    if message is None:
        return None
    if row is not None:
        execute(f"UPDATE transmissions SET resends = resends + 1 WHERE bundle_id = {p}",
                (envelope.bundle_id,))
        return Receipt("resend", bytes(message[0]), message[1])
    execute("INSERT INTO transmissions (bundle_id, header_id, received, kind) "
            f"VALUES ({p},{p},{p},'duplicate')", (envelope.bundle_id, envelope.header_id, now()))
    return Receipt("duplicate", bytes(message[0]), message[1])


def record_message(execute: Execute, envelope: Envelope, processed: Processed, received: str,
                   p: str) -> None:
    """Log a new message with its acknowledgement, and its first transmission."""
    execute("INSERT INTO messages (header_id, bundle_id, event, sender, received, "
            "bundle_timestamp, ack_code, ack, kpi, reasons) "
            f"VALUES ({', '.join([p] * 10)})",
            (envelope.header_id, envelope.bundle_id, envelope.event, envelope.sender, received,
             envelope.timestamp, processed.ack_code, processed.ack,
             json.dumps(dict(processed.kpi), sort_keys=True),
             json.dumps(list(processed.reasons))))
    execute(f"INSERT INTO transmissions (bundle_id, header_id, received, kind) VALUES ({p}, "
            f"{p}, {p}, 'original')", (envelope.bundle_id, envelope.header_id, received))
    record_aggregates(execute, envelope, processed, received, p)


def put_resource(execute: Execute, insert_many: InsertMany,
                 resource: Mapping[str, Any] | Serialised, last_updated: str, p: str, *,
                 audit: bool = False) -> StoredResource:
    """Store a new version of ``resource`` (meta.versionId/lastUpdated set) and re-index it:
    :func:`put_resources` of one."""
    return put_resources(execute, insert_many, [resource], last_updated, p, audit=audit)[0]


def put_resources(execute: Execute, insert_many: InsertMany,
                  resources: Sequence[Mapping[str, Any] | Serialised], last_updated: str,
                  p: str, *, audit: bool = False) -> list[StoredResource]:
    """Store a new version of each resource, in order (meta.versionId/lastUpdated set), and
    re-index them: the versions of all are read in one statement, and the rows of all are
    written a table at a time; a resource named twice gets two versions. The caller holds
    whatever lock makes "read the versions, write the next" safe.

    Raises:
        PermissionError: a type of :data:`SERVER_WRITTEN` outside ``audit`` (the audit trail),
            or a new version of an AuditEvent (the trail is append-only).
    """
    items = [serialised(r) for r in resources]
    keys = [(str(i.like["resourceType"]), str(i.like["id"])) for i in items]
    for rtype, _ in keys:
        if (rtype in SERVER_WRITTEN) != audit:
            raise PermissionError(f"{rtype} is {'not ' if audit else ''}written by the server "
                                  "only")
    versions = _versions(execute, keys, p)
    existing = [key for key in dict.fromkeys(keys) if key in versions]
    stored: list[StoredResource] = []
    current: dict[tuple[str, str], Serialised] = {}
    for item, (rtype, rid) in zip(items, keys, strict=True):
        if audit and (rtype, rid) in versions:
            raise PermissionError(f"{rtype}/{rid} exists: the audit trail is append-only")
        version = versions[rtype, rid] = versions.get((rtype, rid), 0) + 1
        body = with_meta(item, version, last_updated).encode()
        stored.append(StoredResource(rtype, rid, version, last_updated, body))
        current[rtype, rid] = item
    insert_many(f"INSERT INTO resource_versions VALUES ({p},{p},{p},{p},{p})",
                [(s.resource_type, s.id, s.version, s.last_updated, s.json) for s in stored])
    insert_many(f"INSERT INTO resources VALUES ({p},{p},{p},{p}) ON CONFLICT (type, id) DO "
                "UPDATE SET version = excluded.version, last_updated = excluded.last_updated",
                [(s.resource_type, s.id, s.version, s.last_updated) for s in stored])
    for rtype, rid in existing:       # a new resource has no index rows yet
        execute(f"DELETE FROM search_index WHERE type = {p} AND id = {p}", (rtype, rid))
    entries = [(rtype, rid, e.param, e.system, e.value)
               for (rtype, rid), item in current.items() for e in _index_entries(item)]
    if entries:
        insert_many(f"INSERT INTO search_index VALUES ({p},{p},{p},{p},{p})", entries)
    return stored


def _versions(execute: Execute, keys: Sequence[tuple[str, str]],
              p: str) -> dict[tuple[str, str], int]:
    """The current versions of the resources ``keys`` names that exist (one statement per
    few hundred: the (type, id) key's index serves ``type IN (…) AND id IN (…)``)."""
    wanted = set(keys)
    ids = sorted({rid for _, rid in wanted})
    types = sorted({rtype for rtype, _ in wanted})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        rows = execute(f"SELECT type, id, version FROM resources WHERE type IN "
                       f"({','.join([p] * len(types))}) AND id IN ({','.join([p] * len(chunk))})",
                       (*types, *chunk)).fetchall()
        found.update(((r[0], r[1]), int(r[2])) for r in rows if (r[0], r[1]) in wanted)
    return found


def _index_entries(item: Serialised) -> list[IndexEntry]:
    """The index of a resource; it reads references only from ``subject`` and ``patient``, so
    a resource without them is indexed as it was before its references were rewritten."""
    like = item.like
    return index_entries(item.resource if "subject" in like or "patient" in like else like)


def with_meta(item: Serialised, version: int, last_updated: str) -> str:
    """The text of ``{**resource, "meta": meta}``, meta with ``versionId`` and ``lastUpdated``
    set: ``meta`` spliced into the resource's text, where it was or else last, as the dict
    would be serialised."""
    resource, text = item.like, item.text
    if "meta" not in resource:
        return text[:-1] + ("," if len(text) > 2 else "") + _meta_member(
            resource, version, last_updated) + "}"
    old = '"meta":' + compact_json(resource["meta"])
    if '"reference":' in old:       # a rewrite may have changed it: the resource's own
        resource = item.resource
        old = '"meta":' + compact_json(resource["meta"])
    member = _meta_member(resource, version, last_updated)
    start = text.find(old)
    if text.find(old, start + 1) >= 0:   # also inside an element before it: count members
        resource = item.resource
        start = 1 + sum(len(compact_json(key)) + len(compact_json(value)) + 2
                        for key, value in itertools.takewhile(lambda kv: kv[0] != "meta",
                                                              resource.items()))
    return text[:start] + member + text[start + len(old):]


def _meta_member(resource: Mapping[str, Any], version: int, last_updated: str) -> str:
    meta = dict(resource.get("meta") or {})
    meta.update(versionId=str(version), lastUpdated=last_updated)
    return '"meta":' + compact_json(meta)


def read_resource(execute: Execute, resource_type: str, resource_id: str,
                  p: str) -> StoredResource | None:
    row = execute(
        "SELECT v.version, v.last_updated, v.json FROM resources r JOIN resource_versions v "
        f"USING (type, id, version) WHERE r.type = {p} AND r.id = {p}",
        (resource_type, resource_id)).fetchone()
    return None if row is None else StoredResource(resource_type, resource_id, row[0], row[1],
                                                   bytes(row[2]))


def vread_resource(execute: Execute, resource_type: str, resource_id: str, version: int,
                   p: str) -> StoredResource | None:
    row = execute(f"SELECT last_updated, json FROM resource_versions WHERE type = {p} AND "
                  f"id = {p} AND version = {p}", (resource_type, resource_id, version)).fetchone()
    return None if row is None else StoredResource(resource_type, resource_id, version, row[0],
                                                   bytes(row[1]))


def search_resources(execute: Execute, query: SearchQuery, where: tuple[str, list[Any]],
                     p: str) -> SearchPage:
    """One page of a search (``where`` from :func:`search_where`), with the total."""
    clause, args = where
    total = int(execute(f"SELECT count(*) FROM resources r WHERE {clause}", args).fetchone()[0])
    if query.summary_count:
        return SearchPage(total, ())
    # With token criteria the search index must drive the query: an ORDER BY that the
    # planner can serve from resources_by_time makes SQLite walk every resource of the type.
    order = "r.last_updated || '', r.id" if query.tokens else "r.last_updated, r.id"
    rows = execute(
        "SELECT r.id, r.version, r.last_updated, v.json FROM resources r "
        f"JOIN resource_versions v USING (type, id, version) WHERE {clause} "
        f"ORDER BY {order} LIMIT {p} OFFSET {p}",
        [*args, query.count, query.offset]).fetchall()
    return SearchPage(total, tuple(StoredResource(query.resource_type, r[0], r[1], r[2],
                                                  bytes(r[3])) for r in rows))


def message_facts(execute: Execute, event: str | None, p: str) -> list[MessageFact]:
    """The message log (what the KPIs are computed from), oldest first."""
    sql = ("SELECT header_id, event, sender, received, bundle_timestamp, ack_code, kpi, reasons "
           "FROM messages")
    args: tuple[str, ...] = ()
    if event is not None:
        sql += f" WHERE event = {p}"
        args = (event,)
    rows = execute(sql + " ORDER BY received, header_id", args).fetchall()
    return [MessageFact(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]),
                        tuple(json.loads(r[7]))) for r in rows]


def transmission_count(execute: Execute) -> int:
    row = execute("SELECT (SELECT count(*) FROM transmissions) + "
                  "(SELECT count(*) FROM rejected_transmissions)").fetchone()
    return int(row[0])


def search_where(query: SearchQuery, p: str, *, ids_clause: Callable[[Sequence[str]], tuple[
        str, list[Any]]]) -> tuple[str, list[Any]]:
    """The WHERE clause of a search over ``resources r`` (and ``search_index s``)."""
    clauses, args = [f"r.type = {p}"], [query.resource_type]
    if query.ids:
        clause, values = ids_clause(query.ids)
        clauses.append(clause)
        args.extend(values)
    for op, instant in query.last_updated:
        if op not in ("<", "<=", ">", ">=", "="):
            raise ValueError(f"not a comparison operator: {op}")
        clauses.append(f"r.last_updated {op} {p}")
        args.append(instant)
    for param, alternatives in query.tokens:
        # Driven by the index (type, param, value): the matching ids are looked up, never
        # every resource of the type tested one by one.
        args.append(query.resource_type)
        ors = [_token_clause(alt, args, param, p) for alt in alternatives]
        clauses.append(f"r.id IN (SELECT s.id FROM search_index s WHERE s.type = {p} AND "
                       f"({' OR '.join(ors)}))")
    return " AND ".join(clauses), args


def _token_clause(token: TokenParam, args: list[Any], param: str, p: str) -> str:
    parts = [f"s.param = {p}"]
    args.append(param)
    if token.system is not None:
        parts.append(f"s.system = {p}")
        args.append(token.system)
    if token.value is not None:
        parts.append(f"s.value = {p}")
        args.append(token.value)
    return "(" + " AND ".join(parts) + ")"
