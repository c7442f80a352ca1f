"""Reading XML safely into a small tree that remembers where each node starts.

FHIR XML (R4 §2.6.1) is plain namespaced XML 1.0 without DTDs; a document that declares one
is refused, as the HL7 Java validator does (it sets ``disallow-doctype-decl``). The parser is
defusedxml's SAX driver over expat: no DTD, no entity declarations (so no "billion laughs"
expansion), no external entities or network access. The tree keeps, for each element, its
namespace, attributes, content in document order (text, CDATA, comments, processing
instructions, child elements) and its line and column, for issues that say where.

Read with ``blank_free`` (a namespace: FHIR's), the tree leaves out what FHIR's mapping ignores
and gets there faster: text of only whitespace directly inside the elements of that namespace
(outside any element of another) is dropped, and expat hands text over in one piece, so a
text's line and column are not known (0, 0). An XHTML ``div`` directly inside such an element
(the narrative, which the mapping takes as written) is kept without its content
(``Node.opaque``), with whether the prefixes used inside it are declared inside it
(``Node.self_contained``). A reader that must say where some text stands, or must write a
narrative out again, reads the document again without ``blank_free``.

>>> root = parse_tree(b'<Patient xmlns="http://hl7.org/fhir"><id value="a"/></Patient>')
>>> root.name, root.ns, root.elements()[0].attribute("value"), root.elements()[0].column
('Patient', 'http://hl7.org/fhir', 'a', 38)
"""

from __future__ import annotations

import io
import xml.sax
from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Literal, cast
from xml.parsers.expat import XMLParserType
from xml.sax import handler as sax_handler
from xml.sax.xmlreader import Locator

from defusedxml.common import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import DefusedExpatParser

from .._frozen import frozen, record
from ._namespaces import XHTML_NS

__all__ = ["Attribute", "Content", "Document", "Node", "Text", "XmlRefused",
           "parse_document", "parse_tree", "prefixes_declared_inside", "serialize"]

TextKind = Literal["text", "cdata", "comment", "pi"]


@record
class Text:
    """Character data (or a comment or processing instruction) where it starts."""

    value: str
    line: int
    column: int
    kind: TextKind = "text"


@frozen
class Attribute:
    ns: str | None
    name: str  # local name
    qname: str  # as written (prefix:name)
    value: str


@record
class Node:
    """One element, with its content in document order."""

    ns: str | None
    name: str  # local name
    qname: str
    attributes: list[Attribute]
    line: int
    column: int
    prefixes: tuple[tuple[str, str], ...] = ()  # declared here: (prefix, uri)
    content: list[Node | Text] = field(default_factory=list)
    start: int = -1  # byte offset of the start tag in the parsed bytes
    stop: int = -1  # byte offset of the end tag (or just after an empty-element tag)
    mixed: bool = False  # some of the content is a Text (else it is elements only)
    # Read blank-free, a narrative's div with content keeps none of it (see the module
    # docstring); self_contained: whether every prefix used inside it is declared inside it.
    opaque: bool = False
    self_contained: bool = False

    def elements(self) -> list[Node]:
        """The child elements (the content itself when it holds nothing else: not a copy)."""
        if not self.mixed:
            return cast("list[Node]", self.content)
        return [c for c in self.content if isinstance(c, Node)]

    def texts(self) -> list[Text]:
        return [c for c in self.content if isinstance(c, Text)] if self.mixed else []

    def attribute(self, name: str) -> str | None:
        return next((a.value for a in self.attributes if a.ns is None and a.name == name), None)


Content = Node | Text


class XmlRefused(ValueError):
    """The input is not well-formed XML, or uses what FHIR XML may not (a DTD, entities)."""

    def __init__(self, message: str, line: int = 0, column: int = 0, *,
                 unsafe: bool = False) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.unsafe = unsafe  # refused for safety (DTD, entities), not for being malformed


def _names(expat_name: str) -> tuple[str | None, str, str]:
    """(namespace, local name, qualified name) of an expat ``uri local prefix`` name (a
    document repeats a few dozen names: each is read once)."""
    known = _NAMES.get(expat_name)
    if known is None:
        if len(_NAMES) >= _NAMES_LIMIT:
            _NAMES.clear()  # a bound on memory for documents of ever new names
        known = _NAMES[expat_name] = _read_names(expat_name)
    return known


_NAMES: dict[str, tuple[str | None, str, str]] = {}
_NAMES_LIMIT = 10_000
_XML_PREFIX = frozenset({"xml"})  # declared in every document (Namespaces in XML §3)


def _declared(qname: str, known: frozenset[str]) -> bool:
    """Whether a name's prefix, if it has one, is among ``known``."""
    return ":" not in qname or qname.partition(":")[0] in known


