"""The chain: an immutable path accumulator whose verbs call one ``request()``.

``client.v3.profitsharing.return_orders``, ``client.chain("v3/profitsharing/return-orders")``
and ``client["v3/profitsharing/return-orders"]`` build the same :class:`Node`; its verbs
(``get/post/put/patch/delete`` and ``*_async``) hand the node's segments to the client.
Naming rules live in :mod:`naming`; the catalogue only tells which spelling wins.

The root is strict: an attribute of the client starts a chain only where it names one
of the catalogue's roots (``v2``, ``v3``, ``hk``, ``global_``). Anything else raises
``AttributeError`` with the nearest name (``client.paysing`` -> did you mean 'paysign'?),
so a typo fails where it was written. ``chain(path)`` and ``[path]`` take any path.
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from .catalog.paths import pick_template, place_path, segments_key, templates_of
from .naming import VERBS, Segment, attribute_segment

if TYPE_CHECKING:
    from .catalog.specs import Catalog
    from .response import Response

__all__ = ["Node", "Root", "Verb"]


class Root(Protocol):
    """What the chain needs from its root (the ``Client``): the catalogue and the two calls."""

    @property
    def catalog(self) -> Catalog: ...

    def request(self, method: str, segments: tuple[Segment, ...], **kwargs: Any) -> Response: ...

    def request_async(self, method: str, segments: tuple[Segment, ...], **kwargs: Any) -> Awaitable[Response]: ...


class Verb:
    """``node.post`` / ``node.post_async``: calls the client with the node's path.

    Defining ``__get__`` makes ``help(node.post)`` treat this as a routine, and
    ``__doc__`` is read from the operation's spec when someone asks.
    """

    __slots__ = ("_asynchronous", "_method", "_node")

    def __init__(self, node: Node, method: str, asynchronous: bool) -> None:
        self._node = node
        self._method = method
        self._asynchronous = asynchronous

    def __get__(self, instance: object, owner: type | None = None) -> Verb:
        return self

    def __call__(self, **kwargs: Any) -> Any:
        node = self._node
        if self._asynchronous:
            return node._client.request_async(self._method, node._segments, **kwargs)
        return node._client.request(self._method, node._segments, **kwargs)

    @property
    def __name__(self) -> str:
        return self._method.lower() + ("_async" if self._asynchronous else "")

    @property
    def __doc__(self) -> str:  # type: ignore[override]
        node = self._node
        operation = node._client.catalog.operation(node.spec_key, self._method)
        awaitable = "\n\nAwaitable: returns a coroutine of the Response." if self._asynchronous else ""
        if operation is None:
            return f"{self._method} {node.path}\n\nNot in the catalogue: sent as given, without validation.{awaitable}"
        return operation.describe() + awaitable

    def __repr__(self) -> str:
        return f"<verb {self.__name__} {self._node.path}>"


class _VerbSlot:
    """Class attribute that makes a :class:`Verb` for each node it is read from."""

    def __init__(self, method: str, asynchronous: bool) -> None:
        self.method = method.upper()
        self.asynchronous = asynchronous

    def __get__(self, node: Node | None, owner: type) -> Any:
        if node is None:
            return self
        return Verb(node, self.method, self.asynchronous)


class Node:
    """One point of the URL tree. Attribute access is cached per node."""

    __slots__ = ("_children", "_client", "_segments")

    def __init__(self, client: Root, segments: tuple[Segment, ...] = ()) -> None:
        self._client = client
        self._segments = segments
        self._children: dict[str, Node] = {}

    # Verbs: typed as callables returning a Response or an awaitable of one.
    get: Callable[..., Response] = _VerbSlot("get", False)  # type: ignore[assignment]
    post: Callable[..., Response] = _VerbSlot("post", False)  # type: ignore[assignment]
    put: Callable[..., Response] = _VerbSlot("put", False)  # type: ignore[assignment]
    patch: Callable[..., Response] = _VerbSlot("patch", False)  # type: ignore[assignment]
    delete: Callable[..., Response] = _VerbSlot("delete", False)  # type: ignore[assignment]
    get_async: Callable[..., Awaitable[Response]] = _VerbSlot("get", True)  # type: ignore[assignment]
    post_async: Callable[..., Awaitable[Response]] = _VerbSlot("post", True)  # type: ignore[assignment]
    put_async: Callable[..., Awaitable[Response]] = _VerbSlot("put", True)  # type: ignore[assignment]
    patch_async: Callable[..., Awaitable[Response]] = _VerbSlot("patch", True)  # type: ignore[assignment]
    delete_async: Callable[..., Awaitable[Response]] = _VerbSlot("delete", True)  # type: ignore[assignment]

    @property
    def spec_key(self) -> str:
        """The key of the spec this node stands for: templates written ``{name}``."""
        return "/".join(segment.spec_text for segment in self._segments)

    @property
    def path(self) -> str:
        """The path as far as it is known: literal values, ``{name}`` for templates."""
        return "/".join(segment.text if segment.text is not None else segment.spec_text for segment in self._segments)

    def __getattr__(self, name: str) -> Node:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # keep copy/pickle/inspect protocols working
        if name in _slot_names(type(self)):
            # A slot not set yet (a Client whose __init__ raised): no path segment, and no
            # catalogue to ask, which would come back here without end.
            raise AttributeError(name)
        try:
            return self._children[name]
        except KeyError:
            pass
        segments = self._segments
        catalog = self._client.catalog
        known = catalog.children(self.spec_key)
        segment = attribute_segment(name, known)
        if not segments and segment.text not in known:
            raise AttributeError(_not_a_root(self, name, known), name=name, obj=self)
        if segment.text is not None and segment.text not in known:
            # A value placed where the catalogue has several templates: the one under
            # which this name is known (refunds["R1"].apply_abnormal_refund -> {refund_id}).
            for refit in self._refits():
                fitted = attribute_segment(name, catalog.children(segments_key(refit)))
                if fitted.text in catalog.children(segments_key(refit)):
                    segments, segment = refit, fitted
                    break
        child = Node(self._client, (*segments, segment))
        self._children[name] = child
        return child

    def _refits(self) -> list[tuple[Segment, ...]]:
        """This node's segments with its last value under each other template of its position."""
        if not self._segments or self._segments[-1].text is None or self._segments[-1].template is None:
            return []
        last = self._segments[-1]
        parent = self._segments[:-1]
        templates = templates_of(self._client.catalog.children(segments_key(parent)))
        return [(*parent, Segment(last.text, name)) for name in templates if name != last.template]

    def _extend(self, path: str) -> Node:
        """Append path-string segments, placing literals on catalogue templates (catalog/paths.py)."""
        return Node(self._client, place_path(self._client.catalog, self._segments, path))

    def __getitem__(self, path: str) -> Node:
        if not isinstance(path, str):
            raise TypeError(f"a path segment must be a str, not {type(path).__name__}")
        known = self._client.catalog.children(self.spec_key)
        templates = templates_of(known)
        if templates and path not in known:
            # A value where the catalogue has a template (one or several): the whole string
            # is the value, "/", "?" and "#" included (it is percent-encoded), so a value can
            # never change the path or the query.
            template = pick_template(self._client.catalog, self.spec_key, templates, None)
            return Node(self._client, (*self._segments, Segment(path, template)))
        return self._extend(path)

    def chain(self, path: str) -> Node:
        """Extend this node with a path written as in the URL (no case folding)."""
        return self._extend(path)

    def __dir__(self) -> list[str]:
        names = set(VERBS) | {f"{verb}_async" for verb in VERBS} | {"chain", "path", "spec_key"}
        for child in self._client.catalog.children(self.spec_key):
            names.add(python_name(child))
        return sorted(names)

    def __repr__(self) -> str:
        return f"<wechatpay chain {self.path or '/'}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other._client is self._client and other._segments == self._segments

    def __hash__(self) -> int:
        return hash(self._segments)


