"""The calls a merchant makes every day, with the payloads the platform accepts.

Each entry is one call: the catalogue path (templates as ``{name}``), the verb, the keyword
arguments exactly as a merchant passes them to the chain (``json=``/``query=``/``xml=``/
``files=``, path values, ``idempotent=``) and the official page it follows. The facts
(field names, types, which ids are alternatives, conditional fields) come from the
official pages; the values are what a merchant would send: ids of the right length,
amounts in fen, RFC 3339 times, https notify URLs. Each call is as small as the platform
allows: optional fields appear only where the everyday call needs them.

Where the official page says two ids are alternatives ("二选一"), the corpus sends exactly
one of them, in one entry per id.

The merchant is the mock platform's (``1900000109``); a v2 ``mch_id`` must equal it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

MCHID = "1900000109"  # the merchant (and, for partner calls, the service provider)
SUB_MCHID = "1900009231"  # a sub-merchant of that service provider
STORE_MCHID = "1900012345"  # a store's merchant id, receiver of profit sharing
PEER_MCHID = "1900008851"  # another direct merchant taking part in the merchant's combine orders
APPID_OFFICIAL = "wx8a3f5c2e9b7d1f04"  # 公众号
APPID_MINIPROGRAM = "wx5d9e7a1c3b8f2e60"  # 小程序
APPID_APP = "wx2f6c8e1a9d4b7035"  # 移动应用
SUB_APPID = "wx7c1e4a9f2d6b8053"  # the sub-merchant's own mini-program
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"  # 28 characters, under APPID_OFFICIAL
MINI_OPENID = "o3kX2-5Jd6LzPqTwY0vHnR8bMcE1"  # under APPID_MINIPROGRAM
SUB_OPENID = "oK9Vt5xTq3WbZp_7NfLr2YhDcA8g"  # under SUB_APPID
TRANSACTION_ID = "4200002216202611245563874219"  # 微信支付订单号, 28 digits
OUT_TRADE_NO = "20261124153012000123"  # 商户订单号, ≤ 32 of [0-9A-Za-z_-|*]
OUT_REFUND_NO = "RF20261124160544000057"
REFUND_ID = "50300708012026112412345678901"  # 微信退款单号
NOTIFY_URL = "https://pay.example-shop.cn/wechatpay/notify"
REFUND_NOTIFY_URL = "https://pay.example-shop.cn/wechatpay/refund-notify"
CLIENT_IP = "14.23.150.211"  # the payer's public IP (H5) / the terminal's (v2)
BILL_TOKEN = "6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cq_isgF8HK3ZA0IYiHRS"

# A 2x2 PNG: the shop-front photo a merchant uploads (the platform takes jpg/bmp/png).
STOREFRONT_PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR42mNgP5gARAz/wQAALI8ISxJdNPUAAAAASUVORK5CYII="
)
STOREFRONT_PNG = base64.b64decode(STOREFRONT_PNG_BASE64)


@dataclass(frozen=True)
class Call:
    name: str  # a Python identifier: the test id and the typed function's name
    method: str  # GET / POST
    path: str  # the catalogue key, templates as {name}
    kwargs: dict[str, Any]  # the keyword arguments of the verb
    doc: str  # the official page the payload follows
    note: str = ""  # what the page says that the payload relies on
    cert: bool = False  # v2 over the merchant certificate (secapi)
    setup: dict[str, Any] = field(default_factory=dict)  # what the platform must already hold

    @property
    def v2(self) -> bool:
        return self.path.startswith("v2/")


V3_ORDERS = [
    Call(
        "jsapi_order",
        "POST",
        "v3/pay/transactions/jsapi",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "mchid": MCHID,
                "description": "深圳湾旗舰店-咖啡豆500g",
                "out_trade_no": OUT_TRADE_NO,
                "notify_url": NOTIFY_URL,
                "amount": {"total": 3900},
                "payer": {"openid": OPENID},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791856",
        "amount.currency defaults to CNY; the platform deduplicates by out_trade_no, so a retry is safe",
    ),
    Call(
        "miniprogram_order",
        "POST",
        "v3/pay/transactions/jsapi",
        {
            "json": {
                "appid": APPID_MINIPROGRAM,
                "mchid": MCHID,
                "description": "喜茶-多肉葡萄(大杯)",
                "out_trade_no": "MP2026112415301288",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 1900},
                "payer": {"openid": MINI_OPENID},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791897",
        "mini-program payment is the JSAPI order with the mini-program's appid and the openid under it",
    ),
    Call(
        "app_order",
        "POST",
        "v3/pay/transactions/app",
        {
            "json": {
                "appid": APPID_APP,
                "mchid": MCHID,
                "description": "会员中心-年度会员",
                "out_trade_no": "APP20261124153012001",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 19800},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4013070347",
        "no payer: the app's WeChat session identifies the payer",
    ),
    Call(
        "h5_order",
        "POST",
        "v3/pay/transactions/h5",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "mchid": MCHID,
                "description": "深圳湾旗舰店-挂耳咖啡10袋",
                "out_trade_no": "H520261124153012002",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 5900},
                "scene_info": {"payer_client_ip": CLIENT_IP, "h5_info": {"type": "Wap"}},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791834",
        "scene_info.payer_client_ip is required (the payer's IP), h5_info.type is iOS, Android or Wap",
    ),
    Call(
        "native_order",
        "POST",
        "v3/pay/transactions/native",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "mchid": MCHID,
                "description": "自助售货机-矿泉水550ml",
                "out_trade_no": "NT20261124153012003",
                "time_expire": "2026-11-24T15:45:12+08:00",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 200},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791877",
        "a vending-machine QR code that expires after 15 minutes (time_expire, RFC 3339)",
    ),
    Call(
        "partner_jsapi_order",
        "POST",
        "v3/pay/partner/transactions/jsapi",
        {
            "json": {
                "sp_appid": APPID_OFFICIAL,
                "sp_mchid": MCHID,
                "sub_appid": SUB_APPID,
                "sub_mchid": SUB_MCHID,
                "description": "街角面包房-全麦吐司",
                "out_trade_no": "SP20261124153012004",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 1500},
                "payer": {"sub_openid": SUB_OPENID},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4012738519",
        "payer.sp_openid and payer.sub_openid are alternatives (二选一); sub_openid needs sub_appid",
    ),
]

V3_QUERIES = [
    Call(
        "query_by_transaction_id",
        "GET",
        "v3/pay/transactions/id/{transaction_id}",
        {"transaction_id": TRANSACTION_ID, "query": {"mchid": MCHID}},
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791858",
    ),
    Call(
        "query_by_out_trade_no",
        "GET",
        "v3/pay/transactions/out-trade-no/{out_trade_no}",
        {"out_trade_no": OUT_TRADE_NO, "query": {"mchid": MCHID}},
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791859",
    ),
    Call(
        "close_order",
        "POST",
        "v3/pay/transactions/out-trade-no/{out_trade_no}/close",
        {"out_trade_no": OUT_TRADE_NO, "json": {"mchid": MCHID}, "idempotent": True},
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791860",
        "answers 204 with no body; closing twice is harmless",
    ),
]

V3_REFUNDS = [
    Call(
        "refund_by_transaction_id",
        "POST",
        "v3/refund/domestic/refunds",
        {
            "json": {
                "transaction_id": TRANSACTION_ID,
                "out_refund_no": OUT_REFUND_NO,
                "amount": {"refund": 1500, "total": 3900, "currency": "CNY"},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791862",
        "transaction_id and out_trade_no are alternatives (二选一); the platform deduplicates by out_refund_no",
    ),
    Call(
        "refund_by_out_trade_no",
        "POST",
        "v3/refund/domestic/refunds",
        {
            "json": {
                "out_trade_no": OUT_TRADE_NO,
                "out_refund_no": "RF20261124160544000058",
                "reason": "商品缺货",
                "notify_url": REFUND_NOTIFY_URL,
                "amount": {"refund": 3900, "total": 3900, "currency": "CNY"},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791862",
        "a full refund by the merchant's order number, with the reason the payer sees and a notify URL",
    ),
    Call(
        "refund_query",
        "GET",
        "v3/refund/domestic/refunds/{out_refund_no}",
        {"out_refund_no": OUT_REFUND_NO},
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791863",
        "a direct merchant sends no query (sub_mchid is for service providers)",
    ),
]

V3_PROFITSHARING = [
    Call(
        "profitsharing_order",
        "POST",
        "v3/profitsharing/orders",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "transaction_id": TRANSACTION_ID,
                "out_order_no": "PS20261124170000001",
                "receivers": [
                    {"type": "MERCHANT_ID", "account": STORE_MCHID, "amount": 300, "description": "门店分成"}
                ],
                "unfreeze_unsplit": True,
            },
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012524936",
        "a MERCHANT_ID receiver needs no name; unfreeze_unsplit releases the rest to the merchant",
    ),
    Call(
        "profitsharing_return_by_order_id",
        "POST",
        "v3/profitsharing/return-orders",
        {
            "json": {
                "order_id": "3008450740202611240007820472",
                "out_return_no": "PR20261125100000001",
                "return_mchid": STORE_MCHID,
                "amount": 300,
                "description": "用户退款,回退门店分成",
            },
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012525287",
        "order_id and out_order_no are alternatives (二选一)",
    ),
    Call(
        "profitsharing_return_by_out_order_no",
        "POST",
        "v3/profitsharing/return-orders",
        {
            "json": {
                "out_order_no": "PS20261124170000001",
                "out_return_no": "PR20261125100000002",
                "return_mchid": STORE_MCHID,
                "amount": 300,
                "description": "用户退款,回退门店分成",
            },
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012525287",
        "order_id and out_order_no are alternatives (二选一)",
    ),
]

V3_TRANSFERS = [
    Call(
        "transfer_small",
        "POST",
        "v3/transfer/batches",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "out_batch_no": "TB20261124180000001",
                "batch_name": "11月签到红包",
                "batch_remark": "11月签到红包",
                "total_amount": 20,
                "total_num": 1,
                "transfer_detail_list": [
                    {
                        "out_detail_no": "TD20261124180000001",
                        "transfer_amount": 20,
                        "transfer_remark": "签到红包",
                        "openid": OPENID,
                    }
                ],
            },
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012458841",
        "below 0.3 yuan user_name must not be given; transfer_scene_id omitted: the merchant's default scene",
    ),
    Call(
        "transfer_large",
        "POST",
        "v3/transfer/batches",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "out_batch_no": "TB20261124180000002",
                "batch_name": "11月推广佣金",
                "batch_remark": "11月推广佣金",
                "total_amount": 250000,
                "total_num": 1,
                "transfer_detail_list": [
                    {
                        "out_detail_no": "TD20261124180000002",
                        "transfer_amount": 250000,
                        "transfer_remark": "11月推广佣金",
                        "openid": OPENID,
                        "user_name": "王小明",
                    }
                ],
                "transfer_scene_id": "1001",
            },
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012458841",
        "from 2,000 yuan the receiver's name is required (the client encrypts it); a scene the merchant holds",
    ),
]

# Combine orders (合单). A direct merchant (普通商户) combines 2-10 sub-orders of merchants bound
# to combine_appid, with no sub_mchid; an ecommerce platform (收付通, 平台商户) names the
# second-level merchant of each sub-order in sub_mchid (one sub-order per second-level merchant).


def _direct_sub_orders(prefix: str) -> list[dict[str, Any]]:
    """The two sub-orders of a direct merchant's cart: its own shop and a peer merchant's."""
    return [
        {
            "mchid": MCHID,
            "attach": "深圳湾旗舰店",
            "amount": {"total_amount": 3900, "currency": "CNY"},
            "out_trade_no": f"{prefix}01",
            "description": "深圳湾旗舰店-咖啡豆500g",
        },
        {
            "mchid": PEER_MCHID,
            "attach": "街角面包房",
            "amount": {"total_amount": 1500, "currency": "CNY"},
            "out_trade_no": f"{prefix}02",
            "description": "街角面包房-全麦吐司",
        },
    ]


def _platform_sub_order(out_trade_no: str) -> list[dict[str, Any]]:
    """One sub-order of an ecommerce platform: the platform's mchid, the shop's sub_mchid."""
    return [
        {
            "mchid": MCHID,
            "attach": "店铺A-订单",
            "amount": {"total_amount": 6800, "currency": "CNY"},
            "out_trade_no": out_trade_no,
            "sub_mchid": SUB_MCHID,
            "description": "街角面包房-下午茶套餐",
        }
    ]


V3_COMBINE = [
    Call(
        "combine_jsapi_direct",
        "POST",
        "v3/combine-transactions/jsapi",
        {
            "json": {
                "combine_appid": APPID_OFFICIAL,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CB20261124153012101",
                "sub_orders": _direct_sub_orders("CB2026112415301210"),
                "combine_payer_info": {"openid": OPENID},
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012556926",
        "普通商户: 2-10 sub-orders, each mchid/attach/amount(total_amount, currency)/out_trade_no/description; "
        "no sub_mchid; combine_payer_info.openid under combine_appid is required",
    ),
    Call(
        "combine_app_direct",
        "POST",
        "v3/combine-transactions/app",
        {
            "json": {
                "combine_appid": APPID_APP,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CB20261124153012102",
                "sub_orders": _direct_sub_orders("CB2026112415301220"),
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012556944",
        "普通商户: a mobile-app combine_appid; combine_payer_info and scene_info are optional",
    ),
    Call(
        "combine_h5_direct",
        "POST",
        "v3/combine-transactions/h5",
        {
            "json": {
                "combine_appid": APPID_OFFICIAL,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CB20261124153012103",
                "scene_info": {"payer_client_ip": CLIENT_IP, "device_id": "WEB-H5-0001"},
                "sub_orders": _direct_sub_orders("CB2026112415301230"),
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012556961",
        "普通商户: in scene_info payer_client_ip and device_id are required, h5_info is optional (选填)",
    ),
    Call(
        "combine_native_direct",
        "POST",
        "v3/combine-transactions/native",
        {
            "json": {
                "combine_appid": APPID_OFFICIAL,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CB20261124153012104",
                "sub_orders": _direct_sub_orders("CB2026112415301240"),
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012556982",
        "普通商户: a QR-code combine order; scene_info is optional, no payer",
    ),
    Call(
        "combine_jsapi_ecommerce",
        "POST",
        "v3/combine-transactions/jsapi",
        {
            "json": {
                "combine_appid": APPID_OFFICIAL,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CE20261124153012201",
                "sub_orders": _platform_sub_order("CE2026112415301220101"),
                "combine_payer_info": {"openid": OPENID},
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4012760615",
        "收付通: sub_orders[].mchid is the platform, sub_mchid the second-level merchant; up to 50 sub-orders",
    ),
    Call(
        "combine_app_ecommerce",
        "POST",
        "v3/combine-transactions/app",
        {
            "json": {
                "combine_appid": APPID_APP,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CE20261124153012202",
                "sub_orders": _platform_sub_order("CE2026112415301220201"),
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4015973099",
        "收付通: APP combine order; combine_payer_info is optional",
    ),
    Call(
        "combine_h5_ecommerce",
        "POST",
        "v3/combine-transactions/h5",
        {
            "json": {
                "combine_appid": APPID_OFFICIAL,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CE20261124153012203",
                "scene_info": {"payer_client_ip": CLIENT_IP, "device_id": "WEB-H5-0001"},
                "sub_orders": _platform_sub_order("CE2026112415301220301"),
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4012760626",
        "收付通: in scene_info payer_client_ip and device_id are required, h5_info is optional (选填)",
    ),
    Call(
        "combine_native_ecommerce",
        "POST",
        "v3/combine-transactions/native",
        {
            "json": {
                "combine_appid": APPID_OFFICIAL,
                "combine_mchid": MCHID,
                "combine_out_trade_no": "CE20261124153012204",
                "sub_orders": _platform_sub_order("CE2026112415301220401"),
                "notify_url": NOTIFY_URL,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4012760629",
        "收付通: a QR-code combine order; scene_info is optional",
    ),
]

V3_PARTNER = [
    Call(
        "partner_app_order",
        "POST",
        "v3/pay/partner/transactions/app",
        {
            "json": {
                "sp_appid": APPID_APP,
                "sp_mchid": MCHID,
                "sub_mchid": SUB_MCHID,
                "description": "街角面包房-会员储值100元",
                "out_trade_no": "SP20261124153012005",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 10000},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4013080231",
        "the service provider's own app (sp_appid); sub_appid is optional; no payer",
    ),
    Call(
        "partner_h5_order",
        "POST",
        "v3/pay/partner/transactions/h5",
        {
            "json": {
                "sp_appid": APPID_OFFICIAL,
                "sp_mchid": MCHID,
                "sub_mchid": SUB_MCHID,
                "description": "街角面包房-生日蛋糕6寸",
                "out_trade_no": "SP20261124153012006",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 16800},
                "scene_info": {"payer_client_ip": CLIENT_IP, "h5_info": {"type": "Wap"}},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4012738604",
        "scene_info.payer_client_ip and h5_info.type are required, as for the merchant's H5 order",
    ),
    Call(
        "partner_native_order",
        "POST",
        "v3/pay/partner/transactions/native",
        {
            "json": {
                "sp_appid": APPID_OFFICIAL,
                "sp_mchid": MCHID,
                "sub_mchid": SUB_MCHID,
                "description": "街角面包房-收银台扫码",
                "out_trade_no": "SP20261124153012007",
                "notify_url": NOTIFY_URL,
                "amount": {"total": 2350},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4012738659",
        "a counter QR code for the sub-merchant; no payer",
    ),
    Call(
        "partner_refund",
        "POST",
        "v3/refund/domestic/refunds",
        {
            "json": {
                "sub_mchid": SUB_MCHID,
                "out_trade_no": "SP20261124153012004",
                "out_refund_no": "RF20261124160544000201",
                "amount": {"refund": 1500, "total": 1500, "currency": "CNY"},
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v3/partner/4012739034",
        "a service provider refunds for its sub-merchant: sub_mchid is required; "
        "transaction_id and out_trade_no are alternatives",
    ),
]

V3_TRANSFER_BILLS = [
    Call(
        "transfer_bill_small",
        "POST",
        "v3/fund-app/mch-transfer/transfer-bills",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "out_bill_no": "TB20261124190000001",
                "transfer_scene_id": "1000",
                "openid": OPENID,
                "transfer_amount": 188,
                "transfer_remark": "签到活动奖励",
                "transfer_scene_report_infos": [
                    {"info_type": "活动名称", "info_content": "11月每日签到"},
                    {"info_type": "奖励说明", "info_content": "连续签到7天奖励1.88元"},
                ],
            },
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012716434",
        "scene 1000 (现金营销) reports 活动名称 and 奖励说明; below 2,000 yuan user_name is optional",
    ),
    Call(
        "transfer_bill_large",
        "POST",
        "v3/fund-app/mch-transfer/transfer-bills",
        {
            "json": {
                "appid": APPID_OFFICIAL,
                "out_bill_no": "TB20261124190000002",
                "transfer_scene_id": "1005",
                "openid": OPENID,
                "user_name": "王小明",
                "transfer_amount": 200000,
                "transfer_remark": "11月推广佣金",
                "transfer_scene_report_infos": [
                    {"info_type": "岗位类型", "info_content": "推广员"},
                    {"info_type": "报酬说明", "info_content": "11月推广佣金结算"},
                ],
            },
        },
        "https://pay.weixin.qq.com/doc/v3/merchant/4012716434",
        "from 2,000 yuan (转账金额 >= 2,000元) user_name is required, encrypted by the client; "
        "scene 1005 (佣金报酬) reports 岗位类型 and 报酬说明",
    ),
]

V3_BILLS_AND_MEDIA = [
    Call(
        "trade_bill",
        "GET",
        "v3/bill/tradebill",
        {"query": {"bill_date": "2026-11-23"}},
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791866",
        "yesterday's bill (available from 10:00 the next day); bill_type defaults to ALL",
    ),
    Call(
        "bill_download",
        "GET",
        "v3/billdownload/file",
        {"query": {"token": BILL_TOKEN}},
        "https://pay.weixin.qq.com/doc/v3/merchant/4012791868",
        "the token of the download_url the bill answer gave; the file answer is not signed",
        setup={"bill_token": BILL_TOKEN},
    ),
    Call(
        "media_upload",
        "POST",
        "v3/merchant/media/upload",
        {"files": {"file": ("storefront.png", STOREFRONT_PNG)}},
        "https://pay.weixin.qq.com/doc/v3/partner/4012760432",
        "an image (jpg, bmp, png) up to 2 MB; the client writes the meta part (filename, sha256)",
    ),
]

V2_APPID = APPID_OFFICIAL
V2_OUT_TRADE_NO = "20261124153012000456"
V2_TRANSACTION_ID = "4200002217202611245563870011"

V2_CALLS = [
    Call(
        "v2_unifiedorder",
        "POST",
        "v2/pay/unifiedorder",
        {
            "xml": {
                "appid": V2_APPID,
                "mch_id": MCHID,
                "body": "深圳湾旗舰店-咖啡豆500g",
                "out_trade_no": V2_OUT_TRADE_NO,
                "total_fee": 3900,
                "spbill_create_ip": CLIENT_IP,
                "notify_url": NOTIFY_URL,
                "trade_type": "JSAPI",
                "openid": OPENID,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935214",
        "trade_type JSAPI needs openid; nonce_str and sign are the client's",
    ),
    Call(
        "v2_orderquery_by_out_trade_no",
        "POST",
        "v2/pay/orderquery",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "out_trade_no": V2_OUT_TRADE_NO}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935215",
        "transaction_id and out_trade_no are alternatives (二选一)",
    ),
    Call(
        "v2_orderquery_by_transaction_id",
        "POST",
        "v2/pay/orderquery",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "transaction_id": V2_TRANSACTION_ID}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935215",
        "transaction_id and out_trade_no are alternatives (二选一)",
    ),
    Call(
        "v2_closeorder",
        "POST",
        "v2/pay/closeorder",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "out_trade_no": V2_OUT_TRADE_NO}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935216",
    ),
    Call(
        "v2_refund_by_out_trade_no",
        "POST",
        "v2/secapi/pay/refund",
        {
            "xml": {
                "appid": V2_APPID,
                "mch_id": MCHID,
                "out_trade_no": V2_OUT_TRADE_NO,
                "out_refund_no": "RF20261124160544000101",
                "total_fee": 3900,
                "refund_fee": 1500,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935217",
        "transaction_id and out_trade_no are alternatives (二选一); needs the merchant API certificate",
        cert=True,
    ),
    Call(
        "v2_refund_by_transaction_id",
        "POST",
        "v2/secapi/pay/refund",
        {
            "xml": {
                "appid": V2_APPID,
                "mch_id": MCHID,
                "transaction_id": V2_TRANSACTION_ID,
                "out_refund_no": "RF20261124160544000102",
                "total_fee": 3900,
                "refund_fee": 3900,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935217",
        "transaction_id and out_trade_no are alternatives (二选一); needs the merchant API certificate",
        cert=True,
    ),
    Call(
        "v2_refundquery_by_out_refund_no",
        "POST",
        "v2/pay/refundquery",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "out_refund_no": "RF20261124160544000101"}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935218",
        "one of transaction_id, out_trade_no, out_refund_no, refund_id (四选一)",
    ),
    Call(
        "v2_refundquery_by_refund_id",
        "POST",
        "v2/pay/refundquery",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "refund_id": REFUND_ID}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935218",
        "one of transaction_id, out_trade_no, out_refund_no, refund_id (四选一)",
    ),
    Call(
        "v2_refundquery_by_transaction_id",
        "POST",
        "v2/pay/refundquery",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "transaction_id": V2_TRANSACTION_ID}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935218",
        "one of transaction_id, out_trade_no, out_refund_no, refund_id (四选一)",
    ),
    Call(
        "v2_refundquery_by_out_trade_no",
        "POST",
        "v2/pay/refundquery",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "out_trade_no": V2_OUT_TRADE_NO}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935218",
        "one of transaction_id, out_trade_no, out_refund_no, refund_id (四选一)",
    ),
    Call(
        "v2_reverse",
        "POST",
        "v2/secapi/pay/reverse",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "out_trade_no": "MP20261124153012000789"}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011937361",
        "reversing a timed-out micropay by the merchant's order number; needs the merchant API certificate",
        cert=True,
    ),
    Call(
        "v2_downloadbill",
        "POST",
        "v2/pay/downloadbill",
        {"xml": {"appid": V2_APPID, "mch_id": MCHID, "bill_date": "20261123", "bill_type": "ALL"}},
        "https://pay.weixin.qq.com/doc/v2/merchant/4011935219",
        "bill_date is yyyyMMdd; the answer is the CSV, not signed",
    ),
    Call(
        "v2_micropay",
        "POST",
        "v2/pay/micropay",
        {
            "xml": {
                "appid": V2_APPID,
                "mch_id": MCHID,
                "body": "街角便利店-早餐套餐",
                "out_trade_no": "MP20261124153012000789",
                "total_fee": 1250,
                "spbill_create_ip": "183.6.105.27",
                "auth_code": "134675498321650213",
            },
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011937125",
        "auth_code is the 18-digit code scanned from the payer's phone (10-15 prefix); never retried",
    ),
]

V2_PS_RECEIVERS = json.dumps(
    [{"type": "MERCHANT_ID", "account": STORE_MCHID, "amount": 300, "description": "门店分成"}],
    ensure_ascii=False,
    separators=(",", ":"),
)
V2_PS_ORDER_ID = "3008450740202611240007820511"  # 微信分账单号 of the v2 profit sharing
V2_PS_OUT_ORDER_NO = "PS20261124170000101"

V2_PROFITSHARING = [
    Call(
        "v2_profitsharing",
        "POST",
        "v2/secapi/pay/profitsharing",
        {
            "xml": {
                "mch_id": MCHID,
                "appid": V2_APPID,
                "sign_type": "HMAC-SHA256",
                "transaction_id": V2_TRANSACTION_ID,
                "out_order_no": V2_PS_OUT_ORDER_NO,
                "receivers": V2_PS_RECEIVERS,
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011941670",
        "sign_type is required and only HMAC-SHA256; receivers is a JSON string; needs the merchant API certificate",
        cert=True,
    ),
    Call(
        "v2_profitsharingreturn_by_order_id",
        "POST",
        "v2/secapi/pay/profitsharingreturn",
        {
            "xml": {
                "mch_id": MCHID,
                "appid": V2_APPID,
                "sign_type": "HMAC-SHA256",
                "order_id": V2_PS_ORDER_ID,
                "out_return_no": "PR20261125100000101",
                "return_account_type": "MERCHANT_ID",
                "return_account": STORE_MCHID,
                "return_amount": 300,
                "description": "用户退款",
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011984166",
        "order_id and out_order_no are alternatives (二选一); needs the merchant API certificate",
        cert=True,
    ),
    Call(
        "v2_profitsharingreturn_by_out_order_no",
        "POST",
        "v2/secapi/pay/profitsharingreturn",
        {
            "xml": {
                "mch_id": MCHID,
                "appid": V2_APPID,
                "sign_type": "HMAC-SHA256",
                "out_order_no": V2_PS_OUT_ORDER_NO,
                "out_return_no": "PR20261125100000102",
                "return_account_type": "MERCHANT_ID",
                "return_account": STORE_MCHID,
                "return_amount": 300,
                "description": "用户退款",
            },
            "idempotent": True,
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011984166",
        "order_id and out_order_no are alternatives (二选一); needs the merchant API certificate",
        cert=True,
    ),
    Call(
        "v2_profitsharingreturnquery_by_order_id",
        "POST",
        "v2/pay/profitsharingreturnquery",
        {
            "xml": {
                "mch_id": MCHID,
                "appid": V2_APPID,
                "sign_type": "HMAC-SHA256",
                "order_id": V2_PS_ORDER_ID,
                "out_return_no": "PR20261125100000101",
            },
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011984233",
        "order_id and out_order_no are alternatives (二选一); out_return_no is required",
    ),
    Call(
        "v2_profitsharingreturnquery_by_out_order_no",
        "POST",
        "v2/pay/profitsharingreturnquery",
        {
            "xml": {
                "mch_id": MCHID,
                "appid": V2_APPID,
                "sign_type": "HMAC-SHA256",
                "out_order_no": V2_PS_OUT_ORDER_NO,
                "out_return_no": "PR20261125100000102",
            },
        },
        "https://pay.weixin.qq.com/doc/v2/merchant/4011984233",
        "order_id and out_order_no are alternatives (二选一); out_return_no is required",
    ),
]

CORPUS: list[Call] = [
    *V3_ORDERS,
    *V3_PARTNER,
    *V3_COMBINE,
    *V3_QUERIES,
    *V3_REFUNDS,
    *V3_PROFITSHARING,
    *V3_TRANSFERS,
    *V3_TRANSFER_BILLS,
    *V3_BILLS_AND_MEDIA,
]
CORPUS += V2_CALLS
CORPUS += V2_PROFITSHARING

assert len({call.name for call in CORPUS}) == len(CORPUS), "call names must be unique"
