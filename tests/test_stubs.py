"""The typed surface (tools/gen_stubs.py) and the stubs it committed.

- the generator reproduces ``_typing/*.pyi`` and ``client.pyi`` byte for byte (like the specs);
- every attribute the stubs offer reaches its segment at run time (same naming rules);
- importing and using the package imports no generated module;
- a correct user program passes ``mypy --strict`` and pyright (strict); a wrong copy
  fails with exactly its three marked mistakes (misspelt segment, missing required
  field, value outside an enum); the stubs themselves pass ``mypy --strict``.

The type-checker tests take a few seconds each (mypy reads 3 MB of stubs cold); pyright
is skipped with the reason when it is not installed or cannot start (it needs node).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "wechatpay_chain"
SAMPLES = Path(__file__).resolve().parent / "typing_samples"
sys.path.insert(0, str(ROOT / "tools"))

import gen_stubs  # noqa: E402  (tools/ is not a package; the path is set just above)
from stubgen import generate  # noqa: E402
from stubgen.tree import ChainNode, Tree  # noqa: E402

from wechatpay_chain import Client  # noqa: E402
from wechatpay_chain.mock import MockPlatform  # noqa: E402

EXPECT = re.compile(r"#\s*expect:\s*([a-z-]+)\s+(report\w+)\s*$")


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, str], Tree]:
    client_source = (PACKAGE / "client.py").read_text(encoding="utf-8")
    return generate(ROOT / "specs", client_source, PACKAGE)


def expected_marks(path: Path) -> dict[int, tuple[str, str]]:
    """line -> (mypy code, pyright rule) from the sample's ``# expect:`` comments."""
    marks = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = EXPECT.search(line)
        if found:
            marks[number] = (found.group(1), found.group(2))
    return marks


# ---------------------------------------------------------------- generation


def test_committed_stubs_are_what_the_generator_writes(
    generated: tuple[dict[str, str], Tree], tmp_path: Path
) -> None:
    files, _ = generated
    gen_stubs.write(files, tmp_path)  # the writer itself, into tmp
    for relative, text in files.items():
        assert (tmp_path / relative).read_text(encoding="utf-8") == text
    wrong = [r for r in gen_stubs.differences(files, PACKAGE) if r != "client.pyi"]
    assert not wrong, f"out of date: {wrong}; the specs changed: run python tools/gen_stubs.py"


def test_client_stub_follows_client_py(generated: tuple[dict[str, str], Tree]) -> None:
    """client.pyi restates client.py's signatures: regenerate it whenever they change."""
    files, _ = generated
    committed = (PACKAGE / "client.pyi").read_text(encoding="utf-8")
    assert committed == files["client.pyi"], "client.py changed: run python tools/gen_stubs.py"


def test_generation_covers_every_operation_once(generated: tuple[dict[str, str], Tree]) -> None:
    files, tree = generated
    typed = sum(len(node.operations) for node in tree.root.walk())
    unreachable = {line.split(":")[0] for line in tree.unreachable}
    missed = [e for e in tree.catalog if not any(e.key == u or e.key.startswith(u + "/") for u in unreachable)]
    assert typed == len(missed), "an operation reachable as attributes has no typed verb"
    assert typed > 1100
    stubs = "".join(files.values())
    assert stubs.count("def post(") == stubs.count("async def post_async(")
    # one generated module per area, none of them huge
    assert max(len(text.encode()) for text in files.values()) < 1_500_000


def test_only_known_segments_are_unreachable_as_attributes(generated: tuple[dict[str, str], Tree]) -> None:
    """Two catalogue spellings that fold to one attribute: the first in key order wins at run time."""
    _, tree = generated
    assert tree.unreachable == [
        "v3/papay/insurance-sign/policy_periods: the attribute policy_periods reaches 'policy-periods'"
    ]


def walk_with_chain(node: ChainNode, value: Any) -> Iterator[tuple[ChainNode, Any]]:
    yield node, value
    for attribute, child in node.children.items():
        yield from walk_with_chain(child, getattr(value, attribute))


def test_every_typed_attribute_reaches_its_segment_at_run_time(generated: tuple[dict[str, str], Tree]) -> None:
    _, tree = generated
    client = Client(mchid="1900000109")  # no key material needed: nothing is sent
    wrong = [
        f"{node.key} reached {value.spec_key}"
        for node, value in walk_with_chain(tree.root, client)
        if node.key and value.spec_key != node.key
    ]
    assert not wrong, wrong[:10]


