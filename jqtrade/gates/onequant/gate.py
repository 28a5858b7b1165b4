"""The OneQuant gate: wires the protocol, the files and the parsers behind ``AbsTradeGate``."""

from __future__ import annotations

import datetime
import logging
import time
from itertools import chain, compress
from pathlib import Path
from typing import Any, Callable, Optional

import attrs
import pendulum

from jqtrade.clock import Clock, LiveClock, in_market
from jqtrade.errors import GateConfigError, GateError, SnapshotUnusableError
from jqtrade.gates.base import AbsTradeGate, GateEnv
from jqtrade.gates.onequant import protocol
from jqtrade.gates.onequant.config import OneQuantConfig
from jqtrade.gates.onequant.files import AppendedFileReader, DayFiles, LockedAppender
from jqtrade.gates.onequant.parsing import (
    ZERO,
    ExecResult,
    OrderUpdateParser,
    RowError,
    gc_paused,
    make_report,
    parse_batch,
    parse_entrust_time,
    parse_exec_result,
    parse_money,
    parse_quantity,
)
from jqtrade.gates.onequant.protocol import (
    ALGO_ORDER_HEADER,
    ALGO_ORDER_STOP_HEADER,
    COUNTER_TYPES,
    CREDIT_COUNTER_TYPES,
    EXEC_RESULT_HEADER,
    ORDER_UPDATE_HEADER,
    SIDE_CODES,
    code_to_symbol,
    format_price,
    format_upd_time,
    parse_upd_time,
    symbol_to_code,
)
from jqtrade.gates.onequant.snapshot import (
    Cash,
    parse_cash,
    parse_positions,
    parse_snapshot_file,
    read_snapshot_file,
)
from jqtrade.model.orders import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from jqtrade.model.reports import BalanceReport, OrderReport, PositionReport

log = logging.getLogger("jqtrade.gates.onequant")

_UPDATE_CHUNK = 1 << 17  # bytes of orderUpdate read and parsed at a time
_MISSING_GRACE = 120.0  # s an order may wait for the result files before their absence is a WARNING

_BALANCE_HINT = (
    "常见原因：1) order_dir 不是 OneQuant 里 DMA 算法设置的文件单目录；"
    "2) 资金账号没有在 OneQuant 中登录，或 DMA 算法没有启动；"
    "3) account_no 与 OneQuant 中登录的资金账号不一致"
)


def _warn_counter_type(text: str) -> None:
    """Any counter code goes to the broker (it decides); only UM0 is quiet, as in jqtrade 1.0."""
    if text in CREDIT_COUNTER_TYPES:
        log.warning(
            "柜台类型 counter_type=%s（%s）：信用账户没有经过 jqtrade 的测试，融资融券的买卖方式不受支持，"
            "委托按普通买卖发出；请与客户经理确认",
            text,
            CREDIT_COUNTER_TYPES[text],
        )
    elif text not in COUNTER_TYPES:
        log.warning(
            "柜台类型 counter_type=%s 不是已知的类型（%s）：委托照常发出，柜台类型不对会导致委托失败，请与客户经理确认",
            text,
            "、".join(COUNTER_TYPES),
        )
    elif text != "UM0":
        log.warning(
            "柜台类型 counter_type=%s（默认 UM0）：柜台类型不对会导致委托失败，请与客户经理确认",
            text,
        )


def _resolve_order_dir(value: Optional[str]) -> Path:
    if value is not None and str(value).strip():
        path = Path(str(value)).expanduser()
        if not path.is_dir():
            raise GateConfigError(
                f"选项 order_dir 指定的文件单目录不存在：{path}。请填写 OneQuant 中 DMA 算法设置的文件单目录"
            )
        return path
    defaults = protocol.DEFAULT_ORDER_DIRS
    found = [Path(candidate) for candidate in defaults if Path(candidate).is_dir()]
    if len(found) > 1:
        log.warning(
            "没有设置 order_dir，且有多个默认的 OneQuant 文件单目录存在，使用 %s（其余：%s）；"
            "请用 set_options(order_dir=...) 指定 DMA 算法实际使用的目录",
            found[0],
            "、".join(map(str, found[1:])),
        )
    if found:
        return found[0]
    tried = "\n  ".join(defaults)
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
    warned: set[tuple[Any, str]] = attrs.field(
        factory=set
    )  # (snapshot file version, warning) logged
    snapshots: dict[str, tuple[bytes, Any, Optional[pendulum.DateTime]]] = attrs.field(
        factory=dict
    )  # kind -> last good (bytes, result, updTime)
    missing_noted: set[str] = attrs.field(factory=set)  # missing appended files logged at INFO
    missing_warned: set[str] = attrs.field(factory=set)  # ... and at WARNING (once per day)
    ambiguous_logged: set[str] = attrs.field(factory=set)  # order ids whose rejection was ambiguous
    own_orders: Optional[AppendedFileReader] = None  # built on the first has_order call
    own_ids: set[str] = attrs.field(factory=set)
    id_counts: dict[str, int] = attrs.field(factory=dict)  # algoOrder lines per id, all accounts
    pending_rejections: list[ExecResult] = attrs.field(
        factory=list
    )  # waiting for a readable algoOrder
    first_order_at: Optional[pendulum.DateTime] = None  # clock time of today's first order


