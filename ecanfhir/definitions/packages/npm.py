"""The npm registry protocol that FHIR package servers speak: find a version, fetch its tarball.

FHIR packages (FHIR R4 §3.3.0 and the HL7 "NPM Package Specification") are published on
npm-compatible registries. ``GET {registry}/{id}`` answers one JSON document per package::

    {"name": "hl7.fhir.uv.ips", "dist-tags": {"latest": "2.0.0"},
     "versions": {"2.0.0": {"dist": {"tarball": "https://...", "shasum": "<sha1 hex>",
                                     "integrity": "sha512-<base64>"}}}}

The FHIR community's servers, tried in the HL7 validator's order (``PackageServer``:
packages.fhir.org, then packages2.fhir.org/packages), answer the same document; a version there
without ``dist.tarball`` is served at ``{registry}/{id}/{version}``.

How a wanted version (as package.json ``dependencies`` write it) is resolved:

=====================================  =================================================
wanted                                 resolves to
=====================================  =================================================
``2.0.0``                              exactly ``2.0.0``
``2.0.x``, ``2.x``                     the newest release matching the stem (a
                                       pre-release only when no release matches)
``latest``, ``current``, ``dev``,      ``dist-tags.latest``, else the newest release
``*``, nothing
=====================================  =================================================

A tarball is accepted only when it matches every digest the document gives: the strongest
``dist.integrity`` (Subresource Integrity, ``sha512-...``) and the ``dist.shasum`` (SHA-1).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Literal
from urllib.parse import urljoin

from ..._frozen import frozen

if TYPE_CHECKING:
    import httpx  # imported where used: `ecanfhir validate` does not need an HTTP client

from ..._exceptions import PackageError

__all__ = [
    "DEFAULT_REGISTRIES",
    "REGISTRY_ENV",
    "RegistryFailure",
    "Release",
    "configured_registries",
    "download",
    "find_release",
    "resolve_version",
    "version_order",
]

DEFAULT_REGISTRIES = ("https://packages.fhir.org", "https://packages2.fhir.org/packages")
REGISTRY_ENV = "FHIR_PACKAGE_REGISTRY"
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_TARBALL_BYTES = 512 * 1024 * 1024
_LATEST = frozenset({"", "latest", "current", "dev", "*"})
_WILDCARD = re.compile(r"(\d+(?:\.\d+)*)\.[xX*]")
# Subresource Integrity algorithms, weakest first (W3C SRI §3.2: use the strongest given).
_SRI_ALGORITHMS = ("sha1", "sha256", "sha384", "sha512")

FailureKind = Literal["unreachable", "not-found", "integrity", "invalid"]


class RegistryFailure(PackageError):
    """A registry could not give the package: unreachable, no such version, bad download.

    ``available`` lists the versions the registries do have, when the package exists there.
    """

    def __init__(self, message: str, *, kind: FailureKind,
                 available: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.available = tuple(available)


@frozen
class Release:
    """One version of a package on one registry, and how to check its tarball."""

    package_id: str
    version: str
    registry: str
    tarball: str
    integrity: str | None  # "sha512-<base64>" (possibly several, space separated)
    shasum: str | None  # SHA-1, hex

    @property
    def label(self) -> str:
        """``id#version``, the cache folder's name."""
        return f"{self.package_id}#{self.version}"


