"""The errors of FHIRPath compilation and evaluation (re-exported by ``engine``)."""

from __future__ import annotations

from .._exceptions import EcanfhirError

__all__ = ["FhirPathError", "FhirPathEvaluationError"]


class FhirPathError(EcanfhirError):
    """A FHIRPath expression cannot be compiled (syntax error, unknown function or variable)."""


class FhirPathEvaluationError(FhirPathError):
    """A compiled expression failed on a given focus (e.g. ``+`` on a collection of two)."""
