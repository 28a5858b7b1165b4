"""jqtrade.fileio: the atomic replace that outlasts a held file, and the one file-name sanitizer."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from held_files import FakeTime, hold_replace
from hypothesis import given, settings
from hypothesis import strategies as st

from jqtrade import fileio
from jqtrade.errors import JqTradeError
from jqtrade.fileio import (
    RETRY_SECONDS,
    WINDOWS_RESERVED,
    FileBusyError,
    Patience,
    read_retrying,
    replace_file,
    safe_file_name,
    write_atomic,
)

# --- held files ------------------------------------------------------------------------------


def test_a_briefly_held_target_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old")
    held, fake = hold_replace(monkeypatch, 10)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and len(held.refused) == 10
    assert 0 < fake.waited < RETRY_SECONDS and fake.sleeps == sorted(fake.sleeps)  # backing off
    assert os.listdir(tmp_path) == ["state.json"]  # no temporary file left


def test_a_target_held_too_long_fails_clearly_and_keeps_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "订单号.counter"
    path.write_bytes(b"7\n")
    _, fake = hold_replace(monkeypatch, None)
    with pytest.raises(FileBusyError) as info:
        write_atomic(path, b"8\n", durable=True)
    error = info.value
    assert isinstance(error, PermissionError) and isinstance(error, JqTradeError)
    assert (
        str(path) in str(error) and "占用" in str(error) and f"{RETRY_SECONDS:g} 秒" in str(error)
    )
    assert error.path == path and error.attempts > 10
    assert (
        RETRY_SECONDS - 1e-6 <= fake.waited <= RETRY_SECONDS + 1e-6
    )  # waited to the deadline, not past it
    assert path.read_bytes() == b"7\n" and os.listdir(tmp_path) == [path.name]


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    fake = FakeTime()
    patience = Patience(sleep=fake.sleep, clock=fake.clock)
    with pytest.raises(FileNotFoundError):
        replace_file(tmp_path / "missing", tmp_path / "target", patience=patience)
    with pytest.raises(FileNotFoundError):
        read_retrying(tmp_path / "missing", patience=patience)
    assert fake.sleeps == []


def test_windows_error_codes_of_a_held_file_are_retried(tmp_path: Path) -> None:
    fake = FakeTime()
    calls = []

    def action() -> str:
        calls.append(1)
        if len(calls) < 3:
            error = OSError(22, "用户映射区域打开的文件")
            error.winerror = 1224  # type: ignore[attr-defined]  # ERROR_USER_MAPPED_FILE
            raise error
        return "ok"

    assert (
        fileio.retrying(
            action, tmp_path / "f", "替换", Patience(sleep=fake.sleep, clock=fake.clock)
        )
        == "ok"
    )
    assert len(calls) == 3


def test_a_held_file_is_read_once_it_is_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"data")
    real_open = open
    refusals = [3]

    def held_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(file) == path and refusals[0]:
            refusals[0] -= 1
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    fake = FakeTime()
    monkeypatch.setattr("builtins.open", held_open)
    assert read_retrying(path, patience=Patience(sleep=fake.sleep, clock=fake.clock)) == b"data"
    assert len(fake.sleeps) == 3


def test_every_replace_in_the_package_goes_through_fileio() -> None:
    package = Path(fileio.__file__).parent
    offenders = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p.name != "fileio.py"
        and ("os.replace(" in p.read_text("utf-8") or ".rename(" in p.read_text("utf-8"))
    ]
    assert offenders == []


# --- the order path with a held counter ------------------------------------------------------


def _account(tmp_path: Path):  # type: ignore[no-untyped-def]
    import pendulum

    from jqtrade.account.account import Account
    from jqtrade.clock import MARKET_TZ, SimClock
    from jqtrade.gates.fake import FakeTradeGate
    from jqtrade.options import Options

    clock = SimClock(pendulum.datetime(2024, 6, 3, 9, 35, tz=MARKET_TZ))
    gate = FakeTradeGate(cash=1_000_000, prices={"600000.XSHG": 8.0}, clock=clock)
    options = Options().evolve({"runtime_dir": str(tmp_path), "use_account": True})
    account = Account(gate=gate, clock=clock, options=options, runtime_dir=tmp_path, task_name="t")
    return account, gate


def test_an_order_waits_for_a_briefly_held_counter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jqtrade import LimitOrderStyle

    held, _ = hold_replace(monkeypatch, 20, match=lambda p: p.suffix == ".counter")
    account, gate = _account(tmp_path)
    account.start()
    try:
        order_id = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
        assert held.refused and order_id in {o.order_id for o in gate.peek_orders()}
    finally:
        account.close()


def test_an_order_fails_clearly_when_the_counter_stays_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is sent and nothing is journaled: the strategy gets a clear error, and its next
    order, once the file is let go, gets a fresh id."""
    from jqtrade import LimitOrderStyle

    held, _ = hold_replace(monkeypatch, None, match=lambda p: p.suffix == ".counter")
    account, gate = _account(tmp_path)
    account.start()  # the prefetch of ids fails quietly (logged)
    try:
        with pytest.raises(JqTradeError) as info:
            account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
        assert "order_ids_" in str(info.value) and "占用" in str(info.value)
        assert gate.peek_orders() == [] and len(account.get_orders()) == 0
        held.left = 0
        order_id = account.order("600000.XSHG", 100, LimitOrderStyle(8.0))
        assert [o.order_id for o in gate.peek_orders()] == [order_id]
    finally:
        account.close()


