"""Reports of a conformance run: JSON, JUnit XML, FHIR R4 TestReport, self-contained HTML.

Credentials never reach a report: exchanges are recorded with ``Authorization`` and cookies
redacted (:func:`~ecanfhir.conformance._model.redact`), and the HTML escapes every value.
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from ._model import ActionResult, Exchange, RunResult, ScriptResult, SuiteError, TestResult

__all__ = ["render_html", "render_json", "render_junit", "test_reports", "write_reports"]

_TEST_REPORT_RESULT = {"pass": "pass", "fail": "fail", "warning": "warning", "skip": "skip",
                       "error": "error"}


def render_json(run: RunResult) -> str:
    cover = run.coverage
    data = {"endpoint": run.endpoint, "started": run.started, "ok": run.ok,
            "verdict": run.verdict(), "counts": run.counts(),
            "coverage": {"counts": {k: {"covered": c, "total": t}
                                    for k, (c, t) in cover.counts().items()},
                         "uncoveredShall": list(cover.uncovered_shall),
                         "unverifiedShall": list(cover.unverified_shall),
                         "requirements": [{"id": r.id, "level": r.level, "source": r.source,
                                           "text": r.text, "suite": r.suite,
                                           "tests": [f"{s}/{t}" for s, t in
                                                     cover.tests.get(r.id, ())],
                                           "covered": cover.covered(r.id)}
                                          for r in cover.requirements]},
            "suites": [s.to_json() for s in run.scripts]}
    return json.dumps(data, indent=1, ensure_ascii=False)


def render_junit(run: RunResult) -> str:
    root = ET.Element("testsuites", name="ecanfhir conformance")
    for script in run.scripts:
        counts = {k: sum(1 for t in script.tests if t.status == k)
                  for k in ("fail", "error", "skip")}
        suite = ET.SubElement(root, "testsuite", name=script.suite,
                              tests=str(len(script.tests)), failures=str(counts["fail"]),
                              errors=str(counts["error"]), skipped=str(counts["skip"]),
                              time=f"{script.duration_ms / 1000:.3f}")
        for test in script.tests:
            case = ET.SubElement(suite, "testcase", classname=script.suite, name=test.id,
                                 time=f"{test.duration_ms / 1000:.3f}")
            if test.status in ("fail", "error"):
                tag = "failure" if test.status == "fail" else "error"
                ET.SubElement(case, tag, message=test.message[:500]).text = test.message
            elif test.status == "skip":
                ET.SubElement(case, "skipped", message=test.message[:500])
            if test.requirements:
                ET.SubElement(case, "system-out").text = "requirements: " + ", ".join(
                    test.requirements)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def test_reports(run: RunResult) -> list[dict[str, Any]]:
    """One FHIR R4 TestReport per TestScript run."""
    return [_test_report(run, script) for script in run.scripts]


test_reports.__test__ = False  # type: ignore[attr-defined]


def _test_report(run: RunResult, script: ScriptResult) -> dict[str, Any]:
    tests = script.tests
    passed = sum(1 for t in tests if t.status == "pass")
    failed = any(t.status in ("fail", "error") for t in tests)
    report: dict[str, Any] = {
        "resourceType": "TestReport", "id": str(uuid.uuid4()),
        "name": f"{script.name} against {run.endpoint}"[:200], "status": "completed",
        "testScript": {"reference": f"TestScript/{script.suite}", "display": script.title},
        "result": "fail" if failed else "pass",
        "score": round(100 * passed / len(tests), 1) if tests else 100,
        "tester": "ecanfhir conformance", "issued": script.started,
        "participant": [{"type": "test-engine", "uri": "urn:ecanfhir:conformance"},
                        {"type": "server", "uri": run.endpoint}]}
    if script.setup:
        report["setup"] = {"action": [_report_action(a) for a in script.setup]}
    if tests:
        report["test"] = [_report_test(t) for t in tests]
    if script.teardown:
        report["teardown"] = {"action": [{"operation": _report_result(a)}
                                         for a in script.teardown]}
    return report


def _report_test(test: TestResult) -> dict[str, Any]:
    actions = [_report_action(a) for a in test.actions] or [
        {"assert": {"result": _TEST_REPORT_RESULT[test.status], "message": test.message
                    or test.status}}]
    return {"name": test.id, "description": test.description or test.name,
            "action": actions}


def _report_action(action: ActionResult) -> dict[str, Any]:
    return {action.kind: _report_result(action)}


def _report_result(action: ActionResult) -> dict[str, Any]:
    out: dict[str, Any] = {"result": _TEST_REPORT_RESULT[action.outcome]}
    message = f"{action.label}: {action.message}" if action.message else action.label
    if message:
        out["message"] = message[:2000]
    return out


# -- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;
text-align:left;vertical-align:top}.pass{color:#17692b}.fail,.error{color:#b00020}
.skip,.warning{color:#8a6100}pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em;
white-space:pre-wrap;word-break:break-all}details{margin:.3em 0 .3em 1em}
"""


