"""FHIR R4 transaction and batch Bundles (http.html §3.1.0.11) and create, with conditional
create (``request.ifNoneExist`` / the ``If-None-Exist`` header).

A **transaction** is all or nothing: every resource is validated first, then one
:meth:`~.storage.Store.atomic` unit runs the POSTs, the PUTs and the GETs in that order (the
order the spec gives), and any failure (400 bad entry, 404, 412 multiple matches or version
conflict, 422 invalid resource) is raised as a :class:`~._fhirio.FhirError`, which rolls the
unit back: nothing is stored. ``urn:uuid:`` fullUrls of created resources become the assigned
``Type/id`` in every reference of the transaction (or the matched resource's, for a
conditional create that found one). A **batch** runs each entry on its own and reports each
entry's status, or its OperationOutcome, in the response.

Conditional create: ``ifNoneExist`` is a search query string (``identifier=system|value``)
parsed strictly (an unknown parameter is a 400, never a match-all): no match creates, one
match answers ``200 OK`` with the existing resource untouched, several answer 412. The store
locks the criterion before its search, so concurrent conditional creates of one identifier
create one resource (see :meth:`~.storage.Transaction.match`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ecanfhir import Validator

from ._dates import bounds
from ._fhirio import FhirError, operation_outcome
from .search import parse_search, searchset
from .settings import Settings
from .storage import (
    SERVER_WRITTEN,
    Store,
    StoredResource,
    Transaction,
    rewrite_references,
    split_reference,
)

__all__ = ["EntryResult", "create", "process_bundle"]

METHODS = ("POST", "PUT", "GET")
_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
            422: "Unprocessable Entity"}


@dataclass(frozen=True, slots=True)
class EntryResult:
    """The outcome of one entry (or of a single create): its ``Bundle.entry.response``."""

    status: int
    stored: StoredResource | None = None
    body: Mapping[str, Any] | None = None        # a searchset, for a search
    outcome: Mapping[str, Any] | None = None     # a batch entry's failure

    def response(self, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"status": f"{self.status} {_REASONS.get(self.status, '')}".strip()}
        if self.stored is not None:
            out["location"] = location(self.stored, base_url)
            out["etag"] = f'W/"{self.stored.version}"'
            out["lastModified"] = self.stored.last_updated
        if self.outcome is not None:
            out["outcome"] = dict(self.outcome)
        return out

    def headers(self, base_url: str) -> dict[str, str]:
        if self.stored is None:
            return {}
        modified = format_datetime(bounds(self.stored.last_updated)[0], usegmt=True)
        return {"Location": location(self.stored, base_url),
                "ETag": f'W/"{self.stored.version}"', "Last-Modified": modified}


def location(stored: StoredResource, base_url: str) -> str:
    return (f"{base_url.rstrip('/')}/{stored.resource_type}/{stored.id}/_history/"
            f"{stored.version}")


@dataclass(slots=True)
class _Entry:
    """One request of a transaction or batch, checked; ``index`` is its place in the Bundle."""

    index: int
    method: str
    url: str
    full_url: str | None = None
    resource: dict[str, Any] | None = None
    if_none_exist: str | None = None
    if_match: int | None = None
    assigned: str = ""                   # Type/id a POST/PUT writes (ids assigned up front)
    target: str = ""                     # the same, or the resource a conditional create found
    result: EntryResult | None = field(default=None)


@dataclass(frozen=True, slots=True)
class _Context:
    store: Store
    validator: Validator
    settings: Settings


def create(resource: Any, resource_type: str, *, if_none_exist: str | None, store: Store,
           validator: Validator, settings: Settings) -> EntryResult:
    """``POST [base]/[type]``: validate, then create (or find, with ``If-None-Exist``)."""
    entry = _Entry(-1, "POST", resource_type, resource=resource, if_none_exist=if_none_exist)
    context = _Context(store, validator, settings)
    _check_resource(entry, context, where="")
    _assign_targets([entry])
    return store.atomic(lambda tx: _post(tx, entry, {}, settings))


def process_bundle(bundle: Any, *, store: Store, validator: Validator,
                   settings: Settings, representation: bool) -> dict[str, Any]:
    """The transaction-response or batch-response Bundle for a transaction or batch Bundle;
    a failed transaction raises :class:`FhirError` (nothing stored)."""
    kind = bundle.get("type") if isinstance(bundle, dict) else None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle" or kind not in (
            "transaction", "batch"):
        raise FhirError(400, "invalid", "POST [base] takes a Bundle of type transaction or "
                        f"batch, found {kind or 'no Bundle'!s:.40}")
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise FhirError(400, "structure", "Bundle.entry must be an array")
    context = _Context(store, validator, settings)
    if kind == "transaction":
        entries = [_parse(e, i, context) for i, e in enumerate(raw)]
        _assign_targets(entries)
        store.atomic(lambda tx: _run_transaction(tx, entries, settings))
    else:
        entries = [_batch_entry(e, i, context) for i, e in enumerate(raw)]
    response_entries = []
    for entry in entries:
        assert entry.result is not None
        out: dict[str, Any] = {"response": entry.result.response(settings.base_url)}
        if entry.result.body is not None:
            out["resource"] = dict(entry.result.body)
        elif entry.result.stored is not None and (representation or entry.method == "GET"):
            out["resource"] = json.loads(entry.result.stored.json)
        if entry.result.stored is not None:
            out["fullUrl"] = (f"{settings.base_url.rstrip('/')}/"
                              f"{entry.result.stored.resource_type}/{entry.result.stored.id}")
        response_entries.append(out)
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": f"{kind}-response",
            "entry": response_entries}


# -- checking entries ---------------------------------------------------------------------------

def _parse(raw: Any, index: int, context: _Context) -> _Entry:
    where = f"Bundle.entry[{index}]"
    request = raw.get("request") if isinstance(raw, dict) else None
    if not isinstance(request, dict):
        raise _entry_error(400, "required", where, "an entry needs a request")
    method, url = request.get("method"), request.get("url")
    if method == "DELETE":
        raise _entry_error(405, "not-supported", where, "DELETE is not supported here")
    if method not in METHODS or not isinstance(url, str) or not url.strip():
        raise _entry_error(400, "invalid", where, f"request.method must be one of "
                           f"{'/'.join(METHODS)} and request.url a relative URL")
    full_url = raw.get("fullUrl")
    entry = _Entry(index, method, url.strip().lstrip("/"),
                   full_url if isinstance(full_url, str) else None,
                   raw.get("resource"), request.get("ifNoneExist"))
    if entry.if_none_exist is not None and not isinstance(entry.if_none_exist, str):
        raise _entry_error(400, "invalid", where, "request.ifNoneExist must be a string")
    if_match = request.get("ifMatch")
    if if_match is not None:
        entry.if_match = _version_tag(if_match, where)
    if method in ("POST", "PUT"):
        _check_resource(entry, context, where=where)
    return entry


def _check_resource(entry: _Entry, context: _Context, *, where: str) -> None:
    """The resource of a POST/PUT: present, of the URL's type, with the URL's id, valid."""
    resource, path = entry.resource, urlsplit(entry.url).path
    at = f"{where}.resource" if where else ""
    named = {path.split("/", 1)[0], str(resource.get("resourceType")) if isinstance(
        resource, dict) else None}
    if named & SERVER_WRITTEN:
        raise _entry_error(405, "not-supported", where, f"{entry.method} {path[:60]}: "
                           "AuditEvents are written by this server only (read and search them)")
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise _entry_error(400, "required", at or "", f"{entry.method} needs a resource")
    rtype = resource["resourceType"]
    if entry.method == "POST" and path != rtype:
        raise _entry_error(400, "invalid", at, f"POST {path[:60]} with a {rtype[:60]}: a "
                           "create's URL is the resource's type")
    if entry.method == "PUT":
        parts = split_reference(path)
        if parts is None or path.count("/") != 1 or parts[0] != rtype:
            raise _entry_error(400, "not-supported", at, f"PUT {path[:60]}: an update's URL "
                               "is [type]/[id] of the resource (no conditional update)")
        if resource.get("id") not in (None, parts[1]):
            raise _entry_error(400, "invalid", at, f"PUT {path[:60]} with id "
                               f"{str(resource.get('id'))[:64]}: the ids must agree")
    if not context.validator.registry.is_resource_type(rtype):
        raise _entry_error(400, "not-supported", at, f"{rtype[:60]} is not a FHIR R4 resource")
    errors = context.validator.validate(resource).errors
    if errors:
        issues = [i.to_fhir() for i in errors[:100]]
        for issue in issues:
            issue["expression"] = [f"{at}.{e}" if at else e for e in issue.get("expression", [])]
        raise FhirError(422, "processing", "invalid resource",
                        outcome={"resourceType": "OperationOutcome", "issue": issues})


def _version_tag(value: Any, where: str) -> int:
    text = value.strip() if isinstance(value, str) else ""
    digits = text.removeprefix("W/").strip('"')
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:  # not W/"²"
        raise _entry_error(400, "invalid", where, f"ifMatch {text[:30]} is not a version tag "
                           'such as W/"2"')
    return int(digits)


def _assign_targets(entries: Sequence[_Entry]) -> None:
    """Server-assigned ids for creates, the URL's id for updates; one write per identity."""
    seen: set[str] = set()
    for entry in entries:
        if entry.method == "POST":
            entry.assigned = f"{entry.url.split('?')[0]}/{uuid.uuid4()}"
        elif entry.method == "PUT":
            entry.assigned = urlsplit(entry.url).path
            if entry.assigned in seen:
                raise _entry_error(400, "invalid", _where(entry),
                                   f"{entry.assigned} is written twice in one transaction")
            seen.add(entry.assigned)
        entry.target = entry.assigned


