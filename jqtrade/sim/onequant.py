"""A simulated OneQuant: the broker core of :mod:`jqtrade.sim.broker` behind the DMA files.

It reads the order and cancel files the gate appends to and answers the way the real client
does: ``execResult`` for every instruction, one full ``orderUpdate`` line per status change
(7 -> 0 -> 1 -> 2; cancels 8 -> 3/4; rejects 5 with a Chinese reason), ``tradeUpdate`` per
fill, and ``assetInfo``/``positionInfo`` truncated and rewritten in place every few seconds,
ending with the end-marker line. It is driven by the ``now`` passed to :meth:`poll`, so the
same code runs on the live clock (``jqtrade sim``) and under a simulated clock in tests.

It never wedges: an instruction it cannot handle (a quantity or price beyond the bounds of
:mod:`jqtrade.model.rules`, a code whose rules it does not know, a line that does not parse)
is answered with a rejection in ``execResult`` and the other orders are served. Options that
no broker could have (NaN cash, a negative latency) are refused when it is made.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional, Union

import pendulum

from jqtrade.clock import Clock, in_market
from jqtrade.gates.onequant.files import AppendedFileReader, DayFiles, encode_rows
from jqtrade.gates.onequant.protocol import (
    ALGO_ORDER_HEADER,
    ALGO_ORDER_STOP_HEADER,
    ASSET_INFO_HEADER,
    EXEC_RESULT_HEADER,
    ORDER_UPDATE_HEADER,
    POSITION_INFO_HEADER,
    TRADE_UPDATE_HEADER,
    code_to_symbol,
    format_upd_time,
    symbol_to_code,
)
from jqtrade.model.orders import OrderAction, OrderStatus
from jqtrade.model.reports import OrderReport, TradeReport
from jqtrade.model.rules import MAX_LIMIT_PRICE, MAX_ORDER_AMOUNT, Board, board_of
from jqtrade.sim.broker import (
    BACKSTOP,
    NewOrder,
    Pricing,
    RepoLoan,
    SimBroker,
    SimOrder,
    SimPosition,
    trade_cash,
)
from jqtrade.sim.faults import FaultInjector
from jqtrade.sim.market import Market, PriceFeed, PricesArg, as_code, number_in

log = logging.getLogger("jqtrade.sim")

ZERO = Decimal(0)
CENT = Decimal("0.01")
_AVG_STEP = Decimal("0.0001")

#: What a counter takes as a quantity: ASCII digits only (``str.isdigit`` also says yes to
#: "²", which ``int`` refuses).
_QTY = re.compile(r"[0-9]+")
#: Finer than any tick (0.001): a price with more decimals than this is not a price.
_PRICE_STEP = Decimal("0.000001")
_PRICE_TYPES = {"AT": Pricing.limit, "P6": Pricing.limit_up, "P7": Pricing.limit_down}
_SIDES = {"1": OrderAction.open, "2": OrderAction.close}
_SIDE_CODES = {OrderAction.open: "1", OrderAction.close: "2"}
_STATUS_CODES = {
    OrderStatus.new: "7",
    OrderStatus.open: "0",
    OrderStatus.filling: "1",
    OrderStatus.filled: "2",
    OrderStatus.canceling: "8",
    OrderStatus.partly_canceled: "3",
    OrderStatus.canceled: "4",
    OrderStatus.rejected: "5",
}


class _Outbox:
    """Appends for one poll, flushed together; with faults the last line may be cut short."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.raw: dict[Path, list[bytes]] = {}
        self.tails: dict[Path, bytes] = {}
        self.headers: dict[Path, Sequence[str]] = {}

    def add(self, path: Path, header: Sequence[str], row: list[str]) -> None:
        self.headers[path] = header
        try:
            data = encode_rows([row], self.encoding)
        except (
            UnicodeEncodeError
        ):  # echoing text read from a line (an id, a symbol) the encoding lacks
            data = encode_rows(
                [[field.encode(self.encoding, "replace").decode(self.encoding) for field in row]],
                self.encoding,
            )
        self.raw.setdefault(path, []).append(data)

    def add_raw(self, path: Path, header: Sequence[str], data: bytes) -> None:
        self.headers[path] = header
        self.raw.setdefault(path, []).append(data)

    def flush(self, faults: Optional[FaultInjector]) -> None:
        paths = list(dict.fromkeys([*self.tails, *self.raw]))
        for path in paths:
            data = self.tails.pop(path, b"") + b"".join(self.raw.pop(path, []))
            if not data:
                continue
            cut = faults.cut_at(data) if faults is not None else None
            if cut is not None:
                data, self.tails[path] = data[:cut], data[cut:]
            header = self.headers.get(path)
            with open(path, "ab") as handle:
                if handle.tell() == 0 and header is not None:
                    handle.write(encode_rows([header], self.encoding))
                handle.write(data)
                handle.flush()


