"""A simulated OneQuant: plays the broker side of the DMA file protocol over a folder.

It reads the order and cancel files the gate appends to and answers the way the real client
does: ``execResult`` for every instruction, one full ``orderUpdate`` line per status change
(7 -> 0 -> 1 -> 2; cancels 8 -> 3/4; rejects 5 with a Chinese reason), ``tradeUpdate`` per
fill, and ``assetInfo``/``positionInfo`` truncated and rewritten in place every few seconds,
ending with the end-marker line. It is driven by the ``now`` passed to :meth:`poll`, so the
same code runs on the live clock (``jqtrade sim``) and under a simulated clock in tests.

This is a paper broker: A-share lot, tick, price-limit, T+1 and cash-freezing rules are
enforced, with the rules of :mod:`jqtrade.account.codes` (the same the pre-trade checks use);
queue position, volume and auctions are not modelled. Convertible bonds trade T+0 within
±20 % of the previous close (the wider first-day limits are not modelled). Reverse repos are
lent with sell orders: the cash (10 张 = 1,000 yuan and multiples) leaves at the fill and comes
back with interest at the first day change on or after the term's end.

It never wedges: an instruction it cannot handle (a quantity or price beyond the limits of
:mod:`jqtrade.account.checks`, a code whose rules it does not know, a line that does not
parse) is answered with a rejection in ``execResult`` and the other orders are served. Options
that no broker could have (NaN cash, a negative latency) are refused when it is made.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime
import logging
import math
import os
import random
import re
import sys
import threading
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, NoReturn, Optional, Union

import attrs
import pendulum

from jqtrade.account.checks import MAX_LIMIT_PRICE, MAX_ORDER_AMOUNT, MAX_ORDER_VALUE
from jqtrade.account.codes import (
    FACE_VALUE,
    Board,
    Rules,
    board_of,
    buy_lot_ok,
    repo_term,
    rules_of,
    sell_lot_ok,
    tick_size,
)
from jqtrade.clock import MARKET_TZ, Clock, LiveClock
from jqtrade.gates.onequant_files import (
    ALGO_ORDER_HEADER,
    ALGO_ORDER_STOP_HEADER,
    ASSET_INFO_HEADER,
    EXEC_RESULT_HEADER,
    ORDER_UPDATE_HEADER,
    POSITION_INFO_HEADER,
    TRADE_UPDATE_HEADER,
    AppendedFileReader,
    DayFiles,
    code_to_symbol,
    encode_rows,
    format_upd_time,
    symbol_to_code,
)

log = logging.getLogger("jqtrade.sim")

ZERO = Decimal(0)
CENT = Decimal("0.01")

#: Trading sessions in which orders can fill (continuous trading).
SESSIONS = ((datetime.time(9, 30), datetime.time(11, 30)), (datetime.time(13, 0), datetime.time(15, 0)))
TRADING_MINUTES = 240

PricesArg = Union[Mapping[str, float], str, "os.PathLike[str]", None]

#: What a counter takes as a quantity: ASCII digits only (``str.isdigit`` also says yes to
#: "²", which ``int`` refuses).
_QTY = re.compile(r"[0-9]+")
#: Finer than any tick (0.001): a price with more decimals than this is not a price.
_PRICE_STEP = Decimal("0.000001")
#: The reason of an order the simulator failed on; the tests make sure it never appears.
_BACKSTOP = "模拟券商内部错误"


def _number(name: str, value: object, low: float, high: float, *, low_open: bool = False) -> float:
    """``value`` as a float in [low, high] (or (low, high]); a Chinese ``ValueError`` otherwise."""
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() takes
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number > high or number < low or (low_open and number == low):
        left = "(" if low_open else "["
        bounds = [f"{int(x):,}" if float(x).is_integer() else f"{x:g}" for x in (low, high)]
        raise ValueError(f"{name} 的值 {value!r} 不合法：应为 {left}{bounds[0]}, {bounds[1]}] 之间的有限数")
    return number


# --- instrument rules ----------------------------------------------------------------------


def is_star(code: str) -> bool:
    return board_of(code) is Board.star


def limit_pct(code: str) -> Optional[Decimal]:
    """Daily price limit: ±20 % on STAR, ChiNext and convertible bonds, none for reverse repos,
    ±10 % elsewhere (ST and a convertible bond's first day not modelled)."""
    board = board_of(code)
    if board is Board.repo:
        return None
    return Decimal("0.20") if board in (Board.star, Board.chinext, Board.convertible) else Decimal("0.10")


def round_tick(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick


def price_limits(code: str, prev_close: Decimal) -> tuple[Decimal, Decimal]:
    """(limit-down, limit-up) from the previous close; a reverse repo's rate has no limits
    (one tick up to :data:`MAX_LIMIT_PRICE`)."""
    tick = tick_size(code)
    pct = limit_pct(code)
    if pct is None:
        return tick, Decimal(MAX_LIMIT_PRICE)
    return round_tick(prev_close * (1 - pct), tick), round_tick(prev_close * (1 + pct), tick)


#: Base prices of the random walk by kind: yuan per share or per 张, a rate in % for repos.
_BASE_RANGES = {Board.convertible: (100.0, 130.0), Board.repo: (1.5, 3.0)}
#: Commission of a reverse repo by term in days (the common retail schedule: 0.001 % of the
#: amount for one day up to 0.03 % beyond 28 days), no minimum.
_REPO_FEES = ((1, "0.00001"), (2, "0.00002"), (3, "0.00003"), (4, "0.00004"), (7, "0.00005"), (14, "0.0001"), (28, "0.0002"))
_REPO_FEE_LONG = Decimal("0.0003")


def repo_fee(code: str, principal: Decimal) -> Decimal:
    """The commission of lending ``principal`` yuan through reverse repo ``code``."""
    term = repo_term(code)[1]
    rate = next((Decimal(r) for days, r in _REPO_FEES if term <= days), _REPO_FEE_LONG)
    return (principal * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def repo_interest(code: str, principal: Decimal, rate: Decimal) -> Decimal:
    """Interest of ``principal`` lent at ``rate`` % a year for the repo's term (365-day year)."""
    term = repo_term(code)[1]
    return (principal * rate / 100 * term / 365).quantize(CENT, rounding=ROUND_HALF_UP)


def _lot_rule(rules: Rules) -> str:
    if rules.round_lot is None:
        return f"买入至少 {rules.min_buy} 股，超出部分以 {rules.buy_step} 股为单位"
    verb = "借出" if rules.is_repo else "买入"
    return f"{verb}须为 {rules.round_lot} {rules.unit}的整数倍"


def trading_minute(now: pendulum.DateTime) -> int:
    """Minutes of continuous trading elapsed at ``now`` (0 before the open, 240 after the close)."""
    t = now.time()
    (am_open, am_close), (pm_open, pm_close) = SESSIONS
    seconds = t.hour * 3600 + t.minute * 60 + t.second
    if t < am_open:
        return 0
    if t < am_close:
        return (seconds - (9 * 3600 + 30 * 60)) // 60
    if t < pm_open:
        return 120
    if t < pm_close:
        return 120 + (seconds - 13 * 3600) // 60
    return TRADING_MINUTES


def in_session(now: pendulum.DateTime) -> bool:
    t = now.time()
    return any(start <= t < end for start, end in SESSIONS)


def _as_code(text: str) -> str:
    code = symbol_to_code(text.strip())
    if code is None:
        raise ValueError(f"无法识别的证券代码 {text!r}（应为 600000.XSHG 或 600000.SH 这样的写法）")
    return code


def _parse_when(text: str, fmt: str) -> datetime.datetime:
    """A CSV time; seconds may be left out (``09:31`` / ``2024-06-03 09:31``)."""
    text = text.replace("T", " ").replace("/", "-")
    try:
        return datetime.datetime.strptime(text, fmt)
    except ValueError:
        return datetime.datetime.strptime(text, fmt.replace(":%S", ""))


# --- prices --------------------------------------------------------------------------------


class PriceFeed:
    """Deterministic prices: a seeded per-minute random walk per code and day, or a CSV.

    The walk depends only on (seed, code, date, trading minute), so the same seed and the same
    times give the same prices however often they are asked. It starts each day at a previous
    close derived from the code's base price and stays inside the day's price limits. A CSV
    (``code,time,price``; time ``HH:MM:SS`` for every day or a full ``YYYY-MM-DD HH:MM:SS``)
    overrides the walk for the codes it lists: the last row at or before ``now`` applies.
    """

    def __init__(self, seed: int = 0, prices: PricesArg = None, volatility: float = 0.002) -> None:
        self.seed = seed
        self.volatility = volatility
        self._base: dict[str, Decimal] = {}
        # per code: rows with a full "YYYY-MM-DD HH:MM:SS" time, and rows with "HH:MM:SS" only
        self._dated: dict[str, list[tuple[str, Decimal]]] = {}
        self._daily: dict[str, list[tuple[str, Decimal]]] = {}
        self._paths: dict[tuple[str, datetime.date], list[Decimal]] = {}
        self._prev_closes: dict[tuple[str, datetime.date], Decimal] = {}
        self._keys: dict[tuple[str, str], list[str]] = {}
        if isinstance(prices, Mapping):
            for code, price in prices.items():
                value = _number(f"{code} 的价格", price, 0, MAX_LIMIT_PRICE, low_open=True)
                self._base[_as_code(code)] = Decimal(str(value))
        elif prices is not None:
            self._load_csv(Path(prices))

    def _load_csv(self, path: Path) -> None:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    code = _as_code(row["code"])
                    when = row["time"].strip()
                    price = Decimal(row["price"].strip())
                    if not price.is_finite() or price <= 0 or price > MAX_LIMIT_PRICE:
                        raise ValueError(price)
                    if len(when) > 8:
                        key = _parse_when(when, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
                        self._dated.setdefault(code, []).append((key, price))
                    else:
                        key = _parse_when(when, "%H:%M:%S").strftime("%H:%M:%S")
                        self._daily.setdefault(code, []).append((key, price))
                except (KeyError, ValueError, ArithmeticError, AttributeError, TypeError):
                    log.warning("价格文件 %s 中跳过无法解析的一行：%r", path, row)
        for table in (self._dated, self._daily):
            for rows in table.values():
                rows.sort(key=lambda item: item[0])
        self._keys = {
            (kind, code): [key for key, _ in rows]
            for kind, table in (("dated", self._dated), ("daily", self._daily))
            for code, rows in table.items()
        }

    def base_price(self, code: str) -> Decimal:
        price = self._base.get(code)
        if price is None:
            rng = random.Random(f"{self.seed}|base|{code}")
            low, high = _BASE_RANGES.get(board_of(code), (5.0, 50.0))
            price = round_tick(Decimal(str(round(rng.uniform(low, high), 3))), tick_size(code))
            self._base[code] = price
        return price

    def prev_close(self, code: str, day: datetime.date) -> Decimal:
        """The reference price of the day's limits (the first table price of the day for a CSV)."""
        key = (code, day)
        price = self._prev_closes.get(key)
        if price is None:  # asked for every working order on every poll: seeding a Random is slow
            price = self._prev_closes[key] = self._prev_close(_as_code(code), day)
        return price

    def _prev_close(self, code: str, day: datetime.date) -> Decimal:
        if code in self._dated or code in self._daily:
            return self._from_table(code, pendulum.datetime(day.year, day.month, day.day, 9, 0, tz=MARKET_TZ))
        base = self.base_price(code)
        if self.volatility <= 0:
            return base
        rng = random.Random(f"{self.seed}|day|{code}|{day.isoformat()}")
        drift = Decimal(str(math.exp(rng.gauss(0, self.volatility * 5))))
        return round_tick(base * drift, tick_size(code))

    def price(self, code: str, now: pendulum.DateTime) -> Decimal:
        code = _as_code(code)
        now = now.in_tz(MARKET_TZ)
        if code in self._dated or code in self._daily:
            return self._from_table(code, now)
        day = now.date()
        path = self._paths.get((code, day))
        if path is None:
            if any(key[1] != day for key in self._paths):  # paths are deterministic: keep today's only
                self._paths = {key: value for key, value in self._paths.items() if key[1] == day}
            path = self._paths[(code, day)] = self._walk(code, day)
        return path[trading_minute(now)]

    def _walk(self, code: str, day: datetime.date) -> list[Decimal]:
        prev = self.prev_close(code, day)
        low, high = price_limits(code, prev)
        tick = tick_size(code)
        rng = random.Random(f"{self.seed}|walk|{code}|{day.isoformat()}")
        value = float(prev)
        path = [prev]
        for _ in range(TRADING_MINUTES):
            if self.volatility > 0:
                value *= 1 + rng.gauss(0, self.volatility)
                value = min(max(value, float(low + tick)), float(high - tick))
            path.append(round_tick(Decimal(str(value)), tick))
        return path

    def _from_table(self, code: str, now: pendulum.DateTime) -> Decimal:
        """Last dated row at or before ``now``; else the last time-of-day row; else the first row."""
        dated = self._dated.get(code, [])
        index = bisect.bisect_right(self._keys.get(("dated", code), []), now.strftime("%Y-%m-%d %H:%M:%S"))
        if index:
            return dated[index - 1][1]
        daily = self._daily.get(code, [])
        index = bisect.bisect_right(self._keys.get(("daily", code), []), now.strftime("%H:%M:%S"))
        if index:
            return daily[index - 1][1]
        return (daily or dated)[0][1]


# --- broker state --------------------------------------------------------------------------


@attrs.define
class RepoLoan:
    """Cash lent through a reverse repo: back with interest on ``due`` (a calendar date)."""

    code: str
    due: datetime.date
    principal: Decimal
    interest: Decimal


@attrs.define
class SimPosition:
    total: int = 0
    sellable: int = 0
    frozen: int = 0  # held by working sell orders
    cost: Decimal = ZERO  # total cost of the shares held


@attrs.define
class SimOrder:
    order_id: str
    order_no: str
    acct_type: str
    code: str
    symbol: str
    side: str  # "1" buy, "2" sell
    qty: int
    price_type: str
    limit: Decimal  # as requested; 0 = best counterparty price
    received: pendulum.DateTime
    accept_at: pendulum.DateTime
    status: str = "7"
    price: Decimal = ZERO  # effective limit once accepted
    filled: int = 0
    filled_amt: Decimal = ZERO
    cancel_qty: int = 0
    frozen_cash: Decimal = ZERO
    cancel_at: Optional[pendulum.DateTime] = None
    text: str = ""
    working: bool = False  # accepted by the counter: cash or shares frozen, can fill
    filled_px: Decimal = ZERO  # sum of price × quantity of the fills (a repo's filled_amt is cash)

    @property
    def final(self) -> bool:
        return self.status in ("2", "3", "4", "5")

    @property
    def remaining(self) -> int:
        return self.qty - self.filled - self.cancel_qty

    @property
    def is_buy(self) -> bool:
        return self.side == "1"

    @property
    def is_repo(self) -> bool:
        return board_of(self.code) is Board.repo

    @property
    def spends_cash(self) -> bool:
        """A buy, or lending cash through a reverse repo (a sell at the broker)."""
        return self.is_buy or self.is_repo


class _Outbox:
    """Appends for one poll, flushed together; in fault mode the last line may be cut short."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.raw: dict[Path, list[bytes]] = {}
        self.tails: dict[Path, bytes] = {}
        self.headers: dict[Path, list[str]] = {}

    def add(self, path: Path, header: list[str], row: list[str]) -> None:
        self.headers[path] = header
        try:
            data = encode_rows([row], self.encoding)
        except UnicodeEncodeError:  # echoing text read from a line (an id, a symbol) the encoding lacks
            data = encode_rows([[field.encode(self.encoding, "replace").decode(self.encoding) for field in row]], self.encoding)
        self.raw.setdefault(path, []).append(data)

    def add_raw(self, path: Path, header: list[str], data: bytes) -> None:
        self.headers[path] = header
        self.raw.setdefault(path, []).append(data)

    def flush(self, rng: Optional[random.Random], cut_rate: float) -> None:
        paths = list(dict.fromkeys([*self.tails, *self.raw]))
        for path in paths:
            data = self.tails.pop(path, b"") + b"".join(self.raw.pop(path, []))
            if not data:
                continue
            if rng is not None and rng.random() < cut_rate and data.endswith(b"\n") and len(data) > 2:
                start = data.rfind(b"\n", 0, len(data) - 1) + 1
                cut = rng.randrange(start, len(data) - 1) if len(data) - 1 > start else start
                data, self.tails[path] = data[:cut], data[cut:]
            header = self.headers.get(path)
            with open(path, "ab") as handle:
                if handle.tell() == 0 and header is not None:
                    handle.write(encode_rows([header], self.encoding))
                handle.write(data)
                handle.flush()


def _position_spec(code: str, spec: Any) -> tuple[int, Optional[Decimal]]:
    """An initial position (``1000`` or ``{"amount": 1000, "avg_cost": 10.5}``) -> (amount, cost)."""
    amount, cost = (spec.get("amount", 0), spec.get("avg_cost")) if isinstance(spec, Mapping) else (spec, None)
    shares = _number(f"{code} 的初始持仓股数", amount, 0, MAX_ORDER_AMOUNT)
    if not shares.is_integer():
        raise ValueError(f"{code} 的初始持仓股数 {amount!r} 不合法：应为整数")
    if cost is None:
        return int(shares), None
    return int(shares), Decimal(str(_number(f"{code} 的持仓成本", cost, 0, MAX_LIMIT_PRICE)))


class SimulatedOneQuant:
    """A paper OneQuant client for one fund account over one folder (see the module docstring).

    ``prices``: base prices per code (``{"600000.XSHG": 10.5}``) for the random walk, or the path
    of a ``code,time,price`` CSV. ``volatility`` is the per-minute relative step of the walk
    (0 keeps prices constant, handy in tests). ``latency`` (seconds) delays acceptance and
    cancel completion. ``partial_fills`` fills about half of what is left per poll.
    ``reject_rate`` rejects that share of orders at random. ``fault_mode`` writes what the real
    client can produce: half-written last lines, truncated or header-only snapshots, lines of
    other programs' and other accounts' orders, garbage lines. ``market_hours=False`` lets
    orders fill at any time of day (for trying things in the evening).

    Instruction lines already in today's files when the simulator first opens them are skipped
    (a restarted simulator has lost its book; it does not replay old orders).
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
    ) -> None:
        cash = _number("初始资金 cash", cash, 0, MAX_ORDER_VALUE)
        latency = _number("延迟 latency（秒）", latency, 0, 86_400)
        snapshot_interval = _number("快照间隔 snapshot_interval（秒）", snapshot_interval, 0, 86_400)
        reject_rate = _number("随机拒单比例 reject_rate", reject_rate, 0, 1)
        fault_rate = _number("故障比例 fault_rate", fault_rate, 0, 1)
        volatility = _number("波动幅度 volatility", volatility, 0, 0.5)
        commission_rate = _number("佣金费率 commission_rate", commission_rate, 0, 0.01)
        min_commission = _number("最低佣金 min_commission", min_commission, 0, 1000)
        stamp_tax_rate = _number("印花税率 stamp_tax_rate", stamp_tax_rate, 0, 0.01)
        initial_positions = {_as_code(code): _position_spec(code, spec) for code, spec in (positions or {}).items()}
        for code in initial_positions:
            if board_of(code) is Board.repo:
                raise ValueError(f"{code} 是国债逆回购，不能作为初始持仓（借出的资金不是持仓）")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.account_no = str(account_no)
        self.encoding = encoding
        self.latency = float(latency)
        self.partial_fills = partial_fills
        self.reject_rate = reject_rate
        self.fault_mode = fault_mode
        self.fault_rate = fault_rate
        self.snapshot_interval = float(snapshot_interval)
        self.counter_type = counter_type
        self.market_hours = market_hours
        self.commission_rate = Decimal(str(commission_rate))
        self.min_commission = Decimal(str(min_commission))
        self.stamp_tax_rate = Decimal(str(stamp_tax_rate))
        self.feed = PriceFeed(seed, prices, volatility)
        self.cash = Decimal(str(cash))  # current balance, frozen included
        self.frozen_cash = ZERO
        self.positions: dict[str, SimPosition] = {}
        self.repo_loans: list[RepoLoan] = []  # cash lent through reverse repos, not back yet
        self._initial_positions = initial_positions
        self.orders: dict[str, SimOrder] = {}
        self._working: dict[str, SimOrder] = {}  # orders not final yet: all a poll has to look at
        self._reject_rng = random.Random(f"{seed}|reject")
        self._fault_rng = random.Random(f"{seed}|fault")
        self._outbox = _Outbox(encoding)
        self._day: Optional[DayFiles] = None
        self._order_reader: Optional[AppendedFileReader] = None
        self._cancel_reader: Optional[AppendedFileReader] = None
        self._next_snapshot: Optional[pendulum.DateTime] = None
        self._order_seq = 0
        self._trade_seq = 0
        self._foreign_seq = 0
        self._first_open = True
        self._skip_orders: set[str] = set()
        self._skip_cancels = 0

    # -- public ---------------------------------------------------------------------------

    @property
    def files(self) -> Optional[DayFiles]:
        return self._day

    @property
    def available_cash(self) -> Decimal:
        return self.cash - self.frozen_cash

    def price(self, code: str, now: pendulum.DateTime) -> Decimal:
        return self.feed.price(_as_code(code), now)

    def poll(self, now: pendulum.DateTime) -> None:
        """One round of the broker at market time ``now``."""
        now = now.in_tz(MARKET_TZ)
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
        self._advance(now)
        if self.fault_mode:
            self._inject_faults(now)
        self._outbox.flush(self._fault_rng if self.fault_mode else None, self.fault_rate)
        if self._next_snapshot is None or now >= self._next_snapshot:
            self.write_snapshots(now)

    def write_snapshots(self, now: pendulum.DateTime) -> None:
        """Rewrite assetInfo and positionInfo in place (truncate, write, end-marker line)."""
        now = now.in_tz(MARKET_TZ)
        assert self._day is not None
        upd = format_upd_time(now)
        asset_rows, position_rows = self._snapshot_rows(now, upd)
        complete = True
        for path, header, rows in (
            (self._day.asset_info, ASSET_INFO_HEADER, asset_rows),
            (self._day.position_info, POSITION_INFO_HEADER, position_rows),
        ):
            data = encode_rows([header, *rows, [""] * len(header)], self.encoding)
            if self.fault_mode and self._fault_rng.random() < self.fault_rate:
                complete = False
                header_only = self._fault_rng.random() < 0.5
                end = len(encode_rows([header], self.encoding)) if header_only else self._fault_rng.randrange(0, len(data) - 1)
                data = data[:end]
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
        self, now: pendulum.DateTime, order_id: str = "", status: str = "0", *, account_no: Optional[str] = None
    ) -> str:
        """Append an ``orderUpdate`` line for an order another program placed (for tests).

        ``order_id`` empty means a manual order without ``custBatchNo``; ``account_no`` another
        fund account logged in to the same client. Returns the broker order number used.
        """
        now = now.in_tz(MARKET_TZ)
        self._ensure_day(now)
        assert self._day is not None
        self._foreign_seq += 1
        order_no = f"8{self._foreign_seq:05d}"
        row = [
            format_upd_time(now), now.strftime("%Y%m%d"), now.strftime("%H%M%S"), self.counter_type,
            account_no or self.account_no, "600000.SH", "1", status, "100", "10.00", "0", "0", "0", "0.00",
            "0", order_no, "", order_id, "其他程序的委托", "",
        ]
        self._outbox.add(self._day.order_update, ORDER_UPDATE_HEADER, row)
        self._outbox.flush(None, 0.0)
        return order_no

    def run_forever(self, clock: Clock, stop_event: threading.Event, poll_interval: float = 0.2) -> None:
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
        if self._day is not None:
            self._close_day(now)
        self._day = DayFiles(self.directory, today)
        self._order_reader = AppendedFileReader(self._day.algo_order, self.encoding, default_header=ALGO_ORDER_HEADER)
        self._cancel_reader = AppendedFileReader(self._day.algo_order_stop, self.encoding, default_header=ALGO_ORDER_STOP_HEADER)
        self._order_seq = 0
        self._next_snapshot = None
        self._skip_orders = set()
        self._skip_cancels = 0
        if self._first_open:
            self._first_open = False
            self._load_initial_positions(today)
            self._skip_answered(self._day)
        for position in self.positions.values():  # T+1: yesterday's shares are sellable today
            position.sellable = position.total
            position.frozen = 0
        self._repay_loans(today)

    def _repay_loans(self, today: datetime.date) -> None:
        """Reverse repos whose term has ended pay back principal and interest (usable today)."""
        due = [loan for loan in self.repo_loans if loan.due <= today]
        if due:
            self.repo_loans = [loan for loan in self.repo_loans if loan.due > today]
            for loan in due:
                self.cash += loan.principal + loan.interest

    def _skip_answered(self, day: DayFiles) -> None:
        """A restarted simulator must not answer instructions a previous run already answered."""
        for row in AppendedFileReader(day.exec_result, self.encoding, default_header=EXEC_RESULT_HEADER).iter_rows():
            if row.get("resultType", "").strip() == "1":
                self._skip_orders.add(row.get("custBatchNo", "").strip())
            elif row.get("resultType", "").strip() == "2":
                self._skip_cancels += 1
        if self._skip_orders or self._skip_cancels:
            log.warning(
                "模拟券商：今天已应答过 %d 笔委托、%d 笔撤单（上次运行），不再处理；这些委托不在本次的模拟账本中",
                len(self._skip_orders), self._skip_cancels,
            )

    def _close_day(self, now: pendulum.DateTime) -> None:
        """Unfilled orders expire at the end of the day; report them canceled in that day's file."""
        for order in self._working.values():
            if order.final:
                continue
            order.text = "当日有效委托已过期，未成交部分撤销"
            self._finish_cancel(order, now)
        self._outbox.flush(None, 0.0)
        self.orders.clear()
        self._working.clear()
        self.frozen_cash = ZERO

    def _load_initial_positions(self, day: datetime.date) -> None:
        for code, (amount, cost) in self._initial_positions.items():
            if amount <= 0:
                continue
            avg = cost if cost is not None else self.feed.prev_close(code, day)
            self.positions[code] = SimPosition(total=amount, sellable=amount, cost=avg * amount)

    # -- instructions ---------------------------------------------------------------------

    def _exec_result(self, now: pendulum.DateTime, result_type: str, order_id: str, error: str = "") -> None:
        assert self._day is not None
        row = [format_upd_time(now), result_type, order_id, "1" if error else "0", "-1" if error else "0", error]
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
                    if order_id and order_id not in self.orders:
                        self._exec_result(now, "1", order_id, f"{_BACKSTOP}：{exc}")

    def _reject_unparseable(self, reader: AppendedFileReader, text: str, now: pendulum.DateTime) -> None:
        if text == reader.header_line or not text.strip(", \t"):
            return  # a repeated header or an empty line: not an instruction
        index = reader.columns.get("custBatchNo", 1) if reader.columns else 1
        parts = text.split(",")
        order_id = parts[index].strip().strip('"') if len(parts) > index else ""
        if not order_id or order_id in self.orders or not order_id.isprintable() or len(order_id) > 64:
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
        error, order = self._parse_order(row, order_id, now)
        if error:
            log.info("模拟券商拒绝委托指令 %s：%s", order_id, error)
            self._exec_result(now, "1", order_id, error)
            return
        assert order is not None
        self.orders[order_id] = order
        self._working[order_id] = order
        self._exec_result(now, "1", order_id)
        self._update(order, now)

    def _parse_order(self, row: Mapping[str, str], order_id: str, now: pendulum.DateTime) -> tuple[str, Optional[SimOrder]]:
        if order_id in self.orders:
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
            return f"证券代码 {symbol} 不是模拟券商支持的品种（只模拟沪深主板、创业板、科创板股票、场内基金、可转债和国债逆回购）", None
        side = row.get("tradeSide", "").strip()
        if side not in ("1", "2"):
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
        price_type = row.get("priceType", "").strip()
        if price_type not in ("AT", "P6", "P7"):
            return f"价格类型 {price_type} 不支持（市价委托请用对手方最优价）", None
        price_text = row.get("highLimitPrice", "").strip()
        try:
            limit = Decimal(price_text or "0") if price_text.isascii() else Decimal("NaN")
            if not limit.is_finite() or limit < 0 or limit > MAX_LIMIT_PRICE or limit % _PRICE_STEP:
                raise ArithmeticError
        except ArithmeticError:
            return f"委托价格 {price_text[:40]} 不合法：应为 0 到 {MAX_LIMIT_PRICE:,} 元之间的价格", None
        self._order_seq += 1
        return "", SimOrder(
            order_id=order_id,
            order_no=f"{self._order_seq + 100000}",
            acct_type=acct_type,
            code=code,
            symbol=code_to_symbol(code),
            side=side,
            qty=qty,
            price_type=price_type,
            limit=limit,
            received=now,
            accept_at=now.add(microseconds=int(self.latency * 1_000_000)),
        )

    def _receive_cancel(self, row: Mapping[str, str], now: pendulum.DateTime) -> None:
        if self._skip_cancels:
            self._skip_cancels -= 1
            return
        order_id = row.get("custBatchNo", "").strip()
        order = self.orders.get(order_id)
        if order is None:
            self._exec_result(now, "2", order_id, "撤单失败：未找到该委托")
            return
        if order.final:
            self._exec_result(now, "2", order_id, "撤单失败：委托已成交或已撤销")
            return
        if order.cancel_at is not None:
            self._exec_result(now, "2", order_id, "撤单失败：该委托正在撤单")
            return
        self._exec_result(now, "2", order_id)
        order.cancel_at = now.add(microseconds=int(self.latency * 1_000_000))
        order.status = "8"
        self._update(order, now)

    # -- order life -----------------------------------------------------------------------

    def _advance(self, now: pendulum.DateTime) -> None:
        for order in list(self._working.values()):
            try:
                self._step_order(order, now)
            except Exception as exc:  # noqa: BLE001 - one order must not stop the broker
                log.exception("模拟券商处理委托 %s 出错，已拒绝或撤销", order.order_id)
                self._give_up(order, now, f"{_BACKSTOP}：{exc}")
            if order.final:
                del self._working[order.order_id]

    def _give_up(self, order: SimOrder, now: pendulum.DateTime, reason: str) -> None:
        """End an order the simulator failed on: rejected if not accepted yet, else canceled.

        Whatever fails here too, the order ends final, so the next poll does not meet it again.
        """
        order.text = reason
        if order.working:
            try:
                self._finish_cancel(order, now)
                return
            except Exception:  # noqa: BLE001 - see the docstring
                log.exception("模拟券商撤销委托 %s 也出错了", order.order_id)
        order.working = False
        order.status = "3" if order.filled else "5"
        order.cancel_qty = order.qty - order.filled
        try:
            self._update(order, now)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("模拟券商无法写出委托 %s 的终态", order.order_id)

    def _step_order(self, order: SimOrder, now: pendulum.DateTime) -> None:
        if order.final:
            return
        if not order.working:
            if now < order.accept_at:
                return
            if order.cancel_at is not None:  # canceled before the counter took it
                self._finish_cancel(order, now)
                return
            self._accept(order, now)
            if not order.working:
                return
        if not self.market_hours or in_session(now):
            self._match(order, now)
        if not order.final and order.cancel_at is not None and now >= order.cancel_at:
            self._finish_cancel(order, now)

    def _accept(self, order: SimOrder, now: pendulum.DateTime) -> None:
        code = order.code
        tick = tick_size(code)
        prev = self.feed.prev_close(code, now.date())
        low, high = price_limits(code, prev)
        last = self.feed.price(code, now)
        if order.price_type == "P6":
            order.price = high
        elif order.price_type == "P7":
            order.price = low
        elif order.limit == 0:
            order.price = min(last + tick, high) if order.is_buy else max(last - tick, low)
        else:
            order.price = order.limit
        reason = self._check(order, tick, low, high)
        if reason:
            order.status = "5"
            order.text = reason
            order.cancel_qty = order.qty
            self._update(order, now)
            return
        if order.spends_cash:
            amount, fee = self._cost(order, order.price, order.qty)
            order.frozen_cash = amount + fee
            self.frozen_cash += order.frozen_cash
        else:
            position = self.positions[code]
            position.sellable -= order.qty
            position.frozen += order.qty
        order.working = True
        order.status = "0"
        if self.fault_mode:
            order.text = "已报，等待成交"
        self._update(order, now)

    def _check(self, order: SimOrder, tick: Decimal, low: Decimal, high: Decimal) -> str:
        code = order.code
        if self.reject_rate > 0 and self._reject_rng.random() < self.reject_rate:
            return "柜台拒绝：模拟随机拒单"
        if order.price % tick != 0:
            return f"委托价格 {order.price} 不是最小价格变动单位 {tick} 的整数倍"
        if order.price < low or order.price > high:
            return f"委托价格 {order.price} 超出涨跌停价格范围 [{low}, {high}]"
        rules = rules_of(code)
        if order.is_repo and order.is_buy:
            return f"{code} 是国债逆回购，个人只能卖出（借出资金），不能买入（正回购）"
        if order.spends_cash:
            if not buy_lot_ok(rules, order.qty):
                return f"委托数量 {order.qty} 不合法：{_lot_rule(rules)}"
            amount, fee = self._cost(order, order.price, order.qty)
            need = amount + fee
            if need > self.available_cash:
                return f"可用资金不足：需要 {need:.2f} 元，可用 {self.available_cash:.2f} 元"
            return ""
        position = self.positions.get(code)
        sellable = position.sellable if position else 0
        if order.qty > sellable:
            why = "" if rules.t_plus_0 else "（当日买入的股票下一交易日才能卖出）"
            return f"可卖数量不足：委托 {order.qty} {rules.unit}，可卖 {sellable} {rules.unit}{why}"
        if not sell_lot_ok(rules, order.qty, sellable):
            return f"委托数量 {order.qty} 不合法：卖出零股须一次卖完（可卖 {sellable} {rules.unit}）"
        return ""

    def _cost(self, order: SimOrder, price: Decimal, quantity: int) -> tuple[Decimal, Decimal]:
        """(cash, fee) of buying ``quantity`` at ``price``, or of lending it through a repo."""
        if order.is_repo:
            principal = FACE_VALUE * quantity
            return principal, repo_fee(order.code, principal)
        amount = price * quantity
        return amount, self._commission(amount)

    def _match(self, order: SimOrder, now: pendulum.DateTime) -> None:
        code = order.code
        tick = tick_size(code)
        low, high = price_limits(code, self.feed.prev_close(code, now.date()))
        last = self.feed.price(code, now)
        if order.is_buy:
            ask = min(last + tick, high)
            if order.price < ask:
                return
            fill_price = ask
        else:
            bid = max(last - tick, low)
            if order.price > bid:
                return
            fill_price = bid
        quantity = order.remaining
        lot = rules_of(code).round_lot or 100
        if self.partial_fills and quantity > lot:
            half = (quantity // 2) // lot * lot
            quantity = half if half >= lot else quantity
        if quantity <= 0:
            return
        self._fill(order, quantity, fill_price, now)

    def _fill(self, order: SimOrder, quantity: int, price: Decimal, now: pendulum.DateTime) -> None:
        amount, fee = self._cost(order, price, quantity)
        if order.spends_cash:
            release = order.frozen_cash * quantity / order.remaining
            order.frozen_cash -= release
            self.frozen_cash -= release
            self.cash -= amount + fee
        if order.is_repo:
            due = now.date() + datetime.timedelta(days=repo_term(order.code)[1])
            self.repo_loans.append(RepoLoan(order.code, due, amount, repo_interest(order.code, amount, price)))
        elif order.is_buy:
            position = self.positions.setdefault(order.code, SimPosition())
            position.total += quantity
            position.cost += amount + fee
            if rules_of(order.code).t_plus_0:
                position.sellable += quantity
        else:
            position = self.positions.setdefault(order.code, SimPosition())
            if board_of(order.code) is not Board.convertible:  # no stamp duty on bonds
                fee += (amount * self.stamp_tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
            avg = position.cost / position.total if position.total else ZERO
            position.total -= quantity
            position.frozen -= quantity
            position.cost = avg * position.total
            self.cash += amount - fee
            if position.total == 0:
                del self.positions[order.code]
        order.filled += quantity
        order.filled_amt += amount
        order.filled_px += price * quantity
        order.status = "2" if order.remaining == 0 else ("8" if order.cancel_at is not None else "1")
        if order.status == "2" and order.frozen_cash:
            self.frozen_cash -= order.frozen_cash
            order.frozen_cash = ZERO
        self._trade_seq += 1
        assert self._day is not None
        self._outbox.add(
            self._day.trade_update,
            TRADE_UPDATE_HEADER,
            [
                format_upd_time(now), order.acct_type, self.account_no, order.symbol, order.side,
                str(quantity), f"{price}", f"{amount.quantize(CENT)}", order.order_no,
                f"T{self._trade_seq:08d}", order.order_id,
            ],
        )
        if self.fault_mode and self._fault_rng.random() < self.fault_rate:
            order.text = "部分成交,继续撮合" if order.status == "1" else "全部成交"
        self._update(order, now)

    def _finish_cancel(self, order: SimOrder, now: pendulum.DateTime) -> None:
        remaining = order.remaining
        order.cancel_qty += remaining
        if order.spends_cash:
            self.frozen_cash -= order.frozen_cash
            order.frozen_cash = ZERO
        else:
            position = self.positions.get(order.code)
            if position is not None and order.working:
                position.frozen -= remaining
                position.sellable += remaining
        order.working = False
        order.status = "3" if order.filled else "4"
        self._update(order, now)

    def _commission(self, amount: Decimal) -> Decimal:
        if amount <= 0:
            return ZERO
        return max((amount * self.commission_rate).quantize(CENT, rounding=ROUND_HALF_UP), self.min_commission)

    def _update(self, order: SimOrder, now: pendulum.DateTime) -> None:
        assert self._day is not None
        avg = (order.filled_px / order.filled).quantize(Decimal("0.0001")) if order.filled else ZERO
        row = [
            format_upd_time(now),
            order.received.strftime("%Y%m%d"),
            order.received.strftime("%H%M%S"),
            order.acct_type,
            self.account_no,
            order.symbol,
            order.side,
            order.status,
            str(order.qty),
            f"{order.price if order.price else order.limit}",
            "0",
            str(order.filled),
            f"{avg}",
            f"{order.filled_amt.quantize(CENT)}",
            str(order.cancel_qty),
            order.order_no,
            order.order_no,
            order.order_id,
            order.text,
            "",
        ]
        self._outbox.add(self._day.order_update, ORDER_UPDATE_HEADER, row)

    # -- snapshots ------------------------------------------------------------------------

    def _snapshot_rows(self, now: pendulum.DateTime, upd: str) -> tuple[list[list[str]], list[list[str]]]:
        positions: list[list[str]] = []
        value_by_exchange = {"SH": ZERO, "SZ": ZERO}
        for code, position in sorted(self.positions.items()):
            last = self.feed.price(code, now)
            value = last * position.total
            symbol = code_to_symbol(code)
            exchange = symbol.split(".")[1]
            value_by_exchange[exchange] += value
            cost = (position.cost / position.total).quantize(Decimal("0.001")) if position.total else ZERO
            positions.append([
                upd, self.counter_type, self.account_no, exchange, symbol, f"模拟{code[:6]}",
                str(position.total), str(position.sellable), str(position.frozen),
                f"{cost}", f"{last}", f"{value.quantize(CENT)}",
            ])
        market_value = sum(value_by_exchange.values(), ZERO)
        lent = sum((loan.principal for loan in self.repo_loans), ZERO)  # still the account's money
        total = self.cash + market_value + lent
        assets = [[
            upd, self.counter_type, self.account_no, "", "CNY", f"{total.quantize(CENT)}",
            f"{self.cash.quantize(CENT)}", f"{self.available_cash.quantize(CENT)}",
            f"{self.frozen_cash.quantize(CENT)}", f"{market_value.quantize(CENT)}",
        ]]
        for exchange, value in value_by_exchange.items():
            assets.append([
                upd, self.counter_type, self.account_no, exchange, "CNY", f"{value.quantize(CENT)}",
                "0", "0", "0", f"{value.quantize(CENT)}",
            ])
        if self.fault_mode:
            other = self.account_no + "8"
            assets.append([upd, self.counter_type, other, "", "CNY", "1.00", "1.00", "1.00", "0", "0"])
            positions.append([upd, self.counter_type, other, "SH", "600000.SH", "其他账户", "100", "100", "0", "1", "1", "100"])
            positions.append([upd, self.counter_type, self.account_no, "SH", "600001.SH", "空仓", "0", "0", "0", "0", "0", "0"])
        return assets, positions

    # -- faults ---------------------------------------------------------------------------

    def _inject_faults(self, now: pendulum.DateTime) -> None:
        assert self._day is not None
        rng = self._fault_rng
        if rng.random() >= self.fault_rate:
            return
        path = self._day.order_update
        upd = format_upd_time(now)
        self._foreign_seq += 1
        foreign = f"other-{self._foreign_seq}"
        choice = rng.randrange(6)
        if choice == 0:  # another program's order on this account
            row = [upd, now.strftime("%Y%m%d"), now.strftime("%H%M%S"), self.counter_type, self.account_no,
                   "600000.SH", "1", rng.choice(["7", "0", "2", "4"]), "100", "10.00", "0", "0", "0", "0",
                   "0", f"9{self._foreign_seq:05d}", "", foreign, "其他程序的委托", ""]
            self._outbox.add(path, ORDER_UPDATE_HEADER, row)
        elif choice == 1:  # another account, reusing one of our ids
            ours = next(iter(self.orders), foreign)
            row = [upd, now.strftime("%Y%m%d"), now.strftime("%H%M%S"), self.counter_type, self.account_no + "8",
                   "000001.SZ", "2", "5", "100", "10.00", "0", "0", "0", "0", "100", "900001", "", ours,
                   "其他账户：可用资金不足", ""]
            self._outbox.add(path, ORDER_UPDATE_HEADER, row)
        elif choice == 2:  # bytes that are not text in any encoding
            self._outbox.add_raw(path, ORDER_UPDATE_HEADER, b"\xff\xfe\x80garbage," + bytes(rng.randrange(256) for _ in range(12)).replace(b"\n", b"") + b"\n")
        elif choice == 3:  # wrong number of fields
            self._outbox.add_raw(path, ORDER_UPDATE_HEADER, "坏行,缺少字段\n".encode(self.encoding))
        elif choice == 4:  # unknown status code on a foreign order
            row = [upd, now.strftime("%Y%m%d"), now.strftime("%H%M%S"), self.counter_type, self.account_no,
                   "600000.SH", "1", "9", "100", "10.00", "0", "0", "0", "0", "0", "900002", "", foreign, "", ""]
            self._outbox.add(path, ORDER_UPDATE_HEADER, row)
        else:  # bad number on a foreign order
            row = [upd, now.strftime("%Y%m%d"), now.strftime("%H%M%S"), self.counter_type, self.account_no,
                   "600000.SH", "1", "2", "一百", "10.00", "0", "abc", "0", "0", "0", "900003", "", foreign,
                   '含"引号",和逗号', ""]
            self._outbox.add(path, ORDER_UPDATE_HEADER, row)


# --- command line --------------------------------------------------------------------------


def _positions_arg(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in values:
        code, _, amount = item.partition("=")
        if not amount.strip().isdigit():
            raise argparse.ArgumentTypeError(f"--position 的值 {item!r} 不合法：应为 代码=股数，如 000001.XSHE=1000")
        out[code.strip()] = int(amount)
    return out


class _ChineseHelp(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with its English boilerplate replaced, exit status 2 on usage errors."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formatter_class=_ChineseHelp, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示帮助并退出")

    def error(self, message: str) -> NoReturn:
        for english, chinese in (
            ("the following arguments are required", "缺少必需的参数"),
            ("unrecognized arguments", "无法识别的参数"),
            ("expected one argument", "需要一个值"),
            ("invalid float value", "不是数字"),
            ("invalid int value", "不是整数"),
            ("argument ", "参数 "),
        ):
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{message}\n")


def build_parser(prog: str = "jqtrade sim") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="模拟 OneQuant 券商（纸面交易，非真实下单）：监视文件单目录，按 OneQuant DMA 协议回写委托、成交、资金和持仓文件。\n"
        "示例：jqtrade sim --dir D:\\onequant --account 123 --cash 1000000",
    )
    parser.add_argument("--dir", required=True, help="文件单目录（与策略的 order_dir 相同）")
    parser.add_argument("--account", required=True, help="模拟的资金账号（与策略的 account_no 相同）")
    parser.add_argument("--cash", type=float, default=1_000_000, help="初始资金（元），默认 1000000")
    parser.add_argument("--position", action="append", default=[], metavar="CODE=AMOUNT", help="初始持仓，可多次给出，如 000001.XSHE=1000（当日可卖）")
    parser.add_argument("--encoding", default="gbk", help="文件编码，默认 gbk（与中文 Windows 上的 OneQuant 相同）")
    parser.add_argument("--seed", type=int, default=0, help="价格随机游走的种子，相同种子得到相同价格")
    parser.add_argument("--prices", help="价格文件 CSV（列：code,time,price），不给时使用随机游走")
    parser.add_argument("--volatility", type=float, default=0.002, help="随机游走每分钟的波动幅度，默认 0.002")
    parser.add_argument("--latency", type=float, default=0.0, help="委托确认和撤单完成的延迟（秒）")
    parser.add_argument("--partial-fills", action="store_true", help="分多次部分成交")
    parser.add_argument("--reject-rate", type=float, default=0.0, help="随机拒单比例，0~1")
    parser.add_argument("--fault-mode", action="store_true", help="故障模式：写半行、不完整快照、其他程序的委托和乱码行")
    parser.add_argument("--snapshot-interval", type=float, default=3.0, help="资金、持仓文件的刷新间隔（秒），默认 3")
    parser.add_argument("--poll-interval", type=float, default=0.2, help="检查文件单的间隔（秒），默认 0.2")
    parser.add_argument("--any-time", action="store_true", help="不限交易时段，任何时间都可以成交（便于晚上试用）")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    """``jqtrade sim``: run the simulated broker on the live clock until Ctrl+C."""
    from jqtrade import streams

    streams.install()  # also when started as ``python -m jqtrade.gates.sim``
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _number("--poll-interval", args.poll_interval, 0, 3600, low_open=True)
        positions = _positions_arg(args.position)
        simulator = SimulatedOneQuant(
            args.dir, args.account, cash=args.cash, encoding=args.encoding, seed=args.seed,
            prices=args.prices, latency=args.latency, partial_fills=args.partial_fills,
            reject_rate=args.reject_rate, fault_mode=args.fault_mode,
            snapshot_interval=args.snapshot_interval, positions=positions,
            volatility=args.volatility, market_hours=not args.any_time,
        )
    except (argparse.ArgumentTypeError, ValueError, OSError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(
        f"模拟 OneQuant 已启动（模拟交易，不是真实券商）：目录 {Path(args.dir).resolve()}，资金账号 {args.account}，"
        f"初始资金 {args.cash:,.2f} 元。按 Ctrl+C 停止。"
    )
    stop = threading.Event()
    try:
        simulator.run_forever(LiveClock(), stop, poll_interval=args.poll_interval)
    except KeyboardInterrupt:
        stop.set()
    print("模拟 OneQuant 已停止。")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
