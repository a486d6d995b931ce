"""The embedded log stores headers as UTF-8 text when they are text (every CloudEvents header is), as
base64 otherwise, and still reads the base64 form every record had before."""
from __future__ import annotations

import base64
import sqlite3

from shared import json_codec
from shared.adapters.sqlite_event_log import SqliteEventLog
from shared.events.wire import Message


def test_text_and_binary_headers_come_back_as_written_and_older_records_are_still_read(tmp_path):
    path = str(tmp_path / "events.sqlite")
    log = SqliteEventLog(path, synchronous="OFF")
    log.ensure_topics(["t"])
    text = Message(key="k1", headers=(("ce_id", "编号-1".encode()), ("ce_type", b"x")), value=b"{}")
    binary = Message(key="k2", headers=(("ce_id", b"2"), ("raw", b"\x00\xff")), value=b"{}")
    log.append("t", [text, binary])
    db = sqlite3.connect(path)
    stored = [row[0] for row in db.execute("SELECT headers FROM records ORDER BY seq")]
    assert json_codec.from_text(stored[0]) == {"u": [["ce_id", "编号-1"], ["ce_type", "x"]]}
    assert json_codec.from_text(stored[1])[1] == ["raw", base64.b64encode(b"\x00\xff").decode()]
    older = json_codec.to_text([["ce_id", base64.b64encode(b"3").decode()], ["ce_type", base64.b64encode(b"y").decode()]])
    db.execute("INSERT INTO records (topic, key, headers, value, appended_at) VALUES ('t', 'k3', ?, x'7b7d', 0)", (older,))
    db.commit()
    records = log.subscribe("g", ["t"]).poll(1.0, 10)
    assert [r.message.headers for r in records] == [text.headers, binary.headers, (("ce_id", b"3"), ("ce_type", b"y"))]
    log.close()
