"""Conformance runner: FHIR R4 TestScripts run over HTTP, with requirements coverage.

Tests are data — a subset of the R4 TestScript resource (:mod:`._schema` refuses anything
else) — shipped in the pilot package (``profiles/TestScript``):

- ``ecan-centre-endpoint``: what a national cancer centre endpoint must do (acknowledgements,
  the four duplicate cases, transient/fatal handling, REST basics, errors, KPIs);
- ``ecan-sender-behaviour``: what the site's system sends (through the mock centre's request
  recorder, ``GET /$recorded-requests``, on with ``ecanfhir serve --harness``).

Supported subset: contained fixtures (UUIDs renewed per test, see :mod:`._fixtures`),
variables (``expression``/``path``/``headerField``/``sourceId``/``defaultValue``, used as
``${name}``), setup/test/teardown, operations (see :mod:`._engine`: read, search, create,
transaction, batch, process-message, validate, capabilities, delete, raw HTTP with a Binary
body, and origin 2 = the sender under test), asserts on ``response``, ``responseCode``,
``contentType``, ``headerField``, ``resource``, FHIRPath ``expression`` with every operator,
``compareToSourceId``/``compareToSourceExpression``, ``validateProfileId`` (ecanfhir's
Validator), ``warningOnly``; two ecanfhir extensions (``ecan-testscript-body-patch``,
``ecan-testscript-precondition``). Requirements: :mod:`._requirements`.

Endpoint suite faults: the transient/fatal tests send from the SORs in :data:`FAULT_SENDERS`;
a centre configured to fault them (``ecanfhir serve --harness``, or
``FaultRule("transient-error", sender=...)``) lets them run, otherwise they are skipped with that
reason.
"""

from __future__ import annotations

from ._model import (
    ActionResult,
    ConformanceError,
    Exchange,
    RunResult,
    ScriptResult,
    SuiteError,
    TestResult,
)
from ._report import render_html, render_json, render_junit, test_reports, write_reports
from ._requirements import Coverage, Requirement, load_requirements
from ._runner import Suite, failed_tests, load_suite, run, select, shipped_suites
from ._schema import TESTSCRIPT_SCHEMA, check_testscript
from ._sender import ClientSender, command_sender

__all__ = [
    "FAULT_SENDERS",
    "TESTSCRIPT_SCHEMA",
    "ActionResult",
    "ClientSender",
    "ConformanceError",
    "Coverage",
    "Exchange",
    "Requirement",
    "RunResult",
    "ScriptResult",
    "Suite",
    "SuiteError",
    "TestResult",
    "check_testscript",
    "command_sender",
    "failed_tests",
    "load_requirements",
    "load_suite",
    "render_html",
    "render_json",
    "render_junit",
    "run",
    "select",
    "shipped_suites",
    "test_reports",
    "write_reports",
]

#: Sender SOR codes the endpoint suite expects the centre to fault (ack code → SOR).
FAULT_SENDERS = {"transient-error": "555555555501", "fatal-error": "555555555502"}
