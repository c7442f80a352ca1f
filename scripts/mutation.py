"""Mutation testing of one module at a time: which changes to the code would no test notice?

Usage::

    python3 scripts/mutation.py MODULE.py... [--tests TEST.py...] [--max-children 1]
                                             [--timeout SECONDS] [--workdir DIR] [--all]

For each module, mutmut (``[tool.mutmut]`` in ``pyproject.toml``) makes small changes
(mutants: ``<`` for ``<=``, ``and`` for ``or``, another constant, a dropped argument...) and runs
the module's tests against each; a mutant that no test fails on *survived*, which shows
behaviour that nothing checks. The tests of a module are the test files that import it,
directly, through a test helper, or through the package's public API (a name that an
``__init__.py`` re-exports from it), plus the files named after it beside its mirror folder
(``tests/unit/validation/test_slicing*.py`` for ``validation/checks/slicing.py``), and those
``[tests]`` in ``scripts/mutation.toml`` adds; ``--tests`` names them instead.

mutmut works on a copy (a temporary folder, or ``--workdir``), never on this checkout. Code run
while the module is imported (a regex compiled by a helper, say) is not reached by mutmut's
fork-per-mutant run (the module is imported once, before the fork); the surviving mutants of
functions that run at import (found by profiling an import of the module) are run again here,
each in a fresh interpreter that has the mutant active from the start; so are those of the
functions ``[fresh]`` in ``scripts/mutation.toml`` names, whose results are cached on objects
that outlive a test (the element plans on the shared core definitions), as the fork inherits
the caches mutmut's unmutated runs filled. A mutant of a function
no selected test calls ("no tests" for mutmut) counts as a survivor.

Printed per module: the mutants, killed, survived and allow-listed counts, the score (killed
out of all mutants that are not allow-listed; a timeout counts as killed) and, for each
survivor that is not allow-listed, ``file:line`` and its diff. ``[[allow]]`` entries in
``scripts/mutation.toml`` list survivors judged equivalent (no input can tell them apart) or
text-only (only a log line or message wording changes), each with a reason; an entry matches
the mutants of a source line or statement (``line``: its lines, as in the source), optionally
only one change of it (``mutant``, the mutated text), in one function (``function``).

Exit code: 0 when every module reaches ``--fail-under`` (default 0, i.e. only reporting).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "scripts" / "mutation.toml"
COPIED = ("ecanfhir", "testservers", "tests", "profiles")
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          34: "skipped", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
          255: "timeout", 37: "killed", -11: "segfault", -9: "segfault", None: "not checked"}
CAUGHT = {"killed", "timeout", "segfault"}


@dataclass
class Allowed:
    module: str
    line: str
    reason: str
    mutant: str | None = None
    function: str | None = None
    used: int = 0


@dataclass
class Survivor:
    name: str
    line: int
    before: list[str]
    after: list[str]
    diff: str
    allowed: Allowed | None = None


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    survivors: list[Survivor] = field(default_factory=list)

    def count(self, *names: str) -> int:
        return sum(1 for s in self.statuses.values() if s in names)

    @property
    def allowed(self) -> int:
        return sum(1 for s in self.survivors if s.allowed is not None)

    @property
    def score(self) -> float:
        judged = self.count(*CAUGHT) + len(self.survivors) - self.allowed
        return 100.0 if judged == 0 else 100.0 * self.count(*CAUGHT) / judged


# -- which tests ---------------------------------------------------------------------------
def _dotted(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module, dotted: str) -> set[str]:
    """Every module, and module.name, that a module's import statements name."""
    package = dotted.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _public_names(module: str, sources: dict[str, ast.Module]) -> set[str]:
    """module.NAME for the module's names and every package that re-exports one of them."""
    names = {f"{module}.{n.name}" for n in sources[module].body
             if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)}
    names |= {f"{module}.{t.id}" for n in sources[module].body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name)}
    changed = True
    while changed:
        changed = False
        for package, tree in sources.items():
            if not _is_package(package):
                continue
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom):
                    continue
                single = ast.Module(body=[node], type_ignores=[])
                for base_name in _imports(single, f"{package}.__init__"):
                    short = base_name.rpartition(".")[2]
                    if base_name in names and f"{package}.{short}" not in names:
                        names.add(f"{package}.{short}")
                        changed = True
    return names


def _is_package(dotted: str) -> bool:
    return (ROOT / Path(*dotted.split(".")) / "__init__.py").exists()


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return None


