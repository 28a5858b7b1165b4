"""Chinese output on a GBK console, pipe or file (Chinese Windows), emulated on Linux.

Every command is run as a real process with stdout and stderr encoded as GBK (with Python's
default ``strict`` errors, as on a Windows pipe): through ``PYTHONIOENCODING``, and through a
real ``zh_CN.GBK`` locale when this machine can build one. The bytes must decode as GBK and hold
the expected Chinese; characters GBK lacks (emoji) must come out as escapes, never as a crash.
"""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

from jqtrade.logs import open_log_file
from jqtrade.streams import tolerant

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
IDLE = ROOT / "tests" / "tasks" / "strategies" / "idle.py"

EMOJI_STRATEGY = """
from jqtrade import Context, LimitOrderStyle, Strategy


class Emoji(Strategy):
    def process_initialize(self, context: Context) -> None:
        self.set_options(use_account=True)
        self.run_daily(self.buy, "09:31")

    def buy(self, context: Context) -> None:
        print("策略打印：买入 \\U0001f4c8 平安银行")
        self.log.info("策略日志：买入 \\U0001f680 浦发银行")
        self.order("600000.XSHG", 100, LimitOrderStyle(0))
"""


# --- the streams themselves ------------------------------------------------------------------


def test_a_gbk_stream_writes_what_gbk_lacks_as_escapes() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="gbk")  # errors="strict", as Python gives a pipe
    assert tolerant(stream) is stream
    stream.write("买入 🚀 完成\n")
    stream.flush()
    assert raw.getvalue().decode("gbk") == "买入 \\U0001f680 完成\n"


def test_a_chosen_error_handler_and_other_streams_are_left_alone() -> None:
    chosen = io.TextIOWrapper(io.BytesIO(), encoding="gbk", errors="replace")
    assert tolerant(chosen).errors == "replace"
    other = io.StringIO()
    assert tolerant(other) is other
    assert tolerant(None) is None


def test_log_files_are_utf8_with_one_bom(tmp_path: Path) -> None:
    path = tmp_path / "任务.log"
    for text in ("第一行 🚀\n", "第二行 \udcff\n"):  # an undecodable file-name byte must not crash
        with open_log_file(path) as stream:
            stream.write(text)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert data.decode("utf-8-sig") == "第一行 🚀\n第二行 \\udcff\n"


# --- whole commands on GBK streams -----------------------------------------------------------


def _gbk_locale(tmp_path_factory: pytest.TempPathFactory) -> Optional[dict[str, str]]:
    """Environment for a real zh_CN.GBK locale (built with localedef), or None if impossible."""
    if shutil.which("localedef") is None:
        return None
    where = tmp_path_factory.mktemp("locales")
    proc = subprocess.run(
        ["localedef", "-i", "zh_CN", "-f", "GBK", str(where / "zh_CN.GBK")],
        capture_output=True,
        timeout=120,
    )
    if not (where / "zh_CN.GBK").exists():
        return None
    env = {"LOCPATH": str(where), "LC_ALL": "zh_CN.GBK", "LANG": "zh_CN.GBK"}
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.stdout.encoding, sys.stdout.errors)"],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    del proc
    return env if probe.stdout.split() == ["gbk", "strict"] else None


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("PYTHONIOENCODING", "PYTHONUTF8", "LC_ALL", "LC_CTYPE", "LANG", "JQTRADE_DEBUG"):
        env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["TZ"] = "America/New_York"
    return env


@pytest.fixture(
    scope="module",
    params=["PYTHONIOENCODING=gbk", "PYTHONIOENCODING=gbk:strict", "zh_CN.GBK locale"],
)
def gbk_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    if request.param == "zh_CN.GBK locale":
        extra = _gbk_locale(tmp_path_factory)
        if extra is None:
            pytest.skip("this machine cannot build a zh_CN.GBK locale (localedef, GBK charmap)")
    else:
        extra = {"PYTHONIOENCODING": request.param.split("=", 1)[1]}
    return {**_base_env(), **extra}


def _in_gbk_locale(env: dict[str, str]) -> bool:
    return env.get("LC_ALL") == "zh_CN.GBK"


def task_name(env: dict[str, str]) -> str:
    """A task name with an emoji; in a GBK locale one GBK can encode (a GBK shell could not
    pass an emoji; on Windows arguments are Unicode whatever the code page)."""
    return "均线策略" if _in_gbk_locale(env) else "均线🚀"


def shown(name: str) -> str:
    """How a name appears in a GBK stream: what GBK lacks as an escape."""
    return name.encode("gbk", "backslashreplace").decode("gbk")


def command_line(env: dict[str, str], *args: object) -> list:  # type: ignore[type-arg]
    """``python -m jqtrade args``, the arguments encoded as the child's locale decodes them."""
    words = [sys.executable, "-m", "jqtrade", *map(str, args)]
    return [w.encode("gbk") for w in words] if _in_gbk_locale(env) else words


def run(
    env: dict[str, str], cwd: Path, *args: object, to_file: bool = False, timeout: float = 120
) -> tuple[int, str, str]:
    """Run ``jqtrade args``; stdout and stderr to pipes (or files), decoded as strict GBK."""
    command = command_line(env, *args)
    if to_file:
        out, err = cwd / "stdout.txt", cwd / "stderr.txt"
        with open(out, "wb") as o, open(err, "wb") as e:
            code = subprocess.run(
                command,
                cwd=cwd,
                env=env,
                stdout=o,
                stderr=e,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            ).returncode
        raw_out, raw_err = out.read_bytes(), err.read_bytes()
    else:
        proc = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        code, raw_out, raw_err = proc.returncode, proc.stdout, proc.stderr
    return code, raw_out.decode("gbk"), raw_err.decode("gbk")  # strict: mojibake would raise here


