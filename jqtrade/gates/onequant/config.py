"""The OneQuant gate's options: one attrs class, the only place they are validated.

Each field is one ``set_options`` key. Its converter raises
:class:`jqtrade.errors.OptionValueError` naming the key; its ``metadata`` documents it for the
options reference (``doc``, ``type``) and, under ``legacy``, holds the reader of jqtrade 1.0's
looser spellings (see :mod:`jqtrade.options`). ``strict`` (``counter_type`` only) is the extra
check of the strict reading (the class API), which refuses counter types a legacy script may
still send.

What depends on the machine is checked when the gate is configured, not here: whether
``order_dir`` (or a default folder) exists, and that ``account_no`` is set
(:class:`jqtrade.errors.GateConfigError`).
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Mapping
from typing import Any, Optional

import attrs

from jqtrade.errors import OptionValueError
from jqtrade.gates.onequant.protocol import COUNTER_TYPES, CREDIT_COUNTER_TYPES, DEFAULT_ENCODING
from jqtrade.option_fields import (
    bool_option,
    loose_bool,
    loose_number,
    loose_path,
    number_option,
    text_option,
)

#: Counter types the strict reading accepts: the working ones and the credit ones jqtrade 1.0
#: accepted (the gate warns about every counter but UM0).
KNOWN_COUNTER_TYPES = (*COUNTER_TYPES, *CREDIT_COUNTER_TYPES)
_COUNTER_CODE = re.compile(r"[A-Za-z0-9]{1,16}")


def _doc(text: str, type_text: str, **extra: Any) -> dict[str, Any]:
    return {"group": "gate", "doc": text, "type": type_text, **extra}


# --- converters ------------------------------------------------------------------------------


def _account_no(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise OptionValueError("account_no", value, "应为资金账号字符串，如 '1234567'")
    return value.strip()


def _counter_type(value: Any) -> str:
    """Any counter code goes to the broker (it decides), as in jqtrade 1.0; it must still fit
    in a CSV field."""
    text = text_option("counter_type")(value)
    if not _COUNTER_CODE.fullmatch(text):
        known = "、".join(f"{code}（{label}）" for code, label in COUNTER_TYPES.items())
        raise OptionValueError("counter_type", value, f"应为柜台类型代码，如 {known}")
    return str(text)


def strict_counter_type(value: Any) -> None:
    """The strict reading's extra check: only :data:`KNOWN_COUNTER_TYPES`."""
    if isinstance(value, str) and value.strip() not in KNOWN_COUNTER_TYPES:
        raise OptionValueError("counter_type", value, f"可选值：{', '.join(KNOWN_COUNTER_TYPES)}")


def _encoding(value: Any) -> str:
    if value is None:
        return DEFAULT_ENCODING
    if not isinstance(value, str):
        raise OptionValueError("file_encoding", value, "应为编码名称，如 'gbk' 或 'utf-8'")
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise OptionValueError(
            "file_encoding", value, "Python 不认识这个编码，常用的有 'gbk'、'utf-8'"
        ) from None


def _retry(value: Any) -> dict[str, float]:
    allowed = {"max_attempts", "attempt_internal"}
    if value is None:
        value = {}
    if not isinstance(value, Mapping) or set(value) - allowed:
        raise OptionValueError(
            "sync_retry_kwargs", value, "应为只含 max_attempts、attempt_internal 两个键的 dict"
        )
    out = {"max_attempts": 3, "attempt_internal": 0.15}
    out.update(value)
    attempts = out["max_attempts"]
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise OptionValueError("sync_retry_kwargs", value, "max_attempts 应为 ≥ 1 的整数")
    interval = out["attempt_internal"]
    if (
        isinstance(interval, bool)
        or not isinstance(interval, (int, float))
        or not 0 <= interval < math.inf
    ):
        raise OptionValueError("sync_retry_kwargs", value, "attempt_internal 应为 ≥ 0 的秒数")
    return {"max_attempts": attempts, "attempt_internal": float(interval)}


_order_dir_text = text_option("order_dir", optional=True)
_account_type_text = text_option("account_type", choices=("STOCK",))
_algo_type_text = text_option("algo_type", choices=("DMA",))
_lock_interval = number_option("wait_lock_internal", minimum=0.001, allow_zero=True)
_lock_timeout = number_option("wait_lock_time_out")
_ignore_error_line = bool_option("ignore_error_line")


