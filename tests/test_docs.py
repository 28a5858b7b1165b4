"""The documentation site: generated pages are current, the site builds, every sample runs.

Python code blocks in ``docs/`` are executed so that they cannot rot:

* a block that defines a ``Strategy`` subclass or a function-style script is saved to a file
  and run as a real task: ``jqtrade start_task --simulate 2024-06-03 --broker sim`` (a block
  that plugs in a custom gate from the same page runs without ``--broker sim``);
* a ``title="test_*.py"`` block is run with pytest (the contract-suite example);
* any other block is ``exec``'d in a fresh namespace.

Blocks with ``title="name.py"`` are also saved under that name in the page's folder, so later
blocks of the page can import them. A block preceded by ``<!-- no-run -->`` is skipped.
Every ``jqtrade ...`` line of a ``bash`` block must be accepted by the CLI parser.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import attrs
import pytest

from jqtrade import Strategy
from jqtrade.account.checks import REASONS
from jqtrade.account.order import TRANSITIONS
from jqtrade.context import Context
from jqtrade.errors import OptionValueError
from jqtrade.options import Options

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
NO_RUN = "<!-- no-run -->"
SIMULATE_DAY = "2024-06-03"

#: Defaults for sample runs: a raising callback fails the run, and slower syncs keep each
#: simulated day under a second (samples may still override these with set_options).
RUN_CONFIG = """\
[options]
on_callback_error = "stop"
order_sync_interval = 300
sync_interval = 300
"""

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_TITLE = re.compile(r'title="([^"]+)"')
_STRATEGY = re.compile(r"^class \w+\((?:jqtrade\.)?Strategy\)", re.MULTILINE)
_LEGACY = re.compile(r"^def process_initialize\(", re.MULTILINE)
_CUSTOM_GATE = re.compile(r"""trade_gate\s*=\s*["']([\w.]+):\w+["']""")


@attrs.frozen
class Block:
    page: Path
    line: int
    lang: str
    title: Optional[str]
    code: str
    no_run: bool

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(DOCS).as_posix()}:{self.line}"

    @property
    def kind(self) -> str:
        if self.title and Path(self.title).name.startswith("test_"):
            return "pytest"
        if _STRATEGY.search(self.code) or _LEGACY.search(self.code):
            return "strategy"
        return "exec"


def parse_blocks(page: Path) -> list[Block]:
    """Fenced code blocks of one page, with their info string and the line they start on."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, fence, info = (
            match.group("indent"),
            match.group("fence"),
            match.group("info").strip(),
        )
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = lines[index].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(
                lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index]
            )
            index += 1
        index += 1
        previous = next(
            (lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), ""
        )
        title = _TITLE.search(info)
        blocks.append(
            Block(
                page=page,
                line=start + 1,
                lang=info.split()[0].lower() if info else "",
                title=title.group(1) if title else None,
                code="\n".join(body) + "\n",
                no_run=previous == NO_RUN,
            )
        )
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in parse_blocks(page)]
PYTHON_BLOCKS = [b for b in ALL_BLOCKS if b.lang in ("python", "py")]


def _param(block: Block) -> Any:
    return pytest.param(block, id=block.id)


def _page_dir(root: Path, page: Path) -> Path:
    """The page's work folder, holding every ``title="..."`` block of the page."""
    folder = root / page.relative_to(DOCS).with_suffix("").as_posix().replace("/", "_")
    if not folder.exists():
        folder.mkdir(parents=True)
        for block in PYTHON_BLOCKS:
            if block.page == page and block.title:
                (folder / block.title).write_text(block.code, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def docs_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("docs")


# --- generated pages -------------------------------------------------------------------------


def _load_tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_options_page_is_generated_from_the_options_class() -> None:
    tool = _load_tool("gen_options_doc")
    page = DOCS / "reference" / "options.md"
    assert page.read_text(encoding="utf-8") == tool.render(), (
        "docs/reference/options.md 与 jqtrade.options.Options 不一致：请运行 python tools/gen_options_doc.py"
    )


def test_options_page_lists_every_option_and_alias() -> None:
    from jqtrade.options import ALIASES, OPTION_NAMES

    text = (DOCS / "reference" / "options.md").read_text(encoding="utf-8")
    for name in (*OPTION_NAMES, *ALIASES):
        assert f"| `{name}` |" in text, name


# --- the site builds -------------------------------------------------------------------------


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip('mkdocs 或 mkdocs-material 没有安装（pip install -e ".[test]" 会安装）')
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()


# --- python samples --------------------------------------------------------------------------


def _strategy_command(block: Block, folder: Path, work: Path) -> list[str]:
    script = folder / (block.title or f"sample_line{block.line}.py")
    script.write_text(block.code, encoding="utf-8")
    config = work / "config.toml"
    config.write_text(RUN_CONFIG, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "jqtrade",
        "start_task",
        "-n",
        "docs",
        "-c",
        str(script),
        "--simulate",
        SIMULATE_DAY,
        "--runtime-dir",
        str(work / "runtime"),
        "--config",
        str(config),
    ]
    gate = _CUSTOM_GATE.search(block.code)
    if gate is None or not (folder / f"{gate.group(1)}.py").exists():
        command += ["--broker", "sim", "--sim-dir", str(work / "broker")]
    return command


def _run_strategy(block: Block, root: Path) -> tuple[list[str], int, str]:
    folder = _page_dir(root, block.page)
    work = root / "runs" / block.id.replace("/", "_").replace(":", "_")
    work.mkdir(parents=True)
    command = _strategy_command(block, folder, work)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        command,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=180,
    )
    return command, result.returncode, result.stdout + result.stderr


