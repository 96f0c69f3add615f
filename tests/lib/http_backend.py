# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What the test backends (openai_server.py, req_sink.py) share: a keep-alive
HTTP/1.1 server on [::]:PORT, dual stack, python3 stdlib only, whose handler
replies at once (TCP_NODELAY), reads bodies by their framing (Content-Length
or chunked) as any server would, and takes a reset under a request (what the
data path does to the backend's side of a refused one) without a traceback."""
import http.server
import json
import socket
import sys


def peer_of(addr):
    """A client's address, IPv4-mapped IPv6 shown as IPv4."""
    host = addr[0]
    return host[7:] if host.startswith("::ffff:") else host


V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # a connection starts with a PROXY header (v1 or v2), as a load
    # balancer's do: its client is the one the header names
    proxy_protocol = False

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.proxy_protocol:
            self.read_proxy_header()
        self.connected()

    def read_proxy_header(self):
        head = self.rfile.peek(16)[:16]
        if head.startswith(b"PROXY "):
            f = self.rfile.readline(108).split()
            if len(f) >= 6 and f[1] in (b"TCP4", b"TCP6"):
                self.client_address = (f[2].decode(), int(f[4]))
        elif head.startswith(V2_SIG):
            hdr = self.rfile.read(16)
            body = self.rfile.read(int.from_bytes(hdr[14:16], "big"))
            if hdr[12] & 0xf == 1 and hdr[13] == 0x11:
                self.client_address = (socket.inet_ntop(socket.AF_INET, body[0:4]),
                                       int.from_bytes(body[8:10], "big"))
            elif hdr[12] & 0xf == 1 and hdr[13] == 0x21:
                self.client_address = (socket.inet_ntop(socket.AF_INET6, body[0:16]),
                                       int.from_bytes(body[32:34], "big"))

    def connected(self):
        """Called once per connection."""

    def log_message(self, *a):
        pass

    def read_body(self):
        """(framing, body): "chunked" or "length"."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers, up to the empty line
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return "chunked", body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return "length", self.rfile.read(n) if n else b""

    def error(self, code, message, typ):
        """An error as the OpenAI API words it."""
        self.send_json(code, {"error": {"message": message, "type": typ,
                                        "param": None, "code": None}})

    def json_object(self, body):
        """The body as a JSON object, or None after answering 400."""
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self.error(400, "bad JSON body: %s" % e, "invalid_request_error")
            return None
        return req

    def send_json(self, code, obj, extra=()):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a client reconnecting after each
    # refusal would overflow it and pay a 1 s SYN retransmission
    request_queue_size = 1024

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def serve(port, handler):
    try:
        Server(("::", port), handler).serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
