# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A tolerant HTTP/1.1 backend for the per-request attack tests.

    req_sink.py PORT

HTTP/1.1 with keep-alive (and pipelining) on [::]:PORT (dual stack), python3
stdlib only. Every request but GET /stats is counted and answered 200 with a
small JSON body, whatever its method, path or body: the attack tests send
bodies that are not JSON (request lines, chunks of them), which
openai_server.py rightly refuses with a 400 and does not count. Bodies are read
by their framing (Content-Length, or chunked) like any server would, so what
is counted is what an HTTP server really saw as requests.

  GET /stats   {"requests": n, "by_peer": {addr: n}, "connections": n,
                "bodies": [[method, framing, length], ...] (the last 64),
                "segs_in": {"addr port": data segments the connection had
                            received when its last request was read}}

segs_in is the server's own TCP_INFO (tcpi_data_segs_in): how many segments
the requests really arrived in, after whatever the data path and GRO did.

Peers are counted by address (IPv4-mapped IPv6 shown as IPv4). Nothing is
logged per request.
"""
import http.server
import json
import socket
import struct
import sys
import threading

port = int(sys.argv[1])
lock = threading.Lock()
stats = {"requests": 0, "by_peer": {}, "connections": 0, "bodies": [], "segs_in": {}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "req-sink/1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with lock:
            stats["connections"] += 1

    def log_message(self, *a):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return "chunked", body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return "length", self.rfile.read(n) if n else b""

    def answer(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        framing, body = self.read_body()
        if self.command == "GET" and self.path.split("?")[0] == "/stats":
            with lock:
                snap = json.loads(json.dumps(stats))
            self.answer(snap)
            return
        host = self.client_address[0]
        peer = host[7:] if host.startswith("::ffff:") else host
        info = self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160)
        segs = struct.unpack_from("I", info, 152)[0]  # tcpi_data_segs_in
        with lock:
            stats["requests"] += 1
            n = stats["requests"]
            stats["by_peer"][peer] = stats["by_peer"].get(peer, 0) + 1
            stats["segs_in"]["%s %d" % (peer, self.client_address[1])] = segs
            stats["bodies"] = (stats["bodies"] + [[self.command, framing, len(body)]])[-64:]
        self.answer({"n": n, "body_len": len(body)})

    do_GET = do_POST = do_PUT = handle_any


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    def handle_error(self, request, client_address):
        # a connection reset under a request is what the data path does to a
        # refused one's backend side: expected
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


try:
    Server(("::", port), Handler).serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
