"""Streaming downloads against the mock: bills with digests, gzip, statements, failures."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import tracemalloc
from pathlib import Path

import pytest

from wechatpay_chain import ApiError, Client, SignatureError
from wechatpay_chain.mock import MockAnswer, MockPlatform
from wechatpay_chain.mock.bills import sample_bill_lines


def _bill_text(lines: int = 20) -> bytes:
    return b"".join(sample_bill_lines(lines))


def test_trade_bill_round_trip(client: Client, tmp_path: Path) -> None:
    answer = client.v3.bill.tradebill.get(query={"bill_date": "2026-11-24"})
    result = client.download_bill(answer, to=tmp_path / "trade.csv")
    assert (tmp_path / "trade.csv").read_bytes() == _bill_text()
    assert result.size == len(_bill_text()) and result.response is not None
    assert [p.name for p in tmp_path.iterdir()] == ["trade.csv"]  # no temporary file left


def test_gzip_bill_kept_or_inflated(client: Client, tmp_path: Path) -> None:
    answer = client.v3.bill.fundflowbill.get(query={"bill_date": "2026-11-24", "tar_type": "GZIP"})
    client.download_bill(answer, to=tmp_path / "fund.csv.gz")
    assert gzip.decompress((tmp_path / "fund.csv.gz").read_bytes()) == _bill_text()
    client.download_bill(answer, to=tmp_path / "fund.csv", decompress=True)
    assert (tmp_path / "fund.csv").read_bytes() == _bill_text()


def test_digest_mismatch_leaves_no_file(client: Client, tmp_path: Path) -> None:
    answer = dict(client.v3.bill.tradebill.get(query={"bill_date": "2026-11-24"}).json())
    answer["hash_value"] = "0" * 40
    with pytest.raises(SignatureError) as caught:
        client.download_bill(answer, to=tmp_path / "trade.csv")
    assert caught.value.check == "digest"
    assert list(tmp_path.iterdir()) == []


def test_unknown_token_is_an_api_error(client: Client, mock: MockPlatform, tmp_path: Path) -> None:
    with pytest.raises(ApiError) as caught:
        client.download(f"{mock.base_url}v3/billdownload/file?token=nope", to=tmp_path / "x.csv")
    assert caught.value.status_code == 404 and caught.value.code == "RESOURCE_NOT_EXISTS"
    assert list(tmp_path.iterdir()) == []

    async def main() -> ApiError:
        async with mock.client() as async_client:
            with pytest.raises(ApiError) as refused:
                await async_client.download_async(f"{mock.base_url}v3/billdownload/file?token=nope", tmp_path / "y")
            return refused.value

    assert asyncio.run(main()).code == caught.value.code  # the error's body reaches both paths


@pytest.mark.parametrize("first", [1, 2, 7])
def test_gzip_is_told_and_checked_however_the_reads_split(first: int) -> None:
    from wechatpay_chain.v3.downloads import _Checks

    plain = _bill_text(300)
    packed = gzip.compress(plain[:5000]) + gzip.compress(plain[5000:])  # two members, as gzip allows
    checks = _Checks("SHA1", hashlib.sha1(plain).hexdigest(), False, None)
    out = [checks.feed(packed[:first])]
    out += [checks.feed(packed[start : start + 997]) for start in range(first, len(packed), 997)]
    out.append(checks.finish())
    assert b"".join(out) == plain and checks.digest is not None
    assert checks.digest.hexdigest() == hashlib.sha1(plain).hexdigest()


def test_a_truncated_gzip_download_is_refused() -> None:
    from wechatpay_chain.v3.downloads import _Checks

    checks = _Checks(None, None, False, None)
    checks.feed(gzip.compress(_bill_text(100))[:-20])
    with pytest.raises(SignatureError, match="ends early"):
        checks.finish()


def test_iterators_sync_and_async(client: Client, mock: MockPlatform) -> None:
    url = mock.add_bill(lambda: sample_bill_lines(100))["download_url"]
    assert b"".join(client.iter_download(url)) == _bill_text(100)

    async def main() -> bytes:
        async with mock.client() as async_client:
            return b"".join([chunk async for chunk in async_client.aiter_download(url)])

    assert asyncio.run(main()) == _bill_text(100)


def test_statement_sha1_header_is_checked(client: Client, mock: MockPlatform, tmp_path: Path) -> None:
    body = b"statement,2026-11\n"
    good = hashlib.sha1(body).hexdigest()
    mock.on(
        "GET", "hk/v3/statements", lambda call: MockAnswer(200, raw=body, headers={"Wechatpay-Statement-Sha1": good})
    )
    client.download("hk/v3/statements?date=2026-11-01", to=tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_bytes() == body
    # The body changed: the digest header no longer matches it.
    mock.on(
        "GET",
        "hk/v3/statements",
        lambda call: MockAnswer(200, raw=body + b"x", headers={"Wechatpay-Statement-Sha1": good}),
    )
    with pytest.raises(SignatureError, match="Statement"):
        client.download("hk/v3/statements?date=2026-11-01", to=tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists()
    # Digest and body changed together: the signature over {"sha1": digest} catches it.
    forged = hashlib.sha1(body + b"x").hexdigest()
    mock.on(
        "GET",
        "hk/v3/statements",
        lambda call: MockAnswer(200, raw=body + b"x", headers={"Wechatpay-Statement-Sha1": forged}),
    )
    mock.fail("bad_signature")
    with pytest.raises(SignatureError) as caught:
        client.download("hk/v3/statements?date=2026-11-01", to=tmp_path / "u.csv")
    assert caught.value.check == "signature"
    assert not (tmp_path / "u.csv").exists()


def test_signed_download_is_verified_while_streaming(client: Client, mock: MockPlatform, tmp_path: Path) -> None:
    # A path outside the unsigned list: its answer must carry a valid signature.
    mock.on("GET", "v3/custom/report", lambda call: MockAnswer(200, raw=b"a,b\n1,2\n"))
    client.download("v3/custom/report", to=tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_bytes() == b"a,b\n1,2\n"
    mock.fail("tampered_body")
    with pytest.raises(SignatureError):
        client.download("v3/custom/report", to=tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()
    mock.on("GET", "v3/custom/report", lambda call: MockAnswer(200, raw=b"a,b\n", signed=False))
    with pytest.raises(SignatureError, match="missing Wechatpay-Timestamp"):
        client.download("v3/custom/report", to=tmp_path / "unsigned.csv")


def test_50_mb_bill_streams_with_flat_memory(client: Client, mock: MockPlatform, tmp_path: Path) -> None:
    lines = 310_000  # about 173 bytes a line: a bill of a little over 50 MB
    answer = mock.add_bill(lambda: sample_bill_lines(lines))
    progress: list[int] = []
    tracemalloc.start()
    try:
        result = client.download_bill(
            answer, to=tmp_path / "big.csv", progress=lambda done, total: progress.append(done)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size >= 50 * 1024 * 1024
    assert (tmp_path / "big.csv").stat().st_size == result.size
    assert progress[-1] == result.size
    # Client and mock (same process) together stay far below the bill's size.
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"
    print(f"\n50 MB bill: {result.size / 1e6:.1f} MB streamed, peak traced memory {peak / 1e6:.2f} MB")


def test_statements_through_the_chain_are_verified(client: Client, mock: MockPlatform) -> None:
    body = b"statement,2026-11\n"
    digest = hashlib.sha1(body).hexdigest()
    mock.on(
        "GET",
        "v3/global/statements",
        lambda call: MockAnswer(200, raw=body, headers={"Wechatpay-Statement-Sha1": digest}),
    )
    answer = client.v3.global_.statements.get(query={"date": "2026-11-01"})
    assert answer.content == body and answer.verified == mock.public_key_id
    # A body that does not match its digest, or an answer without signature headers: refused.
    mock.on(
        "GET",
        "v3/global/statements",
        lambda call: MockAnswer(200, raw=b"forged", headers={"Wechatpay-Statement-Sha1": digest}),
    )
    with pytest.raises(SignatureError) as caught:
        client.v3.global_.statements.get(query={"date": "2026-11-01"})
    assert caught.value.check == "digest"
    mock.on(
        "GET",
        "v3/global/statements",
        lambda call: MockAnswer(200, raw=body, signed=False, headers={"Wechatpay-Statement-Sha1": digest}),
    )
    with pytest.raises(SignatureError) as caught:
        client.v3.global_.statements.get(query={"date": "2026-11-01"})
    assert caught.value.check == "headers"


def test_gzip_statement_digest_covers_the_plain_csv(client: Client, mock: MockPlatform, tmp_path: Path) -> None:
    body = b"statement,2026-11\n" * 100
    digest = hashlib.sha1(body).hexdigest()
    mock.on(
        "GET",
        "hk/v3/statements",
        lambda call: MockAnswer(
            200,
            raw=gzip.compress(body),
            headers={"Wechatpay-Statement-Sha1": digest, "Content-Type": "application/x-gzip"},
        ),
    )
    client.download("hk/v3/statements?date=2026-11-01&tar_type=GZIP", to=tmp_path / "s.csv.gz")
    assert gzip.decompress((tmp_path / "s.csv.gz").read_bytes()) == body


def test_unknown_hash_type_is_a_typed_error(client: Client, tmp_path: Path) -> None:
    answer = dict(client.v3.bill.tradebill.get(query={"bill_date": "2026-11-24"}).json())
    answer["hash_type"] = "WHIRLPOOL-9"
    with pytest.raises(SignatureError, match="unknown hash_type"):
        client.download_bill(answer, to=tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []
