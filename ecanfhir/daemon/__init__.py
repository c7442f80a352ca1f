"""``ecanfhir daemon``: a resident validation process, for a fast ``ecanfhir validate``.

A new ``ecanfhir validate`` process spends about 0.15 s importing the validator, loading R4
core and the pilot package and compiling the definitions a message needs, and a few
milliseconds validating it. ``ecanfhir daemon start`` keeps one process with all of that
loaded (as ``dmypy`` does for mypy); while it runs, ``ecanfhir validate`` hands its command
line, working folder, environment and standard streams (the file descriptors themselves,
passed over a Unix socket with ``SCM_RIGHTS``) to it, and exits with the code the command
gave there. The command runs there as it would here: the same argument parsing, the same
report, written straight to the caller's stdout or ``--output``.

What keeps the result the same as a new process's:

- the socket is named after the Python executable, the ecanfhir installation and its
  version, so another installation never reaches it; the daemon refuses work (and stops)
  once a file of its own installation or of the pilot package has changed since it started;
- a validator built for some ``--ig``/``--profile`` files is used again only while those
  files, and the FHIR package cache, are unchanged (``validators.ValidatorCache``);
- each command sees the caller's folder and environment, and nothing else of the caller.

``--no-daemon`` (or ``ECANFHIR_DAEMON=0``) runs the command in its own process. The daemon
runs one command at a time; it stops on ``ecanfhir daemon stop``, on SIGTERM, or after
``--idle-timeout`` seconds without a command (default: one hour). POSIX only: elsewhere
``validate`` always runs in its own process.

Messages (one per connection): the client sends a length-prefixed request, its standard
streams attached to the first bytes; the daemon answers with one line (``exit N``,
``refuse REASON``, ``status ...``) and closes the connection. This module holds what both
sides need, and imports nothing a client's start-up would notice.
"""

from __future__ import annotations

import os
import sys
import zlib

__all__ = ["MAGIC", "decode_request", "encode_request", "package_dir", "runtime_dir",
           "socket_path"]

MAGIC = "ecanfhir-daemon-1"
MAX_REQUEST = 64 * 1024 * 1024  # bytes: a command line naming a few hundred thousand files


def runtime_dir() -> str | None:
    """The folder of this user's daemon sockets: ``$ECANFHIR_DAEMON_DIR``, else
    ``$XDG_RUNTIME_DIR/ecanfhir``, else ``ecanfhir-UID`` in the temporary folder. None where
    there is no Unix socket to use (Windows)."""
    if os.name != "posix":
        return None
    configured = os.environ.get("ECANFHIR_DAEMON_DIR")
    if configured:
        return configured
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "ecanfhir")
    base = os.environ.get("TMPDIR") or "/tmp"
    return os.path.join(base, f"ecanfhir-{os.getuid()}")


def package_dir() -> str:
    """The folder of the ecanfhir package this process imports."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def installation() -> str:
    """What names a daemon: the Python that runs it, the ecanfhir it imports, its version."""
    from .._version import __version__

    return "\n".join((os.path.realpath(sys.executable), sys.version, package_dir(),
                      __version__))


def socket_path() -> str | None:
    """The socket of the daemon for this installation (which may not be running)."""
    folder = runtime_dir()
    if folder is None:
        return None
    key = installation()
    return os.path.join(folder, f"d-{zlib.crc32(key.encode()):08x}.sock")


def private_folder(folder: str, *, create: bool) -> bool:
    """Whether ``folder`` is this user's alone (made so when ``create``): a socket in a folder
    others can write to could be someone else's."""
    if create:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            return False
    try:
        st = os.stat(folder)
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


def encode_request(kind: str, key: str, cwd: str, argv: list[str], env: dict[str, str],
                   encodings: list[str]) -> bytes:
    """A request: NUL-separated fields, file-system encoded (argv and the environment may
    hold any bytes but NUL), after a four-byte length."""
    fields = [MAGIC, kind, key, cwd, str(len(argv)), *argv, str(len(env)),
              *(f"{k}={v}" for k, v in env.items()), *encodings]
    body = b"\0".join(os.fsencode(f) for f in fields)
    return len(body).to_bytes(4, "big") + body


class Request:
    """A decoded request."""

    __slots__ = ("argv", "cwd", "encodings", "env", "key", "kind")

    def __init__(self, kind: str, key: str, cwd: str, argv: list[str], env: dict[str, str],
                 encodings: list[str]) -> None:
        self.kind, self.key, self.cwd = kind, key, cwd
        self.argv, self.env, self.encodings = argv, env, encodings


def decode_request(body: bytes) -> Request:
    """The request in ``body`` (without its length).

    Raises:
        ValueError: not a request of this version.
    """
    fields = [os.fsdecode(f) for f in body.split(b"\0")]
    if len(fields) < 6 or fields[0] != MAGIC:
        raise ValueError("not an ecanfhir daemon request of this version")
    kind, key, cwd = fields[1:4]
    n_argv = int(fields[4])
    argv = fields[5:5 + n_argv]
    n_env = int(fields[5 + n_argv]) if 0 <= n_argv < len(fields) - 5 else -1
    pairs = fields[6 + n_argv:6 + n_argv + n_env]
    encodings = fields[6 + n_argv + n_env:]
    if n_argv < 0 or n_env < 0 or len(argv) != n_argv or len(pairs) != n_env \
            or len(encodings) != 3 or not all("=" in p for p in pairs):
        raise ValueError("a malformed ecanfhir daemon request")
    env = dict(p.split("=", 1) for p in pairs)
    return Request(kind, key, cwd, argv, env, encodings)
