"""Every ``set_options`` key: the core ones here, each gate's in its own config class.

The :class:`Options` fields *are* the scheduler and account options; the keys of the chosen
gate (``trade_gate``, default OneQuant) are the fields of that gate's config class
(:attr:`jqtrade.gates.base.AbsTradeGate.config_class`, e.g.
:class:`jqtrade.gates.onequant.OneQuantConfig`). Users write both kinds flat in
``set_options``, TOML and 1.0 config files; :class:`Options` keeps the gate's values in
:attr:`Options.gate_values`, validated as they are set against the chosen gate's class.
``docs/reference/options.md`` and error messages are generated from these classes, so they
cannot drift from the code.

A field's ``metadata``: ``doc`` (Chinese), ``type`` (as shown in the reference), optionally
``legacy`` (jqtrade 1.0's looser reading, below) and ``strict`` (an extra check of the strict
reading only); core fields also have a ``group``.

Two readings of user values: :meth:`Options.evolve` is strict (the class API, ``--config``);
:meth:`Options.evolve_legacy` reads them as jqtrade 1.0 did for function-style scripts (loose
types coerced, unknown keys kept for the gate) and returns a warning for each surprise.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional

import attrs

from jqtrade.errors import (
    ConfigError,
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
from jqtrade.option_fields import (
    LegacyReader,
)
from jqtrade.option_fields import (
    bool_option as _bool,
)
from jqtrade.option_fields import (
    loose_bool as _loose_bool,
)
from jqtrade.option_fields import (
    loose_number as _loose_number,
)
from jqtrade.option_fields import (
    loose_path as _loose_path,
)
from jqtrade.option_fields import (
    number_option as _number,
)
from jqtrade.option_fields import (
    text_option as _text,
)

#: Legacy spellings accepted by ``set_options``.
ALIASES = {"sync_internal": "sync_interval"}

Period = tuple[tuple[datetime.time, datetime.time], ...]


#: A legacy reader: the value as jqtrade 1.0 understood it, and a warning when that is surprising.
def _doc(
    group: str, text: str, type_text: str, *, legacy: Optional[LegacyReader] = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"group": group, "doc": text, "type": type_text}
    if legacy is not None:
        meta["legacy"] = legacy
    return meta


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


#: Converters and jqtrade 1.0 readers for the fields of a gate's config class (OneQuant's uses
#: them): the same messages and leniency as the core options'.


def _gate_path(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?", value.strip()):
        return value.strip()
    raise OptionValueError(
        "trade_gate",
        value,
        "应为 'onequant'、'qmt' 或 '包.模块:类名' 形式的字符串，如 'my_gates.broker:MyGate'",
    )


def _holidays(value: Any) -> tuple[datetime.date, ...]:
    from jqtrade.calendar import parse_closure_dates

    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise OptionValueError(
            "extra_holidays", value, "应为日期列表，如 ['2027-01-01', '2027-02-08']"
        )
    try:
        return tuple(parse_closure_dates(value, "extra_holidays"))
    except ValueError as exc:
        raise OptionValueError("extra_holidays", value, str(exc)) from None


def _checks(value: Any) -> frozenset[str]:
    from jqtrade.model.reasons import DISABLEABLE_CHECKS

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
        raise OptionValueError(
            "gate_options", value, "应为 dict，内容原样交给自定义交易接口的 setup"
        )
    return dict(value)


#: ``data_source`` values: the local cache, or one of the adapters in :mod:`jqtrade.data.sources`.
DATA_SOURCES = ("cache", "mootdx", "akshare", "tushare", "jqdatasdk", "xtdata")


def _data_source(value: Any) -> Optional[str]:
    if value is None:
        return None
    name = value.strip().lower() if isinstance(value, str) else value
    if name not in DATA_SOURCES:
        raise OptionValueError(
            "data_source",
            value,
            f"可选值：None（不使用行情）、{'、'.join(map(repr, DATA_SOURCES))}",
        )
    return str(name)


def _data_options(value: Any) -> dict[str, Any]:
    """Arguments of the data source (token, username, password ...); errors never show values."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise OptionValueError(
            "data_options",
            type(value).__name__,
            "应为 dict，如 {'token': '...'}，原样交给行情源（见“行情数据”一章）",
        )
    bad = [k for k in value if not isinstance(k, str) or not k.isidentifier()]
    if bad:
        raise OptionValueError(
            "data_options", bad, "键应为参数名（字符串），如 'token'、'username'"
        )
    return dict(value)


