"""`ecanfhir package install` end to end, against a registry served on loopback in the test:
dependencies, missing ones, an unreachable registry, parallel and killed installs, and what
`validate --ig` and `package build --install` say about the package cache."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecanfhir.definitions.pilot import pilot_url
from testservers.package_registry import PackageRegistry, package_tgz

ROOT = Path(__file__).resolve().parents[2]


def ecanfhir(*args: str | Path, cache: Path, registry: str | None = None,
             wait: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FHIR_PACKAGE_CACHE": str(cache)}
    env.pop("FHIR_PACKAGE_REGISTRY", None)
    if registry is not None:
        env["FHIR_PACKAGE_REGISTRY"] = registry
    return subprocess.run([sys.executable, "-m", "ecanfhir.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def start(*args: str, cache: Path, registry: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FHIR_PACKAGE_CACHE": str(cache), "FHIR_PACKAGE_REGISTRY": registry}
    return subprocess.Popen([sys.executable, "-m", "ecanfhir.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def registry() -> Iterator[PackageRegistry]:
    with PackageRegistry() as served:
        yield served


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "packages"


def test_install_reports_a_missing_dependency_and_installs_the_rest(
        registry: PackageRegistry, cache: Path) -> None:
    """FHIR_PACKAGE_REGISTRY names the registry; exit 1, one stderr line for the missing one."""
    registry.publish(package_tgz("example.a", "1.0.0", dependencies={
        "example.b": "1.0.x", "example.ipa": "1.1.0"}))
    registry.publish(package_tgz("example.b", "1.0.2"))
    registry.publish(package_tgz("example.ipa", "1.0.0"))
    done = ecanfhir("package", "install", "example.a#1.0.0", cache=cache, registry=registry.url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"installed example.a#1.0.0 -> {cache / 'example.a#1.0.0'}" in done.stdout
    assert "installed example.b#1.0.2 (needed by example.a#1.0.0)" in done.stdout
    assert "skipped hl7.fhir.r4.core#4.0.1" in done.stdout
    problems = [line for line in done.stderr.splitlines() if line.startswith("ecanfhir:")]
    assert problems == [f"ecanfhir: example.ipa#1.1.0 (needed by example.a#1.0.0): "
                        f"no such version on {registry.url}; versions there: 1.0.0"]
    assert sorted(p.name for p in cache.iterdir()) == ["example.a#1.0.0", "example.b#1.0.2"]


def test_an_unreachable_registry_is_one_line_and_exit_1(cache: Path) -> None:
    """No traceback: one line naming the registry and how to install from a .tgz."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    done = ecanfhir("package", "install", "example.a#1.0.0", "--registry", url, cache=cache)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("ecanfhir: example.a#1.0.0: no package registry could be reached")
    assert url in line and "ecanfhir package install FILE.tgz" in line
    assert done.stdout == ""


