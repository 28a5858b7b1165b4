"""The OneQuant gate's cash and positions snapshots over hand-written files.

Every rule of the snapshot contract (docs/onequant.md, "资金、持仓快照"): a snapshot that is
missing, incomplete or not in the expected shape raises ``SnapshotUnusableError`` and is never
replaced by an older one; a good one carries ``as_of``, the time the broker produced it.
"""

from __future__ import annotations

import logging
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from onequant_support import open_onequant

from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.errors import GateError, SnapshotUnusableError
from jqtrade.gates.onequant.files import DayFiles
from jqtrade.gates.onequant.protocol import ASSET_INFO_HEADER, POSITION_INFO_HEADER
from jqtrade.model.reports import BalanceReport
from jqtrade.testing.gate_contract import check_balance_report

T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)
ACCOUNT = "123"
UPD = "100000.000000"

Row = dict[str, str]


def asset_row(**fields: str) -> Row:
    row = {
        "updTime": UPD,
        "acctType": "UM0",
        "acct": ACCOUNT,
        "exchange": "",
        "currency": "CNY",
        "totalAsset": "120000.00",
        "currentBalance": "100000.00",
        "enabledBalance": "90000.00",
        "frozenBalance": "10000.00",
        "mktValue": "20000.00",
    }
    row.update(fields)
    return row


def position_row(symbol: str = "600000.SH", qty: str = "1000", **fields: str) -> Row:
    row = {
        "updTime": UPD,
        "acctType": "UM0",
        "acct": ACCOUNT,
        "exchange": symbol[-2:],
        "symbol": symbol,
        "symbolName": "浦发银行",
        "currentQty": qty,
        "enabledQty": qty,
        "frozenQty": "0",
        "costPrice": "9.500",
        "lastPrice": "10.00",
        "mktValue": str(Decimal(qty or 0) * 10) + ".00",
    }
    row.update(fields)
    return row


def render(
    header: list[str],
    rows: list[Row],
    *,
    end: bool = True,
    eol: Any = "\n",
    bom: bool = False,
    encoding: str = "gbk",
) -> bytes:
    """A snapshot file; ``eol`` is one line end or a list of them used in turn."""
    lines = [",".join(header)] + [",".join(row.get(name, "") for name in header) for row in rows]
    if end:
        lines.append("," * (len(header) - 1))
    ends = eol if isinstance(eol, list) else [eol]
    text = "".join(line + ends[n % len(ends)] for n, line in enumerate(lines))
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


class Env:
    def __init__(self, directory: Path, *, encoding: str = "gbk", account: str = ACCOUNT) -> None:
        self.directory = directory
        self.clock = SimClock(T0)
        self.sleeps: list[float] = []
        self.encoding = encoding
        self.gate = open_onequant(
            {"account_no": account, "order_dir": str(directory), "file_encoding": encoding},
            self.clock,
            sleep=self.sleeps.append,
        )
        self.files = DayFiles(directory, T0.date())

    def write(
        self,
        assets: Optional[list[Row]] = None,
        positions: Optional[list[Row]] = None,
        *,
        asset_header: Optional[list[str]] = None,
        position_header: Optional[list[str]] = None,
        **options: Any,
    ) -> None:
        options.setdefault("encoding", self.encoding)
        if assets is not None:
            self.files.asset_info.write_bytes(
                render(asset_header or ASSET_INFO_HEADER, assets, **options)
            )
        if positions is not None:
            self.files.position_info.write_bytes(
                render(position_header or POSITION_INFO_HEADER, positions, **options)
            )

    def sync(self) -> BalanceReport:
        balance = self.gate.sync_balance()
        check_balance_report(balance)
        return balance

    def unusable(self) -> str:
        with pytest.raises(SnapshotUnusableError) as info:
            self.gate.sync_balance()
        return str(info.value)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = Env(tmp_path)
    e.write(
        [asset_row()],
        [position_row(), position_row("000001.SZ", "300", lastPrice="20.00", mktValue="6000.00")],
    )
    return e