def render_html(run: RunResult) -> str:
    counts = run.counts()
    verdict = "PASSED" if run.ok else "FAILED"
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>ecanfhir conformance: {escape(verdict)}</title>",
             f"<style>{_CSS}</style>", "</head>", "<body>",
             f'<h1>Conformance report: <span class="{"pass" if run.ok else "fail"}">'
             f"{verdict}</span></h1>",
             f"<p>Endpoint <code>{escape(run.endpoint)}</code>, started "
             f"{escape(run.started)}.</p>",
             *([f'<p class="skip" id="verdict">{escape(run.verdict())}</p>']
               if run.failed_only_through_skips else []),
             "<h2>Summary</h2>", "<table>",
             "<tr><th>suite</th><th>pass</th><th>fail</th><th>skip</th><th>error</th></tr>"]
    for script in run.scripts:
        row = [sum(1 for t in script.tests if t.status == k)
               for k in ("pass", "fail", "skip", "error")]
        parts.append(f"<tr><td>{escape(script.title)}</td>"
                     + "".join(f"<td>{n}</td>" for n in row) + "</tr>")
    parts.append(f"<tr><th>total</th><th>{counts['pass']}</th><th>{counts['fail']}</th>"
                 f"<th>{counts['skip']}</th><th>{counts['error']}</th></tr></table>")
    parts += _coverage_html(run)
    for script in run.scripts:
        parts.append(f"<h2>{escape(script.title)} <small>({escape(script.suite)})</small></h2>")
        parts += _actions_html("setup", script.setup)
        for test in script.tests:
            parts += _test_html(script.suite, test)
        parts += _actions_html("teardown", script.teardown)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _coverage_html(run: RunResult) -> list[str]:
    cover = run.coverage
    status = {f"{suite}/{t.id}": t.status for suite, t in run.tests()}
    summary = ", ".join(f"{level} {c}/{t}" for level, (c, t) in cover.counts().items())
    parts = ["<h2>Requirements coverage</h2>",
             f"<p>Covered (a test of it ran and passed): {escape(summary)}.</p>"]
    if cover.uncovered_shall:
        parts.append('<p class="fail">SHALL requirements without a test: '
                     f"{escape(', '.join(cover.uncovered_shall))}</p>")
    if cover.unverified_shall:
        parts.append('<p class="fail">SHALL requirements whose tests did not pass: '
                     f"{escape(', '.join(cover.unverified_shall))}</p>")
    parts.append("<table><tr><th>requirement</th><th>level</th><th>source</th><th>text</th>"
                 "<th>tests</th></tr>")
    for req in cover.requirements:
        tests = []
        for suite, test_id in cover.tests.get(req.id, ()):
            key = f"{suite}/{test_id}"
            seen = status.get(key, "not run")
            tests.append(f'<a href="#{escape(_anchor(key))}" class="{escape(seen)}">'
                         f"{escape(test_id)} ({escape(seen)})</a>")
        parts.append(f"<tr><td>{escape(req.id)}</td><td>{escape(req.level)}</td>"
                     f"<td>{escape(req.source)}</td><td>{escape(req.text)}</td>"
                     f"<td>{'<br>'.join(tests) or '<span class=fail>none</span>'}</td></tr>")
    parts.append("</table>")
    return parts


def _anchor(key: str) -> str:
    return "t-" + "".join(c if c.isalnum() or c == "-" else "_" for c in key)


def _test_html(suite: str, test: TestResult) -> list[str]:
    required = "required" if test.required else "optional"
    parts = [f'<h3 id="{escape(_anchor(f"{suite}/{test.id}"))}">'
             f'<span class="{escape(test.status)}">{escape(test.status.upper())}</span> '
             f"{escape(test.id)} <small>({required})</small></h3>",
             f"<p>{escape(test.description)}</p>"]
    if test.message:
        parts.append(f'<p class="{escape(test.status)}">{escape(test.message)}</p>')
    parts += _actions_html("actions", test.actions, open_=test.status in ("fail", "error"))
    return parts


def _actions_html(title: str, actions: Sequence[ActionResult], *,
                  open_: bool = False) -> list[str]:
    if not actions:
        return []
    parts = [f"<details{' open' if open_ else ''}><summary>{escape(title)} "
             f"({len(actions)})</summary><ol>"]
    for action in actions:
        parts.append(f'<li><span class="{escape(action.outcome)}">{escape(action.outcome)}'
                     f"</span> {escape(action.kind)}: {escape(action.label)}"
                     + (f" — {escape(action.message)}" if action.message else ""))
        parts += [_exchange_html(e) for e in action.exchanges]
        parts.append("</li>")
    parts.append("</ol></details>")
    return parts


def _exchange_html(exchange: Exchange) -> str:
    request_headers = "\n".join(f"{k}: {v}" for k, v in exchange.request_headers.items())
    response_headers = "\n".join(f"{k}: {v}" for k, v in exchange.response_headers.items())
    answer = exchange.error or f"{exchange.status}"
    who = " (sender under test)" if exchange.by != "runner" else ""
    return (f"<details><summary>{escape(exchange.method)} {escape(exchange.url)} → "
            f"{escape(answer)}{escape(who)}</summary>"
            f"<p>Request</p><pre>{escape(request_headers)}\n\n{escape(exchange.request_body)}"
            f"</pre><p>Response</p><pre>{escape(response_headers)}\n\n"
            f"{escape(exchange.response_body)}</pre></details>")


def write_reports(run: RunResult, out: str | Path) -> list[Path]:
    """Write report.html, report.json, junit.xml and TestReport-<suite>.json into ``out``."""
    folder = Path(out)
    files = {"report.html": render_html(run), "report.json": render_json(run),
             "junit.xml": render_junit(run)}
    for report, script in zip(test_reports(run), run.scripts, strict=True):
        files[f"TestReport-{script.suite}.json"] = json.dumps(report, indent=1,
                                                              ensure_ascii=False)
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = folder / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise SuiteError(f"--out {out}: cannot write the reports: {exc.strerror}") from exc
    return written
