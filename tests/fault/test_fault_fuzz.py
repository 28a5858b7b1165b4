"""Damaged, foreign and half-written broker lines fed to the OneQuant gate between syncs.

``run_fuzz`` writes good lines (a plausible life for each order the gate placed, written in
several harmless ways) mixed with noise (see ``fault_harness.NOISE_KINDS``) into orderUpdate
and execResult, in random chunks whose last line is sometimes torn and finished by the next
write. After each chunk a second gate's ``sync_orders`` is checked line by line, and an
``Account`` on the same folder syncs too: its final orders and its ``on_order_update`` calls
must match the good lines exactly. The bench feeds 100,000 lines.

The focused tests below pin down what the fuzz found, each with a few lines.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
import pytest
from fault_harness import DROPPED_NOISE_KINDS, ENCODING, NOISE_KINDS, FuzzResult, run_fuzz
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade.account.account import Account
from jqtrade.clock import MARKET_TZ, SimClock
from jqtrade.gates import configure_gate
from jqtrade.gates.base import GateEnv
from jqtrade.gates.onequant import OneQuantTradeGate
from jqtrade.gates.onequant.files import DayFiles, encode_rows
from jqtrade.gates.onequant.parsing import RowError, parse_quantity
from jqtrade.gates.onequant.protocol import ORDER_UPDATE_HEADER
from jqtrade.model.orders import LimitOrderStyle, OrderAction, OrderRequest
from jqtrade.model.reports import OrderReport
from jqtrade.options import Options

ACCOUNT = "FUZZ0001"
T0 = pendulum.datetime(2024, 6, 3, 10, 0, tz=MARKET_TZ)


def assert_applied(result: FuzzResult) -> None:
    assert result.crashes == 0, result.crash_notes[:5]
    assert result.wrong == [], result.wrong[:5]
    assert result.missed == [], result.missed[:5]
    assert result.reflected == result.good > 0
    assert result.account_wrong == [], result.account_wrong[:5]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> FuzzResult:
    return run_fuzz(tmp_path_factory.mktemp("fuzz"), 5000, seed=1)


def test_fuzzed_lines_never_crash_the_gate_or_the_account(fuzzed):
    assert fuzzed.crashes == 0, fuzzed.crash_notes[:5]
    assert fuzzed.lines == 5000 and fuzzed.syncs > 10
    assert fuzzed.torn > 0 and fuzzed.foreign_reports > 0  # the mix really had both
    assert all(fuzzed.kinds.get(kind, 0) > 0 for kind in NOISE_KINDS)


def test_every_good_line_among_all_kinds_of_noise_is_applied_once(fuzzed):
    assert_applied(fuzzed)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lines=st.integers(20, 400), chunk_max=st.integers(1, 60))
def test_every_good_line_among_dropped_noise_is_applied_once(seed, lines, chunk_max):
    """Noise the gate drops up front, torn writes, other encodings, other programs' orders."""
    with tempfile.TemporaryDirectory() as folder:
        assert_applied(
            run_fuzz(Path(folder), lines, seed=seed, chunk_max=chunk_max, noise=DROPPED_NOISE_KINDS)
        )


# --- what the fuzz found ---------------------------------------------------------------------


def update_row(
    order_id: str,
    status: str,
    filled: int = 0,
    *,
    acct: str = ACCOUNT,
    avg: str = "",
    qty: str = "100",
) -> list[str]:
    return [
        "100000.000000",
        "20240603",
        "093000",
        "UM0",
        acct,
        "600000.SH",
        "1",
        status,
        qty,
        "10.00",
        "0",
        str(filled),
        avg or ("10.00" if filled else "0"),
        f"{10 * filled:.2f}",
        "0",
        "700001",
        "700001",
        order_id,
        "",
        "",
    ]