@pytest.mark.parametrize("spec", ["no such package", "missing-file.tgz"])
def test_a_malformed_spec_or_missing_file_is_a_usage_error(cache: Path, spec: str) -> None:
    """Exit 2 and one line naming the spec; no traceback, nothing asked of any registry."""
    done = ecanfhir("package", "install", spec, cache=cache, registry="http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr.startswith(f"ecanfhir: {spec}: ") and "Traceback" not in done.stderr


def test_install_from_a_tgz_without_dependencies(cache: Path, tmp_path: Path) -> None:
    """FILE.tgz with --no-deps needs no registry at all."""
    archive = tmp_path / "example.a-2.0.0.tgz"
    archive.write_bytes(package_tgz("example.a", "2.0.0", dependencies={"example.b": "1.0.0"}))
    done = ecanfhir("package", "install", archive, "--no-deps", cache=cache,
                    registry="http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"installed example.a#2.0.0 -> {cache / 'example.a#2.0.0'}\n"


def test_parallel_installs_of_one_package_end_with_one_good_copy(cache: Path) -> None:
    """Two processes at once: the lock makes the second wait and find it; one download."""
    tarball = "/example.a/-/example.a-1.0.0.tgz"
    with PackageRegistry(delay=1.0) as slow:
        slow.publish(package_tgz("example.a", "1.0.0"))
        runs = [start("package", "install", "example.a#1.0.0", cache=cache, registry=slow.url)
                for _ in range(2)]
        outputs = [run.communicate(timeout=120) for run in runs]
        hits = slow.hits[tarball]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert hits == 1
    states = sorted(out.split(" example.a")[0] for out, _ in outputs)
    assert states == ["already in the cache:", "installed"]
    assert [p.name for p in cache.iterdir()] == ["example.a#1.0.0"]  # no lock, no staging
    manifest = json.loads((cache / "example.a#1.0.0" / "package" / "package.json").read_text())
    assert manifest["name"] == "example.a"


def test_a_killed_install_leaves_no_package_and_the_next_one_succeeds(cache: Path) -> None:
    """Killed mid-download: no example.a#1.0.0 folder for a reader to trip on; the lock file
    it leaves is free, so the next install runs."""
    tarball = "/example.a/-/example.a-1.0.0.tgz"
    with PackageRegistry(delay=30.0) as slow:
        slow.publish(package_tgz("example.a", "1.0.0"))
        run = start("package", "install", "example.a#1.0.0", cache=cache, registry=slow.url)
        deadline = time.monotonic() + 60
        while slow.hits[tarball] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.hits[tarball] == 1, run.communicate(timeout=5)
        run.kill()
        run.communicate(timeout=30)
    assert not (cache / "example.a#1.0.0").exists()
    assert {p.name for p in cache.iterdir() if not p.name.startswith(".ecanfhir-install-")} \
        <= {"example.a#1.0.0.lock"}
    with PackageRegistry() as fast:
        fast.publish(package_tgz("example.a", "1.0.0"))
        done = ecanfhir("package", "install", "example.a#1.0.0", cache=cache, registry=fast.url)
    assert done.returncode == 0, done.stderr
    assert (cache / "example.a#1.0.0" / "package" / "package.json").is_file()


def test_validate_never_downloads_and_gives_the_install_command(registry: PackageRegistry,
                                                                cache: Path,
                                                                tmp_path: Path) -> None:
    """--ig id#version not in the cache: exit 2, the install command; no request is made."""
    registry.publish(package_tgz("example.a", "1.0.0"))
    patient = tmp_path / "patient.json"
    patient.write_text('{"resourceType": "Patient"}')
    done = ecanfhir("validate", patient, "--ig", "example.a#1.0.0", cache=cache,
                    registry=registry.url)
    assert done.returncode == 2
    assert "not in the FHIR package cache" in done.stderr
    assert "`ecanfhir package install example.a#1.0.0`" in done.stderr
    assert sum(registry.hits.values()) == 0


def test_package_build_install_puts_the_pilot_in_the_cache(cache: Path, tmp_path: Path) -> None:
    """build --install: <cache>/ecanfhir.pilot#0.1.0/package, loaded by --ig id#version."""
    done = ecanfhir("package", "build", ROOT / "profiles", "--out", tmp_path / "out",
                    "--install", cache=cache)
    assert done.returncode == 0, done.stderr
    folder = cache / "ecanfhir.pilot#0.1.0"
    assert f"installed ecanfhir.pilot#0.1.0 -> {folder}" in done.stdout
    assert (folder / "package" / "StructureDefinition-ecan-patient.json").is_file()
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps({"resourceType": "Patient", "meta": {"profile": [
        pilot_url("StructureDefinition", "ecan-patient")]}, "gender": "female"}))
    checked = ecanfhir("validate", patient, "--no-pilot", "--ig", "ecanfhir.pilot#0.1.0",
                       "--format", "json", cache=cache)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    issues = json.loads(checked.stdout)["issue"]
    assert any(i.get("expression") == ["Patient.name"] for i in issues), issues
    again = ecanfhir("package", "build", ROOT / "profiles", "--out", tmp_path / "out",
                     "--install", cache=cache)
    assert again.returncode == 0 and f"installed ecanfhir.pilot#0.1.0 -> {folder}" in again.stdout