#: The longest ``snapshot_interval`` (a day: the files are then written when asked for).
MAX_SNAPSHOT_INTERVAL = 86_400.0


class SimulatedOneQuant:
    """A paper OneQuant client for one fund account over one folder (see the module docstring).

    ``prices``: base prices per code (``{"600000.XSHG": 10.5}``) for the random walk, or the path
    of a ``code,time,price`` CSV. ``volatility`` is the per-minute relative step of the walk
    (0 keeps prices constant, handy in tests). ``latency`` (seconds) delays acceptance and
    cancel completion. ``partial_fills`` fills about half of what is left per poll.
    ``reject_rate`` rejects that share of orders at random. ``fault_mode`` writes what the real
    client can produce (:mod:`jqtrade.sim.faults`): half-written last lines, truncated or
    header-only snapshots, lines of other programs' and other accounts' orders, garbage lines.
    ``market_hours=False`` lets orders fill at any time of day (for trying things in the evening).
    ``market``: a :class:`~jqtrade.sim.bars.BarMarket` to match on real bars (``prices`` and
    ``volatility`` are then unused: the market has its own fallback); ``volume_ratio`` is the
    share of a bar's volume the orders may take.

    Instruction lines already in today's files when the simulator first opens them are skipped
    (a restarted simulator has lost its book; it does not replay old orders). The matching
    itself is :attr:`broker`, a :class:`~jqtrade.sim.broker.SimBroker`.
    """

    def __init__(
        self,
        directory: Union[str, os.PathLike[str]],
        account_no: str,
        cash: float = 1_000_000,
        encoding: str = "gbk",
        seed: int = 0,
        prices: PricesArg = None,
        latency: float = 0.0,
        partial_fills: bool = False,
        reject_rate: float = 0.0,
        fault_mode: bool = False,
        snapshot_interval: float = 3.0,
        positions: Optional[Mapping[str, Any]] = None,
        *,
        volatility: float = 0.002,
        counter_type: str = "UM0",
        commission_rate: float = 0.00025,
        min_commission: float = 5.0,
        stamp_tax_rate: float = 0.0005,
        fault_rate: float = 0.3,
        market_hours: bool = True,
        market: Optional[Market] = None,
        volume_ratio: float = 0.25,
    ) -> None:
        # the options an adapter or a feed owns are refused first, the broker's by the broker
        snapshot_interval = number_in(
            "快照间隔 snapshot_interval（秒）", snapshot_interval, 0, MAX_SNAPSHOT_INTERVAL
        )
        fault_rate = number_in("故障比例 fault_rate", fault_rate, 0, 1)
        volatility = number_in("波动幅度 volatility", volatility, 0, 0.5)
        self._faults = FaultInjector(seed, fault_rate)
        self.broker = SimBroker(
            market if market is not None else PriceFeed(seed, prices, volatility),
            cash,
            positions=positions,
            latency=latency,
            partial_fills=partial_fills,
            reject_rate=reject_rate,
            seed=seed,
            commission_rate=commission_rate,
            min_commission=min_commission,
            stamp_tax_rate=stamp_tax_rate,
            market_hours=market_hours,
            volume_ratio=volume_ratio,
        )
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.account_no = str(account_no)
        self.encoding = encoding
        self.snapshot_interval = float(snapshot_interval)
        self.counter_type = counter_type
        self.fault_mode = fault_mode
        self._outbox = _Outbox(encoding)
        self._day: Optional[DayFiles] = None
        self._order_reader: Optional[AppendedFileReader] = None
        self._cancel_reader: Optional[AppendedFileReader] = None
        self._next_snapshot: Optional[pendulum.DateTime] = None
        self._foreign_seq = 0
        self._first_open = True
        self._skip_orders: set[str] = set()
        self._skip_cancels = 0

    # -- public ---------------------------------------------------------------------------

    @property
    def fault_mode(self) -> bool:
        return self.broker.faults is not None

    @fault_mode.setter
    def fault_mode(self, value: bool) -> None:
        self.broker.faults = self._faults if value else None

    @property
    def fault_rate(self) -> float:
        return self._faults.rate

    @property
    def files(self) -> Optional[DayFiles]:
        return self._day

    @property
    def feed(self) -> Market:
        return self.broker.feed

    @property
    def cash(self) -> Decimal:
        return self.broker.cash

    @property
    def frozen_cash(self) -> Decimal:
        return self.broker.frozen_cash

    @property
    def available_cash(self) -> Decimal:
        return self.broker.available_cash

    @property
    def positions(self) -> dict[str, SimPosition]:
        return self.broker.positions

    @property
    def repo_loans(self) -> list[RepoLoan]:
        return self.broker.repo_loans

    @property
    def orders(self) -> dict[str, SimOrder]:
        return self.broker.orders

    def price(self, code: str, now: pendulum.DateTime) -> Decimal:
        return self.broker.feed.price(as_code(code), now)

    def poll(self, now: pendulum.DateTime) -> None:
        """One round of the broker at market time ``now`` (the balance files every
        ``snapshot_interval`` seconds; :meth:`write_snapshots` writes them when asked)."""
        now = in_market(now)
        self._ensure_day(now)
        assert self._order_reader is not None and self._cancel_reader is not None
        if self._order_reader.changed():
            self._read_orders(self._order_reader, now)
        if self._cancel_reader.changed():
            for row in self._cancel_reader.iter_rows():
                try:
                    self._receive_cancel(row, now)
                except Exception:  # noqa: BLE001 - one bad line must not stop the broker
                    log.exception("模拟券商处理撤单指令出错，忽略：%r", row)
        self.broker.advance(now)
        self._write_updates()
        faults = self.broker.faults is not None
        if faults:
            self._inject_faults(now)
        self._outbox.flush(self._faults if faults else None)
        if self._next_snapshot is None or now >= self._next_snapshot:
            self.write_snapshots(now)

    def write_snapshots(self, now: pendulum.DateTime) -> None:
        """Rewrite assetInfo and positionInfo in place (truncate, write, end-marker line)."""
        now = in_market(now)
        assert self._day is not None
        upd = format_upd_time(now)
        asset_rows, position_rows = self._snapshot_rows(now, upd)
        complete = True
        for path, header, rows in (
            (self._day.asset_info, ASSET_INFO_HEADER, asset_rows),
            (self._day.position_info, POSITION_INFO_HEADER, position_rows),
        ):
            data = encode_rows([header, *rows, [""] * len(header)], self.encoding)
            if self.fault_mode:
                broken = self._faults.break_snapshot(
                    data, len(encode_rows([header], self.encoding))
                )
                if broken is not None:
                    complete = False
                    data = broken
            # Truncate, close, then write through a second handle: the reader sees the same
            # (an empty or partial file until the end marker), but ext4 does not force the
            # blocks to disk on close, which a truncate-and-write through one handle triggers
            # (auto_da_alloc; 0.3-0.6 ms per file, most of a simulated trading day).
            with open(path, "wb"):
                pass
            with open(path, "ab") as handle:
                handle.write(data)
                handle.flush()
        interval = self.snapshot_interval if complete else 0.0
        self._next_snapshot = now.add(microseconds=int(interval * 1_000_000))

    def inject_foreign_order(
        self,
        now: pendulum.DateTime,
        order_id: str = "",
        status: str = "0",
        *,
        account_no: Optional[str] = None,
    ) -> str:
        """Append an ``orderUpdate`` line for an order another program placed (for tests).

        ``order_id`` empty means a manual order without ``custBatchNo``; ``account_no`` another
        fund account logged in to the same client. Returns the broker order number used.
        """
        now = in_market(now)
        self._ensure_day(now)
        assert self._day is not None
        self._foreign_seq += 1
        order_no = f"8{self._foreign_seq:05d}"
        row = [
            format_upd_time(now),
            now.strftime("%Y%m%d"),
            now.strftime("%H%M%S"),
            self.counter_type,
            account_no or self.account_no,
            "600000.SH",
            "1",
            status,
            "100",
            "10.00",
            "0",
            *(
                ("100", "10.00", "1000.00") if status == "2" else ("0", "0", "0.00")
            ),  # a fill is whole
            "0",
            order_no,
            "",
            order_id,
            "其他程序的委托",
            "",
        ]
        self._outbox.add(self._day.order_update, ORDER_UPDATE_HEADER, row)
        self._outbox.flush(None)
        return order_no

    def run_forever(
        self, clock: Clock, stop_event: threading.Event, poll_interval: float = 0.2
    ) -> None:
        """Poll on a live clock until ``stop_event`` is set."""
        while not stop_event.is_set():
            try:
                self.poll(clock.now())
            except OSError as exc:
                log.warning("模拟券商读写文件出错：%s，稍后重试", exc)
            if stop_event.wait(poll_interval):
                break

    # -- days -----------------------------------------------------------------------------

    def _ensure_day(self, now: pendulum.DateTime) -> None:
        today = now.date()
        if self._day is not None and self._day.day == today:
            return
        if self._day is not None:  # the old day's orders expire into the old day's files
            self.broker.close_day(now)
            self._write_updates()
            self._outbox.flush(None)
        self._day = DayFiles(self.directory, today)
        self._order_reader = AppendedFileReader(
            self._day.algo_order, self.encoding, default_header=ALGO_ORDER_HEADER
        )
        self._cancel_reader = AppendedFileReader(
            self._day.algo_order_stop, self.encoding, default_header=ALGO_ORDER_STOP_HEADER
        )
        self._next_snapshot = None
        self._skip_orders = set()
        self._skip_cancels = 0
        if self._first_open:
            self._first_open = False
            self._skip_answered(self._day)
        self.broker.open_day(today)

    def _skip_answered(self, day: DayFiles) -> None:
        """A restarted simulator must not answer instructions a previous run already answered."""
        for row in AppendedFileReader(
            day.exec_result, self.encoding, default_header=EXEC_RESULT_HEADER
        ).iter_rows():
            if row.get("resultType", "").strip() == "1":
                self._skip_orders.add(row.get("custBatchNo", "").strip())
            elif row.get("resultType", "").strip() == "2":
                self._skip_cancels += 1
        if self._skip_orders or self._skip_cancels:
            log.warning(
                "模拟券商：今天已应答过 %d 笔委托、%d 笔撤单（上次运行），不再处理；这些委托不在本次的模拟账本中",
                len(self._skip_orders),
                self._skip_cancels,
            )

    # -- instructions ---------------------------------------------------------------------

    def _exec_result(
        self, now: pendulum.DateTime, result_type: str, order_id: str, error: str = ""
    ) -> None:
        assert self._day is not None
        row = [
            format_upd_time(now),
            result_type,
            order_id,
            "1" if error else "0",
            "-1" if error else "0",
            error,
        ]
        self._outbox.add(self._day.exec_result, EXEC_RESULT_HEADER, row)

    def _read_orders(self, reader: AppendedFileReader, now: pendulum.DateTime) -> None:
        """New instruction lines; a line that does not parse is rejected by its id if it has one."""
        for batch in reader.iter_batches():
            header = reader.header or ALGO_ORDER_HEADER
            for text in batch:
                fields = reader.fields(text, len(header))
                if fields is None:
                    self._reject_unparseable(reader, text, now)
                    continue
                row = dict(zip(header, fields))
                try:
                    self._receive_order(row, now)
                except Exception as exc:  # noqa: BLE001 - one bad line must not stop the broker
                    log.exception("模拟券商处理委托指令出错，已拒绝：%r", row)
                    order_id = row.get("custBatchNo", "").strip()
                    if order_id and not self.broker.has_order(order_id):
                        self._exec_result(now, "1", order_id, f"{BACKSTOP}：{exc}")

    def _reject_unparseable(
        self, reader: AppendedFileReader, text: str, now: pendulum.DateTime
    ) -> None:
        if text == reader.header_line or not text.strip(", \t"):
            return  # a repeated header or an empty line: not an instruction
        index = reader.columns.get("custBatchNo", 1) if reader.columns else 1
        parts = text.split(",")
        order_id = parts[index].strip().strip('"') if len(parts) > index else ""
        if (
            not order_id
            or self.broker.has_order(order_id)
            or not order_id.isprintable()
            or len(order_id) > 64
        ):
            return  # nobody to answer, or an answer would be taken for an existing order's
        if order_id in self._skip_orders:
            self._skip_orders.discard(order_id)
            return
        self._exec_result(now, "1", order_id, "委托指令无法解析（字段数不对或引号不配对），已拒绝")

    def _receive_order(self, row: Mapping[str, str], now: pendulum.DateTime) -> None:
        order_id = row.get("custBatchNo", "").strip()
        if order_id in self._skip_orders:
            self._skip_orders.discard(order_id)
            return
        if not order_id:
            log.warning("模拟券商收到没有 custBatchNo 的委托，忽略：%r", row)
            return
        error, command = self._parse_order(row, order_id)
        if not error:
            assert command is not None
            error = self.broker.submit(command, now)
        if error:
            log.info("模拟券商拒绝委托指令 %s：%s", order_id, error)
            self._exec_result(now, "1", order_id, error)
            return
        self._exec_result(now, "1", order_id)
        self._write_updates()

    def _parse_order(self, row: Mapping[str, str], order_id: str) -> tuple[str, Optional[NewOrder]]:
        """The instruction line as a command, or why it is refused (checked in the client's order)."""
        if self.broker.has_order(order_id):
            return f"custBatchNo {order_id} 重复，当日已有同号委托", None
        acct = row.get("acct", "").strip()
        if acct != self.account_no:
            return f"资金账号 {acct} 未登录", None
        acct_type = row.get("acctType", "").strip()
        if acct_type != self.counter_type:
            return f"柜台类型 {acct_type} 与资金账号不符（应为 {self.counter_type}）", None
        symbol = row.get("symbol", "").strip()
        code = symbol_to_code(symbol) if symbol.isascii() else None
        if code is None or not symbol.upper().endswith((".SH", ".SZ")):
            return f"证券代码 {symbol} 不合法", None
        if board_of(code) is Board.other:
            return (
                f"证券代码 {symbol} 不是模拟券商支持的品种（只模拟沪深主板、创业板、科创板股票、场内基金、可转债和国债逆回购）",
                None,
            )
        side = row.get("tradeSide", "").strip()
        if side not in _SIDES:
            return f"买卖方向 {side} 不合法（1 买，2 卖）", None
        qty_text = row.get("targetQty", "").strip()
        if not _QTY.fullmatch(qty_text) or not qty_text.strip("0"):
            return f"委托数量 {qty_text[:40]} 不合法", None
        # int() refuses strings of more than 4300 digits: look at the length first
        qty = int(qty_text) if len(qty_text.lstrip("0")) <= 18 else MAX_ORDER_AMOUNT + 1
        if qty > MAX_ORDER_AMOUNT:
            return f"委托数量 {qty_text[:40]} 不合法：单笔不能超过 {MAX_ORDER_AMOUNT:,} 股", None
        if row.get("algoId", "").strip() != "DMA":
            return f"算法类型 {row.get('algoId')} 不支持", None
        pricing = _PRICE_TYPES.get(row.get("priceType", "").strip())
        if pricing is None:
            return (
                f"价格类型 {row.get('priceType', '').strip()} 不支持（市价委托请用对手方最优价）",
                None,
            )
        price_text = row.get("highLimitPrice", "").strip()
        try:
            limit = Decimal(price_text or "0") if price_text.isascii() else Decimal("NaN")
            if not limit.is_finite() or limit < 0 or limit > MAX_LIMIT_PRICE or limit % _PRICE_STEP:
                raise ArithmeticError
        except ArithmeticError:
            return (
                f"委托价格 {price_text[:40]} 不合法：应为 0 到 {MAX_LIMIT_PRICE:,} 元之间的价格",
                None,
            )
        return "", NewOrder(
            order_id=order_id,
            code=code,
            action=_SIDES[side],
            amount=qty,
            price=limit,
            pricing=pricing,
        )

    def _receive_cancel(self, row: Mapping[str, str], now: pendulum.DateTime) -> None:
        if self._skip_cancels:
            self._skip_cancels -= 1
            return
        order_id = row.get("custBatchNo", "").strip()
        error = self.broker.cancel(order_id, now)
        self._exec_result(now, "2", order_id, error)
        self._write_updates()

    # -- answers --------------------------------------------------------------------------

    def _write_updates(self) -> None:
        """The broker's updates as orderUpdate and tradeUpdate lines, in their order."""
        updates = self.broker.drain()
        if not updates:
            return
        assert self._day is not None
        for update in updates:
            if isinstance(update, TradeReport):
                self._outbox.add(
                    self._day.trade_update, TRADE_UPDATE_HEADER, self._trade_row(update)
                )
            else:
                self._outbox.add(
                    self._day.order_update, ORDER_UPDATE_HEADER, self._order_row(update)
                )

    def _trade_row(self, trade: TradeReport) -> list[str]:
        assert trade.time is not None and trade.broker_order_id is not None
        amount = trade_cash(trade)
        return [
            format_upd_time(trade.time),
            self.counter_type,
            self.account_no,
            code_to_symbol(trade.code),
            _SIDE_CODES[trade.action],
            str(trade.amount),
            f"{trade.price}",
            f"{amount.quantize(CENT)}",
            trade.broker_order_id,
            trade.trade_id,
            trade.order_id,
        ]

    def _order_row(self, report: OrderReport) -> list[str]:
        assert report.update_time is not None and report.entrust_time is not None
        assert report.action is not None and report.broker_order_id is not None
        avg = report.avg_price.quantize(_AVG_STEP) if report.avg_price is not None else ZERO
        deal = report.deal_balance if report.deal_balance is not None else ZERO
        return [
            format_upd_time(report.update_time),
            report.entrust_time.strftime("%Y%m%d"),
            report.entrust_time.strftime("%H%M%S"),
            self.counter_type,
            self.account_no,
            code_to_symbol(report.code),
            _SIDE_CODES[report.action],
            _STATUS_CODES[report.status],
            str(report.amount),
            f"{report.price}",
            "0",
            str(report.filled_amount),
            f"{avg}",
            f"{deal.quantize(CENT)}",
            str(report.canceled_amount),
            report.broker_order_id,
            report.broker_order_id,
            report.order_id,
            report.err_msg,
            "",
        ]

    # -- snapshots ------------------------------------------------------------------------

    def _snapshot_rows(
        self, now: pendulum.DateTime, upd: str
    ) -> tuple[list[list[str]], list[list[str]]]:
        broker = self.broker
        positions: list[list[str]] = []
        value_by_exchange = {"SH": ZERO, "SZ": ZERO}
        for code, position in sorted(broker.positions.items()):
            last = broker.feed.price(code, now)
            value = last * position.total
            symbol = code_to_symbol(code)
            exchange = symbol.split(".")[1]
            value_by_exchange[exchange] += value
            cost = (
                (position.cost / position.total).quantize(Decimal("0.001"))
                if position.total
                else ZERO
            )
            positions.append(
                [
                    upd,
                    self.counter_type,
                    self.account_no,
                    exchange,
                    symbol,
                    f"模拟{code[:6]}",
                    str(position.total),
                    str(position.sellable),
                    str(position.frozen),
                    f"{cost}",
                    f"{last}",
                    f"{value.quantize(CENT)}",
                ]
            )
        market_value = sum(value_by_exchange.values(), ZERO)
        total = broker.cash + market_value + broker.lent_cash
        assets = [
            [
                upd,
                self.counter_type,
                self.account_no,
                "",
                "CNY",
                f"{total.quantize(CENT)}",
                f"{broker.cash.quantize(CENT)}",
                f"{broker.available_cash.quantize(CENT)}",
                f"{broker.frozen_cash.quantize(CENT)}",
                f"{market_value.quantize(CENT)}",
            ]
        ]
        for exchange, value in value_by_exchange.items():
            assets.append(
                [
                    upd,
                    self.counter_type,
                    self.account_no,
                    exchange,
                    "CNY",
                    f"{value.quantize(CENT)}",
                    "0",
                    "0",
                    "0",
                    f"{value.quantize(CENT)}",
                ]
            )
        if self.fault_mode:
            stray_assets, stray_positions = self._faults.snapshot_strays(
                upd, self.counter_type, self.account_no
            )
            assets += stray_assets
            positions += stray_positions
        return assets, positions

    # -- faults ---------------------------------------------------------------------------

    def _inject_faults(self, now: pendulum.DateTime) -> None:
        assert self._day is not None
        if not self._faults.strikes():
            return
        self._foreign_seq += 1
        ours = next(iter(self.broker.orders), None)
        line = self._faults.stray_order_line(
            now, self._foreign_seq, self.counter_type, self.account_no, ours, self.encoding
        )
        if isinstance(line, bytes):
            self._outbox.add_raw(self._day.order_update, ORDER_UPDATE_HEADER, line)
        else:
            self._outbox.add(self._day.order_update, ORDER_UPDATE_HEADER, line)
