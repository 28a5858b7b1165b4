"""Appended OneQuant files that misbehave: torn lines, failing disks, rewritten files, endless
tails and foreign line ends. Faults are injected with hand-written fake files, never by
filling a real disk."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jqtrade.errors import GateError, GateLockTimeoutError, GateWriteError
from jqtrade.gates.onequant import files as onequant_files
from jqtrade.gates.onequant.files import AppendedFileReader, LockedAppender, encode_rows
from jqtrade.gates.onequant.protocol import ALGO_ORDER_STOP_HEADER

LOGGER = "jqtrade.gates.onequant"
HEADER = b"updTime,custBatchNo\n"


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


# --- a file that fails like a full or broken disk ------------------------------------------


class FaultyFile:
    """A real append handle whose writes fail on demand; it records every write call.

    ``accept``: how many bytes of the first write really reach the file before ``error`` is
    raised (a short write on a filling disk); ``None`` lets every write through.
    """

    def __init__(self, real: Any, error: Optional[OSError], accept: int = 0) -> None:
        self.real = real
        self.error = error
        self.accept = accept
        self.writes: list[bytes] = []

    def write(self, data: Any) -> int:
        data = bytes(data)
        self.writes.append(data)
        if self.error is None:
            return self.real.write(data)
        if self.accept:  # the OS reports a short write first, the error on the next attempt
            written = self.real.write(data[: self.accept])
            self.accept = 0
            return written
        raise self.error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class FaultyAppender(LockedAppender):
    """A LockedAppender whose next opens hand out :class:`FaultyFile` handles."""

    def __init__(
        self, *args: Any, error: Optional[OSError] = None, accept: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.error = error
        self.accept = accept
        self.handles: list[FaultyFile] = []

    def _open(self) -> Any:
        handle = FaultyFile(super()._open(), self.error, self.accept)
        self.handles.append(handle)
        return handle


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "磁盘已满"),
        (errno.EIO, "磁盘读写错误"),
        (errno.EACCES, "没有写入权限或文件被其他程序锁定"),
        (errno.EROFS, "文件系统只读"),
        (errno.ENXIO, "系统错误"),
    ],
)
def test_failing_write_is_a_gate_write_error(tmp_path: Path, code: int, words: str) -> None:
    path = tmp_path / "algoOrder_20240603.csv"
    error = OSError(code, os.strerror(code))
    appender = FaultyAppender(path, ["a", "b"], "utf-8", error=error)
    with pytest.raises(GateWriteError) as info:
        appender.append([["1", "2"]])
    exc = info.value
    assert isinstance(exc, GateError) and isinstance(exc, OSError)
    assert not isinstance(exc, GateLockTimeoutError)
    assert exc.path == str(path) and path.name in str(exc)
    assert exc.cause == f"{words}（{error}）"
    assert exc.__cause__ is error
    assert "送达未知" in str(exc)


def test_failing_fsync_is_a_gate_write_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.csv"
    appender = LockedAppender(path, ["a"], "utf-8", fsync=True)

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(GateWriteError, match="读写错误"):
        appender.append([["1"]])


def test_header_and_lines_go_in_one_write(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    appender = FaultyAppender(path, ["a", "b"], "utf-8")
    appender.append([["1", "2"], ["3", "4"]])
    appender.append([["5", "6"]])
    assert [handle.writes for handle in appender.handles] == [
        [b"a,b\r\n1,2\r\n3,4\r\n"],
        [b"5,6\r\n"],
    ]
    assert path.read_bytes() == b"a,b\r\n1,2\r\n3,4\r\n5,6\r\n"


def test_a_torn_last_line_is_ended_before_our_line(tmp_path: Path) -> None:
    path = tmp_path / "algoOrderStop_20240603.csv"
    path.write_bytes(HEADER + b"093000.000001,41\n093000.000002,4")  # a writer died mid-line
    appender = FaultyAppender(path, ALGO_ORDER_STOP_HEADER, "utf-8")
    appender.append([["093001.000000", "42"]])
    assert appender.handles[0].writes == [b"\r\n093001.000000,42\r\n"]
    assert (
        path.read_bytes() == HEADER + b"093000.000001,41\n093000.000002,4\r\n093001.000000,42\r\n"
    )
    reader = AppendedFileReader(path, "utf-8", default_header=ALGO_ORDER_STOP_HEADER)
    assert [row["custBatchNo"] for row in reader.iter_rows()] == ["41", "4", "42"]


def test_a_short_write_on_a_full_disk_never_glues_the_next_line(tmp_path: Path) -> None:
    path = tmp_path / "algoOrderStop_20240603.csv"
    path.write_bytes(HEADER)
    full = FaultyAppender(
        path,
        ALGO_ORDER_STOP_HEADER,
        "utf-8",
        error=OSError(errno.ENOSPC, "No space left on device"),
        accept=5,
    )
    with pytest.raises(GateWriteError, match="磁盘已满"):
        full.append([["093001.000000", "42"]])
    assert path.read_bytes() == HEADER + b"09300"  # half of our line reached the disk
    LockedAppender(path, ALGO_ORDER_STOP_HEADER, "utf-8").append([["093002.000000", "43"]])
    assert path.read_bytes() == HEADER + b"09300\r\n093002.000000,43\r\n"
    reader = AppendedFileReader(path, "utf-8", default_header=ALGO_ORDER_STOP_HEADER)
    assert reader.read_rows() == [{"updTime": "093002.000000", "custBatchNo": "43"}]
    assert reader.bad_lines == 1


def test_a_file_that_cannot_be_opened_is_a_gate_error_but_not_a_write_error(tmp_path: Path) -> None:
    """Nothing of ours reached the file: the order was surely not sent (not "unknown")."""
    appender = LockedAppender(tmp_path / "missing" / "f.csv", ["a"], "utf-8")
    with pytest.raises(GateError, match="无法打开文件") as info:
        appender.append([["1"]])
    assert not isinstance(info.value, GateWriteError)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.binary(max_size=60)
    | st.sampled_from([b"", HEADER, HEADER + b"1,2", HEADER + b"1,2\r", b"\x00" * 30]),
    batches=st.lists(
        st.lists(
            st.tuples(
                st.text("0123456789.", min_size=1, max_size=8), st.text('ab,"中 ', max_size=6)
            ),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_appended_lines_are_always_whole_lines_of_their_own(
    tmp_path_factory: Any, before: bytes, batches: list[list[tuple[str, str]]]
) -> None:
    path = tmp_path_factory.mktemp("a") / "f.csv"
    path.write_bytes(before)
    appender = LockedAppender(path, ["a", "b"], "utf-8")
    expected = bytearray(before)
    for batch in batches:
        rows = [list(row) for row in batch]
        if not expected:
            expected += b"a,b\r\n"
        elif not expected.endswith(b"\n"):
            header_torn = len(expected) < len(b"a,b\r\n") and b"\n" not in expected
            expected += (
                b"\n" if expected.endswith(b"\r") else b"\r\n"
            )  # a torn \r\n needs its \n only
            if header_torn:
                expected += b"a,b\r\n"  # what was there cannot be a whole header: write one
        expected += encode_rows(rows, "utf-8", "\r\n")
        appender.append(rows)
    assert path.read_bytes() == bytes(expected)
    ours = b"".join(encode_rows([list(row) for row in batch], "utf-8", "\r\n") for batch in batches)
    assert path.read_bytes().endswith(ours)
    start = len(path.read_bytes()) - len(ours)
    assert (
        start == 0 or path.read_bytes()[start - 1 : start] == b"\n"
    )  # our first line starts a line


# --- files rewritten under the reader ------------------------------------------------------


def _rows(reader: AppendedFileReader) -> list[list[str]]:
    return [[row["a"], row["b"]] for row in reader.iter_rows()]


def test_same_size_rewrite_in_place_is_read_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "orderUpdate.csv"
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    reader = AppendedFileReader(path, "utf-8")
    assert _rows(reader) == [["1", "2"], ["3", "4"]]
    inode = path.stat().st_ino
    with open(path, "r+b") as handle:  # same inode, same length, other content
        handle.write(b"a,b\n5,6\n7,8\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_ino == inode and path.stat().st_size == 12
    assert reader.changed()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert _rows(reader) == [["5", "6"], ["7", "8"]]
        assert _rows(reader) == []
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "重新读取" in r.getMessage()
    ]
    assert len(warnings) == 1 and path.name in warnings[0].getMessage()
    assert reader.restarts == 1


def test_rewrite_is_seen_by_a_read_even_with_an_unchanged_mtime(tmp_path: Path) -> None:
    path = tmp_path / "orderUpdate.csv"
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    reader = AppendedFileReader(path, "utf-8")
    assert len(_rows(reader)) == 2
    stat = path.stat()
    with open(path, "r+b") as handle:
        handle.write(b"a,b\n1,2\n3,9\n")  # only the last line differs
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _rows(reader) == [["1", "2"], ["3", "9"]]


def test_truncated_and_rewritten_longer_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "execResult.csv"
    path.write_bytes(b"a,b\n1,2\n")
    reader = AppendedFileReader(path, "utf-8")
    assert _rows(reader) == [["1", "2"]]
    inode = path.stat().st_ino
    with open(path, "wb") as handle:  # truncate and write again from the start: same inode
        handle.write(b"a,b\n9,9\n8,8\n7,7\n")
    assert path.stat().st_ino == inode
    assert reader.changed()
    assert _rows(reader) == [["9", "9"], ["8", "8"], ["7", "7"]]


def test_deleted_and_recreated_longer_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "execResult.csv"
    path.write_bytes(b"a,b\n1,2\n")
    reader = AppendedFileReader(path, "utf-8")
    assert _rows(reader) == [["1", "2"]]
    path.unlink()
    path.write_bytes(b"a,b\n3,4\n5,6\n")  # ext4 and NTFS may hand out the same inode again
    assert _rows(reader) == [["3", "4"], ["5", "6"]]


def test_a_valid_continuation_is_not_a_rewrite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "orderUpdate.csv"
    path.write_bytes(b"a,b\n1,2\n")
    reader = AppendedFileReader(path, "utf-8")
    assert _rows(reader) == [["1", "2"]]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        with open(
            path, "wb"
        ) as handle:  # rewritten from the start, but with what was there and more
            handle.write(b"a,b\n1,2\n3,4\n")
        assert _rows(reader) == [["3", "4"]]
        _append(path, b"5,6\n")
        assert _rows(reader) == [["5", "6"]]
    assert reader.restarts == 0 and not caplog.records


# Operations on a file: append lines, or rewrite it from the start with other lines (same
# length or not, same inode or a new file). Whatever happens, what the reader delivered since
# its last restart is the file's content, and a pure append never restarts it.
LINE = st.tuples(st.sampled_from("0123456789xy"), st.text("0123456789.中", max_size=5)).map(
    lambda f: f"{f[0]},{f[1]}"
)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.lists(LINE, min_size=1, max_size=4), st.booleans()),
        st.tuples(st.just("rewrite"), st.lists(LINE, min_size=1, max_size=6), st.booleans()),
        st.tuples(st.just("rewrite_same_size"), st.just([]), st.booleans()),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.lists(LINE, min_size=1, max_size=5),
    ops=OPS,
    chunk_size=st.sampled_from([5, 64, 1 << 20]),
)
def test_reader_follows_appends_and_rewrites(
    tmp_path_factory: Any, first: list[str], ops: list[Any], chunk_size: int
) -> None:
    path = tmp_path_factory.mktemp("w") / "orderUpdate.csv"
    lines = list(first)
    generation = 0
    path.write_bytes(("a,b\n" + "".join(f"{line}\n" for line in lines)).encode())
    reader = AppendedFileReader(path, "utf-8", chunk_size=chunk_size)
    seen = [f"{row['a']},{row['b']}" for row in reader.iter_rows()]
    for kind, new, recreate in ops:
        restarts = reader.restarts
        if kind == "append":
            _append(path, "".join(f"{line}\n" for line in new).encode())
            lines += new
        else:
            generation += 1
            if kind == "rewrite_same_size":  # flip the first byte of the first data line
                data = bytearray(path.read_bytes())
                data[4] = ord("z") if data[4] != ord("z") else ord("w")
                new = [data[4:].decode().split("\n")[0], *lines[1:]]
                content = bytes(data)
            else:
                new = [f"g{generation}{new[0]}", *new[1:]]  # a rewrite that differs at its start
                content = ("a,b\n" + "".join(f"{line}\n" for line in new)).encode()
            lines = new
            if recreate:
                path.unlink()
                path.write_bytes(content)
            else:
                with open(path, "r+b") as handle:
                    handle.write(content)
                    handle.truncate()
        rows = [f"{row['a']},{row['b']}" for row in reader.iter_rows()]
        if reader.restarts != restarts:
            assert kind != "append"
            seen = rows
        else:
            assert kind == "append"
            seen += rows
        assert seen == lines


# --- an unterminated tail that keeps growing -----------------------------------------------


class CountingFile:
    """A real read handle that adds the size of every read to ``counter[0]``."""

    def __init__(self, real: Any, counter: list[int]) -> None:
        self.real = real
        self.counter = counter

    def read(self, size: int = -1) -> bytes:
        data = self.real.read(size)
        self.counter[0] += len(data)
        return data

    def __enter__(self) -> CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``[n]``: the bytes the reader module has read from files so far."""
    counter = [0]

    def counting_open(*args: Any, **kwargs: Any) -> Any:
        return CountingFile(open(*args, **kwargs), counter)

    monkeypatch.setattr(onequant_files, "open", counting_open, raising=False)
    return counter