def _entry_error(status: int, code: str, where: str, text: str) -> FhirError:
    outcome = operation_outcome("error", code, f"{where}: {text}" if where else text,
                                expression=where or None)
    return FhirError(status, code, text, outcome=outcome)


# -- running entries ----------------------------------------------------------------------------

def _run_transaction(tx: Transaction, entries: Sequence[_Entry], settings: Settings) -> None:
    for entry in entries:     # the store may run this again after a deadlock: start afresh
        entry.target, entry.result = entry.assigned, None
    targets: dict[str, str] = {}
    posts = [e for e in entries if e.method == "POST"]
    for entry in posts:       # conditional creates first: a match decides the reference
        if entry.if_none_exist is not None:
            found = _match(tx, entry, settings)
            if found is not None:
                entry.target = f"{found.resource_type}/{found.id}"
                entry.result = EntryResult(200, found)
        if entry.full_url:
            targets[entry.full_url] = entry.target
    for entry in entries:
        if entry.method == "PUT" and entry.full_url:
            targets[entry.full_url] = entry.target
    for entry in posts:
        if entry.result is None:
            entry.result = _write(tx, entry, rewrite_references(entry.resource, targets), 201)
    for entry in entries:
        if entry.method == "PUT":
            entry.result = _put(tx, entry, rewrite_references(entry.resource, targets))
    for entry in entries:
        if entry.method == "GET":
            entry.result = _get(tx, entry, settings)


