"""The OneQuant DMA file protocol as data: file names, headers, codes and value formats.

Nothing here touches a file. :mod:`.files` reads and writes bytes, :mod:`.parsing` turns
rows into reports, :mod:`.snapshot` reads the cash and position snapshots; the simulated
broker (:mod:`jqtrade.sim`) writes the same files from these definitions.
"""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Optional, Union

import pendulum

from jqtrade.clock import MARKET_TZ
from jqtrade.model.orders import OrderAction, OrderStatus

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
#: What OneQuant writes on Chinese Windows (the "file-system encoding" is UTF-8 on Python ≥ 3.6
#: for Windows, which would garble OneQuant's Chinese texts).
DEFAULT_ENCODING = "gbk"

# --- file names and headers ----------------------------------------------------------------

ALGO_ORDER = "algoOrder"
ALGO_ORDER_STOP = "algoOrderStop"
EXEC_RESULT = "execResult"
ORDER_UPDATE = "orderUpdate"
TRADE_UPDATE = "tradeUpdate"
ASSET_INFO = "assetInfo"
POSITION_INFO = "positionInfo"

FILE_KINDS = (
    ALGO_ORDER,
    ALGO_ORDER_STOP,
    EXEC_RESULT,
    ORDER_UPDATE,
    TRADE_UPDATE,
    ASSET_INFO,
    POSITION_INFO,
)

ALGO_ORDER_HEADER = (
    "updTime,custBatchNo,acctType,acct,symbol,tradeSide,targetQty,algoId,"
    "priceType,ticks,highLimitPrice,lowLimitPrice"
).split(",")
ALGO_ORDER_STOP_HEADER = ["updTime", "custBatchNo"]
EXEC_RESULT_HEADER = "updTime,resultType,custBatchNo,status,errorCode,errorMsg".split(",")
ORDER_UPDATE_HEADER = (
    "updTime,orderDate,orderTime,acctType,acct,symbol,tradeSide,status,orderQty,orderPrice,"
    "orderType,filledQty,avgPrice,filledAmt,cancelQty,orderNo,corrId,custBatchNo,text,cliOrderId"
).split(",")
#: tradeUpdate's real columns are not documented; these are the simulator's.
TRADE_UPDATE_HEADER = (
    "updTime,acctType,acct,symbol,tradeSide,filledQty,filledPrice,filledAmt,orderNo,tradeNo,custBatchNo"
).split(",")
#: The snapshot files have more columns than the gate reads; it reads by name only.
ASSET_INFO_HEADER = (
    "updTime,acctType,acct,exchange,currency,totalAsset,currentBalance,enabledBalance,"
    "frozenBalance,mktValue"
).split(",")
POSITION_INFO_HEADER = (
    "updTime,acctType,acct,exchange,symbol,symbolName,currentQty,enabledQty,frozenQty,"
    "costPrice,lastPrice,mktValue"
).split(",")

#: OneQuant ``status`` codes of ``orderUpdate`` -> jqtrade order states.
STATUS_CODES: dict[str, OrderStatus] = {
    "7": OrderStatus.new,
    "0": OrderStatus.open,
    "1": OrderStatus.filling,
    "2": OrderStatus.filled,
    "8": OrderStatus.canceling,
    "3": OrderStatus.partly_canceled,
    "4": OrderStatus.canceled,
    "5": OrderStatus.rejected,
}
FINAL_STATUS_CODES = frozenset({"2", "3", "4", "5"})

SIDE_CODES = {"1": OrderAction.open, "2": OrderAction.close}


def file_name(kind: str, day: datetime.date) -> str:
    """``file_name("algoOrder", date(2024, 6, 3))`` -> ``"algoOrder_20240603.csv"``."""
    if kind not in FILE_KINDS:
        raise ValueError(f"未知的文件种类 {kind!r}，可选：{', '.join(FILE_KINDS)}")
    return f"{kind}_{day.strftime('%Y%m%d')}.csv"


# --- security codes ------------------------------------------------------------------------

_TO_BROKER = {"XSHG": "SH", "XSHE": "SZ", "SH": "SH", "SZ": "SZ"}
_FROM_BROKER = {"SH": "XSHG", "SZ": "XSHE", "XSHG": "XSHG", "XSHE": "XSHE"}
_symbol_cache: dict[str, Optional[str]] = {}


def code_to_symbol(code: str) -> str:
    """``600000.XSHG`` -> ``600000.SH``; raises ``ValueError`` for other exchanges."""
    digits, _, suffix = code.strip().partition(".")
    broker = _TO_BROKER.get(suffix.upper())
    if broker is None or len(digits) != 6 or not digits.isdigit():
        raise ValueError(
            f"证券代码 {code!r} 无法转换为 OneQuant 代码（只支持 .XSHG/.XSHE，即 .SH/.SZ）"
        )
    return f"{digits}.{broker}"


def symbol_to_code(symbol: str) -> Optional[str]:
    """``600000.SH`` -> ``600000.XSHG``; ``None`` for a symbol jqtrade cannot trade."""
    cached = _symbol_cache.get(symbol)
    if cached is not None or symbol in _symbol_cache:
        return cached
    digits, _, suffix = symbol.strip().partition(".")
    exchange = _FROM_BROKER.get(suffix.upper())
    code = f"{digits}.{exchange}" if exchange and len(digits) == 6 and digits.isdigit() else None
    if len(_symbol_cache) < 100_000:
        _symbol_cache[symbol] = code
    return code


