"""The default trade gate: AnXin/Guotou OneQuant DMA orders through CSV files in a folder."""

from __future__ import annotations

import codecs
import datetime
import logging
import math
import time
from collections.abc import Mapping
from itertools import chain, compress
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Optional

import attrs

from jqtrade.account.models import (
    LimitOrderStyle,
    MarketOrderStyle,
    OrderRequest,
    OrderSide,
    OrderStatus,
)
from jqtrade.clock import MARKET_TZ, Clock, LiveClock
from jqtrade.errors import GateConfigError, GateError
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
    PositionParser,
    RowError,
    SnapshotTable,
    code_to_symbol,
    format_price,
    format_upd_time,
    gc_paused,
    parse_asset_row,
    parse_entrust_time,
    parse_exec_result,
    parse_money,
    parse_quantity,
    read_snapshot_table,
    split_fields,
    symbol_to_code,
    symbols_to_codes,
)

log = logging.getLogger("jqtrade.gates.onequant")

#: Folders OneQuant uses unless the user chose another one, oldest install first.
DEFAULT_ORDER_DIRS = (
    r"C:\Ax\安信OneQuant\AxOneQuant\csvTemplate\DMA算法",
    r"C:\Ax\国投OneQuant\csvTemplate\DMA算法",
)
COUNTER_TYPES = ("UM0", "UF0", "AT0")
DEFAULT_ENCODING = "gbk"
_UPDATE_CHUNK = 1 << 17  # bytes of orderUpdate read and parsed at a time
_COLUMN_MIN_LINES = 64  # fewer new lines parse faster line by line (measured)

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
        counter_type = str(_option(options, "counter_type", "UM0"))
        if counter_type not in COUNTER_TYPES:
            raise GateConfigError(
                f"选项 counter_type 的值 {counter_type!r} 不合法：可选 UM0（普通股票账户）、"
                "UF0（金证极速）、AT0（华锐极速）"
            )
        if counter_type != "UM0":
            log.warning("柜台类型 counter_type=%s（默认 UM0）：柜台类型不对会导致委托失败，请与客户经理确认", counter_type)
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


def _resolve_order_dir(value: Any) -> Path:
    if value is not None and str(value).strip():
        path = Path(str(value)).expanduser()
        if not path.is_dir():
            raise GateConfigError(
                f"选项 order_dir 指定的文件单目录不存在：{path}。请填写 OneQuant 中 DMA 算法设置的文件单目录"
            )
        return path
    for candidate in DEFAULT_ORDER_DIRS:
        if Path(candidate).is_dir():
            return Path(candidate)
    tried = "\n  ".join(DEFAULT_ORDER_DIRS)
    raise GateConfigError(
        f"没有设置 order_dir，默认的 OneQuant 文件单目录都不存在：\n  {tried}\n"
        "请在 OneQuant 中启动 DMA 算法后，用 set_options(order_dir=...) 填写它的文件单目录"
    )


_Snapshot = SnapshotTable


