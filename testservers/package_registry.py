"""A FHIR package registry for tests: the npm registry protocol on loopback, synthetic packages.

``ecanfhir package install`` talks to npm-compatible registries (packages.fhir.org, the npm
registry). This one serves what a test publishes, on ``127.0.0.1`` only:

* ``GET /{id}``: the registry document (``versions``, ``dist-tags``, ``dist.tarball``,
  ``dist.shasum``, ``dist.integrity``);
* ``GET /{id}/-/{id}-{version}.tgz``: a tarball, where the npm registry keeps it; with
  ``fhir_layout=True`` the document names no tarball and it is served at ``/{id}/{version}``,
  as the FHIR package servers do.

It counts requests per path (``hits``) and can wait before each tarball (``delay``), so that
tests can see parallel installs overlap.

>>> tgz = package_tgz("example.fhir.a", "1.0.0")
>>> with PackageRegistry() as registry:
...     registry.publish(tgz)
...     registry.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

__all__ = ["PackageRegistry", "package_tgz"]

Digests = Literal["both", "integrity", "shasum", "none"]


def package_tgz(name: str, version: str, *, dependencies: Mapping[str, str] | None = None,
                resources: Iterable[Mapping[str, Any]] = (),
                members: Iterable[tarfile.TarInfo] = ()) -> bytes:
    """A FHIR package ``.tgz``: ``package/package.json`` and one file per resource.

    ``members`` adds raw archive members (with empty content), e.g. to build unsafe archives.
    """
    manifest = {"name": name, "version": version, "fhirVersions": ["4.0.1"],
                "dependencies": {"hl7.fhir.r4.core": "4.0.1", **(dependencies or {})}}
    files = {"package/package.json": manifest}
    for resource in resources:
        files[f"package/{resource['resourceType']}-{resource['id']}.json"] = dict(resource)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, content in files.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for member in members:
            tar.addfile(member, io.BytesIO(b"\0" * member.size) if member.isfile() else None)
    return buffer.getvalue()


class PackageRegistry:
    """An npm-compatible registry on a free loopback port; a context manager."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self._documents: dict[str, dict[str, Any]] = {}
        self._tarballs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The registry's base URL, ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("the registry is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def publish(self, tgz: bytes, *, digests: Digests = "both", tampered: bool = False,
                fhir_layout: bool = False) -> None:
        """Serve a package ``.tgz`` (its package.json names it); the newest publish is latest.

        ``tampered`` serves other bytes than the document's digests describe.
        """
        with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
            stream = tar.extractfile("package/package.json")
            assert stream is not None
            manifest = json.loads(stream.read())
        name, version = manifest["name"], manifest["version"]
        path = f"/{name}/{version}" if fhir_layout else f"/{name}/-/{name}-{version}.tgz"
        dist: dict[str, str] = {} if fhir_layout else {"tarball": path}
        if digests in ("both", "shasum"):
            dist["shasum"] = hashlib.sha1(tgz).hexdigest()
        if digests in ("both", "integrity"):
            dist["integrity"] = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
        with self._lock:
            document = self._documents.setdefault(name, {"name": name, "versions": {}})
            document["versions"][version] = {**manifest, "dist": dist}
            document["dist-tags"] = {"latest": version}
            self._tarballs[path] = tgz + b"tampered" if tampered else tgz

    def __enter__(self) -> PackageRegistry:
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _answer(self, path: str) -> tuple[int, bytes, str]:
        with self._lock:
            self.hits[path] += 1
            tarball = self._tarballs.get(path)
            document = self._documents.get(path.strip("/"))
            if document is not None:
                # Tarball paths are absolute on this server, as the npm registry's are.
                document = json.loads(json.dumps(document))
                for entry in document["versions"].values():
                    if "tarball" in entry["dist"]:
                        entry["dist"]["tarball"] = self.url + entry["dist"]["tarball"]
        if tarball is not None:
            time.sleep(self.delay)
            return 200, tarball, "application/octet-stream"
        if document is not None:
            return 200, json.dumps(document).encode(), "application/json"
        return 404, b'{"error": "not found"}', "application/json"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, content_type = registry._answer(self.path.split("?", 1)[0])
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``hits`` instead."""

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a test killed it) is not an error of the registry."""
