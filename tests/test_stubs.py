"""The typed surface (tools/gen_stubs.py) and the stubs it committed.

- the generator reproduces ``_typing/*.pyi`` byte for byte (like the specs);
- every attribute the stubs offer reaches its segment at run time (same naming rules);
- importing and using the package imports no generated module;
- a correct user program passes ``mypy --strict`` and pyright (strict); a wrong copy
  fails with exactly its four marked mistakes (misspelt segment, missing required
  field, value outside an enum, a keyword the verb does not take); the stubs themselves
  pass ``mypy --strict``;
- ``Client`` is typed from client.py itself (its typed base ``ChainRoot`` exists for type
  checkers only): its own methods keep their signatures, a misspelt root is an error;
- one-of groups and conditions (specs/README.md) keep one ``TypedDict`` with the governed
  keys ``NotRequired``, checked on a synthetic catalogue of two specs.

The type-checker tests take a few seconds each (mypy reads 3 MB of stubs cold). Both
checkers are test dependencies; pyright is skipped only when it is not installed, and
fails (with its output) when it is installed but cannot run (it needs node).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
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
from stubgen.aliases import Alias, fold_duplicates  # noqa: E402
from stubgen.schema_types import TypeWriter  # noqa: E402
from stubgen.tree import ChainNode, Tree  # noqa: E402

from wechatpay_chain import Client  # noqa: E402
from wechatpay_chain.mock import MockPlatform  # noqa: E402
from wechatpay_chain.trust.crypto import oaep_encrypt  # noqa: E402

EXPECT = re.compile(r"#\s*expect:\s*([a-z-]+)\s+(report\w+)\s*$")


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, str], Tree]:
    return generate(ROOT / "specs")


def expected_marks(path: Path) -> dict[int, tuple[str, str]]:
    """line -> (mypy code, pyright rule) from the sample's ``# expect:`` comments."""
    marks = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = EXPECT.search(line)
        if found:
            marks[number] = (found.group(1), found.group(2))
    return marks


# ---------------------------------------------------------------- generation


def test_committed_stubs_are_what_the_generator_writes(generated: tuple[dict[str, str], Tree], tmp_path: Path) -> None:
    files, _ = generated
    gen_stubs.write(files, tmp_path)  # the writer itself, into tmp
    for relative, text in files.items():
        assert (tmp_path / relative).read_text(encoding="utf-8") == text
    wrong = gen_stubs.differences(files, PACKAGE)
    assert not wrong, f"out of date: {wrong}; the specs changed: run python tools/gen_stubs.py"


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
        "with MockPlatform(sandbox=False) as mock, mock.client() as client:\n"
        "    client.v3.profitsharing.return_orders.post(json={'out_order_no': 'P1', 'out_return_no': 'R1',"
        " 'return_mchid': '86693852', 'amount': 10, 'description': 'x'})\n"
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
    with MockPlatform(sandbox=False) as mock, mock.client() as client:
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
    with MockPlatform(sandbox=False) as mock, mock.client() as client:
        assert sample.return_order(client) in ("PROCESSING", "SUCCESS", "FAILED")
        assert sample.query_order(client) is None or isinstance(sample.query_order(client), str)
        assert sample.micropay(client) is True
        assert [r.status_code for r in sample.loose_styles(client)] == [200, 200]
        assert sample.every_option(client) == [200, 200]
        assert sample.upload_image(client)
        assert sample.v2_options(client) == "SUCCESS"
        # sample.v2_upload needs the merchant certificate (cert_required): type-checked only

        public = mock.merchant_key.public_key()
        sealed = {"guide_id": "g1", "name": oaep_encrypt(public, "张三"), "mobile": oaep_encrypt(public, "13800000000")}
        mock.on(
            "GET", "v3/smartguide/guides", lambda call: {"data": [sealed], "total_count": 1, "limit": 1, "offset": 0}
        )

        async def asynchronous() -> tuple[str, str, str | None]:
            async with mock.client() as a:
                return await sample.jsapi_prepay(a), await sample.add_receiver(a), await sample.decrypted_guides(a)

        *answers, mobile = asyncio.run(asynchronous())
        assert all(answers) and mobile == "13800000000"
    assert sample.with_mock() == "v3/profitsharing/return-orders"


