"""jqtrade 1.0 scripts run unchanged (issue 10): each script under ``scripts/`` is written the way a
1.0 user (or a JoinQuant user) writes it, and is run with the CLI as that user would:
``python -m jqtrade start_task -n NAME -c SCRIPT --simulate 2024-06-03 --broker sim``.

The scripts print ``CHECK <key> <repr(value)>`` lines; the tests assert those outcomes (orders
placed and cancelled, positions read, values printed), not only the exit status. Processes are
started with the helpers of ``tests/tasks/test_cli_tasks.py`` (``Bench``: ``cli_env``, a
temporary ``--runtime-dir``, output captured). The test session runs with TZ=America/New_York
(tests/conftest.py), which the subprocesses inherit: Beijing times must not depend on it.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tasks.test_cli_tasks import Bench, error_lines

from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ, LiveClock

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
GATES = HERE / "gates"
CONFIGS = HERE / "configs"
DAY = "2024-06-03"  # a Monday, a trading day
SATURDAY = "2024-06-01"

CHECK = re.compile(r"^CHECK (\S+) (.*)$")


class Run:
    """The result of one ``start_task`` run: exit status, output, and the CHECK values."""

    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.proc = proc
        self.out = proc.stdout + proc.stderr
        self.checks: dict[str, Any] = {}
        for line in proc.stdout.splitlines() + proc.stderr.splitlines():
            match = CHECK.match(line.strip())
            if match:
                key, raw = match.groups()
                self.checks.setdefault(key, parse_value(raw))

    def __getitem__(self, key: str) -> Any:
        assert key in self.checks, f"the script did not print CHECK {key}:\n{self.out}"
        return self.checks[key]

    def ok(self) -> Run:
        assert self.proc.returncode == 0, (
            f"exit {self.proc.returncode}; first error: {first_error(self.out)}\n{self.out}"
        )
        assert "Traceback" not in self.out, self.out
        assert "运行出错" not in self.out, self.out  # a user callback raised
        return self

    def warnings(self) -> list[str]:
        return [
            line
            for line in self.out.splitlines()
            if " WARNING " in line or line.startswith("WARNING")
        ]


def parse_value(raw: str) -> Any:
    """The scripts print ``json.dumps(value)`` (or ``repr`` of a plain literal)."""
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def first_error(text: str) -> str:
    for line in text.splitlines():
        if any(word in line for word in ("Error", "错误", "ERROR", "失败")):
            return line.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_script(
    bench: Bench, name: str, *extra: object, day: str = DAY, broker: bool = True, **env: str
) -> Run:
    args: list[object] = ["start_task", "-n", name, "-c", SCRIPTS / f"{name}.py", "--simulate", day]
    if broker:
        args += ["--broker", "sim", "--sim-dir", bench.root / f"sim_{name}"]
    return Run(bench.cmd(*args, *extra, timeout=120, **env))


def ids_ok(values: list[Any]) -> bool:
    return all(isinstance(v, str) and v for v in values)


# --- item 1: the account inside process_initialize -----------------------------------------


def test_account_is_ready_in_process_initialize(bench: Bench):
    run = run_script(bench, "account_in_init").ok()
    assert run["init_total_value"] == pytest.approx(
        1_000_000.0
    )  # synced inside set_options, as in 1.0
    assert run["init_available_cash"] == pytest.approx(1_000_000.0)
    assert run["init_long_positions"] == 0 and run["init_empty_closeable"] == 0
    assert run["init_orders"] == 0
    assert run["init_synced_total_value"] == pytest.approx(1_000_000.0)
    order_id = run["init_order_id"]
    assert isinstance(order_id, str) and order_id
    assert run["open_order_known"] is True
    assert run["open_order_status"] == "open"
    assert run["open_cancel_sent"] == order_id
    assert run["final_order_status"] == "canceled"


# --- item 2: unknown set_options keys --------------------------------------------------------


def test_unknown_set_options_keys_warn_and_run(bench: Bench):
    run = run_script(bench, "unknown_options").ok()
    assert run["set_options_returned"] is True
    assert isinstance(run["order_id"], str)
    assert run["order_count"] == 1 and run["order_status"] == "open"
    warned = "\n".join(run.warnings())
    for key in ("coding", "debug", "my_broker_host", "file_encodeing"):
        assert key in warned, f"no warning names {key!r}:\n{run.out}"
    typo = [line for line in run.warnings() if "file_encodeing" in line]
    assert any("file_encoding" in line.replace("file_encodeing", "") for line in typo), (
        typo
    )  # the suggestion


# --- item 3: looping over get_orders() ------------------------------------------------------


def test_both_get_orders_loops_cancel_everything(bench: Bench):
    run = run_script(bench, "orders_loop").ok()
    assert ids_ok(run["first_ids"]) and ids_ok(run["second_ids"]) and ids_ok(run["third_ids"])
    assert run["cancel_by_keys_done"] is True
    assert run["first_statuses"] == ["canceled", "canceled"], (
        "for oid in get_orders(): cancel_order(oid)"
    )
    assert run["second_statuses"] == ["canceled", "canceled"], (
        "for o in get_orders(): cancel_order(o.order_id)"
    )
    assert "找不到订单" not in run.out
    assert run["items_pair_matches"] is True and run["keys_are_ids"] is True
    assert run["len_orders"] == 6 and run["id_in_orders"] is True
    assert run["missing_raises_keyerror"] is True
    assert run["filter_by_id"] == [run["third_ids"][0]]
    assert run["third_statuses"] == ["canceled", "canceled"], (
        "cancel_order(order object) / get_orders()[order object]"
    )
    assert run["open_left"] == []


# --- item 4: naive Beijing datetimes ---------------------------------------------------------


def test_times_are_naive_beijing_datetimes(bench: Bench):
    run = run_script(bench, "naive_datetimes").ok()
    assert run["init_type"] == "datetime" and run["init_tzinfo"] == "None"
    assert run["now_type"] == "datetime" and run["now_is_plain_datetime"] is True
    assert run["now_tzinfo"] == "None"
    assert run["now_hhmm"] == "2024-06-03 10:00"  # Beijing time although TZ=America/New_York
    assert run["strategy_dt"] == "2024-06-03 10:00:00"
    assert run["strategy_dt_tzinfo"] == "None" and run["strategy_dt_equals"] is True
    assert run["after_open"] is True and run["since_open_minutes"] == 30
    assert run["create_time_tzinfo"] == "None" and run["create_time_hhmm"] == "10:00"
    assert run["create_time_compares"] is True
    assert run["status_later"] == "open"
    assert run["entrust_time_tzinfo"] == "None"
    assert run["entrust_minus_create_ok"] is True and run["entrust_before_now"] is True
    assert run["order_age_minutes"] == 5


# --- item 5: names 1.0 injected or documented, and 1.0 imports -------------------------------


def test_names_jqtrade_1_injected_or_documented(bench: Bench):
    run = run_script(bench, "injected_names").ok()
    assert run["global_context_works"] is True
    assert run["order_status_open"] == "open" and run["order_status_compares"] is True
    assert run["order_side_long"] == "long"
    assert run["market_prices"] == [0, 0, 0] and run["market_value"] == "market"
    assert run["limit_price_value"] == [10, "limit"]
    assert ids_ok(run["order_ids"])  # side=None means long
    assert run["market_order_price"] == 0  # 1.0: a market order's order_price is 0, not None
    assert run["market_order_side"] == "long"
    assert run["pos_amount"] == 100 and run["pos_total_amount"] == 100
    assert run["pos_hold_cost_positive"] is True and run["pos_avg_cost_positive"] is True
    assert run["pos_security"] == "000001.XSHE"
    assert run["position_value_positive"] is True and run["position_value_sum_ok"] is True
    assert run["filled_status"] == "filled"
    assert run["order_price_attr"] == 0  # LimitOrderStyle(0)
    # order.price: JoinQuant's meaning (the 1.0 README names it as JoinQuant's average fill price)
    assert run["order_price_is_avg_fill"] is True
    assert run["order_avg_cost_equals_avg_price"] is True and run["avg_price_positive"] is True
    assert run["open_status_constant"] is True


def test_imports_of_jqtrade_1_scripts_and_gates(bench: Bench):
    run = run_script(bench, "imports_1x", broker=False).ok()
    assert run["imports_ok"] is True and run["same_gate_base"] is True
    assert run["status_filled"] == "filled" and run["side_short"] == "short"
    assert run["market_style_price"] == 0 and run["limit_style_value"] == "limit"
    assert run["open_job_ran"] == "2024-06-03 09:30:00"


# --- item 6: a jqtrade 1.0 custom gate -------------------------------------------------------


def test_a_jqtrade_1_custom_gate_works_through_an_adapter(bench: Bench):
    run = run_script(bench, "custom_gate", "-e", f"PYTHONPATH={GATES}", broker=False).ok()
    assert run["gate_setup_account_no"] == "8888"
    assert run["total_value"] == pytest.approx(511000.0)  # from 1.0's "total_asset"
    assert run["available_cash"] == pytest.approx(500000.0)
    assert run["pos"] == [1000, 800, 10.5, 11.0]  # from 1.0's "amount" / "available_amount"
    order_id = run["order_id"]
    assert isinstance(order_id, str)
    assert run["gate_order"][0] == order_id and run["gate_order"][1:] == ["600000.XSHG", 100, 9.9]
    assert run["status_after_sync"] == "open"
    assert run["gate_cancel"] == order_id
    assert run["final_status"] == "canceled" and run["final_canceled_amount"] == 100


def test_unknown_set_options_keys_reach_a_jqtrade_1_gate(bench: Bench):
    run = run_script(
        bench, "custom_gate_extra_option", "-e", f"PYTHONPATH={GATES}", broker=False
    ).ok()
    assert run["gate_setup_broker_host"] == "127.0.0.1"  # as 1.0 did: options.get("my_broker_host")
    assert run["job_ran"] is True
    assert any("my_broker_host" in line for line in run.warnings()), run.out


def test_a_gate_with_keys_we_do_not_understand_gets_a_clear_error(bench: Bench):
    run = run_script(
        bench,
        "custom_gate",
        "-e",
        f"PYTHONPATH={GATES}",
        broker=False,
        LEGACY_GATE="legacy_gate:TotalAssertGate",
    )
    named = [
        line
        for line in run.out.splitlines()
        if "total_assert" in line and not line.startswith("CHECK")
    ]
    assert named, f"no message names the key 'total_assert':\n{run.out}"
    assert any(level in line for line in named for level in ("ERROR", "WARNING", "错误")), named
    # never a silent zero portfolio
    assert run.checks.get("total_value") not in (0, 0.0), run.out


# --- item 7: 1.0 option types, counter types, set_options twice ------------------------------


def test_loose_option_values_are_coerced(bench: Bench):
    run = run_script(bench, "loose_options").ok()
    assert run["first_set_options"] is True and run["second_set_options"] is True
    assert isinstance(run["order_id"], str)
    assert run["order_known"] is True
    assert run["order_status"] == "new"  # sync_order=0 (bool(0) is False in 1.0): never synced
    assert any("UMC" in line for line in run.warnings()), (
        f"no warning about counter_type UMC:\n{run.out}"
    )


# --- item 8: a jqtrade 1.0 Python config file ------------------------------------------------


def test_a_jqtrade_1_python_config_file_is_read_without_running_it(bench: Bench):
    run = run_script(bench, "config_probe", "--config", CONFIGS / "jqtrade_1x_config.py").ok()
    assert "THIS CONFIG WAS EXECUTED" not in run.out
    assert run["ten_job_ran"] == "2024-06-03 10:00:00"
    assert run["close_job_at"] == "2024-06-03 14:57:00"  # SCHEDULER_MARKET_PERIOD was mapped
    assert any("EVENT_DAYS_COUNT" in line for line in run.warnings()), (
        f"no warning about SCHEDULER_EVENT_DAYS_COUNT:\n{run.out}"
    )


def test_a_toml_windows_path_in_double_quotes_says_use_single_quotes(bench: Bench):
    run = run_script(bench, "config_probe", "--config", CONFIGS / "windows_path.toml")
    assert run.proc.returncode == 2, run.out
    lines = error_lines(run.proc)
    assert len(lines) == 1 and "Traceback" not in run.out, run.out
    assert "单引号" in lines[0] and "order_dir" in lines[0], lines[0]


# --- item 11: JoinQuant habits ---------------------------------------------------------------


def test_a_joinquant_initialize_script_is_run_or_hinted(bench: Bench):
    run = run_script(bench, "jq_initialize_only", broker=False)
    assert "process_initialize" in run.out, run.out  # the hint, or the documented behaviour
    assert run.proc.returncode == 0, f"first error: {first_error(run.out)}\n{run.out}"
    assert run["initialize_ran"] is True
    assert run["market_open_ran"] == 1


def test_joinquant_habits_in_a_legacy_script(bench: Bench):
    run = run_script(bench, "jq_habits").ok()
    assert run["market_open_ran"] == "2024-06-03 09:30:00"
    reference = [line for line in run.warnings() if "reference_security" in line]
    assert len(reference) == 1, run.warnings()  # one warning, not a traceback
    assert any("every_minute" in line for line in run.out.splitlines() if "every_bar" in line), (
        run.out
    )
    assert run["first_bar"] == "2024-06-03 09:30:00"
    assert run["bars_by_1030"] == 61
    assert ids_ok(run["order_ids"])
    assert run["by_value"][:2] == ["600000.XSHG", 600]  # 10000 // 16.5, whole lots
    assert run["by_target"][:2] == ["000002.XSHE", 200]
    assert run["by_target_value"][:2] == ["601318.XSHG", 2300]  # 20000 // 8.6, whole lots


# --- item 12: orders outside trading hours ---------------------------------------------------


def test_orders_outside_trading_hours_are_sent_with_one_warning_each(bench: Bench):
    run = run_script(bench, "outside_hours").ok()
    for key in ("before_auction_id", "in_session_id", "lunch_id", "after_close_id"):
        assert isinstance(run[key], str) and run[key], (
            f"{key}\n{run.out}"
        )  # sent, the broker decides
    warnings = [line for line in run.warnings() if not line.startswith("CHECK")]
    for code in ("600000.XSHG", "000001.XSHE", "000002.XSHE"):
        about = [line for line in warnings if code in line]
        assert len(about) == 1, f"{code}: expected one warning, got {about}\n{run.out}"
    assert not [line for line in warnings if "601318.XSHG" in line], warnings


def test_an_order_on_a_closed_day_is_sent_with_a_warning(bench: Bench):
    run = run_script(bench, "closed_day_order", day=SATURDAY).ok()
    assert isinstance(run["saturday_order_id"], str), run.out
    assert [line for line in run.warnings() if "000002.XSHE" in line], run.out


# --- live clock against the simulator --------------------------------------------------------


def test_a_legacy_script_on_the_live_clock_in_beijing_time(bench: Bench):
    now = LiveClock().now().in_tz(MARKET_TZ)
    if (
        not TradingCalendar.builtin().is_trading_day(now.date())
        or now.add(seconds=60).date() != now.date()
    ):
        pytest.skip(
            "today (Asia/Shanghai) is not a trading day, or the jobs would fall after midnight"
        )
    task = bench.start(
        "live_cancel", SCRIPTS / "live_cancel.py", "--broker", "sim", TZ="Asia/Shanghai"
    )
    task.wait_log("CHECK report_done", timeout=60)
    stop = bench.cmd("stop_task", "-n", "live_cancel")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert task.wait_exit() == 0, task.log_text()
    checks = {
        m.group(1): parse_value(m.group(2))
        for m in map(CHECK.match, task.log_text().splitlines())
        if m
    }
    assert checks["init_now_naive"] is True and checks["init_now_close_to_wall"] is True
    assert ids_ok(checks["placed"])
    assert checks["statuses"] == ["canceled", "canceled"], task.log_text()
    assert "找不到订单" not in task.log_text()