class OneQuantTradeGate(AbsTradeGate[OneQuantConfig]):
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
    ``sync_orders`` returns, per call, the latest state of each order that changed (one
    :class:`OrderReport` per ``custBatchNo``), including orders of other programs on the same
    account; jqtrade ignores ids it did not place. Lines of other fund accounts are dropped.
    A report's ``update_time`` is the line's ``updTime`` on the file's trading date.

    A line that cannot be used (bad numbers, unknown status code, wrong field count, bytes
    that are not text in ``file_encoding``) is always logged and skipped and never blocks the
    lines after it; ``ignore_error_line`` only chooses the log level (True: WARNING, False:
    ERROR). ``file_encoding`` defaults to GBK, what OneQuant writes on Chinese Windows.

    ``sleep`` replaces the wait between snapshot read attempts (default ``time.sleep``; none
    under a simulated clock, where nothing can change while the gate waits).
    """

    name = "onequant"
    config_class = OneQuantConfig

    def __init__(self, *, sleep: Optional[Callable[[float], None]] = None) -> None:
        self._config: Optional[OneQuantConfig] = None
        self._order_dir: Optional[Path] = None
        self._clock: Clock = LiveClock()
        self._sleep_given = sleep
        self._sleep: Callable[[float], None] = sleep or time.sleep
        self._day: Optional[_Day] = None
        self._market_logged = False

    # -- lifecycle ----------------------------------------------------------------------------

    def configure(self, config: OneQuantConfig, env: GateEnv) -> None:
        """Check what depends on the machine (``account_no`` set, the folder there) and take
        the clock from ``env``; raises :class:`GateConfigError`."""
        if config.account_no is None:
            raise GateConfigError(
                "使用 OneQuant 交易接口必须设置资金账号：请在 process_initialize 中调用 "
                "set_options(account_no='你的资金账号')"
            )
        order_dir = _resolve_order_dir(config.order_dir)
        _warn_counter_type(config.counter_type)
        self._config = attrs.evolve(config, order_dir=str(order_dir))
        self._order_dir = order_dir
        self._clock = env.clock
        if self._sleep_given is None:
            self._sleep = (lambda seconds: None) if env.clock.is_simulated else time.sleep
        self._day = None
        log.info(
            "OneQuant 交易接口：资金账号 %s，文件单目录 %s，柜台类型 %s，编码 %s",
            config.account_no,
            order_dir,
            config.counter_type,
            config.file_encoding,
        )

    @property
    def config(self) -> OneQuantConfig:
        """The config as used: ``order_dir`` is the folder found when none was set."""
        if self._config is None:
            raise GateError("OneQuant 交易接口还没有 configure")
        return self._config

    @property
    def account_no(self) -> str:
        return self.config.account_no or ""

    @property
    def order_dir(self) -> Path:
        """The folder of the order files."""
        self.config  # noqa: B018 - raises before configure
        assert self._order_dir is not None
        return self._order_dir

    @property
    def files(self) -> DayFiles:
        """Today's files (by the clock's trading date)."""
        return self._today().files

    @property
    def order_id_dir(self) -> Path:
        """Order-id counters live beside the order files: every task writing to this folder
        draws from the same counter, whatever its runtime folder."""
        return self.order_dir / "jqtrade_order_ids"

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
                log.warning(
                    "市价单按对手方最优价（限价 0，AT,0,0,0）发送：OneQuant 不接受真正的市价单"
                )
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
            self.account_no,
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
            account_no = self.account_no
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

    def sync_orders(self) -> list[OrderReport]:
        day = self._today()
        reports: dict[str, OrderReport] = {}
        self._read_exec_results(day)
        if day.pending_rejections:
            self._add_rejections(day, reports)
        return list(self._read_order_updates(day, reports).values())

    def _read_exec_results(self, day: _Day) -> None:
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
                log.warning(
                    "撤单被拒绝：订单 %s，%s %s（订单保持原状态）",
                    result.order_id,
                    result.error_code,
                    result.error_msg,
                )
                continue
            log.warning(
                "委托被拒绝：订单 %s，%s %s", result.order_id, result.error_code, result.error_msg
            )
            rejected.append(result)
        if rejected:
            day.pending_rejections.extend(rejected)
        self._note_missing(day, reader)

    def _add_rejections(self, day: _Day, reports: dict[str, OrderReport]) -> None:
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
                log.debug(
                    "拒单回报中的订单 %s 不在本目录的 algoOrder 文件中，不是 jqtrade 下的单，忽略",
                    order_id,
                )
                continue
            if count > 1 or order_id not in day.own_ids:
                if order_id not in day.ambiguous_logged:
                    day.ambiguous_logged.add(order_id)
                    why = (
                        f"algoOrder 中有 {count} 行使用这个订单号（可能有其他程序用了相同的 custBatchNo）"
                        if count > 1
                        else "algoOrder 中这个订单号属于其他资金账号"
                    )
                    log.warning(
                        "无法确定拒单回报属于哪个委托：订单 %s，%s；不把它当作本账号订单的拒单（原因 %s %s）",
                        order_id,
                        why,
                        result.error_code,
                        result.error_msg,
                    )
                continue
            wanted[order_id] = result
        if not wanted:
            return
        reader = AppendedFileReader(
            day.files.algo_order, self.config.file_encoding, default_header=ALGO_ORDER_HEADER
        )
        account_no = self.account_no
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
                price = parse_money(row.get("highLimitPrice", ""))
            except RowError:
                amount, price = 0, ZERO
            if code is None or action is None:
                continue
            upd = row.get("updTime", "").strip()
            reports[order_id] = make_report(
                order_id,
                code,
                OrderStatus.rejected,
                None,
                action,
                amount,
                price,
                0,
                amount,
                ZERO,
                ZERO,
                ZERO,
                found.error_msg or found.error_code,
                parse_entrust_time(day.files.day.strftime("%Y%m%d"), upd),
                parse_upd_time(upd, day.files.day),
            )
            if not wanted:
                break
        for order_id in wanted:
            log.debug("拒单回报中的订单 %s 在 algoOrder 文件中的行无法使用，忽略", order_id)

    def _read_order_updates(
        self, day: _Day, reports: dict[str, OrderReport]
    ) -> dict[str, OrderReport]:
        """``reports`` updated with the latest state per order from the new ``orderUpdate`` lines.

        Each batch goes the column path or the line path by the rule of
        :func:`jqtrade.gates.onequant.parsing.parse_batch`. Per order the last report wins,
        except that a final state is not replaced by a later non-final one.
        """
        reader = day.updates
        if not reader.changed():
            self._note_missing(day, reader)
            return reports
        account_no = self.account_no
        key_parts: list[list[str]] = [list(reports)]
        report_parts: list[list[OrderReport]] = [list(reports.values())]
        # The whole read with the collector paused: the batches' temporaries die unseen and the
        # reports (no cycles among them) are walked once, by the first collection afterwards.
        with gc_paused():
            for text in reader.iter_texts():
                if reader.restarts != day.parser_restarts:  # rewritten: its header may differ too
                    day.parser, day.parser_restarts = None, reader.restarts
                parser = day.parser
                if parser is None:
                    try:
                        parser = day.parser = OrderUpdateParser(reader.columns, day.files.day)
                    except RowError as exc:
                        log.error("%s 表头不对，无法读取订单状态：%s", reader.path.name, exc)
                        break
                width = len(reader.header or ())
                keys, parsed = parse_batch(reader, parser, text, width, account_no)
                key_parts.append(keys)
                report_parts.append(parsed)
        self._note_missing(day, reader)
        if not key_parts[0]:
            del key_parts[0], report_parts[0]
        if not key_parts:
            return reports
        if len(key_parts) == 1:  # one batch: its keys are distinct
            return dict(zip(key_parts[0], report_parts[0]))
        keys_all = chain.from_iterable(key_parts)
        merged = dict(zip(keys_all, chain.from_iterable(report_parts)))
        if len(merged) < sum(map(len, key_parts)):  # an order reported more than once
            final = [report.status.is_final for report in chain.from_iterable(report_parts)]
            finals = zip(
                compress(chain.from_iterable(key_parts), final),
                compress(chain.from_iterable(report_parts), final),
            )
            merged.update(finals)
        return merged

    # -- balance sync -------------------------------------------------------------------------

    def sync_balance(self) -> BalanceReport:
        """Cash and positions from today's ``assetInfo``/``positionInfo`` snapshots.

        ``as_of`` is when the broker produced the snapshot, in market time (Asia/Shanghai).
        Per file it is the file's trading date at the ``updTime`` of our account's cash total
        line (``assetInfo``) or the latest ``updTime`` of our position rows
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
        file version). The rules are in :mod:`jqtrade.gates.onequant.snapshot`. Failures are
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
                log.debug(
                    "资金/持仓快照暂不可用（第 %d 次）：%s",
                    attempt + 1,
                    "；".join(map(str, problems.values())),
                )
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
        cash: Cash
        positions: tuple[PositionReport, ...]
        cash, cash_as_of = results["asset"]
        positions, position_as_of = results["position"]
        return BalanceReport(
            total_value=cash.total_value,
            available_cash=cash.available_cash,
            locked_cash=cash.locked_cash,
            positions=positions,
            as_of=min(cash_as_of, position_as_of),
        )

    def _read_snapshot(self, day: _Day, kind: str, path: Path) -> tuple[Any, pendulum.DateTime]:
        """(cash or positions, as_of) of one snapshot file; raises ``SnapshotUnusableError``.
        A file whose bytes are those of the last good read gives that read's (immutable) result
        again without parsing; only a file time is read anew."""
        config = self.config
        account_no = self.account_no
        snapshot = read_snapshot_file(path, config.file_encoding, parse=False)
        cached = day.snapshots.get(kind)
        if cached is not None and cached[0] == snapshot.data:
            result, upd = cached[1], cached[2]
        else:
            day.snapshots.pop(kind, None)
            snapshot = parse_snapshot_file(snapshot, config.file_encoding, ascii_fields_only=True)
            if kind == "asset":
                result, upd = parse_cash(snapshot, account_no, day.files.day, _BALANCE_HINT)
            else:
                version = snapshot.version
                result, upd = parse_positions(
                    snapshot,
                    account_no,
                    day.files.day,
                    lambda message: self._warn_once(day, version, message),
                )
            day.snapshots[kind] = (snapshot.data, result, upd)
        return result, upd if upd is not None else snapshot.mtime

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
        date = in_market(self._clock.now()).date()
        day = self._day
        if day is not None and day.files.day == date:
            return day
        if day is not None:
            log.info("交易日切换到 %s，改用新一天的文件单", date)
        self._day = day = self._open_day(config, date)
        return day

    @staticmethod
    def _open_day(config: OneQuantConfig, date: datetime.date) -> _Day:
        files = DayFiles(Path(config.order_dir or "."), date)
        encoding = config.file_encoding
        level = logging.WARNING if config.ignore_error_line else logging.ERROR

        def appender(path: Path, header: list[str]) -> LockedAppender:
            return LockedAppender(
                path,
                header,
                encoding,
                lock_timeout=config.wait_lock_time_out,
                poll_interval=max(config.wait_lock_internal, 0.001),
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
                files.order_update,
                encoding,
                default_header=ORDER_UPDATE_HEADER,
                bad_line_level=level,
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
                log.info(
                    "文件 %s 还不存在（目录 %s），今天还没有委托得到回报，继续等待",
                    name,
                    day.files.directory,
                )
        elif name not in day.missing_warned:
            day.missing_warned.add(name)
            day.missing_noted.add(name)
            log.warning(
                "文件 %s 还不存在（目录 %s），而今天的第一笔委托已发出 %d 秒：OneQuant 可能未启动 DMA 算法、"
                "资金账号未登录，或 order_dir 不是 DMA 算法的文件单目录。继续等待",
                name,
                day.files.directory,
                _MISSING_GRACE,
            )
