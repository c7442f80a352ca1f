"""install_package against a registry served on loopback: dependencies, versions, integrity,
unreachable registries, local archives, safe unpacking and the cache lock."""

from __future__ import annotations

import io
import os
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecanfhir import PackageError, Registry, load_ig
from ecanfhir.definitions.packages.cache import STAGING_PREFIX, _try_exclusive_create, package_lock
from ecanfhir.definitions.packages.install import install_package
from ecanfhir.definitions.packages.npm import configured_registries, resolve_version, version_order
from testservers.package_registry import PackageRegistry, package_tgz


def value_set(name: str) -> dict[str, str]:
    return {"resourceType": "ValueSet", "id": name, "url": f"http://example.org/ValueSet/{name}",
            "status": "active"}


@pytest.fixture
def registry() -> Iterator[PackageRegistry]:
    with PackageRegistry() as served:
        yield served


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "packages"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def labels(result: object) -> set[str]:
    return {p.label for p in result.packages}  # type: ignore[attr-defined]


def test_dependencies_install_transitively(registry: PackageRegistry, cache: Path) -> None:
    """a -> b (exact) -> c (1.0.x: newest 1.0 release) and d (current: dist-tags latest);
    core R4 is skipped, never fetched; the loader then finds every dependency."""
    registry.publish(package_tgz("example.a", "1.0.0", dependencies={"example.b": "2.0.0"},
                                 resources=[value_set("a")]))
    registry.publish(package_tgz("example.b", "2.0.0",
                                 dependencies={"example.c": "1.0.x", "example.d": "current"}))
    for version in ("1.0.0", "1.0.3", "1.1.0", "1.0.4-ballot"):
        registry.publish(package_tgz("example.c", version))
    for version in ("0.9.0", "1.0.0"):
        registry.publish(package_tgz("example.d", version))
    result = install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    assert result.ok, result.problems
    assert labels(result) == {"example.a#1.0.0", "example.b#2.0.0", "example.c#1.0.3",
                              "example.d#1.0.0"}
    assert {p.label: p.required_by for p in result.packages}["example.c#1.0.3"] == \
        "example.b#2.0.0"
    assert "hl7.fhir.r4.core#4.0.1" in result.skipped
    assert registry.hits["/hl7.fhir.r4.core"] == 0
    assert all(p.fresh for p in result.packages)
    assert (cache / "example.c#1.0.3" / "package" / "package.json").is_file()
    loaded = Registry()
    description = load_ig(loaded, "example.a#1.0.0", cache_dir=cache)
    assert "not in the package cache" not in description
    assert loaded.value_set("http://example.org/ValueSet/a") is not None
    assert sorted(p.name for p in cache.iterdir()) == [
        "example.a#1.0.0", "example.b#2.0.0", "example.c#1.0.3", "example.d#1.0.0"]


def test_a_package_needed_twice_is_listed_once(registry: PackageRegistry, cache: Path) -> None:
    """a needs c#1.0.0 and b needs c#1.0.x (the same release): one c, fetched once."""
    registry.publish(package_tgz("example.a", "1.0.0", dependencies={
        "example.b": "1.0.0", "example.c": "1.0.0"}))
    registry.publish(package_tgz("example.b", "1.0.0", dependencies={"example.c": "1.0.x"}))
    registry.publish(package_tgz("example.c", "1.0.0"))
    result = install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    assert sorted(p.label for p in result.packages) == [
        "example.a#1.0.0", "example.b#1.0.0", "example.c#1.0.0"]
    assert registry.hits["/example.c/-/example.c-1.0.0.tgz"] == 1


def test_a_missing_dependency_is_reported_with_the_versions_there(registry: PackageRegistry,
                                                                   cache: Path) -> None:
    """The registry lacks b#9.9.9: a problem naming 1.0.0 and 2.0.0; a and c still install."""
    registry.publish(package_tgz("example.a", "1.0.0", dependencies={
        "example.b": "9.9.9", "example.c": "1.0.0", "example.gone": "1.0.0"}))
    registry.publish(package_tgz("example.b", "2.0.0"))
    registry.publish(package_tgz("example.b", "1.0.0"))
    registry.publish(package_tgz("example.c", "1.0.0"))
    result = install_package("example.a", registry=registry.url, cache_dir=cache)
    assert labels(result) == {"example.a#1.0.0", "example.c#1.0.0"}
    assert not result.ok
    missing, gone = result.problems
    assert (missing.wanted, missing.kind, missing.required_by, missing.available) == (
        "example.b#9.9.9", "not-found", "example.a#1.0.0", ("1.0.0", "2.0.0"))
    assert "versions there: 1.0.0, 2.0.0" in str(missing)
    assert (gone.wanted, gone.kind, gone.available) == ("example.gone#1.0.0", "not-found", ())
    assert not (cache / "example.b#9.9.9").exists()