def _order_dir(value: Any) -> Optional[str]:
    return _order_dir_text(value)  # type: ignore[no-any-return]


def _account_type(value: Any) -> str:
    return str(_account_type_text(value))


def _algo_type(value: Any) -> str:
    return str(_algo_type_text(value))


def _wait_lock_internal(value: Any) -> float:
    return _lock_interval(value)


def _wait_lock_time_out(value: Any) -> float:
    return _lock_timeout(value)


def _ignore(value: Any) -> bool:
    return _ignore_error_line(value)


# --- jqtrade 1.0's loose readings ---------------------------------------------------------------


def _loose_counter(value: Any) -> tuple[Any, Optional[str]]:
    """1.0 sent any counter type to OneQuant, with a warning; so does a legacy script."""
    if not isinstance(value, str) or not value.strip() or value.strip() in KNOWN_COUNTER_TYPES:
        return value, None
    return value.strip(), (
        f"选项 counter_type={value.strip()!r} 不是已知的柜台类型（{'、'.join(KNOWN_COUNTER_TYPES)}）："
        "jqtrade 1.0 只警告、照样使用，这里同样照样使用；柜台类型不对会导致委托失败，请与客户经理确认"
    )


# --- the config ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OneQuantConfig:
    """OneQuant DMA 文件单交易接口的选项（名称与 ``set_options`` 相同）。"""

    account_no: Optional[str] = attrs.field(
        default=None,
        converter=_account_no,
        metadata=_doc("资金账号（使用 OneQuant 接口时必填）", "str"),
    )
    order_dir: Optional[str] = attrs.field(
        default=None,
        converter=_order_dir,
        metadata=_doc(
            "OneQuant DMA 文件单目录；不设置时使用已存在的默认目录", "str", legacy=loose_path
        ),
    )
    account_type: str = attrs.field(
        default="STOCK",
        converter=_account_type,
        metadata=_doc("策略账户类型，目前只支持 STOCK", "str"),
    )
    counter_type: str = attrs.field(
        # Any code here: the strict reading also runs metadata["strict"]; a legacy script may pass others.
        default="UM0",
        converter=_counter_type,
        metadata=_doc(
            "柜台类型：UM0 普通股票账户（默认）、UF0 金证极速、AT0 华锐极速；UMC、UFC 信用账户（与 jqtrade 1.0 "
            "一样可用，只做普通买卖）",
            "str",
            legacy=_loose_counter,
            strict=strict_counter_type,
        ),
    )
    algo_type: str = attrs.field(
        default="DMA",
        converter=_algo_type,
        metadata=_doc("算法交易类型，目前只支持 DMA", "str"),
    )
    wait_lock_internal: float = attrs.field(
        default=0.05,
        converter=_wait_lock_internal,
        metadata=_doc(
            "写文件单时等待文件锁的轮询间隔（秒）",
            "float（秒）",
            legacy=loose_number("wait_lock_internal"),
        ),
    )
    wait_lock_time_out: float = attrs.field(
        default=5.0,
        converter=_wait_lock_time_out,
        metadata=_doc(
            "写文件单时获取文件锁的超时时间（秒）",
            "float（秒）",
            legacy=loose_number("wait_lock_time_out"),
        ),
    )
    file_encoding: str = attrs.field(
        default=DEFAULT_ENCODING,
        converter=_encoding,
        metadata=_doc("文件单编码；不设置时为 'gbk'（中文 Windows 上 OneQuant 的编码）", "str"),
    )
    sync_retry_kwargs: dict[str, float] = attrs.field(
        factory=lambda: {"max_attempts": 3, "attempt_internal": 0.15},
        converter=_retry,
        metadata=_doc(
            "读取资金/持仓文件不完整时的重试：max_attempts 次数、attempt_internal 间隔（秒）",
            "dict",
        ),
    )
    ignore_error_line: bool = attrs.field(
        default=True,
        converter=_ignore,
        metadata=_doc(
            "无法解析的行总是记录日志并跳过，不会卡住后面的行；True 时按 WARNING 记录，False 时按 ERROR 记录",
            "bool",
            legacy=loose_bool("ignore_error_line"),
        ),
    )

    @property
    def max_attempts(self) -> int:
        return int(self.sync_retry_kwargs["max_attempts"])

    @property
    def attempt_internal(self) -> float:
        return float(self.sync_retry_kwargs["attempt_internal"])
