"""The node of WhatsApp's binary XML: a tag, string attributes and optional content.

Content is ``None``, ``bytes`` or a list of child nodes. Attribute values are ``str`` or
:class:`JID`; a value that was a JID on the wire decodes to a ``JID``, and compares equal to its
canonical string, so ``node.attrs["from"] == "123@s.whatsapp.net"`` holds either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeAlias

from .jid import JID

AttrValue: TypeAlias = str | JID
Content: TypeAlias = "bytes | list[Node] | None"

#: Binary content longer than this is shortened in renderings for logs.
RENDER_BINARY_LIMIT = 64


class Node:
    """One element of a stanza."""

    __slots__ = ("attrs", "content", "tag")

    tag: str
    attrs: dict[str, AttrValue]
    content: Content

    def __init__(
        self, tag: str, attrs: Mapping[str, AttrValue] | None = None, content: Content = None
    ) -> None:
        self.tag = tag
        # A dict is kept as given (callers build one per node); other mappings are copied.
        self.attrs = {} if attrs is None else attrs if isinstance(attrs, dict) else dict(attrs)
        self.content = content

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self.tag == other.tag and self.attrs == other.attrs and self.content == other.content

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Node({self.tag!r}, {self.attrs!r}, {self.content!r})"

    def __str__(self) -> str:
        return self.render()

    # -- navigation -------------------------------------------------------------------------

    @property
    def children(self) -> list[Node]:
        """The child nodes (empty when the content is bytes or absent)."""
        return self.content if isinstance(self.content, list) else []

    def child(self, tag: str) -> Node | None:
        """The first child with ``tag``, or ``None``."""
        for node in self.children:
            if node.tag == tag:
                return node
        return None

    def children_by_tag(self, tag: str) -> Iterator[Node]:
        return (node for node in self.children if node.tag == tag)

    def get_path(self, *tags: str) -> Node | None:
        """Walk down through the first child of each tag: ``iq.get_path("usync", "list")``."""
        node: Node | None = self
        for tag in tags:
            if node is None:
                return None
            node = node.child(tag)
        return node

    def attr_str(self, key: str, default: str = "") -> str:
        value = self.attrs.get(key)
        return default if value is None else str(value)

    def attr_jid(self, key: str) -> JID | None:
        """An attribute as a JID, parsing it if it came as a plain string."""
        value = self.attrs.get(key)
        if value is None or isinstance(value, JID):
            return value
        return JID.parse(value)

    def attr_int(self, key: str, default: int = 0) -> int:
        value = self.attrs.get(key)
        if value is None:
            return default
        return int(str(value))

    # -- rendering for logs -----------------------------------------------------------------

    def render(self, indent: str = "  ") -> str:
        """An XML-like text for debug logs; long binary content is shortened."""
        lines: list[str] = []
        self._render_into(lines, "", indent)
        return "\n".join(lines)

    def _render_into(self, lines: list[str], prefix: str, indent: str) -> None:
        attrs = "".join(f' {key}="{_escape(str(value))}"' for key, value in self.attrs.items())
        if self.content is None:
            lines.append(f"{prefix}<{self.tag}{attrs}/>")
        elif isinstance(self.content, bytes):
            lines.append(f"{prefix}<{self.tag}{attrs}>{_render_bytes(self.content)}</{self.tag}>")
        elif not self.content:
            lines.append(f"{prefix}<{self.tag}{attrs}></{self.tag}>")
        else:
            lines.append(f"{prefix}<{self.tag}{attrs}>")
            for child in self.content:
                child._render_into(lines, prefix + indent, indent)
            lines.append(f"{prefix}</{self.tag}>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _render_bytes(data: bytes) -> str:
    if len(data) <= RENDER_BINARY_LIMIT:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            pass
        else:
            if text.isprintable():
                return _escape(text)
        return f"<!-- {len(data)} bytes: {data.hex()} -->"
    return f"<!-- {len(data)} bytes: {data[:16].hex()}… -->"