STRATEGY_BLOCKS = [b for b in PYTHON_BLOCKS if b.kind == "strategy" and not b.no_run]


@pytest.fixture(scope="session")
def strategy_runs(docs_workdir: Path) -> dict[str, tuple[list[str], int, str]]:
    """Run every strategy sample once, several at a time (each is its own process)."""
    for page in {b.page for b in STRATEGY_BLOCKS}:
        _page_dir(docs_workdir, page)  # create page folders before the threads start
    workers = min(8, (os.cpu_count() or 2) + 2)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {b.id: pool.submit(_run_strategy, b, docs_workdir) for b in STRATEGY_BLOCKS}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("block", [_param(b) for b in STRATEGY_BLOCKS])
def test_strategy_sample_runs(
    block: Block, strategy_runs: dict[str, tuple[list[str], int, str]]
) -> None:
    command, status, output = strategy_runs[block.id]
    shown = " ".join(shlex.quote(part) for part in command)
    assert status == 0, f"{block.id} 的示例运行失败（状态 {status}）：{shown}\n{output}"
    # jqtrade logs a raising callback (with its traceback) as "... 运行出错"; on_strategy_end
    # errors are only logged, so the exit status alone would not catch them.
    assert "运行出错" not in output, f"{block.id} 的示例运行时回调出错：{shown}\n{output}"


@contextlib.contextmanager
def _importable(folder: Path) -> Iterator[None]:
    """Let a sample import the page's saved files; forget those modules afterwards."""
    names = {p.stem for p in folder.glob("*.py")}
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in names:
            sys.modules.pop(name, None)


@pytest.mark.parametrize(
    "block", [_param(b) for b in PYTHON_BLOCKS if b.kind == "exec" and not b.no_run]
)
def test_exec_sample_runs(block: Block, docs_workdir: Path) -> None:
    folder = _page_dir(docs_workdir, block.page)
    code = compile(block.code, f"{block.id}", "exec")
    with _importable(folder):
        exec(code, {"__name__": "docs_sample"})