def configured_registries(registry: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The registries to ask, in order: ``registry``, else ``$FHIR_PACKAGE_REGISTRY`` (comma
    or space separated), else the FHIR community's primary and secondary package servers.

    >>> configured_registries("https://registry.npmjs.org/")
    ('https://registry.npmjs.org',)
    """
    if isinstance(registry, str):
        registry = [registry]
    chosen = list(registry or ()) or re.split(r"[\s,]+", os.environ.get(REGISTRY_ENV, "").strip())
    urls = tuple(url.rstrip("/") for url in chosen if url)
    return urls or DEFAULT_REGISTRIES


def version_order(version: str) -> tuple[Any, ...]:
    """A sort key: numeric parts compared as numbers, a release above its pre-releases.

    >>> sorted(["1.10.0", "1.2.0", "1.2.0-ballot", "1.2.0-ballot2"], key=version_order)
    ['1.2.0-ballot', '1.2.0-ballot2', '1.2.0', '1.10.0']
    """
    core, _, pre = version.split("+", 1)[0].partition("-")
    numbers = tuple(int(p) if p.isdigit() else -1 for p in core.split("."))
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".") if p)
    return numbers, not pre, pre_key


def resolve_version(document: Mapping[str, Any], wanted: str) -> str | None:
    """The version of a registry document that ``wanted`` names (see the module's table).

    >>> doc = {"dist-tags": {"latest": "1.1.0"},
    ...        "versions": {"1.0.0": {}, "1.0.2": {}, "1.1.0": {}, "1.2.0-ballot": {}}}
    >>> resolve_version(doc, "1.0.x"), resolve_version(doc, "current"), resolve_version(doc, "9")
    ('1.0.2', '1.1.0', None)
    """
    versions = document.get("versions")
    if not isinstance(versions, Mapping):
        return None
    if wanted in versions:
        return wanted
    if wanted.lower() in _LATEST:
        tags = document.get("dist-tags")
        latest = tags.get("latest") if isinstance(tags, Mapping) else None
        if isinstance(latest, str) and latest in versions:
            return latest
        candidates = list(versions)
    elif match := _WILDCARD.fullmatch(wanted):
        stem = match.group(1)
        candidates = [v for v in versions if v == stem or v.startswith(stem + ".")]
    else:
        return None
    releases = [v for v in candidates if "-" not in v] or candidates
    return max(releases, key=version_order) if releases else None


def find_release(client: httpx.Client, registries: Sequence[str], package_id: str, wanted: str,
                 *, dead: dict[str, str] | None = None) -> Release:
    """Ask each registry in turn for ``package_id`` at ``wanted``; the first that has it wins.

    Args:
        dead: Registries already found unreachable (url -> why), skipped; those found
            unreachable now are added, so that one run waits for a dead registry only once.

    Raises:
        RegistryFailure: ``unreachable`` when no registry answered, ``not-found`` (with the
            versions they have) when none has that version, ``invalid`` for a broken document.
    """
    dead = {} if dead is None else dead
    available: dict[str, None] = {}
    looked: list[str] = []
    for registry in registries:
        if registry in dead:
            continue
        try:
            document = _fetch_document(client, registry, package_id)
        except _Unreachable as exc:
            dead[registry] = str(exc)
            continue
        looked.append(registry)
        if document is None:
            continue
        version = resolve_version(document, wanted)
        if version is None:
            versions = document.get("versions")
            available.update(dict.fromkeys(versions if isinstance(versions, Mapping) else ()))
            continue
        return _release(document, registry, package_id, version)
    down = "; ".join(f"{url}: {why}" for url, why in dead.items() if url in registries)
    if not looked:
        raise RegistryFailure(f"no package registry could be reached ({down})", kind="unreachable")
    where = ", ".join(looked) + (f" (unreachable: {down})" if down else "")
    if not available:
        raise RegistryFailure(f"no package {package_id} on {where}", kind="not-found")
    have = sorted(available, key=version_order)
    raise RegistryFailure(f"no such version on {where}; versions there: {', '.join(have)}",
                          kind="not-found", available=have)


def download(client: httpx.Client, release: Release, out: BinaryIO) -> int:
    """Stream the release's tarball into ``out`` and check it against the document's digests.

    Returns:
        The number of bytes written.

    Raises:
        RegistryFailure: ``unreachable`` (no answer, HTTP error, too large) or ``integrity``
            (a digest does not match: the caller must discard what was written).
    """
    import httpx

    expected = _expected_digests(release)
    hashers = {algorithm: hashlib.new(algorithm) for algorithm, _ in expected}
    size = 0
    try:
        with client.stream("GET", release.tarball) as response:
            if response.status_code != 200:
                raise RegistryFailure(f"{release.tarball}: HTTP {response.status_code}",
                                      kind="unreachable")
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_TARBALL_BYTES:
                    raise RegistryFailure(f"{release.tarball}: larger than {MAX_TARBALL_BYTES} "
                                          "bytes, refused", kind="invalid")
                for hasher in hashers.values():
                    hasher.update(chunk)
                out.write(chunk)
    except httpx.HTTPError as exc:
        raise RegistryFailure(f"{release.tarball}: {_why(exc)}", kind="unreachable") from exc
    for algorithm, digests in expected:
        if hashers[algorithm].digest() not in digests:
            raise RegistryFailure(
                f"{release.label} from {release.tarball} does not match its {algorithm} digest "
                "in the registry document; the download was discarded", kind="integrity")
    return size


# -- the registry document -----------------------------------------------------------------


class _Unreachable(Exception):
    """No usable answer from a registry (connection, timeout, server error)."""


def _fetch_document(client: httpx.Client, registry: str, package_id: str) -> dict[str, Any] | None:
    """The package's registry document, or None when the registry does not have the package."""
    import httpx

    url = f"{registry}/{package_id}"
    try:
        with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code in (404, 410):
                return None
            if response.status_code != 200:
                raise _Unreachable(f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise RegistryFailure(f"{url}: document larger than {MAX_DOCUMENT_BYTES} "
                                          "bytes, refused", kind="invalid")
    except httpx.HTTPError as exc:
        raise _Unreachable(_why(exc)) from exc
    try:
        document = json.loads(bytes(body))
    except ValueError as exc:
        raise RegistryFailure(f"{url}: not a package document (invalid JSON)",
                              kind="invalid") from exc
    if not isinstance(document, dict) or not isinstance(document.get("versions"), dict):
        raise RegistryFailure(f"{url}: not a package document (no 'versions' object)",
                              kind="invalid")
    return document


def _release(document: Mapping[str, Any], registry: str, package_id: str,
             version: str) -> Release:
    entry = document["versions"].get(version)
    dist = entry.get("dist") if isinstance(entry, Mapping) else None
    dist = dist if isinstance(dist, Mapping) else {}
    tarball = dist.get("tarball")
    # FHIR package servers serve every version at {registry}/{id}/{version}.
    url = urljoin(registry + "/", tarball) if isinstance(tarball, str) and tarball else (
        f"{registry}/{package_id}/{version}")
    integrity, shasum = dist.get("integrity"), dist.get("shasum")
    return Release(package_id, version, registry, url,
                   integrity if isinstance(integrity, str) and integrity else None,
                   shasum if isinstance(shasum, str) and shasum else None)


def _expected_digests(release: Release) -> list[tuple[str, set[bytes]]]:
    """(algorithm, accepted digests) checks: the strongest SRI algorithm given, the shasum."""
    expected: list[tuple[str, set[bytes]]] = []
    by_algorithm: dict[str, set[bytes]] = {}
    for token in (release.integrity or "").split():
        algorithm, _, value = token.partition("-")
        if algorithm in _SRI_ALGORITHMS:
            try:
                digest = base64.b64decode(value.split("?", 1)[0], validate=True)
            except ValueError:
                continue
            by_algorithm.setdefault(algorithm, set()).add(digest)
    if by_algorithm:
        strongest = max(by_algorithm, key=_SRI_ALGORITHMS.index)
        expected.append((strongest, by_algorithm[strongest]))
    if release.shasum:
        try:
            expected.append(("sha1", {bytes.fromhex(release.shasum)}))
        except ValueError:
            raise RegistryFailure(f"{release.label}: the registry's shasum "
                                  f"{release.shasum!r} is not hexadecimal",
                                  kind="invalid") from None
    return expected


def _why(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
