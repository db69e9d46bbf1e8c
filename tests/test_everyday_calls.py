"""The everyday calls of tests/everyday/corpus.py, as the platform accepts them.

For every call of the corpus:

(a) the payload passes the client's own validation (validation on), before anything is sent;
(b) it reaches the mock platform over a real socket, validation on in the client and in the
    mock, arrives as given and gets a successful, verified answer;
(c) its typed form in tests/everyday/typed_calls.py (generated from the corpus, checked to
    be in sync) passes ``mypy --strict`` and pyright (strict).

No entry is skipped or marked as expected to fail: a failure here is a defect of the specs,
the stubs or the mock that a merchant would meet.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _certs_helpers import certificate_pem, mint_certificate, private_pem, rsa_key
from everyday.corpus import CORPUS, Call
from everyday.generate import TARGET, render

from wechatpay_chain import Client
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.bills import Bill, sample_bill_lines
from wechatpay_chain.v2 import V2Response
from wechatpay_chain.v2.flow import prepare_v2_call

ROOT = Path(__file__).resolve().parents[1]
IDS = [call.name for call in CORPUS]


@pytest.fixture(scope="module")
def merchant_pem() -> tuple[str, str]:
    """The merchant API certificate and key that v2 secapi calls present."""
    key = rsa_key("everyday-merchant")
    return certificate_pem(mint_certificate(key, 0x2026)), private_pem(key)


@pytest.fixture
def merchant(mock: MockPlatform, merchant_pem: tuple[str, str]) -> Iterator[Client]:
    """The merchant's client: v3 keys, the v2 secret and the API certificate; validation on."""
    with mock.client(client_cert=merchant_pem[0], client_key=merchant_pem[1]) as client:
        assert client.validate
        yield client


# ---------------------------------------------------------------- (a) validation


@pytest.mark.parametrize("call", CORPUS, ids=IDS)
def test_a_payload_passes_validation(merchant: Client, call: Call) -> None:
    """What the verb does before sending: validate (and sign), with the client's own rules."""
    segments = merchant.chain(call.path)._segments
    kwargs = dict(call.kwargs)
    if call.v2:
        prepared = prepare_v2_call(merchant._engine.settings, call.method, segments, kwargs)
        assert prepared.body or prepared.method == "GET"
    else:
        prepared_v3 = merchant._engine.prepare_v3(call.method, segments, kwargs)
        assert prepared_v3.target.startswith("/")


# ---------------------------------------------------------------- (b) against the mock


def _pop_pointers(document: Any, pointers: list[str]) -> list[Any]:
    """Remove the values at the spec's ``encrypt`` pointers (``*`` = every item); return them."""
    found: list[Any] = []

    def walk(node: Any, steps: list[str]) -> None:
        if not steps:
            return
        step, rest = steps[0], steps[1:]
        if step == "*" and isinstance(node, list):
            items: list[Any] = node
            if rest:
                for item in items:
                    walk(item, rest)
            else:
                found.extend(items)
                items.clear()
        elif isinstance(node, dict) and step in node:
            if rest:
                walk(node[step], rest)
            else:
                found.append(node.pop(step))

    for pointer in pointers:
        walk(document, pointer.strip("/").split("/"))
    return found


def _arrived(call: Call, mock: MockPlatform) -> None:
    """The request the mock received carries the payload as given (sensitive fields encrypted)."""
    (sent,) = mock.calls
    if call.v2:
        fields = sent.json
        assert isinstance(fields, dict)
        for name, value in call.kwargs["xml"].items():
            assert fields.get(name) == str(value), f"xml field {name} arrived as {fields.get(name)!r}"
        return
    if "json" in call.kwargs and "files" not in call.kwargs:
        payload = call.kwargs["json"]
        operation = mock.catalog.operation(call.path, call.method)
        pointers = list(operation.spec.get("encrypt") or ()) if operation is not None else []
        if pointers:  # sensitive fields (user_name ...) go encrypted: they differ, the rest arrives as given
            received = json.loads(json.dumps(sent.json))
            payload = json.loads(json.dumps(payload))
            plain = _pop_pointers(payload, pointers)
            ciphers = _pop_pointers(received, pointers)
            assert len(ciphers) == len(plain), f"encrypted fields arrived as {ciphers!r}"
            assert all(isinstance(c, str) and c not in plain for c in ciphers), "a sensitive field went in clear"
            assert received == payload, f"the body arrived as {sent.json!r}"
        else:
            assert sent.json == payload, f"the body arrived as {sent.json!r}"
    if "query" in call.kwargs:
        assert {k: str(v) for k, v in call.kwargs["query"].items()}.items() <= dict(sent.query).items()


