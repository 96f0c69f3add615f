# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A stand-in OpenAI-compatible inference server for the per-request tests.

    openai_server.py PORT [--delay-ms N] [--first-ms N] [--token-ms N]

HTTP/1.1 with keep-alive on [::]:PORT (dual stack), python3 stdlib only:

  POST /v1/chat/completions   a chat.completion with `choices` and `usage`; with
                              "stream": true, text/event-stream (chunked): a role
                              chunk, one content chunk per token, the finish
                              chunk, a usage chunk when
                              stream_options.include_usage, then `data: [DONE]`.
                              max_tokens tokens (default 5; a prompt
                              "echo: TEXT" makes each token TEXT); the prompt
                              counts a token per 4 characters of its messages'
                              content
  GET  /v1/models             one model
  GET  /stats                 {"requests": completions seen, "by_peer": {addr: n},
                               "streamed": n, "models": n, "connections": n,
                               "tokens": the usage totals of every completion
                               answered in full, "tokens_by_peer": {addr: n}}

Times (for the response-time tests): --delay-ms waits before anything is
sent; --first-ms, for a stream, sends the head at once and the first event
N ms later (as engines do: the head before the model produced anything),
for a completion not streamed it adds to --delay-ms; --token-ms waits
between a stream's events. `POST /admin {"delay_ms": N}` changes --delay-ms
from then on (a backend that turns slow) and answers the settings.

A completion is counted as soon as its request has been read, before
--delay-ms (the wait before answering each completion): a test that polls
/stats sees what reached the backend, not what it has finished answering.
That is the point of the server: the data path answers refused requests
itself, so the backend must never count them. Peers are counted by address
(IPv4-mapped IPv6 shown as IPv4). Nothing is logged per request.
"""
import argparse
import json
import threading
import time

from http_backend import Handler, peer_of, serve

MODEL = "infergate-test"
WORDS = ["Hello", " from", " the", " stand-in", " backend."]

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--delay-ms", type=int, default=0)
ap.add_argument("--first-ms", type=int, default=0)
ap.add_argument("--token-ms", type=int, default=0)
ap.add_argument("--proxy-protocol", action="store_true",
                help="connections start with a PROXY header (v1 or v2)")
args = ap.parse_args()

lock = threading.Lock()
stats = {"requests": 0, "by_peer": {}, "streamed": 0, "models": 0, "connections": 0,
         "tokens": 0, "tokens_by_peer": {}}


def count(key, peer=None):
    with lock:
        stats[key] += 1
        if peer is not None:
            stats["by_peer"][peer] = stats["by_peer"].get(peer, 0) + 1
        return stats[key]


def served(peer, use):
    with lock:
        stats["tokens"] += use["total_tokens"]
        stats["tokens_by_peer"][peer] = stats["tokens_by_peer"].get(peer, 0) + use["total_tokens"]


def usage(messages, completion):
    prompt = sum(len(str(m.get("content", ""))) for m in messages
                 if isinstance(m, dict)) // 4 + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


class OpenAIHandler(Handler):
    proxy_protocol = args.proxy_protocol

    server_version = "openai-standin/1"

    def connected(self):
        count("connections")

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
        _, body = self.read_body()
        if path == "/admin":
            try:
                req = json.loads(body or b"{}")
                with lock:
                    args.delay_ms = int(req.get("delay_ms", args.delay_ms))
            except (ValueError, TypeError, AttributeError) as e:
                self.error(400, "bad admin body: %s" % e, "invalid_request_error")
                return
            self.send_json(200, {"delay_ms": args.delay_ms, "first_ms": args.first_ms,
                                 "token_ms": args.token_ms})
            return
        if path != "/v1/chat/completions":
            self.error(404, "no route %s" % path, "invalid_request_error")
            return
        req = self.json_object(body)
        if req is None:
            return
        n = count("requests", peer_of(self.client_address))
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000.0)
        cid = "chatcmpl-%d" % n
        model = req.get("model") or MODEL
        want = req.get("max_tokens") or req.get("max_completion_tokens") or len(WORDS)
        msgs = req.get("messages") or []
        last = str(msgs[-1].get("content", "")) if msgs and isinstance(msgs[-1], dict) else ""
        # "echo: TEXT" makes every token TEXT: a client that steers the output
        pool = [last[5:]] if last.startswith("echo:") else WORDS
        words = [pool[i % len(pool)] for i in range(max(1, min(int(want), 4096)))]
        use = usage(req.get("messages") or [], len(words))
        peer = peer_of(self.client_address)
        if req.get("stream"):
            count("streamed")
            # the head goes before the first token (see stream())
            self.stream(cid, model, use, words,
                        bool((req.get("stream_options") or {}).get("include_usage")))
            served(peer, use)
            return
        if args.first_ms:
            time.sleep(args.first_ms / 1000.0)
        self.send_json(200, {
            "id": cid, "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": None,
            "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "".join(words),
                                     "refusal": None}}],
            "usage": use})
        served(peer, use)

    def stream(self, cid, model, use, words, include_usage):
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

        if args.first_ms:
            time.sleep(args.first_ms / 1000.0)
        chunk({"role": "assistant", "content": ""})
        for i, w in enumerate(words):
            if i and args.token_ms:
                time.sleep(args.token_ms / 1000.0)
            chunk({"content": w})
        chunk({}, "stop")
        if include_usage:
            event(json.dumps(dict(base, choices=[], usage=use)).encode())
        event(b"[DONE]")
        self.wfile.write(b"0\r\n\r\n")


serve(args.port, OpenAIHandler)
