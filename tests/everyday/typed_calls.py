"""Every everyday call through the typed attribute chain (generated: do not edit).

Written by tests/everyday/generate.py from tests/everyday/corpus.py; type-checked by
tests/test_everyday_calls.py with ``mypy --strict`` and pyright (strict).
"""

# pyright: strict

from __future__ import annotations

import base64

from wechatpay_chain import Client

STOREFRONT_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR42mNgP5gARAz/wQAALI8ISxJdNPUAAAAASUVORK5CYII="
)


def jsapi_order(client: Client) -> int:
    """POST v3/pay/transactions/jsapi: https://pay.weixin.qq.com/doc/v3/merchant/4012791856"""
    answer = client.v3.pay.transactions.jsapi.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
            "mchid": "1900000109",
            "description": "深圳湾旗舰店-咖啡豆500g",
            "out_trade_no": "20261124153012000123",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 3900},
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        },
        idempotent=True,
    )
    return answer.status_code


def miniprogram_order(client: Client) -> int:
    """POST v3/pay/transactions/jsapi: https://pay.weixin.qq.com/doc/v3/merchant/4012791897"""
    answer = client.v3.pay.transactions.jsapi.post(
        json={
            "appid": "wx5d9e7a1c3b8f2e60",
            "mchid": "1900000109",
            "description": "喜茶-多肉葡萄(大杯)",
            "out_trade_no": "MP2026112415301288",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 1900},
            "payer": {"openid": "o3kX2-5Jd6LzPqTwY0vHnR8bMcE1"},
        },
        idempotent=True,
    )
    return answer.status_code


def app_order(client: Client) -> int:
    """POST v3/pay/transactions/app: https://pay.weixin.qq.com/doc/v3/merchant/4013070347"""
    answer = client.v3.pay.transactions.app.post(
        json={
            "appid": "wx2f6c8e1a9d4b7035",
            "mchid": "1900000109",
            "description": "会员中心-年度会员",
            "out_trade_no": "APP20261124153012001",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 19800},
        },
        idempotent=True,
    )
    return answer.status_code


def h5_order(client: Client) -> int:
    """POST v3/pay/transactions/h5: https://pay.weixin.qq.com/doc/v3/merchant/4012791834"""
    answer = client.v3.pay.transactions.h5.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
            "mchid": "1900000109",
            "description": "深圳湾旗舰店-挂耳咖啡10袋",
            "out_trade_no": "H520261124153012002",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 5900},
            "scene_info": {"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}},
        },
        idempotent=True,
    )
    return answer.status_code


def native_order(client: Client) -> int:
    """POST v3/pay/transactions/native: https://pay.weixin.qq.com/doc/v3/merchant/4012791877"""
    answer = client.v3.pay.transactions.native.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
            "mchid": "1900000109",
            "description": "自助售货机-矿泉水550ml",
            "out_trade_no": "NT20261124153012003",
            "time_expire": "2026-11-24T15:45:12+08:00",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 200},
        },
        idempotent=True,
    )
    return answer.status_code


def partner_jsapi_order(client: Client) -> int:
    """POST v3/pay/partner/transactions/jsapi: https://pay.weixin.qq.com/doc/v3/partner/4012738519"""
    answer = client.v3.pay.partner.transactions.jsapi.post(
        json={
            "sp_appid": "wx8a3f5c2e9b7d1f04",
            "sp_mchid": "1900000109",
            "sub_appid": "wx7c1e4a9f2d6b8053",
            "sub_mchid": "1900009231",
            "description": "街角面包房-全麦吐司",
            "out_trade_no": "SP20261124153012004",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 1500},
            "payer": {"sub_openid": "oK9Vt5xTq3WbZp_7NfLr2YhDcA8g"},
        },
        idempotent=True,
    )
    return answer.status_code


