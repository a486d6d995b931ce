"""Drives reports into intake over HTTP, as channel clients do: several concurrent keep-alive
connections, either as fast as intake answers (closed loop) or open loop at a fixed arrival rate.

One persistent HTTP/1.1 connection per client thread (``keep_alive.py``: the bytes ``http.client``
would send, without its costly response parsing); every report its own body and Idempotency-Key."""
from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from services.bench.keep_alive import KeepAliveConnection, post_request

# Plausible reports across the taxonomy, so the router's classifier does its real work.
SAMPLE_TEXTS = (
    ("楼道灯坏了好几天，晚上看不见路", "facility"),
    ("小区垃圾桶满了没人清理，味道很大", "sanitation"),
    ("楼上漏水到我家天花板，沟通不了", "dispute"),
    ("有人在楼道里给电动车充电，很危险", "safety"),
    ("停水两天了，也没有通知", "utility"),
    ("独居老人好几天没出门，担心出事", "special"),
    ("绿化带被占用搭了棚子", "construction"),
    ("消防通道被车堵住了", "parking"),
    # a second problem per category, in other words (a report of the same problem from the same unit
    # would be merged): 16 texts give 16 × units reports before a (unit, problem) pair repeats
    ("电梯又坏了，老人上不了楼", "facility"),
    ("小区里老鼠很多，到处乱窜", "sanitation"),
    ("邻居家的狗天天半夜叫，没法睡觉", "dispute"),
    ("楼顶的广告牌松了，风一吹就晃", "safety"),
    ("暖气一直不热，家里太冷了", "utility"),
    ("残疾人家里轮椅坏了，出不了门需要帮助", "special"),
    ("有人在小区里私自拆墙改建", "construction"),
    ("我的车位被别人长期占着不挪", "parking"),
)
CHANNELS = ("hotline", "mini_program", "opinion_box", "visit", "patrol")


def report_body(index: int, unit_codes: list[str]) -> dict:
    """Report ``index``: no two of the first ``len(SAMPLE_TEXTS) * len(unit_codes)`` reports (6,432 with
    the demo's 402 units) share both their unit and their problem — the same problem from the same unit is
    merged as a duplicate and never notified. Each pass over the units moves the texts on by one (with a
    plain ``index % len(SAMPLE_TEXTS)``, 8 texts and 402 units, the pairs repeated after 1,608 reports)."""
    units = len(unit_codes)
    text, hint = SAMPLE_TEXTS[(index % units + index // units) % len(SAMPLE_TEXTS)]
    return {"channel": CHANNELS[index % len(CHANNELS)], "text": f"{text}（{index}）",
            "reporter": {"name": "压测用户", "phone": f"139{index:08d}"},  # one resident each: never merged
            "location": {"unit_code": unit_codes[index % len(unit_codes)]}, "category_hint": hint}


@dataclass
class LoadResult:
    first_sent: float = 0.0
    last_accepted: float = 0.0
    accepted_at: dict[str, float] = field(default_factory=dict)  # case id -> wall time of the 202
    http_ms: list[float] = field(default_factory=list)  # request -> 202, per accepted report
    failures: dict[str, int] = field(default_factory=dict)  # status or error -> count


class ReportLoad:
    """Sends ``cases`` reports over ``connections`` keep-alive connections; ``rate`` (reports/s) makes
    the arrivals open loop: report i is due at start + i/rate, whether or not earlier ones are answered."""

    def __init__(self, intake_url: str, api_key: str, unit_codes: list[str], *, cases: int,
                 connections: int = 16, rate: float | None = None, timeout_s: float = 30.0, first_index: int = 0):
        self._url = urlsplit(intake_url)
        self._api_key = api_key
        self._unit_codes = unit_codes
        self._cases = cases
        self._connections = max(1, connections)
        self._rate = rate
        self._timeout_s = timeout_s
        # reports are numbered from first_index, so two loads on one system send different (unit, text)
        # pairs: the same problem from the same unit again would be merged as a duplicate, never notified
        self._first, self._next_index = first_index, itertools.count(first_index)
        self._lock = threading.Lock()
        self._result = LoadResult()
        self._start = 0.0

    def run(self) -> LoadResult:
        self._start = time.monotonic()
        self._result.first_sent = time.time()
        threads = [threading.Thread(target=self._client, name=f"bench-client-{n}", daemon=True)
                   for n in range(min(self._connections, self._cases))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self._result

    def _client(self) -> None:
        connection = self._connect()
        while True:
            index = next(self._next_index)
            if index >= self._first + self._cases:
                break
            if self._rate:
                delay = self._start + (index - self._first) / self._rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            connection = self._send(connection, index)
        connection.close()

    def _connect(self) -> KeepAliveConnection:
        return KeepAliveConnection(self._url.hostname, self._url.port, self._timeout_s)

    def _send(self, connection: KeepAliveConnection, index: int) -> KeepAliveConnection:
        body = json.dumps(report_body(index, self._unit_codes), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-API-Key": self._api_key,
                   "Idempotency-Key": str(uuid.uuid4())}
        request = post_request(self._url.hostname, self._url.port, "/api/v1/reports", headers, body)
        for attempt in range(3):  # a closed keep-alive connection is reopened; the key makes retries safe
            sent = time.monotonic()
            try:
                status, payload = connection.exchange(request)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = self._connect()
                if attempt == 2:
                    self._count_failure(type(error).__name__)
                continue
            if status == 202:
                self._accept(json.loads(payload)["case_id"], (time.monotonic() - sent) * 1000.0)
            else:
                self._count_failure(str(status))
            break
        return connection

    def _accept(self, case_id: str, http_ms: float) -> None:
        now = time.time()
        with self._lock:
            self._result.accepted_at[case_id] = now
            self._result.http_ms.append(http_ms)
            self._result.last_accepted = max(self._result.last_accepted, now)

    def _count_failure(self, reason: str) -> None:
        with self._lock:
            self._result.failures[reason] = self._result.failures.get(reason, 0) + 1
