"""The catalogue: where specs live, lazy loading, compiled validators.

Importing this module reads nothing. The first question about the tree
(attribute spelling, ``dir()``, search) reads ``index.tsv`` (one line per
operation, ~100 KB); the first call to a path reads that path's YAML file only
and compiles its validators once. A catalogue of 1,100 files is never read as a
whole at run time.

The folders searched, in order: those given to :class:`Catalog`, then
``wechatpay_chain/specs`` inside the installed package (the wheel ships them
there), then the repository's top-level ``specs/`` (a source checkout).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import FieldProblem

if TYPE_CHECKING:
    from .fastcheck import Check

__all__ = ["Catalog", "IndexEntry", "Operation", "default_folders"]

PARTS = ("path", "query", "headers", "json", "xml", "form", "meta")
# libyaml's C loader when present. PyYAML itself is imported with the package (~10 ms):
# paid there, inside the import budget, rather than by the first call of a path.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NO_SCHEMA: Any = object()  # a part the operation has no schema for: nothing to check


def default_folders() -> list[Path]:
    """The specs shipped in the wheel (``wechatpay_chain/specs``), or the repository's own."""
    package = Path(__file__).resolve().parent.parent
    return [folder for folder in (package / "specs", package.parent.parent / "specs") if folder.is_dir()]


@dataclass(frozen=True)
class IndexEntry:
    key: str
    method: str
    url: str
    summary: str


class Operation:
    """One method of one API path, as its spec describes it."""

    def __init__(self, key: str, method: str, url: str, protocol: str, spec: Mapping[str, Any]):
        self.key = key
        self.method = method.upper()
        self.url = url
        self.protocol = protocol
        self.spec = spec
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Operation {self.method} {self.key}>"

    @property
    def summary(self) -> str:
        return str(self.spec.get("summary", ""))

    def flag(self, name: str) -> bool:
        return bool(self.spec.get(name))

    def schema(self, part: str) -> Mapping[str, Any] | None:
        if part == "meta":  # the signed JSON part of an upload
            upload = self.spec.get("upload")
            value = upload.get("meta") if isinstance(upload, Mapping) else None
            return value if isinstance(value, Mapping) else None
        value = self.spec.get(part)
        return value if isinstance(value, Mapping) else None

    @cached_property
    def _validators(self) -> dict[str, Any]:
        # jsonschema is imported on the first validation, not at package import.
        from jsonschema import Draft202012Validator

        from .validation import FORMAT_CHECKER

        compiled: dict[str, Any] = {}
        for part in PARTS:
            schema = self.schema(part)
            if schema is not None:
                compiled[part] = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
        response = self.schema("response")
        if response is not None:
            compiled["response"] = Draft202012Validator(response, format_checker=FORMAT_CHECKER)
        return compiled

    @cached_property
    def _fast_checks(self) -> dict[str, Check | None]:
        from .fastcheck import compile_check

        return {part: compile_check(self.schema(part)) for part in (*PARTS, "response") if self.schema(part)}

    def validate(self, parts: Mapping[str, Any]) -> list[FieldProblem]:
        """Every problem in ``parts`` (``{"json": ..., "query": ..., ...}``).

        A compiled yes/no check runs first (fastcheck.py); jsonschema only runs, to list
        the problems, when that check fails or cannot judge the schema.
        """
        fast = self.__dict__.get("_fast_checks")
        if fast is None:
            with self._lock:  # compile once even when first called from many threads
                fast = self._fast_checks
        if all(
            (check := fast.get(part, _NO_SCHEMA)) is _NO_SCHEMA or (check is not None and check(instance))
            for part, instance in parts.items()
        ):
            return []
        from .validation import collect_errors

        with self._lock:
            validators = self._validators
        errors: list[FieldProblem] = []
        for part, instance in parts.items():
            validator = validators.get(part)
            if validator is None:
                continue
            errors.extend(collect_errors(validator, instance, "/" + part))
        return errors

    def validate_response(self, body: Any) -> list[FieldProblem]:
        return self.validate({"response": body})

    def describe(self) -> str:
        """A readable summary: method, path, summary, fields with required and enums."""
        from .describe import describe_operation

        return describe_operation(self)