def _batch_entry(raw: Any, index: int, context: _Context) -> _Entry:
    """One batch entry, on its own: its result, or its failure as a response outcome."""
    entry = _Entry(index, "GET", "")
    try:
        entry = _parse(raw, index, context)
        _assign_targets([entry])
        work: Callable[[Transaction], EntryResult] = {
            "POST": lambda tx: _post(tx, entry, {}, context.settings),
            "PUT": lambda tx: _put(tx, entry, entry.resource or {}),
            "GET": lambda tx: _get(tx, entry, context.settings),
        }[entry.method]
        entry.result = context.store.atomic(work)
    except FhirError as error:
        entry.result = EntryResult(error.status, outcome=error.outcome)
    return entry


def _post(tx: Transaction, entry: _Entry, targets: Mapping[str, str],
          settings: Settings) -> EntryResult:
    if entry.if_none_exist is not None:
        found = _match(tx, entry, settings)
        if found is not None:
            return EntryResult(200, found)
    return _write(tx, entry, rewrite_references(entry.resource, targets), 201)


def _match(tx: Transaction, entry: _Entry, settings: Settings) -> StoredResource | None:
    """The one resource matching ``ifNoneExist``, None for none, 412 for several."""
    assert entry.if_none_exist is not None and entry.resource is not None
    rtype = entry.resource["resourceType"]
    params = parse_qsl(entry.if_none_exist.lstrip("?").split("?")[-1], keep_blank_values=True)
    if not params:
        raise _entry_error(400, "invalid", _where(entry), "ifNoneExist has no search criteria")
    query, _used = parse_search(rtype, params, default_count=2, max_count=2, strict=True)
    ids = tx.match(query)
    if len(ids) > 1:
        raise _entry_error(412, "duplicate", _where(entry), f"ifNoneExist "
                           f"{entry.if_none_exist[:80]} matches more than one {rtype}")
    return tx.read(rtype, ids[0]) if ids else None


def _write(tx: Transaction, entry: _Entry, resource: Any, status: int) -> EntryResult:
    rtype, rid = entry.target.split("/", 1)
    return EntryResult(status, tx.put({**resource, "resourceType": rtype, "id": rid}))


def _put(tx: Transaction, entry: _Entry, resource: Any) -> EntryResult:
    rtype, rid = entry.target.split("/", 1)
    current = tx.read(rtype, rid)
    if entry.if_match is not None and (current is None or current.version != entry.if_match):
        found = "none" if current is None else f'W/"{current.version}"'
        raise _entry_error(412, "conflict", _where(entry), f"ifMatch W/\"{entry.if_match}\" "
                           f"but the current version of {entry.target} is {found}")
    return _write(tx, entry, resource, 201 if current is None else 200)


def _get(tx: Transaction, entry: _Entry, settings: Settings) -> EntryResult:
    parts = urlsplit(entry.url)
    segments = parts.path.split("/")
    rtype = segments[0]
    if not rtype or not rtype[0].isupper():
        raise _entry_error(400, "not-supported", _where(entry), f"GET {entry.url[:60]}: only "
                           "read, vread and search of a type are supported here")
    if len(segments) == 1:
        query, used = parse_search(rtype, parse_qsl(parts.query, keep_blank_values=True),
                                   default_count=settings.default_count,
                                   max_count=settings.max_count, strict=False)
        page = tx.search(query)
        return EntryResult(200, body=searchset(page, query, used, base_url=settings.base_url))
    found = None
    if len(segments) == 2:
        found = tx.read(rtype, segments[1])
    elif len(segments) == 4 and segments[2] == "_history" and segments[3].isascii() and (
            segments[3].isdigit()):
        found = tx.vread(rtype, segments[1], int(segments[3][:9]))
    if found is None:
        raise _entry_error(404, "not-found", _where(entry), f"{parts.path[:80]} is not known")
    return EntryResult(200, found)


def _where(entry: _Entry) -> str:
    return f"Bundle.entry[{entry.index}]" if entry.index >= 0 else ""
