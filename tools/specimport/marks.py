"""Runtime marks: JSON pointers to the places in a payload where the client has work to do."""

from __future__ import annotations

from dataclasses import dataclass, field


def pointer(tokens: tuple[str, ...]) -> str:
    """A JSON pointer (RFC 6901) for path tokens; `*` stands for every array item."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


@dataclass
class Marks:
    """Where the runtime has work to do in one converted schema, as JSON pointers."""

    sensitive: list[str] = field(default_factory=list)
    """Fields encrypted with RSA (`format: base64`, `x-is-sensitive: [names]`)."""
    aead: list[str] = field(default_factory=list)
    """Objects encrypted with the APIv3 key (`x-is-sensitive: ciphertext`)."""
    json_strings: list[str] = field(default_factory=list)
    """Strings that hold JSON (`format: jsonObjectLike/jsonArrayLike`, `x-json`)."""
    cdata: list[str] = field(default_factory=list)
    """v2 XML elements written as CDATA (`xml: {x-cdata: true}`)."""
    urlencoded: list[str] = field(default_factory=list)
    """Strings that hold `a=1&b=2` pairs (`x-urlencode`)."""
    keys: dict[str, str] = field(default_factory=dict)
    """`x-key` of a JSON-in-a-string value: the source's name for what the JSON holds."""

    def add(self, kind: list[str], tokens: tuple[str, ...]) -> None:
        """Note a pointer once, in the order first met."""
        value = pointer(tokens)
        if value not in kind:
            kind.append(value)