def partner_app_order(client: Client) -> int:
    """POST v3/pay/partner/transactions/app: https://pay.weixin.qq.com/doc/v3/partner/4013080231"""
    answer = client.v3.pay.partner.transactions.app.post(
        json={
            "sp_appid": "wx2f6c8e1a9d4b7035",
            "sp_mchid": "1900000109",
            "sub_mchid": "1900009231",
            "description": "街角面包房-会员储值100元",
            "out_trade_no": "SP20261124153012005",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 10000},
        },
        idempotent=True,
    )
    return answer.status_code


def partner_h5_order(client: Client) -> int:
    """POST v3/pay/partner/transactions/h5: https://pay.weixin.qq.com/doc/v3/partner/4012738604"""
    answer = client.v3.pay.partner.transactions.h5.post(
        json={
            "sp_appid": "wx8a3f5c2e9b7d1f04",
            "sp_mchid": "1900000109",
            "sub_mchid": "1900009231",
            "description": "街角面包房-生日蛋糕6寸",
            "out_trade_no": "SP20261124153012006",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 16800},
            "scene_info": {"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}},
        },
        idempotent=True,
    )
    return answer.status_code


def partner_native_order(client: Client) -> int:
    """POST v3/pay/partner/transactions/native: https://pay.weixin.qq.com/doc/v3/partner/4012738659"""
    answer = client.v3.pay.partner.transactions.native.post(
        json={
            "sp_appid": "wx8a3f5c2e9b7d1f04",
            "sp_mchid": "1900000109",
            "sub_mchid": "1900009231",
            "description": "街角面包房-收银台扫码",
            "out_trade_no": "SP20261124153012007",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "amount": {"total": 2350},
        },
        idempotent=True,
    )
    return answer.status_code


def partner_refund(client: Client) -> int:
    """POST v3/refund/domestic/refunds: https://pay.weixin.qq.com/doc/v3/partner/4012739034"""
    answer = client.v3.refund.domestic.refunds.post(
        json={
            "sub_mchid": "1900009231",
            "out_trade_no": "SP20261124153012004",
            "out_refund_no": "RF20261124160544000201",
            "amount": {"refund": 1500, "total": 1500, "currency": "CNY"},
        },
        idempotent=True,
    )
    return answer.status_code


