"""The client's side: hand a command to the running daemon (see :mod:`ecanfhir.daemon`).

This runs first in every ``ecanfhir`` process, before anything else is imported: when no
daemon runs, it costs one ``stat`` of the socket's path.
"""

from __future__ import annotations

import os
import sys

from . import encode_request, installation, private_folder, socket_path

__all__ = ["FORWARDED", "exchange", "forward"]

FORWARDED = ("validate",)  # the commands a daemon runs
_STREAMS = (0, 1, 2)
EXIT_INTERNAL, EXIT_INTERRUPTED = 3, 130


def forward(argv: list[str]) -> int | None:
    """The exit code of ``ecanfhir ARGV`` as the daemon ran it, or None when no daemon runs
    it (none is running, the command is not one it runs, or it refused): the caller then
    runs the command itself."""
    if not argv or argv[0] not in FORWARDED or "--no-daemon" in argv \
            or os.environ.get("ECANFHIR_DAEMON") == "0":
        return None
    path = socket_path()
    if path is None or not os.path.exists(path) \
            or not private_folder(os.path.dirname(path), create=False):
        return None
    try:
        reply = exchange(path, "run", argv, streams=True)
    except KeyboardInterrupt:  # the daemon stops the command when the connection closes
        return EXIT_INTERRUPTED
    if reply is None:
        return None
    if not reply:  # sent, and the daemon went away: the command may have run, in part
        print("ecanfhir: the daemon stopped while running the command", file=sys.stderr)
        return EXIT_INTERNAL
    if reply.startswith("exit "):
        return int(reply[5:])
    if reply.startswith("refuse "):
        print(f"ecanfhir: the daemon did not run the command ({reply[7:].strip()}); running it "
              "in this process", file=sys.stderr)
    return None


def exchange(path: str, kind: str, argv: list[str], *, streams: bool = False) -> str | None:
    """Send one request (``run``, ``status``, ``stop``) and return the daemon's answer: None
    when no daemon took the request at ``path``, empty when it took it and closed the
    connection without an answer. With ``streams``, this process's standard input,
    output and error go with it: the daemon's command reads and writes them directly."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        try:
            sock.connect(path)
            request = encode_request(kind, installation(), os.getcwd(), argv,
                                     dict(os.environ), _encodings())
        except OSError:  # no daemon listens (a socket file left behind), or no working folder
            return None
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        try:
            if streams:
                import array

                fds = array.array("i", _STREAMS).tobytes()
                sent = sock.sendmsg([request], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
            else:
                sent = sock.send(request)
            if sent < len(request):
                sock.sendall(request[sent:])
        except OSError:  # a standard stream is closed, or the daemon went away
            return None
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")
    except ConnectionError:
        return ""
    finally:
        sock.close()


def _encodings() -> list[str]:
    return [getattr(stream, "encoding", None) or "utf-8"
            for stream in (sys.stdin, sys.stdout, sys.stderr)]
