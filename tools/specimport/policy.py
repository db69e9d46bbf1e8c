"""Knowledge the catalogue does not carry: hosts, unsigned answers, and repairs of its defects.

Everything here ends up as data in the specs, so the runtime never needs `if path == ...`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HK_HOST = "https://apihk.mch.weixin.qq.com/"

PREFIX_HOSTS = {
    # Fusion-wallet APIs (`/hk/v3/...`): the official "接口规则" page names
    # https://apihk.mch.weixin.qq.com/hk/v3/... as the entry point outside mainland China
    # (api.mch.weixin.qq.com also answers from inside); the wire path keeps its `/hk` prefix.
    "hk/": HK_HOST,
    # Customs declaration (`/global/v3/customs/...`): the official pages (declarecustom_ch,
    # chapter3_1..3_3) and the cross-border SDKs all call https://apihk.mch.weixin.qq.com/global/v3/...
    "global/": HK_HOST,
}

UNSIGNED_V3 = (
    # wechatpay-php ClientJsonTrait::assertSuccessfulResponse skips verification for
    # `/v3/billdownload/file` and `/v3/merchant-service/images/*` except `upload`.
    "v3/billdownload/file",
    "v3/merchant-service/images/{media_id}",
    # wechatpay-axios-plugin lib/decorator.js (`DOWNLOADS`, `COMPLAINT` regexp, which is not
    # anchored and so also covers the global complaint images; `/hk` is stripped first).
    "v3/global/merchant-service/images/{media_id}",
    "v3/transferdownload/elecvoucherfile",
    "v3/transferdownload/signfile",
    "v3/global/statements",
    "hk/v3/statements",
    "v3/statements",
    "v3/new-tax-control-fapiao/download",
)
"""v3 paths whose answers the official SDKs do not verify (keys; absent ones are reported)."""

UNSIGNED_V2 = (
    # wechatpay-php ClientXmlTrait::$noneSignatureRespond. It spells the bank transfers
    # `/mmpaymkttransfers/pay_bank|query_bank`; the platform (and this catalogue) serve
    # them at `/mmpaysptrans/...`, so both spellings are listed.
    "v2/mchrisk/querymchrisk",
    "v2/mchrisk/setmchriskcallback",
    "v2/mchrisk/syncmchriskresult",
    "v2/mmpaymkttransfers/gethbinfo",
    "v2/mmpaymkttransfers/gettransferinfo",
    "v2/mmpaymkttransfers/pay_bank",
    "v2/mmpaymkttransfers/query_bank",
    "v2/mmpaysptrans/pay_bank",
    "v2/mmpaysptrans/query_bank",
    "v2/mmpaymkttransfers/promotion/paywwsptrans2pocket",
    "v2/mmpaymkttransfers/promotion/querywwsptrans2pocket",
    "v2/mmpaymkttransfers/promotion/transfers",
    "v2/mmpaymkttransfers/sendgroupredpack",
    "v2/mmpaymkttransfers/sendminiprogramhb",
    "v2/mmpaymkttransfers/sendredpack",
    "v2/papay/entrustweb",
    "v2/papay/h5entrustweb",
    "v2/papay/partner/entrustweb",
    "v2/papay/partner/h5entrustweb",
    "v2/pay/downloadbill",
    "v2/pay/downloadfundflow",
    "v2/payitil/report",
    "v2/risk/getpublickey",
    "v2/risk/getviolation",
    "v2/sandboxnew/pay/downloadbill",
    "v2/sandboxnew/pay/getsignkey",
    "v2/secapi/mch/submchmanage",
    "v2/xdc/apiv2getsignkey/sign/getsignkey",
)
"""v2 paths whose answers carry no `sign` to verify."""

V2_BANK_KEY_OPERATION = "v2/risk/getpublickey"
V2_BANK_KEY_USERS = (
    # The "付款到银行卡" pages (mch_pay_yhk chapter 24_2 and 24_7): enc_bank_no and
    # enc_true_name are RSA-OAEP encrypted with the key getpublickey returns. Both spellings
    # of the path, as for UNSIGNED_V2.
    "v2/mmpaysptrans/pay_bank",
    "v2/mmpaymkttransfers/pay_bank",
)
"""v2 operations whose `encrypt` fields take the key of `V2_BANK_KEY_OPERATION` (`encrypt_key`)."""


@dataclass(frozen=True)
class Overrides:
    """Repairs of genuine defects in the source, read from `tools/spec_overrides.yaml`."""

    keyword_aliases: dict[str, str] = field(default_factory=dict)
    type_aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    pattern_fixes: dict[str, str] = field(default_factory=dict)
    produces: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    enum_fixes: dict[str, list[str]] = field(default_factory=dict)


def load_overrides(path: Path) -> Overrides:
    """Read the overrides file; a missing file means no repairs."""
    if not path.is_file():
        return Overrides()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Overrides(
        keyword_aliases=dict(data.get("keyword_aliases") or {}),
        type_aliases=dict(data.get("type_aliases") or {}),
        pattern_fixes=dict(data.get("pattern_fixes") or {}),
        produces=dict(data.get("produces") or {}),
        enum_fixes=dict(data.get("enum_fixes") or {}),
    )


def host_for(key: str) -> str | None:
    """The host a key's prefix implies (hk/, global/), when the source names none."""
    for prefix, host in PREFIX_HOSTS.items():
        if key.startswith(prefix):
            return host
    return None


def is_sdk_unsigned(key: str) -> bool:
    """True when the official SDKs skip verifying this path's answers."""
    return key in UNSIGNED_V3 or key in UNSIGNED_V2