def _names_declared(qname: str, attributes: Iterable[str], known: frozenset[str]) -> bool:
    """Whether an element's name and its attributes' names use only prefixes in ``known``."""
    return _declared(qname, known) and all(_declared(a, known) for a in attributes)


def prefixes_declared_inside(node: Node, known: frozenset[str] = _XML_PREFIX) -> bool:
    """Whether every prefix used in the element (in its name, its attributes' names and below
    it) is declared in it, ``xml`` aside: whether it can be quoted as written, alone. A
    narrative read blank-free has no content to look at: the builder judged it as it read it
    (``Node.self_contained``)."""
    if node.opaque:
        return node.self_contained
    if node.prefixes:
        known = known | {p for p, _ in node.prefixes}
    return _names_declared(node.qname, (a.qname for a in node.attributes), known) and all(
        prefixes_declared_inside(c, known) for c in node.content if isinstance(c, Node))


def _read_names(expat_name: str) -> tuple[str | None, str, str]:
    parts = expat_name.split(" ")
    if len(parts) == 1:
        return None, parts[0], parts[0]
    if len(parts) == 3:
        return parts[0], parts[1], f"{parts[2]}:{parts[1]}"
    return parts[0], parts[1], parts[1]


class _SafeReader(DefusedExpatParser):
    """defusedxml's SAX driver (no DTD, entities or external references), handing elements to
    the tree builder with their prefixes (the SAX layer drops an element's prefix)."""

    def __init__(self, builder: _TreeBuilder) -> None:
        super().__init__(namespaceHandling=1, forbid_dtd=True, forbid_entities=True,
                         forbid_external=True)
        self.builder = builder
        self.setContentHandler(builder)
        self.setProperty(sax_handler.property_lexical_handler, builder)

    def reset(self) -> None:
        super().reset()
        expat: XMLParserType = vars(self)["_parser"]  # set by reset(); not in the type stubs
        builder = self.builder
        expat.XmlDeclHandler = builder.xml_decl
        # Elements and namespace declarations go to the builder straight from expat, not
        # through the SAX layer's methods (which would only pass them on).
        expat.StartElementHandler = builder.start
        expat.EndElementHandler = builder.end
        expat.StartNamespaceDeclHandler = builder.startPrefixMapping
        expat.buffer_text = builder.blank_free is not None
        builder.expat = expat


