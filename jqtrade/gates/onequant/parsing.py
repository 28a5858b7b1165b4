"""OneQuant rows -> typed reports: ``orderUpdate`` lines to :class:`OrderReport`, ``execResult`` lines.

Two paths read a batch of ``orderUpdate`` lines and choose the same lines:

* the **column path** (:meth:`OrderUpdateParser.parse_text`): the batch split once, each
  column converted as a whole; it refuses (returns ``None``) any batch with something
  unusual in it, and logs nothing;
* the **line path** (:func:`parse_lines`): line by line, newest first, each bad line logged
  and skipped, an order whose newest line is bad falling back to its older lines.

**The rule** (:func:`parse_batch`, the only place that chooses): a batch of at least
:data:`COLUMN_MIN_LINES` lines is tried on the column path; a smaller batch, or one the
column path refuses, goes the line path. Both give the same reports for a clean batch (a test
checks it); only the line path says what is wrong with a line.

Reports are built by :func:`build_reports`, a trusted constructor: the values were checked
here, so it fills the frozen :class:`OrderReport` slots directly instead of running its
``__init__`` once per order (a first read of a long file builds 100,000 of them).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import logging
import types
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import chain, compress, islice, repeat
from operator import add, gt
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import attrs
import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.gates.onequant.files import split_block, split_fields
from jqtrade.gates.onequant.protocol import (
    FINAL_STATUS_CODES,
    MAX_MONEY,
    MAX_QUANTITY,
    ORDER_UPDATE_HEADER,
    SIDE_CODES,
    STATUS_CODES,
    _symbol_cache,
    parse_upd_time,
    parse_upd_times,
    symbol_to_code,
    symbols_to_codes,
)
from jqtrade.model.orders import OrderStatus
from jqtrade.model.reports import OrderReport

if TYPE_CHECKING:
    from jqtrade.gates.onequant.files import AppendedFileReader

log = logging.getLogger("jqtrade.gates.onequant")

ZERO = Decimal(0)
#: Fewer new lines than this parse faster line by line (measured); see :func:`parse_batch`.
COLUMN_MIN_LINES = 64


# --- building reports ------------------------------------------------------------------------


class TrustedBuilder:
    """Builds instances of a frozen, slotted attrs class from values already checked.

    The class's ``__init__`` runs nothing but one ``object.__setattr__`` per field when it has
    no converters or validators (checked here), so the builder sets the fields itself:

    * fastest (the class has no ``__weakref__`` slot): each instance is filled as a *twin*, a
      plain class with the same slots, by ordinary attribute stores in a loop generated for
      the fields (as attrs generates ``__init__``), then given the frozen class with
      ``__class__`` assignment (allowed between classes of the same layout);
    * else each field is set through its slot descriptor, column by column.

    If the class ever changes shape (other fields, a converter, no slots), its ``__init__`` is
    used instead: slower, same result.
    """

    def __init__(self, cls: type[Any], fields: tuple[str, ...]) -> None:
        self.cls = cls
        self.fields = fields
        declared = attrs.fields(cls)
        slots = [cls.__dict__.get(name) for name in fields]
        self.trusted = (
            tuple(field.name for field in declared) == fields
            and all(field.converter is None and field.validator is None for field in declared)
            and all(isinstance(slot, types.MemberDescriptorType) for slot in slots)
        )
        self._setters: tuple[Callable[[Any, Any], None], ...] = (
            tuple(slot.__set__ for slot in slots) if self.trusted else ()  # type: ignore[union-attr]
        )
        self._fill: Optional[Callable[..., list[Any]]] = self._make_fill() if self.trusted else None

    def _make_fill(self) -> Optional[Callable[..., list[Any]]]:
        twin = type(f"_{self.cls.__name__}Twin", (), {"__slots__": tuple(self.cls.__slots__)})
        try:
            twin().__class__ = self.cls
        except TypeError:  # another layout (a __weakref__ slot): no twin
            return None
        names = [f"v{i}" for i in range(len(self.fields))]
        stores = "".join(f"        o.{field} = {name}\n" for field, name in zip(self.fields, names))
        source = (
            "def fill(columns, count):\n"
            "    out = []\n"
            "    append = out.append\n"
            f"    for {', '.join(names)}, in islice(zip(*columns), count):\n"
            "        o = twin()\n"
            f"{stores}"
            "        o.__class__ = cls\n"
            "        append(o)\n"
            "    return out\n"
        )
        namespace: dict[str, Any] = {"islice": islice, "twin": twin, "cls": self.cls}
        exec(compile(source, f"<trusted builder of {self.cls.__name__}>", "exec"), namespace)  # noqa: S102 - our own fields
        fill: Callable[..., list[Any]] = namespace["fill"]
        return fill

    def many(self, columns: Sequence[Iterable[Any]], count: int) -> list[Any]:
        """``count`` instances from columns in ``fields`` order (a column may be longer, e.g.
        ``repeat(ZERO)``)."""
        if not self.trusted:
            return [
                self.cls(**dict(zip(self.fields, values)))
                for values in islice(zip(*columns), count)
            ]
        if self._fill is not None:
            return self._fill(columns, count)
        made = list(map(_new, repeat(self.cls, count)))
        for setter, column in zip(self._setters, columns):
            deque(map(setter, made, column), 0)
        return made

    def one(self, *values: Any) -> Any:
        if not self.trusted:
            return self.cls(**dict(zip(self.fields, values)))
        made = _new(self.cls)
        for setter, value in zip(self._setters, values):
            setter(made, value)
        return made


_new = object.__new__

#: The fields of :class:`OrderReport` in the order the builders take them.
REPORT_FIELDS = (
    "order_id",
    "code",
    "status",
    "broker_order_id",
    "action",
    "amount",
    "price",
    "filled_amount",
    "canceled_amount",
    "avg_price",
    "deal_balance",
    "commission",
    "err_msg",
    "entrust_time",
    "update_time",
)
_ORDER_REPORTS = TrustedBuilder(OrderReport, REPORT_FIELDS)


def build_reports(columns: Sequence[Iterable[Any]], count: int) -> list[OrderReport]:
    """``count`` order reports from columns in :data:`REPORT_FIELDS` order; the values must
    already be of the field types: nothing is checked."""
    return _ORDER_REPORTS.many(columns, count)


def make_report(*values: Any) -> OrderReport:
    """One order report from values in :data:`REPORT_FIELDS` order (see :func:`build_reports`)."""
    report: OrderReport = _ORDER_REPORTS.one(*values)
    return report


class RowError(ValueError):
    """A row that cannot be used; the message says why (Chinese, for the log)."""


def parse_money(text: str) -> Decimal:
    """A money or price field, exact; empty means 0. Raises ``RowError`` for anything not a number."""
    text = text.strip()
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"不是数字：{text!r}") from None
    if not value.is_finite() or abs(value) > MAX_MONEY:
        raise RowError(f"不是有限数字：{text!r}")
    return value


def parse_quantity(text: str) -> int:
    """A share count; empty means 0; ``100.0`` is accepted, ``100.5``, ``1e3`` and negatives
    are not, nor counts above :data:`MAX_QUANTITY`."""
    try:
        value = int(text)
    except ValueError:
        text = text.strip()
        if not text:
            return 0
        whole, dot, fraction = text.partition(".")
        if not (
            whole.isdigit()
            and whole.isascii()
            and len(whole) <= 18
            and (not dot or not fraction.strip("0"))
        ):
            raise RowError(f"不是非负整数：{text!r}") from None
        value = int(whole)
    if value < 0 or value > MAX_QUANTITY:
        raise RowError(f"不是 0 到 {MAX_QUANTITY} 之间的整数：{text!r}")
    return value


#: Entrust times by date text, then by time text (an order file has at most one date and
#: 86,400 distinct seconds; bounded anyway).
_time_cache: dict[str, dict[str, Optional[pendulum.DateTime]]] = {}
_TIME_CACHE_SIZE = 200_000
_MISSING: Any = object()


def parse_entrust_time(order_date: str, order_time: str) -> Optional[pendulum.DateTime]:
    """``("20240603", "93001")`` -> 2024-06-03 09:30:01 market time; ``None`` if unusable."""
    cached = _time_cache.get(order_date, {}).get(order_time, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[no-any-return]
    return parse_entrust_times(order_date, [order_time])[0]


def parse_entrust_times(
    order_date: str, order_times: list[str]
) -> list[Optional[pendulum.DateTime]]:
    """:func:`parse_entrust_time` of many times of one date; each distinct time is parsed once."""
    cache = _time_cache.get(order_date)
    if cache is None:
        if len(_time_cache) >= 16:
            _time_cache.clear()
        cache = _time_cache[order_date] = {}
    missing = set(order_times).difference(cache)
    if missing:
        if len(cache) + len(missing) > _TIME_CACHE_SIZE:
            cache.clear()
            missing = set(order_times)
        day = _entrust_day(order_date)
        for text in missing:
            cache[text] = None if day is None else _entrust_time(day, text)
    return list(map(cache.__getitem__, order_times))


def _entrust_day(order_date: str) -> Optional[tuple[int, int, int]]:
    day = order_date.strip()
    if len(day) != 8 or not day.isdigit():
        return None
    try:
        return int(day[:4]), int(day[4:6]), int(day[6:])
    except ValueError:  # digits int() does not take
        return None


def _entrust_time(day: tuple[int, int, int], order_time: str) -> Optional[pendulum.DateTime]:
    digits = order_time
    if len(digits) != 6 or not digits.isdigit():
        digits = digits.strip()
        if "." in digits:
            digits = digits.partition(".")[0]
        if 0 < len(digits) < 6:
            digits = digits.zfill(6)
        if len(digits) != 6 or not digits.isdigit():
            return None
    try:
        value = int(digits)
        hour, minute, second = value // 10000, value // 100 % 100, value % 100
        if hour > 23 or minute > 59 or second > 59:
            return None  # checked here: an exception per bad time is slow
        # Asia/Shanghai has had no DST since 1991: the direct constructor is exact and fast.
        return pendulum.DateTime(day[0], day[1], day[2], hour, minute, second, tzinfo=MARKET_TZ)
    except ValueError:  # a day that does not exist, or digits int() does not take
        return None


class OrderUpdateParser:
    """``orderUpdate`` fields (in the file's header order) -> :class:`OrderReport`.

    Columns other than ``REQUIRED`` may be missing from the header (read as empty).
    ``update_time`` is the line's ``updTime`` on ``day`` (the trading date of the file;
    ``None`` when the text is not a time). Raises :class:`RowError` for a row that cannot be used.
    """

    REQUIRED = ("status", "custBatchNo", "symbol", "tradeSide", "orderQty")

    def __init__(self, columns: Mapping[str, int], day: Optional[datetime.date] = None) -> None:
        missing = [name for name in self.REQUIRED if name not in columns]
        if missing:
            raise RowError(f"orderUpdate 表头缺少列：{', '.join(missing)}")
        width = max(columns.values()) + 1 if columns else 0
        self.day = day
        self._pad = any(name not in columns for name in ORDER_UPDATE_HEADER)
        index = {name: columns.get(name, width) for name in ORDER_UPDATE_HEADER}
        self.status_index = index["status"]
        self.key_index = index["custBatchNo"]
        self.order_no_index = index["orderNo"]
        self.acct_index: Optional[int] = columns.get("acct")
        self._side = index["tradeSide"]
        self._symbol = index["symbol"]
        self._qty = index["orderQty"]
        self._price = index["orderPrice"]
        self._filled = index["filledQty"]
        self._canceled = index["cancelQty"]
        self._avg = index["avgPrice"]
        self._amount = index["filledAmt"]
        self._text = index["text"]
        self._date = index["orderDate"]
        self._time = index["orderTime"]
        self._upd = index["updTime"]
        #: Rows ``parse_many`` could not use, with the reason, for the caller to log.
        self.errors: list[tuple[Sequence[str], str]] = []
        #: Limit prices already parsed, for ``parse_text``: they lie on a tick grid and repeat
        #: all day (average prices and amounts of fills mostly do not).
        self._price_cache: dict[str, Decimal] = {}

    def key(self, fields: Sequence[str]) -> str:
        """Dedup key: ``custBatchNo``, or the broker's ``orderNo`` for orders without one."""
        key = fields[self.key_index] if self.key_index < len(fields) else ""
        if key:
            return key.strip()
        if self.order_no_index < len(fields):
            return "#" + fields[self.order_no_index]
        return "#"

    def update_time(self, text: str) -> Optional[pendulum.DateTime]:
        day = self.day
        return None if day is None else parse_upd_time(text, day)

    def __call__(self, fields: Sequence[str]) -> OrderReport:
        if self._pad:
            fields = [*fields, ""]
        status = STATUS_CODES.get(fields[self.status_index])
        if status is None:
            status = STATUS_CODES.get(fields[self.status_index].strip())
            if status is None:
                raise RowError(f"未知的订单状态代码 {fields[self.status_index]!r}")
        action = SIDE_CODES.get(fields[self._side].strip())
        if action is None:
            raise RowError(f"未知的买卖方向 {fields[self._side]!r}")
        symbol = fields[self._symbol]
        code = _symbol_cache.get(symbol) or symbol_to_code(symbol)
        if code is None:
            raise RowError(f"无法识别的证券代码 {symbol!r}")
        amount = parse_quantity(fields[self._qty])
        filled = parse_quantity(fields[self._filled])
        canceled = parse_quantity(fields[self._canceled])
        price = parse_money(fields[self._price])
        average = parse_money(fields[self._avg])
        deal = parse_money(fields[self._amount])
        if (
            filled + canceled > amount
            or price < 0
            or average < 0
            or deal < 0
            or (filled and status is OrderStatus.rejected)
        ):
            raise RowError(_contradiction(amount, filled, canceled, price, average, deal, status))
        order_no = fields[self.order_no_index].strip()
        return make_report(
            fields[self.key_index].strip(),
            code,
            status,
            order_no or None,
            action,
            amount,
            price,
            filled,
            canceled,
            average,
            deal,
            ZERO,
            fields[self._text].strip(),
            parse_entrust_time(fields[self._date], fields[self._time]),
            self.update_time(fields[self._upd]),
        )

    def parse_many(self, rows: Sequence[Sequence[str]]) -> list[Optional[OrderReport]]:
        """Reports for ``rows``; ``None`` for a bad row, which is added to :attr:`errors`."""
        out: list[Optional[OrderReport]] = []
        append = out.append
        for fields in rows:
            try:
                append(self(fields))
            except RowError as exc:
                self.errors.append((fields, str(exc)))
                append(None)
        return out

    def parse_text(
        self, text: str, width: int, account_no: str
    ) -> Optional[tuple[list[str], list[OrderReport]]]:
        """The column path: the newest state of each order in a batch of clean lines.

        ``text`` is whole data lines, each ending in ``\\n`` (see
        :meth:`AppendedFileReader.iter_texts`).

        Returns (dedup keys, reports), chosen and ordered exactly as :func:`parse_lines` does
        (per key the newest line, an older final state beating a newer non-final one; lines of
        other fund accounts dropped), or ``None`` when anything in the batch needs that careful
        path: quotes, a wrong field count, a blank or repeated header line, an unknown code or
        symbol, a number that is not plain. Nothing is logged here.

        Why columns: a 100,000-line first read spent most of its time in per-line Python work
        and in the garbage collector walking one field list per line. Here the batch is split
        once into one list of strings (see :class:`SplitBlock`), each column is converted
        through a table of its distinct values (equal numbers then share one object), lines
        superseded within the batch are dropped before any conversion, and the reports are
        filled column by column (:func:`build_reports`).
        """
        block = split_block(text, width)
        if block is None or not block.count:
            return None
        count = block.count

        # Which lines: this fund account's, then the newest (or newest final) line per key.
        keys = block.column(self.key_index)
        if "" in keys:
            order_nos = (
                block.column(self.order_no_index) if self.order_no_index < width else [""] * count
            )
            keys = [key or "#" + order_no for key, order_no in zip(keys, order_nos)]
        positions: Sequence[int] = range(count)
        own_keys = keys
        acct_index = self.acct_index
        if acct_index is not None:
            accounts = block.column(acct_index)
            if accounts.count(account_no) != count:
                positions = [
                    i
                    for i, acct in enumerate(accounts)
                    if acct == account_no or acct.strip() in ("", account_no)
                ]
                own_keys = list(map(keys.__getitem__, positions))
        newest = dict(zip(own_keys, positions))
        selected: Optional[list[int]] = None if len(positions) == count else list(positions)
        if len(newest) != len(positions):
            status_codes = block.column(self.status_index)
            final = list(
                map(FINAL_STATUS_CODES.__contains__, map(status_codes.__getitem__, positions))
            )
            chosen = {**newest, **dict(zip(compress(own_keys, final), compress(positions, final)))}
            # ordered by the position of each order's newest line, like the line-by-line path
            selected = list(map(chosen.__getitem__, map(keys.__getitem__, sorted(newest.values()))))
        if selected is not None:
            keys = list(map(keys.__getitem__, selected))
            if not keys:
                return [], []

        def column(index: int) -> list[str]:
            """Column ``index`` of the chosen lines; a column missing from the header is empty."""
            if index >= width:
                return [""] * len(keys)
            values = block.column(index)
            return values if selected is None else list(map(values.__getitem__, selected))

        try:
            statuses = list(map(STATUS_CODES.__getitem__, column(self.status_index)))
            actions = list(map(SIDE_CODES.__getitem__, column(self._side)))
            codes = symbols_to_codes(column(self._symbol))
            if None in codes:
                return None
            amounts, distinct_amounts = _numbers(column(self._qty), int)
            filled, distinct_filled = _numbers(column(self._filled), int, empty=0)
            canceled, distinct_canceled = _numbers(column(self._canceled), int, empty=0)
            prices = _parse_prices(column(self._price), self._price_cache)
            averages, distinct_averages = _numbers(column(self._avg), Decimal, empty=ZERO)
            deals, distinct_deals = _numbers(column(self._amount), Decimal, empty=ZERO)
        except (KeyError, ValueError, InvalidOperation):
            return None
        if (
            prices is None
            or min(chain(distinct_amounts, distinct_filled, distinct_canceled)) < 0
            or max(distinct_amounts) > MAX_QUANTITY
            or not plain_decimals(chain(distinct_averages, distinct_deals))
            or _overfilled(
                amounts, filled, canceled, distinct_amounts, distinct_filled, distinct_canceled
            )
            or (
                OrderStatus.rejected in statuses
                and any(compress(filled, map(OrderStatus.rejected.__eq__, statuses)))
            )
        ):
            return None  # the line-by-line path says which lines and why
        order_ids = list(map(str.strip, column(self.key_index)))
        order_nos = list(map(str.strip, column(self.order_no_index)))
        # list is invariant: a list[str] is a fine list[Optional[str]] to read from
        broker_ids: list[Optional[str]] = (
            [no or None for no in order_nos] if "" in order_nos else order_nos  # type: ignore[assignment]
        )
        messages = list(map(str.strip, column(self._text)))
        dates = column(self._date)
        times = column(self._time)
        if dates.count(dates[0]) == len(dates):
            entrust_times = parse_entrust_times(dates[0], times)
        else:
            entrust_times = list(map(parse_entrust_time, dates, times))
        day = self.day
        upd_times: Iterable[Optional[pendulum.DateTime]]
        if day is None:
            upd_times = repeat(None)
        else:
            upd_times = parse_upd_times(column(self._upd), day)

        columns = (
            order_ids,
            codes,
            statuses,
            broker_ids,
            actions,
            amounts,
            prices,
            filled,
            canceled,
            averages,
            deals,
            repeat(ZERO),
            messages,
            entrust_times,
            upd_times,
        )
        return keys, build_reports(columns, len(keys))


