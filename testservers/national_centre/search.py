"""FHIR search (R4 §3.1.1) for what the mock centre stores: ``_id``, ``identifier``,
``patient``/``subject``, ``_lastUpdated``, ``status``, ``class``, ``_count``/``_offset`` paging
and ``_summary=count``. Unknown parameters are ignored (and left out of the self link) unless
the client asks ``Prefer: handling=strict``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from ._dates import bounds, stored_form
from ._fhirio import FhirError
from .storage import SearchPage, SearchQuery, TokenParam, split_reference

__all__ = ["parse_search", "searchset"]

TOKEN_PARAMS = ("identifier", "status", "class")
REFERENCE_PARAMS = ("patient", "subject")
RESULT_PARAMS = ("_count", "_offset", "_summary", "_format")
# More values than this in one search is refused (too-costly): each becomes a term of one SQL
# statement, and SQLite refuses statements past a depth of 1000 terms.
MAX_VALUES = 100
_PREFIXES = {"eq": None, "ge": ">=", "gt": ">", "le": "<=", "lt": "<", "sa": ">", "eb": "<"}


def parse_search(resource_type: str, params: Sequence[tuple[str, str]], *, default_count: int,
                 max_count: int, strict: bool) -> tuple[SearchQuery, list[tuple[str, str]]]:
    """The query, and the parameters it used (for the self link); 400 for bad values."""
    ids: set[str] | None = None
    tokens: list[tuple[str, tuple[TokenParam, ...]]] = []
    last_updated: list[tuple[str, str]] = []
    used: list[tuple[str, str]] = []
    count, offset, summary = default_count, 0, False
    for name, value in params:
        if "\x00" in name or "\x00" in value:  # no FHIR value holds one; PostgreSQL refuses it
            raise FhirError(400, "invalid", "a search parameter holds a NUL character")
        base, _, modifier = name.partition(":")
        if base not in ("_id", "_lastUpdated", *TOKEN_PARAMS, *REFERENCE_PARAMS, *RESULT_PARAMS):
            if strict:
                raise FhirError(400, "not-supported", f"unknown search parameter {name[:60]}")
            continue
        if modifier:
            raise FhirError(400, "not-supported", f"search modifier :{modifier[:30]} is not "
                            "supported")
        used.append((name, value))
        if base == "_id":
            new = {v for v in value.split(",") if v}
            ids = new if ids is None else ids & new
        elif base in TOKEN_PARAMS:
            tokens.append((base, tuple(_token(v, base) for v in value.split(","))))
        elif base in REFERENCE_PARAMS:
            tokens.append((base, tuple(_reference(v, base) for v in value.split(","))))
        elif base == "_lastUpdated":
            last_updated.extend(_date(value))
        elif base == "_count":
            count = min(_integer(value, name), max_count)
        elif base == "_offset":
            offset = _integer(value, name)
        elif base == "_summary":
            if value not in ("count", "false"):
                raise FhirError(400, "not-supported", f"_summary={value[:20]} is not supported "
                                "(count or false)")
            summary = value == "count"
    values = len(ids or ()) + len(last_updated) + sum(len(v) for _, v in tokens)
    if values > MAX_VALUES:
        raise FhirError(400, "too-costly", f"a search takes at most {MAX_VALUES} values "
                        f"(identifiers, codes, dates), found {values}")
    query = SearchQuery(resource_type, tuple(sorted(ids)) if ids is not None else (),
                        tuple(tokens), tuple(last_updated), count, offset,
                        summary or count == 0)
    if ids is not None and not ids:
        query = SearchQuery(resource_type, (" ",), summary_count=query.summary_count)  # no id
    return query, used


def _token(value: str, name: str) -> TokenParam:
    if not value:
        raise FhirError(400, "invalid", f"{name}: empty search value")
    if "|" not in value:
        return TokenParam(None, value)
    system, _, code = value.partition("|")
    if name == "status":
        return TokenParam(None, code)
    return TokenParam(system, code or None)


def _reference(value: str, name: str) -> TokenParam:
    if not value:
        raise FhirError(400, "invalid", f"{name}: empty search value")
    parsed = split_reference(value)
    if parsed is not None:
        return TokenParam(parsed[0], parsed[1])
    if "/" in value or "|" in value:
        raise FhirError(400, "invalid", f"{name}={value[:60]} is not a reference")
    return TokenParam("Patient" if name == "patient" else None, value)


def _date(value: str) -> list[tuple[str, str]]:
    prefix = value[:2] if value[:2].isalpha() else "eq"
    text = value[2:] if value[:2].isalpha() else value
    if prefix not in _PREFIXES:
        raise FhirError(400, "not-supported", f"_lastUpdated prefix {prefix} is not supported")
    try:
        low, high = bounds(text)
    except ValueError:
        raise FhirError(400, "invalid", f"_lastUpdated={value[:40]} is not a FHIR date or "
                        "dateTime") from None
    if prefix == "eq":
        return [(">=", stored_form(low)), ("<", stored_form(high))]
    op = _PREFIXES[prefix]
    assert op is not None
    return [(op, stored_form(high if op in (">", "<=") else low))]


def _integer(value: str, name: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 9:  # not "²", a digit to str
        raise FhirError(400, "invalid", f"{name}={value[:20]} is not a non-negative integer")
    return int(value)


def searchset(page: SearchPage, query: SearchQuery, used: list[tuple[str, str]], *,
              base_url: str) -> dict[str, Any]:
    """The searchset Bundle of a page, with self and next links."""
    base = base_url.rstrip("/")
    kept = [(k, v) for k, v in used if k not in ("_offset", "_count")]

    def link(relation: str, offset: int) -> dict[str, str]:
        paging = [("_count", str(query.count)), ("_offset", str(offset))]
        return {"relation": relation,
                "url": f"{base}/{query.resource_type}?{urlencode(kept + paging)}"}

    links = [link("self", query.offset)]
    if not query.summary_count and query.offset + query.count < page.total:
        links.append(link("next", query.offset + query.count))
    if not query.summary_count and query.offset > 0:
        links.append(link("previous", max(0, query.offset - query.count)))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": str(uuid.uuid4()),
                              "type": "searchset", "total": page.total, "link": links}
    if page.resources:
        bundle["entry"] = [{"fullUrl": f"{base}/{r.resource_type}/{r.id}",
                            "resource": json.loads(r.json), "search": {"mode": "match"}}
                           for r in page.resources]
    return bundle