@pytest.mark.parametrize("digests", ["both", "integrity", "shasum"])
def test_a_tarball_failing_its_digest_is_refused_and_leaves_nothing(
        registry: PackageRegistry, cache: Path, digests: str) -> None:
    """sha512 integrity or sha1 shasum mismatch: a problem, and the cache holds no trace."""
    registry.publish(package_tgz("example.a", "1.0.0"), digests=digests,  # type: ignore[arg-type]
                     tampered=True)
    result = install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    assert [(p.wanted, p.kind) for p in result.problems] == [("example.a#1.0.0", "integrity")]
    assert result.packages == ()
    assert list(cache.iterdir()) == []


def test_a_package_without_digests_installs(registry: PackageRegistry, cache: Path) -> None:
    """Some FHIR package servers publish no digest: the tarball is taken as it is."""
    registry.publish(package_tgz("example.a", "1.0.0"), digests="none", fhir_layout=True)
    result = install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    assert result.ok and labels(result) == {"example.a#1.0.0"}
    assert registry.hits["/example.a/1.0.0"] == 1  # {registry}/{id}/{version}, FHIR servers'


def test_an_unreachable_registry_is_one_problem_naming_it_and_the_tgz_way(cache: Path) -> None:
    """Nothing listens on the port: one problem, the URL and the .tgz alternative in it."""
    url = f"http://127.0.0.1:{free_port()}"
    result = install_package("example.a#1.0.0", registry=url, cache_dir=cache)
    (problem,) = result.problems
    assert problem.kind == "unreachable"
    assert url in problem.message and "ecanfhir package install FILE.tgz" in problem.message
    assert not cache.exists() or list(cache.iterdir()) == []


def test_the_next_registry_is_asked_when_the_first_is_down_or_lacks_it(
        registry: PackageRegistry, cache: Path) -> None:
    """Registries are tried in order: a dead one, one without the package, then ours."""
    registry.publish(package_tgz("example.a", "1.0.0"))
    with PackageRegistry() as empty:
        result = install_package("example.a#1.0.0", cache_dir=cache, registry=[
            f"http://127.0.0.1:{free_port()}", empty.url, registry.url])
    assert result.ok and labels(result) == {"example.a#1.0.0"}


def test_a_local_tgz_installs_under_its_manifest_label(registry: PackageRegistry, cache: Path,
                                                       tmp_path: Path) -> None:
    """FILE.tgz: id and version from its package.json; its dependencies come from the registry."""
    registry.publish(package_tgz("example.b", "1.0.0"))
    archive = tmp_path / "whatever-name.tgz"
    archive.write_bytes(package_tgz("example.a", "3.1.0", dependencies={"example.b": "1.0.0"}))
    result = install_package(archive, registry=registry.url, cache_dir=cache)
    assert result.ok
    assert [(p.label, p.source) for p in result.packages] == [
        ("example.a#3.1.0", str(archive)),
        ("example.b#1.0.0", f"{registry.url}/example.b/-/example.b-1.0.0.tgz")]


def test_a_cached_package_is_not_downloaded_again(registry: PackageRegistry,
                                                  cache: Path) -> None:
    """The second install finds it in the cache: no tarball fetched, fresh is False."""
    registry.publish(package_tgz("example.a", "1.0.0"))
    install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    again = install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    assert [(p.label, p.fresh) for p in again.packages] == [("example.a#1.0.0", False)]
    assert registry.hits["/example.a/-/example.a-1.0.0.tgz"] == 1
    forced = install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache,
                             replace=True)
    assert [p.fresh for p in forced.packages] == [True]
    assert registry.hits["/example.a/-/example.a-1.0.0.tgz"] == 2


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 0 if kind != tarfile.REGTYPE else 4
    return info


@pytest.mark.parametrize(("member", "says"), [
    (_member("package/../../escape.json"), "unsafe path"),
    (_member("/etc/escape.json"), "unsafe path"),
    (_member("package/link.json", tarfile.SYMTYPE, "/etc/passwd"), "refusing link"),
    (_member("package/hard.json", tarfile.LNKTYPE, "package/package.json"), "refusing link"),
])
def test_unsafe_archives_are_refused_and_leave_nothing(cache: Path, tmp_path: Path,
                                                       member: tarfile.TarInfo, says: str) -> None:
    """Absolute paths, .. and links: PackageError naming the member; nothing written anywhere."""
    archive = tmp_path / "bad.tgz"
    archive.write_bytes(package_tgz("example.a", "1.0.0", members=[member]))
    with pytest.raises(PackageError, match=says):
        install_package(archive, cache_dir=cache, dependencies=False)
    assert list(cache.iterdir()) == []
    assert not (tmp_path / "escape.json").exists()