def cash_of(balance: BalanceReport) -> dict[str, Decimal]:
    return {
        "total_value": balance.total_value,
        "available_cash": balance.available_cash,
        "locked_cash": balance.locked_cash,
    }


def positions_of(balance: BalanceReport) -> list[dict[str, Any]]:
    return [attrs.asdict(p) for p in balance.positions]


def by_code(balance: BalanceReport) -> dict[str, dict[str, Any]]:
    return {p["code"]: p for p in positions_of(balance)}


# --- 1. never an old snapshot as if new --------------------------------------------------------


def test_good_snapshot(env: Env) -> None:
    balance = env.sync()
    assert cash_of(balance) == {
        "total_value": 120_000.0,
        "available_cash": 90_000.0,
        "locked_cash": 10_000.0,
    }
    assert by_code(balance)["600000.XSHG"] == {
        "code": "600000.XSHG",
        "total_amount": 1000,
        "closeable_amount": 1000,
        "avg_cost": 9.5,
        "last_price": 10.0,
        "position_value": 10_000.0,
    }
    assert by_code(balance)["000001.XSHE"]["position_value"] == 6000.0


@pytest.mark.parametrize("kind", ["asset_info", "position_info"])
def test_incomplete_after_a_good_one_is_an_error_not_the_old_one(env: Env, kind: str) -> None:
    env.sync()
    path = getattr(env.files, kind)
    path.write_bytes(path.read_bytes()[:-5])  # OneQuant is rewriting it
    reason = env.unusable()
    assert (
        f"{path.name} 不完整（没有结束行，OneQuant 可能正在写）" in reason
        and str(env.directory) in reason
    )
    assert env.sleeps == [0.15, 0.15]  # max_attempts 3


@pytest.mark.parametrize("content", [b"", None])
def test_empty_or_missing_after_a_good_one_is_an_error(env: Env, content: Optional[bytes]) -> None:
    env.sync()
    if content is None:
        env.files.position_info.unlink()
    else:
        env.files.position_info.write_bytes(content)
    reason = env.unusable()
    assert env.files.position_info.name in reason and str(env.directory) in reason
    assert ("不存在" if content is None else "不完整") in reason


def test_missing_folder_and_unreadable_file(env: Env) -> None:
    env.sync()
    env.files.asset_info.unlink()
    env.files.asset_info.mkdir()  # reading it fails with an OSError
    reason = env.unusable()
    assert env.files.asset_info.name in reason and "读取失败" in reason
    shutil.rmtree(env.directory)
    reason = env.unusable()
    assert "目录" in reason and str(env.directory) in reason and "不存在" in reason


def test_a_retry_that_succeeds_returns_the_new_snapshot(env: Env) -> None:
    env.files.position_info.write_bytes(b"")
    rewritten: list[float] = []

    def sleep(seconds: float) -> None:  # OneQuant finishes writing while the gate waits
        rewritten.append(seconds)
        env.write(positions=[position_row(qty="700")])

    env.gate = open_onequant(
        {"account_no": ACCOUNT, "order_dir": str(env.directory)}, env.clock, sleep=sleep
    )
    assert [p["total_amount"] for p in positions_of(env.sync())] == [700]
    assert rewritten == [0.15]


# --- 2. as_of ------------------------------------------------------------------------------


def test_as_of_is_the_older_upd_time_of_the_two_files(env: Env) -> None:
    env.write(
        [asset_row(updTime="100001.500000"), asset_row(exchange="SH", updTime="100009")],
        [position_row(updTime="100002"), position_row("000001.SZ", updTime="100003.25")],
    )
    as_of = env.sync().as_of
    assert as_of == pendulum.datetime(2024, 6, 3, 10, 0, 1, 500_000, tz=MARKET_TZ)
    assert as_of.timezone_name == "Asia/Shanghai"
    env.write([asset_row(updTime="100005")])
    assert env.sync().as_of == pendulum.datetime(2024, 6, 3, 10, 0, 3, 250_000, tz=MARKET_TZ)


