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
import json
import socket
import struct
import sys
import threading

from http_backend import Handler, peer_of, serve

port = int(sys.argv[1])
lock = threading.Lock()
stats = {"requests": 0, "by_peer": {}, "connections": 0, "bodies": [], "segs_in": {}}


class SinkHandler(Handler):
    server_version = "req-sink/1"

    def connected(self):
        with lock:
            stats["connections"] += 1

    def handle_any(self):
        framing, body = self.read_body()
        if self.command == "GET" and self.path.split("?")[0] == "/stats":
            with lock:
                snap = json.loads(json.dumps(stats))
            self.send_json(200, snap)
            return
        peer = peer_of(self.client_address)
        info = self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160)
        segs = struct.unpack_from("I", info, 152)[0]  # tcpi_data_segs_in
        with lock:
            stats["requests"] += 1
            n = stats["requests"]
            stats["by_peer"][peer] = stats["by_peer"].get(peer, 0) + 1
            stats["segs_in"]["%s %d" % (peer, self.client_address[1])] = segs
            stats["bodies"] = (stats["bodies"] + [[self.command, framing, len(body)]])[-64:]
        self.send_json(200, {"n": n, "body_len": len(body)})

    do_GET = do_POST = do_PUT = handle_any


serve(port, SinkHandler)