@dataclass
class _Index:
    entries: dict[str, dict[str, IndexEntry]] = field(default_factory=dict)
    children: dict[str, dict[str, None]] = field(default_factory=dict)  # ordered sets


class Catalog:
    """The specs under a list of folders, loaded one path at a time.

    Thread-safe, and read-only once a path is loaded (only the caches grow): one catalogue
    serves any number of clients (``Client(catalog=...)``, ``Merchants``).
    """

    def __init__(self, folders: Sequence[str | Path] | None = None, *, builtin: bool = True) -> None:
        extra = [Path(folder) for folder in folders or ()]
        defaults = default_folders() if builtin else []
        self.folders: list[Path] = extra + [f for f in defaults if f not in extra]
        self._files: dict[str, dict[str, Operation] | None] = {}
        self._index: _Index | None = None
        self._lock = threading.Lock()

    # -- the index ---------------------------------------------------------------
    def _load_index(self) -> _Index:
        index = _Index()
        for folder in reversed(self.folders):  # earlier folders override later ones
            path = folder / "index.tsv"
            if not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8").splitlines()[1:]:
                columns = line.split("\t")
                if len(columns) < 4:
                    continue
                key, method, url, summary = columns[:4]
                index.entries.setdefault(key, {})[method.upper()] = IndexEntry(key, method.upper(), url, summary)
                parts = key.split("/")
                for depth in range(len(parts)):
                    index.children.setdefault("/".join(parts[:depth]), {})[parts[depth]] = None
        return index

    @property
    def index(self) -> _Index:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._load_index()
        return self._index

    def children(self, key: str) -> list[str]:
        """The segments the catalogue knows right under ``key`` (``""`` for the root)."""
        return list(self.index.children.get(key, ()))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.index.entries

    def __iter__(self) -> Iterator[IndexEntry]:
        for key in sorted(self.index.entries):
            yield from self.index.entries[key].values()

    def __len__(self) -> int:
        return sum(len(methods) for methods in self.index.entries.values())

    def under(self, prefix: str = "") -> list[IndexEntry]:
        prefix = prefix.strip("/")
        return [entry for entry in self if not prefix or entry.key == prefix or entry.key.startswith(prefix + "/")]

    def search(self, text: str) -> list[IndexEntry]:
        """Operations whose path or summary contains every word of ``text``."""
        words = [word.lower() for word in text.split()]
        return [
            entry for entry in self if all(word in entry.key.lower() or word in entry.summary.lower() for word in words)
        ]

    def suggest(self, key: str, limit: int = 3) -> list[str]:
        """Close matches for a key the catalogue does not have ("did you mean")."""
        import difflib

        return difflib.get_close_matches(key, list(self.index.entries), n=limit, cutoff=0.6)

    # -- one path ----------------------------------------------------------------
    def _read(self, key: str) -> dict[str, Operation] | None:
        for folder in self.folders:
            path = folder / f"{key}.yaml"
            if path.is_file():
                with path.open("rb") as stream:
                    document = yaml.load(stream, Loader=_LOADER)  # a safe loader
                url = str(document.get("url", "/" + key))
                protocol = str(document.get("protocol", "v3"))
                return {
                    method.upper(): Operation(key, method, url, protocol, spec or {})
                    for method, spec in (document.get("operations") or {}).items()
                }
        return None

    def operations(self, key: str) -> dict[str, Operation] | None:
        """Every method of ``key``, or ``None`` when the catalogue has no such path."""
        try:
            return self._files[key]
        except KeyError:
            pass
        if not _SAFE_KEY.match(key) or ".." in key.split("/"):
            return None
        # One reader at a time: a catalogue shared by many clients and threads (fleet.py)
        # reads each file once and hands every caller the same Operation (one compiled
        # validator). Reads of what is loaded take no lock: a dict lookup is atomic.
        with self._lock:
            if key not in self._files:
                self._files[key] = self._read(key)
            return self._files[key]

    def operation(self, key: str, method: str) -> Operation | None:
        methods = self.operations(key)
        return None if methods is None else methods.get(method.upper())


_SAFE_KEY = re.compile(r"^[A-Za-z0-9_{}\-./]+$")
