"""Which build of ecanfhir is running: pure Python, or with its hot modules compiled by mypyc.

``ECANFHIR_COMPILE=1 python3 -m pip install .`` compiles :data:`COMPILED_MODULES` into C
extensions (``mypyc_build.py`` beside ``setup.py``); each is then imported instead of its
Python source, which stays in the package. Without a C compiler, or without that variable, the
same modules run as Python: the answers are the same, and the test suite runs on both builds
(``tests/builds/test_compiled_build.py``).

This module imports nothing of ecanfhir's: the build reads :data:`COMPILED_MODULES` from its
source without importing the package.
"""

from __future__ import annotations

import importlib.util
from importlib.machinery import EXTENSION_SUFFIXES

__all__ = ["COMPILED_MODULES", "build_name", "compiled_modules"]

# The modules a validation spends its time in (cProfile of bundle-50 and of a pilot referral,
# by module, and what the compiled build still ran as Python), and the modules whose records
# they read on every value (the compiled StructureDefinitions, the run's context, the plans):
# compiled, those records are native classes whose fields compiled code reads directly. Left
# out: the public classes (Validator, Registry, Issue, ValidationResult: a native class cannot
# be subclassed in Python nor its methods replaced), the lists of a run's issues
# (validation._issue_list: their append must stay Python's), fhirpath.interpreter (its ANTLR
# error listener crashed compiled), and modules mypyc refuses (terminology.code_systems,
# checks.bundle_link, checks.measure).
COMPILED_MODULES: tuple[str, ...] = (
    "ecanfhir.definitions.compiled",
    "ecanfhir.definitions.core",
    "ecanfhir.definitions.schema",
    "ecanfhir.fhirpath.compiler",
    "ecanfhir.fhirpath.engine",
    "ecanfhir.fhirpath.fast_functions",
    "ecanfhir.fhirpath.fast_nodes",
    "ecanfhir.fhirpath.fast_operators",
    "ecanfhir.fhirpath.html_checks",
    "ecanfhir.fhirpath.model",
    "ecanfhir.fhirpath.natives",
    "ecanfhir.formats.xhtml",
    "ecanfhir.terminology.comparison",
    "ecanfhir.terminology.value_sets",
    "ecanfhir.validation._conformance",
    "ecanfhir.validation._context",
    "ecanfhir.validation._json_form",
    "ecanfhir.validation._plan",
    "ecanfhir.validation._resource_rules",
    "ecanfhir.validation._walk",
    "ecanfhir.validation.checks.binding",
    "ecanfhir.validation.checks.bundle",
    "ecanfhir.validation.checks.bundle_matches",
    "ecanfhir.validation.checks.bundle_references",
    "ecanfhir.validation.checks.extension",
    "ecanfhir.validation.checks.invariant",
    "ecanfhir.validation.checks.json_values",
    "ecanfhir.validation.checks.narrative",
    "ecanfhir.validation.checks.narrative_source",
    "ecanfhir.validation.checks.observation",
    "ecanfhir.validation.checks.plausibility",
    "ecanfhir.validation.checks.primitive",
    "ecanfhir.validation.checks.quantity",
    "ecanfhir.validation.checks.reference",
    "ecanfhir.validation.checks.reference_parts",
    "ecanfhir.validation.checks.slicing",
    "ecanfhir.validation.checks.text",
    "ecanfhir.validation.checks.uri",
    "ecanfhir.validation.primitives",
)


def compiled_modules() -> tuple[str, ...]:
    """The modules of :data:`COMPILED_MODULES` that this installation imports from a C
    extension (without importing them)."""
    compiled = []
    for name in COMPILED_MODULES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is not None and origin.endswith(tuple(EXTENSION_SUFFIXES)):
            compiled.append(name)
    return tuple(compiled)


def build_name() -> str:
    """``compiled (mypyc, 22 of 22 hot modules)`` or ``interpreted``, for ``--version`` and the
    benchmarks."""
    compiled = compiled_modules()
    if not compiled:
        return "interpreted"
    return f"compiled (mypyc, {len(compiled)} of {len(COMPILED_MODULES)} hot modules)"
