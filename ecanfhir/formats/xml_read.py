"""Reading FHIR XML (R4 §2.6.1) into the FHIR JSON form the validator walks (§2.6.2).

The mapping is the one the specification defines, driven by the core definitions
(``_xml_model``): the root element names the resource type; primitives carry their value in a
``value`` attribute, their ``id`` as an attribute and their extensions as child elements (the
JSON ``_name`` companion, padded with ``null`` in arrays); datatypes carry ``id`` (and
``Extension.url``) as attributes; repeating elements become arrays in document order; a choice
element's name carries its type (``valueQuantity``); a resource inside another sits in a
wrapper element (``<contained><Patient>…``); the narrative ``div`` is XHTML, kept as text.

What the JSON form cannot say, XML can get wrong: the namespace, element order, text between
elements, attributes that are not defined, elements with no content. These are reported as
the HL7 Java validator's XmlParser and InstanceValidator report them, each at the FHIRPath
location the JSON form of the same content would have (``Patient.name[0].given[1]``) and with
its line and column. Input that is not well-formed, or that uses a DTD or entities (refused:
"billion laughs", external entities), gives no resource and one fatal issue.

>>> resource, issues = parse_xml('<Patient xmlns="http://hl7.org/fhir"><active value="true"/>'
...                              '<name><given value="Ann"/><given value="May"/></name>'
...                              '</Patient>')
>>> resource
{'resourceType': 'Patient', 'active': True, 'name': [{'given': ['Ann', 'May']}]}
>>> issues
[]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import field, replace
from functools import cache
from typing import Any

from .._frozen import frozen
from ..validation._issue import Issue, IssueCode, Severity
from ._namespaces import FHIR_NS, XHTML_NS
from ._sniff import looks_like_xml
from ._xml_model import (
    XmlChild,
    XmlType,
    child_model,
    is_primitive,
    is_resource_type,
    json_kind,
    type_model,
)
from ._xml_tree import (
    Document,
    Node,
    Text,
    XmlRefused,
    parse_document,
    prefixes_declared_inside,
    serialize,
)
from .json_read import parse_json

__all__ = ["FHIR_NS", "XHTML_NS", "XmlRead", "looks_like_xml", "parse_xml", "read_resource",
           "read_xml"]

# FHIR's decimal and integer grammars are JSON's number grammar (R4 §2.24.0.1).
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ABSENT = object()
ParseFloat = Callable[[str], Any]


@frozen
class XmlRead:
    """A FHIR XML document read: the resource in JSON form (None when it could not be read),
    the issues found while reading, and where each element starts (FHIRPath → line, column)."""

    resource: dict[str, Any] | None
    issues: list[Issue]
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def locate(self, issue: Issue) -> Issue:
        """The issue with the line and column of the element at (or nearest above) its
        location; issues read from the XML say where already."""
        if issue in self.issues:
            return issue
        where = _nearest(self.positions, issue.expression)
        if where is None:
            return issue
        return replace(issue, message=f"{issue.message} (line {where[0]}, column {where[1]})")


def parse_xml(data: str | bytes | bytearray, *,
              parse_float: ParseFloat | None = None) -> tuple[Any, list[Issue]]:
    """FHIR XML → (the resource in FHIR JSON form, the issues found reading it).

    A document that is not well-formed, uses a DTD or entities, or whose root is not a FHIR
    resource gives ``(None, [one fatal issue])``. ``parse_float`` reads each number with a
    fraction or exponent, as :func:`json.loads`'s does (``decimal.Decimal`` keeps ``1.00``
    as written); the default is ``float``, as the validator reads JSON.
    """
    read = read_xml(data, parse_float=parse_float)
    return read.resource, read.issues


def read_resource(data: str | bytes | bytearray, *,
                  parse_float: ParseFloat | None = None) -> tuple[Any, list[Issue], str]:
    """Read a resource in either format, chosen by content: (resource, issues, "json"|"xml").
    ``parse_float`` reads the numbers of either format alike (see :func:`parse_xml`).

    >>> read_resource(b'{"resourceType": "Basic"}')
    ({'resourceType': 'Basic'}, [], 'json')
    """
    if looks_like_xml(data):
        resource, issues = parse_xml(data, parse_float=parse_float)
        return resource, issues, "xml"
    parsed, problem = parse_json(data)
    if problem is None and parse_float is not None:
        parsed = json.loads(data, parse_float=parse_float)  # the syntax is checked already
    return parsed, [] if problem is None else [problem], "json"


def read_xml(data: str | bytes | bytearray, *,
             parse_float: ParseFloat | None = None) -> XmlRead:
    """Like :func:`parse_xml`, also giving where each element starts."""
    try:
        # Read blank-free (_xml_tree): all that FHIR's mapping reads, without the blank text
        # between its elements, where texts stand or the narratives' nodes, until an issue
        # must say where a text stands or a narrative must be written out again.
        return _read(parse_document(data, blank_free=FHIR_NS), parse_float)
    except _ExactReadingNeeded:
        return _read(parse_document(data), parse_float)
    except XmlRefused as exc:
        code: IssueCode = "security" if exc.unsafe else "structure"
        return XmlRead(None, [Issue("fatal", code, "", _at(str(exc), exc.line, exc.column),
                                    "xml-unsafe" if exc.unsafe else "xml-syntax")])


def _read(document: Document, parse_float: ParseFloat | None) -> XmlRead:
    root = document.root
    if root.ns != FHIR_NS or not is_resource_type(root.name):
        why = (f"unknown name '{root.name}'" if root.ns == FHIR_NS else
               f"wrong namespace '{root.ns or ''}', expected '{FHIR_NS}'")
        return XmlRead(None, [Issue("fatal", "structure", "", _at(
            f"this does not appear to be a FHIR resource ({why})", root.line, root.column),
            "xml-not-fhir")])
    reader = _Reader(document, parse_float or float)
    _check_encoding(reader, document)
    if _empty(root):
        reader.report("error", "invalid", root.name, "element must have some content",
                      "xml-empty", root)
    for other in document.prolog:
        if other.kind == "pi":
            reader.report("error", "invalid", root.name, "processing instructions are not "
                          "allowed in resources", "xml-content", other)
    resource = reader.resource(root, root.name)
    return XmlRead(resource, reader.issues, reader.positions)


def _check_encoding(reader: _Reader, document: Document) -> None:
    """FHIR instances are UTF-8 (R4 http.html §3.1.0.1.x "Content Types and encodings":
    "UTF-8 encoding SHALL be used"); the HL7 validator checks the bytes and the declaration."""
    root = document.root
    if document.bytes_encoding is not None:
        reader.report("error", "invalid", root.name, f"the XML is encoded in "
                      f"{document.bytes_encoding}; FHIR XML must be UTF-8", "xml-encoding", root)
    stated = document.encoding
    if stated is not None and stated.lower().replace("_", "-") not in ("utf-8", "utf8"):
        reader.report("error", "invalid", root.name, f"the XML declaration states the encoding "
                      f"'{stated}'; FHIR XML must be UTF-8 (if stated, 'UTF-8')", "xml-encoding",
                      root)


def _at(message: str, line: int, column: int) -> str:
    return f"{message} (line {line}, column {column})" if line else message


def _nearest(positions: Mapping[str, tuple[int, int]], expression: str) -> tuple[int, int] | None:
    """The position of the longest recorded path that ``expression`` starts with."""
    path = expression
    while path:
        hit = positions.get(path)
        if hit is not None:
            return hit
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


class _ExactReadingNeeded(Exception):
    """In a document read blank-free, an issue is to say where a text stands, or a narrative
    is to be written out from its nodes (:func:`read_xml` reads the document again as
    written)."""


class _Reader:
    """One document's conversion: the issues and positions it collects on the way."""

    def __init__(self, document: Document, parse_float: ParseFloat) -> None:
        self.document = document
        self.parse_float = parse_float
        self.issues: list[Issue] = []
        self.positions: dict[str, tuple[int, int]] = {}

    def report(self, severity: Severity, code: IssueCode, path: str, message: str, rule: str,
               at: Node | Text) -> None:
        if self.document.blank_free is not None and isinstance(at, Text) \
                and at.kind in ("text", "cdata"):
            raise _ExactReadingNeeded
        self.issues.append(Issue(severity, code, path, _at(message, at.line, at.column), rule))

    # -- elements ------------------------------------------------------------------------
    def resource(self, node: Node, path: str) -> dict[str, Any] | None:
        """A resource element (the root, or the one element inside a wrapper)."""
        model = type_model(node.name)
        assert model is not None  # checked by the callers (is_resource_type)
        self.positions[path] = (node.line, node.column)
        obj: dict[str, Any] = {"resourceType": node.name}
        self.content(node, model, path, obj)
        return obj

    def content(self, node: Node, model: XmlType, path: str, obj: dict[str, Any]) -> None:
        """An element's attributes, text and child elements, into ``obj``."""
        self._attributes(node, model, path, obj)
        self._stray_text(node, path)
        groups = self._children(node, model, path)
        for name, items in groups.items():
            self._put(name, items, path, obj)

    def _attributes(self, node: Node, model: XmlType, path: str, obj: dict[str, Any]) -> None:
        for attr in node.attributes:
            hit = model.by_name.get(attr.name) if attr.ns is None else None
            if hit is not None and hit[0].attribute:
                obj[attr.name] = attr.value
                continue
            # xsi:schemaLocation too: the HL7 validator accepts it only when told to.
            self.report("error", "structure", path, f"undefined attribute '@{attr.qname}' on "
                        f"{node.name} for type {_type_name(model)}", "xml-attribute", node)

    def _stray_text(self, node: Node, path: str) -> None:
        if not node.mixed:
            return  # (elements only)
        for text in node.texts():
            if text.kind == "text" and text.value.strip():
                shown = " ".join(text.value.split())
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                self.report("error", "structure", path, f"text should not be present "
                            f"('{shown}')", "xml-text", _visible(text))
            elif text.kind == "cdata":
                self.report("error", "structure", path, "CDATA is not allowed", "xml-text", text)
            elif text.kind == "pi":
                self.report("error", "invalid", path, "processing instructions are not allowed "
                            "in resources", "xml-content", text)

    def _children(self, node: Node, model: XmlType,
                  path: str) -> dict[str, list[tuple[XmlChild, str, Node]]]:
        """Child elements by name, in document order; unknown, misplaced and foreign ones
        reported (element order: R4 §2.6.1, "elements SHALL appear in the order given")."""
        groups: dict[str, list[tuple[XmlChild, str, Node]]] = {}
        last = -1
        by_name, positions = model.by_name, model.positions
        for child in node.elements():
            hit = by_name.get(child.name)
            if hit is None or hit[0].attribute:
                hint = " (it is an XML attribute here)" if hit is not None else ""
                self.report("error", "structure", f"{path}.{child.name}", f"unrecognised "
                            f"element '{child.name}'{hint}", "unknown-element", child)
                continue
            xc, code = hit
            if child.ns != FHIR_NS and not xc.xhtml:
                self.report("error", "invalid", f"{path}.{child.name}", f"wrong namespace "
                            f"'{child.ns or ''}' on '{child.name}', expected '{FHIR_NS}'",
                            "xml-namespace", child)
            order = positions[xc.name]  # (model.order(xc))
            if order < last:
                self.report("error", "invalid", f"{path}.{child.name}", f"element "
                            f"'{child.name}' is out of order: FHIR XML lists the elements in "
                            "the order of their definitions", "xml-order", child)
            else:
                last = order
            group = groups.get(child.name)
            if group is None:
                groups[child.name] = [(xc, code, child)]
            else:
                group.append((xc, code, child))
        return groups

    def _put(self, name: str, items: list[tuple[XmlChild, str, Node]], path: str,
             obj: dict[str, Any]) -> None:
        """One child's occurrences as a JSON property (and its ``_name`` companion)."""
        xc = items[0][0]
        if not xc.repeats:
            if len(items) > 1:
                self.report("error", "structure", f"{path}.{xc.name}", f"'{name}' may appear "
                            f"at most once here, found {len(items)} times", "xml-repeated",
                            items[1][2])
            _, code, node = items[0]
            where = f"{path}.{xc.name}.ofType({code})" if xc.choice else f"{path}.{xc.name}"
            value, companion = self.value(xc, code, node, where)
            if value is not _ABSENT:
                obj[name] = value
            if companion is not None:
                obj["_" + name] = companion
            return
        values: list[Any] = []
        companions: list[dict[str, Any] | None] = []
        for xc, code, node in items:
            value, companion = self.value(xc, code, node, f"{path}.{xc.name}[{len(values)}]")
            if value is _ABSENT and companion is None:
                continue
            values.append(None if value is _ABSENT else value)
            companions.append(companion)
        if any(v is not None for v in values):
            obj[name] = values
        if any(c is not None for c in companions):
            # FHIR JSON §2.6.2: the companion array lines up with the values, null padded.
            obj["_" + name] = companions

    def value(self, xc: XmlChild, code: str, node: Node,
              path: str) -> tuple[Any, dict[str, Any] | None]:
        """One occurrence: its JSON value (or _ABSENT) and, for a primitive, its companion."""
        self.positions[path] = (node.line, node.column)
        if xc.xhtml:
            return self._xhtml(node, path), None
        attributes = node.attributes
        if not node.content and len(attributes) == 1 and _value_attribute(code):
            only = attributes[0]
            if only.name == "value" and only.ns is None:
                # A primitive with its value alone (most elements): what content() reads of it.
                return _primitive_value(code, only.value, self.parse_float), None
        if node.ns == FHIR_NS and _empty(node):
            self.report("error", "invalid", path, "element must have some content",
                        "xml-empty", node)
            return _ABSENT, None
        if xc.holds_resource:
            return self._wrapped(node, path, xc.types), None
        if xc.is_primitive(code):
            return self._primitive(code, node, path)
        model = child_model(xc, code)
        if model is None:
            return _ABSENT, None
        obj: dict[str, Any] = {}
        self.content(node, model, path, obj)
        return (obj if obj else _ABSENT), None

    def _primitive(self, code: str, node: Node, path: str) -> tuple[Any, dict[str, Any] | None]:
        model = type_model(code)
        assert model is not None  # every primitive type has a core definition
        parts: dict[str, Any] = {}
        self.content(node, model, path, parts)
        raw = parts.pop("value", None)
        companion = parts or None
        if raw is None:
            return _ABSENT, companion
        return _primitive_value(code, raw, self.parse_float), companion

    def _wrapped(self, node: Node, path: str, types: tuple[str, ...]) -> Any:
        """The resource inside a wrapper element (``<resource><Patient>…</Patient></resource>``)."""
        if node.attributes:
            self.report("error", "structure", path, f"undefined attribute "
                        f"'@{node.attributes[0].qname}' on {node.name}", "xml-attribute", node)
        self._stray_text(node, path)
        inner = node.elements()
        for extra in inner[1:]:
            self.report("error", "structure", path, f"'{node.name}' holds one resource; "
                        f"'{extra.name}' is one too many", "xml-resource", extra)
        if not inner:
            return _ABSENT
        found = inner[0]
        if found.ns != FHIR_NS or not is_resource_type(found.name):
            self.report("error", "structure", path, f"'{found.name}' does not appear to be a FHIR "
                        f"resource ({_why_not(found)})", "xml-resource", found)
            return _ABSENT
        if not any(t in (found.name, "Resource", "DomainResource") for t in types):
            self.report("error", "structure", path, f"'{node.name}' may hold "
                        f"{' or '.join(types)}, not {found.name}", "xml-resource", found)
        return self.resource(found, path)

    def _xhtml(self, node: Node, path: str) -> str:
        """The narrative as text: as written when it declares its own namespace (so JSON →
        XML → JSON gives back the same text), else serialised with its namespace declared.
        Its namespace and content are judged on the text, as for JSON (the XHTML checks)."""
        if any(p == "" for p, _ in node.prefixes) and ":" not in node.qname \
                and prefixes_declared_inside(node):
            written = self.document.source(node)
            if written is not None:
                # A carriage return survives XML only as a reference (the writer's &#xD;).
                return written.replace("&#xD;", "\r")
        if node.opaque:
            raise _ExactReadingNeeded  # its nodes were not kept
        return serialize(node)


