#!/usr/bin/python3
"""connectproxy: a small HTTP CONNECT proxy for ipad's tests (kubeconfig
proxy-url). Stdlib only, threaded, 127.0.0.1.

Only CONNECT is served (what a client sends for an https:// URL through an
http:// proxy): "CONNECT host:port HTTP/1.1", then the bytes are relayed
both ways until one side closes. Anything else gets 405. Every CONNECT
target is recorded.

    with ConnectProxy() as proxy:
        proxy.url          # "http://127.0.0.1:PORT"
        proxy.targets()    # ["127.0.0.1:6443", ...]
"""
import select
import socket
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1").strip()
        while True:  # the request's headers
            h = self.rfile.readline(8192)
            if h in (b"\r\n", b"\n", b""):
                break
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT" or ":" not in parts[1]:
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = parts[1].rsplit(":", 1)
        self.server.proxy._record(parts[1])
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError) as e:
            msg = ("cannot connect: %s" % e).encode()
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(msg), msg))
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        client = self.connection
        # what the client sent after the headers is still in rfile's buffer
        pending = self.rfile.peek() if hasattr(self.rfile, "peek") else b""
        if pending:
            upstream.sendall(self.rfile.read1(len(pending)))
        try:
            socks = [client, upstream]
            while True:
                ready, _, _ = select.select(socks, [], [], 60)
                if not ready:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ConnectProxy:
    def __init__(self, port=0):
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.proxy = self
        self._lock = threading.Lock()
        self._targets = []
        self._thread = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def _record(self, target):
        with self._lock:
            self._targets.append(target)

    def targets(self):
        with self._lock:
            return list(self._targets)

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
