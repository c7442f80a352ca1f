"""Message validation across cores: child processes, each with the server's validator.

Validating a referral is pure Python work of several milliseconds. Run in the request
threads of one server process it holds that process's GIL: the event loop that reads and
answers requests waits for it, and so does every SQLite statement of a storing thread, which
gives the GIL up around each statement and must win it back from the validating threads
while it holds the database's write lock. A process takes at most one core however many
requests it holds, and uvicorn's workers do not share the requests evenly: each keeps the
keep-alive connections it happened to accept, so one worker can hold most senders while
another idles (measured: 3 to 1 with 8 senders and 2 workers).

:class:`ValidationPool` moves the validation into ``processes`` child processes, so every
worker's messages are validated on every core, and the serving process keeps the I/O, the
acknowledgement and the store. The children are forked from the serving process once its
validator is warm (:func:`~.app.warm`: the pilot's profiles compiled, the definitions frozen
out of the garbage collector's sight), in the app's start-up before the first request: they
start at once and share the definitions with it, copy-on-write, instead of loading and
compiling them again.

Each child has a pipe of its own. A request thread takes an idle child, writes the parsed
message to its pipe (pickled: a few hundredths of a millisecond for a referral), and reads
the :class:`~ecanfhir.ValidationResult` back, all in that thread: no hand-over to a pool
thread, no task queue. A child reads until its pipe is closed (the pool's :meth:`close`, or
the serving process gone). Until the pool is started, and for good once a child has died,
messages are validated in the calling thread by the server's own validator: slower, never
unchecked. A message whose validation raises in a child is validated again by the server
itself, so it fails (or not) just as it would without the pool.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from ecanfhir import ValidationResult, Validator
from ecanfhir.definitions.registry import Registry

__all__ = ["ValidationPool"]

log = logging.getLogger("testservers.national_centre")


def _serve(connection: Connection, others: list[Connection], validator: Validator,
           errors_only: bool = False) -> None:
    """A child's life: validate what its pipe brings until the pipe is closed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C stops the server: it closes us
    # Every other pipe end this child inherited by fork: held open here, a pipe would never
    # reach its end-of-file when the server (or another child) is gone.
    for other in others:
        other.close()
    while True:
        try:
            resource, profiles = connection.recv()
        except (EOFError, OSError):
            return
        try:
            found = validator.validate(resource, profiles=profiles)
            answer: ValidationResult | None = _errors(found) if errors_only else found
        except Exception:   # the server validates it again itself, to fail as it would alone
            answer = None
        connection.send(answer)


def _errors(result: ValidationResult) -> ValidationResult:
    """The result with its errors and fatal issues only."""
    return ValidationResult(result.errors, result.source)


class ValidationPool:
    """``validate()`` like :class:`~ecanfhir.Validator`'s, run in child processes once
    :meth:`start` has forked them (in the calling thread before that, or after a failure).
    With ``errors_only`` a result holds only the errors and fatal issues, wherever it was
    found."""

    def __init__(self, validator: Validator, *, processes: int, errors_only: bool = False
                 ) -> None:
        self.validator = validator
        # Results of the errors (and fatal issues) only: all a message receiver reads. A
        # referral's warnings and information (18 issues) took 0.05 ms to pickle in a child
        # and 0.05 ms to unpickle in the serving process, per message.
        self.errors_only = errors_only
        self.registry: Registry = validator.registry
        self.processes = processes
        self._idle: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._children: list[Any] = []
        self._ends: list[Connection] = []
        self._broken = False
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True while messages go to the child processes."""
        return bool(self._children) and not self._broken

    def start(self) -> None:
        """Fork the child processes (call it with the validator warm, before serving)."""
        with self._lock:
            if self._children or self.processes < 1:
                return
            context = multiprocessing.get_context("fork")
            pipes = [context.Pipe() for _ in range(self.processes)]
            self._ends = [ours for ours, _ in pipes]
            for _, theirs in pipes:
                others = [end for pipe in pipes for end in pipe if end is not theirs]
                child = context.Process(target=_serve, args=(theirs, others, self.validator,
                                                             self.errors_only),
                                        name="ecanfhir-validation", daemon=True)
                child.start()
                theirs.close()
                self._children.append(child)
            for ours in self._ends:
                self._idle.put(ours)

    def validate(self, resource: Any, *, profiles: Sequence[str] = ()) -> ValidationResult:
        if self.running:
            connection = self._idle.get()
            try:
                result = self._ask(connection, resource, tuple(profiles))
            finally:
                # Back even when its child is gone: a thread waiting for a child takes it,
                # fails at once and validates itself, instead of waiting for ever.
                self._idle.put(connection)
            if result is not None:
                return result
        result = self.validator.validate(resource, profiles=profiles)
        return _errors(result) if self.errors_only else result

    def _ask(self, connection: Connection, resource: Any,
             profiles: tuple[str, ...]) -> ValidationResult | None:
        """The child's answer; None when it could not give one (it died, or its validation
        raised)."""
        try:
            connection.send((resource, profiles))
            answer: ValidationResult | None = connection.recv()
        except (EOFError, OSError):
            if not self._broken:
                self._broken = True
                log.error("a validation process died: validating in the serving process "
                          "from now on")
            return None
        return answer

    def close(self) -> None:
        """Close the pipes (each child then ends) and wait for the children."""
        with self._lock:
            ends, self._ends = self._ends, []
            children, self._children = self._children, []
        for end in ends:
            end.close()
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
                child.join()