# --- file names ------------------------------------------------------------------------------

FORBIDDEN = set('\\/:*?"<>|')


def fs_key(name: str) -> str:
    """How NTFS/APFS compare names: case-insensitively, and (APFS) normalisation-insensitively."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def assert_valid_on_windows(part: str, suffix: str = ".json") -> None:
    name = part + suffix
    assert part
    assert not FORBIDDEN & set(name), name
    assert all(ord(ch) >= 32 for ch in name), name
    assert not part.endswith((".", " ")) and not name.endswith((".", " "))
    assert name.split(".")[0].upper() not in WINDOWS_RESERVED, name
    assert len(name.encode("utf-8")) + 40 <= 255  # room for prefixes and temporary-file suffixes


@pytest.mark.parametrize(
    "name",
    [
        "CON",
        "con",
        "Nul",
        "com1",
        "LPT9",
        "con.txt",
        "aux.json",
        "CONIN$",
        "a\\b",
        "a/b",
        "c:",
        "*?",
        '"q"',
        "<x>",
        "p|q",
        "dot.",
        "space ",
        "trailing. . ",
        "",
        " ",
        ".",
        "..",
        "x" * 300,
        "策" * 65,
        "a\x00b",
        "tab\tname",
    ],
)
def test_names_windows_refuses_become_valid_file_names(name: str, tmp_path: Path) -> None:
    part = safe_file_name(name)
    assert_valid_on_windows(part)
    assert part != name  # each of these had to change ...
    assert "~" in part  # ... and so carries a hash of the real name
    (tmp_path / (part + ".json")).write_bytes(b"")  # and the OS takes it


@pytest.mark.parametrize("name", ["demo", "ma_cross-2", "均线策略", "策略1", "策" * 64])
def test_plain_names_stay_as_they_are(name: str) -> None:
    assert safe_file_name(name) == name


@settings(max_examples=300)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=10, unique=True))
def test_different_names_never_share_a_file(names: list[str]) -> None:
    parts = [safe_file_name(n) for n in names]
    for part in parts:
        assert_valid_on_windows(part)
    assert len({fs_key(p) for p in parts}) == len(names)


@given(st.text(max_size=40))
def test_case_variants_get_different_files(name: str) -> None:
    variants = {name, name.upper(), name.lower(), name.swapcase(), name.title()}
    assert len({fs_key(safe_file_name(v)) for v in variants}) == len(variants)
