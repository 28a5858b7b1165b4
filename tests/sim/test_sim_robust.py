"""The simulated OneQuant never wedges: whatever lands in its order file, it answers and goes on."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_files import ACCOUNT, Broker  # the helper of the simulator's own tests

from jqtrade.cli import sim_main
from jqtrade.gates.onequant.files import AppendedFileReader, encode_rows
from jqtrade.gates.onequant.protocol import ALGO_ORDER_HEADER, ALGO_ORDER_STOP_HEADER
from jqtrade.sim import SimulatedOneQuant

BACKSTOP = "内部错误"  # in the reason only when a check before the arithmetic was missing


def line(
    order_id: str, symbol: str, side: str, qty: str, price: str, /, **fields: str
) -> list[str]:
    row = dict(
        zip(
            ALGO_ORDER_HEADER,
            [
                "100000.000000",
                order_id,
                "UM0",
                ACCOUNT,
                symbol,
                side,
                qty,
                "DMA",
                "AT",
                "0",
                price,
                price,
            ],
        )
    )
    row.update(fields)
    return [row[name] for name in ALGO_ORDER_HEADER]


def append(broker: Broker, *rows: list[str], cancels: bool = False) -> None:
    """Append like the gate would; characters the file's encoding lacks become "?"."""
    path, header = (
        (broker.files.algo_order_stop, ALGO_ORDER_STOP_HEADER)
        if cancels
        else (broker.files.algo_order, ALGO_ORDER_HEADER)
    )
    text = encode_rows(list(rows), "utf-8").decode("utf-8")
    with open(path, "ab") as handle:
        if handle.tell() == 0:
            handle.write(encode_rows([header], broker.encoding))
        handle.write(text.encode(broker.encoding, "replace"))


def answers(broker: Broker, order_id: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    results = [
        r
        for r in AppendedFileReader(broker.files.exec_result, "gbk").read_rows()
        if r["custBatchNo"] == order_id
    ]
    updates = [
        r
        for r in AppendedFileReader(broker.files.order_update, "gbk").read_rows()
        if r["custBatchNo"] == order_id
    ]
    return results, updates


# --- one absurd order at a time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "price", "words"),
    [
        (str(10**30), "10.5", "委托数量"),
        (str(10**9 + 100), "10.5", "委托数量"),
        ("9" * 5000, "10.5", "委托数量"),  # longer than int() takes
        ("①", "10.5", "委托数量"),  # str.isdigit() says yes, int() says no
        ("100", "1e30", "委托价格"),
        ("100", "1e999999999", "委托价格"),
        ("100", "1000000.01", "委托价格"),
        ("100", "NaN", "委托价格"),
        ("100", "sNaN", "委托价格"),
        ("100", "-Infinity", "委托价格"),
        ("100", "1E-999999", "委托价格"),
    ],
)
def test_absurd_order_is_rejected_and_the_next_one_is_served(
    tmp_path: Path, qty: str, price: str, words: str
) -> None:
    broker = Broker(tmp_path)
    broker.poll()
    append(broker, line("absurd", "600000.SH", "1", qty, price))
    broker.poll(1)
    broker.order("good", "600000.SH", "1", 100, "10.5")
    broker.poll(1)
    broker.poll(1)
    results, _ = answers(broker, "absurd")
    assert [r["status"] for r in results] == ["1"] and words in results[0]["errorMsg"], results
    assert BACKSTOP not in results[0]["errorMsg"]
    assert [u["status"] for u in answers(broker, "good")[1]] == ["7", "0", "2"]


@pytest.mark.parametrize(
    "symbol", ["000001.SH", "900901.SH", "200002.SZ", "60000１.SH", "430047.BJ"]
)
def test_codes_the_simulator_does_not_know_are_rejected(tmp_path: Path, symbol: str) -> None:
    broker = Broker(tmp_path)
    broker.poll()
    append(broker, line("odd", symbol, "1", "100", "10.5"))
    broker.poll(1)
    results, updates = answers(broker, "odd")
    assert [r["status"] for r in results] == ["1"] and "证券代码" in results[0]["errorMsg"]
    assert updates == []


def test_unparseable_line_with_an_id_is_answered(tmp_path: Path) -> None:
    broker = Broker(tmp_path)
    broker.poll()
    with open(broker.files.algo_order, "ab") as handle:
        handle.write(b"100000.000000,short,UM0,123\n")  # too few fields
        handle.write(
            b'100000.000000,quote,UM0,123,600000.SH,1,100,DMA,AT,0,"10.5,10.5\n'
        )  # open quote
        handle.write(b"\xff\xfe\x80\n")  # no id at all: nobody to answer
    broker.order("good", "600000.SH", "1", 100, "10.5")
    broker.poll(1)
    for order_id in ("short", "quote"):
        results, updates = answers(broker, order_id)
        assert [r["status"] for r in results] == ["1"] and "无法解析" in results[0]["errorMsg"]
        assert updates == []
    assert [u["status"] for u in answers(broker, "good")[1]] == ["7", "0", "2"]


# --- random lines ---------------------------------------------------------------------------

