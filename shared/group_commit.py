"""Group commit: requests in flight in one process share their durable writes.

A request hands its item to ``GroupCommit.submit`` and waits. One writer thread takes everything queued
(up to ``max_group`` items), writes it with one call of ``write_group`` — one store transaction, one log
append — and wakes each waiting request with its own result or its own error. While the writer is busy
(an fsync, a round trip), the next requests queue up and become the next group: the more requests are in
flight, the fewer durable writes each of them costs, and a request alone waits for nobody.

``write_group(items)`` returns one result per item, in order: a value, or an exception that only that
item's request raises. If it raises instead, every request of the group raises that error. A request
returns only after its group's write returned, so whatever ``write_group`` made durable is durable when
``submit`` returns.

Backpressure: at most ``max_pending`` items wait at once (the rest are refused with BackendUnavailable,
which the HTTP layer answers 503), and a request waits at most ``wait_s`` for its group (then
BackendUnavailable too: its item may still be written, which a retry with the same idempotency key
finds). The writer thread is started in the process that submits (never inherited across a fork) and
ends after ``idle_s`` without work; a process that exits with items queued never answered their requests,
so nothing it acknowledged is lost.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable, Generic, Sequence, TypeVar, Union

from shared.errors import BackendUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class _Ticket(Generic[T]):
    """One request's item and, once its group is written, its result or error. ``done`` is a plain lock
    held from the start and released by the writer: waiting on it costs no Python code, where a
    ``threading.Event`` (a Condition and its waiter lock in Python) cost ~5 % of intake's CPU per report."""
    __slots__ = ("item", "done", "result", "error")

    def __init__(self, item: T):
        self.item = item
        self.done = threading.Lock()
        self.done.acquire()
        self.result: object = None
        self.error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    def __init__(self, write_group: Callable[[Sequence[T]], Sequence[Union[R, BaseException]]], *, name: str,
                 max_group: int = 256, max_pending: int = 1024, wait_s: float = 30.0, idle_s: float = 5.0):
        self._write_group = write_group
        self._name = name
        self._max_group = max_group
        self._max_pending = max_pending
        self._wait_s = wait_s
        self._idle_s = idle_s
        self._queue: list[_Ticket[T]] = []
        self._lock = threading.Condition()
        self._writer_pid: int | None = None  # the process whose writer thread is running, if any
        self.groups_written = 0  # for tests and metrics: how many groups the writer has written

    def submit(self, item: T) -> R:
        """Write ``item`` with the other items in flight; its result once that write returned."""
        ticket = _Ticket(item)
        with self._lock:
            if len(self._queue) >= self._max_pending:
                raise BackendUnavailable(f"{self._name}: {len(self._queue)} writes already waiting; retry later")
            self._queue.append(ticket)
            if self._writer_pid != os.getpid():
                self._writer_pid = os.getpid()
                threading.Thread(target=self._write, name=f"{self._name}-writer", daemon=True).start()
            self._lock.notify()
        if not ticket.done.acquire(timeout=self._wait_s):
            raise BackendUnavailable(f"{self._name}: not written within {self._wait_s:g} s; retry later")
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

    def _write(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._lock.wait(self._idle_s)
                if not self._queue:
                    self._writer_pid = None  # idle: the next submit starts a new writer
                    return
                group, self._queue = self._queue[:self._max_group], self._queue[self._max_group:]
            self._write_one_group(group)

    def _write_one_group(self, group: list[_Ticket[T]]) -> None:
        try:
            results = list(self._write_group([ticket.item for ticket in group]))
            if len(results) != len(group):
                raise RuntimeError(f"{self._name}: {len(results)} results for a group of {len(group)}")
        except BaseException as error:  # the whole group failed: each of its requests says so
            if not isinstance(error, BackendUnavailable):
                log.exception("%s: writing a group of %d failed", self._name, len(group))
            results = [error] * len(group)
        self.groups_written += 1
        for ticket, result in zip(group, results):
            if isinstance(result, BaseException):
                ticket.error = result
            else:
                ticket.result = result
            ticket.done.release()