@cache
def _value_attribute(code: str) -> bool:
    """Whether ``code`` is a primitive type whose value is its XML attribute ``value``."""
    model = type_model(code) if is_primitive(code) else None
    hit = model.by_name.get("value") if model is not None else None
    return hit is not None and hit[0].attribute


def _primitive_value(code: str, raw: str, parse_float: ParseFloat) -> Any:
    """The JSON value of a ``value`` attribute: a number, a boolean or a string, as
    ``json.loads`` gives it for the published JSON (text that is not a valid number or
    boolean stays text, so the type checks report it as for JSON)."""
    kind = json_kind(code)
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "number" and _JSON_NUMBER.fullmatch(raw):
        try:
            return json.loads(raw, parse_float=parse_float)
        except ValueError:  # more digits than Python converts
            return raw
    return raw


def _visible(text: Text) -> Text:
    """Where the text's first non-blank character stands (the report points at it)."""
    lead = text.value[:len(text.value) - len(text.value.lstrip())]
    lines = lead.count("\n")
    column = len(lead) - lead.rfind("\n") if lines else text.column + len(lead)
    return Text(text.value, text.line + lines, column, text.kind)


def _empty(node: Node) -> bool:
    """No attribute, no text and no child element (HL7 XmlParser: "must have some content")."""
    if not node.mixed:
        return not node.attributes and not node.content
    return not node.attributes and not any(
        isinstance(c, Node) or (c.kind in ("text", "cdata") and c.value.strip())
        for c in node.content)


def _why_not(node: Node) -> str:
    if node.ns != FHIR_NS:
        return f"wrong namespace '{node.ns or ''}'"
    return f"unknown name '{node.name}'"


def _type_name(model: XmlType) -> str:
    return model.path