def test_what_the_stubs_refuse_the_runtime_refuses() -> None:
    """The bad sample's keyword mistake is one at run time too: v2 verbs take no ``decrypt=``, v3 no ``xml=``."""
    with MockPlatform(sandbox=False) as mock, mock.client() as client:
        with pytest.raises(TypeError, match="decrypt"):
            client.v2.pay.closeorder.post(xml={"appid": "a", "out_trade_no": "T"}, decrypt=True)
        with pytest.raises(TypeError, match="xml="):
            client.v3.profitsharing.return_orders.post(xml={"a": "b"})


# ---------------------------------------------------------------- one class per shape


def test_identical_typed_dicts_become_aliases_parents_included() -> None:
    """Two payloads that differ only where no type can see (a description): one class each level."""

    def payload(note: str, title: str = "总金额") -> dict[str, Any]:
        total = {"title": title, "type": "integer", "description": note}
        amount = {"type": "object", "required": ["total"], "properties": {"total": total}}
        return {"type": "object", "properties": {"amount": amount, "kind": {"type": "string", "enum": ["BJsonAmount"]}}}

    writer = TypeWriter(set())
    writer.expression(payload("in fen"), ("AJson",), "``json=`` of POST a")
    writer.expression(payload("in cents"), ("BJson",), "``json=`` of POST b")
    writer.expression(payload("in fen", "退款金额"), ("CJson",), "``json=`` of POST c")
    names = ["AJsonAmount", "AJson", "BJsonAmount", "BJson", "CJsonAmount", "CJson"]
    assert [d.name for d in writer.definitions] == names
    folded = {d.name: d for d in fold_duplicates(writer.definitions)}
    assert isinstance(folded["BJsonAmount"], Alias) and folded["BJsonAmount"].target == "AJsonAmount"
    alias = folded["BJson"]
    assert isinstance(alias, Alias) and alias.target == "AJson"  # its field type was folded first
    assert alias.render() == 'BJson = AJson\n"""``json=`` of POST b"""'
    assert not isinstance(folded["CJsonAmount"], Alias), "another field doc: another class"
    assert not isinstance(folded["CJson"], Alias)
    assert 'Literal["BJsonAmount"]' in folded["CJson"].render()  # a literal value is never renamed


def test_the_stubs_hold_one_class_per_shape_and_every_name(generated: tuple[dict[str, str], Tree]) -> None:
    files, _ = generated
    stubs = "".join(files.values())
    classes = len(re.findall(r"^(?:class \w+\(TypedDict\)|\w+ = TypedDict\()", stubs, re.M))
    aliases = len(re.findall(r"^\w+ = (?:[A-Z]\w+|\(\n    [A-Z]\w+\n\))$", stubs, re.M))
    assert aliases > 400 and classes + aliases > 3000
    assert "V3ProfitsharingReturnOrdersPostJson" in files["_typing/v3_profitsharing.pyi"]


# ---------------------------------------------------------------- one-of groups and conditions

# An object with both kinds of rule (so they sit under allOf), as specs/README.md writes them.
RULED = {
    "type": "object",
    "required": ["appid"],
    "properties": {
        "appid": {"title": "公众账号ID", "type": "string"},
        "transaction_id": {"title": "微信订单号", "type": "string"},
        "out_trade_no": {"title": "商户订单号", "type": "string"},
        "amount": {"title": "金额", "type": "integer"},
        "user_name": {"title": "收款用户姓名", "type": "string"},
        "trade_type": {"type": "string", "enum": ["JSAPI", "NATIVE"]},
        "openid": {"type": "string"},
    },
    "allOf": [
        {"anyOf": [{"required": ["transaction_id"]}, {"required": ["out_trade_no"]}]},
        {
            "if": {"required": ["amount"], "properties": {"amount": {"minimum": 200000}}},
            "then": {"required": ["user_name"]},
        },
        {"if": {"properties": {"trade_type": {"const": "NATIVE"}}}, "then": {"not": {"required": ["openid"]}}},
    ],
}


def fields_of(writer: TypeWriter, name: str) -> dict[str, tuple[bool, str]]:
    definition = next(d for d in writer.definitions if d.name == name)
    return {f.name: (f.required, f.label) for f in definition.fields}


