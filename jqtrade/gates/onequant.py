"""The default trade gate: AnXin/Guotou OneQuant DMA orders through CSV files in a folder."""

from __future__ import annotations

import codecs
import datetime
import logging
import re
import time
from collections.abc import Mapping
from itertools import chain, compress
from pathlib import Path
from typing import Any, Callable, Optional

import attrs
import pendulum

from jqtrade.account.models import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from jqtrade.clock import MARKET_TZ, Clock, LiveClock
from jqtrade.errors import GateConfigError, GateError, SnapshotUnusableError
from jqtrade.gates.base import AbsTradeGate
from jqtrade.gates.onequant_files import (
    ALGO_ORDER_HEADER,
    ALGO_ORDER_STOP_HEADER,
    EXEC_RESULT_HEADER,
    FINAL_STATUS_CODES,
    ORDER_UPDATE_HEADER,
    SIDE_CODES,
    AppendedFileReader,
    DayFiles,
    ExecResult,
    LockedAppender,
    OrderUpdateParser,
    RowError,
    code_to_symbol,
    format_price,
    format_upd_time,
    gc_paused,
    parse_entrust_time,
    parse_exec_result,
    parse_money,
    parse_quantity,
    split_fields,
    symbol_to_code,
)
from jqtrade.gates.onequant_snapshot import (
    parse_cash,
    parse_positions,
    parse_snapshot_file,
    read_snapshot_file,
)

log = logging.getLogger("jqtrade.gates.onequant")

#: Folders OneQuant uses unless the user chose another one, in the order they are tried:
#: after the 2024 rename (jqtrade 1.0.2's default), the folder jqtrade 1.0's users were told
#: about, and older installs.
DEFAULT_ORDER_DIRS = (
    r"C:\Ax\国投OneQuant\csvTemplate\DMA算法",
    r"C:\Ax\安信OneQuant\csvTemplate\DMA算法",
    r"C:\Ax\安信OneQuant\AxOneQuant\csvTemplate\DMA算法",
)
#: Counter types known to work; others are sent as given, with a warning (as jqtrade 1.0 did).
COUNTER_TYPES = {"UM0": "普通股票账户", "UF0": "金证极速", "AT0": "华锐极速"}
#: Counter types known to exist but not supported by jqtrade's order checks.
CREDIT_COUNTER_TYPES = {"UMC": "普通信用账户", "UFC": "金证极速信用账户"}
DEFAULT_ENCODING = "gbk"
_UPDATE_CHUNK = 1 << 17  # bytes of orderUpdate read and parsed at a time
_COLUMN_MIN_LINES = 64  # fewer new lines parse faster line by line (measured)
_MISSING_GRACE = 120.0  # s an order may wait for the result files before their absence is a WARNING

_BALANCE_HINT = (
    "常见原因：1) order_dir 不是 OneQuant 里 DMA 算法设置的文件单目录；"
    "2) 资金账号没有在 OneQuant 中登录，或 DMA 算法没有启动；"
    "3) account_no 与 OneQuant 中登录的资金账号不一致"
)


def _option(options: Mapping[str, Any], name: str, default: Any) -> Any:
    """Gate options may be top-level (``set_options``) or under ``gate_options``."""
    extra = options.get("gate_options") or {}
    if isinstance(extra, Mapping) and extra.get(name) is not None:
        return extra[name]
    value = options.get(name)
    return default if value is None else value


