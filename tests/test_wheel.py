"""The built wheel, installed into a fresh virtual environment, works without the source tree.

The wheel is built from a copy of the repository (so no build/ or *.egg-info is left in the
work tree). The run-time dependencies (attrs, pendulum, portalocker, rich) are not downloaded:
a ``.pth`` file appends the test interpreter's site-packages to the fresh venv's path (a plain
path entry, so the work tree's editable install is not activated there); jqtrade itself is
installed into the venv from the wheel and the test checks that the venv's copy is imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import jqtrade

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# Everything a wheel build does not need, plus anything a build or a CI venv leaves behind.
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".notes",
    "tests",
    "bench",
)


def _run(
    args: list[str], *, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _build_wheel(source: Path, dist: Path) -> Path:
    """pip builds in an isolated environment (setuptools from the index); offline, reuse ours."""
    attempts = [
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dist), "-q"],
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            "-q",
        ],
    ]
    logs = []
    for args in attempts:
        proc = _run(args, cwd=source.parent, timeout=180)
        wheels = sorted(dist.glob("jqtrade-*.whl"))
        if proc.returncode == 0 and wheels:
            return wheels[0]
        logs.append(f"$ {' '.join(args)}\n{proc.stdout}\n{proc.stderr}")
    pytest.fail("could not build the wheel:\n" + "\n".join(logs))


def _venv_bin(venv: Path, name: str) -> Path:
    folder = venv / ("Scripts" if sys.platform == "win32" else "bin")
    return folder / (f"{name}.exe" if sys.platform == "win32" else name)


def test_wheel_installs_and_runs_a_new_strategy(tmp_path: Path):
    source = tmp_path / "src" / "jqtrade"
    shutil.copytree(ROOT, source, ignore=_NOT_COPIED)
    wheel = _build_wheel(source, tmp_path / "dist")

    names = set(zipfile.ZipFile(wheel).namelist())
    assert "jqtrade/py.typed" in names
    for template in ("__init__.py", "class_strategy.py", "legacy_strategy.py", "demo_strategy.py"):
        assert f"jqtrade/templates/{template}" in names
    assert not any(n.startswith(("tests/", "templates/", "bench/")) for n in names)

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = _venv_bin(venv, "python")
    venv_site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=tmp_path,
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(venv_site.stdout.strip()) / "_jqtrade_test_deps.pth").write_text(
        "\n".join(sorted(ours)) + "\n", encoding="utf-8"
    )
    installed = _run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # A clean environment: nothing points back at the work tree.
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["PYTHONIOENCODING"] = "utf-8"
    work = tmp_path / "work"
    work.mkdir()
    where = _run(
        [str(python), "-c", "import jqtrade; print(jqtrade.__file__); print(jqtrade.__version__)"],
        cwd=work,
        env=env,
    )
    module_file, version = where.stdout.split()
    assert Path(module_file).resolve().is_relative_to(venv.resolve()), module_file
    assert version == jqtrade.__version__

    jq = str(_venv_bin(venv, "jqtrade"))
    new = _run([jq, "new", "strategy", "demo"], cwd=work, env=env)
    assert new.returncode == 0, new.stdout + new.stderr
    assert (work / "demo.py").is_file()

    run = _run(
        [
            jq,
            "start_task",
            "-n",
            "demo",
            "-c",
            "demo.py",
            "--simulate",
            "2024-06-03",
            "--broker",
            "sim",
            "--sim-dir",
            str(tmp_path / "sim"),
            "--runtime-dir",
            str(tmp_path / "runtime"),
        ],
        cwd=work,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "运行汇总" in run.stdout and "总资产" in run.stdout, run.stdout
    assert "600000.XSHG" in run.stdout and "已成交" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