@attrs.define
class _Day:
    """Per-trading-date state: new files, fresh offsets, no snapshots carried over."""

    files: DayFiles
    orders: LockedAppender
    cancels: LockedAppender
    exec_results: AppendedFileReader
    updates: AppendedFileReader
    parser: Optional[OrderUpdateParser] = None
    last_asset: Optional[_Snapshot] = None  # last complete snapshots, re-parsed when reused
    last_position: Optional[_Snapshot] = None
    missing_logged: set[str] = attrs.field(factory=set)
    own_orders: Optional[AppendedFileReader] = None  # built on the first has_order call
    own_ids: set[str] = attrs.field(factory=set)


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
        reader = day.own_orders
        if reader is None:
            reader = day.own_orders = AppendedFileReader(
                day.files.algo_order, self.config.file_encoding, default_header=ALGO_ORDER_HEADER
            )
        if reader.changed():
            account_no = self.config.account_no
            for row in reader.iter_rows():
                if row.get("acct", "").strip() == account_no:
                    day.own_ids.add(row.get("custBatchNo", "").strip())
        if not reader.complete:
            return None
        return order_id in day.own_ids

    # -- order sync ---------------------------------------------------------------------------

    def sync_orders(self) -> list[dict[str, Any]]:
        day = self._today()
        reports: dict[str, dict[str, Any]] = {}
        self._read_exec_results(day, reports)
        return list(self._read_order_updates(day, reports).values())

    def _read_exec_results(self, day: _Day, reports: dict[str, dict[str, Any]]) -> None:
        reader = day.exec_results
        if not reader.changed():
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
            self._add_rejections(day, rejected, reports)
        self._note_missing(day, reader)

    def _add_rejections(self, day: _Day, rejected: list[ExecResult], reports: dict[str, dict[str, Any]]) -> None:
        """Build reports for instructions OneQuant refused, from our own lines in ``algoOrder``.

        The order file, not memory, is the source, so this also works after a restart. It is
        read from the start each time (rejections are rare); ids not in it are not ours.
        """
        wanted = {result.order_id: result for result in rejected}
        reader = AppendedFileReader(day.files.algo_order, self.config.file_encoding, default_header=ALGO_ORDER_HEADER)
        account_no = self.config.account_no
        for row in reader.iter_rows():
            order_id = row.get("custBatchNo", "").strip()
            result = wanted.pop(order_id, None)
            if result is None:
                continue
            if row.get("acct", "").strip() != account_no:
                log.debug("订单 %s 不是本资金账号的委托，忽略其拒单回报", order_id)
                continue
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
                "err_msg": result.error_msg or result.error_code,
                "entrust_time": parse_entrust_time(day.files.day.strftime("%Y%m%d"), upd),
                "account": account_no,
            }
            if not wanted:
                break
        for order_id in wanted:
            log.debug("拒单回报中的订单 %s 不在本目录的 algoOrder 文件中，不是 jqtrade 下的单，忽略", order_id)

    def _read_order_updates(self, day: _Day, reports: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """``reports`` updated with the latest state per order from the new ``orderUpdate`` lines.

        Each batch is parsed column-wise when it is clean, else line by line. Per order the
        last report wins, except that a final state is not replaced by a later non-final one.
        """
        reader = day.updates
        if not reader.changed():
            return reports
        account_no = self.config.account_no
        key_parts: list[list[str]] = [list(reports)]
        report_parts: list[list[dict[str, Any]]] = [list(reports.values())]
        for text in reader.iter_texts():
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
        config = self.config
        day = self._today()
        paths = {"asset": day.files.asset_info, "position": day.files.position_info}
        snapshots: dict[str, _Snapshot] = {}
        problems: dict[str, str] = {}
        for attempt in range(config.max_attempts):
            for kind, path in paths.items():
                if kind in snapshots:
                    continue
                try:
                    with gc_paused():
                        snapshot = read_snapshot_table(path, config.file_encoding, ascii_fields_only=True)
                except FileNotFoundError:
                    problems[kind] = f"文件 {path.name} 不存在"
                    continue
                except OSError as exc:
                    problems[kind] = f"文件 {path.name} 读取失败：{exc}"
                    continue
                if snapshot is None:
                    problems[kind] = f"文件 {path.name} 不完整（没有结束行，OneQuant 可能正在写）"
                else:
                    snapshots[kind] = snapshot
                    problems.pop(kind, None)
            if len(snapshots) == len(paths):
                break
            if attempt + 1 < config.max_attempts:
                self._sleep(config.attempt_internal)

        for kind, problem in problems.items():
            last = day.last_asset if kind == "asset" else day.last_position
            if last is None:
                what = "资金" if kind == "asset" else "持仓"
                raise GateError(f"无法读取{what}：{problem}（目录 {day.files.directory}）。{_BALANCE_HINT}")
            log.warning("%s，继续使用上次完整读取的%s数据", problem, "资金" if kind == "asset" else "持仓")
            snapshots[kind] = last
        with gc_paused():
            cash = self._cash(day, snapshots["asset"])
            positions = self._positions(snapshots["position"])
            for snapshot in snapshots.values():
                snapshot.compact()  # its fields die here, unseen by the garbage collector
        day.last_asset = snapshots["asset"]
        day.last_position = snapshots["position"]
        return {"cash": cash, "positions": positions}

    def _cash(self, day: _Day, snapshot: _Snapshot) -> dict[str, float]:
        account_no = self.config.account_no
        header = snapshot.header
        cash: Optional[dict[str, float]] = None
        accounts: set[str] = set()
        for fields in snapshot.rows():
            row = dict(zip(header, fields))
            acct = row.get("acct", "").strip()
            accounts.add(acct)
            if acct == account_no and not row.get("exchange", "").strip():
                cash = parse_asset_row(row)
                if cash is not None:
                    break
        if cash is None:
            seen = "、".join(sorted(a for a in accounts if a)) or "无"
            raise GateError(
                f"{day.files.asset_info.name} 中没有资金账号 {account_no} 的汇总行（文件中的账号：{seen}）。{_BALANCE_HINT}"
            )
        return cash

    def _positions(self, snapshot: _Snapshot) -> list[dict[str, Any]]:
        account_no = self.config.account_no
        header = snapshot.header
        parser = PositionParser({name: index for index, name in enumerate(header)})
        acct_index = parser.acct_index
        if acct_index >= len(header):
            return []  # no acct column: no row can be shown to be this account's
        accounts = snapshot.column(acct_index)
        if accounts.count(account_no) == len(accounts):
            fast = self._positions_fast(parser, snapshot.column)
            rows = None if fast is not None else snapshot.rows()
        else:  # other fund accounts logged in to the same OneQuant
            rows = [fields for fields, acct in zip(snapshot.rows(), accounts) if acct.strip() == account_no]
            fast = self._positions_fast(parser, lambda index: list(map(itemgetter(index), rows or ())))
        if fast is not None:
            return fast
        merged: dict[str, dict[str, Any]] = {}
        for fields in rows or ():
            try:
                position = parser(fields)
            except RowError as exc:
                log.warning("跳过一行 positionInfo（%s）：%.200r", exc, ",".join(fields))
                continue
            if position is None:
                continue
            known = merged.get(position["code"])
            if known is None:
                merged[position["code"]] = position
                continue
            amount = known["total_amount"] + position["total_amount"]
            known["avg_cost"] = (
                known["avg_cost"] * known["total_amount"] + position["avg_cost"] * position["total_amount"]
            ) / amount
            known["total_amount"] = amount
            known["closeable_amount"] += position["closeable_amount"]
            known["position_value"] += position["position_value"]
            known["last_price"] = position["last_price"]
        return list(merged.values())

    @staticmethod
    def _positions_fast(parser: PositionParser, column: Callable[[int], list[str]]) -> Optional[list[dict[str, Any]]]:
        """Column-wise parse of a clean snapshot (plain numbers, known symbols, no duplicates,
        no empty positions); ``None`` sends anything unusual to the careful row-by-row path."""
        if parser.fast_indices is None:
            return None
        i_symbol, i_total, i_closeable, i_cost, i_last, i_value = parser.fast_indices
        symbols = column(i_symbol)
        if not symbols:
            return []
        try:
            totals = list(map(int, column(i_total)))
            closeables = list(map(int, column(i_closeable)))
            costs = list(map(float, column(i_cost)))
            lasts = list(map(float, column(i_last)))
            values = list(map(float, column(i_value)))
        except ValueError:
            return None
        codes = symbols_to_codes(symbols)
        if (
            None in codes
            or len(set(codes)) != len(codes)
            or min(totals) <= 0
            or min(closeables) < 0
            or not math.isfinite(sum(costs) + sum(lasts) + sum(values))
        ):
            return None
        return [
            {
                "code": code, "total_amount": total, "closeable_amount": closeable if closeable < total else total,
                "avg_cost": cost, "last_price": last, "position_value": value,
            }
            for code, total, closeable, cost, last, value in zip(codes, totals, closeables, costs, lasts, values)
        ]

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
        """Say once per day which file is missing and why it might be."""
        name = reader.path.name
        if reader.missing and name not in day.missing_logged:
            day.missing_logged.add(name)
            log.warning(
                "文件 %s 还不存在（目录 %s）：OneQuant 未启动 DMA 算法、资金账号未登录，或今天还没有委托。继续等待",
                name, day.files.directory,
            )
        elif not reader.missing and name in day.missing_logged:
            day.missing_logged.discard(name)
            log.info("文件 %s 已出现", name)
