"""Untrusted callback XML to plain Python values, on defusedxml.

DTDs, entity declarations and external references are refused outright: WeChat never sends them, and
they are how XXE and entity-expansion ("billion laughs") attacks arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from liucun.wechat.errors import ForbiddenXML, MalformedXML

XmlValue = str | dict[str, Any] | list[Any]

# WeChat's deepest message (a menu event with a list of pictures) nests four elements below <xml>.
# Reading deeper XML recursively would overflow Python's stack, so deep documents are refused first.
MAX_DEPTH = 12


def _element_value(element: Element) -> XmlValue:
    children = list(element)
    if not children:
        return element.text or ""
    tags = [child.tag for child in children]
    if len(children) > 1 and len(set(tags)) == 1:
        return [_element_value(child) for child in children]
    result: dict[str, Any] = {}
    for child in children:
        value = _element_value(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[child.tag] = value
    return result


def _root(data: bytes | str) -> Element:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ForbiddenXML(f"forbidden XML construct: {type(exc).__name__}") from None
    except (ParseError, ValueError, TypeError) as exc:
        raise MalformedXML(f"not well-formed XML: {exc}") from None
    if root.tag != "xml":
        raise MalformedXML(f"root element is <{root.tag}>, expected <xml>")
    _check_depth(root)
    return root


def _check_depth(root: Element) -> None:
    level: list[tuple[Element, int]] = [(root, 1)]
    while level:
        element, depth = level.pop()
        if depth > MAX_DEPTH:
            raise MalformedXML(f"elements nested deeper than {MAX_DEPTH} levels")
        level.extend((child, depth + 1) for child in element)


def parse_xml_fields(data: bytes | str) -> dict[str, Any]:
    root = _root(data)
    fields: dict[str, Any] = {}
    for child in root:
        fields[child.tag] = _element_value(child)
    return fields


@dataclass(frozen=True)
class Envelope:
    to_user_name: str | None
    encrypt: str


def parse_envelope(data: bytes | str) -> Envelope:
    fields = parse_xml_fields(data)
    encrypt = fields.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt.strip():
        raise MalformedXML("encrypted delivery has no <Encrypt>")
    to_user = fields.get("ToUserName")
    return Envelope(to_user_name=to_user if isinstance(to_user, str) else None, encrypt=encrypt.strip())
