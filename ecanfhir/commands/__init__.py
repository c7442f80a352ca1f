"""What every ``ecanfhir`` command shares: exit codes, usage errors, writing --output.

Each command is a module of this package with ``add_parser(subparsers)`` and ``run(args)``;
``ecanfhir.cli`` lists them. Commands stay thin: parse, call the library, map to an exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "UsageError", "write_output"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or unreadable input: exit code 2."""


def write_output(text: str, output: str | None) -> None:
    """Write a report to --output, or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror}") from exc
