"""Read the Swagger catalogue: its YAML documents, its `$ref`s and its list of API paths."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml makes reading ~1,200 files several times faster
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

Json = Any
"""A value parsed from YAML: dict, list, str, int, float, bool or None."""

INDEX_FILE = "swagger.yaml"
PATH_FOLDERS = ("v2", "v3", "hk", "global")
EMPTY_SEGMENT_FILE = "{empty}"
"""The source names the file of a trailing-slash URL `{empty}.yaml` (an RFC 6570 empty variable)."""

_YAML12_SCALARS = (
    # YAML 1.2 core schema: `YES`, `on`, `0123`, `12:30` and `2019-01-01` stay text, as the
    # wire has them. PyYAML's YAML 1.1 defaults turned enum [YES, NO] into [True, False].
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$",
        "-+.0123456789",
    ),
)
_REPLACED_TAGS = {tag for tag, _rx, _first in _YAML12_SCALARS} | {"tag:yaml.org,2002:timestamp"}


class _SourceLoader(_BaseLoader):
    """A safe loader with YAML 1.2 scalars: text that looks like a date or `YES` stays text."""


def _yaml12_resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    resolvers = {
        first: [(tag, rx) for tag, rx in entries if tag not in _REPLACED_TAGS]
        for first, entries in _BaseLoader.yaml_implicit_resolvers.items()
    }
    for tag, regexp, firsts in _YAML12_SCALARS:
        for first in firsts:
            resolvers.setdefault(first, []).append((tag, re.compile(regexp)))
    return resolvers


_SourceLoader.yaml_implicit_resolvers = _yaml12_resolvers()


@dataclass(frozen=True)
class Ref:
    """A resolved reference: a document (relative to the catalogue root) and a pointer in it."""

    document: str
    pointer: tuple[str, ...]

    @property
    def name(self) -> str:
        """A readable name for `$defs`: the last pointer token, else the file stem."""
        if self.pointer:
            return self.pointer[-1]
        return posixpath.splitext(posixpath.basename(self.document))[0]


@dataclass(frozen=True)
class SourcePath:
    """One API path of the catalogue and the file that describes it."""

    url: str
    """The URL path sent on the wire (v2 without a `v2/` prefix, trailing slash kept)."""
    document: str
    """The describing file, relative to the catalogue root."""
    listed: bool
    """False for a file on disk that `swagger.yaml` forgot to list."""

    @property
    def protocol(self) -> str:
        """`v2` (XML, MD5/HMAC) for files under `v2/`, `v3` (JSON, RSA) for the rest."""
        return "v2" if self.document.startswith("v2/") else "v3"

    @property
    def key(self) -> str:
        """The chain key: the URL without its slashes at both ends, v2 prefixed with `v2/`."""
        bare = self.url.strip("/")
        return f"v2/{bare}" if self.protocol == "v2" else bare


class Catalogue:
    """The catalogue folder: parses each document once and resolves `$ref`s."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._documents: dict[str, Json] = {}

    def document(self, relative: str) -> Json:
        """The parsed YAML of one file, cached."""
        if relative not in self._documents:
            text = (self.root / relative).read_text(encoding="utf-8")
            self._documents[relative] = yaml.load(text, Loader=_SourceLoader)  # a safe loader (YAML 1.2 scalars)
        return self._documents[relative]

    def parse_ref(self, ref: str, base_document: str) -> Ref:
        """Parse a `$ref` written in `base_document`.

        The source often writes `file.yaml#Name` where Swagger wants `file.yaml#/Name`;
        both spellings mean the top-level key `Name`.
        """
        file_part, _, fragment = ref.partition("#")
        if file_part:
            document = posixpath.normpath(posixpath.join(posixpath.dirname(base_document), file_part))
        else:
            document = base_document
        tokens = [token for token in fragment.split("/") if token] if fragment else []
        return Ref(document, tuple(_unescape_pointer_token(token) for token in tokens))

    def lookup(self, ref: Ref) -> Json:
        """The node a reference points at; raises KeyError with the reference when it is dangling."""
        node = self.document(ref.document)
        for token in ref.pointer:
            if isinstance(node, list):
                node = node[int(token)]
            elif isinstance(node, dict) and token in node:
                node = node[token]
            else:
                raise KeyError(f"dangling $ref {ref.document}#/{'/'.join(ref.pointer)}")
        return node

    def info_version(self) -> str:
        """`info.version` of the catalogue, quoted in every generated file."""
        return str(self.document(INDEX_FILE)["info"]["version"])

    def list_paths(self) -> tuple[list[SourcePath], list[str]]:
        """Every API path: the ones `swagger.yaml` lists, then files it forgot.

        Returns the paths sorted by URL and the documents that were found only on disk.
        """
        listed: dict[str, SourcePath] = {}
        for url, item in self.document(INDEX_FILE)["paths"].items():
            document = posixpath.normpath(item["$ref"])
            listed[document] = SourcePath(url=url, document=document, listed=True)
        unlisted = [doc for doc in self._path_documents_on_disk() if doc not in listed]
        paths = list(listed.values()) + [
            SourcePath(url=_url_of_document(doc), document=doc, listed=False) for doc in unlisted
        ]
        return sorted(paths, key=lambda path: (path.key, path.url)), unlisted

    def _path_documents_on_disk(self) -> list[str]:
        found: list[str] = []
        for folder in PATH_FOLDERS:
            base = self.root / folder
            if base.is_dir():
                found.extend(file.relative_to(self.root).as_posix() for file in base.rglob("*.yaml"))
        return sorted(found)


def _url_of_document(document: str) -> str:
    """The URL a path file stands for when `swagger.yaml` does not say it."""
    stem = document[: -len(".yaml")]
    stem = stem[len("v2") :] if stem.startswith("v2/") else "/" + stem
    if stem.endswith("/" + EMPTY_SEGMENT_FILE):
        stem = stem[: -len(EMPTY_SEGMENT_FILE)]
    return stem


def _unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
