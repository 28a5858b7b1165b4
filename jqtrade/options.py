"""Every ``set_options`` key in one place: type, default, validation and Chinese doc.

The :class:`Options` fields *are* the option table; ``docs/`` and error messages are generated
from ``attrs.fields(Options)`` so they cannot drift from the code.

Two readings of user values: :meth:`Options.evolve` is strict (the class API, ``--config``);
:meth:`Options.evolve_legacy` reads them as jqtrade 1.0 did for function-style scripts (loose
types coerced, unknown keys kept for the gate) and returns a warning for each surprise.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from collections.abc import Mapping
from typing import Any, Callable, Optional

import attrs

from jqtrade.errors import (
    OptionValueError,
    UnknownOptionError,
)
from jqtrade.notify.events import (
    DEFAULT_EVENTS,
    EVENT_KINDS,
    looks_like_url,
    mask_url,
    parse_kinds,
    split_urls,
)

#: Legacy spellings accepted by ``set_options``.
ALIASES = {"sync_internal": "sync_interval"}

#: OneQuant counter types (柜台类型). The credit ones are accepted as jqtrade 1.0 accepted them;
#: the gate warns about every counter but UM0. A legacy script may name others (1.0 only warned).
COUNTER_TYPES = ("UM0", "UF0", "AT0", "UMC", "UFC")

Period = tuple[tuple[datetime.time, datetime.time], ...]

#: A legacy reader: the value as jqtrade 1.0 understood it, and a warning when that is surprising.
LegacyReader = Callable[[Any], tuple[Any, Optional[str]]]


def _doc(group: str, text: str, type_text: str, *, legacy: Optional[LegacyReader] = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"group": group, "doc": text, "type": type_text}
    if legacy is not None:
        meta["legacy"] = legacy
    return meta


# --- jqtrade 1.0's loose readings (function-style scripts only) --------------------------------


def _loose_bool(name: str) -> LegacyReader:
    """1.0 used ``bool(x)``: ``1``/``0`` read silently; anything else read the same way, with a warning."""

    def read(value: Any) -> tuple[Any, Optional[str]]:
        if isinstance(value, bool):
            return value, None
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value), None
        try:
            truth = bool(value)
        except Exception:  # noqa: BLE001 - e.g. an array; the strict converter names the value
            return value, None
        if isinstance(value, str):
            return truth, (
                f"选项 {name}={value!r} 是字符串：jqtrade 1.0 按 bool() 读取，非空字符串（包括 '0'、'False'）都是 True，"
                f"这里同样按 {truth} 处理；如果想要 {not truth}，请写 {name}={not truth}"
            )
        return truth, f"选项 {name}={value!r} 不是 True/False：按 jqtrade 1.0 的 bool() 读作 {truth}；请写 {name}={truth}"

    return read


def _loose_number(name: str) -> LegacyReader:
    """1.0 used ``float(x)`` (sync_internal) or the raw value: numeric strings read silently."""

    def read(value: Any) -> tuple[Any, Optional[str]]:
        if isinstance(value, bool):
            return float(value), f"选项 {name}={value!r} 不是秒数：按 jqtrade 1.0 的 float() 读作 {float(value):g} 秒"
        if isinstance(value, (int, float)) or value is None:
            return value, None
        if isinstance(value, str):
            try:
                return float(value.strip()), None
            except ValueError:
                return value, None  # refused by the strict converter, as float() refused it in 1.0
        try:
            return float(value), None  # Decimal, numpy numbers
        except (TypeError, ValueError):
            return value, None

    return read


def _loose_path(value: Any) -> tuple[Any, Optional[str]]:
    """1.0 handed folders to ``os.path``, which takes ``pathlib.Path`` too."""
    return (os.fspath(value) if isinstance(value, os.PathLike) else value), None


def _loose_counter(value: Any) -> tuple[Any, Optional[str]]:
    """1.0 sent any counter type to OneQuant, with a warning; so does a legacy script."""
    if not isinstance(value, str) or not value.strip() or value.strip() in COUNTER_TYPES:
        return value, None
    return value.strip(), (
        f"选项 counter_type={value.strip()!r} 不是已知的柜台类型（{'、'.join(COUNTER_TYPES)}）："
        "jqtrade 1.0 只警告、照样使用，这里同样照样使用；柜台类型不对会导致委托失败，请与客户经理确认"
    )


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


def _limit(name: str, *, integer: bool = True, maximum: Optional[float] = None, unit: str = "") -> Callable[[Any], Any]:
    """A risk limit: ``None`` (not set: ``risk.toml`` or the built-in default), 0 (no limit) or more."""
    kind = "整数" if integer else "数字"

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            raise OptionValueError(name, value, f"应为 ≥ 0 的{kind}{unit}（0 表示不限制，None 表示用 risk.toml 或内置默认值）")
        if not math.isfinite(value) or value < 0 or (maximum is not None and value > maximum):
            bound = f"0~{maximum:g}" if maximum is not None else "≥ 0"
            raise OptionValueError(name, value, f"应为 {bound} 的有限{kind}{unit}（0 表示不限制）")
        return value if integer else float(value)

    return convert


def _loss_action(value: Any) -> Optional[str]:
    return _text("risk_daily_loss_action", choices=("reducing", "halted"), optional=True)(value)


def _notify_urls(value: Any) -> tuple[str, ...]:
    """apprise URLs: a list, or one string with URLs separated by spaces or commas. Errors show
    the URL masked: it holds the service's secret."""
    if value is None:
        return ()
    items = split_urls(value) if isinstance(value, str) else value
    if isinstance(items, (bytes, Mapping)) or not isinstance(items, (list, tuple)):
        raise OptionValueError("notify", type(value).__name__, "应为 apprise 地址的列表，如 ['wecombot://机器人key']")
    urls = []
    for item in items:
        if not isinstance(item, str) or not looks_like_url(item.strip()):
            shown = mask_url(item) if isinstance(item, str) else type(item).__name__
            raise OptionValueError("notify", shown, "每项应为 '服务名://...' 形式的 apprise 地址，如 'wecombot://机器人key'、'mailto://用户:授权码@qq.com'")
        urls.append(item.strip())
    return tuple(dict.fromkeys(urls))


