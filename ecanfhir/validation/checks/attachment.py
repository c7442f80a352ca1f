"""Attachment consistency (R4 §2.24.0.8 Attachment): ``size`` and ``hash`` describe ``data``.

When the data is inline, its stated size is the number of bytes after base64 decoding and its
hash is the base64 of the SHA-1 of those bytes; a mismatch means the attachment is corrupt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from .._issue import Issue

__all__ = ["check_attachment"]


def check_attachment(value: Mapping[str, Any], at: str) -> Iterator[Issue]:
    data = value.get("data")
    if not isinstance(data, str):
        return
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return  # the base64Binary check reports it
    size = value.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size != len(raw):
        yield Issue.error("value", f"{at}.size", f"size is {size} but the data holds {len(raw)} "
                          "bytes", "attachment-size")
    digest = value.get("hash")
    if isinstance(digest, str):
        actual = base64.b64encode(hashlib.sha1(raw).digest()).decode()
        if "".join(digest.split()) != actual:
            yield Issue.error("value", f"{at}.hash", f"hash is {digest} but the SHA-1 of the data "
                              f"is {actual}", "attachment-hash")