def test_an_archive_unpacking_past_the_size_limit_is_refused(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unpacked total is bounded (a gzip bomb stops at the limit); nothing is left."""
    monkeypatch.setattr("ecanfhir.definitions.packages.cache.MAX_UNPACKED_BYTES", 100)
    archive = tmp_path / "big.tgz"
    archive.write_bytes(package_tgz("example.a", "1.0.0", resources=[value_set("a" * 200)]))
    with pytest.raises(PackageError, match="unpacks to more than the limit"):
        install_package(archive, cache_dir=cache, dependencies=False)
    assert list(cache.iterdir()) == []


def test_a_wrong_package_from_the_registry_is_refused(registry: PackageRegistry,
                                                      cache: Path) -> None:
    """A tarball holding another package than its registry entry says: refused, nothing left."""
    registry.publish(package_tgz("example.a", "1.0.0"))
    other = package_tgz("example.other", "1.0.0")
    registry._tarballs["/example.a/-/example.a-1.0.0.tgz"] = other
    registry._documents["example.a"]["versions"]["1.0.0"]["dist"] = {
        "tarball": "/example.a/-/example.a-1.0.0.tgz"}
    result = install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    assert [(p.kind, "example.other#1.0.0" in p.message) for p in result.problems] == [
        ("invalid", True)]
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("spec", ["not a package", "example.a#1.0/../x", "missing.tgz"])
def test_a_malformed_spec_is_a_package_error(spec: str, cache: Path) -> None:
    with pytest.raises(PackageError):
        install_package(spec, cache_dir=cache)


def test_an_archive_with_its_own_top_folder_becomes_package(cache: Path, tmp_path: Path) -> None:
    """npm tarballs may name their one top folder after the package: it becomes package/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b'{"name": "example.a", "version": "1.0.0"}'
        info = tarfile.TarInfo("example.a/package.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "a.tgz").write_bytes(buffer.getvalue())
    install_package(tmp_path / "a.tgz", cache_dir=cache)
    assert (cache / "example.a#1.0.0" / "package" / "package.json").is_file()


def test_the_lock_excludes_a_second_writer_and_is_removed(cache: Path) -> None:
    """While one holds id#version.lock another waits (and times out); the file goes after."""
    errors: list[Exception] = []

    def second() -> None:
        try:
            with package_lock(cache, "example.a#1.0.0", timeout=0.3):
                pass
        except PackageError as exc:
            errors.append(exc)

    with package_lock(cache, "example.a#1.0.0") as lock_file:
        assert lock_file.read_text().strip().isdigit()
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    assert len(errors) == 1 and "another install of example.a#1.0.0" in str(errors[0])
    assert not lock_file.exists()
    with package_lock(cache, "example.a#1.0.0", timeout=0.3):
        pass  # free again


def test_an_exclusive_create_lock_left_by_a_dead_run_is_taken_over(tmp_path: Path) -> None:
    """Without record locks: a fresh lock file is held; one older than the limit is stale."""
    path = tmp_path / "example.a#1.0.0.lock"
    fd = _try_exclusive_create(path)
    assert fd is not None
    assert _try_exclusive_create(path) is None
    os.close(fd)
    old = time.time() - 3600
    os.utime(path, (old, old))
    assert _try_exclusive_create(path, stale_after=60) is None  # removes the stale file
    fd = _try_exclusive_create(path, stale_after=60)
    assert fd is not None
    os.close(fd)


def test_stale_install_folders_are_swept(registry: PackageRegistry, cache: Path) -> None:
    """A hidden install folder a killed run left a day ago is removed by the next install."""
    left = cache / f"{STAGING_PREFIX}killed"
    left.mkdir(parents=True)
    old = time.time() - 2 * 24 * 3600
    os.utime(left, (old, old))
    registry.publish(package_tgz("example.a", "1.0.0"))
    install_package("example.a#1.0.0", registry=registry.url, cache_dir=cache)
    assert not left.exists()


@pytest.mark.parametrize(("wanted", "expected"), [
    ("1.0.0", "1.0.0"), ("1.0.x", "1.0.10"), ("1.x", "1.2.0"), ("latest", "1.2.0"),
    ("current", "1.2.0"), ("", "1.2.0"), ("2.0.x", "2.0.0-ballot"), ("3.0.0", None),
])
def test_version_resolution(wanted: str, expected: str | None) -> None:
    """Exact, x-wildcards (releases before pre-releases), latest/current via dist-tags."""
    versions = ["1.0.0", "1.0.2", "1.0.10", "1.2.0", "1.3.0-ballot", "2.0.0-ballot"]
    document = {"dist-tags": {"latest": "1.2.0"}, "versions": {v: {} for v in versions}}
    assert resolve_version(document, wanted) == expected


def test_version_order_and_registries_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert max(["1.0.0-ballot", "1.0.0", "0.9.9"], key=version_order) == "1.0.0"
    monkeypatch.setenv("FHIR_PACKAGE_REGISTRY", "http://a.example/, http://b.example")
    assert configured_registries() == ("http://a.example", "http://b.example")
    monkeypatch.delenv("FHIR_PACKAGE_REGISTRY")
    assert configured_registries() == ("https://packages.fhir.org",
                                       "https://packages2.fhir.org/packages")