def _no_crash(*texts: str) -> None:
    for text in texts:
        assert "UnicodeEncodeError" not in text and "Traceback" not in text, text[-2000:]


@pytest.mark.parametrize("to_file", [False, True], ids=["pipe", "file"])
def test_demo_prints_a_readable_summary(
    gbk_env: dict[str, str], tmp_path: Path, to_file: bool
) -> None:
    code, out, err = run(
        gbk_env, tmp_path, "demo", "--runtime-dir", tmp_path / "rt", to_file=to_file
    )
    assert code == 0, err[-2000:]
    _no_crash(out, err)
    assert "运行汇总" in out and "已成交" in out and "期末总资产" in out
    assert "+---" in out or "|" in out  # rich's ASCII table lines on a non-UTF-8 stream
    assert "任务 demo 已启动" in err
    # with a runtime folder of the user's, every order is also in a file there (UTF-8, BOM)
    (listed,) = (tmp_path / "rt" / "sim").glob("demo-*/orders.csv")
    assert "orders.csv" in out.replace("\n", "")
    text = listed.read_text(encoding="utf-8-sig")
    assert text.startswith("日期,订单号,代码,方向") and text.count("\n") == 4  # header, 3 orders


@pytest.mark.parametrize("to_file", [False, True], ids=["pipe", "file"])
def test_a_strategy_printing_emoji_runs_and_its_output_degrades(
    gbk_env: dict[str, str], tmp_path: Path, to_file: bool
) -> None:
    code_file = tmp_path / "emoji.py"
    code_file.write_text(EMOJI_STRATEGY, encoding="utf-8")
    name = task_name(gbk_env)
    code, out, err = run(
        gbk_env,
        tmp_path,
        "start_task",
        "-n",
        name,
        "-c",
        code_file,
        "--simulate",
        "2024-06-03",
        "--broker",
        "sim",
        "--runtime-dir",
        tmp_path / "rt",
        to_file=to_file,
    )
    assert code == 0, err[-2000:]
    _no_crash(out, err)
    assert "策略打印：买入 \\U0001f4c8 平安银行" in out
    assert "策略日志：买入 \\U0001f680 浦发银行" in err
    assert f"任务 {shown(name)} 已启动" in err and "运行汇总" in out and "已成交" in out


def test_get_tasks_and_stop_task_show_a_running_task(
    gbk_env: dict[str, str], tmp_path: Path
) -> None:
    runtime = tmp_path / "rt"
    name = task_name(gbk_env) + "任务"
    log = tmp_path / "task-stderr.txt"
    with open(log, "wb") as stderr:
        task = subprocess.Popen(
            command_line(gbk_env, "start_task", "-n", name, "-c", IDLE, "--runtime-dir", runtime),
            cwd=tmp_path,
            env=gbk_env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            code, out, err = run(gbk_env, tmp_path, "get_tasks", "--runtime-dir", runtime)
            # listed as soon as it registers ("启动中"); running once its loop starts
            if ("名称" in out and "运行中" in out) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert code == 0, err
        _no_crash(out, err)
        assert "名称" in out and "运行中" in out and shown(name).replace("\\", "?")[:2] in out
        code, out, err = run(gbk_env, tmp_path, "get_tasks", "--json", "--runtime-dir", runtime)
        assert code == 0 and '"name"' in out
        code, out, err = run(gbk_env, tmp_path, "stop_task", "-n", name, "--runtime-dir", runtime)
        assert code == 0, err
        _no_crash(out, err)
        assert "已正常停止" in out or "停止" in out
        assert "任务" in out
        assert task.wait(30) == 0
    finally:
        if task.poll() is None:
            task.kill()
            task.wait(30)
    _no_crash(log.read_bytes().decode("gbk"))


def test_get_tasks_with_nothing_running(gbk_env: dict[str, str], tmp_path: Path) -> None:
    code, out, err = run(gbk_env, tmp_path, "get_tasks", "--runtime-dir", tmp_path / "rt")
    assert (code, out.strip(), err) == (0, "当前没有运行中的任务", "")


def test_a_terminal_gets_logs_on_stderr_and_tables_on_stdout(tmp_path: Path) -> None:
    """On a console both streams are terminals: logs go to stderr (rich's default would be
    stdout), so ``> out.txt`` keeps only what the strategy printed and the summary."""
    code_file = tmp_path / "emoji.py"
    code_file.write_text(EMOJI_STRATEGY, encoding="utf-8")
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "jqtrade",
                "start_task",
                "-n",
                "t",
                "-c",
                str(code_file),
                "--simulate",
                "2024-06-03",
                "--broker",
                "sim",
                "--runtime-dir",
                str(tmp_path / "rt"),
            ],
            cwd=tmp_path,
            env={**_base_env(), "PYTHONIOENCODING": "gbk", "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=secondary,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if secondary >= 0:
            os.close(secondary)
        os.close(primary)
    terminal = b"".join(chunks).decode("gbk")
    out = proc.stdout.decode("gbk")
    assert proc.returncode == 0, terminal[-2000:]
    _no_crash(out, terminal)
    assert "策略日志" in terminal and "策略日志" not in out
    assert "策略打印" in out and "运行汇总" in out