def _masked_mapping(value: dict[str, Any]) -> str:
    """``data_options`` in a repr: the keys only, every value shown as ``***``."""
    return "{" + ", ".join(f"{k!r}: '***'" for k in value) + "}"


def _callback_error(value: Any) -> str:
    return _text("on_callback_error", choices=("log", "stop"))(value)


def _limit(
    name: str, *, integer: bool = True, maximum: Optional[float] = None, unit: str = ""
) -> Callable[[Any], Any]:
    """A risk limit: ``None`` (not set: ``risk.toml`` or the built-in default), 0 (no limit) or more."""
    kind = "整数" if integer else "数字"

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (integer and not isinstance(value, int))
        ):
            raise OptionValueError(
                name,
                value,
                f"应为 ≥ 0 的{kind}{unit}（0 表示不限制，None 表示用 risk.toml 或内置默认值）",
            )
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
        raise OptionValueError(
            "notify", type(value).__name__, "应为 apprise 地址的列表，如 ['wecombot://机器人key']"
        )
    urls = []
    for item in items:
        if not isinstance(item, str) or not looks_like_url(item.strip()):
            shown = mask_url(item) if isinstance(item, str) else type(item).__name__
            raise OptionValueError(
                "notify",
                shown,
                "每项应为 '服务名://...' 形式的 apprise 地址，如 'wecombot://机器人key'、'mailto://用户:授权码@qq.com'",
            )
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
    shown = (
        repr(default)
        if isinstance(default, str)
        else (f"{default:,}" if default else "0（不限制）")
    )
    return _doc(
        "account",
        f"风控：{text}；不设置时用运行时目录下 risk.toml 的值，否则为 {shown}（见“风控限制”一章）",
        type_text,
    )


