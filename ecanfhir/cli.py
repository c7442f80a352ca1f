"""The ``ecanfhir`` command: one subcommand per module of :mod:`ecanfhir.commands`.

Exit codes: 0 valid / done, 1 errors found, 2 usage or unreadable input, 3 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ._collector import pause_collector, resume_collector
from ._exceptions import EcanfhirError
from .commands import EXIT_USAGE, UsageError

EXIT_INTERNAL = 3

__all__ = ["main"]

# Subcommands, in the order `ecanfhir --help` lists them; each module has add_parser and run.
COMMANDS = ("demo", "validate", "convert", "generate", "send", "serve", "conformance",
            "snapshot", "package", "align", "daemon")


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, that command's alone, so a run imports
    only what it uses (``validate`` neither an HTTP client nor a terminal UI library)."""
    parser = argparse.ArgumentParser(prog="ecanfhir", description="FHIR R4 tooling for the eCAN+ "
                                     "cancer-care pilots.")
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version and build (interpreted or compiled) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = next((a for a in argv or () if not a.startswith("-")), None)
    for name in (named,) if named in COMMANDS else COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).add_parser(sub)
    return parser


class _Version(argparse.Action):
    """``--version``: the version and which build runs (``ecanfhir._build``), worked out only
    when asked, so that no other command pays for finding the compiled modules."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from . import __version__
        from ._build import build_name

        print(f"{parser.prog} {__version__} ({build_name()})")
        parser.exit()


def main(argv: Sequence[str] | None = None, *,
         namespace: argparse.Namespace | None = None) -> int:
    """Run ``ecanfhir ARGV`` (default: ``sys.argv[1:]``) in this process; its exit code.

    ``namespace`` carries what a resident process lends the command (``ecanfhir.daemon``:
    the validators it keeps between runs) next to the parsed arguments.
    """
    collecting = pause_collector()  # the command's modules are imported here
    try:
        parser = _parser(sys.argv[1:] if argv is None else argv)
    finally:
        resume_collector(collecting)
    args = parser.parse_args(argv, namespace)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.run(args)
    except UsageError as exc:
        print(f"ecanfhir: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EcanfhirError as exc:
        print(f"ecanfhir: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug or a broken installation: say so in one line
        if os.environ.get("ECANFHIR_DEBUG"):
            raise
        print(f"ecanfhir: internal error ({type(exc).__name__}: {exc}); set ECANFHIR_DEBUG=1 "
              "for the traceback", file=sys.stderr)
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    sys.exit(main())