def symbols_to_codes(symbols: list[str]) -> list[Optional[str]]:
    """:func:`symbol_to_code` of each symbol, at C speed for symbols seen before."""
    codes = list(map(_symbol_cache.get, symbols))
    if None in codes:
        codes = list(map(symbol_to_code, symbols))
    return codes


#: The line end jqtrade writes into ``algoOrder`` and ``algoOrderStop``, on every OS: ``\r\n``,
#: what Windows programs usually write. jqtrade 1.0 wrote ``\r\r\n`` on Windows by accident
#: (``os.linesep`` through a text-mode file) and OneQuant accepted it, so OneQuant's reader
#: tolerates ``\r`` before the ``\n``; ``\r\n`` is that proven form without the stray ``\r``,
#: and also what a reader that insists on Windows line ends wants. The lines are written as
#: bytes, never through a text-mode file, so no OS adds another ``\r``. Every reader here
#: accepts ``\n``, ``\r\n`` and ``\r\r\n`` (see :class:`AppendedFileReader`).
ORDER_FILE_LINE_END = "\r\n"


#: More shares than any A-share company has issued: a quantity above it is a broken field.
MAX_QUANTITY = 10**12
#: A price or amount beyond a double's range (``1e999``) is a broken field, as it was when
#: these fields were read as ``float`` (Decimal itself has no such limit).
MAX_MONEY = Decimal(sys.float_info.max)


def format_price(price: Union[Decimal, float]) -> str:
    """A price for the order file: at most 3 decimals, no exponent, no trailing zeros."""
    text = f"{Decimal(str(price)).quantize(Decimal('0.001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_upd_time(text: str, day: datetime.date) -> Optional[pendulum.DateTime]:
    """``updTime`` (``HHMMSS`` or ``HHMMSS.ffffff``, ``HMMSS`` too; market time) on ``day``, or
    ``None`` when it is not such a time. The one reading of the broker's clock times."""
    whole, dot, fraction = text.strip().partition(".")
    if not (5 <= len(whole) <= 6 and whole.isdigit() and whole.isascii()):
        return None
    if dot and not (fraction.isdigit() and fraction.isascii() and len(fraction) <= 6):
        return None
    value = int(whole)
    hour, minute, second = value // 10000, value // 100 % 100, value % 100
    if hour > 23 or minute > 59 or second > 59:
        return None
    micro = int(fraction.ljust(6, "0")) if dot else 0
    # Asia/Shanghai has had no DST since 1991: the direct constructor is exact and fast.
    return pendulum.DateTime(
        day.year, day.month, day.day, hour, minute, second, micro, tzinfo=MARKET_TZ
    )


_WHOLE = itemgetter(slice(0, 6))
_DOT = itemgetter(6)
_FRACTION = itemgetter(slice(7, 13))


def parse_upd_times(texts: list[str], day: datetime.date) -> list[Optional[pendulum.DateTime]]:
    """:func:`parse_upd_time` of each text, with the work done column-wise: texts that repeat
    are parsed once and share their object; the usual ``HHMMSS.ffffff`` texts are split and
    converted by whole columns, only the datetimes themselves made one by one."""
    sample = texts[:256]
    if len(set(sample)) * 2 <= len(sample):  # repeats: each distinct text once
        table = {text: parse_upd_time(text, day) for text in set(texts)}
        return list(map(table.__getitem__, texts))
    fast = _upd_times_fast(texts, day)
    return fast if fast is not None else [parse_upd_time(text, day) for text in texts]


def _upd_times_fast(
    texts: list[str], day: datetime.date
) -> Optional[list[Optional[pendulum.DateTime]]]:
    """``HHMMSS.ffffff`` texts (all of them, plain ASCII digits) as datetimes, or ``None``."""
    count = len(texts)
    if not count or set(map(len, texts)) != {13} or set(map(_DOT, texts)) != {"."}:
        return None
    wholes = list(map(_WHOLE, texts))
    fractions = list(map(_FRACTION, texts))
    digits = "".join(fractions)
    if not (digits.isdigit() and digits.isascii()):
        return None
    clock: dict[str, tuple[int, int, int]] = {}
    for whole in set(wholes):
        if not (whole.isdigit() and whole.isascii()):
            return None
        value = int(whole)
        hour, minute, second = value // 10000, value // 100 % 100, value % 100
        if hour > 23 or minute > 59 or second > 59:
            return None
        clock[whole] = (hour, minute, second)
    hours, minutes, seconds = zip(*map(clock.__getitem__, wholes))
    return list(
        map(
            pendulum.DateTime,
            repeat(day.year, count),
            repeat(day.month, count),
            repeat(day.day, count),
            hours,
            minutes,
            seconds,
            map(int, fractions),
            repeat(MARKET_TZ, count),
        )
    )


def format_upd_time(now: datetime.datetime) -> str:
    """``HHMMSS.ffffff`` of the market-time instant ``now``."""
    local = now.astimezone(MARKET_TZ)
    return local.strftime("%H%M%S.%f")