@attrs.frozen(kw_only=True)
class Options:
    """The validated options of one strategy process."""

    # --- scheduler ---------------------------------------------------------------------------
    runtime_dir: str = attrs.field(
        default="~/jqtrade",
        converter=_text("runtime_dir"),
        metadata=_doc(
            "scheduler",
            "运行时目录：任务登记、订单日志、节假日文件都放在这里",
            "str",
            legacy=_loose_path,
        ),
    )
    use_account: bool = attrs.field(
        default=False,
        converter=_bool("use_account"),
        metadata=_doc(
            "scheduler",
            "是否开启账户模块；设置了 account_no 时自动开启",
            "bool",
            legacy=_loose_bool("use_account"),
        ),
    )
    market_period: Period = attrs.field(
        default=(("09:30:00", "11:30:00"), ("13:00:00", "15:00:00")),
        converter=_periods("market_period"),
        metadata=_doc(
            "scheduler",
            "交易时间段，决定 open、close、every_minute 的含义",
            "list[tuple[str, str]]",
        ),
    )
    misfire_grace_time: float = attrs.field(
        default=60.0,
        converter=_number("misfire_grace_time", allow_zero=True),
        metadata=_doc(
            "scheduler",
            "定时任务错过预定时间后，在多少秒内仍补跑；超过则跳过并告警",
            "float（秒）",
            legacy=_loose_number("misfire_grace_time"),
        ),
    )
    on_callback_error: str = attrs.field(
        default="log",
        converter=_callback_error,
        metadata=_doc(
            "scheduler", "用户函数抛出异常时：'log' 记录完整堆栈后继续运行；'stop' 停止任务", "str"
        ),
    )
    extra_holidays: tuple[datetime.date, ...] = attrs.field(
        default=(),
        converter=_holidays,
        metadata=_doc(
            "scheduler",
            "额外的休市日（内置交易日历尚未覆盖的年份或临时休市），如 ['2027-01-01']",
            "list[str]",
        ),
    )

    # --- notifications (jqtrade.notify; also JQTRADE_NOTIFY): read once at start, like the account
    notify: tuple[str, ...] = attrs.field(
        default=(),
        converter=_notify_urls,
        repr=_masked_urls,
        metadata=_doc(
            "account",
            "通知目标：apprise 地址的列表，如 ['wecombot://机器人key', 'mailto://用户:授权码@qq.com']；"
            '环境变量 JQTRADE_NOTIFY 中的地址（空格或逗号分隔）也会使用。需要安装 apprise（pip install "jqtrade[notify]"），见“通知”一章',
            "list[str]",
        ),
    )
    notify_events: frozenset[str] = attrs.field(
        default=DEFAULT_EVENTS,
        converter=_notify_events,
        metadata=_doc(
            "account",
            f"发送通知的事件，'all' 表示全部；可选：{'、'.join(EVENT_KINDS)}（默认除 fill 外全部）",
            "list[str]",
        ),
    )
    notify_min_interval: float = attrs.field(
        default=60.0,
        converter=_number("notify_min_interval", allow_zero=True),
        metadata=_doc(
            "account",
            "同一种事件最多每隔多少秒发送一条，期间的消息合并为一条（带条数）；0 表示不合并",
            "float（秒）",
            legacy=_loose_number("notify_min_interval"),
        ),
    )
    notify_timeout: float = attrs.field(
        default=10.0,
        converter=_number("notify_timeout"),
        metadata=_doc(
            "account",
            "每次发送通知的超时（秒）；失败后在后台重试 2 次，不影响策略运行",
            "float（秒）",
            legacy=_loose_number("notify_timeout"),
        ),
    )

    # --- account -----------------------------------------------------------------------------
    trade_gate: Optional[str] = attrs.field(
        default=None,
        converter=_gate_path,
        metadata=_doc(
            "account",
            "交易接口：默认 'onequant'（安信/国投 OneQuant DMA）；'qmt' 为 miniQMT（xtquant）；自定义接口写 '包.模块:类名'",
            "str",
        ),
    )
    sync_balance: bool = attrs.field(
        default=True,
        converter=_bool("sync_balance"),
        metadata=_doc(
            "account", "是否定时同步资金和持仓", "bool", legacy=_loose_bool("sync_balance")
        ),
    )
    sync_order: bool = attrs.field(
        default=True,
        converter=_bool("sync_order"),
        metadata=_doc("account", "是否定时同步订单", "bool", legacy=_loose_bool("sync_order")),
    )
    sync_period: Optional[Period] = attrs.field(
        default=None,
        converter=_periods("sync_period", optional=True),
        metadata=_doc(
            "account", "只在这些时间段内定时同步；不设置时启动后一直同步", "list[tuple[str, str]]"
        ),
    )
    sync_interval: float = attrs.field(
        default=5.0,
        converter=_number("sync_interval", minimum=0.1, allow_zero=True),
        metadata=_doc(
            "account",
            "资金、持仓的同步间隔（秒）；旧写法 sync_internal 同样可用",
            "float（秒）",
            legacy=_loose_number("sync_interval"),
        ),
    )
    order_sync_interval: float = attrs.field(
        default=0.5,
        converter=_number("order_sync_interval", minimum=0.05, allow_zero=True),
        metadata=_doc(
            "account",
            "订单状态的检查间隔（秒）；文件没变化时几乎没有开销",
            "float（秒）",
            legacy=_loose_number("order_sync_interval"),
        ),
    )
    max_snapshot_age: Optional[float] = attrs.field(
        default=60.0,
        converter=_max_age,
        metadata=_doc(
            "account",
            "资金持仓快照最长可用多久（秒）：快照更旧时 order_target、order_value 等按持仓或资金计算数量的下单会被拒绝"
            "（原因 stale_position），portfolio.is_stale 为 True；None 表示不限制",
            "float（秒）或 None",
            legacy=_loose_number("max_snapshot_age"),
        ),
    )
    disabled_checks: frozenset[str] = attrs.field(
        default=frozenset(),
        converter=_checks,
        metadata=_doc(
            "account",
            "关闭的下单前检查（券商会检查时可关），可选的检查代码见“账户与订单”一章",
            "list[str]",
        ),
    )
    notify_stale_after: float = attrs.field(
        default=120.0,
        converter=_number("notify_stale_after", minimum=1.0, allow_zero=True),
        metadata=_doc(
            "account",
            "交易时段内，同步券商数据连续失败或资金持仓快照超过这么多秒没有更新时发送 link_stale 通知，恢复后发送 link_recovered",
            "float（秒）",
            legacy=_loose_number("notify_stale_after"),
        ),
    )
    gate_options: dict[str, Any] = attrs.field(
        factory=dict,
        converter=_gate_options,
        metadata=_doc("account", "自定义交易接口的专用选项，原样传给接口的 setup", "dict"),
    )

    # --- market data (jqtrade.data; built on first use of get_bars / current_data / a price check)
    data_source: Optional[str] = attrs.field(
        default=None,
        converter=_data_source,
        metadata=_doc(
            "data",
            "行情源：'cache'（本地 K 线缓存，运行时目录下的 data/bars.sqlite）、'mootdx'、'akshare'、'tushare'、"
            "'jqdatasdk'、'xtdata'；None 时实盘不能调用 get_bars、get_price、current_data。"
            "模拟运行（--simulate）总是按模拟时间读本地缓存。见“行情数据”一章",
            "str 或 None",
        ),
    )
    data_options: dict[str, Any] = attrs.field(
        factory=dict,
        converter=_data_options,
        repr=_masked_mapping,
        metadata=_doc(
            "data",
            "交给行情源的参数，如 {'token': '...'}（tushare）、{'username': ..., 'password': ...}（jqdatasdk）；"
            "也可以用环境变量（TUSHARE_TOKEN、JQDATA_USERNAME、JQDATA_PASSWORD）。值不会写进日志",
            "dict",
        ),
    )

    # --- risk limits (jqtrade.account.risk; None: risk.toml, else the built-in default) -----
    risk_max_orders_per_second: Optional[int] = attrs.field(
        default=None,
        converter=_limit("risk_max_orders_per_second", unit="（笔）"),
        metadata=_risk(
            "risk_max_orders_per_second", "本任务每秒最多下单笔数，0 不限制", "int（笔）"
        ),
    )
    risk_max_orders_per_minute: Optional[int] = attrs.field(
        default=None,
        converter=_limit("risk_max_orders_per_minute", unit="（笔）"),
        metadata=_risk(
            "risk_max_orders_per_minute", "本任务每分钟最多下单笔数，0 不限制", "int（笔）"
        ),
    )
    risk_max_orders_per_day: Optional[int] = attrs.field(
        default=None,
        converter=_limit("risk_max_orders_per_day", unit="（笔）"),
        metadata=_risk(
            "risk_max_orders_per_day",
            "全账户（所有任务合计）每天最多下单笔数，0 不限制",
            "int（笔）",
        ),
    )
    risk_max_cancels_per_day: Optional[int] = attrs.field(
        default=None,
        converter=_limit("risk_max_cancels_per_day", unit="（笔）"),
        metadata=_risk(
            "risk_max_cancels_per_day",
            "全账户（所有任务合计）每天最多撤单笔数，0 不限制",
            "int（笔）",
        ),
    )
    risk_max_active_orders: Optional[int] = attrs.field(
        default=None,
        converter=_limit("risk_max_active_orders", unit="（个）"),
        metadata=_risk(
            "risk_max_active_orders", "本任务同时未结束的订单最多几个，0 不限制", "int（个）"
        ),
    )
    risk_max_order_shares: Optional[int] = attrs.field(
        default=None,
        converter=_limit("risk_max_order_shares", unit="（股/张）"),
        metadata=_risk("risk_max_order_shares", "单笔最多多少股（张），0 不限制", "int（股）"),
    )
    risk_max_order_value: Optional[float] = attrs.field(
        default=None,
        converter=_limit("risk_max_order_value", integer=False, unit="（元）"),
        metadata=_risk(
            "risk_max_order_value",
            "单笔最大金额（元，数量 × 限价，市价单按最新价估算），0 不限制",
            "float（元）",
        ),
    )
    risk_max_position_value: Optional[float] = attrs.field(
        default=None,
        converter=_limit("risk_max_position_value", integer=False, unit="（元）"),
        metadata=_risk(
            "risk_max_position_value",
            "买入后单个证券的持仓市值上限（元，含未成交的挂单），0 不限制",
            "float（元）",
        ),
    )
    risk_max_turnover: Optional[float] = attrs.field(
        default=None,
        converter=_limit("risk_max_turnover", integer=False, unit="（元）"),
        metadata=_risk(
            "risk_max_turnover",
            "全账户每天下单金额合计上限（元，买卖都算），0 不限制",
            "float（元）",
        ),
    )
    risk_duplicate_window: Optional[float] = attrs.field(
        default=None,
        converter=_limit("risk_duplicate_window", integer=False, maximum=86400, unit="（秒）"),
        metadata=_risk(
            "risk_duplicate_window",
            "同一代码、方向、数量、价格的订单在这么多秒内再次下单时拒绝，0 不检查",
            "float（秒）",
        ),
    )
    risk_max_daily_loss_pct: Optional[float] = attrs.field(
        default=None,
        converter=_limit("risk_max_daily_loss_pct", integer=False, maximum=100, unit="（%）"),
        metadata=_risk(
            "risk_max_daily_loss_pct",
            "总资产比当天第一份快照下跌超过这个百分比时切换交易状态，0 不检查",
            "float（%）",
        ),
    )
    risk_max_daily_loss_value: Optional[float] = attrs.field(
        default=None,
        converter=_limit("risk_max_daily_loss_value", integer=False, unit="（元）"),
        metadata=_risk(
            "risk_max_daily_loss_value",
            "总资产比当天第一份快照减少超过这么多元时切换交易状态，0 不检查",
            "float（元）",
        ),
    )
    risk_daily_loss_action: Optional[str] = attrs.field(
        default=None,
        converter=_loss_action,
        metadata=_risk(
            "risk_daily_loss_action",
            "日内亏损超限后的交易状态：'reducing' 只减仓，'halted' 暂停交易",
            "str",
        ),
    )

    # --- the chosen gate's options (not a set_options key itself) ---------------------------
    gate_values: dict[str, Any] = attrs.field(factory=dict, converter=dict)
    """The values set for the chosen gate's keys, validated (converted) as they were set; keys
    not set are absent (the gate's defaults apply). A value set for an earlier ``trade_gate``
    that the current one does not declare stays here, unused."""

    # --- reading -----------------------------------------------------------------------------

    @property
    def account_no(self) -> Optional[str]:
        """The account number, when the chosen gate has one and it was set."""
        value = self.gate_values.get("account_no")
        return None if value is None else str(value)

    @property
    def account_enabled(self) -> bool:
        return self.use_account or self.account_no is not None

    @property
    def gate_config_class(self) -> type[Any]:
        """The config class of the gate ``trade_gate`` names (loads the gate's module)."""
        return gate_config_class(self.trade_gate)

    @property
    def gate_config(self) -> Any:
        """The chosen gate's config, built from :meth:`gate_settings`.

        :class:`jqtrade.errors.GateConfigError` when a required key of the gate is not set.
        """
        from jqtrade.gates.config import config_from_options

        return config_from_options(self.gate_config_class, self.gate_settings())

    def gate_settings(self) -> dict[str, Any]:
        """Every key the chosen gate declares, with its value: set at the top level, else under
        ``gate_options`` (as jqtrade 1.x read them), else the gate's default (a required key
        that is not set is left out)."""
        out: dict[str, Any] = {}
        for name, field in gate_fields(self.trade_gate).items():
            if name in self.gate_values:
                out[name] = self.gate_values[name]
            elif self.gate_options.get(name) is not None:
                out[name] = self.gate_options[name]
            elif field.default is not attrs.NOTHING:
                out[name] = field_default(field)
        return out

    def value(self, name: str) -> Any:
        """The value of option ``name``, core or the chosen gate's (``KeyError`` if neither)."""
        if name in CORE_FIELDS:
            return getattr(self, name)
        return self.gate_settings()[name]

    def as_dict(self) -> dict[str, Any]:
        """Every option flat, as gates have always received them: core fields, then the
        chosen gate's keys (:meth:`gate_settings`)."""
        out = {name: getattr(self, name) for name in CORE_FIELDS}
        out.update(self.gate_settings())
        return out

    def account_values(self) -> dict[str, Any]:
        """What the account and its gate read when they start: fixed from then on."""
        out = {name: getattr(self, name) for name in _ACCOUNT_CORE}
        out.update(self.gate_settings())
        return out

    def changed_account_options(self, started: Options) -> list[str]:
        """The account options whose value differs from ``started``'s, in a stable order."""
        mine, theirs = self.account_values(), started.account_values()
        missing = object()
        names = list(theirs) + [name for name in mine if name not in theirs]
        return [name for name in names if mine.get(name, missing) != theirs.get(name, missing)]

    def with_values_of(self, other: Options, names: Iterable[str]) -> Options:
        """These options with ``other``'s value of each of ``names`` (core or gate keys)."""
        core: dict[str, Any] = {}
        gate = dict(self.gate_values)
        for name in names:
            if name in CORE_FIELDS:
                core[name] = getattr(other, name)
            elif name in other.gate_values:
                gate[name] = other.gate_values[name]
            else:
                gate.pop(name, None)
        return attrs.evolve(self, **core, gate_values=gate)

    # --- changing ----------------------------------------------------------------------------

    def evolve(self, values: Mapping[str, Any]) -> Options:
        """Validate ``values`` (user spelling) and return new options; errors name the key.

        Keys not given keep their earlier value: ``set_options`` called twice merges. A key is
        a core option, a legacy spelling of one (``ALIASES``) or a key of the gate named by
        ``trade_gate`` (given in ``values`` or earlier; default OneQuant). Loading that gate
        fails with :class:`jqtrade.errors.GateConfigError` naming ``trade_gate``.
        """
        return self._evolve(values, legacy=False)[0]

    def evolve_legacy(self, values: Mapping[str, Any]) -> tuple[Options, list[str]]:
        """Read ``values`` as jqtrade 1.0 did for a function-style script; return the options and
        one warning per surprise.

        - An unknown key is kept, as 1.0 kept it for the gate: it goes into ``gate_options``
          (merged with the ones already set), with a warning naming the closest valid key.
        - Loose types 1.0 coerced are coerced (each field's ``legacy`` reader, core and gate
          fields alike): ``bool(x)`` for switches (so ``1``/``0`` work, and a string such as
          ``"0"`` is True, as it was in 1.0, with a warning), ``float(x)`` for seconds
          (``"2"``), ``pathlib.Path`` for folders; any counter type, with a warning.
        - Everything else is validated as strictly as :meth:`evolve`; keys merge the same way.
        """
        return self._evolve(values, legacy=True)

    def _evolve(self, values: Mapping[str, Any], *, legacy: bool) -> tuple[Options, list[str]]:
        notes: list[str] = []
        core: dict[str, Any] = {}
        gate: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        trade_gate = _gate_path(values["trade_gate"]) if "trade_gate" in values else self.trade_gate
        declared: Optional[dict[str, attrs.Attribute[Any]]] = None

        def gate_keys() -> dict[str, attrs.Attribute[Any]]:
            nonlocal declared
            if declared is None:
                declared = gate_fields(trade_gate)
            return declared

        for key, value in values.items():
            name = ALIASES.get(key, key)
            field = CORE_FIELDS.get(name)
            target = core
            if field is None:
                field = gate_keys().get(name)
                target = gate
            if field is None:
                valid = (*CORE_FIELDS, *ALIASES, *gate_keys())
                if not legacy:
                    raise UnknownOptionError(key, valid)
                suggestion = UnknownOptionError(key, valid).suggestion
                hint = f"（你是不是想写 {suggestion!r}？）" if suggestion else ""
                notes.append(
                    f"set_options 收到未知选项 {key!r}{hint}：jqtrade 1.0 不检查选项名，这里照样运行，"
                    "并把它放进 gate_options 原样交给交易接口的 setup"
                )
                unknown[key] = value
                continue
            if legacy:
                reader: Optional[LegacyReader] = field.metadata.get("legacy")
                if reader is not None:
                    value, note = reader(value)
                    if note is not None:
                        notes.append(note)
            else:
                strict: Optional[Callable[[Any], None]] = field.metadata.get("strict")
                if strict is not None:
                    strict(value)
            target[name] = value
        stored = dict(self.gate_values)
        if gate or (stored and gate_name_of(trade_gate) != gate_name_of(self.trade_gate)):
            fields = gate_keys()
            stored.update(gate)  # with the values set earlier, checked again by this gate's rules
            stored = _validated(fields, stored)
        if unknown:
            gate_options = core.get("gate_options", self.gate_options)
            if isinstance(gate_options, Mapping):  # else the converter names the bad value
                core["gate_options"] = {**gate_options, **unknown}
        return attrs.evolve(self, **core, gate_values=stored), notes


