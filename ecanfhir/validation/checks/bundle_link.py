"""Bundle links and search-set Bundles (R4 §3.3.1, bundle.html; http.html#search "Paging").

``Bundle.link.relation`` names an IANA link relation. The paging relations (``first``,
``previous``, ``next``, ``last``) only make sense in a search set or a history; each paging
relation and ``self`` appears at most once. A document may name its stylesheet (``stylesheet``,
R4 documents.html "Presenting a Document"). A search set says what the search was (its ``self``
link), and its entries say why they are there (``search.mode``):

=====================================  =============================================  ========
situation                              rule                                           severity
=====================================  =============================================  ========
paging link outside searchset/history  not allowed                                    error
second ``self`` (or paging) link       each relation once                             error
document stylesheet, absolute URL      should be https://hl7.org/fhir/fhir.css, https,  warning
                                       and http(s)/ftp
document stylesheet, relative URL      names an entry (``Binary/css``)                error
searchset without ``self`` link        should say what the search was                 warning
``self`` link naming no resource type  entries' types cannot be checked               info
searchset entry without ``search.mode``  should say match/include/outcome              warning
entry without a resource               a search result is a resource                  error
``match`` / ``include`` entry, no id   search results have ids                        error
``match`` entry of a type the search   not a match                                    error
did not ask for
``outcome`` entry                      is an OperationOutcome                         error
=====================================  =============================================  ========

The searched types are read from the ``self`` link as the HL7 validator reads them: the last
path segment when it is a resource type, else ``_type=``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .._issue import Issue
from .json_values import dicts, objects
from .uri import is_absolute

__all__ = ["check_bundle_links", "check_search_set"]

PAGING = ("first", "previous", "next", "last")
SEARCH_TYPES = ("searchset", "history")
FHIR_CSS = "https://hl7.org/fhir/fhir.css"


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def check_bundle_links(bundle: Mapping[str, Any], at: str) -> Iterator[Issue]:
    """The link relations a Bundle of this type allows, each once; a document's stylesheet."""
    kind = _str(bundle, "type")
    if kind is None:
        return
    seen: set[str] = set()
    for i, link in objects(bundle.get("link")):
        rel = _str(link, "relation")
        if rel is None:
            continue
        where = f"{at}.link[{i}]"
        if kind in SEARCH_TYPES:
            if rel in (*PAGING, "self") and rel in seen:
                yield Issue.error("invalid", where, f"the link relation '{rel}' can only occur "
                                  "once", "bundle-link-unique")
        else:
            if rel in PAGING:
                yield Issue.error("invalid", f"{where}.relation", f"the paging link relation "
                                  f"'{rel}' belongs to search sets and histories, not to a "
                                  f"{kind} Bundle", "bundle-link-paging")
            elif rel == "self" and rel in seen:
                yield Issue.error("invalid", f"{where}.relation", "the link relation 'self' can "
                                  "only occur once", "bundle-link-unique")
            elif rel == "stylesheet" and kind == "document":
                yield from _stylesheet(bundle, _str(link, "url"), f"{where}.url")
        seen.add(rel)


def _stylesheet(bundle: Mapping[str, Any], url: str | None, where: str) -> Iterator[Issue]:
    if url is None or url == FHIR_CSS:
        return
    if is_absolute(url):
        yield Issue.warning("business-rule", where, f"documents should not use external "
                            f"stylesheets other than {FHIR_CSS}", "bundle-link-stylesheet")
        if url.startswith("http://"):
            yield Issue.warning("business-rule", where, "the stylesheet reference is not secure "
                                "(http:, not https:)", "bundle-link-stylesheet")
        if url.partition(":")[0] not in ("http", "https", "ftp"):
            yield Issue.warning("business-rule", where, "the stylesheet reference is not a "
                                "resolvable link (http:, https: or ftp:)",
                                "bundle-link-stylesheet")
        return
    names = {f"{r.get('resourceType')}/{r.get('id')}" for entry in dicts(bundle.get("entry"))
             if isinstance(r := entry.get("resource"), Mapping)}
    if url not in names:
        yield Issue.error("not-found", where, f"the stylesheet '{url}' is not a resource in "
                          "this Bundle", "bundle-link-stylesheet")


