"""Telling FHIR XML from FHIR JSON by content, not by file name (a message body, stdin, a
file called ``message.txt``): a cheap look at the first characters, with nothing imported."""

from __future__ import annotations

__all__ = ["looks_like_xml"]

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def looks_like_xml(data: str | bytes | bytearray) -> bool:
    """Whether the content is XML rather than JSON: its first character (after a byte order
    mark and whitespace) is ``<``.

    >>> looks_like_xml(b'\\xef\\xbb\\xbf  <?xml version="1.0"?><Patient/>'), looks_like_xml('{}')
    (True, False)
    """
    if isinstance(data, str):
        return data.lstrip("\ufeff \t\r\n").startswith("<")
    head = bytes(data[:1024])
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
            break
    # UTF-16 text has a NUL beside every ASCII character.
    return head.replace(b"\x00", b"").lstrip(b" \t\r\n").startswith(b"<")