@pytest.mark.parametrize("upd", [None, "", "25:00:00", "abc", "100060"])
def test_as_of_falls_back_to_the_file_time(env: Env, upd: Optional[str]) -> None:
    header = [name for name in POSITION_INFO_HEADER if name != "updTime" or upd is not None]
    env.write(positions=[position_row(updTime=upd or "")], position_header=header)
    stamp = T0.subtract(minutes=3).timestamp()
    os.utime(env.files.position_info, (stamp, stamp))
    as_of = env.sync().as_of
    assert as_of == T0.subtract(minutes=3) and as_of.timezone_name == "Asia/Shanghai"


def test_as_of_without_positions_is_the_position_file_time(env: Env) -> None:
    env.write(positions=[position_row(acct="999", updTime="095900")])
    stamp = T0.subtract(seconds=30).timestamp()
    os.utime(env.files.position_info, (stamp, stamp))
    balance = env.sync()
    assert positions_of(balance) == [] and balance.as_of == T0.subtract(seconds=30)


# --- 3. schema -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_a_bom_is_stripped_whatever_the_encoding(tmp_path: Path, encoding: str) -> None:
    env = Env(tmp_path, encoding=encoding)
    header = ["acct", *[n for n in POSITION_INFO_HEADER if n != "acct"]]
    asset_header = ["acct", *[n for n in ASSET_INFO_HEADER if n != "acct"]]
    env.write(
        [asset_row()], [position_row()], bom=True, asset_header=asset_header, position_header=header
    )
    balance = env.sync()
    assert cash_of(balance)["available_cash"] == 90_000.0
    assert [p["total_amount"] for p in positions_of(balance)] == [1000]


@pytest.mark.parametrize(
    "column", ["acct", "symbol", "currentQty", "enabledQty", "costPrice", "lastPrice"]
)
def test_a_missing_position_column_is_an_error(env: Env, column: str) -> None:
    env.write(
        positions=[position_row()], position_header=[n for n in POSITION_INFO_HEADER if n != column]
    )
    reason = env.unusable()
    assert env.files.position_info.name in reason and column in reason


@pytest.mark.parametrize(
    "column", ["acct", "exchange", "totalAsset", "enabledBalance", "currentBalance"]
)
def test_a_missing_asset_column_is_an_error(env: Env, column: str) -> None:
    env.write([asset_row()], asset_header=[n for n in ASSET_INFO_HEADER if n != column])
    reason = env.unusable()
    assert env.files.asset_info.name in reason and column in reason


def test_mkt_value_is_optional(env: Env) -> None:
    env.write(
        positions=[position_row(qty="300", lastPrice="10.10")],
        position_header=POSITION_INFO_HEADER[:-1],
    )
    assert positions_of(env.sync())[0]["position_value"] == Decimal("3030")
    env.write(positions=[position_row(qty="300", lastPrice="10.10", mktValue="")])
    assert positions_of(env.sync())[0]["position_value"] == Decimal("3030")


@pytest.mark.parametrize("column", ["symbol", "currentQty", "enabledQty", "costPrice", "lastPrice"])
def test_an_empty_position_field_of_ours_is_an_error(env: Env, column: str) -> None:
    env.write(positions=[position_row("000001.SZ"), position_row(**{column: ""})])
    reason = env.unusable()
    assert env.files.position_info.name in reason and column in reason and "第 3 行" in reason