@pytest.mark.parametrize("filler", [b"\x00", b"x"])
def test_growing_unterminated_tail_costs_only_the_new_bytes(
    tmp_path: Path, filler: bytes, bytes_read: list[int]
) -> None:
    path = tmp_path / "orderUpdate.csv"
    path.write_bytes(b"a,b\n1,2\n" + filler * 200_000)
    reader = AppendedFileReader(path, "utf-8", chunk_size=4096)
    assert _rows(reader) == [["1", "2"]]
    costs = []
    for _ in range(50):
        _append(path, filler * 100)
        before = bytes_read[0]
        assert _rows(reader) == []
        costs.append(bytes_read[0] - before)
    assert (
        max(costs) <= 100 + 1024
    )  # the new bytes and the small rewrite check, not the 200 kB tail
    _append(path, b"\n3,4\n")
    assert _rows(reader)[-1] == ["3", "4"]


def test_a_line_after_a_hole_of_nul_bytes_is_read(tmp_path: Path) -> None:
    """After a power cut the file may end in zeros; the writer then appends after them."""
    path = tmp_path / "orderUpdate.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"\x00" * 4096)
    reader = AppendedFileReader(path, "utf-8")
    assert _rows(reader) == [["1", "2"]]
    _append(path, b"3,4\n")
    assert _rows(reader) == [["3", "4"]]
    assert reader.bad_lines == 0
    texts = AppendedFileReader(path, "utf-8")
    assert "".join(texts.iter_texts()) == "1,2\n3,4\n"