class _TreeBuilder(sax_handler.ContentHandler):
    """SAX events → :class:`Node` tree; comments and CDATA come through the lexical handler."""

    def __init__(self, blank_free: str | None = None) -> None:
        super().__init__()
        self.locator: Locator | None = None
        self.expat: XMLParserType | None = None  # the parser itself, for positions
        self.encoding: str | None = None  # as the XML declaration names it
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.prolog: list[Text] = []  # processing instructions and comments outside the root
        self.blank_free = blank_free  # see the module's docstring
        self._foreign = 0  # how many of the open elements are in or under another namespace
        # Inside an opaque div: the prefixes known at each open element, the div's first.
        self._opaque: list[frozenset[str]] | None = None
        self._pending: list[tuple[str, str]] = []
        self._cdata = False

    def _where(self) -> tuple[int, int]:
        if self.expat is not None:
            # expat counts columns from 0; people (and the HL7 validator) from 1.
            return self.expat.CurrentLineNumber, self.expat.CurrentColumnNumber + 1
        if self.locator is None:
            return 0, 0
        return self.locator.getLineNumber() or 0, (self.locator.getColumnNumber() or 0) + 1

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def startPrefixMapping(self, prefix: str | None, uri: str) -> None:
        self._pending.append((prefix or "", uri))

    def start(self, name: str, attrs: Mapping[str, str]) -> None:
        """An element starts; names come from expat as ``uri local prefix`` (or ``local``)."""
        expat = self.expat
        assert expat is not None  # (set by the reader before it parses)
        known = _NAMES.get(name)
        ns, local, qname = known if known is not None else _names(name)
        if self._opaque is not None:
            self._inside_opaque(qname, attrs)
            return
        # (expat counts columns from 0; people, and the HL7 validator, from 1)
        node = Node(ns, local, qname, [Attribute(*(_NAMES.get(key) or _names(key)), value)
                                       for key, value in attrs.items()] if attrs else [],
                    expat.CurrentLineNumber, expat.CurrentColumnNumber + 1,
                    tuple(self._pending) if self._pending else (), [], expat.CurrentByteIndex)
        if self._pending:
            self._pending.clear()
        if not self._foreign and ns == XHTML_NS and local == "div" \
                and self.blank_free is not None and self.stack:
            self._open_opaque(node)
        if self._foreign or ns != self.blank_free:
            self._foreign += 1
        stack = self.stack
        if stack:
            stack[-1].content.append(node)
        else:
            self.root = node
        stack.append(node)

    def _open_opaque(self, div: Node) -> None:
        """A narrative's div read blank-free: kept without its content (the module docstring;
        ``opaque`` once it has some), judged as :func:`prefixes_declared_inside` judges a div
        kept whole, element by element as they come."""
        known = _XML_PREFIX | {p for p, _ in div.prefixes}
        div.self_contained = _names_declared(div.qname, (a.qname for a in div.attributes), known)
        self._opaque = [known]

    def _inside_opaque(self, qname: str, attrs: Mapping[str, str]) -> None:
        """An element inside an opaque div: no node, only whether its prefixes are declared."""
        assert self._opaque is not None
        known = self._opaque[-1]
        if self._pending:
            known = known | {p for p, _ in self._pending}
            self._pending.clear()
        self._opaque.append(known)
        div = self.stack[-1]
        div.opaque = True
        if div.self_contained and not _names_declared(
                qname, [(_NAMES.get(key) or _names(key))[2] for key in attrs] if attrs else (),
                known):
            div.self_contained = False

    def end(self, name: str) -> None:
        if self._opaque is not None:
            self._opaque.pop()
            if self._opaque:
                return  # an element inside the div
            self._opaque = None  # the div itself ends
        node = self.stack.pop()
        if self.expat is not None:
            node.stop = self.expat.CurrentByteIndex
        if self._foreign:
            self._foreign -= 1

    def xml_decl(self, version: str, encoding: str | None, standalone: int) -> None:
        self.encoding = encoding

    def characters(self, content: str) -> None:
        if not self.stack:
            return
        if self._opaque is not None:
            self.stack[-1].opaque = True  # text inside a div read blank-free: not kept
            return
        if not self._foreign and self.blank_free is not None and not self._cdata \
                and content.isspace():
            return  # blank text between the elements of the namespace read blank-free
        kind: TextKind = "cdata" if self._cdata else "text"
        node = self.stack[-1]
        siblings = node.content
        last = siblings[-1] if siblings else None
        if isinstance(last, Text) and last.kind == kind:
            last.value += content  # expat delivers text in pieces
            return
        # Text read blank-free comes in one piece, when what follows it starts: where that
        # is, is not where the text is.
        line, column = (0, 0) if self.blank_free is not None else self._where()
        siblings.append(Text(content, line, column, kind))
        node.mixed = True

    def processingInstruction(self, target: str, data: str) -> None:
        self._other(Text(f"{target} {data}".strip(), *self._where(), kind="pi"))

    # -- lexical handler (xml.sax.handler.property_lexical_handler) ----------------------
    def comment(self, content: str) -> None:
        self._other(Text(content, *self._where(), kind="comment"))

    def startCDATA(self) -> None:
        self._cdata = True

    def endCDATA(self) -> None:
        self._cdata = False

    def startDTD(self, name: str, public_id: str, system_id: str) -> None:
        raise DTDForbidden(name, system_id, public_id)

    def endDTD(self) -> None:
        pass

    def _other(self, text: Text) -> None:
        if self._opaque is not None:
            self.stack[-1].opaque = True  # inside a div read blank-free: not kept
            return
        if self.stack:
            node = self.stack[-1]
            node.content.append(text)
            node.mixed = True
        else:
            self.prolog.append(text)


@frozen
class Document:
    """A parsed document: its root element, what stands outside it (comments, processing
    instructions), and its bytes when they are UTF-8 (to quote an element as written)."""

    root: Node
    prolog: list[Text]
    utf8: bytes | None
    encoding: str | None = None  # as the XML declaration states it
    bytes_encoding: str | None = None  # bytes read in another encoding than UTF-8 (its BOM's)
    blank_free: str | None = None  # the namespace read blank-free (see the module docstring)

    def source(self, node: Node) -> str | None:
        """The element's text exactly as written, when known (in a UTF-8 document, an element
        with an end tag); None otherwise (``<div/>`` serialises as written anyway)."""
        raw = self.utf8
        if raw is None or node.start < 0 or raw[node.stop:node.stop + 2] != b"</" \
                or (not node.content and not node.opaque
                    and raw[node.stop - 2:node.stop] == b"/>"):
            return None
        end = raw.find(b">", node.stop)
        return raw[node.start:end + 1].decode("utf-8") if end > 0 else None


def parse_tree(data: str | bytes | bytearray) -> Node:
    """Parse XML into a :class:`Node` tree.

    Raises:
        XmlRefused: not well-formed, or a DTD, entity declaration or external reference.
    """
    return parse_document(data).root


