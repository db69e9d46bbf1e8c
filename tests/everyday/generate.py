"""Write ``typed_calls.py``: every corpus call through the typed attribute chain.

    python tests/everyday/generate.py      # from the repository root; formats with ruff when present

tests/test_everyday_calls.py checks that the committed file is what :func:`render` gives
(compared as syntax trees, so formatting does not matter) and type-checks it with
``mypy --strict`` and pyright (strict).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = HERE / "typed_calls.py"

if __package__ in (None, ""):  # run as a script: make ``everyday`` importable
    sys.path.insert(0, str(HERE.parent))

from everyday.corpus import CORPUS, STOREFRONT_PNG, STOREFRONT_PNG_BASE64, Call  # noqa: E402

HEADER = f'''"""Every everyday call through the typed attribute chain (generated: do not edit).

Written by tests/everyday/generate.py from tests/everyday/corpus.py; type-checked by
tests/test_everyday_calls.py with ``mypy --strict`` and pyright (strict).
"""

# pyright: strict

from __future__ import annotations

import base64

from wechatpay_chain import Client

STOREFRONT_PNG = base64.b64decode("{STOREFRONT_PNG_BASE64}")
'''


def attribute_chain(path: str) -> str:
    from wechatpay_chain.chain import python_name

    return ".".join(python_name(segment) for segment in path.split("/"))


def literal(value: Any) -> str:
    """Python source for a corpus value (the upload's bytes by the name of its constant)."""
    if isinstance(value, bytes):
        if value == STOREFRONT_PNG:
            return "STOREFRONT_PNG"
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str | int | float | bool) or value is None:
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def function(call: Call) -> str:
    arguments = ", ".join(f"{name}={literal(value)}" for name, value in call.kwargs.items())
    verb = call.method.lower()
    return (
        f"\n\ndef {call.name}(client: Client) -> int:\n"
        f'    """{call.method} {call.path}: {call.doc}"""\n'
        f"    answer = client.{attribute_chain(call.path)}.{verb}({arguments})\n"
        f"    return answer.status_code\n"
    )


def render(corpus: list[Call] = CORPUS) -> str:
    return HEADER + "".join(function(call) for call in corpus)


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if Path(ruff).exists():
        subprocess.run([ruff, "format", "--quiet", str(TARGET)], check=True)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
