"""The runner's Windows reader (live/runner._read_in_thread: select() takes only sockets there, so a
thread reads the tool's pipe into a queue) is plain Python over a pipe: run here on real pipes, it must
give every byte in order, stop at the deadline while the writer still holds the pipe open, stop when
portcheck is being stopped, and pass on the caller's "too much" at once."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import pytest

from portcheck.live import runner


@contextmanager
def pipe() -> Iterator[tuple[IO[bytes], int]]:
    """(the read end as a file, the write end's descriptor); both closed afterwards, the write end
    first, so a reading thread left behind (after a timeout) sees the end and finishes before its
    file is closed."""
    threads = threading.active_count()
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb", buffering=0)
    try:
        yield reader, write_fd
    finally:
        with contextlib.suppress(OSError):  # the test may have closed it
            os.close(write_fd)
        deadline = time.monotonic() + 5
        while threading.active_count() > threads and time.monotonic() < deadline:
            time.sleep(0.01)
        reader.close()


def test_every_byte_in_order_until_the_writer_closes() -> None:
    chunks = [bytes([n]) * 70_000 for n in range(1, 6)]  # each larger than one read
    got = bytearray()
    with pipe() as (reader, write_fd):

        def write() -> None:
            for chunk in chunks:
                os.write(write_fd, chunk)
            os.close(write_fd)

        writer = threading.Thread(target=write)
        writer.start()
        runner._read_in_thread(reader, got.extend, time.monotonic() + 10)
        writer.join()
    assert bytes(got) == b"".join(chunks)


def test_a_writer_that_keeps_the_pipe_open_times_out_at_the_deadline() -> None:
    with pipe() as (reader, write_fd):
        os.write(write_fd, b"partial answer\n")
        got = bytearray()
        started = time.monotonic()
        with pytest.raises(runner._Timeout):
            runner._read_in_thread(reader, got.extend, started + 0.3)
        took = time.monotonic() - started
    assert bytes(got) == b"partial answer\n"
    assert 0.3 <= took < 3  # the deadline, not the writer, ends it


def test_stopping_ends_the_read_while_the_writer_is_silent() -> None:
    with pipe() as (reader, _write_fd):
        timer = threading.Timer(0.2, runner._stopping.set)
        timer.start()
        try:
            started = time.monotonic()
            with pytest.raises(runner._Interrupted):
                runner._read_in_thread(reader, lambda _: None, started + 30)
            assert time.monotonic() - started < 5
        finally:
            timer.join()
            runner._stopping.clear()


def test_the_callers_limit_stops_the_read() -> None:
    class TooMuch(Exception):
        pass

    def keep(data: bytes) -> None:
        raise TooMuch

    with pipe() as (reader, write_fd):
        os.write(write_fd, b"x" * 1000)
        with pytest.raises(TooMuch):
            runner._read_in_thread(reader, keep, time.monotonic() + 10)