def _masked_urls(value: tuple[str, ...]) -> str:
    return repr([mask_url(u) for u in value])


def _notify_events(value: Any) -> frozenset[str]:
    try:
        return parse_kinds(value)
    except ValueError as exc:
        raise OptionValueError("notify_events", value, str(exc)) from None


#: Built-in defaults, used when neither the strategy, ``--config`` nor ``risk.toml`` sets a
#: limit (0 = no limit). Why these numbers: ``docs/risk.md``.
RISK_DEFAULTS: Mapping[str, Any] = {
    "risk_max_orders_per_second": 200,
    "risk_max_orders_per_minute": 600,
    "risk_max_orders_per_day": 2000,
    "risk_max_cancels_per_day": 2000,
    "risk_max_active_orders": 200,
    "risk_max_order_shares": 1_000_000,
    "risk_max_order_value": 10_000_000,
    "risk_max_position_value": 0,
    "risk_max_turnover": 0,
    "risk_duplicate_window": 0,
    "risk_max_daily_loss_pct": 0,
    "risk_max_daily_loss_value": 0,
    "risk_daily_loss_action": "reducing",
}


def _risk(name: str, text: str, type_text: str) -> dict[str, Any]:
    default = RISK_DEFAULTS[name]
    shown = repr(default) if isinstance(default, str) else (f"{default:,}" if default else "0（不限制）")
    return _doc("account", f"风控：{text}；不设置时用运行时目录下 risk.toml 的值，否则为 {shown}（见“风控限制”一章）", type_text)


