"""Every upload operation of the catalogue, and every unsigned download, against the mock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wechatpay_chain import Client, SignatureError
from wechatpay_chain.catalog.specs import Catalog
from wechatpay_chain.mock import MockAnswer, MockPlatform
from wechatpay_chain.mock.examples import example_for

CATALOG = Catalog()


def _operations(flag: str) -> list[tuple[str, str]]:
    found = []
    for entry in CATALOG:
        if entry.key.startswith("v2/"):
            continue
        operation = CATALOG.operation(entry.key, entry.method)
        if operation is not None and operation.spec.get(flag):
            found.append((entry.method, entry.key))
    return found


def _path_values(key: str, operation: Any) -> dict[str, str]:
    schema = operation.schema("path") or {}
    return {name: str(example_for(sub) or "x1") for name, sub in (schema.get("properties") or {}).items()}


UPLOADS = _operations("upload")
UNSIGNED = _operations("unsigned")


def test_the_lists_are_what_the_catalogue_says() -> None:
    assert len(UPLOADS) == 14
    assert sorted(key for _, key in UNSIGNED) == [
        "hk/v3/statements",
        "v3/billdownload/file",
        "v3/global/merchant-service/images/{media_id}",
        "v3/global/statements",
        "v3/merchant-service/images/{media_id}",
        "v3/transferdownload/elecvoucherfile",
        "v3/transferdownload/signfile",
    ]


@pytest.mark.parametrize("method, key", UPLOADS)
def test_every_upload_operation(client: Client, mock: MockPlatform, method: str, key: str) -> None:
    operation = CATALOG.operation(key, method)
    assert operation is not None
    upload = operation.spec["upload"]
    extension = (upload.get("extensions") or ["jpg"])[0]
    meta = example_for(upload.get("meta") or {}) or {}
    extra = {name: value for name, value in meta.items() if name not in ("filename", "sha256")}
    content = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    answer = client.request(
        method,
        key,
        files={upload["file"]: (f"upload.{extension}", content)},
        json=extra or None,
        **_path_values(key, operation),
    )
    assert answer.status_code in (200, 204)
    call = mock.calls[-1]
    assert call.files[upload["file"]][1] == content  # the mock checked the meta's sha256 against it


@pytest.mark.parametrize("method, key", [item for item in UNSIGNED if "statements" not in item[1]])
def test_every_unsigned_download(client: Client, mock: MockPlatform, tmp_path: Path, method: str, key: str) -> None:
    operation = CATALOG.operation(key, method)
    assert operation is not None
    body = b"%PDF-1.4 receipt bytes"
    mock.on(
        method, key, lambda call: MockAnswer(200, raw=body, signed=False, headers={"Content-Type": "application/pdf"})
    )
    values = _path_values(key, operation)
    node = client.chain(key)
    path = node.spec_key
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    query = example_for(operation.schema("query") or {}) or {}
    target = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None) if query else "")
    result = client.download(target, to=tmp_path / "file.bin")
    assert (tmp_path / "file.bin").read_bytes() == body and result.response is not None
    assert result.response.verified is None  # exempt by its spec, and said so


def test_an_unsigned_answer_elsewhere_is_refused(client: Client, mock: MockPlatform) -> None:
    mock.on("GET", "v3/pay/transactions/id/{transaction_id}", lambda call: MockAnswer(200, {"a": 1}, signed=False))
    with pytest.raises(SignatureError) as caught:
        client.v3.pay.transactions.id["4200"].get(query={"mchid": "1900000109"})
    assert caught.value.check == "headers"
