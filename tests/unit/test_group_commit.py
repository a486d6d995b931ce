"""Group commit: requests in flight share one write; each gets its own result or error."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import BackendUnavailable
from shared.group_commit import GroupCommit


class Writes:
    """A write_group that records its groups and can be held, to let requests pile up behind it."""

    def __init__(self):
        self.groups: list[list] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, items):
        self.entered.set()
        self.gate.wait(10)
        self.groups.append(list(items))
        return [ValueError(f"bad {item}") if item < 0 else item * 10 for item in items]


def submit_while_held(commit: GroupCommit, writes: Writes, items: list[int]) -> list:
    """Submit a first item, hold its write, submit the rest meanwhile, then let every write through."""
    writes.gate.clear()
    with ThreadPoolExecutor(len(items)) as pool:
        first = pool.submit(_outcome, commit, items[0])
        assert writes.entered.wait(10)
        rest = [pool.submit(_outcome, commit, item) for item in items[1:]]
        while len(commit._queue) < len(items) - 1:  # every other request waits for the next group
            threading.Event().wait(0.005)
        writes.gate.set()
        return [first.result()] + [future.result() for future in rest]


def _outcome(commit, item):
    try:
        return commit.submit(item)
    except Exception as error:
        return error


def test_requests_that_arrive_while_a_group_is_written_are_written_together():
    writes = Writes()
    commit = GroupCommit(writes, name="test")
    outcomes = submit_while_held(commit, writes, list(range(1, 9)))
    assert outcomes == [n * 10 for n in range(1, 9)]
    assert writes.groups[0] == [1] and sorted(writes.groups[1]) == list(range(2, 9))
    assert commit.groups_written == 2


def test_a_request_alone_is_written_at_once():
    writes = Writes()
    commit = GroupCommit(writes, name="test")
    assert commit.submit(3) == 30 and commit.submit(4) == 40
    assert writes.groups == [[3], [4]]


def test_a_failing_member_fails_alone():
    writes = Writes()
    commit = GroupCommit(writes, name="test")
    outcomes = submit_while_held(commit, writes, [1, 2, -3, 4])
    assert outcomes[:2] == [10, 20] and outcomes[3] == 40
    assert isinstance(outcomes[2], ValueError) and str(outcomes[2]) == "bad -3"
    assert len(writes.groups) == 2


def test_a_group_whose_write_fails_fails_every_member_and_the_writer_goes_on():
    calls = []

    def write_group(items):
        calls.append(list(items))
        if len(calls) == 1:
            raise BackendUnavailable("store down")
        return list(items)

    commit = GroupCommit(write_group, name="test")
    with pytest.raises(BackendUnavailable, match="store down"):
        commit.submit(1)
    assert commit.submit(2) == 2  # the same writer thread (or a new one) carries on


def test_a_write_that_answers_for_the_wrong_number_of_items_fails_the_group():
    commit = GroupCommit(lambda items: [], name="test")
    with pytest.raises(RuntimeError, match="0 results for a group of 1"):
        commit.submit(1)


def test_too_many_waiting_requests_are_refused():
    writes = Writes()
    commit = GroupCommit(writes, name="test", max_pending=2)
    writes.gate.clear()
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(commit.submit, 1)
        assert writes.entered.wait(10)  # taken by the writer: no longer waiting
        queued = [pool.submit(commit.submit, n) for n in (2, 3)]
        while len(commit._queue) < 2:
            threading.Event().wait(0.005)
        with pytest.raises(BackendUnavailable, match="already waiting"):
            commit.submit(4)
        writes.gate.set()
        assert first.result() == 10 and [f.result() for f in queued] == [20, 30]


def test_a_request_gives_up_waiting_after_wait_s():
    writes = Writes()
    commit = GroupCommit(writes, name="test", wait_s=0.05)
    writes.gate.clear()
    with pytest.raises(BackendUnavailable, match="not written within"):
        commit.submit(1)
    writes.gate.set()


def test_an_idle_writer_ends_and_a_new_one_starts_on_demand():
    writes = Writes()
    commit = GroupCommit(writes, name="idle-test", idle_s=0.01)
    assert commit.submit(1) == 10

    def writer_alive():
        return any(t.name == "idle-test-writer" for t in threading.enumerate())

    for _ in range(200):
        if not writer_alive():
            break
        threading.Event().wait(0.01)
    assert not writer_alive()
    assert commit.submit(2) == 20
