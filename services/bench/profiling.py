"""Sampling profiles of the running services with py-spy (attached to the supervisor's children by
PID, their gunicorn workers included), summarised so the slowest parts can be named.

py-spy's "raw" output is one collapsed stack per line: ``frame;frame;…;frame count``, root first,
each frame ``function (file:line)``. py-spy means to leave idle threads out, but on this VM threads
blocked in a lock, fsync or select are sampled too, so the shares are close to wall-clock time."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

SAMPLE_RATE = 20  # per second: low, as py-spy itself takes CPU (8 recorders at 50 Hz took ~0.6 core here)
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")


def py_spy_path() -> str | None:
    beside_python = Path(sys.executable).with_name("py-spy")
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    child: str
    output: Path
    process: subprocess.Popen


class ServiceProfiler:
    """Starts one ``py-spy record`` per supervised child; ``stop`` makes them write their profiles."""

    def __init__(self, out_dir: Path, *, cpu_only: bool = False):
        self._out_dir = out_dir
        self._cpu_only = cpu_only  # py-spy --gil: only threads holding the GIL, i.e. Python's own CPU time
        self._recordings: list[Recording] = []

    def start(self, pids: dict[str, int]) -> "ServiceProfiler":
        spy = py_spy_path()
        if spy is None:
            raise RuntimeError("py-spy is not installed (it is in the test extra: make install)")
        self._out_dir.mkdir(parents=True, exist_ok=True)
        for child, pid in sorted(pids.items()):
            output = self._out_dir / f"{child}.txt"
            process = subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--rate", str(SAMPLE_RATE),
                 "--format", "raw", "--output", str(output)] + (["--gil"] if self._cpu_only else []),
                stdout=subprocess.DEVNULL, stderr=open(self._out_dir / f"{child}.log", "w"))
            self._recordings.append(Recording(child, output, process))
        return self

    def stop(self) -> dict[str, Path]:
        """Profiles written, by child name (a child whose recording failed is left out)."""
        for recording in self._recordings:
            if recording.process.poll() is None:
                recording.process.send_signal(signal.SIGINT)
        written = {}
        for recording in self._recordings:
            try:
                recording.process.wait(60)
            except subprocess.TimeoutExpired:
                recording.process.kill()
                recording.process.wait()
            if recording.output.exists() and os.path.getsize(recording.output) > 0:
                written[recording.child] = recording.output
        return written


def parse_collapsed(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    stacks = []
    for line in lines:
        line = line.rstrip("\n")
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def short_frame(frame: str) -> str:
    """``function (path/to/file.py:12)`` → ``function (file.py)``; griddesk's own files keep their
    package and the line (which statement of a function is hot: e.g. BEGIN IMMEDIATE or COMMIT)."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    parts = Path(path).parts
    for root in ("shared", "services"):
        if root in parts:
            line = f":{match['line']}" if match["line"] else ""
            return f"{match['function']} ({'/'.join(parts[parts.index(root):])}{line})"
    return f"{match['function']} ({Path(path).name})"


def is_griddesk_frame(frame: str) -> bool:
    return any(f"{root}/" in frame for root in ("(shared", "(services"))


@dataclass(frozen=True)
class ProfileSummary:
    samples: int
    hottest_self: list[tuple[str, float]]  # innermost frames: where the samples sat, share of samples
    # the deepest griddesk frame of each stack, with everything it called: which of our code paths
    # (and the libraries they call) cost most
    hottest_own: list[tuple[str, float]]


def summarise(stacks: list[tuple[list[str], int]], top: int = 8) -> ProfileSummary:
    total = sum(count for _, count in stacks)
    own_code, leaves = Counter(), Counter()
    for frames, count in stacks:
        short = [short_frame(f) for f in frames]
        leaves[short[-1]] += count
        ours = [f for f in short if is_griddesk_frame(f)]
        if ours:
            own_code[ours[-1]] += count
    if total == 0:
        return ProfileSummary(0, [], [])
    share = lambda counter: [(frame, count / total) for frame, count in counter.most_common(top)]
    return ProfileSummary(total, share(leaves), share(own_code))


def summarise_file(path: Path, top: int = 8) -> ProfileSummary:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return summarise(parse_collapsed(handle), top)
