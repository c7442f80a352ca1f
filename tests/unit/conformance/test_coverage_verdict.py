"""Requirements count as covered only when a test of them ran and passed, and a run that
failed only through skips says so, and why."""

from __future__ import annotations

from ecanfhir.conformance import Coverage, Requirement, RunResult, ScriptResult, TestResult

REQS = (Requirement("MSG-01", "MedCom", "SHALL", "acknowledge", "s"),
        Requirement("TRN-01", "MedCom", "SHALL", "transient", "s"),
        Requirement("OPT-01", "pilot", "SHOULD", "nice", "s"))
TESTS = {"MSG-01": (("s", "ack"),), "TRN-01": (("s", "transient"),),
         "OPT-01": (("s", "nice"),)}


def _test(test_id: str, status: str, message: str = "",
          requirement: str = "MSG-01") -> TestResult:
    return TestResult(test_id, test_id, "", (requirement,), status,  # type: ignore[arg-type]
                      message, (), 1.0, required=requirement != "OPT-01")


def _run(*tests: TestResult, allow_skips: bool = False) -> RunResult:
    passed = [("s", t.id) for t in tests if t.status == "pass"]
    script = ScriptResult("s", "urn:s", "s", "s", (), tests, (), "2026-01-01", 1.0)
    return RunResult("http://centre", (script,), Coverage(REQS, TESTS).with_results(passed),
                     "2026-01-01", allow_skips)


SKIPPED = ("the endpoint faults sender SOR 555555555501 with transient-error: precondition "
           "not met (Bundle.entry[0].resource.response.code is 'ok')")


def test_a_skipped_test_covers_nothing() -> None:
    run = _run(_test("ack", "pass"), _test("transient", "skip", SKIPPED, "TRN-01"),
               _test("nice", "pass", requirement="OPT-01"))
    assert run.coverage.counts() == {"SHALL": (1, 2), "SHOULD": (1, 1), "MAY": (0, 0)}
    assert run.coverage.unverified_shall == ("TRN-01",)
    assert run.coverage.uncovered_shall == ()
    assert not run.coverage.covered("TRN-01") and run.coverage.covered("MSG-01")


def test_a_run_failed_only_by_skips_says_why() -> None:
    run = _run(_test("ack", "pass"), _test("transient", "skip", "setup: " + SKIPPED, "TRN-01"))
    assert not run.ok and run.failed_only_through_skips
    assert run.skip_reasons() == [
        "the endpoint faults sender SOR 555555555501 with transient-error"]
    verdict = run.verdict()
    assert verdict.startswith("FAILED only through skips: 1 required test did not run")
    assert "555555555501" in verdict and "ecanfhir serve --harness" in verdict


def test_a_failure_is_a_plain_failed_and_a_pass_passed() -> None:
    failed = _run(_test("ack", "fail"), _test("transient", "skip", SKIPPED, "TRN-01"))
    assert failed.verdict() == "FAILED" and not failed.failed_only_through_skips
    assert _run(_test("ack", "pass"), _test("transient", "pass", "", "TRN-01")).verdict() == (
        "PASSED")
    allowed = _run(_test("ack", "pass"), _test("transient", "skip", SKIPPED, "TRN-01"),
                   allow_skips=True)
    assert allowed.verdict() == "PASSED"


def test_before_a_run_a_named_requirement_counts_as_covered() -> None:
    """Without results (a suite's own coverage matrix), naming a requirement is enough."""
    assert Coverage(REQS, TESTS).counts()["SHALL"] == (2, 2)
