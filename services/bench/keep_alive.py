"""One persistent HTTP/1.1 connection, as lean as a client can be: the bench's clients share the cores
with the system they measure, and ``http.client`` spent about half of their CPU parsing each response's
headers with the ``email`` package. Requests are whole byte strings sent in one write; a response is
read by its ``Content-Length`` (or chunked, or to the end of the connection), and a ``Connection: close``
closes this side too. Failures raise ``OSError`` or ``http.client.HTTPException``, as ``http.client`` does."""
from __future__ import annotations

import http.client
import socket

MAX_LINE = 65536
NO_BODY_STATUSES = (204, 304)


def post_request(host: str, port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """The bytes ``http.client`` sends for ``request("POST", path, body, headers)``, in its order."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Accept-Encoding: identity",
             f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class KeepAliveConnection:
    def __init__(self, host: str, port: int, timeout_s: float):
        self._address = (host, port)
        self._timeout_s = timeout_s
        self._socket: socket.socket | None = None
        self._reader = None

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one whole request and read its response: (status, body)."""
        if self._socket is None:
            self._socket = socket.create_connection(self._address, timeout=self._timeout_s)
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._reader = self._socket.makefile("rb")
        self._socket.sendall(request)
        try:
            return self._read_response()
        except ValueError as error:  # a malformed number in the status line or a header
            raise http.client.HTTPException(f"malformed response: {error}") from None

    def close(self) -> None:
        if self._socket is not None:
            self._reader.close()
            self._socket.close()
            self._socket = self._reader = None

    def _read_response(self) -> tuple[int, bytes]:
        status_line = self._line()
        version, status_text = (status_line.split(None, 2) + [b"", b""])[:2]
        if not version.startswith(b"HTTP/1."):
            raise http.client.BadStatusLine(repr(status_line))
        status, length, chunked, close = int(status_text), None, False, version == b"HTTP/1.0"
        while (line := self._line()) not in (b"\r\n", b"\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if status in NO_BODY_STATUSES or 100 <= status < 200:
            body = b""
        elif chunked:
            body = self._chunked_body()
        elif length is not None:
            body = self._exactly(length)
        else:  # neither: the body ends with the connection
            body, close = self._reader.read(), True
        if close:
            self.close()
        return status, body

    def _line(self) -> bytes:
        line = self._reader.readline(MAX_LINE + 1)
        if not line:
            raise http.client.RemoteDisconnected("the server closed the connection")
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("response line")
        return line

    def _exactly(self, length: int) -> bytes:
        data = self._reader.read(length)
        if len(data) < length:
            raise http.client.IncompleteRead(data, length - len(data))
        return data

    def _chunked_body(self) -> bytes:
        chunks = []
        while size := int(self._line().split(b";", 1)[0], 16):
            chunks.append(self._exactly(size))
            self._exactly(2)  # the CRLF after each chunk
        while self._line() not in (b"\r\n", b"\n"):  # trailers
            pass
        return b"".join(chunks)