def combine_jsapi_direct(client: Client) -> int:
    """POST v3/combine-transactions/jsapi: https://pay.weixin.qq.com/doc/v3/merchant/4012556926"""
    answer = client.v3.combine_transactions.jsapi.post(
        json={
            "combine_appid": "wx8a3f5c2e9b7d1f04",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CB20261124153012101",
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "深圳湾旗舰店",
                    "amount": {"total_amount": 3900, "currency": "CNY"},
                    "out_trade_no": "CB202611241530121001",
                    "description": "深圳湾旗舰店-咖啡豆500g",
                },
                {
                    "mchid": "1900008851",
                    "attach": "街角面包房",
                    "amount": {"total_amount": 1500, "currency": "CNY"},
                    "out_trade_no": "CB202611241530121002",
                    "description": "街角面包房-全麦吐司",
                },
            ],
            "combine_payer_info": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def combine_app_direct(client: Client) -> int:
    """POST v3/combine-transactions/app: https://pay.weixin.qq.com/doc/v3/merchant/4012556944"""
    answer = client.v3.combine_transactions.app.post(
        json={
            "combine_appid": "wx2f6c8e1a9d4b7035",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CB20261124153012102",
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "深圳湾旗舰店",
                    "amount": {"total_amount": 3900, "currency": "CNY"},
                    "out_trade_no": "CB202611241530122001",
                    "description": "深圳湾旗舰店-咖啡豆500g",
                },
                {
                    "mchid": "1900008851",
                    "attach": "街角面包房",
                    "amount": {"total_amount": 1500, "currency": "CNY"},
                    "out_trade_no": "CB202611241530122002",
                    "description": "街角面包房-全麦吐司",
                },
            ],
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def combine_h5_direct(client: Client) -> int:
    """POST v3/combine-transactions/h5: https://pay.weixin.qq.com/doc/v3/merchant/4012556961"""
    answer = client.v3.combine_transactions.h5.post(
        json={
            "combine_appid": "wx8a3f5c2e9b7d1f04",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CB20261124153012103",
            "scene_info": {"payer_client_ip": "14.23.150.211", "device_id": "WEB-H5-0001"},
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "深圳湾旗舰店",
                    "amount": {"total_amount": 3900, "currency": "CNY"},
                    "out_trade_no": "CB202611241530123001",
                    "description": "深圳湾旗舰店-咖啡豆500g",
                },
                {
                    "mchid": "1900008851",
                    "attach": "街角面包房",
                    "amount": {"total_amount": 1500, "currency": "CNY"},
                    "out_trade_no": "CB202611241530123002",
                    "description": "街角面包房-全麦吐司",
                },
            ],
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def combine_native_direct(client: Client) -> int:
    """POST v3/combine-transactions/native: https://pay.weixin.qq.com/doc/v3/merchant/4012556982"""
    answer = client.v3.combine_transactions.native.post(
        json={
            "combine_appid": "wx8a3f5c2e9b7d1f04",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CB20261124153012104",
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "深圳湾旗舰店",
                    "amount": {"total_amount": 3900, "currency": "CNY"},
                    "out_trade_no": "CB202611241530124001",
                    "description": "深圳湾旗舰店-咖啡豆500g",
                },
                {
                    "mchid": "1900008851",
                    "attach": "街角面包房",
                    "amount": {"total_amount": 1500, "currency": "CNY"},
                    "out_trade_no": "CB202611241530124002",
                    "description": "街角面包房-全麦吐司",
                },
            ],
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def combine_jsapi_ecommerce(client: Client) -> int:
    """POST v3/combine-transactions/jsapi: https://pay.weixin.qq.com/doc/v3/partner/4012760615"""
    answer = client.v3.combine_transactions.jsapi.post(
        json={
            "combine_appid": "wx8a3f5c2e9b7d1f04",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CE20261124153012201",
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "店铺A-订单",
                    "amount": {"total_amount": 6800, "currency": "CNY"},
                    "out_trade_no": "CE2026112415301220101",
                    "sub_mchid": "1900009231",
                    "description": "街角面包房-下午茶套餐",
                }
            ],
            "combine_payer_info": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def combine_app_ecommerce(client: Client) -> int:
    """POST v3/combine-transactions/app: https://pay.weixin.qq.com/doc/v3/partner/4015973099"""
    answer = client.v3.combine_transactions.app.post(
        json={
            "combine_appid": "wx2f6c8e1a9d4b7035",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CE20261124153012202",
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "店铺A-订单",
                    "amount": {"total_amount": 6800, "currency": "CNY"},
                    "out_trade_no": "CE2026112415301220201",
                    "sub_mchid": "1900009231",
                    "description": "街角面包房-下午茶套餐",
                }
            ],
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def combine_h5_ecommerce(client: Client) -> int:
    """POST v3/combine-transactions/h5: https://pay.weixin.qq.com/doc/v3/partner/4012760626"""
    answer = client.v3.combine_transactions.h5.post(
        json={
            "combine_appid": "wx8a3f5c2e9b7d1f04",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CE20261124153012203",
            "scene_info": {"payer_client_ip": "14.23.150.211", "device_id": "WEB-H5-0001"},
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "店铺A-订单",
                    "amount": {"total_amount": 6800, "currency": "CNY"},
                    "out_trade_no": "CE2026112415301220301",
                    "sub_mchid": "1900009231",
                    "description": "街角面包房-下午茶套餐",
                }
            ],
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def combine_native_ecommerce(client: Client) -> int:
    """POST v3/combine-transactions/native: https://pay.weixin.qq.com/doc/v3/partner/4012760629"""
    answer = client.v3.combine_transactions.native.post(
        json={
            "combine_appid": "wx8a3f5c2e9b7d1f04",
            "combine_mchid": "1900000109",
            "combine_out_trade_no": "CE20261124153012204",
            "sub_orders": [
                {
                    "mchid": "1900000109",
                    "attach": "店铺A-订单",
                    "amount": {"total_amount": 6800, "currency": "CNY"},
                    "out_trade_no": "CE2026112415301220401",
                    "sub_mchid": "1900009231",
                    "description": "街角面包房-下午茶套餐",
                }
            ],
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
        },
        idempotent=True,
    )
    return answer.status_code