@pytest.mark.parametrize("call", CORPUS, ids=IDS)
def test_b_call_succeeds_against_the_mock(merchant: Client, mock: MockPlatform, call: Call) -> None:
    assert mock.validate and merchant.validate
    token = call.setup.get("bill_token")
    if token:  # the bill the trade-bill answer pointed at
        mock.bills[token] = Bill(lambda: sample_bill_lines(20))
    node = merchant.chain(call.path)
    answer = getattr(node, call.method.lower())(**call.kwargs)
    operation = mock.catalog.operation(call.path, call.method)
    assert operation is not None
    assert answer.status_code in (200, 204)
    if not operation.flag("unsigned"):
        assert answer.verified, "the answer was not verified"
    if call.v2 and not operation.flag("download"):
        assert isinstance(answer, V2Response) and answer.data is not None
        assert answer.data["return_code"] == "SUCCESS"
        assert answer.data.get("result_code", "SUCCESS") == "SUCCESS"
    if operation.flag("download"):
        assert answer.content, "the download answered no content"
    _arrived(call, mock)


# ---------------------------------------------------------------- (c) the typed chain


def test_c_typed_calls_are_generated_from_the_corpus() -> None:
    """typed_calls.py is what generate.py writes (as syntax: formatting does not matter)."""
    committed = ast.dump(ast.parse(TARGET.read_text(encoding="utf-8")))
    assert committed == ast.dump(ast.parse(render())), "out of date: run python tests/everyday/generate.py"


def _spans() -> dict[str, range]:
    tree = ast.parse(TARGET.read_text(encoding="utf-8"))
    return {
        node.name: range(node.lineno, (node.end_lineno or node.lineno) + 1)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def _owner(line: int, spans: dict[str, range]) -> str:
    return next((name for name, span in spans.items() if line in span), "<module>")


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """function name -> the ``mypy --strict`` errors inside it (one run for the module)."""
    pytest.importorskip("mypy", reason="mypy is a test dependency: pip install -e '.[test]'")
    cache = tmp_path_factory.mktemp("mypy-cache-everyday")
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "--no-error-summary", str(TARGET)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    spans = _spans()
    errors: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        found = re.match(r"(.+?):(\d+): error: (.*)$", line)
        if found and Path(found.group(1)).name == TARGET.name:
            errors.setdefault(_owner(int(found.group(2)), spans), []).append(f"{found.group(2)}: {found.group(3)}")
    return errors


@pytest.fixture(scope="module")
def pyright_errors() -> dict[str, list[str]]:
    """function name -> pyright's errors inside it; skips when pyright cannot run (it needs node)."""
    executable = shutil.which("pyright") or str(Path(sys.executable).parent / "pyright")
    if not Path(executable).exists():
        pytest.skip("pyright is not installed (pip install pyright; it needs node)")
    command = [executable, "--outputjson", "--pythonpath", sys.executable, str(TARGET)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
        report: dict[str, Any] = json.loads(result.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        pytest.skip(f"pyright could not run here: {error}")
    spans = _spans()
    errors: dict[str, list[str]] = {}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] != "error":
            continue
        line = diagnostic["range"]["start"]["line"] + 1
        message = " ".join(diagnostic["message"].split())
        errors.setdefault(_owner(line, spans), []).append(f"{line}: {message} ({diagnostic.get('rule', '')})")
    return errors


def test_c_typed_module_has_no_errors_outside_the_calls(
    mypy_errors: dict[str, list[str]], pyright_errors: dict[str, list[str]]
) -> None:
    assert mypy_errors.get("<module>", []) == []
    assert pyright_errors.get("<module>", []) == []


@pytest.mark.parametrize("call", CORPUS, ids=IDS)
def test_c_typed_call_passes_mypy_strict(mypy_errors: dict[str, list[str]], call: Call) -> None:
    assert mypy_errors.get(call.name, []) == []


@pytest.mark.parametrize("call", CORPUS, ids=IDS)
def test_c_typed_call_passes_pyright_strict(pyright_errors: dict[str, list[str]], call: Call) -> None:
    assert pyright_errors.get(call.name, []) == []