def plain_decimals(values: Iterable[Decimal]) -> bool:
    """Every value finite, in a double's range and not negative (``-0`` counts as negative:
    the careful path decides)."""
    values = list(values)
    return (
        all(map(Decimal.is_finite, values))
        and not any(map(Decimal.is_signed, values))
        and (not values or max(values) <= MAX_MONEY)
    )


def _overfilled(
    amounts: list[int],
    filled: list[int],
    canceled: list[int],
    distinct_amounts: Iterable[int],
    distinct_filled: Iterable[int],
    distinct_canceled: Iterable[int],
) -> bool:
    """True if a line reports more filled plus canceled shares than it ordered; the per-line
    comparison is skipped when the extremes already rule it out."""
    most_canceled = max(distinct_canceled)
    if max(distinct_filled) + most_canceled <= min(distinct_amounts):
        return False
    done = map(add, filled, canceled) if most_canceled else filled
    return any(map(gt, done, amounts))


def _contradiction(
    amount: int,
    filled: int,
    canceled: int,
    price: Decimal,
    average: Decimal,
    deal: Decimal,
    status: OrderStatus,
) -> str:
    """Why a parsed ``orderUpdate`` line cannot be an order's state (for the log)."""
    if filled + canceled > amount:
        return f"成交 {filled} + 撤单 {canceled} 超过委托数量 {amount}"
    if min(price, average, deal) < 0:
        return f"价格或金额为负：委托价 {price}，成交均价 {average}，成交金额 {deal}"
    return f"废单（状态 {status.value}）却有成交 {filled}"


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause automatic garbage collection for a burst of allocations that form no cycles.

    Parsing allocates big lists of fields that die when the parse ends, and reports that live
    on. Collections set off during the burst walk all of them, again and again (measured: a
    sixth of a 100,000-line first read, 1 to 2 ms of a 5,000-line snapshot). Paused over a
    read, the temporary lists die unseen (reference counting frees them) and the reports are
    walked by the next collection like any new objects. Nothing is skipped, and collection
    resumes as it was (left alone if someone else turned it off).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_T = TypeVar("_T")
