"""The daemon's side: one process with the validator loaded, running the commands clients hand
it (see :mod:`ecanfhir.daemon`), one at a time, each in the client's folder, environment and
standard streams."""

from __future__ import annotations

import argparse
import array
import contextlib
import fcntl
import gc
import io
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TextIO

from .. import cli
from .._version import __version__
from ..commands.validate import build_validator
from ..validation._options import ValidationOptions
from . import MAX_REQUEST, Request, decode_request, installation, package_dir, private_folder
from .client import EXIT_INTERRUPTED, FORWARDED
from .validators import ValidatorCache
from .watch import InstallationWatch

__all__ = ["Daemon", "code_folders"]

_POLL = 0.5  # seconds between looks at the stop flag and the idle timeout while waiting
FULL_EVERY = 100  # commands between full collections


def code_folders() -> list[str]:
    """The folders whose files make this installation: ecanfhir's own, and the pilot
    package's sources when they lie outside it (a checkout's ``profiles/``)."""
    from ..definitions.pilot import pilot_source

    package = package_dir()
    pilot = str(pilot_source())
    return [package] if pilot.startswith(package + os.sep) else [package, pilot]


class Daemon:
    """The daemon listening at ``path``, until stopped or idle for ``idle_timeout`` seconds."""

    def __init__(self, path: str, idle_timeout: float) -> None:
        self.path = path
        self.idle_timeout = idle_timeout
        self.key = installation()
        self.validators = ValidatorCache()
        self.requests = 0
        self.started = datetime.now(UTC)
        self.stopping = ""
        self._running = False
        self._since_full = 0
        self._installation = InstallationWatch(code_folders(), frozenset({"__pycache__"}))

    def serve(self, ready: TextIO | None = None) -> int:
        """Listen and run commands until stopped; 0 when stopped, 1 when another daemon of
        this installation runs (it holds the lock). ``ready`` gets a line once clients can
        connect."""
        folder = os.path.dirname(self.path)
        if not private_folder(folder, create=True):
            print(f"ecanfhir daemon: {folder} is not a folder of this user's alone",
                  file=sys.stderr)
            return 1
        with open(self.path + ".lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                print("ecanfhir daemon: one is running already", file=sys.stderr)
                return 1
            self._warm()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # left by a daemon that was killed: we hold the lock
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
                try:
                    listener.bind(self.path)
                except OSError as exc:  # a path longer than a socket's (107 bytes), say
                    print(f"ecanfhir daemon: cannot listen at {self.path}: {exc}",
                          file=sys.stderr)
                    return 1
                listener.listen(16)
                inode = os.stat(self.path).st_ino
                if ready is not None:
                    print(f"ecanfhir daemon {os.getpid()} listening at {self.path}", file=ready,
                          flush=True)
                try:
                    with self._signals():
                        self._loop(listener)
                finally:
                    self._installation.close()
                    with contextlib.suppress(OSError):
                        if os.stat(self.path).st_ino == inode:
                            os.unlink(self.path)
        return 0

    def _warm(self) -> None:
        """Load what a default ``validate`` run needs, then freeze it: the collector never
        walks the definitions again, and a command's allocations stay apart from them."""
        args = argparse.Namespace(no_pilot=False, ig=[], profile=[])
        validator, _ = self.validators.get(args, ValidationOptions(), build_validator)
        for resource in ({"resourceType": "Patient", "gender": "female"},
                         {"resourceType": "Bundle", "type": "collection"}):
            validator.validate(resource)
        gc.collect()
        gc.freeze()
        # The daemon collects between commands, after each one's answer (_collect), not
        # during them: with the collector off, a command's pause and resume of it
        # (``_collector``) have nothing to do -- their resume would count the frozen objects,
        # milliseconds for the definitions -- and no collection runs in a command's time.
        gc.disable()

    def _collect(self, ran_command: bool) -> None:
        """Between commands: the young generations after each (what a command left alive, a
        fraction of a millisecond to scan), and all of them (the frozen definitions apart)
        every ``FULL_EVERY`` commands."""
        if not ran_command:
            return
        self._since_full += 1
        if self._since_full >= FULL_EVERY:
            self._since_full = 0
            gc.collect()
        else:
            gc.collect(1)

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        def interrupt(signum: int, frame: object) -> None:
            if self._running:  # the command stops; the daemon does not
                raise KeyboardInterrupt

        def terminate(signum: int, frame: object) -> None:
            self.stopping = self.stopping or "SIGTERM"

        saved = signal.signal(signal.SIGINT, interrupt), signal.signal(signal.SIGTERM, terminate)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, saved[0])
            signal.signal(signal.SIGTERM, saved[1])

    def _loop(self, listener: socket.socket) -> None:
        last = time.monotonic()
        while not self.stopping:
            if time.monotonic() - last > self.idle_timeout:
                self.stopping = f"idle for {self.idle_timeout:g} s"
                break
            listener.settimeout(_POLL)
            try:
                conn, _ = listener.accept()
            except (TimeoutError, InterruptedError):
                continue
            with conn:
                ran = self._handle(conn)
            self._collect(ran)
            if ran:
                last = time.monotonic()  # a command; asking for the status is no use

    def _handle(self, conn: socket.socket) -> bool:
        """One connection: never raises (a client's bad request is refused, a command's error
        is its exit code). Whether it ran a command."""
        fds: list[int] = []
        ran = self.requests
        try:
            conn.settimeout(10)
            if not self._same_user(conn):
                return False
            request, fds = _receive(conn)
            conn.settimeout(None)
            reply = self._answer(request, fds, conn)
        except (OSError, ValueError, UnicodeError) as exc:
            reply = f"refuse unreadable request ({exc})"
        except Exception as exc:  # a bug of the daemon: say so, and go on serving
            reply = f"refuse daemon error ({type(exc).__name__}: {exc})"
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        with contextlib.suppress(OSError):
            conn.sendall(reply.encode("utf-8") + b"\n")
            conn.shutdown(socket.SHUT_RDWR)
        return self.requests != ran

    @staticmethod
    def _same_user(conn: socket.socket) -> bool:
        creds = getattr(socket, "SO_PEERCRED", None)
        if creds is None:  # the socket's folder is this user's alone
            return True
        pid_uid_gid = conn.getsockopt(socket.SOL_SOCKET, creds, 12)
        return int.from_bytes(pid_uid_gid[4:8], sys.byteorder) == os.getuid()

    def _answer(self, request: Request, fds: list[int], conn: socket.socket) -> str:
        if request.key != self.key:
            return "refuse another installation's daemon"
        if request.kind == "status":
            return self._status()
        if request.kind == "stop":
            self.stopping = "stopped"
            return "stopping"
        if request.kind != "run" or len(fds) != 3:
            return f"refuse a request of an unknown kind ({request.kind})"
        if not request.argv or request.argv[0] not in FORWARDED:
            return "refuse a command the daemon does not run"
        if not os.path.isdir(request.cwd):
            return "refuse the caller's working folder is gone"
        if self._installation.changed():
            self.stopping = "its installation changed"
            return "refuse the daemon's installation changed since it started; it stops"
        self.requests += 1
        return f"exit {self._run(request, fds, conn)}"

    def _status(self) -> str:
        from .._build import build_name

        return (f"status running\npid: {os.getpid()}\nsocket: {self.path}\nstarted: "
                f"{self.started.isoformat(timespec='seconds')}\ncommands run: {self.requests}\n"
                f"validators kept: {len(self.validators)}\ninstallation watched by: "
                f"{self._installation.kind}\necanfhir: {__version__} "
                f"({build_name()})\npython: {sys.executable}\nidle timeout: "
                f"{self.idle_timeout:g} s")

    def _run(self, request: Request, fds: list[int], conn: socket.socket) -> int:
        """Run the command in the client's folder, environment and streams; restore ours."""
        saved_cwd = os.getcwd()
        saved_env = dict(os.environ)
        saved_streams = sys.stdin, sys.stdout, sys.stderr
        saved_argv = sys.argv
        streams = _streams(fds, request.encodings)
        watcher = threading.Thread(target=self._watch, args=(conn,), daemon=True)
        try:
            os.chdir(request.cwd)
            os.environ.clear()
            os.environ.update(request.env)
            sys.stdin, sys.stdout, sys.stderr = streams
            sys.argv = ["ecanfhir", *request.argv]
            try:
                self._running = True
                watcher.start()
                return cli.main(request.argv,
                                namespace=argparse.Namespace(validators=self.validators))
            except SystemExit as exc:  # argparse: --help, or a usage error it has printed
                return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
            except KeyboardInterrupt:  # the client went away, or was interrupted
                return EXIT_INTERRUPTED
            finally:
                self._running = False
        finally:
            for stream in streams:
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            sys.argv = saved_argv
            os.environ.clear()
            os.environ.update(saved_env)
            os.chdir(saved_cwd)
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RD)  # wakes the watcher
            if watcher.is_alive():
                watcher.join()

    def _watch(self, conn: socket.socket) -> None:
        """Interrupt the command when its client goes away (Ctrl-C, a timeout's kill): the
        client sends nothing more, so any return of ``recv`` means that."""
        with contextlib.suppress(OSError):
            conn.recv(1)
        if self._running:
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def _receive(conn: socket.socket) -> tuple[Request, list[int]]:
    """The request and the file descriptors sent with it."""
    fds = array.array("i")
    data, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    received = list(fds)
    try:
        if len(data) < 4:
            raise ValueError("a request shorter than its length")
        size = int.from_bytes(data[:4], "big")
        if size > MAX_REQUEST:
            raise ValueError(f"a request of {size} bytes")
        body = bytearray(data[4:])
        while len(body) < size:
            chunk = conn.recv(min(1 << 20, size - len(body)))
            if not chunk:
                raise ValueError("a request cut short")
            body += chunk
        return decode_request(bytes(body)), received
    except BaseException:
        for fd in received:
            with contextlib.suppress(OSError):
                os.close(fd)
        raise


def _streams(fds: list[int], encodings: list[str]) -> tuple[TextIO, TextIO, TextIO]:
    """Text streams over the client's standard input, output and error, as Python opens its
    own (output line-buffered on a terminal, error always; undecodable characters in error
    written as escapes)."""
    stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(fds[0], "r", closefd=False)),
                             encoding=encodings[0])
    stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(fds[1], "w", closefd=False)),
                              encoding=encodings[1], line_buffering=os.isatty(fds[1]))
    stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(fds[2], "w", closefd=False)),
                              encoding=encodings[2], errors="backslashreplace",
                              line_buffering=True)
    return stdin, stdout, stderr