@attrs.frozen(kw_only=True)
class Options:
    """The validated options of one strategy process."""

    # --- scheduler ---------------------------------------------------------------------------
    runtime_dir: str = attrs.field(
        default="~/jqtrade", converter=_text("runtime_dir"),
        metadata=_doc("scheduler", "运行时目录：任务登记、订单日志、节假日文件都放在这里", "str", legacy=_loose_path),
    )
    use_account: bool = attrs.field(
        default=False, converter=_bool("use_account"),
        metadata=_doc("scheduler", "是否开启账户模块；设置了 account_no 时自动开启", "bool", legacy=_loose_bool("use_account")),
    )
    market_period: Period = attrs.field(
        default=(("09:30:00", "11:30:00"), ("13:00:00", "15:00:00")),
        converter=_periods("market_period"),
        metadata=_doc("scheduler", "交易时间段，决定 open、close、every_minute 的含义", "list[tuple[str, str]]"),
    )
    misfire_grace_time: float = attrs.field(
        default=60.0, converter=_number("misfire_grace_time", allow_zero=True),
        metadata=_doc("scheduler", "定时任务错过预定时间后，在多少秒内仍补跑；超过则跳过并告警", "float（秒）", legacy=_loose_number("misfire_grace_time")),
    )
    on_callback_error: str = attrs.field(
        default="log", converter=_callback_error,
        metadata=_doc("scheduler", "用户函数抛出异常时：'log' 记录完整堆栈后继续运行；'stop' 停止任务", "str"),
    )
    extra_holidays: tuple[datetime.date, ...] = attrs.field(
        default=(), converter=_holidays,
        metadata=_doc("scheduler", "额外的休市日（内置交易日历尚未覆盖的年份或临时休市），如 ['2027-01-01']", "list[str]"),
    )

    # --- notifications (jqtrade.notify; also JQTRADE_NOTIFY): read once at start, like the account
    notify: tuple[str, ...] = attrs.field(
        default=(), converter=_notify_urls, repr=_masked_urls,
        metadata=_doc(
            "account",
            "通知目标：apprise 地址的列表，如 ['wecombot://机器人key', 'mailto://用户:授权码@qq.com']；"
            "环境变量 JQTRADE_NOTIFY 中的地址（空格或逗号分隔）也会使用。需要安装 apprise（pip install \"jqtrade[notify]\"），见“通知”一章",
            "list[str]",
        ),
    )
    notify_events: frozenset[str] = attrs.field(
        default=DEFAULT_EVENTS, converter=_notify_events,
        metadata=_doc(
            "account",
            f"发送通知的事件，'all' 表示全部；可选：{'、'.join(EVENT_KINDS)}（默认除 fill 外全部）",
            "list[str]",
        ),
    )
    notify_min_interval: float = attrs.field(
        default=60.0, converter=_number("notify_min_interval", allow_zero=True),
        metadata=_doc("account", "同一种事件最多每隔多少秒发送一条，期间的消息合并为一条（带条数）；0 表示不合并", "float（秒）", legacy=_loose_number("notify_min_interval")),
    )
    notify_timeout: float = attrs.field(
        default=10.0, converter=_number("notify_timeout"),
        metadata=_doc("account", "每次发送通知的超时（秒）；失败后在后台重试 2 次，不影响策略运行", "float（秒）", legacy=_loose_number("notify_timeout")),
    )

    # --- account -----------------------------------------------------------------------------
    trade_gate: Optional[str] = attrs.field(
        default=None, converter=_gate_path,
        metadata=_doc("account", "交易接口：默认 'onequant'（安信/国投 OneQuant DMA）；自定义接口写 '包.模块:类名'", "str"),
    )
    sync_balance: bool = attrs.field(
        default=True, converter=_bool("sync_balance"),
        metadata=_doc("account", "是否定时同步资金和持仓", "bool", legacy=_loose_bool("sync_balance")),
    )
    sync_order: bool = attrs.field(
        default=True, converter=_bool("sync_order"),
        metadata=_doc("account", "是否定时同步订单", "bool", legacy=_loose_bool("sync_order")),
    )
    sync_period: Optional[Period] = attrs.field(
        default=None, converter=_periods("sync_period", optional=True),
        metadata=_doc("account", "只在这些时间段内定时同步；不设置时启动后一直同步", "list[tuple[str, str]]"),
    )
    sync_interval: float = attrs.field(
        default=5.0, converter=_number("sync_interval", minimum=0.1, allow_zero=True),
        metadata=_doc("account", "资金、持仓的同步间隔（秒）；旧写法 sync_internal 同样可用", "float（秒）", legacy=_loose_number("sync_interval")),
    )
    order_sync_interval: float = attrs.field(
        default=0.5, converter=_number("order_sync_interval", minimum=0.05, allow_zero=True),
        metadata=_doc("account", "订单状态的检查间隔（秒）；文件没变化时几乎没有开销", "float（秒）", legacy=_loose_number("order_sync_interval")),
    )
    max_snapshot_age: Optional[float] = attrs.field(
        default=60.0, converter=_max_age,
        metadata=_doc(
            "account",
            "资金持仓快照最长可用多久（秒）：快照更旧时 order_target、order_value 等按持仓或资金计算数量的下单会被拒绝"
            "（原因 stale_position），portfolio.is_stale 为 True；None 表示不限制",
            "float（秒）或 None", legacy=_loose_number("max_snapshot_age"),
        ),
    )
    disabled_checks: frozenset[str] = attrs.field(
        default=frozenset(), converter=_checks,
        metadata=_doc("account", "关闭的下单前检查（券商会检查时可关），可选的检查代码见“账户与订单”一章", "list[str]"),
    )
    notify_stale_after: float = attrs.field(
        default=120.0, converter=_number("notify_stale_after", minimum=1.0, allow_zero=True),
        metadata=_doc(
            "account",
            "交易时段内，同步券商数据连续失败或资金持仓快照超过这么多秒没有更新时发送 link_stale 通知，恢复后发送 link_recovered",
            "float（秒）",
            legacy=_loose_number("notify_stale_after"),
        ),
    )
    gate_options: dict[str, Any] = attrs.field(
        factory=dict, converter=_gate_options,
        metadata=_doc("account", "自定义交易接口的专用选项，原样传给接口的 setup", "dict"),
    )

    # --- risk limits (jqtrade.account.risk; None: risk.toml, else the built-in default) -----
    risk_max_orders_per_second: Optional[int] = attrs.field(
        default=None, converter=_limit("risk_max_orders_per_second", unit="（笔）"),
        metadata=_risk("risk_max_orders_per_second", "本任务每秒最多下单笔数，0 不限制", "int（笔）"),
    )
    risk_max_orders_per_minute: Optional[int] = attrs.field(
        default=None, converter=_limit("risk_max_orders_per_minute", unit="（笔）"),
        metadata=_risk("risk_max_orders_per_minute", "本任务每分钟最多下单笔数，0 不限制", "int（笔）"),
    )
    risk_max_orders_per_day: Optional[int] = attrs.field(
        default=None, converter=_limit("risk_max_orders_per_day", unit="（笔）"),
        metadata=_risk("risk_max_orders_per_day", "全账户（所有任务合计）每天最多下单笔数，0 不限制", "int（笔）"),
    )
    risk_max_cancels_per_day: Optional[int] = attrs.field(
        default=None, converter=_limit("risk_max_cancels_per_day", unit="（笔）"),
        metadata=_risk("risk_max_cancels_per_day", "全账户（所有任务合计）每天最多撤单笔数，0 不限制", "int（笔）"),
    )
    risk_max_active_orders: Optional[int] = attrs.field(
        default=None, converter=_limit("risk_max_active_orders", unit="（个）"),
        metadata=_risk("risk_max_active_orders", "本任务同时未结束的订单最多几个，0 不限制", "int（个）"),
    )
    risk_max_order_shares: Optional[int] = attrs.field(
        default=None, converter=_limit("risk_max_order_shares", unit="（股/张）"),
        metadata=_risk("risk_max_order_shares", "单笔最多多少股（张），0 不限制", "int（股）"),
    )
    risk_max_order_value: Optional[float] = attrs.field(
        default=None, converter=_limit("risk_max_order_value", integer=False, unit="（元）"),
        metadata=_risk("risk_max_order_value", "单笔最大金额（元，数量 × 限价，市价单按最新价估算），0 不限制", "float（元）"),
    )
    risk_max_position_value: Optional[float] = attrs.field(
        default=None, converter=_limit("risk_max_position_value", integer=False, unit="（元）"),
        metadata=_risk("risk_max_position_value", "买入后单个证券的持仓市值上限（元，含未成交的挂单），0 不限制", "float（元）"),
    )
    risk_max_turnover: Optional[float] = attrs.field(
        default=None, converter=_limit("risk_max_turnover", integer=False, unit="（元）"),
        metadata=_risk("risk_max_turnover", "全账户每天下单金额合计上限（元，买卖都算），0 不限制", "float（元）"),
    )
    risk_duplicate_window: Optional[float] = attrs.field(
        default=None, converter=_limit("risk_duplicate_window", integer=False, maximum=86400, unit="（秒）"),
        metadata=_risk("risk_duplicate_window", "同一代码、方向、数量、价格的订单在这么多秒内再次下单时拒绝，0 不检查", "float（秒）"),
    )
    risk_max_daily_loss_pct: Optional[float] = attrs.field(
        default=None, converter=_limit("risk_max_daily_loss_pct", integer=False, maximum=100, unit="（%）"),
        metadata=_risk("risk_max_daily_loss_pct", "总资产比当天第一份快照下跌超过这个百分比时切换交易状态，0 不检查", "float（%）"),
    )
    risk_max_daily_loss_value: Optional[float] = attrs.field(
        default=None, converter=_limit("risk_max_daily_loss_value", integer=False, unit="（元）"),
        metadata=_risk("risk_max_daily_loss_value", "总资产比当天第一份快照减少超过这么多元时切换交易状态，0 不检查", "float（元）"),
    )
    risk_daily_loss_action: Optional[str] = attrs.field(
        default=None, converter=_loss_action,
        metadata=_risk("risk_daily_loss_action", "日内亏损超限后的交易状态：'reducing' 只减仓，'halted' 暂停交易", "str"),
    )

    # --- OneQuant DMA gate -------------------------------------------------------------------
    account_no: Optional[str] = attrs.field(
        default=None, converter=_account_no,
        metadata=_doc("gate", "资金账号（使用 OneQuant 接口时必填）", "str"),
    )
    order_dir: Optional[str] = attrs.field(
        default=None, converter=_text("order_dir", optional=True),
        metadata=_doc("gate", "OneQuant DMA 文件单目录；不设置时使用已存在的默认目录", "str", legacy=_loose_path),
    )
    account_type: str = attrs.field(
        default="STOCK", converter=_text("account_type", choices=("STOCK",)),
        metadata=_doc("gate", "策略账户类型，目前只支持 STOCK", "str"),
    )
    counter_type: str = attrs.field(
        # Any text here: the strict reading (evolve) checks COUNTER_TYPES, a legacy script may pass others.
        default="UM0", converter=_text("counter_type"),
        metadata=_doc(
            "gate",
            "柜台类型：UM0 普通股票账户（默认）、UF0 金证极速、AT0 华锐极速；UMC、UFC 信用账户（与 jqtrade 1.0 "
            "一样可用，只做普通买卖）",
            "str", legacy=_loose_counter,
        ),
    )
    algo_type: str = attrs.field(
        default="DMA", converter=_text("algo_type", choices=("DMA",)),
        metadata=_doc("gate", "算法交易类型，目前只支持 DMA", "str"),
    )
    wait_lock_internal: float = attrs.field(
        default=0.05, converter=_number("wait_lock_internal", minimum=0.001, allow_zero=True),
        metadata=_doc("gate", "写文件单时等待文件锁的轮询间隔（秒）", "float（秒）", legacy=_loose_number("wait_lock_internal")),
    )
    wait_lock_time_out: float = attrs.field(
        default=5.0, converter=_number("wait_lock_time_out"),
        metadata=_doc("gate", "写文件单时获取文件锁的超时时间（秒）", "float（秒）", legacy=_loose_number("wait_lock_time_out")),
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
        metadata=_doc("gate", "遇到无法解析的行时记录日志并跳过（False 时也只记录，不会卡住后面的行）", "bool", legacy=_loose_bool("ignore_error_line")),
    )

    @property
    def account_enabled(self) -> bool:
        return self.use_account or self.account_no is not None

    def evolve(self, values: Mapping[str, Any]) -> Options:
        """Validate ``values`` (user spelling) and return new options; errors name the key.

        Keys not given keep their earlier value: ``set_options`` called twice merges.
        """
        values = normalize_keys(values)
        counter = values.get("counter_type")
        if isinstance(counter, str) and counter.strip() not in COUNTER_TYPES:
            raise OptionValueError("counter_type", counter, f"可选值：{', '.join(COUNTER_TYPES)}")
        return attrs.evolve(self, **values)

    def evolve_legacy(self, values: Mapping[str, Any]) -> tuple[Options, list[str]]:
        """Read ``values`` as jqtrade 1.0 did for a function-style script; return the options and
        one warning per surprise.

        - An unknown key is kept, as 1.0 kept it for the gate: it goes into ``gate_options``
          (merged with the ones already set), with a warning naming the closest valid key.
        - Loose types 1.0 coerced are coerced: ``bool(x)`` for switches (so ``1``/``0`` work, and a
          string such as ``"0"`` is True, as it was in 1.0, with a warning), ``float(x)`` for
          seconds (``"2"``), ``pathlib.Path`` for folders; any counter type, with a warning.
        - Everything else is validated as strictly as :meth:`evolve`; keys merge the same way.
        """
        notes: list[str] = []
        known: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        fields = attrs.fields_dict(Options)
        for key, value in values.items():
            name = ALIASES.get(key, key)
            if name not in fields:
                suggestion = UnknownOptionError(key, OPTION_NAMES + tuple(ALIASES)).suggestion
                hint = f"（你是不是想写 {suggestion!r}？）" if suggestion else ""
                notes.append(
                    f"set_options 收到未知选项 {key!r}{hint}：jqtrade 1.0 不检查选项名，这里照样运行，"
                    "并把它放进 gate_options 原样交给交易接口的 setup"
                )
                unknown[key] = value
                continue
            reader: Optional[LegacyReader] = fields[name].metadata.get("legacy")
            if reader is not None:
                value, note = reader(value)
                if note is not None:
                    notes.append(note)
            known[name] = value
        if unknown:
            gate_options = known.get("gate_options", self.gate_options)
            if isinstance(gate_options, Mapping):  # else the converter names the bad value
                known["gate_options"] = {**gate_options, **unknown}
        return attrs.evolve(self, **known), notes

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=False)


OPTION_NAMES = tuple(f.name for f in attrs.fields(Options))

#: What the account and its gate read when they start (the journal and calendar folders and
#: the holidays included): fixed from then on. The rest (market_period, misfire_grace_time,
#: on_callback_error) only shapes the schedule and may still change.
ACCOUNT_OPTION_NAMES = tuple(
    f.name for f in attrs.fields(Options)
    if f.metadata["group"] in ("account", "gate") or f.name in ("use_account", "runtime_dir", "extra_holidays")
)


def normalize_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """Map legacy spellings and refuse unknown keys with a suggestion."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        key = ALIASES.get(key, key)
        if key not in OPTION_NAMES:
            raise UnknownOptionError(key, OPTION_NAMES + tuple(ALIASES))
        out[key] = value
    return out
