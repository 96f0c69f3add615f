# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A toy inference backend for the breaker tests.

    backend.py NAME PORT MODEFILE

HTTP/1.1 with keep-alive on [::]:PORT (dual stack). Every response body is
NAME and a newline, so a client can tell which server answered. MODEFILE,
re-read on every request, holds how to answer: "ok" (200), "503", or "hang"
(read the request, never answer, until the client goes away or 60 s pass).
Stopping the process stops the listener (the "stopped listening" case).
"""
import http.server
import os
import socket
import sys
import time

name, port, modefile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
body = (name + "\n").encode()


def mode():
    try:
        with open(modefile) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        m = mode()
        if m == "hang":
            self.connection.settimeout(1)
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            self.close_connection = True
            return
        self.send_response(503 if m == "503" else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


Server(("::", port), Handler).serve_forever()