class Folder:
    """A gate (and an account, on demand) over a folder where the test writes the broker's lines."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.clock = SimClock(T0)
        self.options = Options().evolve(
            {
                "runtime_dir": str(directory / "runtime"),
                "account_no": ACCOUNT,
                "order_dir": str(directory),
                "file_encoding": ENCODING,
                "sync_balance": False,
            }
        )
        self.gate = configure_gate(
            OneQuantTradeGate(),
            self.options.as_dict(),
            GateEnv(clock=self.clock, runtime_dir=directory / "runtime"),
        )
        self.files = DayFiles(directory, T0.date())

    def place(self, order_id: str = "1") -> None:
        self.gate.order(
            OrderRequest(
                order_id=order_id,
                code="600000.XSHG",
                action=OrderAction.open,
                amount=100,
                style=LimitOrderStyle(10.0),
            )
        )

    def write(self, *rows: list[str]) -> None:
        path = self.files.order_update
        with open(path, "ab") as handle:
            if handle.tell() == 0:
                handle.write(encode_rows([ORDER_UPDATE_HEADER], ENCODING))
            handle.write(encode_rows(list(rows), ENCODING))

    def reports(self) -> dict[str, OrderReport]:
        return {report.order_id: report for report in self.gate.sync_orders()}


def test_a_line_of_another_fund_account_is_never_the_fallback(tmp_path):
    """The newest line of our order is unusable; the next one down belongs to another account."""
    folder = Folder(tmp_path)
    folder.place("1")
    folder.write(update_row("1", "0"), update_row("1", "5", acct="OTHER0001"), update_row("1", "9"))
    report = folder.reports()["1"]
    assert report.status.value == "open"  # not the other account's rejection


def test_the_fallback_takes_the_newest_usable_line(tmp_path):
    """An unusable final line was chosen over a newer good line: the newer good line must win."""
    folder = Folder(tmp_path)
    folder.place("1")
    folder.write(
        update_row("1", "0"), update_row("1", "2", 100, avg="NaN"), update_row("1", "1", 50)
    )
    report = folder.reports()["1"]
    assert (report.status.value, report.filled_amount) == ("filling", 50)


@pytest.mark.parametrize(
    "bad",
    [
        update_row("1", "2", 100, avg="-5.00"),  # negative average price
        update_row("1", "2", 1000),  # more filled than ordered
        update_row("1", "5", 100),  # rejected, yet filled
        update_row("1", "4", 0, qty="1e999"),  # not a share count
    ],
    ids=["negative-money", "overfilled", "rejected-with-fills", "exponent-quantity"],
)
def test_a_self_contradicting_newest_line_does_not_hide_the_good_one(tmp_path, bad):
    """The account ignores such a report, so passing it on would leave the order stuck."""
    folder = Folder(tmp_path)
    account = Account(
        gate=folder.gate,
        clock=folder.clock,
        options=folder.options,
        runtime_dir=tmp_path / "runtime",
        task_name="t",
    )
    try:
        account.start()
        order_id = account.order("600000.XSHG", 100, LimitOrderStyle(10.0))
        folder.write(
            update_row(order_id, "0"),
            update_row(order_id, "2", 100),
            [*bad[:17], order_id, *bad[18:]],
        )
        account.sync_orders()
        order = account.get_orders()[order_id]
    finally:
        account.close()
    assert (order.status.value, order.filled_amount, order.avg_price) == ("filled", 100, 10.0)


@pytest.mark.parametrize(
    "bad",
    [
        update_row("1", "2", 100, avg="-5.00"),
        update_row("1", "4", 0)[:9]
        + ["-10.00"]
        + update_row("1", "4", 0)[10:],  # negative limit price
        update_row("1", "2", 1000),
        update_row("1", "5", 100),
        update_row("1", "4", 0, qty="1e999"),
        update_row("1", "4", 0, qty=str(10**13)),
    ],
    ids=[
        "negative-money",
        "negative-price",
        "overfilled",
        "rejected-with-fills",
        "exponent-quantity",
        "huge-quantity",
    ],
)
def test_a_self_contradicting_line_in_a_big_batch_falls_back_too(tmp_path, bad):
    """The same lines among enough others that the batch would be parsed column by column."""
    folder = Folder(tmp_path)
    folder.place("1")
    others = [update_row(f"X{i}", "0") for i in range(100)]
    folder.write(*others[:50], update_row("1", "0"), update_row("1", "2", 100), *others[50:], bad)
    reports = folder.reports()
    assert (reports["1"].status.value, reports["1"].filled_amount) == ("filled", 100)
    assert len(reports) == 101


@pytest.mark.parametrize(
    "text", ["1e3", "1E+2", "0x10", "100.5", "-100", "1" * 5000, str(10**13), "1.0e2"]
)
def test_parse_quantity_takes_only_plain_share_counts(text):
    with pytest.raises(RowError):
        parse_quantity(text)


def test_parse_quantity_takes_plain_counts():
    assert [parse_quantity(t) for t in ("", " ", "100", " 100 ", "100.0", "100.", "0")] == [
        0,
        0,
        100,
        100,
        100,
        100,
        0,
    ]
