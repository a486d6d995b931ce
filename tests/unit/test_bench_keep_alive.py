"""The bench's HTTP/1.1 client against a real socket server: the requests http.client would send, over
one kept-alive connection, and the response framings a server may use."""
from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest

from services.bench.keep_alive import KeepAliveConnection, post_request
from services.bench.load import ReportLoad


class ScriptedServer:
    """Accepts connections, records each request (head + body) and answers the next scripted response."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            connection, _ = self._listener.accept()
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        reader = connection.makefile("rb")
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = reader.readline()
                if not line:
                    return
                head += line
            length = int(next((l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")),
                              b"0"))
            self.requests.append(head + reader.read(length))
            response = self.responses.pop(0) if self.responses else ok(b'{"case_id": "c"}')
            connection.sendall(response)
            if b"Connection: close" in response:
                connection.close()
                return


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 202 ACCEPTED\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body), extra, body)


def test_a_request_is_byte_for_byte_what_http_client_sends():
    server = ScriptedServer([ok(b"{}"), ok(b"{}")])
    headers = {"Content-Type": "application/json", "X-API-Key": "k", "Idempotency-Key": "i-1"}
    body = json.dumps({"text": "楼道灯坏了"}, ensure_ascii=False).encode()
    reference = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    reference.request("POST", "/api/v1/reports", body=body, headers=headers)
    reference.getresponse().read()
    reference.close()
    connection = KeepAliveConnection("127.0.0.1", server.port, 5)
    assert connection.exchange(post_request("127.0.0.1", server.port, "/api/v1/reports", headers, body)) == (202, b"{}")
    connection.close()
    assert server.requests[0] == server.requests[1]


def test_one_connection_carries_several_exchanges_in_every_framing_and_is_reopened_after_close():
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\nT: 1\r\n\r\n"
    server = ScriptedServer([ok(b"first"), chunked, ok(b"bye", b"Connection: close\r\n"), ok(b"again")])
    connection = KeepAliveConnection("127.0.0.1", server.port, 5)
    request = post_request("127.0.0.1", server.port, "/x", {}, b"{}")
    assert connection.exchange(request) == (202, b"first")
    assert connection.exchange(request) == (200, b"abcdef")
    assert connection.exchange(request) == (202, b"bye")
    assert server.connections == 1
    assert connection.exchange(request) == (202, b"again")  # the server closed: a new connection
    assert server.connections == 2
    connection.close()


def test_a_connection_closed_by_the_server_mid_exchange_raises_as_http_client_would():
    server = ScriptedServer([b"HTTP/1.1 202 ACCEPTED\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort"])
    connection = KeepAliveConnection("127.0.0.1", server.port, 5)
    with pytest.raises(http.client.IncompleteRead):
        connection.exchange(post_request("127.0.0.1", server.port, "/x", {}, b""))


def test_every_report_has_its_own_body_and_idempotency_key_over_the_kept_connections():
    server = ScriptedServer([ok(b'{"case_id": "c%d"}' % n) for n in range(12)])
    result = ReportLoad(f"http://127.0.0.1:{server.port}", "key", ["U1", "U2", "U3"], cases=12, connections=3).run()
    assert len(result.accepted_at) == 12 and not result.failures
    assert server.connections <= 3  # kept alive: 12 requests over at most one connection per client
    keys = {line for request in server.requests for line in request.split(b"\r\n") if line.startswith(b"Idempotency-Key")}
    bodies = {request.split(b"\r\n\r\n", 1)[1] for request in server.requests}
    assert len(keys) == 12 and len(bodies) == 12
