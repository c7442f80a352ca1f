"""Load suites (shipped TestScripts or files), run them, attach requirements coverage."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ..client._core import Format
from ..definitions.pilot import pilot_canonical, pilot_registry, pilot_source
from ..validation._validator import Validator
from ._engine import EngineConfig, ExchangeSink, SenderUnderTest, capture_hook, run_script
from ._model import RunResult, ScriptResult, SuiteError
from ._requirements import Requirement, coverage, load_requirements
from ._schema import check_testscript
from ._sender import ClientSender

__all__ = ["Suite", "failed_tests", "load_suite", "run", "shipped_suites"]


@dataclasses.dataclass(frozen=True, slots=True)
class Suite:
    id: str
    script: dict[str, Any]
    source: str


def shipped_suites() -> dict[str, Suite]:
    """The TestScripts of the pilot package (``profiles/TestScript``), by id."""
    folder = pilot_source() / "TestScript"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    # The folder also holds the StructureDefinitions of the two ecanfhir TestScript extensions.
    suites = [load_suite(p) for p in files if '"TestScript"' in p.read_text(encoding="utf-8")[:200]]
    return {s.id: s for s in suites}


def load_suite(path: str | Path) -> Suite:
    """Read and check one TestScript file (``{{canonical}}`` becomes the pilot canonical)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        document = json.loads(text.replace("{{canonical}}", pilot_canonical()))
    except ValueError as exc:
        raise SuiteError(f"{path}: not JSON: {exc}") from exc
    check_testscript(document, str(path))
    return Suite(str(document.get("id") or Path(path).stem), document, str(path))


def default_requirements() -> Path:
    return pilot_source() / "requirements.csv"


def select(names: Sequence[str]) -> list[Suite]:
    """Suites by shipped id or file path (all shipped suites when ``names`` is empty)."""
    shipped = shipped_suites()
    if not names:
        return list(shipped.values())
    chosen = []
    for name in names:
        if name in shipped:
            chosen.append(shipped[name])
        elif Path(name).is_file():
            chosen.append(load_suite(name))
        else:
            raise SuiteError(f"--suite {name}: no such suite (shipped: "
                             f"{', '.join(sorted(shipped)) or 'none'}) and no such file")
    return chosen


def run(endpoint: str, suites: Sequence[Suite], *,
        requirements: Mapping[str, Requirement] | None = None,
        only: Mapping[str, set[str]] | None = None, sender: SenderUnderTest | None = None,
        headers: Mapping[str, str] | None = None, validator: Validator | None = None,
        timeout: float = 30.0, allow_skips: bool = False, format: Format = "json"
        ) -> RunResult:
    """Run ``suites`` against ``endpoint``.

    Args:
        only: suite id → test ids to run (suites not named are not run); None runs everything.
        sender: the site's system for origin-2 operations (default: :class:`ClientSender`,
            ecanfhir's own client).
        headers: sent with every runner request (e.g. ``Authorization``; redacted in reports).
        format: ``json`` or ``xml``: the FHIR format of every request body and answer asked
            for, the default sender's messages included (see :mod:`._engine`).
    """
    reqs = requirements if requirements is not None else load_requirements(
        default_requirements())
    cover = coverage(reqs, [(s.id, s.script) for s in suites], [s.id for s in suites])
    levels = {r.id: r.level for r in reqs.values()}
    sink = ExchangeSink()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    results: list[ScriptResult] = []
    with httpx.Client(timeout=timeout, headers=dict(headers or {}),
                      event_hooks={"response": [capture_hook(sink)]}) as http:
        config = EngineConfig(endpoint, http, validator or Validator(pilot_registry()), sink,
                              sender if sender is not None else ClientSender(
                                  timeout=timeout, format=format), format=format)
        for suite in suites:
            if only is not None and suite.id not in only:
                continue
            chosen = frozenset(only[suite.id]) if only is not None else None
            result = run_script(suite.script, suite.id, dataclasses.replace(config, only=chosen))
            tests = tuple(dataclasses.replace(
                t, required=any(levels.get(r) == "SHALL" for r in t.requirements))
                for t in result.tests)
            results.append(dataclasses.replace(result, tests=tests))
    passed = [(r.suite, t.id) for r in results for t in r.tests if t.status == "pass"]
    return RunResult(endpoint, tuple(results), cover.with_results(passed), started, allow_skips)


def failed_tests(report: str | Path) -> dict[str, set[str]]:
    """Suite id → ids of the tests that failed or errored in a previous JSON report."""
    try:
        data = json.loads(Path(report).read_text(encoding="utf-8"))
        return {s["suite"]: {t["id"] for t in s["tests"] if t["status"] in ("fail", "error")}
                for s in data["suites"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SuiteError(f"--rerun-failed {report}: not a JSON report of ecanfhir conformance "
                         f"({exc})") from exc