@pytest.mark.parametrize("column", ["totalAsset", "enabledBalance", "currentBalance"])
def test_an_empty_cash_field_is_an_error(env: Env, column: str) -> None:
    env.write([asset_row(exchange="SH"), asset_row(**{column: ""})])
    reason = env.unusable()
    assert env.files.asset_info.name in reason and column in reason and "第 3 行" in reason


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("currentQty", "-100"),
        ("enabledQty", "-1"),
        ("costPrice", "-9.5"),
        ("lastPrice", "-0.01"),
        ("mktValue", "-5"),
    ],
)
def test_negative_quantities_and_prices_are_errors(env: Env, column: str, value: str) -> None:
    env.write(positions=[position_row(), position_row("000001.SZ", **{column: value})])
    reason = env.unusable()
    assert "000001.SZ" in reason and column in reason and "负" in reason


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "1e400", "1.5"])
def test_unusable_numbers_are_errors_not_skipped_rows(env: Env, value: str) -> None:
    env.write(positions=[position_row(), position_row("000001.SZ", currentQty=value)])
    assert "currentQty" in env.unusable()


def test_a_line_with_the_wrong_field_count_is_an_error(env: Env) -> None:
    env.files.position_info.write_bytes(
        render(POSITION_INFO_HEADER, [position_row()]).replace(b"1000,1000,", b"1000,", 1)
    )
    assert "字段数" in env.unusable()


def test_zero_quantities_mean_no_position_and_other_accounts_are_ignored(env: Env) -> None:
    env.write(
        positions=[
            position_row(qty="0", costPrice="", lastPrice="", mktValue=""),
            position_row(
                "000001.SZ", acct="999", currentQty="-5", costPrice=""
            ),  # not ours: not checked
            position_row("000002.SZ", qty="200"),
        ]
    )
    assert [(p["code"], p["total_amount"]) for p in positions_of(env.sync())] == [
        ("000002.XSHE", 200)
    ]


def test_differing_cash_total_lines_are_an_error(env: Env) -> None:
    env.write([asset_row(), asset_row()])
    assert cash_of(env.sync())["available_cash"] == 90_000.0  # identical lines: one
    env.write([asset_row(), asset_row(enabledBalance="1.00")])
    assert "汇总行" in env.unusable()


def test_identical_duplicate_lines_count_once(env: Env) -> None:
    env.write(positions=[position_row(), position_row(), position_row("000001.SZ", "300")])
    assert {c: p["total_amount"] for c, p in by_code(env.sync()).items()} == {
        "600000.XSHG": 1000,
        "000001.XSHE": 300,
    }


def test_differing_rows_of_one_symbol_are_summed_with_one_warning_per_file(
    env: Env, caplog: Any
) -> None:
    rows = [
        position_row(qty="1000", enabledQty="600", costPrice="10", mktValue="10000"),
        position_row(qty="500", costPrice="13", mktValue="5000"),
    ]
    env.write(positions=rows)
    with caplog.at_level(logging.WARNING, logger="jqtrade.gates.onequant"):
        for _ in range(3):
            (position,) = positions_of(env.sync())
        assert position["total_amount"] == 1500 and position["closeable_amount"] == 1100
        assert position["avg_cost"] == 11 and position["position_value"] == 15000.0
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
        rows[1]["updTime"] = "100005"
        env.write(positions=rows)  # a new version of the file
        env.sync()
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


@pytest.mark.parametrize(
    "eol",
    ["\r", "\r\n", "\r\r\n", ["\n", "\r\n", "\r\r\n", "\r"]],
    ids=["cr", "crlf", "crcrlf", "mixed"],
)
@pytest.mark.parametrize("bom", [False, True])
def test_line_endings(env: Env, eol: Any, bom: bool) -> None:
    env.write(
        [asset_row(), asset_row(exchange="SH")],
        [position_row(), position_row("000001.SZ", "300")],
        eol=eol,
        bom=bom,
    )
    balance = env.sync()
    assert cash_of(balance)["total_value"] == 120_000.0
    assert {c: p["total_amount"] for c, p in by_code(balance).items()} == {
        "600000.XSHG": 1000,
        "000001.XSHE": 300,
    }