def _sources() -> dict[str, ast.Module]:
    sources = {}
    for top in ("ecanfhir", "testservers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            tree = _parse(path)
            if tree is not None:
                sources[_dotted(path.relative_to(ROOT))] = tree
    return sources


def _mirror_folder(module: Path) -> Path:
    """tests/unit/<package path> (tests/<path> for testservers), or the nearest that exists."""
    parts = list(module.parent.parts)
    base = ["tests", "unit", *parts[1:]] if parts[0] == "ecanfhir" else ["tests", *parts]
    while len(base) > 1 and not (ROOT / Path(*base)).is_dir():
        base.pop()
    return ROOT / Path(*base)


def select_tests(module: Path) -> list[str]:
    """The test files that import `module` (directly, via helpers or the public API)."""
    dotted = _dotted(module)
    targets = {dotted} | _public_names(dotted, _sources())
    files = {path: _parse(path) for path in sorted((ROOT / "tests").rglob("*.py"))}
    importers: set[Path] = set()
    changed = True
    while changed:  # helpers (tests/**/_x.py) that import it make their importers count too
        changed = False
        for path, tree in files.items():
            if path in importers or tree is None:
                continue
            named = _imports(tree, _dotted(path.relative_to(ROOT)))
            if named & targets:
                importers.add(path)
                targets.add(_dotted(path.relative_to(ROOT)))
                changed = True
    stem = module.stem.lstrip("_")
    importers |= set(_mirror_folder(module).glob(f"test_*{stem}*.py"))
    return sorted(str(p.relative_to(ROOT)) for p in importers if p.name.startswith("test_"))


# -- running mutmut ------------------------------------------------------------------------
def _mutmut_table(extra: dict[str, object]) -> str:
    base = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    table = {**base.get("tool", {}).get("mutmut", {}), **extra}
    return "[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())


def _without_mutmut_table(text: str) -> str:
    return re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)


def prepare(workdir: Path, module: Path, tests: list[str], arguments: list[str]) -> None:
    """A copy of the project whose pyproject.toml mutates `module` against `tests` only."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in COPIED:
        shutil.copytree(ROOT / name, workdir / name, ignore=ignore, dirs_exist_ok=True)
    pyproject = _without_mutmut_table((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    base = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    args = base.get("tool", {}).get("mutmut", {}).get("pytest_add_cli_args", [])
    table = _mutmut_table({"only_mutate": [str(module)], "pytest_add_cli_args": args + arguments,
                           "pytest_add_cli_args_test_selection": tests})
    (workdir / "pyproject.toml").write_text(pyproject + "\n" + table, encoding="utf-8")


def undecided(workdir: Path, module: Path) -> list[str]:
    """The mutants an earlier run in `workdir` left alive or did not get to (none: no run).

    When the module changed since that run, its mutants are other ones under the same names:
    the earlier results are dropped and every mutant runs again."""
    mutated = workdir / "mutants" / module
    meta = mutated.with_name(mutated.name + ".meta")
    if not meta.exists():
        return []
    copied = workdir / module
    if not copied.exists() or copied.read_bytes() != (ROOT / module).read_bytes():
        shutil.rmtree(workdir / "mutants", ignore_errors=True)
        return []
    codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    return [name for name, code in codes.items() if STATUS.get(code) not in CAUGHT]


def _judged(workdir: Path, module: Path, name: str, allowed: list[Allowed]) -> bool:
    """Whether an earlier survivor is on the allow-list (it need not run again)."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    try:
        found = survivor(workdir, module, name, tree)
    except (KeyError, StopIteration, ValueError):
        return False  # the module changed since: run it again
    judged = match(found, str(module), allowed) is not None
    for entry in allowed:  # counted when the results are read
        entry.used = 0
    return judged


def run_mutmut(workdir: Path, *, max_children: int, timeout: float | None,
               names: list[str]) -> bool:
    """Run mutmut in `workdir` (only on `names` when given); False when it was stopped by the
    timeout (partial results)."""
    if names:  # new tests may cover what the recorded test-to-function map does not
        (workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    log = (workdir / "mutmut.log").open("w", encoding="utf-8")
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children),
               *names]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                          env=env, start_new_session=True) as process:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 15)
            process.wait()
            return False
    if process.returncode != 0:
        tail = (workdir / "mutmut.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed in {workdir} (exit {process.returncode}):\n{tail}")
    return True