_PRICE_CACHE_SIZE = 10_000  # a few hundred kB


def _parse_prices(texts: list[str], cache: dict[str, Decimal]) -> Optional[list[Decimal]]:
    """Prices (empty means 0) through a cache kept across batches: each distinct text is parsed
    once and equal prices share one object. ``None`` if one is not finite or is negative; raises
    ``InvalidOperation`` for a text that is not a number."""
    new = set(texts).difference(cache)
    if new:
        parsed = dict(zip(new, map(_decimal_or_zero, new)))
        if not plain_decimals(parsed.values()):
            return None
        if len(cache) + len(parsed) > _PRICE_CACHE_SIZE:
            cache.clear()
            parsed.update(zip(texts, map(_decimal_or_zero, texts)))  # the batch's other prices too
        cache.update(parsed)
    return list(map(cache.__getitem__, texts))


def _decimal_or_zero(text: str) -> Decimal:
    return Decimal(text) if text else ZERO


def _numbers(
    texts: list[str], convert: Callable[[str], _T], *, empty: Optional[_T] = None
) -> tuple[list[_T], Iterable[_T]]:
    """``convert`` of each text (``empty`` for an empty text, if given); (values, distinct values).

    Quantities and zeros repeat a lot in an order file: when the first texts show repeats,
    each distinct text is converted once and its value shared (which also saves memory).
    Raises what ``convert`` raises.
    """
    sample = texts[:256]
    if len(set(sample)) * 2 > len(sample):  # mostly distinct: a table would not pay
        try:
            values = list(map(convert, texts))
        except (ValueError, InvalidOperation):
            if empty is None:
                raise
        else:
            return values, values
    table = dict.fromkeys(texts)
    if empty is not None and "" in table:
        del table[""]
        converted = dict(zip(table, map(convert, table)))
        converted[""] = empty
    else:
        converted = dict(zip(table, map(convert, table)))
    return list(map(converted.__getitem__, texts)), converted.values()


