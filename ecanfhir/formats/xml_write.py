"""FHIR JSON → FHIR XML (R4 §2.6.1 XML representation), driven by the core definitions.

The JSON form is the one ecanfhir reads everywhere (``parse_json``, the builders); the XML is
what HL7's serialisers write:

========================================  ==================================================
JSON                                      XML
========================================  ==================================================
``"resourceType": "Patient"``             the root element ``<Patient xmlns="http://hl7.org/fhir">``
properties, in any order                  child elements in *definition order* (``_xml_model``)
``"gender": "male"``                      ``<gender value="male"/>``: primitives are ``value``
                                          attributes; decimals exactly as written
``"_gender": {"id": …, "extension": …}``  the same element's ``id`` attribute and
                                          ``<extension>`` children; in arrays, ``null``
                                          aligns a value with no companion and vice versa
``id`` of a datatype, ``Extension.url``   XML attributes (``representation: xmlAttr``);
                                          a resource's ``id`` stays ``<id value="…"/>``
``"valueQuantity": {…}``                  ``<valueQuantity>``: the choice is in the name
``"div": "<div xmlns=…>…</div>"``         the XHTML element itself, re-emitted as written
``contained``, ``entry.resource``         ``<contained><Patient>…</Patient></contained>``
========================================  ==================================================

Nested resources inherit the FHIR namespace from the root, as the HL7 Java serialiser writes
them (the XML infoset is the same as with a repeated ``xmlns``).

JSON that has no XML form is refused with :class:`XmlWriteError` (a ``ValueError``) naming the
FHIRPath location: an unknown property (dropping it would lose data silently), a ``_x``
companion on an attribute (``_url``), a value XML 1.0 cannot carry (control characters), a
narrative that is not well-formed XHTML or declares a DTD.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterator, Mapping
from decimal import Decimal
from functools import partial
from typing import Any

from .._exceptions import EcanfhirError
from ._namespaces import FHIR_NS, XHTML_NS
from ._xml_model import XmlChild, XmlType, child_model, is_primitive, is_resource_type, type_model

__all__ = ["FHIR_NS", "XHTML_NS", "XmlWriteError", "to_xml"]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

# XML 1.0 §2.2 Char: what a document may contain at all (even escaped).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Tabs and line ends are escaped too, so that attribute-value normalisation (XML 1.0 §3.3.3)
# gives a reader back exactly the JSON string.
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                    "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_TAG = re.compile(r"(<[^>]*>)")  # markup split into text (even) and tags (odd)
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


class XmlWriteError(EcanfhirError, ValueError):
    """The JSON has no FHIR XML form; ``expression`` is the FHIRPath location.

    >>> to_xml({"resourceType": "Patient", "colour": "blue"})
    Traceback (most recent call last):
    ecanfhir.formats.xml_write.XmlWriteError: Patient.colour: unknown property 'colour' ...
    """

    def __init__(self, expression: str, message: str) -> None:
        self.expression = expression
        super().__init__(f"{expression}: {message}" if expression else message)


def to_xml(resource: Mapping[str, Any], *, pretty: bool = True) -> str:
    """Serialise a FHIR R4 resource from its JSON form to FHIR XML.

    Args:
        resource: the resource as parsed JSON (dicts, lists, str, int, float or Decimal, bool).
        pretty: indent two spaces per level (the narrative's XHTML is kept as written);
            ``False`` writes no whitespace between elements.

    Returns:
        The XML document, with its declaration.

    Raises:
        XmlWriteError: the JSON has no XML form (unknown property, unknown resource type, bad
            narrative XHTML, a character XML cannot carry); the message names where.

    >>> print(to_xml({"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01",
    ...               "_birthDate": {"id": "b"}, "name": [{"given": ["Ann"]}]}))
    <?xml version="1.0" encoding="UTF-8"?>
    <Patient xmlns="http://hl7.org/fhir">
      <id value="p1"/>
      <name>
        <given value="Ann"/>
      </name>
      <birthDate id="b" value="1970-01-01"/>
    </Patient>
    <BLANKLINE>
    """
    writer = _Writer(pretty)
    writer.line(XML_DECLARATION)
    _write_resource(writer, resource, "", root=True)
    return writer.text()


class _Writer:
    """Start and end tags, indented or not; an element with no content closes itself."""

    __slots__ = ("_depth", "_parts", "_pretty")

    def __init__(self, pretty: bool) -> None:
        self._parts: list[str] = []
        self._pretty = pretty
        self._depth = 0

    def line(self, text: str) -> None:
        if self._pretty:
            self._parts.append(f"{'  ' * self._depth}{text}\n")
        else:
            self._parts.append(text)

    def element(self, name: str, attributes: list[tuple[str, str]],
                content: Callable[[], None]) -> None:
        attrs = "".join(f' {key}="{value.translate(_ATTRIBUTE_ESCAPES)}"'
                        for key, value in attributes)
        start = len(self._parts)
        self.line(f"<{name}{attrs}>")
        self._depth += 1
        content()
        self._depth -= 1
        if len(self._parts) == start + 1:
            self._parts[start] = self._parts[start].replace(f"<{name}{attrs}>", f"<{name}{attrs}/>")
        else:
            self.line(f"</{name}>")

    def text(self) -> str:
        return "".join(self._parts)


def _write_resource(writer: _Writer, resource: Any, path: str, *, root: bool = False) -> None:
    if not isinstance(resource, Mapping):
        raise XmlWriteError(path, f"expected a resource (a JSON object), found {_kind(resource)}")
    rt = resource.get("resourceType")
    model = type_model(rt) if isinstance(rt, str) and is_resource_type(rt) else None
    if model is None or not isinstance(rt, str):
        where = f"{path}.resourceType" if path else "resourceType"
        raise XmlWriteError(where, f"{rt!r} is not an R4 resource type" if rt is not None
                            else "a resource needs a resourceType")
    _write_object(writer, rt, resource, model, path or rt,
                  attributes=[("xmlns", FHIR_NS)] if root else [], skip=("resourceType",))


def _write_object(writer: _Writer, name: str, obj: Mapping[str, Any], model: XmlType, path: str,
                  *, attributes: list[tuple[str, str]], skip: Collection[str] = ()) -> None:
    """One element: its attribute children, then its element children in definition order."""
    present = sorted(_properties(obj, model, path, skip), key=lambda p: p[0])
    attrs = list(attributes)
    for _, child, xml_name, _code in present:
        if child.attribute:
            attrs.append((xml_name, _text(obj[xml_name], f"{path}.{xml_name}")))
    if "value" in skip and "value" in obj:  # a primitive: the JSON value, beside id
        attrs.append(("value", obj["value"]))

    def content() -> None:
        for _, child, xml_name, code in present:
            if not child.attribute:
                _write_child(writer, child, xml_name, code, obj, f"{path}.{xml_name}")

    writer.element(name, attrs, content)


def _properties(obj: Mapping[str, Any], model: XmlType, path: str, skip: Collection[str]
                ) -> Iterator[tuple[int, XmlChild, str, str]]:
    """(definition order, child, XML name, type code) per element present; unknown ones raise.

    A primitive's value and its ``_name`` companion are one XML element (R4 §2.6.2.4).
    """
    seen: set[str] = set()
    for key in obj:
        if key in skip:
            continue
        name = key[1:] if key.startswith("_") else key
        hit = model.by_name.get(name)
        if hit is not None and key != name:
            child, code = hit
            if child.attribute or child.xhtml or not is_primitive(code or child.types[0]):
                hit = None
        if hit is None:
            raise XmlWriteError(f"{path}.{key}", f"unknown property '{key}' (no element of that "
                                f"name in {model.path or 'this element'})")
        if name not in seen:
            seen.add(name)
            child, code = hit
            # (the child's place in definition order: model.order(child), without comparing
            # records as children.index(child) would)
            yield model.positions[child.name], child, name, code or child.types[0]


def _write_child(writer: _Writer, child: XmlChild, name: str, code: str,
                 obj: Mapping[str, Any], path: str) -> None:
    if child.xhtml:
        writer.line(_xhtml(obj[name], path))
    elif is_primitive(code):
        _write_primitives(writer, name, code, obj.get(name), obj.get(f"_{name}"), path)
    elif child.holds_resource or is_resource_type(code):
        # Bundle.entry.response.outcome is typed OperationOutcome: a resource all the same.
        for at, item in _items(obj[name], path):
            writer.element(name, [], partial(_write_resource, writer, item, at))
    else:
        model = child_model(child, code)
        for at, item in _items(obj[name], path):
            if not isinstance(item, Mapping):
                raise XmlWriteError(at, f"expected an object ({code}), found {_kind(item)}")
            if model is None:
                raise XmlWriteError(at, f"no R4 definition of the type {code!r}")
            _write_object(writer, name, item, model, at, attributes=[])


def _write_primitives(writer: _Writer, name: str, code: str, values: Any, companions: Any,
                      path: str) -> None:
    """``name`` and ``_name``: in arrays, position i of each is one element (nulls align them)."""
    if isinstance(values, list) or isinstance(companions, list):
        vs, cs = _as_list(values), _as_list(companions)
        pairs = [(f"{path}[{i}]", vs[i] if i < len(vs) else None,
                  cs[i] if i < len(cs) else None) for i in range(max(len(vs), len(cs)))]
    else:
        pairs = [(path, values, companions)]
    model = type_model(code) or type_model("string")
    assert model is not None
    for at, value, companion in pairs:
        if companion is None:
            if value is not None:  # (what _write_object comes to for a value alone)
                text = _text(value, at).translate(_ATTRIBUTE_ESCAPES)
                writer.line(f'<{name} value="{text}"/>')
            continue
        if companion is not None and not isinstance(companion, Mapping):
            raise XmlWriteError(at, f"the '_{name}' companion must be an object, found "
                                f"{_kind(companion)}")
        content = dict(companion or {})
        if "value" in content:
            raise XmlWriteError(f"{at}.value", f"unknown property 'value' in '_{name}'")
        if value is not None:
            content["value"] = _text(value, at)
        _write_object(writer, name, content, model, at, attributes=[], skip=("value",))


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _items(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    return [(path, value)]


def _text(value: Any, path: str) -> str:
    """A primitive's ``value`` attribute: the JSON value as written (R4 §2.6.1.1)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise XmlWriteError(path, f"{value} is not a FHIR decimal")
        text = repr(value)
        # Python's shortest repr uses an exponent below 1e-4 and from 1e16; FHIR allows
        # exponents. A small number is most likely written positionally (0.00001); a large
        # one keeps its exponent (-1e245, not 246 digits read back as an integer).
        if "e-" in text:
            return format(Decimal(text), "f")
        return text.replace("e+", "e")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise XmlWriteError(path, f"{value} is not a FHIR decimal")
        return str(value)
    if isinstance(value, str):
        bad = _NOT_XML_CHAR.search(value)
        if bad:
            raise XmlWriteError(path, f"the character U+{ord(bad.group()):04X} cannot be "
                                "written in XML (XML 1.0 §2.2)")
        return value
    raise XmlWriteError(path, f"expected a primitive value, found {_kind(value)}")


def _xhtml(div: Any, path: str) -> str:
    """The narrative ``div`` as an element of the XHTML namespace, otherwise as written."""
    if not isinstance(div, str):
        raise XmlWriteError(path, f"the narrative must be an XHTML string, found {_kind(div)}")
    text = _DECLARATION.sub("", _text(div, path)).strip()
    if _DTD.search(text):
        raise XmlWriteError(path, "the narrative declares a DTD or entities, which FHIR does not "
                            "allow (R4 §2.4.0.1)")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise XmlWriteError(path, f"the narrative is not well-formed XHTML ({exc})") from exc
    if root.tag == "div":
        # JSON that left out the namespace declaration: XML must carry it, or the div would
        # land in the FHIR namespace.
        return re.sub(r"^<div(?=[\s/>])", f'<div xmlns="{XHTML_NS}"', text, count=1)
    if root.tag != f"{{{XHTML_NS}}}div":
        raise XmlWriteError(path, f"the narrative must be an XHTML <div>, not {root.tag!r}")
    return _carriage_returns(text)


def _carriage_returns(markup: str) -> str:
    """``\r`` in text and attribute values as ``&#xD;``: XML readers turn a written ``\r``
    into ``\n`` (XML 1.0 §2.11, end-of-line handling), a reference survives."""
    if "\r" not in markup:
        return markup
    parts = _TAG.split(markup)
    for i, part in enumerate(parts):
        if i % 2 == 0:
            parts[i] = part.replace("\r", "&#xD;")
        else:
            parts[i] = _QUOTED.sub(lambda m: m.group().replace("\r", "&#xD;"), part)
    return "".join(parts)


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r:.40}"
