"""Every ``set_options`` key in one place: type, default, validation and Chinese doc.

The :class:`Options` fields *are* the option table; ``docs/`` and error messages are generated
from ``attrs.fields(Options)`` so they cannot drift from the code.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from typing import Any, Callable, Optional

import attrs

from jqtrade.errors import OptionValueError, UnknownOptionError

#: Legacy spellings accepted by ``set_options``.
ALIASES = {"sync_internal": "sync_interval"}

Period = tuple[tuple[datetime.time, datetime.time], ...]


def _doc(group: str, text: str, type_text: str) -> dict[str, str]:
    return {"group": group, "doc": text, "type": type_text}


def _bool(name: str) -> Callable[[Any], bool]:
    def convert(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise OptionValueError(name, value, "应为 True 或 False")

    return convert


def _number(name: str, *, minimum: float = 0.0, allow_zero: bool = False) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptionValueError(name, value, "应为数字（单位：秒）")
        if not math.isfinite(value):
            raise OptionValueError(name, value, "应为有限的数字（单位：秒），不能是 nan 或 inf")
        if value < minimum or (value == minimum and not allow_zero):
            bound = f"≥ {minimum:g}" if allow_zero else f"> {minimum:g}"
            raise OptionValueError(name, value, f"应 {bound}")
        return float(value)

    return convert


def _text(name: str, *, choices: Optional[tuple[str, ...]] = None, optional: bool = False) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise OptionValueError(name, value, "应为非空字符串")
        value = value.strip()
        if choices is not None and value not in choices:
            raise OptionValueError(name, value, f"可选值：{', '.join(choices)}")
        return value

    return convert


def _account_no(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise OptionValueError("account_no", value, "应为资金账号字符串，如 '1234567'")
    return value.strip()


def _periods(name: str, *, optional: bool = False) -> Callable[[Any], Optional[Period]]:
    def convert(value: Any) -> Optional[Period]:
        if value is None and optional:
            return None
        from jqtrade.schedule import parse_market_period

        try:
            return parse_market_period(value)
        except OptionValueError as exc:
            if name == "market_period":
                raise
            raise OptionValueError(name, value, str(exc).split("：", 1)[-1]) from None

    return convert


def _encoding(value: Any) -> Optional[str]:
    if value is None:
        return None
    import codecs

    if not isinstance(value, str):
        raise OptionValueError("file_encoding", value, "应为编码名称，如 'gbk' 或 'utf-8'")
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise OptionValueError("file_encoding", value, "Python 不认识这个编码，常用的有 'gbk'、'utf-8'") from None


def _retry(value: Any) -> dict[str, float]:
    allowed = {"max_attempts", "attempt_internal"}
    if not isinstance(value, Mapping) or set(value) - allowed:
        raise OptionValueError("sync_retry_kwargs", value, "应为只含 max_attempts、attempt_internal 两个键的 dict")
    out = {"max_attempts": 3, "attempt_internal": 0.15}
    out.update(value)
    attempts = out["max_attempts"]
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise OptionValueError("sync_retry_kwargs", value, "max_attempts 应为 ≥ 1 的整数")
    interval = out["attempt_internal"]
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0 <= interval < math.inf:
        raise OptionValueError("sync_retry_kwargs", value, "attempt_internal 应为 ≥ 0 的秒数")
    return {"max_attempts": attempts, "attempt_internal": float(interval)}


def _gate_path(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?", value.strip()):
        return value.strip()
    if isinstance(value, str) and value.strip() in ("onequant", "fake"):
        return value.strip()
    raise OptionValueError("trade_gate", value, "应为 'onequant' 或 '包.模块:类名' 形式的字符串，如 'my_gates.broker:MyGate'")


def _holidays(value: Any) -> tuple[datetime.date, ...]:
    from jqtrade.calendar import parse_closure_dates

    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise OptionValueError("extra_holidays", value, "应为日期列表，如 ['2027-01-01', '2027-02-08']")
    try:
        return tuple(parse_closure_dates(value, "extra_holidays"))
    except ValueError as exc:
        raise OptionValueError("extra_holidays", value, str(exc)) from None


def _checks(value: Any) -> frozenset[str]:
    from jqtrade.account.checks import DISABLEABLE_CHECKS

    allowed = ", ".join(sorted(DISABLEABLE_CHECKS))
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise OptionValueError("disabled_checks", value, f"应为检查代码列表，可选：{allowed}")
    bad = [v for v in value if v not in DISABLEABLE_CHECKS]
    if bad:
        raise OptionValueError("disabled_checks", bad, f"可选的检查代码：{allowed}")
    return frozenset(value)


def _max_age(value: Any) -> Optional[float]:
    if value is None:
        return None
    return _number("max_snapshot_age", minimum=1.0, allow_zero=True)(value)


def _gate_options(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise OptionValueError("gate_options", value, "应为 dict，内容原样交给自定义交易接口的 setup")
    return dict(value)


def _callback_error(value: Any) -> str:
    return _text("on_callback_error", choices=("log", "stop"))(value)


@attrs.frozen(kw_only=True)
class Options:
    """The validated options of one strategy process."""

    # --- scheduler ---------------------------------------------------------------------------
    runtime_dir: str = attrs.field(
        default="~/jqtrade", converter=_text("runtime_dir"),
        metadata=_doc("scheduler", "运行时目录：任务登记、订单日志、节假日文件都放在这里", "str"),
    )
    use_account: bool = attrs.field(
        default=False, converter=_bool("use_account"),
        metadata=_doc("scheduler", "是否开启账户模块；设置了 account_no 时自动开启", "bool"),
    )
    market_period: Period = attrs.field(
        default=(("09:30:00", "11:30:00"), ("13:00:00", "15:00:00")),
        converter=_periods("market_period"),
        metadata=_doc("scheduler", "交易时间段，决定 open、close、every_minute 的含义", "list[tuple[str, str]]"),
    )
    misfire_grace_time: float = attrs.field(
        default=60.0, converter=_number("misfire_grace_time", allow_zero=True),
        metadata=_doc("scheduler", "定时任务错过预定时间后，在多少秒内仍补跑；超过则跳过并告警", "float（秒）"),
    )
    on_callback_error: str = attrs.field(
        default="log", converter=_callback_error,
        metadata=_doc("scheduler", "用户函数抛出异常时：'log' 记录完整堆栈后继续运行；'stop' 停止任务", "str"),
    )
    extra_holidays: tuple[datetime.date, ...] = attrs.field(
        default=(), converter=_holidays,
        metadata=_doc("scheduler", "额外的休市日（内置交易日历尚未覆盖的年份或临时休市），如 ['2027-01-01']", "list[str]"),
    )

    # --- account -----------------------------------------------------------------------------
    trade_gate: Optional[str] = attrs.field(
        default=None, converter=_gate_path,
        metadata=_doc("account", "交易接口：默认 'onequant'（安信/国投 OneQuant DMA）；自定义接口写 '包.模块:类名'", "str"),
    )
    sync_balance: bool = attrs.field(
        default=True, converter=_bool("sync_balance"),
        metadata=_doc("account", "是否定时同步资金和持仓", "bool"),
    )
    sync_order: bool = attrs.field(
        default=True, converter=_bool("sync_order"),
        metadata=_doc("account", "是否定时同步订单", "bool"),
    )
    sync_period: Optional[Period] = attrs.field(
        default=None, converter=_periods("sync_period", optional=True),
        metadata=_doc("account", "只在这些时间段内定时同步；不设置时启动后一直同步", "list[tuple[str, str]]"),
    )
    sync_interval: float = attrs.field(
        default=5.0, converter=_number("sync_interval", minimum=0.1, allow_zero=True),
        metadata=_doc("account", "资金、持仓的同步间隔（秒）；旧写法 sync_internal 同样可用", "float（秒）"),
    )
    order_sync_interval: float = attrs.field(
        default=0.5, converter=_number("order_sync_interval", minimum=0.05, allow_zero=True),
        metadata=_doc("account", "订单状态的检查间隔（秒）；文件没变化时几乎没有开销", "float（秒）"),
    )
    max_snapshot_age: Optional[float] = attrs.field(
        default=60.0, converter=_max_age,
        metadata=_doc(
            "account",
            "资金持仓快照最长可用多久（秒）：快照更旧时 order_target、order_value 等按持仓或资金计算数量的下单会被拒绝"
            "（原因 stale_position），portfolio.is_stale 为 True；None 表示不限制",
            "float（秒）或 None",
        ),
    )
    disabled_checks: frozenset[str] = attrs.field(
        default=frozenset(), converter=_checks,
        metadata=_doc("account", "关闭的下单前检查（券商会检查时可关），可选的检查代码见“账户与订单”一章", "list[str]"),
    )
    gate_options: dict[str, Any] = attrs.field(
        factory=dict, converter=_gate_options,
        metadata=_doc("account", "自定义交易接口的专用选项，原样传给接口的 setup", "dict"),
    )

    # --- OneQuant DMA gate -------------------------------------------------------------------
    account_no: Optional[str] = attrs.field(
        default=None, converter=_account_no,
        metadata=_doc("gate", "资金账号（使用 OneQuant 接口时必填）", "str"),
    )
    order_dir: Optional[str] = attrs.field(
        default=None, converter=_text("order_dir", optional=True),
        metadata=_doc("gate", "OneQuant DMA 文件单目录；不设置时使用已存在的默认目录", "str"),
    )
    account_type: str = attrs.field(
        default="STOCK", converter=_text("account_type", choices=("STOCK",)),
        metadata=_doc("gate", "策略账户类型，目前只支持 STOCK", "str"),
    )
    counter_type: str = attrs.field(
        default="UM0", converter=_text("counter_type", choices=("UM0", "UF0", "AT0")),
        metadata=_doc("gate", "柜台类型：UM0 普通股票账户（默认）、UF0 金证极速、AT0 华锐极速", "str"),
    )
    algo_type: str = attrs.field(
        default="DMA", converter=_text("algo_type", choices=("DMA",)),
        metadata=_doc("gate", "算法交易类型，目前只支持 DMA", "str"),
    )
    wait_lock_internal: float = attrs.field(
        default=0.05, converter=_number("wait_lock_internal", minimum=0.001, allow_zero=True),
        metadata=_doc("gate", "写文件单时等待文件锁的轮询间隔（秒）", "float（秒）"),
    )
    wait_lock_time_out: float = attrs.field(
        default=5.0, converter=_number("wait_lock_time_out"),
        metadata=_doc("gate", "写文件单时获取文件锁的超时时间（秒）", "float（秒）"),
    )
    file_encoding: Optional[str] = attrs.field(
        default=None, converter=_encoding,
        metadata=_doc("gate", "文件单编码；不设置时为 'gbk'（中文 Windows 上 OneQuant 的编码）", "str"),
    )
    sync_retry_kwargs: dict[str, float] = attrs.field(
        factory=lambda: {"max_attempts": 3, "attempt_internal": 0.15}, converter=_retry,
        metadata=_doc("gate", "读取资金/持仓文件不完整时的重试：max_attempts 次数、attempt_internal 间隔（秒）", "dict"),
    )
    ignore_error_line: bool = attrs.field(
        default=True, converter=_bool("ignore_error_line"),
        metadata=_doc("gate", "遇到无法解析的行时记录日志并跳过（False 时也只记录，不会卡住后面的行）", "bool"),
    )

    @property
    def account_enabled(self) -> bool:
        return self.use_account or self.account_no is not None

    def evolve(self, values: Mapping[str, Any]) -> Options:
        """Validate ``values`` (user spelling) and return new options; errors name the key."""
        return attrs.evolve(self, **normalize_keys(values))

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=False)


OPTION_NAMES = tuple(f.name for f in attrs.fields(Options))


def normalize_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """Map legacy spellings and refuse unknown keys with a suggestion."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        key = ALIASES.get(key, key)
        if key not in OPTION_NAMES:
            raise UnknownOptionError(key, OPTION_NAMES + tuple(ALIASES))
        out[key] = value
    return out