def rerun_fresh(workdir: Path, name: str, tests: list[str], arguments: list[str]) -> str:
    """Run a mutant in a new interpreter, active from import on (reaches import-time code)."""
    env = {**os.environ, "MUTANT_UNDER_TEST": name, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": str(workdir / "mutants")}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               *arguments, *tests]
    done = subprocess.run(command, cwd=workdir / "mutants", env=env, capture_output=True,
                          check=False, timeout=1800)
    return "survived" if done.returncode == 0 else "killed"


_PROFILE = """
import json, sys
names = set()
def profile(frame, event, arg):
    if event == "call" and frame.f_code.co_filename == sys.argv[1]:
        names.add(frame.f_code.co_name)
sys.setprofile(profile)
import importlib
importlib.import_module(sys.argv[2]); importlib.import_module(sys.argv[3])
sys.setprofile(None)
print(json.dumps(sorted(names)))
"""


def called_at_import(module: Path) -> set[str]:
    """The module's functions that run while it (and its top package) is imported."""
    dotted = _dotted(module)
    done = subprocess.run(
        [sys.executable, "-c", _PROFILE, str(ROOT / module), dotted.split(".")[0], dotted],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return set(json.loads(done.stdout.splitlines()[-1]))


# -- reading the results -------------------------------------------------------------------
def _function_line(tree: ast.Module, name: str, cls: str | None) -> int:
    body = tree.body
    if cls is not None:
        body = next(n.body for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    return next(n.lineno for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name)


def _split_name(mutant: str) -> tuple[str | None, str]:
    generated = mutant.rpartition(".")[2].partition("__mutmut_")[0]
    if "ǁ" in generated:
        _, cls, function = generated.split("ǁ")
        return cls, function
    return None, generated[2:]


def survivor(workdir: Path, module: Path, name: str, tree: ast.Module) -> Survivor:
    """The diff and source line of a surviving mutant (from mutmut's span index)."""
    mutated = workdir / "mutants" / module
    spans = json.loads(mutated.with_name(mutated.name + ".spans").read_text("utf-8"))["spans"]
    lines = mutated.read_text(encoding="utf-8").split("\n")
    short = name.rpartition(".")[2]
    generated = short.partition("__mutmut_")[0]
    cls, function = _split_name(name)

    def text(key: str) -> list[str]:
        start, end = spans[key]
        return [line.replace(key, function) for line in lines[start - 1:end]]

    orig, mutant = text(generated + "__mutmut_orig"), text(short)
    matcher = difflib.SequenceMatcher(a=orig, b=mutant, autojunk=False)
    changed = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    first = changed[0][1] if changed else 0
    definition = next(i for i, line in enumerate(orig)
                      if re.match(rf"\s*(async\s+)?def {re.escape(function)}\b", line))
    line = _function_line(tree, function, cls) + first - definition
    before = [orig[i].strip() for op in changed for i in range(op[1], op[2])]
    after = [mutant[j].strip() for op in changed for j in range(op[3], op[4])]
    diff = "\n".join(difflib.unified_diff(orig, mutant, lineterm="", n=1))
    diff = "\n".join(diff.split("\n")[2:])  # the ---/+++ header says nothing here
    return Survivor(name, line, before, after, diff)


def load_allowed(path: Path, arguments: dict[str, list[str]]
                 ) -> tuple[list[Allowed], dict[str, list[str]]]:
    """The [[allow]] entries and [tests] of the allow-list; fills ``arguments`` from its
    [pytest_args] (extra pytest arguments per module, such as ``-k "not postgresql"``)."""
    if not path.exists():
        return [], {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    arguments.update({k: list(v) for k, v in data.get("pytest_args", {}).items()})
    allowed = [Allowed(module=e["module"], line=e["line"].strip(), reason=e["reason"],
                       mutant=e["mutant"].strip() if "mutant" in e else None,
                       function=e.get("function"))
               for e in data.get("allow", [])]
    return allowed, {k: list(v) for k, v in data.get("tests", {}).items()}


def load_fresh(path: Path) -> dict[str, set[str]]:
    """[fresh] of the allow-list: per module, the functions to rerun in a fresh interpreter."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: set(v) for k, v in data.get("fresh", {}).items()}


def match(found: Survivor, module: str, allowed: list[Allowed]) -> Allowed | None:
    """The entry for a survivor: one whose lines hold every line the mutant changes (a
    statement over several lines is one entry), and whose ``mutant`` text, if any, is its."""
    after = "\n".join(found.after)
    for entry in allowed:
        lines = {line.strip() for line in entry.line.split("\n")}
        if entry.module == module and found.before and set(found.before) <= lines \
                and entry.mutant in (None, after) \
                and entry.function in (None, _split_name(found.name)[1]):
            entry.used += 1
            return entry
    return None


def collect(workdir: Path, module: Path, tests: list[str], allowed: list[Allowed],
            arguments: list[str], *, fresh: frozenset[str] | set[str] = frozenset()
            ) -> Outcome:
    mutated = workdir / "mutants" / module
    meta = json.loads(mutated.with_name(mutated.name + ".meta").read_text("utf-8"))
    outcome = Outcome(str(module))
    for name, code in meta["exit_code_by_key"].items():
        outcome.statuses[name] = STATUS.get(code, "suspicious")
    rerun = called_at_import(module) | fresh
    for name, status in outcome.statuses.items():
        if status in ("no tests", "survived") and _split_name(name)[1] in rerun:
            outcome.statuses[name] = rerun_fresh(workdir, name, tests, arguments)
        elif status == "no tests":  # no selected test runs this function at all
            outcome.statuses[name] = "survived"
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    for name, status in outcome.statuses.items():
        if status in ("survived", "suspicious"):
            found = survivor(workdir, module, name, tree)
            found.allowed = match(found, str(module), allowed)
            outcome.survivors.append(found)
    outcome.survivors.sort(key=lambda s: (s.line, s.name))
    return outcome


# -- the report ----------------------------------------------------------------------------
def report(outcome: Outcome, *, finished: bool, show_allowed: bool) -> None:
    total = len(outcome.statuses)
    checked = total - outcome.count("not checked", "skipped")
    print(f"\n== {outcome.module}")
    for found in outcome.survivors:
        if found.allowed is not None and not show_allowed:
            continue
        note = f"  (allowed: {found.allowed.reason})" if found.allowed else ""
        print(f"\n{outcome.module}:{found.line}: {found.name.rpartition('.')[2]}{note}")
        print(found.diff)
    partial = "" if finished and checked == total else f" (partial: {checked} of {total} run)"
    print(f"\n{outcome.module}: {total} mutants, {outcome.count(*CAUGHT)} killed, "
          f"{len(outcome.survivors)} survived, {outcome.allowed} allow-listed; "
          f"score {outcome.score:.1f}%{partial}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="+", type=Path,
                        help="e.g. ecanfhir/validation/primitives.py")
    parser.add_argument("--tests", nargs="+", help="test files to run (default: by import)")
    parser.add_argument("--max-children", type=int, default=1, help="mutmut workers")
    parser.add_argument("--timeout", type=float, help="stop mutmut after so many seconds")
    parser.add_argument("--workdir", type=Path,
                        help="keep mutmut's copy here (default: temp); run again with the same "
                             "folder, only the mutants not killed before are run")
    parser.add_argument("--all", action="store_true", help="also show allow-listed survivors")
    parser.add_argument("--allow", type=Path, default=CONFIG, help="allow-list (TOML)")
    parser.add_argument("--fail-under", type=float, default=0.0, help="minimum score, in %%")
    args = parser.parse_args(argv)
    arguments: dict[str, list[str]] = {}
    allowed, configured = load_allowed(args.allow, arguments)
    failing = 0
    for module in args.modules:
        module = (Path.cwd() / module).resolve().relative_to(ROOT)
        tests = args.tests or sorted({*configured.get(str(module), []), *select_tests(module)})
        if not tests:
            raise SystemExit(f"no test imports {module}: name them with --tests")
        print(f"{module}: {len(tests)} test files: {' '.join(tests)}", flush=True)
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ecanfhir-mutation-"))
        started = time.monotonic()
        try:
            extra = arguments.get(str(module), [])
            again = [name for name in undecided(workdir, module)
                     if not _judged(workdir, module, name, allowed)]
            if again:
                print(f"{module}: rerunning the {len(again)} mutants an earlier run in "
                      f"{workdir} did not kill", flush=True)
            prepare(workdir, module, tests, extra)
            finished = run_mutmut(workdir, max_children=args.max_children, timeout=args.timeout,
                                  names=again)
            outcome = collect(workdir, module, tests, allowed, extra,
                              fresh=load_fresh(args.allow).get(str(module), set()))
        finally:
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
        report(outcome, finished=finished, show_allowed=args.all)
        print(f"({time.monotonic() - started:.0f} s)")
        failing += outcome.score < args.fail_under
    stale = [e for e in allowed if e.used == 0 and Path(e.module) in
             {(Path.cwd() / m).resolve().relative_to(ROOT) for m in args.modules}]
    for entry in stale:
        print(f"note: allow-list entry matched nothing: {entry.module}: {entry.line}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