def test_a_one_of_group_is_not_a_union_its_members_are_not_required() -> None:
    schema = {k: v for k, v in RULED.items() if k != "allOf"} | {"anyOf": RULED["allOf"][0]["anyOf"]}  # type: ignore[index]
    writer = TypeWriter(set())
    assert writer.expression(schema, ("Order",), "an order") == "Order"  # one TypedDict, no union
    assert [d.name for d in writer.definitions] == ["Order"]
    fields = fields_of(writer, "Order")
    rule = "one of transaction_id, out_trade_no is required"
    assert fields["appid"] == (True, "公众账号ID")
    assert fields["transaction_id"] == (False, f"微信订单号; {rule}")
    assert fields["out_trade_no"] == (False, f"商户订单号; {rule}")
    assert f"Rules: {rule}." in writer.definitions[0].doc


def test_conditions_and_groups_under_all_of_make_no_types_and_no_required_keys() -> None:
    writer = TypeWriter(set())
    # even where required still named a governed field (the importer removes them), it is not required
    schema = {**RULED, "required": ["appid", "user_name", "out_trade_no"]}
    assert writer.expression(schema, ("Order",), "an order") == "Order"
    assert [d.name for d in writer.definitions] == ["Order"]
    fields = fields_of(writer, "Order")
    assert [name for name, (required, _) in fields.items() if required] == ["appid"]
    assert fields["user_name"] == (False, "收款用户姓名; required when amount >= 200000")
    assert fields["openid"] == (False, "not allowed when trade_type is NATIVE")
    assert fields["amount"] == (False, "金额")  # the tested field itself gets no note
    text = writer.definitions[0].render()
    assert "one of transaction_id, out_trade_no is required; user_name: required when amount >= 200000" in text


def test_real_alternatives_are_still_a_union() -> None:
    """An ``anyOf`` whose branches declare fields is not a rule: it stays a union of shapes."""
    schema = {
        "anyOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "string"},
        ],
        "allOf": [RULED["allOf"][0]],  # type: ignore[index]
    }
    writer = TypeWriter(set())
    assert writer.expression(schema, ("Thing",), "doc") == "ThingOption1 | str"


# Two specs with rules, for a catalogue of their own: the stubs must not depend on specs/.
SYNTHETIC_SPECS = {
    "v2/demo/orderquery": """\
key: v2/demo/orderquery
url: /demo/orderquery
protocol: v2
operations:
  post:
    summary: 查询订单
    xml:
      type: object
      required: [appid, mch_id, nonce_str, sign]
      properties:
        appid: {title: 公众账号ID, type: string}
        mch_id: {title: 商户号, type: string}
        transaction_id: {title: 微信订单号, type: string}
        out_trade_no: {title: 商户订单号, type: string}
        nonce_str: {title: 随机字符串, type: string}
        sign: {title: 签名, type: string}
      anyOf:
        - required: [transaction_id]
        - required: [out_trade_no]
""",
    "v3/demo/transfers": """\
key: v3/demo/transfers
url: /v3/demo/transfers
protocol: v3
operations:
  post:
    summary: 转账
    json:
      type: object
      properties:
        out_bill_no: {title: 商户单号, type: string}
        bill_id: {title: 微信单号, type: string}
        transfer_amount: {title: 转账金额, type: integer}
        user_name: {title: 收款用户姓名, type: string}
      allOf:
        - anyOf:
            - required: [out_bill_no]
            - required: [bill_id]
        - if: {required: [transfer_amount], properties: {transfer_amount: {minimum: 200000}}}
          then: {required: [user_name]}
""",
}

SYNTHETIC_SAMPLE = """\
from wechatpay_chain import Client


def order(client: Client) -> object:
    return client.v2.demo.orderquery.post(xml={"appid": "wx1", "mch_id": "1900000109", "out_trade_no": "T1"}).json()


def transfer(client: Client) -> object:
    small = client.v3.demo.transfers.post(json={"bill_id": "B1", "transfer_amount": 100})
    large = client.v3.demo.transfers.post(json={"out_bill_no": "O1", "transfer_amount": 300000, "user_name": "x"})
    return small.json(), large.json()


def missing(client: Client) -> None:
    client.v3.demo.transfers.post()  # expect: call-arg
"""


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """Stubs generated from a two-spec catalogue of their own, written into a copy of the package."""
    root = tmp_path_factory.mktemp("synthetic")
    specs = root / "specs"
    lines = ["key\tmethod\turl\tsummary"]
    for key, text in SYNTHETIC_SPECS.items():
        (specs / key).parent.mkdir(parents=True, exist_ok=True)
        (specs / f"{key}.yaml").write_text(text, encoding="utf-8")
        lines.append(f"{key}\tPOST\t/{key.removeprefix('v2/')}\tx")
    (specs / "index.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    files, _ = generate(specs)
    package = root / "site" / "wechatpay_chain"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("_typing", "__pycache__", "*.pyi"))
    gen_stubs.write(files, package)
    return files, root