def query_by_transaction_id(client: Client) -> int:
    """GET v3/pay/transactions/id/{transaction_id}: https://pay.weixin.qq.com/doc/v3/merchant/4012791858"""
    answer = client.v3.pay.transactions.id._transaction_id_.get(
        transaction_id="4200002216202611245563874219", query={"mchid": "1900000109"}
    )
    return answer.status_code


def query_by_out_trade_no(client: Client) -> int:
    """GET v3/pay/transactions/out-trade-no/{out_trade_no}: https://pay.weixin.qq.com/doc/v3/merchant/4012791859"""
    answer = client.v3.pay.transactions.out_trade_no._out_trade_no_.get(
        out_trade_no="20261124153012000123", query={"mchid": "1900000109"}
    )
    return answer.status_code


def close_order(client: Client) -> int:
    """POST v3/pay/transactions/out-trade-no/{out_trade_no}/close: https://pay.weixin.qq.com/doc/v3/merchant/4012791860"""
    answer = client.v3.pay.transactions.out_trade_no._out_trade_no_.close.post(
        out_trade_no="20261124153012000123", json={"mchid": "1900000109"}, idempotent=True
    )
    return answer.status_code


def refund_by_transaction_id(client: Client) -> int:
    """POST v3/refund/domestic/refunds: https://pay.weixin.qq.com/doc/v3/merchant/4012791862"""
    answer = client.v3.refund.domestic.refunds.post(
        json={
            "transaction_id": "4200002216202611245563874219",
            "out_refund_no": "RF20261124160544000057",
            "amount": {"refund": 1500, "total": 3900, "currency": "CNY"},
        },
        idempotent=True,
    )
    return answer.status_code


def refund_by_out_trade_no(client: Client) -> int:
    """POST v3/refund/domestic/refunds: https://pay.weixin.qq.com/doc/v3/merchant/4012791862"""
    answer = client.v3.refund.domestic.refunds.post(
        json={
            "out_trade_no": "20261124153012000123",
            "out_refund_no": "RF20261124160544000058",
            "reason": "商品缺货",
            "notify_url": "https://pay.example-shop.cn/wechatpay/refund-notify",
            "amount": {"refund": 3900, "total": 3900, "currency": "CNY"},
        },
        idempotent=True,
    )
    return answer.status_code


def refund_query(client: Client) -> int:
    """GET v3/refund/domestic/refunds/{out_refund_no}: https://pay.weixin.qq.com/doc/v3/merchant/4012791863"""
    answer = client.v3.refund.domestic.refunds._out_refund_no_.get(out_refund_no="RF20261124160544000057")
    return answer.status_code


def profitsharing_order(client: Client) -> int:
    """POST v3/profitsharing/orders: https://pay.weixin.qq.com/doc/v3/merchant/4012524936"""
    answer = client.v3.profitsharing.orders.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
            "transaction_id": "4200002216202611245563874219",
            "out_order_no": "PS20261124170000001",
            "receivers": [{"type": "MERCHANT_ID", "account": "1900012345", "amount": 300, "description": "门店分成"}],
            "unfreeze_unsplit": True,
        }
    )
    return answer.status_code


def profitsharing_return_by_order_id(client: Client) -> int:
    """POST v3/profitsharing/return-orders: https://pay.weixin.qq.com/doc/v3/merchant/4012525287"""
    answer = client.v3.profitsharing.return_orders.post(
        json={
            "order_id": "3008450740202611240007820472",
            "out_return_no": "PR20261125100000001",
            "return_mchid": "1900012345",
            "amount": 300,
            "description": "用户退款,回退门店分成",
        }
    )
    return answer.status_code


