"""The simulated miniQMT's data objects: the names, constructor arguments and attributes of
``xtquant.xttype`` that jqtrade reads (our own code, written from xtquant's documentation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jqtrade.sim.xtquant import xtconstant


class StockAccount:
    """资金账号. Like xtquant, a non-string id gives back an error text instead of an account."""

    account_id: str
    account_type: int

    def __new__(cls, account_id: Any, account_type: str = "STOCK") -> Any:
        if not isinstance(account_id, str):
            return "资金账号必须为字符串类型"
        return super().__new__(cls)

    def __init__(self, account_id: str, account_type: str = "STOCK") -> None:
        wanted = account_type.upper()
        for number, name in xtconstant.ACCOUNT_TYPE_DICT.items():
            if name == wanted:
                self.account_type = number
                self.account_id = account_id
                return
        raise Exception(f"不支持的账号类型：{account_type}！")  # noqa: TRY002 - xtquant raises a bare Exception


class _Record:
    _fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = dict(zip(self._fields, args))
        values.update(kwargs)
        for name in self._fields:
            setattr(self, name, values.get(name))
        if "account_type" not in self._fields:
            self.account_type = xtconstant.SECURITY_ACCOUNT

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def __repr__(self) -> str:
        body = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({body})"


class XtAsset(_Record):
    _fields = ("account_id", "cash", "frozen_cash", "market_value", "total_asset", "fetch_balance")


class XtOrder(_Record):
    _fields = (
        "account_id",
        "stock_code",
        "order_id",
        "order_sysid",
        "order_time",
        "order_type",
        "order_volume",
        "price_type",
        "price",
        "traded_volume",
        "traded_price",
        "order_status",
        "status_msg",
        "strategy_name",
        "order_remark",
        "direction",
        "offset_flag",
        "secu_account",
        "instrument_name",
    )


class XtTrade(_Record):
    _fields = (
        "account_id",
        "stock_code",
        "order_type",
        "traded_id",
        "traded_time",
        "traded_price",
        "traded_volume",
        "traded_amount",
        "order_id",
        "order_sysid",
        "strategy_name",
        "order_remark",
        "direction",
        "offset_flag",
        "commission",
        "secu_account",
        "instrument_name",
    )


class XtPosition(_Record):
    _fields = (
        "account_id",
        "stock_code",
        "volume",
        "can_use_volume",
        "open_price",
        "market_value",
        "frozen_volume",
        "on_road_volume",
        "yesterday_volume",
        "avg_price",
        "direction",
        "last_price",
        "profit_rate",
        "secu_account",
        "instrument_name",
    )


class XtOrderError(_Record):
    _fields = ("account_id", "order_id", "error_id", "error_msg", "strategy_name", "order_remark")


class XtCancelError(_Record):
    _fields = ("account_id", "order_id", "market", "order_sysid", "error_id", "error_msg")


class XtOrderResponse(_Record):
    _fields = ("account_id", "order_id", "strategy_name", "order_remark", "error_msg", "seq")


class XtCancelOrderResponse(_Record):
    _fields = ("account_id", "cancel_result", "order_id", "order_sysid", "seq", "error_msg")


class XtAccountStatus(_Record):
    _fields = ("account_id", "account_type", "status")