def check_search_set(bundle: Mapping[str, Any], at: str, *,
                     is_resource_type: Callable[[str], bool]) -> Iterator[Issue]:
    """The rules of a search set's self link and entries (not for other Bundle types)."""
    if bundle.get("type") != "searchset":
        return
    entries = objects(bundle.get("entry"))
    if not entries:
        return
    self_url = next((_str(link, "url") for link in dicts(bundle.get("link"))
                     if link.get("relation") == "self"), None)
    if self_url is None:
        yield Issue.warning("invalid", at, "a search set should have a self link that says "
                            "what the search was", "searchset-self")
    types = _searched_types(self_url, is_resource_type) if self_url else []
    if self_url and not types:
        yield Issue.information("informational", at, f"no resource type could be read from the "
                                f"self link '{self_url}', so the entries' types were not checked",
                                "searchset-self")
    modes = [_mode(entry) for _, entry in entries]
    if all(mode is None for mode in modes):
        yield from _entries_without_modes(entries, at, types, has_self=self_url is not None)
        return
    for (i, entry), mode in zip(entries, modes, strict=True):
        where = f"{at}.entry[{i}]"
        if mode is None:
            yield Issue.warning("invalid", where, "search set entries should say why they are "
                                "there (search.mode)", "searchset-mode")
        resource = entry.get("resource")
        if not isinstance(resource, Mapping):
            yield Issue.error("required", where, "a search set entry holds a resource",
                              "searchset-entry")
            continue
        yield from _moded_entry(resource, mode, f"{where}.resource", types)


def _moded_entry(resource: Mapping[str, Any], mode: str | None, where: str,
                 types: list[str]) -> Iterator[Issue]:
    rt = _str(resource, "resourceType") or ""
    if mode in ("match", "include") and "id" not in resource:
        yield Issue.error("required", where, "search results have ids", "searchset-entry")
    if mode == "match" and types and rt not in types:
        yield Issue.error("invalid", where, f"this {rt} does not match the search, which is for "
                          f"{', '.join(types)}", "searchset-match-type")
    elif mode == "outcome" and rt != "OperationOutcome":
        yield Issue.error("invalid", where, f"an entry with search.mode 'outcome' is an "
                          f"OperationOutcome, not a {rt}", "searchset-match-type")


def _entries_without_modes(entries: list[tuple[int, Mapping[str, Any]]], at: str,
                           types: list[str], *, has_self: bool) -> Iterator[Issue]:
    """No entry gives search.mode: entries are judged by the searched types (warnings)."""
    mixed = False
    first_type = None
    for i, entry in entries:
        where = f"{at}.entry[{i}]"
        resource = entry.get("resource")
        if not isinstance(resource, Mapping):
            yield Issue.error("required", where, "a search set entry holds a resource",
                              "searchset-entry")
            continue
        rt = _str(resource, "resourceType") or ""
        if not types and has_self:
            yield Issue.information("informational", f"{where}.resource", f"whether a {rt} is "
                                    "a result of this search cannot be told",
                                    "searchset-match-type")
        if types and rt not in types:
            mixed = True
            yield Issue.warning("invalid", where, f"this {rt} does not match the search, which is "
                                f"for {', '.join(types)} (is a search.mode needed?)",
                                "searchset-match-type")
            continue
        if rt != "OperationOutcome":
            if "id" not in resource:
                yield Issue.warning("required", f"{where}.resource", "search results should "
                                    "have ids", "searchset-entry")
            mixed = mixed or (first_type is not None and rt != first_type)
            first_type = first_type or rt
    if mixed or not types:
        yield Issue.warning("invalid", at, "search set entries should say why they are there "
                            "(search.mode)", "searchset-mode")


def _mode(entry: Mapping[str, Any]) -> str | None:
    search = entry.get("search")
    return _str(search, "mode") if isinstance(search, Mapping) else None


def _searched_types(url: str, is_resource_type: Callable[[str], bool]) -> list[str]:
    path, _, query = url.partition("?")
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if is_resource_type(last):
        return [last]
    return [t for part in query.split("&") if part.startswith("_type=")
            for t in part[6:].split(",") if t]