numbers_as_text = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.floats(min_value=0, max_value=100).map(lambda x: f"{x:.2f}"),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-0",
            "NaN",
            "sNaN",
            "-Infinity",
            "Infinity",
            "1e999999999",
            "1E-999999",
            "0x10",
            "1_000",
            "١٠٠",
            "①",
            "²",
            "100.0",
            "+100",
            "0100",
            "10.5",
            "11.00",
            "9.99",
        ]
    ),
    st.text(max_size=8),
)
junk_rows = st.fixed_dictionaries(
    {
        "symbol": st.one_of(
            st.sampled_from(
                [
                    "600000.SH",
                    "688001.SH",
                    "000001.SZ",
                    "300750.SZ",
                    "510300.SH",
                    "000001.SH",
                    "900901.SH",
                    "430047.BJ",
                    "600000",
                    "",
                    "600000.XSHG",
                    "60000１.SH",
                ]
            ),
            st.text(max_size=10),
        ),
        "tradeSide": st.one_of(st.sampled_from(["1", "2", "3", "", "买"]), st.text(max_size=3)),
        "targetQty": numbers_as_text,
        "highLimitPrice": numbers_as_text,
        "priceType": st.sampled_from(["AT", "AT", "AT", "P6", "P7", "XX", ""]),
        "acct": st.sampled_from([ACCOUNT, ACCOUNT, ACCOUNT, "999", ""]),
        "algoId": st.sampled_from(["DMA", "DMA", "DMA", "TWAP"]),
    }
)
steps = st.lists(
    st.one_of(
        st.just(("good", None)),
        st.tuples(st.just("junk"), junk_rows),
        st.tuples(st.just("raw"), st.binary(max_size=40)),
        st.tuples(
            st.just("cancel"),
            st.one_of(st.integers(0, 30).map(lambda n: f"j{n}"), st.text(max_size=5)),
        ),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(steps=steps)
def test_random_lines_never_wedge_the_simulator(steps: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        broker = Broker(Path(folder), cash=10**12, positions={"600000.XSHG": 10_000})
        broker.order("g0", "600000.SH", "1", 100, "10.5")  # the file starts with its header
        broker.poll()
        goods, junk = ["g0"], []
        for n, (kind, value) in enumerate(steps):
            if kind == "good":
                goods.append(f"g{n + 1}")
                broker.order(goods[-1], "600000.SH", "1", 100, "10.5")
            elif kind == "junk":
                row = line(f"j{n}", "", "", "", "", **value)
                append(broker, row)
                if not any(c in f for f in row for c in "\n\r\x00"):  # kept whole by any reader
                    junk.append(f"j{n}")
            elif kind == "raw":
                with open(broker.files.algo_order, "ab") as handle:
                    handle.write(value.replace(b"\n", b"") + b"\n")
            else:
                append(broker, ["1", value], cancels=True)
            broker.poll(1)  # must not raise
        broker.poll(1)
        broker.poll(1)
        for order_id in goods:
            results, updates = answers(broker, order_id)
            assert [r["status"] for r in results] == ["0"], (order_id, results)
            assert updates and updates[-1]["status"] == "2", (order_id, updates)
        for order_id in junk:
            results, _ = answers(broker, order_id)
            assert [r["resultType"] for r in results if r["resultType"] == "1"] == ["1"], (
                order_id,
                results,
            )
        texts = [
            r["errorMsg"] for r in AppendedFileReader(broker.files.exec_result, "gbk").read_rows()
        ]
        texts += [
            r["text"] for r in AppendedFileReader(broker.files.order_update, "gbk").read_rows()
        ]
        assert not any(BACKSTOP in text for text in texts)
        assert broker.sim.available_cash >= 0 and math.isfinite(broker.sim.available_cash)


# --- options and the command line -----------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"cash": float("nan")},
        {"cash": float("inf")},
        {"cash": -1.0},
        {"cash": 1e30},
        {"latency": float("nan")},
        {"latency": -1.0},
        {"snapshot_interval": float("inf")},
        {"reject_rate": 2.0},
        {"volatility": float("nan")},
        {"prices": {"600000.XSHG": float("nan")}},
        {"prices": {"600000.XSHG": 1e30}},
        {"positions": {"600000.XSHG": 10**30}},
        {"positions": {"bad": 100}},
        {"positions": {"600000.XSHG": {"amount": 100, "avg_cost": float("inf")}}},
    ],
)
def test_absurd_options_are_refused_when_the_simulator_is_made(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError) as info:
        SimulatedOneQuant(tmp_path, ACCOUNT, **options)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))  # said in Chinese


@pytest.mark.parametrize(
    "extra",
    [
        ["--cash", "nan"],
        ["--cash", "inf"],
        ["--cash=-inf"],
        ["--cash", "-1"],
        ["--cash", "1e300"],
        ["--position", "foo=100"],
        ["--latency", "nan"],
        ["--poll-interval", "nan"],
        ["--poll-interval", "0"],
    ],
)
def test_cli_refuses_absurd_numbers_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the simulator started with a refused option")

    monkeypatch.setattr(SimulatedOneQuant, "run_forever", never)
    assert sim_main(["--dir", str(tmp_path), "--account", ACCOUNT, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("错误：") and "\n" not in err, err