def profitsharing_return_by_out_order_no(client: Client) -> int:
    """POST v3/profitsharing/return-orders: https://pay.weixin.qq.com/doc/v3/merchant/4012525287"""
    answer = client.v3.profitsharing.return_orders.post(
        json={
            "out_order_no": "PS20261124170000001",
            "out_return_no": "PR20261125100000002",
            "return_mchid": "1900012345",
            "amount": 300,
            "description": "用户退款,回退门店分成",
        }
    )
    return answer.status_code


def transfer_small(client: Client) -> int:
    """POST v3/transfer/batches: https://pay.weixin.qq.com/doc/v3/merchant/4012458841"""
    answer = client.v3.transfer.batches.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
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
                    "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                }
            ],
        }
    )
    return answer.status_code


def transfer_large(client: Client) -> int:
    """POST v3/transfer/batches: https://pay.weixin.qq.com/doc/v3/merchant/4012458841"""
    answer = client.v3.transfer.batches.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
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
                    "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                    "user_name": "王小明",
                }
            ],
            "transfer_scene_id": "1001",
        }
    )
    return answer.status_code


def transfer_bill_small(client: Client) -> int:
    """POST v3/fund-app/mch-transfer/transfer-bills: https://pay.weixin.qq.com/doc/v3/merchant/4012716434"""
    answer = client.v3.fund_app.mch_transfer.transfer_bills.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
            "out_bill_no": "TB20261124190000001",
            "transfer_scene_id": "1000",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "transfer_amount": 188,
            "transfer_remark": "签到活动奖励",
            "transfer_scene_report_infos": [
                {"info_type": "活动名称", "info_content": "11月每日签到"},
                {"info_type": "奖励说明", "info_content": "连续签到7天奖励1.88元"},
            ],
        }
    )
    return answer.status_code


def transfer_bill_large(client: Client) -> int:
    """POST v3/fund-app/mch-transfer/transfer-bills: https://pay.weixin.qq.com/doc/v3/merchant/4012716434"""
    answer = client.v3.fund_app.mch_transfer.transfer_bills.post(
        json={
            "appid": "wx8a3f5c2e9b7d1f04",
            "out_bill_no": "TB20261124190000002",
            "transfer_scene_id": "1005",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "user_name": "王小明",
            "transfer_amount": 200000,
            "transfer_remark": "11月推广佣金",
            "transfer_scene_report_infos": [
                {"info_type": "岗位类型", "info_content": "推广员"},
                {"info_type": "报酬说明", "info_content": "11月推广佣金结算"},
            ],
        }
    )
    return answer.status_code


def trade_bill(client: Client) -> int:
    """GET v3/bill/tradebill: https://pay.weixin.qq.com/doc/v3/merchant/4012791866"""
    answer = client.v3.bill.tradebill.get(query={"bill_date": "2026-11-23"})
    return answer.status_code


def bill_download(client: Client) -> int:
    """GET v3/billdownload/file: https://pay.weixin.qq.com/doc/v3/merchant/4012791868"""
    answer = client.v3.billdownload.file.get(
        query={"token": "6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cq_isgF8HK3ZA0IYiHRS"}
    )
    return answer.status_code


def media_upload(client: Client) -> int:
    """POST v3/merchant/media/upload: https://pay.weixin.qq.com/doc/v3/partner/4012760432"""
    answer = client.v3.merchant.media.upload.post(files={"file": ("storefront.png", STOREFRONT_PNG)})
    return answer.status_code


def v2_unifiedorder(client: Client) -> int:
    """POST v2/pay/unifiedorder: https://pay.weixin.qq.com/doc/v2/merchant/4011935214"""
    answer = client.v2.pay.unifiedorder.post(
        xml={
            "appid": "wx8a3f5c2e9b7d1f04",
            "mch_id": "1900000109",
            "body": "深圳湾旗舰店-咖啡豆500g",
            "out_trade_no": "20261124153012000456",
            "total_fee": 3900,
            "spbill_create_ip": "14.23.150.211",
            "notify_url": "https://pay.example-shop.cn/wechatpay/notify",
            "trade_type": "JSAPI",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        },
        idempotent=True,
    )
    return answer.status_code


