"""The validator: JSON in, :class:`ValidationResult` out, never an exception for bad data.

``Validator`` binds a :class:`~ecanfhir.Registry` (core definitions plus loaded packages) with
its compiled schema and terminology; ``validate()`` walks the resource once, resolves the
references it collected, and reports profiles it could not check.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .._collector import collector_paused
from ..definitions.registry import Registry
from ..definitions.schema import Schema
from ..formats._models import resource_json
from ..formats._sniff import looks_like_xml
from ..formats.json_read import parse_json
from ..terminology.value_sets import EXTERNAL_SYSTEMS, Terminology
from ._context import Run
from ._issue import Issue, ValidationResult, sort_issues
from ._options import ValidationOptions
from ._walk import conforms, walk_resource
from .checks.reference import check_references

__all__ = ["Validator", "validate"]


class Validator:
    """Validates FHIR R4 JSON resources against core definitions and loaded profiles.

    >>> v = Validator()
    >>> v.validate({"resourceType": "Patient", "gender": "mal"}).errors[0].expression
    'Patient.gender'
    """

    def __init__(self, registry: Registry | None = None, *,
                 options: ValidationOptions | None = None) -> None:
        self.registry = registry if registry is not None else Registry()
        self.options = options or ValidationOptions()
        self.schema = Schema(self.registry)
        self.terminology = Terminology(self.registry)

    def validate(self, resource: Any, *, profiles: Sequence[str] = (),
                 source: str | None = None) -> ValidationResult:
        """Validate one resource (a dict, or JSON or XML text/bytes).

        Args:
            resource: the resource; text or bytes are parsed first, as XML when they start
                with ``<`` (FHIR XML, R4 §2.6.1), as JSON otherwise; a
                ``fhir.resources`` object is serialised by its own JSON method.
            profiles: canonical URLs of profiles the resource must also conform to.
            source: a label for reports (a file name).

        Returns:
            The issues found; ``result.ok`` is True when none is an error.

        The cyclic garbage collector is paused while it runs (``_collector.collector_paused``).
        """
        with collector_paused():
            return self._validate(resource, profiles=profiles, source=source)

    def _validate(self, resource: Any, *, profiles: Sequence[str],
                  source: str | None) -> ValidationResult:
        resource = resource_json(resource)
        if isinstance(resource, (str, bytes, bytearray)) and looks_like_xml(resource):
            return self._validate_xml(resource, profiles=profiles, source=source)
        if isinstance(resource, (str, bytes, bytearray)):
            parsed, problem = parse_json(resource)
            if problem is not None:
                return ValidationResult((problem,), source)
            resource = parsed
        run = Run(self.schema, self.terminology, self.options, base_only=not profiles)
        if not isinstance(resource, dict):
            kind = "an array" if isinstance(resource, list) else type(resource).__name__
            run.issues.append(Issue("fatal", "structure", "", f"expected a FHIR resource (a JSON "
                                    f"object), found {kind}", "json-form"))
            return ValidationResult(tuple(run.issues), source)
        rt = resource.get("resourceType")
        root = rt if isinstance(rt, str) and rt else "Resource"
        try:
            frame = walk_resource(run, resource, root, profiles=profiles)
            if frame is not None and self.options.resolve_references:
                run.issues.extend(check_references(
                    run, lambda f, target, url: conforms(run, f, target, url)))
        except Exception as exc:  # a defect of ecanfhir's, not of the data: reported, not raised
            run.issues.append(internal_error(exc, root))
        finally:
            run.release()
        run.issues.extend(_external_note(run.external_systems))
        return ValidationResult(sort_issues(run.issues), source)

    def _validate_xml(self, text: str | bytes | bytearray, *, profiles: Sequence[str],
                      source: str | None) -> ValidationResult:
        """FHIR XML: the issues of reading it, then those of its JSON form, each with the line
        and column of its element."""
        from ..formats.xml_read import read_xml

        read = read_xml(text)
        if read.resource is None:
            return ValidationResult(tuple(read.issues), source)
        found = self._validate(read.resource, profiles=profiles, source=source)
        return ValidationResult(sort_issues([*read.issues, *map(read.locate, found.issues)]),
                                source)


def internal_error(exc: Exception, root: str) -> Issue:
    """A check that raised, as a fatal ``exception`` issue (FHIR IssueType: "an unexpected
    internal error has occurred"), located at the innermost value the validator was checking:
    the ``at`` or ``path`` of the deepest frame of ecanfhir's that has one. The issues found
    until then are kept; the validation stopped there, so the result is not a pass."""
    where = root
    tb = exc.__traceback__
    while tb is not None:
        local = tb.tb_frame.f_locals
        for name in ("at", "path"):
            value = local.get(name)
            if isinstance(value, str) and value.startswith(root) \
                    and tb.tb_frame.f_globals.get("__name__", "").startswith("ecanfhir."):
                where = value
                break
        tb = tb.tb_next
    return Issue("fatal", "exception", where, f"ecanfhir could not finish validating: "
                 f"{type(exc).__name__}: {exc} (a defect of ecanfhir's: please report it with "
                 "the resource)", "internal-error")


def _external_note(systems: set[str]) -> list[Issue]:
    if not systems:
        return []
    names = ", ".join(f"{EXTERNAL_SYSTEMS.get(s, s)} ({s})" for s in sorted(systems))
    return [Issue.information("informational", "", f"codes from {names} were checked for syntax "
                              "only: these code systems are not available offline", "tx-offline")]


@lru_cache(maxsize=1)
def _default_validator() -> Validator:
    return Validator()


def validate(resource: Any, *, registry: Registry | None = None,
             profiles: Sequence[str] = (), options: ValidationOptions | None = None
             ) -> ValidationResult:
    """Validate a FHIR R4 resource; see :class:`Validator` to reuse one over many resources.

    >>> validate({"resourceType": "Patient", "birthDate": "1970-13-45"}).ok
    False
    """
    if registry is None and options is None:
        return _default_validator().validate(resource, profiles=profiles)
    return Validator(registry, options=options).validate(resource, profiles=profiles)
