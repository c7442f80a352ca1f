"""Run a command with its stderr on a pseudo-terminal (where progress bars are drawn)."""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any


def run_with_terminal_stderr(args: list[str], **kwargs: Any
                             ) -> tuple[subprocess.CompletedProcess[Any], bytes]:
    """``subprocess.run(args, stdout=PIPE, stderr=<a pty>)``; returns what the pty received."""
    import pty

    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=slave, check=False, **kwargs)
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return done, b"".join(chunks)
