"""``ecanfhir conformance``: run the pilot's TestScript suites against an endpoint and write
HTML, JSON, JUnit XML and FHIR TestReport reports. Exit 0 only when every required test passed
and every SHALL requirement of the selected suites has a test. The last line of the summary is
the verdict; a run failed only by skipped tests says so, and why."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import EXIT_INVALID, EXIT_OK, UsageError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    c = sub.add_parser("conformance", help="run the conformance suites against an endpoint",
                       description="Run the eCAN+ conformance suites (FHIR TestScripts) against "
                       "a national centre endpoint; write report.html, report.json, junit.xml "
                       "and TestReport-<suite>.json.")
    c.add_argument("--endpoint", required=True, metavar="URL", help="the FHIR base URL")
    c.add_argument("--suite", action="append", default=[], metavar="ID|FILE",
                   help="a shipped suite id or a TestScript file (repeatable; default: all)")
    c.add_argument("--only", action="append", default=[], metavar="TEST_ID",
                   help="run only this test (repeatable)")
    c.add_argument("--rerun-failed", metavar="REPORT.json",
                   help="run only the tests that failed or errored in this earlier report")
    c.add_argument("--out", default="conformance-report", metavar="DIR",
                   help="folder for the reports (default: ./conformance-report)")
    c.add_argument("--requirements", metavar="CSV", help="requirements file (default: shipped)")
    c.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                   help="send this header with every request, e.g. Authorization (redacted in "
                        "reports)")
    c.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    c.add_argument("--sender-command", metavar="'CMD {file} {endpoint}'",
                   help="the site's own system for the sender suite: a command that sends the "
                        "message in {file} to {endpoint} (default: ecanfhir's own client)")
    c.add_argument("--format", choices=("json", "xml"), default="json",
                   help="the FHIR format of the requests and of the answers asked for "
                        "(default: json); xml runs every suite with FHIR XML bodies and Accept")
    c.add_argument("--allow-skips", action="store_true",
                   help="skipped required tests do not fail the run")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..conformance import (
        SuiteError,
        command_sender,
        failed_tests,
        load_requirements,
        select,
        write_reports,
    )
    from ..conformance import run as run_suites

    if not args.endpoint.startswith(("http://", "https://")):
        raise UsageError(f"--endpoint {args.endpoint}: give an http(s) URL")
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header {header!r}: write 'Name: value'")
        headers[name.strip()] = value.strip()
    sender = None
    if args.sender_command:
        try:
            sender = command_sender(args.sender_command)
        except ValueError as exc:
            raise UsageError(f"--sender-command: {exc}") from exc
    try:
        suites = select(args.suite)
        requirements = load_requirements(args.requirements) if args.requirements else None
        only: dict[str, set[str]] | None = None
        if args.rerun_failed:
            only = failed_tests(args.rerun_failed)
        if args.only:
            ids = set(args.only)
            known = {str(t.get("id")) for s in suites for t in s.script["test"]}
            if not ids <= known:
                raise UsageError(f"--only: no test {', '.join(sorted(ids - known))} in the "
                                 "selected suites")
            only = {s.id: ids & (only or {}).get(s.id, ids) for s in suites}
        result = run_suites(args.endpoint, suites, requirements=requirements, only=only,
                            headers=headers, timeout=args.timeout, allow_skips=args.allow_skips,
                            sender=sender, format=args.format)
        written = write_reports(result, args.out)
    except SuiteError as exc:
        raise UsageError(str(exc)) from exc
    counts = result.counts()
    cover = result.coverage.counts()
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped, "
          f"{counts['error']} errors; SHALL requirements covered (a test ran and passed) "
          f"{cover['SHALL'][0]}/{cover['SHALL'][1]}")
    for suite, test in result.tests():
        if test.status != "pass":
            print(f"  {test.status.upper():5} {suite}/{test.id}: {test.message[:200]}")
    if result.coverage.uncovered_shall:
        print("  SHALL requirements without a test: "
              + ", ".join(result.coverage.uncovered_shall))
    if result.coverage.unverified_shall:
        print("  SHALL requirements whose tests did not pass: "
              + ", ".join(result.coverage.unverified_shall))
    print(result.verdict())
    print(f"reports: {', '.join(str(p) for p in written)}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_INVALID