def parse_document(data: str | bytes | bytearray, *,
                   blank_free: str | None = None) -> Document:
    """The root element and what stands outside it (comments, processing instructions);
    ``blank_free``: see the module's docstring."""
    builder = _TreeBuilder(blank_free)
    parser = _SafeReader(builder)
    source = xml.sax.xmlreader.InputSource()
    try:
        if isinstance(data, str):
            # A str is text already: its encoding declaration no longer applies, so expat is
            # given UTF-8 bytes and told so.
            raw = data.encode("utf-8", "surrogatepass")
            source.setEncoding("utf-8")
        else:
            raw = bytes(data)
        source.setByteStream(io.BytesIO(raw))
        parser.parse(source)
    except (DTDForbidden, EntitiesForbidden) as exc:
        line, column = builder._where()
        raise XmlRefused(_refusal(exc), line, column, unsafe=True) from None
    except DefusedXmlException as exc:  # an external entity reference
        line, column = builder._where()
        raise XmlRefused(f"the XML refers to an external entity ({exc}); FHIR XML may not",
                         line, column, unsafe=True) from None
    except xml.sax.SAXParseException as exc:
        raise XmlRefused(f"the input is not well-formed XML: {exc.getMessage()}",
                         exc.getLineNumber() or 0, (exc.getColumnNumber() or 0) + 1) from None
    except RecursionError:
        raise XmlRefused("the XML is nested too deeply to read") from None
    except LookupError:     # expat asks Python's codecs for the declared encoding's name
        raise XmlRefused(f"the XML declaration names an unknown encoding "
                         f"'{str(builder.encoding)[:40]}'; FHIR XML is UTF-8", 1, 1) from None
    if builder.root is None:
        raise XmlRefused("the input holds no XML element")
    bom = None if isinstance(data, str) else next(
        (name for mark, name in _BOMS if raw.startswith(mark)), None)
    stated = (builder.encoding or "utf-8").lower().replace("_", "-")
    utf8 = isinstance(data, str) or (bom is None and stated in ("utf-8", "utf8"))
    return Document(builder.root, builder.prolog, raw if utf8 else None, builder.encoding, bom,
                    blank_free)


# Byte order marks of the encodings other than UTF-8 that expat reads.
_BOMS = ((b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def _refusal(exc: DefusedXmlException) -> str:
    if isinstance(exc, DTDForbidden):
        return ("the XML has a document type declaration (DTD): FHIR XML may not have one, and "
                "its entities are not expanded (a security risk)")
    return ("the XML declares entities: FHIR XML may not, and they are not expanded (a "
            "security risk such as 'billion laughs')")


# -- serialising a subtree (the narrative's XHTML) -----------------------------------------
def serialize(node: Node, *, declare: dict[str, str] | None = None) -> str:
    """The element as XML text, with its own namespace declared on it (as FHIR JSON carries
    the narrative div: ``<div xmlns="http://www.w3.org/1999/xhtml">…</div>``)."""
    out: list[str] = []
    _write(node, out, declared={} if declare is None else dict(declare))
    return "".join(out)


def _write(node: Node, out: list[str], *, declared: dict[str, str]) -> None:
    prefix = node.qname.partition(":")[0] if ":" in node.qname else ""
    scope = dict(declared)
    decls: list[tuple[str, str]] = []
    for p, uri in node.prefixes:
        if scope.get(p) != uri:
            decls.append((p, uri))
            scope[p] = uri
    if scope.get(prefix, "") != (node.ns or ""):
        decls.insert(0, (prefix, node.ns or ""))
        scope[prefix] = node.ns or ""
    for attr in node.attributes:
        # A prefixed attribute's namespace, declared outside what is written (``xml`` is
        # always declared: Namespaces in XML §3).
        own = attr.qname.partition(":")[0] if ":" in attr.qname else ""
        if own and own != "xml" and attr.ns is not None and scope.get(own) != attr.ns:
            decls.append((own, attr.ns))
            scope[own] = attr.ns
    out.append("<" + node.qname)
    for p, uri in decls:
        out.append(f' xmlns{":" + p if p else ""}="{_escape_attr(uri)}"')
    for attr in node.attributes:
        out.append(f' {attr.qname}="{_escape_attr(attr.value)}"')
    if not any(isinstance(c, Node) or c.kind in ("text", "cdata") for c in node.content):
        out.append("/>")
        return
    out.append(">")
    for child in node.content:
        if isinstance(child, Node):
            _write(child, out, declared=scope)
        elif child.kind in ("text", "cdata"):
            out.append(_escape_text(child.value))
        elif child.kind == "comment":
            out.append(f"<!--{child.value}-->")
    out.append(f"</{node.qname}>")


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return (_escape_text(text).replace('"', "&quot;").replace("\n", "&#10;")
            .replace("\r", "&#13;").replace("\t", "&#9;"))
