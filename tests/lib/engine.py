# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A stand-in inference engine (issue 15): an OpenAI-compatible server whose
completions take the time a GPU's would, with a waiting queue, slots and a KV
cache, and vLLM's metrics about them. python3 stdlib only.

    engine.py PORT [--slots 4] [--prefill-ms 20] [--token-ms 20]
              [--max-tokens 16] [--kv-blocks N] [--model NAME]

HTTP/1.1 keep-alive on [::]:PORT (dual stack, lib/http_backend.py).

The model: --slots requests decode at once. An admitted request waits in one
FIFO queue until a slot is free (and its prompt + max_tokens fit in the KV
cache), then takes --prefill-ms (plus /admin's delay_ms), then produces one
token per --token-ms: max_tokens of the request, at most --max-tokens (also
the default). A streamed completion sends each token as it is produced, its
headers and role chunk with the first one, so a client's time to first token
is queue wait + prefill + one token. A request whose client goes away while it
waits or decodes is aborted (as vLLM does) and frees its place.
Capacity (requests/s) = slots / (prefill + max_tokens x token), printed at
start as `engine: capacity R req/s`.

KV cache: blocks of 16 tokens; usage = the prompt + generated tokens of the
running requests / (kv_blocks x 16). The default --kv-blocks makes full slots
of max-token requests with 16-token prompts (what loadgen.py sends) use ~0.6.
A prompt counts a token per 4 characters of its messages' content, plus one.

  POST /v1/chat/completions  as lib/openai_server.py: a chat.completion with
                             `usage`, or with "stream": true text/event-stream
                             (chunked), a role chunk, one content chunk per
                             token, the finish chunk, a usage chunk when
                             stream_options.include_usage, then data: [DONE]
  GET  /v1/models            one model
  GET  /metrics              Prometheus text, vLLM's names, label model_name:
                             vllm:num_requests_waiting, vllm:num_requests_running,
                             vllm:kv_cache_usage_perc (gauges, 0..1 for the last),
                             vllm:request_success_total (counter),
                             vllm:time_to_first_token_seconds (histogram)
  GET  /stats                JSON: completed, aborted, waiting, running, kv,
                             capacity, ttft_p50, ttft_p99 (s, every first token
                             since the start or the last reset), ttft_p99_1s (those
                             of the last second), by_peer {addr: completed},
                             settings
  POST /admin                JSON, any of: {"delay_ms": N} adds N ms to every
                             prefill from now on; {"metrics": "hang"} makes
                             /metrics accept and never answer until
                             {"metrics": "ok"} (the held ones are then
                             answered); {"reset": true} clears the TTFT
                             samples and by_peer. Answers 200 with the settings.

TTFT here is from the moment the request was read to its first token. Nothing
is logged per request.
"""
import argparse
import collections
import json
import math
import select
import socket
import sys
import threading
import time

from http_backend import Handler, peer_of, serve

WORDS = ["Hello", " from", " the", " stand-in", " engine."]
BLOCK = 16
TYPICAL_PROMPT = 16
# vLLM's buckets for vllm:time_to_first_token_seconds
TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
                2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--slots", type=int, default=4)
ap.add_argument("--prefill-ms", type=float, default=20)
ap.add_argument("--token-ms", type=float, default=20)
ap.add_argument("--max-tokens", type=int, default=16)
ap.add_argument("--kv-blocks", type=int, default=0)
ap.add_argument("--model", default="infergate-engine")
args = ap.parse_args()
if args.slots < 1 or args.max_tokens < 1 or args.prefill_ms < 0 or args.token_ms < 0:
    ap.error("--slots and --max-tokens must be >= 1, the times >= 0")
if args.kv_blocks <= 0:
    args.kv_blocks = math.ceil(args.slots * (TYPICAL_PROMPT + args.max_tokens) / (0.6 * BLOCK))
KV_TOKENS = args.kv_blocks * BLOCK


class Req:
    __slots__ = ("peer", "prompt", "want", "t_arrival", "generated", "reserved", "admitted",
                 "cv")

    def __init__(self, peer, prompt, want):
        self.peer, self.prompt, self.want = peer, prompt, want
        self.t_arrival = time.monotonic()
        self.generated = 0
        self.reserved = prompt + want
        self.admitted = False
        self.cv = None


class Aborted(Exception):
    pass


class Engine:
    def __init__(self):
        self.lock = threading.Lock()
        self.waiting = collections.deque()
        self.running = 0
        self.kv_used = 0       # tokens in the cache (running requests)
        self.kv_reserved = 0   # what the running requests may grow to
        self.delay_ms = 0.0
        self.metrics_ok = threading.Event()
        self.metrics_ok.set()
        self.completed = 0
        self.aborted = 0
        self.seq = 0
        self.by_peer = {}
        self.ttft_hist = [0] * (len(TTFT_BUCKETS) + 1)
        self.ttft_sum = 0.0
        self.ttft_count = 0
        self.ttfts = []                               # since start or reset
        self.recent = collections.deque()             # (t_first, ttft)

    def capacity(self):
        per = (args.prefill_ms + self.delay_ms + args.max_tokens * args.token_ms) / 1000.0
        return args.slots / per if per > 0 else float("inf")

    def settings(self):
        return {"slots": args.slots, "prefill_ms": args.prefill_ms, "token_ms": args.token_ms,
                "max_tokens": args.max_tokens, "kv_blocks": args.kv_blocks,
                "delay_ms": self.delay_ms,
                "metrics": "ok" if self.metrics_ok.is_set() else "hang",
                "capacity": round(self.capacity(), 3)}

    def _fits(self, r):
        # a request larger than the whole cache runs alone rather than never
        return self.kv_reserved + r.reserved <= KV_TOKENS or self.running == 0

    def _dispatch(self):
        """Gives free slots to the head of the queue (the lock held): only
        the requests that can run are woken, no herd of waiters."""
        while self.waiting and self.running < args.slots and self._fits(self.waiting[0]):
            r = self.waiting.popleft()
            self.running += 1
            self.kv_reserved += r.reserved
            self.kv_used += r.prompt
            r.admitted = True
            r.cv.notify()

    def admit(self, r, gone):
        """Waits in the FIFO queue for a slot; gone() says the client left
        (asked every 0.5 s while waiting, and once more before starting)."""
        with self.lock:
            self.seq += 1
            n = self.seq
            r.cv = threading.Condition(self.lock)
            self.waiting.append(r)
            self._dispatch()
            while not r.admitted:
                r.cv.wait(0.5)
                if not r.admitted and gone():
                    self.waiting.remove(r)
                    self.aborted += 1
                    self._dispatch()
                    raise Aborted()
            delay = self.delay_ms
        if gone():
            self.finish(r, False)
            raise Aborted()
        return n, delay

    def token(self, r):
        with self.lock:
            r.generated += 1
            self.kv_used += 1
            if r.generated == 1:
                t = time.monotonic()
                ttft = t - r.t_arrival
                i = 0
                while i < len(TTFT_BUCKETS) and ttft > TTFT_BUCKETS[i]:
                    i += 1
                self.ttft_hist[i] += 1
                self.ttft_sum += ttft
                self.ttft_count += 1
                self.ttfts.append(ttft)
                self.recent.append((t, ttft))
                while self.recent and self.recent[0][0] < t - 1.0:
                    self.recent.popleft()

    def finish(self, r, ok):
        with self.lock:
            self.running -= 1
            self.kv_reserved -= r.reserved
            self.kv_used -= r.prompt + r.generated
            if ok:
                self.completed += 1
                self.by_peer[r.peer] = self.by_peer.get(r.peer, 0) + 1
            else:
                self.aborted += 1
            self._dispatch()

    def stats(self):
        with self.lock:
            now = time.monotonic()
            while self.recent and self.recent[0][0] < now - 1.0:
                self.recent.popleft()
            s = sorted(self.ttfts)
            rs = sorted(x for _, x in self.recent)
            return {"completed": self.completed, "aborted": self.aborted,
                    "waiting": len(self.waiting), "running": self.running,
                    "kv": round(self.kv_used / KV_TOKENS, 4),
                    "capacity": round(self.capacity(), 3),
                    "ttft_p50": pct(s, 50), "ttft_p99": pct(s, 99),
                    "ttft_p99_1s": pct(rs, 99), "ttft_n": len(s),
                    "by_peer": dict(self.by_peer), "settings": self.settings()}

    def metrics(self):
        m = 'model_name="%s"' % args.model
        with self.lock:
            out = [
                "# HELP vllm:num_requests_running Number of requests in model execution batches.",
                "# TYPE vllm:num_requests_running gauge",
                "vllm:num_requests_running{%s} %.1f" % (m, self.running),
                "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
                "# TYPE vllm:num_requests_waiting gauge",
                "vllm:num_requests_waiting{%s} %.1f" % (m, len(self.waiting)),
                "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
                "# TYPE vllm:kv_cache_usage_perc gauge",
                "vllm:kv_cache_usage_perc{%s} %s" % (m, repr(self.kv_used / KV_TOKENS)),
                "# HELP vllm:request_success_total Count of successfully processed requests.",
                "# TYPE vllm:request_success_total counter",
                'vllm:request_success_total{finished_reason="length",%s} %.1f'
                % (m, self.completed),
                "# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.",
                "# TYPE vllm:time_to_first_token_seconds histogram",
            ]
            cum = 0
            for le, n in zip(TTFT_BUCKETS + ["+Inf"], self.ttft_hist):
                cum += n
                out.append('vllm:time_to_first_token_seconds_bucket{le="%s",%s} %.1f'
                           % (le if le == "+Inf" else repr(float(le)), m, cum))
            out.append("vllm:time_to_first_token_seconds_sum{%s} %s" % (m, repr(self.ttft_sum)))
            out.append("vllm:time_to_first_token_seconds_count{%s} %.1f" % (m, self.ttft_count))
        return ("\n".join(out) + "\n").encode()

    def admin(self, req):
        with self.lock:
            if "delay_ms" in req:
                self.delay_ms = max(0.0, float(req["delay_ms"]))
            if req.get("reset"):
                self.ttfts = []
                self.recent.clear()
                self.by_peer = {}
        if "metrics" in req:
            if req["metrics"] == "hang":
                self.metrics_ok.clear()
            elif req["metrics"] == "ok":
                self.metrics_ok.set()
            else:
                raise ValueError("metrics: hang or ok")
        return self.settings()


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return round(sorted_vals[k], 6)


E = Engine()


def sleep_until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


class EngineHandler(Handler):
    server_version = "engine-standin/1"

    def gone(self):
        """The client closed its connection (a keep-alive client sends
        nothing more while it waits for the answer)."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/metrics":
            E.metrics_ok.wait()
            data = E.metrics()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif path == "/stats":
            self.send_json(200, E.stats())
        elif path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [
                {"id": args.model, "object": "model", "created": 0, "owned_by": "infergate"}]})
        elif path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.error(404, "no route %s" % path, "invalid_request_error")

    def do_POST(self):
        path = self.path.split("?")[0]
        _, body = self.read_body()
        req = self.json_object(body)
        if req is None:
            return
        if path == "/admin":
            try:
                self.send_json(200, E.admin(req))
            except (ValueError, TypeError) as e:
                self.error(400, str(e), "invalid_request_error")
            return
        if path != "/v1/chat/completions":
            self.error(404, "no route %s" % path, "invalid_request_error")
            return
        msgs = req.get("messages") or []
        prompt = sum(len(str(m.get("content", ""))) for m in msgs if isinstance(m, dict)) // 4 + 1
        try:
            want = int(req.get("max_tokens") or req.get("max_completion_tokens") or args.max_tokens)
        except (TypeError, ValueError):
            want = args.max_tokens
        want = max(1, min(want, args.max_tokens))
        r = Req(peer_of(self.client_address), prompt, want)
        try:
            n, delay = E.admit(r, self.gone)
        except Aborted:
            self.close_connection = True
            return
        ok = False
        try:
            ok = self.generate(r, n, req, delay)
        except OSError:
            self.close_connection = True
        finally:
            E.finish(r, ok)

    def generate(self, r, n, req, delay):
        t0 = time.monotonic()
        t_prefilled = t0 + (args.prefill_ms + delay) / 1000.0
        stream = bool(req.get("stream"))
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        model = req.get("model") or args.model
        cid = "chatcmpl-%d" % n
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "system_fingerprint": None}
        use = {"prompt_tokens": r.prompt, "completion_tokens": r.want,
               "total_tokens": r.prompt + r.want}
        words = []
        for k in range(r.want):
            sleep_until(t_prefilled + (k + 1) * args.token_ms / 1000.0)
            E.token(r)
            w = WORDS[k % len(WORDS)]
            words.append(w)
            if stream:
                if k == 0:
                    self.stream_head()
                    self.chunk(base, {"role": "assistant", "content": ""}, include_usage)
                self.chunk(base, {"content": w}, include_usage)
            elif k % 4 == 3 and self.gone():
                raise OSError("client gone")
        if stream:
            self.chunk(base, {}, include_usage, "length")
            if include_usage:
                self.event(json.dumps(dict(base, choices=[], usage=use)).encode())
            self.event(b"[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return True
        self.send_json(200, {
            "id": cid, "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": None,
            "choices": [{"index": 0, "logprobs": None, "finish_reason": "length",
                         "message": {"role": "assistant", "content": "".join(words),
                                     "refusal": None}}],
            "usage": use})
        return True

    def stream_head(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def event(self, payload):
        data = b"data: " + payload + b"\n\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def chunk(self, base, delta, include_usage, finish=None):
        c = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                 "finish_reason": finish}])
        if include_usage:
            c["usage"] = None
        self.event(json.dumps(c).encode())


print("engine: capacity %.2f req/s (%d slots, prefill %g ms, %d tokens x %g ms, "
      "kv %d blocks)" % (E.capacity(), args.slots, args.prefill_ms, args.max_tokens,
                         args.token_ms, args.kv_blocks), flush=True)
serve(args.port, EngineHandler)