def test_importing_and_calling_loads_no_generated_module() -> None:
    """The stubs are ``.pyi`` only; nothing at run time may import ``_typing``."""
    program = (
        "import sys\n"
        "import wechatpay_chain\n"
        "from wechatpay_chain.mock import MockPlatform\n"
        "with MockPlatform() as mock, mock.client() as client:\n"
        "    client.v3.profitsharing.return_orders.post(json={'out_return_no': 'R1', 'return_mchid': '86693852',"
        " 'amount': 10, 'description': 'x'})\n"
        "print(sorted(name for name in sys.modules if '_typing' in name and 'wechatpay' in name))\n"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
    assert "wechatpay_chain._typing" not in result.stderr  # the -X importtime report
    assert not list((PACKAGE / "_typing").glob("*.py")), "generated typing must stay .pyi only"


def test_the_runtime_has_no_stub_only_names() -> None:
    """The stubs describe the runtime: the client the mock hands out is the one the stub types."""
    with MockPlatform() as mock, mock.client() as client:
        assert type(client) is Client
        node = client.v3.profitsharing.return_orders
        assert node.path == "v3/profitsharing/return-orders"
        assert node.spec_key == "v3/profitsharing/return-orders"


def test_the_good_sample_also_runs_against_the_mock() -> None:
    """What type-checks must work: the sample's functions, called on the mock platform."""
    spec = importlib.util.spec_from_file_location("typing_sample_good", SAMPLES / "good.py")
    assert spec is not None and spec.loader is not None
    sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample)
    with MockPlatform() as mock, mock.client() as client:
        assert sample.return_order(client) in ("PROCESSING", "SUCCESS", "FAILED")
        assert sample.query_order(client) is None or isinstance(sample.query_order(client), str)
        assert sample.micropay(client) is True
        assert [r.status_code for r in sample.loose_styles(client)] == [200, 200]

        async def asynchronous() -> tuple[str, str]:
            async with mock.client() as a:
                return await sample.jsapi_prepay(a), await sample.add_receiver(a)

        assert all(asyncio.run(asynchronous()))
    assert sample.with_mock() == "v3/profitsharing/return-orders"


# ---------------------------------------------------------------- type checkers


def run_mypy(*targets: str, cache: Path) -> dict[str, list[tuple[int, str]]]:
    """file name -> [(line, error code)] of a ``mypy --strict`` run."""
    pytest.importorskip("mypy", reason="mypy is a dev dependency: pip install -e '.[dev]'")
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "--no-error-summary", *targets]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in result.stdout.splitlines():
        found = re.match(r"(.+?):(\d+): error: .*\[([a-z-]+)\]$", line)
        if found:
            errors.setdefault(Path(found.group(1)).name, []).append((int(found.group(2)), found.group(3)))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return errors


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module's mypy runs: the stubs are read once (about 3 s), then reused."""
    return tmp_path_factory.mktemp("mypy-cache")


def test_mypy_strict_accepts_the_stubs(mypy_cache: Path) -> None:
    assert run_mypy("-p", "wechatpay_chain._typing", "-m", "wechatpay_chain.client", cache=mypy_cache) == {}


def test_mypy_strict_accepts_the_good_sample(mypy_cache: Path) -> None:
    assert run_mypy(str(SAMPLES / "good.py"), cache=mypy_cache) == {}


def test_mypy_strict_reports_exactly_the_mistakes_of_the_bad_sample(mypy_cache: Path) -> None:
    errors = run_mypy(str(SAMPLES / "bad.py"), cache=mypy_cache)
    expected = sorted((line, codes[0]) for line, codes in expected_marks(SAMPLES / "bad.py").items())
    assert len(expected) == 3
    assert sorted(errors.get("bad.py", [])) == expected


def run_pyright(*targets: Path) -> list[tuple[str, int, str]]:
    """[(file name, line, rule)] of the errors of a pyright run; skips when pyright cannot run."""
    executable = shutil.which("pyright") or str(Path(sys.executable).parent / "pyright")
    if not Path(executable).exists():
        pytest.skip("pyright is not installed (pip install pyright; it needs node)")
    command = [executable, "--outputjson", "--pythonpath", sys.executable, *map(str, targets)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
        report = json.loads(result.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        # pyright's wrapper downloads its node package on first use; offline that fails
        pytest.skip(f"pyright could not run here: {error}")
    return [
        (Path(d["file"]).name, d["range"]["start"]["line"] + 1, d.get("rule", ""))
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]


def test_pyright_accepts_the_good_sample_in_strict_mode() -> None:
    assert run_pyright(SAMPLES / "good.py") == []


def test_pyright_reports_exactly_the_mistakes_of_the_bad_sample() -> None:
    expected = sorted(("bad.py", line, codes[1]) for line, codes in expected_marks(SAMPLES / "bad.py").items())
    assert sorted(run_pyright(SAMPLES / "bad.py")) == expected
