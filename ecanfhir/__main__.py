"""``python -m ecanfhir``, and the ``ecanfhir`` script: the command, handed to a running
``ecanfhir daemon`` when there is one for this installation and the command is one it runs
(see :mod:`ecanfhir.daemon`), else run in this process by :func:`ecanfhir.cli.main`."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> int:
    """The ``ecanfhir`` command's exit code. Nothing else is imported before the daemon is
    asked: its client's start-up is the command's."""
    from .daemon.client import forward

    code = forward(sys.argv[1:])
    if code is not None:
        return code
    from .cli import main as run_here

    return run_here()


if __name__ == "__main__":
    sys.exit(main())
