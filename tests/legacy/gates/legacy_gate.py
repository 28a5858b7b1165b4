# -*- coding: utf-8 -*-
"""A jqtrade 1.0 custom trade gate (issue 10, item 6), written against 1.0's AbsTradeGate.

An in-memory "broker": cash 500000, one holding of 000001.XSHE, every order accepted and left
open until cancelled. It speaks 1.0's dicts: ``total_asset``/``available_cash``/``locked_cash``,
positions with ``amount``/``available_amount``, orders with ``avg_cost``/``confirm_id`` and
``style``/``create_time``. It prints what it was given so that tests can check it.
"""
import datetime

from jqtrade.account.trade_gate import AbsTradeGate
from jqtrade.account.order import OrderAction, OrderStatus


class LegacyDictGate(AbsTradeGate):
    def __init__(self):
        super(LegacyDictGate, self).__init__()
        self._orders = {}

    def setup(self, options):
        self._options = options
        print("CHECK gate_setup_account_no", repr(options.get("account_no")))
        print("CHECK gate_setup_broker_host", repr(options.get("my_broker_host")))

    def order(self, sys_order):
        action = sys_order.action
        is_open = action == OrderAction.open or getattr(action, "value", action) == "open"
        style = "market" if sys_order.style.__class__.__name__ == "MarketOrderStyle" else "limit"
        price = sys_order.style.price if style == "limit" else 0
        self._orders[sys_order.order_id] = {
            "order_id": sys_order.order_id,
            "code": sys_order.code,
            "price": price,
            "amount": abs(sys_order.amount),
            "action": "open" if is_open else "close",
            "status": OrderStatus.open.value,
            "style": style,
            "create_time": datetime.datetime.now(),
            "entrust_time": datetime.datetime.now(),
            "side": "long",
            "confirm_id": "B" + str(sys_order.order_id),
            "filled_amount": 0,
            "canceled_amount": 0,
            "deal_balance": 0,
            "avg_cost": 0,
            "commission": 0,
            "err_msg": "",
        }
        print("CHECK gate_order", repr([str(sys_order.order_id), str(sys_order.code), int(abs(sys_order.amount)), float(price or 0)]))

    def cancel_order(self, order_id):
        info = self._orders.get(str(order_id))
        if info is not None and info["status"] == OrderStatus.open.value:
            info["status"] = OrderStatus.canceled.value
            info["canceled_amount"] = info["amount"]
        print("CHECK gate_cancel", repr(str(order_id)))

    def sync_balance(self):
        return {
            "cash": {"total_asset": 511000.0, "available_cash": 500000.0, "locked_cash": 0.0},
            "positions": [
                {
                    "code": "000001.XSHE",
                    "amount": 1000,
                    "available_amount": 800,
                    "avg_cost": 10.5,
                    "side": "long",
                    "last_price": 11.0,
                    "position_value": 11000.0,
                },
            ],
        }

    def sync_orders(self):
        return [dict(info) for info in self._orders.values()]


class TotalAssertGate(LegacyDictGate):
    """Follows the 1.0 AbsTradeGate docstring, which spells the cash key ``total_assert``
    (1.0's account read ``total_asset`` and silently kept 0)."""

    def sync_balance(self):
        data = super(TotalAssertGate, self).sync_balance()
        cash = data["cash"]
        data["cash"] = {"total_assert": cash["total_asset"], "available_cash": cash["available_cash"],
                        "locked_cash": cash["locked_cash"]}
        return data