#: The core option fields (every field but ``gate_values``), by name.
CORE_FIELDS: Mapping[str, attrs.Attribute[Any]] = {
    field.name: field for field in attrs.fields(Options) if "group" in field.metadata
}
#: Core options the account reads when it starts (the journal and calendar folders and the
#: holidays included): fixed from then on, with every key of the gate. The rest
#: (market_period, misfire_grace_time, on_callback_error) only shapes the schedule.
_ACCOUNT_CORE = tuple(
    name
    for name, field in CORE_FIELDS.items()
    if field.metadata["group"] == "account"
    or name in ("use_account", "runtime_dir", "extra_holidays")
)


def gate_name_of(trade_gate: Optional[str]) -> str:
    from jqtrade.gates import gate_name

    return gate_name(trade_gate)


def gate_config_class(trade_gate: Optional[str]) -> type[Any]:
    """The config class whose fields are the ``set_options`` keys of the gate ``trade_gate``
    names (loads the gate's module; errors name ``trade_gate``)."""
    from jqtrade.gates import load_gate_class, options_config_class

    return options_config_class(load_gate_class(trade_gate))


def gate_fields(trade_gate: Optional[str]) -> dict[str, attrs.Attribute[Any]]:
    """The ``set_options`` keys of the gate ``trade_gate`` names, minus core option names (a
    gate field named like a core option receives the core option's value)."""
    from jqtrade.gates.config import config_fields

    return {
        name: field
        for name, field in config_fields(gate_config_class(trade_gate)).items()
        if name not in CORE_FIELDS
    }


