"""The daemon's parts in one process: its request format, when a client hands a command over,
and when a kept validator is used again (``tests/e2e/test_cli_daemon.py`` runs the whole)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pytest

from ecanfhir.commands.validate import build_validator
from ecanfhir.daemon import decode_request, encode_request, socket_path
from ecanfhir.daemon.client import forward
from ecanfhir.daemon.validators import ValidatorCache, files_stamp
from ecanfhir.validation._options import ValidationOptions

ODD = os.fsdecode(b"caf\xc3\xa9 \xff.json")  # a file name that is not UTF-8, as POSIX allows


def test_a_request_survives_its_encoding() -> None:
    argv = ["validate", ODD, "--profile", "http://x.org/p", ""]
    env = {"A": "1=2", "EMPTY": "", "ODD": ODD}
    data = encode_request("run", "key\nwith lines", "/some where", argv, env,
                          ["utf-8", "latin-1", "utf-8"])
    assert int.from_bytes(data[:4], "big") == len(data) - 4
    request = decode_request(data[4:])
    assert (request.kind, request.key, request.cwd) == ("run", "key\nwith lines", "/some where")
    assert (request.argv, request.env) == (argv, env)
    assert request.encodings == ["utf-8", "latin-1", "utf-8"]


@pytest.mark.parametrize("body", [b"", b"hello", b"ecanfhir-daemon-0\0run\0k\0/\x000\x000\0a\0b\0c",
                                  b"ecanfhir-daemon-1\0run\0k\0/\x005\0validate\x000\0a\0b\0c",
                                  b"ecanfhir-daemon-1\0run\0k\0/\x000\x001\0NOEQUALS\0a\0b\0c",
                                  b"ecanfhir-daemon-1\0run\0k\0/\x00x\x000\0a\0b\0c",
                                  b"ecanfhir-daemon-1\0run\0k\0/\x000\x000\0a\0b"])
def test_a_malformed_request_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        decode_request(body)


@pytest.fixture
def no_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "d"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("ECANFHIR_DAEMON_DIR", str(folder))
    monkeypatch.delenv("ECANFHIR_DAEMON", raising=False)
    return folder


@pytest.mark.parametrize("argv", [[], ["convert", "x.json"], ["--version"],
                                  ["validate", "x.json", "--no-daemon"], ["validate", "x.json"]])
def test_no_daemon_no_forwarding(no_daemon: Path, argv: list[str]) -> None:
    assert forward(argv) is None


def test_a_socket_in_a_folder_others_may_write_is_not_used(no_daemon: Path) -> None:
    """A stranger could have put it there: the command runs here, not there."""
    path = socket_path()
    assert path is not None and Path(path).parent == no_daemon
    Path(path).write_bytes(b"")  # not even a socket: connecting would fail anyway
    os.chmod(no_daemon, 0o777)
    try:
        assert forward(["validate", "x.json"]) is None
    finally:
        os.chmod(no_daemon, 0o700)


def test_ecanfhir_daemon_0_turns_forwarding_off(no_daemon: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECANFHIR_DAEMON", "0")
    assert forward(["validate", "x.json"]) is None


def _args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(**{"no_pilot": True, "ig": [], "profile": [], **kw})


def _profile(path: Path, minimum: int) -> Path:
    path.write_text(json.dumps({
        "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/p",
        "name": "P", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
        "abstract": False, "type": "Patient", "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "differential": {"element": [{"id": "Patient.birthDate", "path": "Patient.birthDate",
                                      "min": minimum}]}}))
    return path


def test_a_validator_is_kept_while_its_files_are_unchanged(tmp_path: Path) -> None:
    cache = ValidatorCache()
    profile = _profile(tmp_path / "p.json", 1)
    args = _args(profile=[str(profile)])
    first, profiles = cache.get(args, ValidationOptions(), build_validator)
    assert profiles == ["http://example.org/fhir/StructureDefinition/p"]
    again, _ = cache.get(args, ValidationOptions(), build_validator)
    assert again is first
    other, _ = cache.get(args, ValidationOptions(must_support=True), build_validator)
    assert other is not first and other.options.must_support
    _profile(profile, 0)
    os.utime(profile, ns=(time.time_ns(), time.time_ns() + 10**9))
    changed, _ = cache.get(args, ValidationOptions(), build_validator)
    assert changed is not first
    patient = {"resourceType": "Patient"}
    assert not first.validate(patient, profiles=profiles).ok
    assert changed.validate(patient, profiles=profiles).ok


def test_the_least_recently_used_validator_goes_first() -> None:
    cache = ValidatorCache(size=2)
    options = [ValidationOptions(best_practice=b) for b in ("warning", "error", "ignore")]
    kept = [cache.get(_args(), o, build_validator)[0] for o in options]
    assert len(cache) == 2
    assert cache.get(_args(), options[2], build_validator)[0] is kept[2]
    assert cache.get(_args(), options[0], build_validator)[0] is not kept[0]


def test_files_stamp_sees_a_file_written_added_or_removed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.json").write_text("{}")
    (tmp_path / "__pycache__").mkdir()
    stamp = files_stamp([str(tmp_path)], skip=frozenset({"__pycache__"}))
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"skipped")
    assert files_stamp([str(tmp_path)], skip=frozenset({"__pycache__"})) == stamp
    (tmp_path / "a" / "x.json").write_text("{ }")
    written = files_stamp([str(tmp_path)])
    assert written != stamp
    (tmp_path / "a" / "y.json").write_text("{}")
    added = files_stamp([str(tmp_path)])
    assert added != written
    (tmp_path / "a" / "y.json").unlink()
    assert files_stamp([str(tmp_path)]) != added
    assert files_stamp([str(tmp_path / "gone.json")]) == ((str(tmp_path / "gone.json"), -1, -1),)


@pytest.mark.parametrize("inotify", [True, False], ids=["inotify", "stamp"])
def test_the_installation_watch_sees_changes_but_not_bytecode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inotify: bool) -> None:
    from ecanfhir.daemon import watch

    if not inotify:
        monkeypatch.setattr(watch, "_inotify", lambda folders, skip: None)
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    module = tmp_path / "pkg" / "sub" / "m.py"
    module.write_text("x = 1\n")
    w = watch.InstallationWatch([str(tmp_path / "pkg")], frozenset({"__pycache__"}))
    try:
        if inotify and w.kind != "inotify":
            pytest.skip("no inotify here")
        assert not w.changed()
        (tmp_path / "pkg" / "sub" / "__pycache__").mkdir()
        (tmp_path / "pkg" / "sub" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x")
        assert not w.changed()
        with module.open("a") as fh:  # written in place, as some editors do
            fh.write("y = 2\n")
        os.utime(module, ns=(time.time_ns(), time.time_ns() + 10**9))
        assert w.changed()
        assert w.changed()  # and stays so
    finally:
        w.close()


def test_the_installation_watch_sees_a_new_file(tmp_path: Path) -> None:
    from ecanfhir.daemon.watch import InstallationWatch

    w = InstallationWatch([str(tmp_path)], frozenset())
    try:
        assert not w.changed()
        (tmp_path / "new.json").write_text("{}")
        assert w.changed()
    finally:
        w.close()
