"""The syntax of reference URLs: the search of a conditional reference, and relative URLs
that do not look like ``Type/id``.

In a transaction or batch Bundle a reference may be a search, resolved by the server when it
processes the Bundle (R4 http.html §3.1.0.11.2, "Conditional References"): ``Type?`` followed
by a search query, ``name=value`` pairs joined by ``&`` (R4 search.html §3.1.1.0). The HL7
validator reports a query it cannot read (REFERENCE_REF_QUERY_INVALID); so does ecanfhir: an
empty query, an empty pair, a pair without a name or without ``=``.

Trusting the type a relative URL names (``assume_valid_rest_references``) needs a URL that
looks like ``Type/id``: one that does not is a warning (REFERENCE_REF_SUSPICIOUS).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["query_problem", "suspicious"]


def query_problem(reference: str) -> str | None:
    """Why the query of ``Type?query`` cannot be read (None: it can).

    >>> query_problem("Patient?identifier=http://example.org/mrn|123") is None
    True
    >>> query_problem("Patient?identifier")
    "the search parameter 'identifier' has no '=value'"
    """
    query = reference.split("?", 1)[1]
    if not query:
        return "the query is empty"
    for part in query.split("&"):
        if not part:
            return "it has an empty parameter ('&&' or a '&' at an end)"
        name, equals, _ = part.partition("=")
        if not equals:
            return f"the search parameter '{name}' has no '=value'"
        if not name:
            return f"'{part}' has no parameter name"
    return None


_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def suspicious(reference: str, *, is_resource_type: Callable[[str], bool]) -> bool:
    """A relative reference that is not ``Type/id`` or ``Type/id/_history/version`` with a
    known resource type and valid ids (the HL7 validator's ``isSuspiciousReference``: with
    ``-assumeValidRestReferences`` it takes such a URL's type on trust, so it warns when the
    URL does not look like one). Absolute URLs, ``#`` fragments, URNs and searches are not
    judged here.

    >>> suspicious("patient/1", is_resource_type=lambda t: t == "Patient")
    True
    """
    if reference.startswith("#") or ":" in reference or "?" in reference:
        return False
    parts = reference.split("/")
    looks_right = len(parts) in (2, 4) and is_resource_type(parts[0]) \
        and all(_ID.fullmatch(p) for p in parts[1::2]) \
        and (len(parts) == 2 or parts[2] == "_history")
    return not looks_right
