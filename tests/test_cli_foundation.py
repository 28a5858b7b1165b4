"""The foundation's command line, run as real subprocesses (``python -m jqtrade``)."""

from __future__ import annotations

import datetime
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pendulum
import pytest
from support import WaitTimeout, cli_env, file_contains, wait_for

import jqtrade
from jqtrade.calendar import TradingCalendar
from jqtrade.clock import MARKET_TZ, LiveClock

pytestmark = pytest.mark.slow

STRATEGIES = Path(__file__).parent / "strategies"
NEW_YORK = "America/New_York"

# "2024-09-27 09:30:00.000 INFO    strategy: JOB open <current_dt> <strategy_dt> [...]"
JOB_LINE = re.compile(
    r"^(?P<logged>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) +INFO +strategy: JOB (?P<name>\S+) (?P<current>\S+) (?P<slot>\S+)"
)

# 2024-09-27 (Fri), 09-28/29 weekend, 09-30 (Mon), 10-01..07 National Day, 10-08, 10-09.
SIM_RANGE = "2024-09-27..2024-10-09"
SIM_DAYS = ["2024-09-27", "2024-09-30", "2024-10-08", "2024-10-09"]


def run_cli(
    *args: object, cwd: Path, tz: str = NEW_YORK, timeout: float = 60, **extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jqtrade", *map(str, args)],
        cwd=cwd,
        env=cli_env(TZ=tz, **extra),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def start_task(
    tmp_path: Path, code: Path, *extra: object, tz: str = NEW_YORK, name: str = "t1", **env: str
) -> subprocess.CompletedProcess:
    return run_cli(
        "start_task",
        "-n",
        name,
        "-c",
        code,
        "--runtime-dir",
        tmp_path / "runtime",
        *extra,
        cwd=tmp_path,
        tz=tz,
        **env,
    )


def jobs_in(text: str) -> list[tuple[str, str]]:
    """(job name, scheduled instant 'YYYY-MM-DD HH:MM:SS') for every JOB line, checking its times."""
    found = []
    for line in text.splitlines():
        match = JOB_LINE.match(line)
        if match is None:
            continue
        # A function-style script sees naive Beijing times (as in jqtrade 1.0), a class aware ones.
        slot = pendulum.parse(match["slot"], tz=MARKET_TZ)
        current = pendulum.parse(match["current"], tz=MARKET_TZ)
        assert slot.utcoffset().total_seconds() == 8 * 3600, line  # market time, not the machine's
        assert current == slot, line  # a simulated clock is never late
        assert match["logged"] == slot.in_tz(MARKET_TZ).format("YYYY-MM-DD HH:mm:ss.SSS"), line
        found.append((match["name"], slot.in_tz(MARKET_TZ).format("YYYY-MM-DD HH:mm:ss")))
    return found


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


# --- version and help ----------------------------------------------------------------------


def test_version(tmp_path):
    proc = run_cli("-V", cwd=tmp_path)
    assert proc.returncode == 0
    assert jqtrade.__version__ in proc.stdout


def test_help_is_in_chinese(tmp_path):
    proc = run_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert "start_task" in proc.stdout and "用法" in proc.stdout and "显示帮助" in proc.stdout


def test_start_task_help_is_in_chinese(tmp_path):
    proc = run_cli("start_task", "-h", cwd=tmp_path)
    assert proc.returncode == 0
    for text in ("任务名称", "策略代码文件", "--simulate", "--config", "日志文件"):
        assert text in proc.stdout


def test_start_task_usage_prefix_appears_once(tmp_path):
    proc = run_cli("start_task", "-h", cwd=tmp_path)
    assert proc.stdout.count("用法：") == 1


def test_missing_required_arguments_exit_2_in_chinese(tmp_path):
    proc = run_cli("start_task", "-n", "x", cwd=tmp_path)
    assert proc.returncode == 2
    assert "缺少必需的参数" in proc.stderr


# --- simulated runs ------------------------------------------------------------------------

CLASS_JOBS = [
    ("before_open", "09:00:00"),
    ("open", "09:30:00"),
    ("mid", "10:15:30"),
    ("late", "14:57:00"),
    ("close", "15:00:00"),
    ("after_close", "15:30:00"),
]
LEGACY_JOBS = [("open", "09:30:00"), ("before_lunch", "11:29:59"), ("evening", "16:00:00")]


@pytest.mark.parametrize("tz", [NEW_YORK, "Asia/Shanghai"])
def test_simulate_class_strategy_over_a_weekend_and_a_holiday(tmp_path, tz):
    proc = start_task(tmp_path, STRATEGIES / "sim_class.py", "--simulate", SIM_RANGE, tz=tz)
    assert proc.returncode == 0, proc.stderr
    expected = [(name, f"{day} {time}") for day in SIM_DAYS for name, time in CLASS_JOBS]
    assert jobs_in(proc.stderr) == expected
    assert proc.stderr.count("STOP HOOK 2024-10-09T23:59:59+08:00") == 1
    assert proc.stdout.splitlines() == [f"PRINTED from job_open {day}" for day in SIM_DAYS]
    assert "Traceback" not in proc.stderr


def test_simulate_legacy_script_over_a_weekend_and_a_holiday(tmp_path):
    proc = start_task(tmp_path, STRATEGIES / "sim_legacy.py", "--simulate", SIM_RANGE)
    assert proc.returncode == 0, proc.stderr
    expected = [(name, f"{day} {time}") for day in SIM_DAYS for name, time in LEGACY_JOBS]
    assert jobs_in(proc.stderr) == expected
    # The script's `g` kept counting across jobs and days, and the stop hook saw the total.
    assert "runs=12" in proc.stderr and "STOP HOOK runs=12" in proc.stderr


def test_simulate_a_single_closed_day_fires_nothing(tmp_path):
    proc = start_task(tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-10-01")
    assert proc.returncode == 0, proc.stderr
    assert jobs_in(proc.stderr) == []
    assert "STOP HOOK" in proc.stderr
    assert "2024-10-01 不是交易日（休市），没有运行任何定时任务" in proc.stderr


def test_bad_simulate_value(tmp_path):
    proc = start_task(tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-10-09..2024-10-01")
    assert proc.returncode == 2
    assert (
        len(error_lines(proc)) == 1
        and "--simulate" in proc.stderr
        and "2024-10-09..2024-10-01" in proc.stderr
    )


def test_output_file_gets_logs_and_print(tmp_path):
    out = tmp_path / "logs" / "任务.log"
    proc = start_task(tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-06-03", "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert jobs_in(text) == [(name, f"2024-06-03 {time}") for name, time in CLASS_JOBS]
    assert "PRINTED from job_open 2024-06-03" in text
    assert "STOP HOOK" in text and "已启动" in text
    assert "JOB" not in proc.stderr and "PRINTED" not in proc.stdout


def test_env_option_sets_variables_and_pythonpath(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "jqt_env_probe_mod.py").write_text("VALUE = 'from-pkg'\n", encoding="utf-8")
    proc = start_task(
        tmp_path,
        STRATEGIES / "env_probe.py",
        "--simulate",
        "2024-06-03",
        "-e",
        f"PYTHONPATH={pkg};FOO=bar",
    )
    assert proc.returncode == 0, proc.stderr
    assert "ENV FOO=bar MOD=from-pkg" in proc.stderr


def test_env_option_with_a_relative_pythonpath(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "jqt_env_probe_mod.py").write_text("VALUE = 'relative'\n", encoding="utf-8")
    proc = start_task(
        tmp_path,
        STRATEGIES / "env_probe.py",
        "--simulate",
        "2024-06-03",
        "-e",
        "PYTHONPATH=./pkg; FOO=baz ",
    )
    assert proc.returncode == 0, proc.stderr
    assert "ENV FOO=baz MOD=relative" in proc.stderr


def test_bad_env_option(tmp_path):
    proc = start_task(
        tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-06-03", "-e", "FOO"
    )
    assert proc.returncode == 2
    assert len(error_lines(proc)) == 1 and "'FOO'" in proc.stderr and "KEY=VALUE" in proc.stderr


def test_config_file_options_apply(tmp_path):
    config = tmp_path / "jqtrade.toml"
    config.write_text(
        '# 配置文件\n[options]\nmarket_period = [["10:00:00", "11:30:00"], ["13:00:00", "14:30:00"]]\n',
        encoding="utf-8",
    )
    proc = start_task(
        tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-06-03", "--config", config
    )
    assert proc.returncode == 0, proc.stderr
    times = dict(jobs_in(proc.stderr))
    assert times["before_open"] == "2024-06-03 09:30:00"
    assert times["open"] == "2024-06-03 10:00:00"
    assert times["close"] == "2024-06-03 14:30:00"
    assert times["after_close"] == "2024-06-03 15:00:00"


def test_bad_toml_is_one_chinese_line(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[options\nmarket_period = 1\n", encoding="utf-8")
    proc = start_task(
        tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-06-03", "--config", config
    )
    assert proc.returncode == 2
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("错误：") and "TOML" in lines[0] and str(config) in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_toml_with_debug_shows_the_traceback(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[options\n", encoding="utf-8")
    proc = start_task(
        tmp_path,
        STRATEGIES / "sim_class.py",
        "--simulate",
        "2024-06-03",
        "--config",
        config,
        "--debug",
    )
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "ConfigFileError" in proc.stderr


def test_unknown_option_in_config_suggests_the_key(tmp_path):
    config = tmp_path / "typo.toml"
    config.write_text('[options]\nacount_no = "123"\n', encoding="utf-8")
    proc = start_task(
        tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-06-03", "--config", config
    )
    assert proc.returncode == 2
    assert (
        len(error_lines(proc)) == 1
        and "'account_no'" in proc.stderr
        and "Traceback" not in proc.stderr
    )


# --- jqtrade 1.0 config files and habits ----------------------------------------------------

LEGACY_CONFIG = """# -*- coding: utf-8 -*-
import datetime
import datetime as dt
from datetime import time
import os

SCHEDULER_MARKET_PERIOD = [
    (datetime.time(9, 30), dt.time(hour=11, minute=30)),
    (time(13, 0), "14:30:00"),
]
SCHEDULER_SETUP_ACCOUNT = False
SCHEDULER_ENABLE_HISTORY_START = False
SCHEDULER_RUNTIME_DIR = os.path.expanduser("~/jq")
ACCOUNT_SYNC_INTERNAL = 2
ACCOUNT_SYNC_PERIOD = []
ACCOUNT_TRADE_GATE = "my_gates.broker.MyGate"
ACCOUNT_COLOR = "red"
HELPER = 1
open("EXECUTED", "w").write("the config file was run")
"""


def test_a_jqtrade_1_python_config_is_read_without_running_it(tmp_path, monkeypatch):
    from jqtrade.tasks.config import read_config

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "jqtrade_etc.py"
    config.write_text(LEGACY_CONFIG, encoding="utf-8")
    values = read_config(config)
    assert not (tmp_path / "EXECUTED").exists()
    assert values.options == {
        "market_period": [
            (datetime.time(9, 30), datetime.time(11, 30)),
            (datetime.time(13, 0), "14:30:00"),
        ],
        "use_account": False,
        "sync_interval": 2,
        "sync_period": None,  # 1.0's [] meant "sync all the time"
        "trade_gate": "my_gates.broker:MyGate",  # 1.0's module.Class
    }
    text = "\n".join(values.warnings)
    for name in (
        "SCHEDULER_ENABLE_HISTORY_START",
        "SCHEDULER_RUNTIME_DIR",
        "ACCOUNT_COLOR",
        "HELPER",
        "第 19 行",
    ):
        assert name in text, text


def test_jqtrade_1_config_names_of_its_own_gate_map_to_onequant(tmp_path):
    from jqtrade.tasks.config import read_config

    config = tmp_path / "etc.py"
    config.write_text(
        'ACCOUNT_TRADE_GATE = "jqtrade.account.trade_gate.AnXinDMATradeGate"\n', encoding="utf-8"
    )
    assert read_config(config).options == {"trade_gate": "onequant"}


def test_a_bad_value_in_a_jqtrade_1_config_names_the_line_and_key(tmp_path):
    from jqtrade.errors import ConfigFileError
    from jqtrade.tasks.config import read_config

    config = tmp_path / "etc.py"
    config.write_text("# x\nACCOUNT_SYNC_INTERNAL = -3\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match=r"第 2 行 ACCOUNT_SYNC_INTERNAL.*sync_interval"):
        read_config(config)
    config.write_text("SCHEDULER_MARKET_PERIOD = [(\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match="语法错误"):
        read_config(config)


def test_a_jqtrade_1_config_file_with_start_task(tmp_path):
    config = tmp_path / "jqtrade_etc.py"
    config.write_text(LEGACY_CONFIG, encoding="utf-8")
    proc = start_task(
        tmp_path, STRATEGIES / "sim_class.py", "--simulate", "2024-06-03", "--config", config
    )
    assert proc.returncode == 0, proc.stderr
    assert dict(jobs_in(proc.stderr))["close"] == "2024-06-03 14:30:00"
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line]
    assert any("ACCOUNT_COLOR" in line for line in warnings), proc.stderr
    assert not (tmp_path / "EXECUTED").exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[options]\naccount_no = "1"\norder_dir = "C:\\Ax\\国投OneQuant\\csvTemplate"\n',
            ["单引号", "order_dir", "第 3 行"],
        ),
        # valid TOML, but "\t" and "\n" became a tab and a newline
        ('[options]\norder_dir = "C:\\temp\\new"\n', ["单引号", "order_dir"]),
        ("SCHEDULER_MARKET_PERIOD = []\n", [".py"]),  # valid TOML: a table name
        ("import datetime\nACCOUNT_SYNC_INTERNAL = 3\n", [".py"]),
    ],
)
def test_toml_mistakes_of_1_0_users_say_how_to_fix_them(tmp_path, text, words):
    from jqtrade.errors import ConfigFileError
    from jqtrade.tasks.config import read_config

    config = tmp_path / "jqtrade.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as info:
        read_config(config)
    message = str(info.value)
    assert "\n" not in message  # one line on the console
    for word in words:
        assert word in message, message


def test_user_log_debug_is_hidden_unless_debug(tmp_path):
    script = tmp_path / "levels.py"
    script.write_text(
        "def process_initialize(context):\n"
        "    run_daily(job, '10:00')\n"
        "\n"
        "def job(context):\n"
        "    log.debug('USER DEBUG LINE')\n"
        "    log.info('USER INFO LINE')\n",
        encoding="utf-8",
    )
    quiet = start_task(tmp_path, script, "--simulate", "2024-06-03")
    assert quiet.returncode == 0, quiet.stderr
    assert "USER INFO LINE" in quiet.stderr and "USER DEBUG LINE" not in quiet.stderr + quiet.stdout
    loud = start_task(tmp_path, script, "--simulate", "2024-06-03", "--debug", name="t2")
    assert loud.returncode == 0, loud.stderr
    assert "USER DEBUG LINE" in loud.stderr


def test_bad_strategy_file_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("def process_initialize(context)\n    pass\n", encoding="utf-8")
    proc = start_task(tmp_path, bad, "--simulate", "2024-06-03")
    assert proc.returncode == 2
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("错误：") and f"{bad}:1" in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_strategy_file_with_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import jqt_no_such_module_abc\n", encoding="utf-8")
    proc = start_task(tmp_path, bad, "--simulate", "2024-06-03", "--debug")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "jqt_no_such_module_abc" in proc.stderr


def test_missing_strategy_file(tmp_path):
    proc = start_task(tmp_path, tmp_path / "nope.py", "--simulate", "2024-06-03")
    assert proc.returncode == 2
    assert (
        len(error_lines(proc)) == 1 and "nope.py" in proc.stderr and "Traceback" not in proc.stderr
    )


def test_bad_time_expression_names_it_without_traceback(tmp_path):
    proc = start_task(tmp_path, STRATEGIES / "bad_expression.py", "--simulate", "2024-06-03")
    assert proc.returncode == 2
    assert proc.stderr.startswith("错误：") and "'opne'" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- absurd input --------------------------------------------------------------------------


@pytest.mark.parametrize("cash", ["nan", "inf", "-inf", "-1", "0", "abc", "1e400"])
def test_absurd_sim_cash_is_one_line(tmp_path, cash):
    proc = start_task(
        tmp_path,
        STRATEGIES / "sim_class.py",
        "--simulate",
        "2024-06-03",
        "--broker",
        "sim",
        f"--sim-cash={cash}",
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "--sim-cash" in lines[0] and repr(cash) in lines[0] and "大于 0" in lines[0], lines[0]
    assert not (tmp_path / "runtime" / "tasks").exists() or not list(
        (tmp_path / "runtime" / "tasks").iterdir()
    )


def _unusable_runtime_dirs(tmp_path: Path) -> list[Path]:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    dirs = [blocker / "runtime"]
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        dirs.append(locked / "runtime")
        dirs.append(locked)
    return dirs


@pytest.mark.parametrize("command", ["start_task", "demo"])
def test_an_unusable_runtime_dir_is_one_line(tmp_path, command):
    for bad in _unusable_runtime_dirs(tmp_path):
        if command == "demo":
            proc = run_cli("demo", "--runtime-dir", bad, cwd=tmp_path)
        else:
            proc = run_cli(
                "start_task",
                "-n",
                "x",
                "-c",
                STRATEGIES / "sim_class.py",
                "--simulate",
                "2024-06-03",
                "--runtime-dir",
                bad,
                cwd=tmp_path,
            )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        lines = error_lines(proc)
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "运行时目录" in lines[0] and str(bad) in lines[0], lines[0]


# --- the live clock ------------------------------------------------------------------------

LIVE_CASES = [
    ("class_term", "live_class.py", "SIGTERM"),
    ("legacy_term", "live_legacy.py", "SIGTERM"),
    ("class_int", "live_class.py", "SIGINT"),
    ("legacy_int", "live_legacy.py", "SIGINT"),
]


def _logged_in_time(log: Path, text: str, timeout: float) -> bool:
    """Whether ``text`` shows in ``log`` within ``timeout`` s; the test reports a miss with the log."""
    try:
        return wait_for(lambda: file_contains(log, text), f"{text!r} in {log.name}", timeout)
    except WaitTimeout:
        return False


@pytest.fixture(scope="module")
def live_runs(tmp_path_factory):
    """Start all live tasks at once (so the suite waits only once), stop each with its signal."""
    if sys.platform == "win32":
        pytest.skip("sends POSIX signals")
    folder = tmp_path_factory.mktemp("live")
    now = LiveClock().now()
    first = now.add(seconds=5).start_of("second")  # room for four interpreters to start
    second = first.add(seconds=1)
    fires = second.date() == now.date() and TradingCalendar.builtin().is_trading_day(now.date())
    env = {"JQT_T1": first.format("HH:mm:ss"), "JQT_T2": second.format("HH:mm:ss")}
    procs = {}
    for key, file, _ in LIVE_CASES:
        log = folder / f"{key}.log"
        procs[key] = (
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jqtrade",
                    "start_task",
                    "-n",
                    key,
                    "-c",
                    str(STRATEGIES / file),
                    "-o",
                    str(log),
                    "--runtime-dir",
                    str(folder / key),
                ],
                cwd=folder,
                env=cli_env(TZ=NEW_YORK, **env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            ),
            log,
        )
    results = {}
    try:
        for key, _, signame in LIVE_CASES:
            proc, log = procs[key]
            if fires:
                reached = _logged_in_time(log, "JOB second", second.timestamp() - time.time() + 10)
            else:
                reached = _logged_in_time(log, "已启动", 15)
                time.sleep(0.5)  # the signal handlers are installed right after that line
            proc.send_signal(getattr(signal, signame))
            out, err = proc.communicate(timeout=20)
            results[key] = {
                "reached": reached,
                "rc": proc.returncode,
                "stderr": err.decode("utf-8", "replace"),
                "log": log.read_text(encoding="utf-8") if log.exists() else "",
            }
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return {"fires": fires, "first": first, "second": second, "results": results}


@pytest.mark.parametrize(("key", "file", "signame"), LIVE_CASES, ids=[c[0] for c in LIVE_CASES])
def test_live_task_stops_gracefully_on_signal(live_runs, key, file, signame):
    result = live_runs["results"][key]
    assert result["reached"], result["log"] + result["stderr"]
    assert result["rc"] == 0, result["log"] + result["stderr"]
    log = result["log"]
    assert log.count("STOP HOOK") == 1
    assert f"原因：{signame}" in log
    assert log.index("STOP HOOK") < log.index("已停止")
    assert "Traceback" not in log + result["stderr"]


@pytest.mark.parametrize(("key", "file", "signame"), LIVE_CASES, ids=[c[0] for c in LIVE_CASES])
def test_live_jobs_fire_at_their_market_time(live_runs, key, file, signame):
    if not live_runs["fires"]:
        pytest.skip(
            "today (Asia/Shanghai) is not a trading day, or the jobs would fall after midnight"
        )
    log = live_runs["results"][key]["log"]
    fired = []
    for line in log.splitlines():
        match = JOB_LINE.match(line)
        if match:
            # naive in a function-style script (Beijing time, as in jqtrade 1.0), aware in a class
            slot, current = (
                pendulum.parse(match["slot"], tz=MARKET_TZ),
                pendulum.parse(match["current"], tz=MARKET_TZ),
            )
            assert slot.utcoffset().total_seconds() == 8 * 3600
            assert current >= slot
            assert (current - slot).total_seconds() < 5
            fired.append((match["name"], slot))
    assert fired == [("first", live_runs["first"]), ("second", live_runs["second"])]
    if file == "live_legacy.py":
        assert "STOP HOOK count=2" in log