def test_an_endless_line_is_skipped_without_being_read_whole(
    tmp_path: Path, bytes_read: list[int]
) -> None:
    path = tmp_path / "orderUpdate.csv"
    path.write_bytes(b"a,b\n1,2\n")
    reader = AppendedFileReader(path, "utf-8", chunk_size=1 << 16, max_line_bytes=1 << 16)
    assert _rows(reader) == [["1", "2"]]
    _append(path, b"x" * (1 << 20))
    assert _rows(reader) == []
    before = bytes_read[0]
    _append(path, b"\n3,4\n")
    assert _rows(reader) == [["3", "4"]]
    assert bytes_read[0] - before < 1 << 17
    assert reader.bad_lines == 1


# --- line ends ------------------------------------------------------------------------------

ENDS = st.sampled_from([b"\n", b"\r\n", b"\r\r\n"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.tuples(LINE, ENDS), min_size=1, max_size=20),
    header_end=ENDS,
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    texts=st.booleans(),
)
def test_mixed_line_ends_read_as_the_same_lines(
    tmp_path_factory: Any, lines: list[Any], header_end: bytes, cuts: list[int], texts: bool
) -> None:
    path = tmp_path_factory.mktemp("e") / "algoOrder.csv"
    path.write_bytes(b"")
    stream = b"a,b" + header_end + b"".join(line.encode("gbk") + end for line, end in lines)
    reader = AppendedFileReader(path, "gbk", chunk_size=16)
    seen: list[str] = []
    start = 0
    for point in sorted({min(c, len(stream)) for c in cuts} | {len(stream)}):
        _append(path, stream[start:point])
        start = point
        if texts:
            seen.extend(line for text in reader.iter_texts() for line in text.split("\n")[:-1])
        else:
            seen.extend(f"{row['a']},{row['b']}" for row in reader.iter_rows())
    assert seen == [line for line, _ in lines]
    assert reader.header == ["a", "b"]