def field_default(field: attrs.Attribute[Any]) -> Any:
    """A field's default value (an ``attrs.Factory`` called)."""
    default: Any = field.default
    if hasattr(default, "factory") and hasattr(default, "takes_self"):  # an attrs.Factory
        return default.factory()
    return default


def _convert(field: attrs.Attribute[Any], value: Any) -> Any:
    """One gate field's converter and validator, as the config class would run them."""
    converter = field.converter
    if isinstance(converter, attrs.Converter):
        if converter.takes_self or converter.takes_field:  # type: ignore[attr-defined]
            return value  # needs the instance: checked when the whole config is built
        converter = converter.converter  # type: ignore[attr-defined]
    try:
        if converter is not None:
            value = converter(value)
        if field.validator is not None:
            field.validator(None, field, value)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise OptionValueError(field.name, value, str(exc)) from None
    return value


def _validated(
    fields: Mapping[str, attrs.Attribute[Any]], values: Mapping[str, Any]
) -> dict[str, Any]:
    """``values`` (the chosen gate's keys among them) converted and checked field by field."""
    return {
        name: (_convert(fields[name], value) if name in fields else value)
        for name, value in values.items()
    }


def _builtin_gate_fields() -> dict[str, attrs.Attribute[Any]]:
    return gate_fields(None)


def __getattr__(name: str) -> Any:
    """``OPTION_NAMES`` and ``ACCOUNT_OPTION_NAMES`` include the default gate's keys, read from
    its config class on first use (the gate's module may import helpers from this one)."""
    if name == "OPTION_NAMES":
        return (*CORE_FIELDS, *_builtin_gate_fields())
    if name == "ACCOUNT_OPTION_NAMES":
        return (*_ACCOUNT_CORE, *_builtin_gate_fields())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Every ``set_options`` key with the default gate (OneQuant): the core ones, then the gate's.
OPTION_NAMES: tuple[str, ...]
#: What the account and its gate read when they start, with the default gate: fixed from then on.
ACCOUNT_OPTION_NAMES: tuple[str, ...]
