"""The QMT gate's options (``set_options`` keys), validated when the gate is built.

Each field is one ``set_options`` key; its ``metadata`` documents it for the options
reference (``{"doc": "中文说明", "type": "..."}``). Errors are
:class:`~jqtrade.errors.OptionValueError` naming the key and what is allowed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Optional

import attrs

from jqtrade.errors import GateConfigError, OptionValueError

#: The module holding ``xttrader``/``xttype``/``xtconstant``: the real one, or the simulated
#: one (``jqtrade.sim.xtquant``) for paper trading and tests.
REAL_XTQUANT = "xtquant"
SIM_XTQUANT = "jqtrade.sim.xtquant"

ACCOUNT_TYPES = ("STOCK",)


def _doc(text: str, type_text: str) -> dict[str, Any]:
    return {"group": "qmt", "doc": text, "type": type_text}


def _folder(value: Any) -> Path:
    if isinstance(value, os.PathLike) or (isinstance(value, str) and value.strip()):
        return Path(os.fspath(value)).expanduser()
    raise OptionValueError(
        "userdata_mini",
        value,
        r"应为 miniQMT 的 userdata_mini 文件夹路径，如 r'D:\国金QMT交易端\userdata_mini'",
    )


def _account(name: str) -> Callable[[Any], Optional[str]]:
    def convert(value: Any) -> Optional[str]:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise OptionValueError(name, value, "应为资金账号字符串，如 '8881234567'")
        return value.strip()

    return convert


def _account_type(value: Any) -> str:
    text = value.strip().upper() if isinstance(value, str) else value
    if text == "CREDIT":
        raise OptionValueError(
            "account_type",
            value,
            "QMT 交易接口暂不支持信用（两融）账户；请用普通股票账户，写 account_type='STOCK'",
        )
    if text not in ACCOUNT_TYPES:
        raise OptionValueError("account_type", value, "目前只支持 'STOCK'（普通股票账户）")
    return str(text)


def _session(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31 - 1_000:
        raise OptionValueError(
            "session_id", value, "应为 1 到 2147482647 之间的整数；不设置时每个进程自动选一个"
        )
    return value


def _seconds(name: str, *, allow_zero: bool = False) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise OptionValueError(name, value, "应为有限的秒数")
        if value < 0 or (value == 0 and not allow_zero):
            raise OptionValueError(name, value, "应 ≥ 0" if allow_zero else "应 > 0")
        return float(value)

    return convert


def _module(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OptionValueError(
            "xtquant_module",
            value,
            f"应为模块名：{REAL_XTQUANT!r}（默认）或 {SIM_XTQUANT!r}（模拟）",
        )
    return value.strip()


def _account_id(value: Any) -> Optional[str]:
    return _account("account_id")(value)


def _account_no(value: Any) -> Optional[str]:
    return _account("account_no")(value)


def _connect_timeout(value: Any) -> float:
    return _seconds("connect_timeout")(value)


def _query_timeout(value: Any) -> float:
    return _seconds("query_timeout")(value)


def _order_confirm_timeout(value: Any) -> float:
    return _seconds("order_confirm_timeout")(value)


def _reconnect_interval(value: Any) -> float:
    return _seconds("reconnect_interval")(value)


def _reconnect_max_interval(value: Any) -> float:
    return _seconds("reconnect_max_interval")(value)


@attrs.frozen(kw_only=True)
class QmtConfig:
    """Options of the QMT (miniQMT / xtquant) gate."""

    userdata_mini: Path = attrs.field(
        converter=_folder,
        metadata=_doc(
            "miniQMT 安装目录下的 userdata_mini 文件夹（必填），如 r'D:\\国金QMT交易端\\userdata_mini'",
            "str",
        ),
    )
    account_id: Optional[str] = attrs.field(
        default=None,
        converter=_account_id,
        metadata=_doc("在 miniQMT 中登录的资金账号；不设置时使用 account_no", "str"),
    )
    account_no: Optional[str] = attrs.field(
        default=None,
        converter=_account_no,
        metadata=_doc("资金账号（与 account_id 相同，二者设置一个即可）", "str"),
    )
    account_type: str = attrs.field(
        default="STOCK",
        converter=_account_type,
        metadata=_doc("账户类型：只支持 'STOCK'（普通股票账户）；'CREDIT' 信用账户暂不支持", "str"),
    )
    session_id: Optional[int] = attrs.field(
        default=None,
        converter=_session,
        metadata=_doc(
            "与 miniQMT 通信的会话号；同时运行的每个程序必须不同。不设置时每个进程自动随机选一个，"
            "断线重连时换新的；设置后首次连接用它，第 n 次重连用它加 n",
            "int",
        ),
    )
    connect_timeout: float = attrs.field(
        default=10.0,
        converter=_connect_timeout,
        metadata=_doc("连接、订阅 miniQMT 的超时（秒）", "float（秒）"),
    )
    query_timeout: float = attrs.field(
        default=5.0,
        converter=_query_timeout,
        metadata=_doc(
            "查询委托、成交、资金、持仓的超时（秒）；超时视为连接异常并重连", "float（秒）"
        ),
    )
    order_confirm_timeout: float = attrs.field(
        default=10.0,
        converter=_order_confirm_timeout,
        metadata=_doc(
            "下单后这么久仍没有任何回报时，按委托备注查询当日委托确认订单（秒）", "float（秒）"
        ),
    )
    reconnect_interval: float = attrs.field(
        default=2.0,
        converter=_reconnect_interval,
        metadata=_doc("断线后第一次重连前等待的秒数；之后每次失败加倍", "float（秒）"),
    )
    reconnect_max_interval: float = attrs.field(
        default=60.0,
        converter=_reconnect_max_interval,
        metadata=_doc("断线重连等待时间的上限（秒）", "float（秒）"),
    )
    xtquant_module: str = attrs.field(
        default=REAL_XTQUANT,
        converter=_module,
        metadata=_doc(
            f"提供 xttrader/xttype/xtconstant 的模块：默认 {REAL_XTQUANT!r}（真实 miniQMT）；"
            f"{SIM_XTQUANT!r} 为 jqtrade 自带的模拟 miniQMT（模拟盘和测试用）",
            "str",
        ),
    )

    def __attrs_post_init__(self) -> None:
        if self.account_id is None and self.account_no is None:
            raise GateConfigError(
                "使用 QMT 交易接口必须设置资金账号：set_options(trade_gate='qmt', account_id='你的资金账号', "
                "userdata_mini=r'...\\userdata_mini')"
            )
        if (
            self.account_id is not None
            and self.account_no is not None
            and self.account_id != self.account_no
        ):
            raise GateConfigError(
                f"account_id={self.account_id!r} 与 account_no={self.account_no!r} 不一致：QMT 交易接口只用一个资金账号，请只设置其中一个"
            )

    @property
    def account(self) -> str:
        """The fund account to trade (``account_id``, else ``account_no``)."""
        return self.account_id or self.account_no or ""

    @property
    def simulated(self) -> bool:
        return self.xtquant_module != REAL_XTQUANT