def test_cr_only_file_is_reported_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "execResult.csv"
    path.write_bytes(b"a,b\r1,2\r")
    reader = AppendedFileReader(path, "utf-8")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert _rows(reader) == []
        _append(path, b"3,4\r5,6\r")
        assert _rows(reader) == []
    warnings = [r.getMessage() for r in caplog.records if "\\r" in r.getMessage()]
    assert len(warnings) == 1 and path.name in warnings[0]


def test_cr_only_line_end_inside_a_file_is_reported_and_not_glued(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "orderUpdate.csv"
    path.write_bytes(
        b"a,b\r\n1\r2,3\r\n4,5\r\n6\r7,8\n"
    )  # "1\r2,3" must not become a=("1\r2"), b=3
    reader = AppendedFileReader(path, "utf-8")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert _rows(reader) == [["4", "5"]]
        texts = AppendedFileReader(path, "utf-8")
        assert "".join(texts.iter_texts()) == "4,5\n"
    assert reader.bad_lines == 2
    cr_warnings = [
        r.getMessage()
        for r in caplog.records
        if "\\r" in r.getMessage() and "旧式" in r.getMessage()
    ]
    assert len(cr_warnings) == 2 and all(
        path.name in message for message in cr_warnings
    )  # once per reader


def test_a_header_cut_short_gets_a_whole_header_before_our_line(tmp_path: Path) -> None:
    path = tmp_path / "algoOrder.csv"
    path.write_bytes(b"a,b")  # the first write of the day failed part way (disk full)
    LockedAppender(path, ["a", "b", "c"], "utf-8").append([["1", "2", "3"]])
    assert path.read_bytes() == b"a,b\r\na,b,c\r\n1,2,3\r\n"
    reader = AppendedFileReader(path, "utf-8", default_header=["a", "b", "c"])
    assert [[row["a"], row["b"], row["c"]] for row in reader.iter_rows()] == [["1", "2", "3"]]
