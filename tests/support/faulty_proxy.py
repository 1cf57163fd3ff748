"""A loopback HTTP proxy in front of an object store (Swift's own API or its S3 API) that
misbehaves on purpose, per object name, so that tests see a store fail as it does in the
field: an object gone after the listing (404), a refusal (403), a body corrupted on the way
(one byte flipped) or cut off mid-body. Everything else passes through unchanged (the Host
header too: S3 signatures cover it); Swift's auth answer is rewritten to point here."""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class FaultyProxy:
    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream).netloc  # host:port of the real store
        self.faults: dict[str, list[str]] = {}  # object name -> actions, one per GET
        self.gets: dict[str, int] = {}  # object name -> GETs seen
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FaultyProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, name: str, *actions: str) -> None:
        """The next GETs of the object `name` (its key's last part): "404", "403", "flip"
        or "cut", one action each; GETs after them pass."""
        with self.lock:
            self.faults[name] = list(actions)

    def _action(self, method: str, path: str) -> str | None:
        name = path.split("?")[0].rsplit("/", 1)[-1]
        with self.lock:
            if method != "GET" or name not in self.faults:
                return None
            self.gets[name] = self.gets.get(name, 0) + 1
            return self.faults[name].pop(0) if self.faults[name] else None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                action = proxy._action(self.command, self.path)
                if action in ("404", "403"):
                    self.send_response(int(action))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                conn.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)  # fmt: skip
                for key, value in self.headers.items():
                    if key.lower() not in ("connection", "keep-alive"):
                        conn.putheader(key, value)
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if action == "flip" and data:
                    flipped = bytearray(data)
                    flipped[len(data) // 2] ^= 0x01
                    data = bytes(flipped)
                self.send_response(resp.status, resp.reason)
                for key, value in resp.getheaders():
                    if key.lower() == "x-storage-url":  # Swift's auth: come back here
                        value = value.replace(
                            proxy.upstream, f"127.0.0.1:{proxy.server.server_port}"
                        )
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                full = resp.getheader("Content-Length") if self.command == "HEAD" else len(data)
                self.send_header("Content-Length", str(full or 0))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if action == "cut":
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

        return Handler