# --- the line path and the rule ------------------------------------------------------------------


def _data_fields(line: str, width: int) -> Optional[list[str]]:
    """The fields of a data line as the main pass of :func:`parse_lines` accepts them (trailing
    empty columns cut), or ``None``; nothing is logged."""
    fields = line.split(",") if '"' not in line else split_fields(line)
    if fields is None or len(fields) == width:
        return fields
    if len(fields) > width and not any(fields[width:]) and line.strip(", \t"):
        return fields[:width]
    return None


def parse_batch(
    reader: AppendedFileReader, parser: OrderUpdateParser, text: str, width: int, account_no: str
) -> tuple[list[str], list[OrderReport]]:
    """(keys, reports) of one batch of ``orderUpdate`` lines: the rule choosing the path (see
    the module docstring)."""
    if text.count("\n") >= COLUMN_MIN_LINES:
        parsed = parser.parse_text(text, width, account_no)
        if parsed is not None:
            return parsed
    batch = text.split("\n")
    batch.pop()  # after the last line end
    return parse_lines(reader, parser, batch, width, account_no)


def parse_lines(
    reader: AppendedFileReader,
    parser: OrderUpdateParser,
    batch: list[str],
    width: int,
    account_no: str,
) -> tuple[list[str], list[OrderReport]]:
    """The line path of a batch: scanned backwards so a superseded line costs a split; bad
    lines are logged (through ``reader``) and skipped, an order whose newest line is bad falls
    back to its older lines. Returns (keys, reports) ordered by the position of each order's
    newest line."""
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
        if (
            acct_index is not None
            and fields[acct_index] != account_no
            and fields[acct_index].strip() not in ("", account_no)
        ):
            continue  # another fund account logged in to the same OneQuant
        key = fields[key_index] or parser.key(fields)
        known = chosen.get(key)
        if known is not None and (
            known[status_index] in FINAL_STATUS_CODES
            or fields[status_index] not in FINAL_STATUS_CODES
        ):
            continue  # an older line of an order already seen in this batch
        chosen[key] = fields
    keys = list(chosen)
    parsed = parser.parse_many(list(chosen.values()))
    latest = dict(zip(keys, parsed))
    if parser.errors:
        _retry_older_lines(reader, parser, batch, latest, width, account_no)
    used_keys: list[str] = []
    reports: list[OrderReport] = []
    for key in reversed(keys):
        report = latest[key]
        if report is not None:
            used_keys.append(key)
            reports.append(report)
    return used_keys, reports