def test_synthetic_rules_keep_one_typed_dict_and_say_the_rule(synthetic: tuple[dict[str, str], Path]) -> None:
    files, _ = synthetic
    v2, v3 = files["_typing/v2_demo.pyi"], files["_typing/v3_demo.pyi"]
    assert "Option" not in v2 + v3
    assert "out_trade_no: NotRequired[str]" in v2 and "transaction_id: NotRequired[str]" in v2
    assert '"""微信订单号; one of transaction_id, out_trade_no is required"""' in v2
    assert '"""收款用户姓名; required when transfer_amount >= 200000"""' in v3
    # nothing is required alone, but one of the group is: the payload itself stays required
    assert "json: V3DemoTransfersPostJson," in v3 and "json: V3DemoTransfersPostJson | None" not in v3


def test_mypy_accepts_correct_calls_to_ruled_operations(synthetic: tuple[dict[str, str], Path]) -> None:
    """End to end: the synthetic stubs, type-checked as a user's program sees them."""
    _, root = synthetic
    (root / "sample.py").write_text(SYNTHETIC_SAMPLE, encoding="utf-8")
    errors = run_mypy(
        str(root / "sample.py"), cache=root / "mypy-cache", cwd=root, env={"MYPYPATH": str(root / "site")}
    )
    marked = [n for n, line in enumerate(SYNTHETIC_SAMPLE.splitlines(), 1) if "# expect: call-arg" in line]
    # the attribute chain exists only in the synthetic stubs: no attr-defined means they were the ones read
    assert errors == {"sample.py": [(marked[0], "call-arg")]}


# ---------------------------------------------------------------- type checkers


def run_mypy(
    *targets: str, cache: Path, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> dict[str, list[tuple[int, str]]]:
    """file name -> [(line, error code)] of a ``mypy --strict`` run."""
    pytest.importorskip("mypy", reason="mypy is a dev dependency: pip install -e '.[dev]'")
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "--no-error-summary", *targets]
    environment = {**os.environ, **env} if env else None
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd, env=environment)
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
    assert len(expected) == 4
    assert sorted(errors.get("bad.py", [])) == expected


def test_mypy_types_the_client_from_client_py_and_refuses_a_misspelt_root(mypy_cache: Path) -> None:
    """No second copy of ``Client``: its own methods come from client.py, the chain from the stubs."""
    errors = run_mypy(str(SAMPLES / "client_surface.py"), cache=mypy_cache)
    expected = sorted((line, codes[0]) for line, codes in expected_marks(SAMPLES / "client_surface.py").items())
    assert len(expected) == 3
    assert sorted(errors.get("client_surface.py", [])) == expected


def run_pyright(*targets: Path) -> list[tuple[str, int, str]]:
    """[(file name, line, rule)] of the errors of a pyright run.

    pyright is a test dependency (``pip install -e '.[test]'``): the PyPI wheel bundles
    pyright's npm package and runs it with ``node``. Only a missing install skips; a
    pyright that is installed but cannot run (no node, a broken download) fails, with
    its output, instead of hiding the check. The venv's own pyright comes first, so a
    different one earlier on PATH is not the one judged.
    """
    beside = Path(sys.executable).parent / "pyright"
    executable = str(beside) if beside.exists() else shutil.which("pyright")
    if executable is None:
        pytest.skip("pyright is not installed (it is a test dependency: pip install -e '.[test]')")
    command = [executable, "--outputjson", "--pythonpath", sys.executable, *map(str, targets)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    output = f"exit {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright gave no report ({output})")
    assert result.returncode in (0, 1), output
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


def test_pyright_types_the_client_from_client_py_and_refuses_a_misspelt_root() -> None:
    sample = SAMPLES / "client_surface.py"
    expected = sorted((sample.name, line, codes[1]) for line, codes in expected_marks(sample).items())
    assert sorted(run_pyright(sample)) == expected