def test_no_total_line_for_our_account_names_the_accounts_seen(env: Env) -> None:
    env.write([asset_row(acct="999")])
    reason = env.unusable()
    assert "999" in reason and "account_no" in reason


def test_failed_syncs_log_no_warning_in_the_gate(env: Env, caplog: Any) -> None:
    env.sync()
    env.files.position_info.write_bytes(b"")
    with caplog.at_level(logging.DEBUG, logger="jqtrade.gates.onequant"):
        for _ in range(3):
            with pytest.raises(GateError):
                env.sync()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- random snapshots --------------------------------------------------------------------------

EOLS = st.sampled_from(["\n", "\r\n", "\r", "\r\r\n"])
PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


@st.composite
def snapshots(draw: Any) -> tuple[list[Row], list[Row], dict[str, Any]]:
    """Random valid files and what sync_balance must return for them."""
    enabled = draw(st.decimals(min_value=0, max_value=10**9, places=2))
    locked = draw(st.decimals(min_value=0, max_value=10**6, places=2))
    total = enabled + locked + draw(st.decimals(min_value=0, max_value=10**6, places=2))
    assets = [
        asset_row(
            totalAsset=str(total), currentBalance=str(enabled + locked), enabledBalance=str(enabled)
        )
    ]
    assets += draw(
        st.lists(
            st.builds(
                lambda e, a: asset_row(exchange=e, acct=a),
                st.sampled_from(["SH", "SZ"]),
                st.sampled_from([ACCOUNT, "999"]),
            ),
            max_size=3,
        )
    )
    draw(st.randoms(use_true_random=False)).shuffle(assets)
    numbers = draw(st.lists(st.integers(0, 999_999), unique=True, max_size=12))
    positions, expected = [], {}
    for number in numbers:
        symbol = f"{number:06d}.{draw(st.sampled_from(['SH', 'SZ']))}"
        qty = draw(st.integers(0, 10**7))
        closeable = draw(st.integers(0, qty))
        cost, last = draw(PRICES), draw(PRICES)
        value = last * qty
        positions.append(
            position_row(
                symbol,
                str(qty),
                enabledQty=str(closeable),
                costPrice=str(cost),
                lastPrice=str(last),
                mktValue=str(value),
            )
        )
        if draw(st.booleans()):  # another account's line for the same symbol
            positions.append(position_row(symbol, "77", acct="999"))
        if qty:
            code = symbol[:6] + (".XSHG" if symbol.endswith("SH") else ".XSHE")
            expected[code] = {
                "code": code,
                "total_amount": qty,
                "closeable_amount": closeable,
                "avg_cost": cost,
                "last_price": last,
                "position_value": value,
            }
    cash = {"total_value": total, "available_cash": enabled, "locked_cash": locked}
    return assets, positions, {"cash": cash, "positions": expected}


def result_of(balance: BalanceReport) -> dict[str, Any]:
    return {"cash": cash_of(balance), "positions": by_code(balance)}


SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(
    data=snapshots(),
    eol=st.one_of(EOLS, st.lists(EOLS, min_size=1, max_size=4)),
    bom=st.booleans(),
    encoding=st.sampled_from(["gbk", "utf-8"]),
)
def test_random_snapshots_round_trip(
    tmp_path_factory: Any, data: Any, eol: Any, bom: bool, encoding: str
) -> None:
    assets, positions, expected = data
    env = Env(tmp_path_factory.mktemp("s"), encoding=encoding)
    env.write(assets, positions, eol=eol, bom=bom)
    balance = env.sync()
    assert result_of(balance) == expected
    if any(row["acct"] == ACCOUNT for row in positions):
        assert balance.as_of == pendulum.datetime(2024, 6, 3, 10, tz=MARKET_TZ)
    else:  # no line of ours in positionInfo: its file time (the older one here: 2024 < now)
        mtime = pendulum.from_timestamp(os.stat(env.files.position_info).st_mtime, tz=MARKET_TZ)
        assert balance.as_of == min(mtime, pendulum.datetime(2024, 6, 3, 10, tz=MARKET_TZ))