def _seconds(name: str, value: Any, *, allow_zero: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (value == 0 and not allow_zero):
        raise GateConfigError(f"选项 {name} 的值 {value!r} 不合法：应为{'≥' if allow_zero else '>'} 0 的秒数")
    return float(value)


@attrs.frozen(kw_only=True)
class OneQuantConfig:
    """The gate's options after validation (names as in ``set_options``)."""

    account_no: str
    order_dir: Path
    account_type: str = "STOCK"
    counter_type: str = "UM0"
    algo_type: str = "DMA"
    wait_lock_internal: float = 0.05
    wait_lock_time_out: float = 5.0
    file_encoding: str = DEFAULT_ENCODING
    max_attempts: int = 3
    attempt_internal: float = 0.15
    ignore_error_line: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OneQuantConfig:
        account_no = _option(options, "account_no", None)
        if account_no is None or not str(account_no).strip():
            raise GateConfigError(
                "使用 OneQuant 交易接口必须设置资金账号：请在 process_initialize 中调用 "
                "set_options(account_no='你的资金账号')"
            )
        account_no = str(account_no).strip()
        order_dir = _resolve_order_dir(_option(options, "order_dir", None))
        account_type = str(_option(options, "account_type", "STOCK"))
        if account_type != "STOCK":
            raise GateConfigError(f"选项 account_type 的值 {account_type!r} 不合法：目前只支持 'STOCK'")
        counter_type = _counter_type(_option(options, "counter_type", "UM0"))
        algo_type = str(_option(options, "algo_type", "DMA"))
        if algo_type != "DMA":
            raise GateConfigError(f"选项 algo_type 的值 {algo_type!r} 不合法：目前只支持 'DMA'")
        encoding = str(_option(options, "file_encoding", DEFAULT_ENCODING))
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise GateConfigError(f"选项 file_encoding 的值 {encoding!r} 不合法：Python 不认识这个编码，常用 'gbk'、'utf-8'") from None
        retry = _option(options, "sync_retry_kwargs", {}) or {}
        if not isinstance(retry, Mapping):
            raise GateConfigError(f"选项 sync_retry_kwargs 的值 {retry!r} 不合法：应为含 max_attempts、attempt_internal 的 dict")
        max_attempts = retry.get("max_attempts", 3)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise GateConfigError(f"选项 sync_retry_kwargs 的 max_attempts={max_attempts!r} 不合法：应为 ≥ 1 的整数")
        return cls(
            account_no=account_no,
            order_dir=order_dir,
            account_type=account_type,
            counter_type=counter_type,
            algo_type=algo_type,
            wait_lock_internal=_seconds("wait_lock_internal", _option(options, "wait_lock_internal", 0.05)),
            wait_lock_time_out=_seconds("wait_lock_time_out", _option(options, "wait_lock_time_out", 5.0)),
            file_encoding=encoding,
            max_attempts=max_attempts,
            attempt_internal=_seconds("sync_retry_kwargs.attempt_internal", retry.get("attempt_internal", 0.15)),
            ignore_error_line=bool(_option(options, "ignore_error_line", True)),
        )


def _counter_type(value: Any) -> str:
    """Any counter code goes to the broker (it decides); only UM0 is quiet, as in jqtrade 1.0."""
    text = str(value).strip()
    if not re.fullmatch(r"[A-Za-z0-9]{1,16}", text):
        known = "、".join(f"{code}（{label}）" for code, label in COUNTER_TYPES.items())
        raise GateConfigError(f"选项 counter_type 的值 {value!r} 不合法：应为柜台类型代码，如 {known}")
    if text in CREDIT_COUNTER_TYPES:
        log.warning(
            "柜台类型 counter_type=%s（%s）：信用账户没有经过 jqtrade 的测试，融资融券的买卖方式不受支持，"
            "委托按普通买卖发出；请与客户经理确认",
            text, CREDIT_COUNTER_TYPES[text],
        )
    elif text not in COUNTER_TYPES:
        log.warning(
            "柜台类型 counter_type=%s 不是已知的类型（%s）：委托照常发出，柜台类型不对会导致委托失败，请与客户经理确认",
            text, "、".join(COUNTER_TYPES),
        )
    elif text != "UM0":
        log.warning("柜台类型 counter_type=%s（默认 UM0）：柜台类型不对会导致委托失败，请与客户经理确认", text)
    return text


def _resolve_order_dir(value: Any) -> Path:
    if value is not None and str(value).strip():
        path = Path(str(value)).expanduser()
        if not path.is_dir():
            raise GateConfigError(
                f"选项 order_dir 指定的文件单目录不存在：{path}。请填写 OneQuant 中 DMA 算法设置的文件单目录"
            )
        return path
    found = [Path(candidate) for candidate in DEFAULT_ORDER_DIRS if Path(candidate).is_dir()]
    if len(found) > 1:
        log.warning(
            "没有设置 order_dir，且有多个默认的 OneQuant 文件单目录存在，使用 %s（其余：%s）；"
            "请用 set_options(order_dir=...) 指定 DMA 算法实际使用的目录",
            found[0], "、".join(map(str, found[1:])),
        )
    if found:
        return found[0]
    tried = "\n  ".join(DEFAULT_ORDER_DIRS)
    raise GateConfigError(
        f"没有设置 order_dir，默认的 OneQuant 文件单目录都不存在：\n  {tried}\n"
        "请在 OneQuant 中启动 DMA 算法后，用 set_options(order_dir=...) 填写它的文件单目录"
    )


@attrs.define
class _Day:
    """Per-trading-date state: new files, fresh offsets, no snapshots carried over."""

    files: DayFiles
    orders: LockedAppender
    cancels: LockedAppender
    exec_results: AppendedFileReader
    updates: AppendedFileReader
    parser: Optional[OrderUpdateParser] = None
    parser_restarts: int = 0  # the orderUpdate reader's restarts the parser was built for
    warned: set[tuple[Any, str]] = attrs.field(factory=set)  # (snapshot file version, warning) logged
    snapshots: dict[str, tuple[bytes, Any, Any]] = attrs.field(factory=dict)  # kind -> last good (bytes, result, updTime)
    missing_noted: set[str] = attrs.field(factory=set)  # missing appended files logged at INFO
    missing_warned: set[str] = attrs.field(factory=set)  # ... and at WARNING (once per day)
    ambiguous_logged: set[str] = attrs.field(factory=set)  # order ids whose rejection was ambiguous
    own_orders: Optional[AppendedFileReader] = None  # built on the first has_order call
    own_ids: set[str] = attrs.field(factory=set)
    id_counts: dict[str, int] = attrs.field(factory=dict)  # algoOrder lines per id, all accounts
    pending_rejections: list[ExecResult] = attrs.field(factory=list)  # waiting for a readable algoOrder
    first_order_at: Optional[pendulum.DateTime] = None  # clock time of today's first order


def _data_fields(line: str, width: int) -> Optional[list[str]]:
    """The fields of a data line as the main pass of ``_parse_lines`` accepts them (trailing
    empty columns cut), or ``None``; nothing is logged."""
    fields = line.split(",") if '"' not in line else split_fields(line)
    if fields is None or len(fields) == width:
        return fields
    if len(fields) > width and not any(fields[width:]) and line.strip(", \t"):
        return fields[:width]
    return None


class OneQuantTradeGate(AbsTradeGate):
    """安信/国投 OneQuant DMA 文件单交易接口 (the default gate).

    Orders go out as lines appended to ``algoOrder_YYYYMMDD.csv`` and cancels to
    ``algoOrderStop_YYYYMMDD.csv`` under an exclusive file lock; results come back from
    ``execResult``/``orderUpdate`` (read incrementally) and cash/positions from the
    ``assetInfo``/``positionInfo`` snapshots (used only when complete). The trading date of
    the files comes from the clock; at the date change the gate switches to the new files.

    Order styles:

    * ``LimitOrderStyle(p)`` with ``p > 0``: a limit order ``AT,0,p,p``.
    * ``LimitOrderStyle(0)``: ``AT,0,0,0`` — OneQuant prices it at the best counterparty
      quote (buy: min(max(last, ask1), limit-up); sell: max(min(last, bid1), limit-down)).
    * ``MarketOrderStyle()``: OneQuant rejects true market orders with a price error, so they
      are sent exactly like ``LimitOrderStyle(0)`` (best counterparty price) and this is logged.

    Orders and cash come from different files refreshed at different times: an order may show
    as filled a few seconds before the cash and position snapshot moves. That is expected.
    ``sync_orders`` returns, per call, the latest state of each order that changed (one report
    per ``custBatchNo``), including orders of other programs on the same account; jqtrade
    ignores ids it did not place. Lines of other fund accounts are dropped.

    A line that cannot be used (bad numbers, unknown status code, wrong field count, bytes
    that are not text in ``file_encoding``) is logged and skipped and never blocks the lines
    after it; ``ignore_error_line=False`` only raises the log level to ERROR. ``file_encoding``
    defaults to GBK, what OneQuant writes on Chinese Windows (the seed's "file-system encoding"
    is UTF-8 on Python ≥ 3.6 for Windows, which would garble OneQuant's Chinese texts).
    """

    name = "onequant"

    def __init__(self) -> None:
        self._config: Optional[OneQuantConfig] = None
        self._clock: Clock = LiveClock()
        self._sleep: Callable[[float], None] = time.sleep
        self._day: Optional[_Day] = None
        self._market_logged = False

    # -- lifecycle ----------------------------------------------------------------------------

    def setup(self, options: Mapping[str, Any], **kwargs: Any) -> None:
        """Validate options; ``clock=`` gives market time (default: the live clock).

        ``sleep=`` replaces the wait between snapshot read attempts (default ``time.sleep``,
        none under a simulated clock, where nothing can change while the gate waits).
        """
        self._config = OneQuantConfig.from_options(options)
        clock = kwargs.get("clock")
        if clock is not None:
            self._clock = clock
        sleep = kwargs.get("sleep")
        if sleep is not None:
            self._sleep = sleep
        elif self._clock.is_simulated:
            self._sleep = lambda seconds: None
        self._day = None
        log.info(
            "OneQuant 交易接口：资金账号 %s，文件单目录 %s，柜台类型 %s，编码 %s",
            self._config.account_no, self._config.order_dir, self._config.counter_type, self._config.file_encoding,
        )

    @property
    def config(self) -> OneQuantConfig:
        if self._config is None:
            raise GateError("OneQuant 交易接口还没有 setup")
        return self._config

    @property
    def files(self) -> DayFiles:
        """Today's files (by the clock's trading date)."""
        return self._today().files

    @property
    def order_id_dir(self) -> Path:
        """Order-id counters live beside the order files: every task writing to this folder
        draws from the same counter, whatever its runtime folder."""
        return self.config.order_dir / "jqtrade_order_ids"

    def close(self) -> None:
        self._day = None

    # -- orders -------------------------------------------------------------------------------

    def order(self, request: OrderRequest) -> None:
        config = self.config
        day = self._today()
        order_id = request.order_id
        if not order_id or any(ch in order_id for ch in ',"\r\n'):
            raise GateError(f"订单号 {order_id!r} 不能为空，也不能含逗号、引号或换行")
        if request.side is not OrderSide.long:
            raise GateError(f"OneQuant DMA 只支持多头股票交易，不支持 side={request.side}")
        if request.amount <= 0:
            raise GateError(f"委托数量应为正整数，实际是 {request.amount!r}")
        try:
            symbol = code_to_symbol(request.code)
        except ValueError as exc:
            raise GateError(str(exc)) from None
        style = request.style
        if isinstance(style, MarketOrderStyle):
            price = "0"
            if not self._market_logged:
                self._market_logged = True
                log.warning("市价单按对手方最优价（限价 0，AT,0,0,0）发送：OneQuant 不接受真正的市价单")
        elif isinstance(style, LimitOrderStyle):
            if not style.price >= 0:
                raise GateError(f"限价 {style.price!r} 不合法：应 ≥ 0（0 表示对手方最优价）")
            price = format_price(style.price)
        else:
            raise GateError(f"不支持的委托方式 {style!r}：请用 LimitOrderStyle 或 MarketOrderStyle")
        row = [
            format_upd_time(self._clock.now()),
            order_id,
            config.counter_type,
            config.account_no,
            symbol,
            "1" if request.is_buy else "2",
            str(int(request.amount)),
            config.algo_type,
            "AT",
            "0",
            price,
            price,
        ]
        day.orders.append([row])
        if day.first_order_at is None:
            day.first_order_at = self._clock.now()
        log.debug("已写入委托 %s：%s", day.files.algo_order.name, row)

    def cancel_order(self, order_id: str) -> None:
        day = self._today()
        if not order_id or any(ch in order_id for ch in ',"\r\n'):
            raise GateError(f"订单号 {order_id!r} 不能为空，也不能含逗号、引号或换行")
        day.cancels.append([[format_upd_time(self._clock.now()), order_id]])
        log.debug("已写入撤单 %s：%s", day.files.algo_order_stop.name, order_id)

    def has_order(self, order_id: str) -> Optional[bool]:
        """Whether ``order_id`` is in today's ``algoOrder`` file, the file OneQuant reads.

        ``None`` when the file could not be read just now. Used after a restart for an order
        whose process died while sending it; the file is indexed incrementally from then on.
        """
        day = self._today()
        if not self._index_orders(day):
            return None
        if order_id in day.own_ids:
            return True
        if day.own_orders is not None and day.own_orders.unterminated:
            # The id may be in a last line without its line end (a write cut short, e.g. by
            # a full disk): end that line, so it is either whole or a bad line, and look again.
            try:
                day.orders.terminate()
            except GateError as exc:
                log.debug("无法补全 %s 的最后一行：%s", day.files.algo_order.name, exc)
                return None
            if not self._index_orders(day) or day.own_orders.unterminated:
                return None
        return order_id in day.own_ids

    def _index_orders(self, day: _Day) -> bool:
        """Bring the index of today's ``algoOrder`` ids up to date (our account's ids, and the
        line count of every id whatever its account); False if the file could not be read whole."""
        reader = day.own_orders
        if reader is None:
            reader = day.own_orders = AppendedFileReader(
                day.files.algo_order, self.config.file_encoding, default_header=ALGO_ORDER_HEADER
            )
        if reader.changed():
            account_no = self.config.account_no
            restarts = reader.restarts
            rows = list(reader.iter_rows())
            if reader.restarts != restarts:  # the file was rewritten: count it again from the start
                day.id_counts.clear()
                day.own_ids.clear()
            counts = day.id_counts
            for row in rows:
                order_id = row.get("custBatchNo", "").strip()
                counts[order_id] = counts.get(order_id, 0) + 1
                if row.get("acct", "").strip() == account_no:
                    day.own_ids.add(order_id)
        return reader.complete

    # -- order sync ---------------------------------------------------------------------------

    def sync_orders(self) -> list[dict[str, Any]]:
        day = self._today()
        reports: dict[str, dict[str, Any]] = {}
        self._read_exec_results(day, reports)
        if day.pending_rejections:
            self._add_rejections(day, reports)
        return list(self._read_order_updates(day, reports).values())

    def _read_exec_results(self, day: _Day, reports: dict[str, dict[str, Any]]) -> None:
        reader = day.exec_results
        if not reader.changed():
            self._note_missing(day, reader)
            return
        rejected: list[ExecResult] = []
        for row in reader.iter_rows():
            result = parse_exec_result(row)
            if result is None:
                continue
            if not result.rejected:
                continue
            if result.is_cancel:
                log.warning("撤单被拒绝：订单 %s，%s %s（订单保持原状态）", result.order_id, result.error_code, result.error_msg)
                continue
            log.warning("委托被拒绝：订单 %s，%s %s", result.order_id, result.error_code, result.error_msg)
            rejected.append(result)
        if rejected:
            day.pending_rejections.extend(rejected)
        self._note_missing(day, reader)

    def _add_rejections(self, day: _Day, reports: dict[str, dict[str, Any]]) -> None:
        """Build reports for instructions OneQuant refused, from our own lines in ``algoOrder``.

        The order file, not memory, is the source, so this also works after a restart; ids not
        in it are not ours. A rejection is attached to an order only when the id cannot be
        another writer's: if the file holds more than one line with that ``custBatchNo``, or
        its line is of another fund account, the rejection is ambiguous (logged once at
        WARNING, not reported). While the file cannot be read, the rejections wait.
        """
        if not self._index_orders(day):
            return
        rejected, day.pending_rejections = day.pending_rejections, []
        wanted: dict[str, ExecResult] = {}
        for result in rejected:
            order_id = result.order_id
            count = day.id_counts.get(order_id, 0)
            if count == 0:
                log.debug("拒单回报中的订单 %s 不在本目录的 algoOrder 文件中，不是 jqtrade 下的单，忽略", order_id)
                continue
            if count > 1 or order_id not in day.own_ids:
                if order_id not in day.ambiguous_logged:
                    day.ambiguous_logged.add(order_id)
                    why = (
                        f"algoOrder 中有 {count} 行使用这个订单号（可能有其他程序用了相同的 custBatchNo）"
                        if count > 1 else "algoOrder 中这个订单号属于其他资金账号"
                    )
                    log.warning(
                        "无法确定拒单回报属于哪个委托：订单 %s，%s；不把它当作本账号订单的拒单（原因 %s %s）",
                        order_id, why, result.error_code, result.error_msg,
                    )
                continue
            wanted[order_id] = result
        if not wanted:
            return
        reader = AppendedFileReader(day.files.algo_order, self.config.file_encoding, default_header=ALGO_ORDER_HEADER)
        account_no = self.config.account_no
        for row in reader.iter_rows():
            order_id = row.get("custBatchNo", "").strip()
            found = wanted.pop(order_id, None)
            if found is None:
                continue
            if row.get("acct", "").strip() != account_no:
                continue  # not reached: the index said the only line is ours
            code = symbol_to_code(row.get("symbol", ""))
            action = SIDE_CODES.get(row.get("tradeSide", "").strip())
            try:
                amount = parse_quantity(row.get("targetQty", ""))
                price = float(parse_money(row.get("highLimitPrice", "")))
            except RowError:
                amount, price = 0, 0.0
            if code is None or action is None:
                continue
            upd = row.get("updTime", "").strip()
            reports[order_id] = {
                "order_id": order_id,
                "broker_order_id": None,
                "code": code,
                "action": action,
                "status": OrderStatus.rejected,
                "amount": amount,
                "price": price,
                "filled_amount": 0,
                "canceled_amount": amount,
                "avg_price": 0.0,
                "deal_balance": 0.0,
                "commission": 0.0,
                "err_msg": found.error_msg or found.error_code,
                "entrust_time": parse_entrust_time(day.files.day.strftime("%Y%m%d"), upd),
                "account": account_no,
            }
            if not wanted:
                break
        for order_id in wanted:
            log.debug("拒单回报中的订单 %s 在 algoOrder 文件中的行无法使用，忽略", order_id)

    def _read_order_updates(self, day: _Day, reports: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """``reports`` updated with the latest state per order from the new ``orderUpdate`` lines.

        Each batch is parsed column-wise when it is clean, else line by line. Per order the
        last report wins, except that a final state is not replaced by a later non-final one.
        """
        reader = day.updates
        if not reader.changed():
            self._note_missing(day, reader)
            return reports
        account_no = self.config.account_no
        key_parts: list[list[str]] = [list(reports)]
        report_parts: list[list[dict[str, Any]]] = [list(reports.values())]
        for text in reader.iter_texts():
            if reader.restarts != day.parser_restarts:  # rewritten: its header may differ too
                day.parser, day.parser_restarts = None, reader.restarts
            parser = day.parser
            if parser is None:
                try:
                    parser = day.parser = OrderUpdateParser(reader.columns)
                except RowError as exc:
                    log.error("%s 表头不对，无法读取订单状态：%s", reader.path.name, exc)
                    break
            width = len(reader.header or ())
            with gc_paused():  # one batch at a time: its temporaries die unseen, its reports are seen once
                parsed = parser.parse_text(text, width, account_no) if text.count("\n") >= _COLUMN_MIN_LINES else None
                if parsed is None:
                    batch = text.split("\n")
                    batch.pop()  # after the last line end
                    parsed = self._parse_lines(reader, parser, batch, width, account_no)
            key_parts.append(parsed[0])
            report_parts.append(parsed[1])
        self._note_missing(day, reader)
        if len(key_parts) == 1:
            return reports
        keys = chain.from_iterable(key_parts)
        merged = dict(zip(keys, chain.from_iterable(report_parts)))
        if len(merged) < sum(map(len, key_parts)):  # an order reported more than once
            final = [report["status"].is_final for report in chain.from_iterable(report_parts)]
            finals = zip(compress(chain.from_iterable(key_parts), final), compress(chain.from_iterable(report_parts), final))
            merged.update(finals)
        return merged

    def _parse_lines(
        self, reader: AppendedFileReader, parser: OrderUpdateParser, batch: list[str], width: int, account_no: str
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """The careful path of a batch: scanned backwards so a superseded line costs a split;
        bad lines are logged and skipped, an order whose newest line is bad falls back to its
        older lines. Returns (keys, reports) ordered by the position of each order's newest line."""
        status_index, acct_index, key_index = parser.status_index, parser.acct_index, parser.key_index
        # newest line per order (a final state beats a later non-final one)
        chosen: dict[str, list[str]] = {}
        header_line = reader.header_line
        for line in reversed(batch):
            if line == header_line:
                continue
            fields = line.split(",") if '"' not in line else split_fields(line)
            if fields is None or len(fields) != width:
                fields = reader.fields(line, width)  # blank, header or bad
                if fields is None:
                    continue
            if acct_index is not None and fields[acct_index] != account_no and fields[acct_index].strip() not in ("", account_no):
                continue  # another fund account logged in to the same OneQuant
            key = fields[key_index] or parser.key(fields)
            known = chosen.get(key)
            if known is not None and (known[status_index] in FINAL_STATUS_CODES or fields[status_index] not in FINAL_STATUS_CODES):
                continue  # an older line of an order already seen in this batch
            chosen[key] = fields
        keys = list(chosen)
        parsed = parser.parse_many(list(chosen.values()))
        latest = dict(zip(keys, parsed))
        if parser.errors:
            self._retry_older_lines(reader, parser, batch, latest, width, account_no)
        used_keys: list[str] = []
        reports: list[dict[str, Any]] = []
        for key in reversed(keys):
            report = latest[key]
            if report is not None:
                used_keys.append(key)
                reports.append(report)
        return used_keys, reports

    @staticmethod
    def _retry_older_lines(
        reader: AppendedFileReader,
        parser: OrderUpdateParser,
        batch: list[str],
        latest: dict[str, Optional[dict[str, Any]]],
        width: int,
        account_no: str,
    ) -> None:
        """The line chosen for some orders was unusable: log it and choose again among the
        usable lines, by the main pass's rules (the same lines accepted, other fund accounts'
        lines skipped, the newest line winning unless an older one is final). The failed line
        is met again and fails again, quietly."""
        status_index, acct_index, key_index = parser.status_index, parser.acct_index, parser.key_index
        failed: set[str] = set()
        for bad, why in parser.errors:
            reader.bad_line(",".join(bad), why)
            failed.add(bad[key_index] or parser.key(bad))
        parser.errors.clear()
        header_line = reader.header_line
        for line in reversed(batch):
            if line == header_line:
                continue
            fields = _data_fields(line, width)
            if fields is None:
                continue
            if acct_index is not None and fields[acct_index] != account_no and fields[acct_index].strip() not in ("", account_no):
                continue
            key = fields[key_index] or parser.key(fields)
            if key not in failed:
                continue
            final = fields[status_index] in FINAL_STATUS_CODES
            if latest[key] is not None and not final:
                continue  # a newer usable line was found; only an older final one beats it
            try:
                latest[key] = parser(fields)
            except RowError:
                continue
            if final:
                failed.discard(key)
                if not failed:
                    return

    # -- balance sync -------------------------------------------------------------------------

    def sync_balance(self) -> dict[str, Any]:
        """Cash and positions from today's ``assetInfo``/``positionInfo`` snapshots, with ``as_of``.

        Returns the dict of :meth:`AbsTradeGate.sync_balance` plus ``"as_of"``: a
        ``pendulum.DateTime`` in market time (Asia/Shanghai), when the broker produced the
        snapshot. Per file it is the file's trading date at the ``updTime`` of our account's
        cash total line (``assetInfo``) or the latest ``updTime`` of our position rows
        (``positionInfo``); the file's modification time when that column is missing or a value
        cannot be parsed, or when there is no position row of ours. The balance's ``as_of`` is
        the older of the two files' times.

        Never returns an older snapshot as if it were new: when a file (or the folder) is
        missing, unreadable, still incomplete (no end-marker line) after
        ``sync_retry_kwargs`` (``max_attempts`` reads, ``attempt_internal`` s apart), or not in
        the expected shape (a required column missing; in a row of our account an empty,
        non-numeric or negative field; differing cash total lines), it raises
        :class:`jqtrade.errors.SnapshotUnusableError` naming the file, the folder and what is
        wrong; the account then keeps its last state and marks it stale. Lines of other fund
        accounts are ignored; a position with ``currentQty`` 0 is no position; identical
        duplicate lines count once, differing rows of one symbol are summed (a warning once per
        file version). The rules are in :mod:`jqtrade.gates.onequant_snapshot`. Failures are
        logged here at DEBUG only: the account logs them.
        """
        config = self.config
        day = self._today()
        paths = {"asset": day.files.asset_info, "position": day.files.position_info}
        results: dict[str, tuple[Any, pendulum.DateTime]] = {}
        problems: dict[str, SnapshotUnusableError] = {}
        for attempt in range(config.max_attempts):
            for kind, path in paths.items():
                if kind in results:
                    continue
                try:
                    with gc_paused():
                        results[kind] = self._read_snapshot(day, kind, path)
                except SnapshotUnusableError as exc:
                    problems[kind] = exc
                    continue
                problems.pop(kind, None)
            if not problems:
                break
            if attempt + 1 < config.max_attempts:
                log.debug("资金/持仓快照暂不可用（第 %d 次）：%s", attempt + 1, "；".join(map(str, problems.values())))
                self._sleep(config.attempt_internal)
        if problems:
            reasons = []
            for kind, problem in problems.items():
                what = "资金" if kind == "asset" else "持仓"
                reason = problem.reason
                if "不存在" in reason and _BALANCE_HINT not in reason:
                    reason = f"{reason}。{_BALANCE_HINT}"
                reasons.append(f"{what}快照不可用：{reason}")
            log.debug("%s", "；".join(reasons))
            raise SnapshotUnusableError("；".join(reasons))
        cash, cash_as_of = results["asset"]
        positions, position_as_of = results["position"]
        return {"cash": cash, "positions": positions, "as_of": min(cash_as_of, position_as_of)}

    def _read_snapshot(self, day: _Day, kind: str, path: Path) -> tuple[Any, pendulum.DateTime]:
        """(cash dict or positions list, as_of) of one snapshot file; raises
        ``SnapshotUnusableError``. A file whose bytes are those of the last good read gives
        that read's result again (copied) without parsing; only a file time is read anew."""
        config = self.config
        snapshot = read_snapshot_file(path, config.file_encoding, parse=False)
        cached = day.snapshots.get(kind)
        if cached is not None and cached[0] == snapshot.data:
            result, upd = cached[1], cached[2]
        else:
            day.snapshots.pop(kind, None)
            snapshot = parse_snapshot_file(snapshot, config.file_encoding, ascii_fields_only=True)
            if kind == "asset":
                result, upd = parse_cash(snapshot, config.account_no, day.files.day, _BALANCE_HINT)
            else:
                version = snapshot.version
                result, upd = parse_positions(
                    snapshot, config.account_no, day.files.day, lambda message: self._warn_once(day, version, message)
                )
            day.snapshots[kind] = (snapshot.data, result, upd)
        copied = dict(result) if kind == "asset" else list(map(dict.copy, result))
        return copied, upd if upd is not None else snapshot.mtime

    @staticmethod
    def _warn_once(day: _Day, version: tuple[int, int, int], message: str) -> None:
        key = (version, message)
        if key not in day.warned:
            if len(day.warned) > 1000:
                day.warned.clear()
            day.warned.add(key)
            log.warning("%s", message)

    # -- days and files -----------------------------------------------------------------------

    def _today(self) -> _Day:
        config = self.config
        date = self._clock.now().in_tz(MARKET_TZ).date()
        day = self._day
        if day is not None and day.files.day == date:
            return day
        if day is not None:
            log.info("交易日切换到 %s，改用新一天的文件单", date)
        self._day = day = self._open_day(config, date)
        return day

    @staticmethod
    def _open_day(config: OneQuantConfig, date: datetime.date) -> _Day:
        files = DayFiles(config.order_dir, date)
        encoding = config.file_encoding
        level = logging.WARNING if config.ignore_error_line else logging.ERROR

        def appender(path: Path, header: list[str]) -> LockedAppender:
            return LockedAppender(
                path, header, encoding,
                lock_timeout=config.wait_lock_time_out, poll_interval=max(config.wait_lock_internal, 0.001),
            )

        return _Day(
            files=files,
            orders=appender(files.algo_order, ALGO_ORDER_HEADER),
            cancels=appender(files.algo_order_stop, ALGO_ORDER_STOP_HEADER),
            exec_results=AppendedFileReader(
                files.exec_result, encoding, default_header=EXEC_RESULT_HEADER, bad_line_level=level
            ),
            # Small chunks: a first read of a long file holds one chunk's fields at a time
            # (memory), and they stay in the CPU cache (measured faster than 1 MiB chunks).
            updates=AppendedFileReader(
                files.order_update, encoding, default_header=ORDER_UPDATE_HEADER, bad_line_level=level,
                chunk_size=_UPDATE_CHUNK,
            ),
        )

    def _note_missing(self, day: _Day, reader: AppendedFileReader) -> None:
        """Say which appended file is missing and why it might be. OneQuant (and the built-in
        simulator) create the result files only when the first order of the day is answered,
        so a missing file is news (INFO, once) until an order has waited
        :data:`_MISSING_GRACE` seconds of clock time for them; then it is a WARNING, once
        per file per day."""
        name = reader.path.name
        if not reader.missing:
            if name in day.missing_noted:
                day.missing_noted.discard(name)
                log.info("文件 %s 已出现", name)
            return
        first = day.first_order_at
        waited = first is not None and (self._clock.now() - first).total_seconds() >= _MISSING_GRACE
        if not waited:
            if name not in day.missing_noted:
                day.missing_noted.add(name)
                log.info("文件 %s 还不存在（目录 %s），今天还没有委托得到回报，继续等待", name, day.files.directory)
        elif name not in day.missing_warned:
            day.missing_warned.add(name)
            day.missing_noted.add(name)
            log.warning(
                "文件 %s 还不存在（目录 %s），而今天的第一笔委托已发出 %d 秒：OneQuant 可能未启动 DMA 算法、"
                "资金账号未登录，或 order_dir 不是 DMA 算法的文件单目录。继续等待",
                name, day.files.directory, _MISSING_GRACE,
            )
