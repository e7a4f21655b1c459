"""Group commit: concurrent writers share filesystem flushes, and none returns before a flush that
began after its call has ended (so each write is still durable when acknowledged)."""

from __future__ import annotations

import threading
import time

import pytest

from gitstore import durability


class FakeFlush:
    """Stands in for syncfs: records each flush and can hold the first one until released."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on
        self.lock = threading.Lock()
        self.log: list[tuple[str, int]] = []

    def __call__(self, path) -> None:
        with self.lock:
            self.calls += 1
            number = self.calls
            self.log.append(("start", number))
        if number == 1:
            self.started.set()
            assert self.release.wait(10)
        with self.lock:
            self.log.append(("end", number))
        if number == self.fail_on:
            raise OSError(5, "Input/output error")


def _waiting(barrier: durability._GroupBarrier) -> int:
    return len(barrier._cond._waiters)  # type: ignore[attr-defined]


def _until(predicate, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.001)


def test_writers_arriving_during_a_flush_share_the_next_one(tmp_path, monkeypatch):
    fake = FakeFlush()
    monkeypatch.setattr(durability, "_flush_now", fake)
    barrier = durability._GroupBarrier()
    done: list[int] = []
    first = threading.Thread(target=lambda: (barrier.flush(tmp_path), done.append(0)))
    first.start()
    assert fake.started.wait(10)
    # Ten writers arrive while flush 1 runs: it may have missed their files, so they must wait for
    # a flush that starts later, and all ten share it.
    arrived_after: list[int] = []

    def writer(n: int) -> None:
        with fake.lock:
            arrived_after.append(len(fake.log))
        barrier.flush(tmp_path)
        done.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 11)]
    for thread in threads:
        thread.start()
    _until(lambda: _waiting(barrier) == 10)
    assert done == [] and fake.calls == 1
    fake.release.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert sorted(done) == list(range(11))
    assert fake.calls == 2, "eleven writers, two flushes"
    assert fake.log == [("start", 1), ("end", 1), ("start", 2), ("end", 2)]


def test_a_lone_writer_flushes_at_once_each_time(tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(durability, "_flush_now", lambda path: calls.append(1))
    barrier = durability._GroupBarrier()
    for _ in range(3):
        barrier.flush(tmp_path)
    assert len(calls) == 3  # a flush that ended before the call never counts for it


def test_a_failed_flush_fails_every_writer_that_shared_it(tmp_path, monkeypatch):
    fake = FakeFlush(fail_on=2)
    monkeypatch.setattr(durability, "_flush_now", fake)
    barrier = durability._GroupBarrier()
    first = threading.Thread(target=barrier.flush, args=(tmp_path,))
    first.start()
    assert fake.started.wait(10)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.flush(tmp_path)
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    _until(lambda: _waiting(barrier) == 4)
    fake.release.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert len(errors) == 4 and all("shared filesystem flush failed" in str(e) for e in errors)
    barrier.flush(tmp_path)  # the next flush is a new one, and succeeds


def test_real_flush_runs(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    durability.flush_filesystem(tmp_path)
    with pytest.raises(FileNotFoundError):
        durability.flush_filesystem(tmp_path / "missing")