@pytest.mark.parametrize(
    "block", [_param(b) for b in PYTHON_BLOCKS if b.kind == "pytest" and not b.no_run]
)
def test_pytest_sample_passes(block: Block, docs_workdir: Path) -> None:
    folder = _page_dir(docs_workdir, block.page)
    assert block.title is not None
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", block.title],
        cwd=folder,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_samples_are_found_and_few_are_skipped() -> None:
    assert len(STRATEGY_BLOCKS) >= 20
    skipped = [b.id for b in PYTHON_BLOCKS if b.no_run]
    assert len(skipped) <= 3, f"标记为 no-run 的示例太多：{skipped}"
    assert all(b.lang != "python" or b.code.strip() for b in ALL_BLOCKS)


# --- other samples ---------------------------------------------------------------------------


def _jqtrade_lines() -> list[Any]:
    params = []
    for block in ALL_BLOCKS:
        if block.lang not in ("bash", "sh", "shell", "console"):
            continue
        for offset, line in enumerate(block.code.splitlines(), start=1):
            if line.strip().startswith("jqtrade "):
                params.append(pytest.param(line.strip(), id=f"{block.id}+{offset}"))
    return params


def _parse_quietly(parser: Any, args: list[str]) -> Optional[str]:
    """None if argparse accepts ``args``; else what it printed."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            parser.parse_args(args)
    except SystemExit as exc:
        if exc.code not in (0, None):  # -h exits 0 after printing help
            return out.getvalue()
    return None


@pytest.mark.parametrize("line", _jqtrade_lines())
def test_cli_sample_is_accepted_by_the_parser(line: str) -> None:
    from jqtrade.cli import build_parser, build_sim_parser

    args = shlex.split(line, comments=True)[1:]
    if args[:1] == ["sim"]:
        # `jqtrade sim` hands everything after it to the simulator's own parser.
        problem = _parse_quietly(build_sim_parser(), args[1:])
    else:
        problem = _parse_quietly(build_parser(), args)
    assert problem is None, f"命令行参数不被接受：{line}\n{problem}"


def test_top_level_cli_forwards_sim_options(capsys: pytest.CaptureFixture[str]) -> None:
    from jqtrade.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "-h"])
    assert exit_info.value.code == 0
    assert "--account" in capsys.readouterr().out


@pytest.mark.parametrize("block", [_param(b) for b in ALL_BLOCKS if b.lang == "toml"])
def test_toml_sample_is_valid_config(block: Block) -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9/3.10
        import tomli as tomllib
    data = tomllib.loads(block.code)
    Options().evolve(data.get("options", {}))


# --- the custom-gate page: a typed user gate with its own config ------------------------------


CUSTOM_GATE_PAGE = DOCS / "custom-gate.md"


def _custom_gate_blocks() -> dict[str, Block]:
    return {b.title: b for b in PYTHON_BLOCKS if b.page == CUSTOM_GATE_PAGE and b.title}


def test_custom_gate_page_shows_a_typed_gate_with_its_config_checked_by_the_contract_suite() -> (
    None
):
    blocks = _custom_gate_blocks()
    gate_code, test_code = blocks["my_gate.py"].code, blocks["test_my_gate.py"].code
    assert "config_class = " in gate_code and "def configure(self, config" in gate_code
    assert (
        "-> list[OrderReport]" in gate_code
        and "-> BalanceReport" in gate_code
        and "def has_order" in gate_code
    )
    assert "(GateContract)" in test_code  # run by test_pytest_sample_passes
    users = [
        b
        for b in STRATEGY_BLOCKS
        if b.page == CUSTOM_GATE_PAGE
        and (m := _CUSTOM_GATE.search(b.code))
        and m.group(1) == "my_gate"
    ]
    assert users, (
        "custom-gate.md 应有一个用 trade_gate 选用 my_gate 的策略示例（由 test_strategy_sample_runs 运行）"
    )


def test_custom_gate_sample_keys_are_set_options_keys_and_it_trades(
    docs_workdir: Path, tmp_path: Path
) -> None:
    import pendulum

    from jqtrade import LimitOrderStyle, OrderAction, OrderRequest, OrderStatus, UnknownOptionError
    from jqtrade.clock import MARKET_TZ, SimClock
    from jqtrade.gates import build_gate
    from jqtrade.gates.base import GateEnv

    folder = _page_dir(docs_workdir, CUSTOM_GATE_PAGE)
    with _importable(folder):
        options = Options().evolve(
            {"use_account": True, "trade_gate": "my_gate:PaperGate", "paper_cash": 50_000}
        )
        assert options.gate_config.paper_cash == 50_000
        with pytest.raises(UnknownOptionError) as info:
            options.evolve({"paper_csah": 1})
        assert info.value.suggestion == "paper_cash"
        with pytest.raises(OptionValueError) as bad:
            options.evolve({"paper_cash": -1})
        assert bad.value.key == "paper_cash"
        clock = SimClock(pendulum.datetime(2024, 6, 3, 10, tz=MARKET_TZ))
        gate = build_gate(
            options.trade_gate, options.as_dict(), GateEnv(clock=clock, runtime_dir=tmp_path)
        )
        try:
            assert gate.sync_balance().available_cash == 50_000
            gate.order(
                OrderRequest(
                    order_id="2406030001",
                    code="600000.XSHG",
                    action=OrderAction.open,
                    amount=100,
                    style=LimitOrderStyle(10.0),
                )
            )
            assert [r.status for r in gate.sync_orders()] == [OrderStatus.open]
            gate.cancel_order("2406030001")
            [report] = gate.sync_orders()
            assert report.status is OrderStatus.canceled and report.canceled_amount == 100
            assert gate.has_order("2406030001") is True
        finally:
            gate.close()


# --- pages agree with the code ---------------------------------------------------------------


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _public(cls: type) -> list[str]:
    return sorted(name for name in vars(cls) if not name.startswith("_"))


def test_strategy_page_has_a_section_for_every_public_member() -> None:
    text = _read("strategy.md")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    for name in _public(Strategy):
        assert any(f"`{name}" in h for h in headings), f"strategy.md 没有 Strategy.{name} 的小节"
    for name in _public(Context):
        assert f"| `{name}` |" in text, f"strategy.md 的 context 表中没有 {name}"


def test_account_page_lists_every_reason_code_and_which_can_be_disabled() -> None:
    text = _read("account.md").split("## 下单前检查", 1)[1].split("\n## ", 1)[0]
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| `(\w+)` \| [^\n]*?\| *(是)? *\|$", text, re.MULTILINE)
    }
    for reason in REASONS:
        assert reason in rows, f"account.md 的检查表中没有 {reason}"
        try:
            Options().evolve({"disabled_checks": [reason]})
            can_disable = True
        except OptionValueError:
            can_disable = False
        shown = rows[reason] == "是"
        assert shown == can_disable, (
            f"account.md 中 {reason} 的“可关闭”应为 {'是' if can_disable else '空'}"
        )


def test_account_page_state_table_matches_the_state_machine() -> None:
    text = _read("account.md")
    section = text.split("### 状态转换表", 1)[1].split("\n## ", 1)[0]
    seen = 0
    for status, targets in TRANSITIONS.items():
        row = re.search(rf"^\| `{status.value}` \| (.*) \|$", section, re.MULTILINE)
        assert row is not None, f"状态转换表中没有 {status.value}"
        documented = set(re.findall(r"`(\w+)`", row.group(1)))
        assert documented == {t.value for t in targets}, status.value
        seen += 1
    assert seen == 8


def _option_strings(parser: Any) -> Iterator[tuple[str, str]]:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                for _, option in _option_strings(sub):
                    yield name, option
        for option in action.option_strings:
            yield "", option


def test_cli_page_documents_every_command_and_option() -> None:
    from jqtrade.cli import build_parser, build_sim_parser

    cli = _read("cli.md")
    for command, option in _option_strings(build_parser()):
        if command:
            assert f"## {command}" in cli, f"cli.md 没有 {command} 命令的小节"
        assert f"`{option}" in cli, f"cli.md 没有选项 {command} {option}"
    sim = _read("sim.md")
    for _, option in _option_strings(build_sim_parser()):
        if option not in ("-h", "--help"):
            assert f"`{option}" in sim, f"sim.md 没有 jqtrade sim 的选项 {option}"