def v2_orderquery_by_out_trade_no(client: Client) -> int:
    """POST v2/pay/orderquery: https://pay.weixin.qq.com/doc/v2/merchant/4011935215"""
    answer = client.v2.pay.orderquery.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "out_trade_no": "20261124153012000456"}
    )
    return answer.status_code


def v2_orderquery_by_transaction_id(client: Client) -> int:
    """POST v2/pay/orderquery: https://pay.weixin.qq.com/doc/v2/merchant/4011935215"""
    answer = client.v2.pay.orderquery.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "transaction_id": "4200002217202611245563870011"}
    )
    return answer.status_code


def v2_closeorder(client: Client) -> int:
    """POST v2/pay/closeorder: https://pay.weixin.qq.com/doc/v2/merchant/4011935216"""
    answer = client.v2.pay.closeorder.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "out_trade_no": "20261124153012000456"}
    )
    return answer.status_code


def v2_refund_by_out_trade_no(client: Client) -> int:
    """POST v2/secapi/pay/refund: https://pay.weixin.qq.com/doc/v2/merchant/4011935217"""
    answer = client.v2.secapi.pay.refund.post(
        xml={
            "appid": "wx8a3f5c2e9b7d1f04",
            "mch_id": "1900000109",
            "out_trade_no": "20261124153012000456",
            "out_refund_no": "RF20261124160544000101",
            "total_fee": 3900,
            "refund_fee": 1500,
        },
        idempotent=True,
    )
    return answer.status_code


def v2_refund_by_transaction_id(client: Client) -> int:
    """POST v2/secapi/pay/refund: https://pay.weixin.qq.com/doc/v2/merchant/4011935217"""
    answer = client.v2.secapi.pay.refund.post(
        xml={
            "appid": "wx8a3f5c2e9b7d1f04",
            "mch_id": "1900000109",
            "transaction_id": "4200002217202611245563870011",
            "out_refund_no": "RF20261124160544000102",
            "total_fee": 3900,
            "refund_fee": 3900,
        },
        idempotent=True,
    )
    return answer.status_code


def v2_refundquery_by_out_refund_no(client: Client) -> int:
    """POST v2/pay/refundquery: https://pay.weixin.qq.com/doc/v2/merchant/4011935218"""
    answer = client.v2.pay.refundquery.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "out_refund_no": "RF20261124160544000101"}
    )
    return answer.status_code


def v2_refundquery_by_refund_id(client: Client) -> int:
    """POST v2/pay/refundquery: https://pay.weixin.qq.com/doc/v2/merchant/4011935218"""
    answer = client.v2.pay.refundquery.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "refund_id": "50300708012026112412345678901"}
    )
    return answer.status_code


def v2_refundquery_by_transaction_id(client: Client) -> int:
    """POST v2/pay/refundquery: https://pay.weixin.qq.com/doc/v2/merchant/4011935218"""
    answer = client.v2.pay.refundquery.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "transaction_id": "4200002217202611245563870011"}
    )
    return answer.status_code


def v2_refundquery_by_out_trade_no(client: Client) -> int:
    """POST v2/pay/refundquery: https://pay.weixin.qq.com/doc/v2/merchant/4011935218"""
    answer = client.v2.pay.refundquery.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "out_trade_no": "20261124153012000456"}
    )
    return answer.status_code


def v2_reverse(client: Client) -> int:
    """POST v2/secapi/pay/reverse: https://pay.weixin.qq.com/doc/v2/merchant/4011937361"""
    answer = client.v2.secapi.pay.reverse.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "out_trade_no": "MP20261124153012000789"}
    )
    return answer.status_code


def v2_downloadbill(client: Client) -> int:
    """POST v2/pay/downloadbill: https://pay.weixin.qq.com/doc/v2/merchant/4011935219"""
    answer = client.v2.pay.downloadbill.post(
        xml={"appid": "wx8a3f5c2e9b7d1f04", "mch_id": "1900000109", "bill_date": "20261123", "bill_type": "ALL"}
    )
    return answer.status_code


