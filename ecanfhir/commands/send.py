"""``ecanfhir send FILE|DIR --endpoint URL``: send message Bundles to ``$process-message`` with
MedCom reliable messaging (:class:`ecanfhir.client.Client`) and print a table of the
acknowledgements.

Every file is read before anything is sent (a file that is not a message Bundle is a usage
error, exit 2). A file may be FHIR JSON or FHIR XML, told apart by content; each message goes
over the wire in its file's format (``application/fhir+json`` or ``application/fhir+xml``,
every resend too), unless ``--format`` says otherwise. Exit 0 when every message was
acknowledged ``ok``; 1 when any got ``fatal-error`` or could not be delivered. When the
endpoint cannot be reached at all, the remaining messages are not tried.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from .._exceptions import ClientError, ServerError, TransportError
from . import EXIT_INVALID, EXIT_OK, UsageError

__all__ = ["add_parser", "run"]

MAX_ISSUES_SHOWN = 3


def add_parser(sub: Any) -> None:
    s = sub.add_parser("send", help="send messages to a $process-message endpoint",
                       description="Send eCAN+ message Bundles (FHIR JSON or XML files, or every "
                       "*.json and *.xml of a directory) to [base]/$process-message, resending "
                       "on transient errors as MedCom allows, and print the acknowledgements.")
    s.add_argument("paths", nargs="+", metavar="FILE|DIR", help="message Bundle files or "
                   "directories of them")
    s.add_argument("--endpoint", required=True, metavar="URL",
                   help="the FHIR base URL of the receiver ($process-message is appended)")
    s.add_argument("--max-retries", type=int, default=2, metavar="N",
                   help="resends after a transient error, timeout or 5xx (default: 2, MedCom)")
    s.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="per request (default: 30)")
    s.add_argument("--format", choices=("json", "xml"),
                   help="send every message in this format (default: each file's own)")
    auth = s.add_argument_group("SMART Backend Services authorization (all three, or none)")
    auth.add_argument("--auth-client-id", metavar="ID", help="the registered client_id")
    auth.add_argument("--auth-key", metavar="FILE", help="private key: PEM or JWK (RSA for "
                      "RS384, EC P-384 for ES384)")
    auth.add_argument("--auth-token-url", metavar="URL", help="the token endpoint")
    auth.add_argument("--auth-scope", default="system/Bundle.c", metavar="SCOPE",
                      help="scopes requested (default: system/Bundle.c)")
    s.set_defaults(run=run)


@dataclass(slots=True)
class Row:
    """One line of the summary table."""

    file: str
    message_id: str
    code: str
    attempts: int
    issues: str

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def run(args: argparse.Namespace) -> int:
    from ..client import Client, RetryPolicy

    endpoint = _endpoint(args.endpoint)
    if args.max_retries < 0:
        raise UsageError(f"--max-retries {args.max_retries}: must be 0 or more")
    if args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout}: must be more than 0")
    auth = _auth(args)
    messages = list(_read_messages(args.paths))
    rows: list[Row] = []
    with Client(endpoint, auth=auth, retry=RetryPolicy(max_retries=args.max_retries),
                timeout=args.timeout) as client, _progress(len(messages)) as advance:
        for path, bundle, form in messages:
            row = _send(client, path, bundle, args.format or form)
            rows.append(row)
            advance()
            if row.code == "unreachable":
                print(f"ecanfhir: {row.issues}", file=sys.stderr)
                rows += [Row(str(p), _header_id(b), "not sent", 0, "") for p, b, _ in
                         messages[len(rows):]]
                break
    _print_summary(rows)
    return EXIT_OK if all(r.ok for r in rows) else EXIT_INVALID


def _send(client: Any, path: Path, bundle: dict[str, Any], form: str) -> Row:
    header_id = _header_id(bundle)
    try:
        ack = client.send_message(bundle, format=form)
    except TransportError as exc:
        return Row(str(path), header_id, "unreachable", exc.attempts, str(exc))
    except ServerError as exc:
        code = "transient-error" if exc.status_code == 200 else f"HTTP {exc.status_code}"
        return Row(str(path), header_id, code, exc.attempts, _issue_texts(
            (exc.outcome or {}).get("issue") or []) or str(exc))
    except ClientError as exc:
        return Row(str(path), header_id, "failed", exc.attempts, str(exc))
    return Row(str(path), ack.message_id, ack.code, ack.attempts, _issue_texts(ack.issues))


def _endpoint(url: str) -> str:
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise UsageError(f"--endpoint {url}: needs an http:// or https:// URL")
    return url.removesuffix("/").removesuffix("/$process-message")


def _auth(args: argparse.Namespace) -> Any:
    given = {"--auth-client-id": args.auth_client_id, "--auth-key": args.auth_key,
             "--auth-token-url": args.auth_token_url}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise UsageError(f"SMART authorization needs {', '.join(missing)} as well")
    from ..client import SmartBackendAuth, load_private_key

    try:
        key = load_private_key(Path(args.auth_key))
    except ClientError as exc:
        raise UsageError(f"--auth-key {args.auth_key}: {exc}") from exc
    return SmartBackendAuth(args.auth_client_id, key, args.auth_token_url,
                            scope=args.auth_scope)


def _read_messages(paths: Sequence[str]) -> Iterator[tuple[Path, dict[str, Any], str]]:
    """Every message Bundle named, with its file's format, read before anything is sent.

    A file named on the command line must be a message (else exit 2); in a directory, JSON
    or XML that is not a message Bundle (``ecanfhir generate``'s ``manifest.json``, a build
    file) is skipped, and said so on stderr.
    """
    files: list[tuple[Path, bool]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.suffix in (".json", ".xml") and p.is_file())
            if not found:
                raise UsageError(f"{name}: no *.json or *.xml files in this directory")
            files += [(p, True) for p in found]
        elif path.is_file():
            files.append((path, False))
        else:
            raise UsageError(f"{name}: no such file or directory")
    loaded = []
    for path, in_directory in files:
        bundle, unreadable, form, foreign = _read_file(path)
        if unreadable and in_directory and foreign:
            print(f"ecanfhir send: skipping {path}: {unreadable}", file=sys.stderr)
            continue
        if unreadable:
            raise UsageError(f"{path}: {unreadable}")
        problem = _not_a_message(bundle)
        if problem and in_directory and not _is_bundle(bundle):
            print(f"ecanfhir send: skipping {path}: {problem}", file=sys.stderr)
            continue
        if problem:
            raise UsageError(f"{path}: {problem}")
        loaded.append((path, bundle, form))
    if not loaded:
        raise UsageError("no message Bundle to send")
    yield from loaded


def _read_file(path: Path) -> tuple[Any, str | None, str, bool]:
    """(the resource in JSON form, why it cannot be sent as read or None, "json" or "xml",
    whether it is XML but no FHIR resource at all, such as a build file).

    XML with errors is not sent: what its JSON form left out would be lost on the wire.
    """
    from ..formats.xml_read import read_resource

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from exc
    resource, issues, form = read_resource(data)
    errors = [i for i in issues if i.is_error]
    if not errors:
        return resource, None, form, False
    first = errors[0]
    where = f"{first.expression}: " if first.expression else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    kind = "JSON" if form == "json" else "FHIR XML"
    foreign = resource is None and first.rule == "xml-not-fhir"
    return resource, f"not {kind} ({where}{first.message}){more}", form, foreign


def _is_bundle(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "Bundle"


def _not_a_message(bundle: Any) -> str | None:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return "not a FHIR Bundle"
    if bundle.get("type") != "message":
        return f"a Bundle of type {bundle.get('type')!s:.30}, not a message"
    if not _header_id(bundle):
        return "its first entry is not a MessageHeader with an id"
    return None


def _header_id(bundle: dict[str, Any]) -> str:
    entries = bundle.get("entry")
    first = entries[0] if isinstance(entries, list) and entries else None
    header = first.get("resource") if isinstance(first, dict) else None
    if isinstance(header, dict) and header.get("resourceType") == "MessageHeader":
        value = header.get("id")
        return value if isinstance(value, str) else ""
    return ""


def _issue_texts(issues: Sequence[Any]) -> str:
    texts = []
    for issue in issues:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        text = issue.get("diagnostics") or (details.get("text") if isinstance(details, dict)
                                            else None) or issue.get("code") or "?"
        where = issue.get("expression") or []
        texts.append(f"{where[0]}: {text}" if where and isinstance(where[0], str) else str(text))
    more = len(texts) - MAX_ISSUES_SHOWN
    return "; ".join(texts[:MAX_ISSUES_SHOWN]) + (f"; … {more} more" if more > 0 else "")


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal; else nothing."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    progress = Progress(TextColumn("sending"), BarColumn(), MofNCompleteColumn(),
                        console=Console(stderr=True), transient=True)
    with progress:
        task = progress.add_task("send", total=total)
        yield lambda: progress.advance(task)


def _print_summary(rows: Sequence[Row]) -> None:
    terminal = sys.stdout.isatty()
    console = Console(file=sys.stdout, width=None if terminal else 200,
                      no_color=not terminal, highlight=False)
    table = Table(title="Acknowledgements", title_justify="left")
    for column in ("File", "MessageHeader id", "Code", "Attempts", "Issues"):
        table.add_column(column, overflow="fold")
    styles = {"ok": "green", "fatal-error": "red"}
    for row in rows:
        table.add_row(Text(row.file), Text(row.message_id),
                      Text(row.code, style=styles.get(row.code, "yellow")), str(row.attempts),
                      Text(row.issues))
    console.print(table)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.code] = counts.get(row.code, 0) + 1
    console.print(f"{len(rows)} message(s): " + ", ".join(f"{n} {code}" for code, n in
                                                         sorted(counts.items())), markup=False)