# Corruptions a reader can tell from a valid file. Changing a digit, deleting a digit or a whole
# line, or editing the acct field (the line then belongs to another account) gives another valid
# file: no reader can tell those, so they are not generated here.
GARBAGE = st.sampled_from(["x", "#", "?", "-", ".", " ", ",", '"', "\r", "\n", ",,", "\ufffd"])


@st.composite
def corruptions(draw: Any) -> Any:
    kind = draw(
        st.sampled_from(["truncate", "insert", "delete_separator", "blank_field", "drop_column"])
    )
    return kind, draw(st.integers(0, 10**6)), draw(GARBAGE)


def corrupt(text: str, header: list[str], how: Any) -> str:
    kind, n, garbage = how
    lines = text.split("\n")
    if not text or kind == "truncate":
        return text[: n % (len(text) + 1)]
    if kind == "delete_separator":
        seps = [i for i, ch in enumerate(text) if ch in ",\n"]
        if not seps:
            return text
        i = seps[n % len(seps)]
        return text[:i] + text[i + 1 :]
    if kind == "drop_column":
        required = [
            i
            for i, name in enumerate(header)
            if name
            not in (
                "updTime",
                "mktValue",
                "acctType",
                "currency",
                "frozenBalance",
                "symbolName",
                "frozenQty",
            )
        ]
        column = required[n % len(required)]
        fields = lines[0].split(",")
        if column >= len(fields):
            return text
        fields[column] = fields[column] + "X"
        return "\n".join([",".join(fields), *lines[1:]])
    # a field of a data line (not acct, not updTime: those change whose line it is, or only as_of)
    data = [k for k in range(1, len(lines)) if lines[k].strip(",")]
    if not data:
        return text
    k = data[n % len(data)]
    fields = lines[k].split(",")
    usable = [
        i for i, name in enumerate(header) if name not in ("acct", "updTime") and i < len(fields)
    ]
    if not usable:
        return text
    i = usable[(n // 7) % len(usable)]
    if kind == "blank_field":
        if header[i] in (
            "exchange",
            "symbolName",
            "acctType",
            "currency",
            "frozenBalance",
            "frozenQty",
            "mktValue",
        ):
            return text  # blank is a valid value there
        fields[i] = ""
    else:
        where = (n // 49) % (len(fields[i]) + 1)
        if garbage == "-" and where:
            where = 0  # a minus sign anywhere else is garbage; at the front it makes a negative
        fields[i] = fields[i][:where] + garbage + fields[i][where:]
    lines[k] = ",".join(fields)
    return "\n".join(lines)


@SETTINGS
@given(
    data=snapshots(),
    target=st.sampled_from(["asset", "position"]),
    hows=st.lists(corruptions(), min_size=1, max_size=3),
    encoding=st.sampled_from(["gbk", "utf-8"]),
)
def test_random_corruptions_never_give_wrong_numbers(
    tmp_path_factory: Any, data: Any, target: str, hows: Any, encoding: str
) -> None:
    assets, positions, expected = data
    env = Env(tmp_path_factory.mktemp("c"), encoding=encoding)
    env.write(assets, positions)
    header = ASSET_INFO_HEADER if target == "asset" else POSITION_INFO_HEADER
    path = env.files.asset_info if target == "asset" else env.files.position_info
    text = path.read_bytes().decode(encoding)
    for how in hows:
        text = corrupt(text, header, how)
    assume(text != path.read_bytes().decode(encoding))
    path.write_bytes(text.encode(encoding, "replace"))
    try:
        balance = env.sync()
    except SnapshotUnusableError:
        return
    assert result_of(balance) == expected
