# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A stand-in OpenAI-compatible inference server for the per-request tests.

    openai_server.py PORT [--delay-ms N]

HTTP/1.1 with keep-alive on [::]:PORT (dual stack), python3 stdlib only:

  POST /v1/chat/completions   a chat.completion with `choices` and `usage`; with
                              "stream": true, text/event-stream (chunked): a role
                              chunk, a few content chunks, the finish chunk, a
                              usage chunk when stream_options.include_usage, then
                              `data: [DONE]`
  GET  /v1/models             one model
  GET  /stats                 {"requests": completions seen, "by_peer": {addr: n},
                               "streamed": n, "models": n, "connections": n}

A completion is counted as soon as its request has been read, before
--delay-ms (the wait before answering each completion): a test that polls
/stats sees what reached the backend, not what it has finished answering.
That is the point of the server: the data path answers refused requests
itself, so the backend must never count them. Peers are counted by address
(IPv4-mapped IPv6 shown as IPv4). Nothing is logged per request.
"""
import argparse
import http.server
import json
import socket
import sys
import threading
import time

MODEL = "infergate-test"
WORDS = ["Hello", " from", " the", " stand-in", " backend."]

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--delay-ms", type=int, default=0)
args = ap.parse_args()

lock = threading.Lock()
stats = {"requests": 0, "by_peer": {}, "streamed": 0, "models": 0, "connections": 0}


def peer_of(addr):
    host = addr[0]
    return host[7:] if host.startswith("::ffff:") else host


def count(key, peer=None):
    with lock:
        stats[key] += 1
        if peer is not None:
            stats["by_peer"][peer] = stats["by_peer"].get(peer, 0) + 1
        return stats[key]


def usage(messages):
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages
                 if isinstance(m, dict)) + 1
    return {"prompt_tokens": prompt, "completion_tokens": len(WORDS),
            "total_tokens": prompt + len(WORDS)}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "openai-standin/1"

    def setup(self):
        super().setup()
        # replies go out as soon as they are written, like a real server's
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        count("connections")

    def log_message(self, *a):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers, up to the empty line
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, code, obj, extra=()):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, message, typ):
        self.send_json(code, {"error": {"message": message, "type": typ,
                                        "param": None, "code": None}})

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/stats":
            with lock:
                snap = json.loads(json.dumps(stats))
            self.send_json(200, snap)
        elif path == "/v1/models":
            count("models")
            self.send_json(200, {"object": "list", "data": [
                {"id": MODEL, "object": "model", "created": 0, "owned_by": "infergate"}]})
        else:
            self.error(404, "no route %s" % path, "invalid_request_error")

    def do_POST(self):
        path = self.path.split("?")[0]
        body = self.read_body()
        if path != "/v1/chat/completions":
            self.error(404, "no route %s" % path, "invalid_request_error")
            return
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self.error(400, "bad JSON body: %s" % e, "invalid_request_error")
            return
        n = count("requests", peer_of(self.client_address))
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000.0)
        cid = "chatcmpl-%d" % n
        model = req.get("model") or MODEL
        use = usage(req.get("messages") or [])
        if req.get("stream"):
            count("streamed")
            self.stream(cid, model, use,
                        bool((req.get("stream_options") or {}).get("include_usage")))
            return
        self.send_json(200, {
            "id": cid, "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": None,
            "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "".join(WORDS),
                                     "refusal": None}}],
            "usage": use})

    def stream(self, cid, model, use, include_usage):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "system_fingerprint": None}

        def event(payload):
            data = b"data: " + payload + b"\n\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def chunk(delta, finish=None, **extra):
            c = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                     "finish_reason": finish}], **extra)
            if include_usage:
                c.setdefault("usage", None)
            event(json.dumps(c).encode())

        chunk({"role": "assistant", "content": ""})
        for w in WORDS:
            chunk({"content": w})
        chunk({}, "stop")
        if include_usage:
            event(json.dumps(dict(base, choices=[], usage=use)).encode())
        event(b"[DONE]")
        self.wfile.write(b"0\r\n\r\n")


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
        # a connection reset under a request (what the data path does to the
        # backend's side of a refused one) is expected, not worth a traceback
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


try:
    Server(("::", args.port), Handler).serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