def _not_a_root(root: Node, name: str, roots: list[str]) -> str:
    """The message for an attribute of the root that is neither an attribute nor a root.

    The suggestion: a root the name is close to (``v4`` -> ``v3``), else a root under
    which the name is a segment (``pay`` -> ``v3.pay``), else a close attribute of the
    client (``paysing`` -> ``paysign``).
    """
    catalog = root._client.catalog
    root_names = sorted(python_name(segment) for segment in roots)
    public = [attribute for attribute in dir(type(root)) if not attribute.startswith("_")]
    close = difflib.get_close_matches(name, root_names, n=1, cutoff=0.5)  # 0.5: v4 -> v3
    if not close:
        for segment in roots:
            known = catalog.children(segment)
            if attribute_segment(name, known).text in known:
                close.append(f"{python_name(segment)}.{name}")
    close = close or difflib.get_close_matches(name, public, n=1)
    hint = f": did you mean {' or '.join(map(repr, close))}?" if close else "."
    starts = ", ".join(root_names) or "(the catalogue is empty)"
    return (
        f"{type(root).__name__!r} object has no attribute {name!r}{hint} A chain starts at a root of "
        f"the catalogue: {starts}; client.chain(path) takes any path"
    )


_SLOT_NAMES: dict[type, frozenset[str]] = {}


def _slot_names(cls: type) -> frozenset[str]:
    names = _SLOT_NAMES.get(cls)
    if names is None:
        found: set[str] = set()
        for klass in cls.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            found.update((slots,) if isinstance(slots, str) else slots)
        names = _SLOT_NAMES[cls] = frozenset(found)
    return names


def python_name(segment: str) -> str:
    """The attribute that reaches ``segment``: ``{id}`` -> ``_id_``, ``global`` -> ``global_``."""
    if segment.startswith("{") and segment.endswith("}"):
        return f"_{segment[1:-1]}_"
    name = segment.replace("-", "_").replace(".", "_")
    if keyword.iskeyword(name) or name in VERBS or name == "chain":
        return name + "_"
    return name