def v2_micropay(client: Client) -> int:
    """POST v2/pay/micropay: https://pay.weixin.qq.com/doc/v2/merchant/4011937125"""
    answer = client.v2.pay.micropay.post(
        xml={
            "appid": "wx8a3f5c2e9b7d1f04",
            "mch_id": "1900000109",
            "body": "街角便利店-早餐套餐",
            "out_trade_no": "MP20261124153012000789",
            "total_fee": 1250,
            "spbill_create_ip": "183.6.105.27",
            "auth_code": "134675498321650213",
        }
    )
    return answer.status_code


def v2_profitsharing(client: Client) -> int:
    """POST v2/secapi/pay/profitsharing: https://pay.weixin.qq.com/doc/v2/merchant/4011941670"""
    answer = client.v2.secapi.pay.profitsharing.post(
        xml={
            "mch_id": "1900000109",
            "appid": "wx8a3f5c2e9b7d1f04",
            "sign_type": "HMAC-SHA256",
            "transaction_id": "4200002217202611245563870011",
            "out_order_no": "PS20261124170000101",
            "receivers": '[{"type":"MERCHANT_ID","account":"1900012345","amount":300,"description":"门店分成"}]',
        },
        idempotent=True,
    )
    return answer.status_code


def v2_profitsharingreturn_by_order_id(client: Client) -> int:
    """POST v2/secapi/pay/profitsharingreturn: https://pay.weixin.qq.com/doc/v2/merchant/4011984166"""
    answer = client.v2.secapi.pay.profitsharingreturn.post(
        xml={
            "mch_id": "1900000109",
            "appid": "wx8a3f5c2e9b7d1f04",
            "sign_type": "HMAC-SHA256",
            "order_id": "3008450740202611240007820511",
            "out_return_no": "PR20261125100000101",
            "return_account_type": "MERCHANT_ID",
            "return_account": "1900012345",
            "return_amount": 300,
            "description": "用户退款",
        },
        idempotent=True,
    )
    return answer.status_code


def v2_profitsharingreturn_by_out_order_no(client: Client) -> int:
    """POST v2/secapi/pay/profitsharingreturn: https://pay.weixin.qq.com/doc/v2/merchant/4011984166"""
    answer = client.v2.secapi.pay.profitsharingreturn.post(
        xml={
            "mch_id": "1900000109",
            "appid": "wx8a3f5c2e9b7d1f04",
            "sign_type": "HMAC-SHA256",
            "out_order_no": "PS20261124170000101",
            "out_return_no": "PR20261125100000102",
            "return_account_type": "MERCHANT_ID",
            "return_account": "1900012345",
            "return_amount": 300,
            "description": "用户退款",
        },
        idempotent=True,
    )
    return answer.status_code


def v2_profitsharingreturnquery_by_order_id(client: Client) -> int:
    """POST v2/pay/profitsharingreturnquery: https://pay.weixin.qq.com/doc/v2/merchant/4011984233"""
    answer = client.v2.pay.profitsharingreturnquery.post(
        xml={
            "mch_id": "1900000109",
            "appid": "wx8a3f5c2e9b7d1f04",
            "sign_type": "HMAC-SHA256",
            "order_id": "3008450740202611240007820511",
            "out_return_no": "PR20261125100000101",
        }
    )
    return answer.status_code


def v2_profitsharingreturnquery_by_out_order_no(client: Client) -> int:
    """POST v2/pay/profitsharingreturnquery: https://pay.weixin.qq.com/doc/v2/merchant/4011984233"""
    answer = client.v2.pay.profitsharingreturnquery.post(
        xml={
            "mch_id": "1900000109",
            "appid": "wx8a3f5c2e9b7d1f04",
            "sign_type": "HMAC-SHA256",
            "out_order_no": "PS20261124170000101",
            "out_return_no": "PR20261125100000102",
        }
    )
    return answer.status_code