def _retry_older_lines(
    reader: AppendedFileReader,
    parser: OrderUpdateParser,
    batch: list[str],
    latest: dict[str, Optional[OrderReport]],
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
        if (
            acct_index is not None
            and fields[acct_index] != account_no
            and fields[acct_index].strip() not in ("", account_no)
        ):
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


# --- single rows (tools, tests, execResult) ----------------------------------------------------

_parser_cache: dict[tuple[tuple[str, ...], Optional[datetime.date]], OrderUpdateParser] = {}


def _row_parser(
    row: Mapping[str, str], day: Optional[datetime.date]
) -> tuple[OrderUpdateParser, list[str]]:
    key = (tuple(row), day)
    parser = _parser_cache.get(key)
    if parser is None:
        if len(_parser_cache) > 64:
            _parser_cache.clear()
        parser = _parser_cache.setdefault(
            key, OrderUpdateParser({n: i for i, n in enumerate(key[0])}, day)
        )
    return parser, list(row.values())


def parse_order_update(
    row: Mapping[str, str], day: Optional[datetime.date] = None
) -> Optional[OrderReport]:
    """An ``orderUpdate`` row (dict by header) -> :class:`OrderReport`, or ``None`` (logged).
    ``day``: the file's trading date, for ``update_time``."""
    try:
        parser, fields = _row_parser(row, day)
        return parser(fields)
    except RowError as exc:
        log.warning("跳过一行 orderUpdate（%s）：%.200r", exc, row)
        return None


@attrs.frozen
class ExecResult:
    """One ``execResult`` line: OneQuant's answer to an order (1) or cancel (2) instruction."""

    result_type: str
    order_id: str
    rejected: bool
    error_code: str
    error_msg: str

    @property
    def is_order(self) -> bool:
        return self.result_type == "1"

    @property
    def is_cancel(self) -> bool:
        return self.result_type == "2"


def parse_exec_result(row: Mapping[str, str]) -> Optional[ExecResult]:
    """An ``execResult`` row -> :class:`ExecResult`, or ``None`` (logged)."""
    result_type = row.get("resultType", "").strip()
    order_id = row.get("custBatchNo", "").strip()
    if result_type not in ("1", "2") or not order_id:
        log.warning(
            "跳过一行 execResult（resultType 应为 1 或 2，custBatchNo 不能为空）：%.200r", row
        )
        return None
    return ExecResult(
        result_type=result_type,
        order_id=order_id,
        rejected=row.get("status", "").strip() == "1",
        error_code=row.get("errorCode", "").strip(),
        error_msg=row.get("errorMsg", "").strip(),
    )
