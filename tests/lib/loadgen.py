# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""An open-loop load generator of chat completions (issue 15), python3 stdlib
(asyncio): requests arrive on a schedule whatever the server does, as users
of an application would, not one after another's answer.

    loadgen.py URL --schedule "RATE:SECONDS,..." --out FILE.csv [--stream]
               [--bind ADDR] [--conns 16] [--max-tokens 16] [--timeout S]
               [--poisson] [--seed N] [--label NAME] [--prompt-chars 60]
               [--start-at EPOCH]

URL: the server (http://HOST:PORT, http://[V6]:PORT); /v1/chat/completions
is added unless the path already ends with /chat/completions (a path ending
in /v1 gets /chat/completions).

Arrivals: at RATE requests/s for SECONDS, phase after phase, evenly spaced
(1/RATE apart) or with --poisson exponential gaps (seeded by --seed). Each
goes out on an idle keep-alive HTTP/1.1 connection of a pool that grows on
demand to --conns connections (as the SDKs' pools do); with all --conns
busy, the arrival is counted as dropped by the client (status "drop") and
not sent. A 429 is recorded as refused with its Retry-After (retry-after-ms
when there is one, in s) and not retried; a connection the server closes
(a 429 from infergate says Connection: close) is replaced by a new one when
next needed. --timeout S (default 60) ends a request that has not completed
in S seconds (status "timeout"; the connection is closed, so the engine
aborts it); a failed connection or exchange is "error".

--bind ADDR sends from that source address (limits are per source).
--start-at EPOCH (time.time()) waits until then to start the schedule, so
several generators start together.

The CSV has a header and a row per arrival:
  t_send (s from the start of the schedule), status (200, 429, ..., drop,
  timeout, error), ttft_s (first byte of the body; streamed, the first SSE
  event, which carries the first token), total_s, client (--label),
  retry_after_s
At the end one JSON object on stdout: label, t0 (epoch of the start),
arrivals (constant|poisson), and per phase (by send time) and in total:
offered_s, admitted_s (not refused: sent and not answered 429), refused_s,
goodput_s (200 completions/s), ttft_p50/ttft_p99 (s, of the 200s), counts of
each outcome and the Retry-After range.
"""
import argparse
import asyncio
import json
import math
import random
import sys
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("--schedule", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--stream", action="store_true")
ap.add_argument("--bind")
ap.add_argument("--conns", type=int, default=16)
ap.add_argument("--max-tokens", type=int, default=16)
ap.add_argument("--timeout", type=float, default=60)
ap.add_argument("--poisson", action="store_true")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--label", default="client")
ap.add_argument("--prompt-chars", type=int, default=60)
ap.add_argument("--start-at", type=float, default=0)
args = ap.parse_args()

try:
    PHASES = []
    for part in args.schedule.split(","):
        r, s = part.split(":")
        PHASES.append((float(r), float(s)))
        if PHASES[-1][0] < 0 or PHASES[-1][1] <= 0:
            raise ValueError
except ValueError:
    ap.error("--schedule: RATE:SECONDS[,RATE:SECONDS...], rates >= 0, seconds > 0")

u = urllib.parse.urlsplit(args.url)
if u.scheme != "http" or not u.hostname:
    ap.error("URL: http://HOST:PORT[/path]")
HOST, PORT = u.hostname, u.port or 80
PATH = u.path.rstrip("/")
if not PATH.endswith("/chat/completions"):
    PATH += "/chat/completions" if PATH.endswith("/v1") else "/v1/chat/completions"
HOSTHDR = u.netloc


def arrivals():
    """Arrival times (s from the start), phase by phase."""
    rnd = random.Random(args.seed)
    out, start = [], 0.0
    for rate, secs in PHASES:
        end = start + secs
        if rate > 0:
            if args.poisson:
                t = start + rnd.expovariate(rate)
                while t < end:
                    out.append(t)
                    t += rnd.expovariate(rate)
            else:
                n = int(round(secs * rate))
                out.extend(start + i / rate for i in range(n))
        start = end
    return out


def request_bytes(n):
    content = "call %d: say hello" % n
    while len(content) < args.prompt_chars:
        content += " and tell me more about it"
    body = {"model": "infergate-engine", "max_tokens": args.max_tokens,
            "messages": [{"role": "user", "content": content[:max(args.prompt_chars, 1)]}]}
    if args.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    data = json.dumps(body).encode()
    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            "Accept: %s\r\nUser-Agent: infergate-loadgen/1\r\nContent-Length: %d\r\n\r\n"
            % (PATH, HOSTHDR, "text/event-stream" if args.stream else "application/json",
               len(data)))
    return head.encode() + data


class Conn:
    def __init__(self, reader, writer):
        self.r, self.w = reader, writer

    def close(self):
        try:
            self.w.transport.abort()
        except Exception:
            pass


class Pool:
    def __init__(self):
        self.idle = []
        self.open = 0    # connections existing or being opened

    def take(self):
        """An idle connection, None for a new one, or False: all busy."""
        if self.idle:
            return self.idle.pop()
        if self.open < args.conns:
            self.open += 1
            return None
        return False

    def give(self, c):
        self.idle.append(c)

    def lose(self, c):
        self.open -= 1
        if c:
            c.close()


async def exchange(conn, n, t_send, row):
    """One request on conn (opened here when None); fills row, returns the
    connection if it can be reused."""
    if conn is None:
        local = (args.bind, 0) if args.bind else None
        r, w = await asyncio.open_connection(HOST, PORT, local_addr=local)
        conn = Conn(r, w)
        row["conn"] = conn
    conn.w.write(request_bytes(n))
    line = await conn.r.readline()
    if not line:
        raise ConnectionError("closed before the status line")
    parts = line.split(None, 2)
    status = int(parts[1])
    hdrs = {}
    while True:
        h = await conn.r.readline()
        if h in (b"\r\n", b"\n"):
            break
        if not h:
            raise ConnectionError("closed in the headers")
        k, _, v = h.decode("latin-1").partition(":")
        hdrs[k.strip().lower()] = v.strip()
    row["status"] = status
    if status == 429:
        ra = None
        if "retry-after-ms" in hdrs:
            ra = float(hdrs["retry-after-ms"]) / 1000.0
        elif "retry-after" in hdrs:
            try:
                ra = float(hdrs["retry-after"])
            except ValueError:
                pass
        row["retry_after"] = ra
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        first = True
        while True:
            size_line = await conn.r.readline()
            if not size_line:
                raise ConnectionError("closed in a chunked body")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if first:
                row["ttft"] = time.monotonic() - t_send
                first = False
            if size == 0:
                while (await conn.r.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            await conn.r.readexactly(size + 2)
    else:
        length = int(hdrs.get("content-length") or 0)
        if length:
            first = await conn.r.read(1)
            if not first:
                raise ConnectionError("closed before the body")
            row["ttft"] = time.monotonic() - t_send
            if length > 1:
                await conn.r.readexactly(length - 1)
        else:
            row["ttft"] = time.monotonic() - t_send
    row["total"] = time.monotonic() - t_send
    if hdrs.get("connection", "").lower() == "close":
        return conn, False
    return conn, True


async def one(pool, conn, n, t_rel, t_send, rows):
    row = {"t": t_rel, "status": "error", "ttft": None, "total": None, "retry_after": None,
           "conn": conn}
    rows.append(row)
    keep = False
    try:
        conn, keep = await asyncio.wait_for(exchange(conn, n, t_send, row), args.timeout)
    except asyncio.TimeoutError:
        row["status"] = "timeout"
        row["total"] = time.monotonic() - t_send
        conn = row["conn"]
    except (OSError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError):
        if row["status"] != "error" and row["total"] is None:
            row["status"] = "error"
        conn = row["conn"]
    row.pop("conn", None)
    if keep:
        pool.give(conn)
    else:
        pool.lose(conn)


async def main():
    times = arrivals()
    pool = Pool()
    rows, tasks = [], []
    if args.start_at:
        d = args.start_at - time.time()
        if d > 0:
            await asyncio.sleep(d)
    t0_epoch = time.time()
    t0 = time.monotonic()
    for n, t in enumerate(times):
        d = t0 + t - time.monotonic()
        if d > 0:
            await asyncio.sleep(d)
        c = pool.take()
        if c is False:
            rows.append({"t": t, "status": "drop", "ttft": None, "total": None,
                         "retry_after": None})
            continue
        # the time it actually went out (the loop may be late)
        now = time.monotonic()
        tasks.append(asyncio.ensure_future(one(pool, c, n, now - t0, now, rows)))
    if tasks:
        await asyncio.gather(*tasks)
    for c in pool.idle:
        c.close()
    return t0_epoch, rows


def pct(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    return round(s[max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))], 6)


def summarize(rows, secs):
    st = [r["status"] for r in rows]
    ok = [r for r in rows if r["status"] == 200]
    ras = [r["retry_after"] for r in rows if r["status"] == 429 and r["retry_after"] is not None]
    cnt = {}
    for s in st:
        cnt[str(s)] = cnt.get(str(s), 0) + 1
    refused = cnt.get("429", 0)
    dropped = cnt.get("drop", 0)
    return {"seconds": secs, "n": len(rows),
            "offered_s": round(len(rows) / secs, 3),
            "admitted_s": round((len(rows) - refused - dropped) / secs, 3),
            "refused_s": round(refused / secs, 3),
            "goodput_s": round(len(ok) / secs, 3),
            "ttft_p50": pct([r["ttft"] for r in ok], 50),
            "ttft_p99": pct([r["ttft"] for r in ok], 99),
            "statuses": cnt,
            "retry_after_min": min(ras) if ras else None,
            "retry_after_max": max(ras) if ras else None}


t0_epoch, rows = asyncio.run(main())
rows.sort(key=lambda r: r["t"])
with open(args.out, "w") as f:
    f.write("t_send,status,ttft_s,total_s,client,retry_after_s\n")
    for r in rows:
        f.write("%.6f,%s,%s,%s,%s,%s\n" % (
            r["t"], r["status"],
            "" if r["ttft"] is None else "%.6f" % r["ttft"],
            "" if r["total"] is None else "%.6f" % r["total"],
            args.label,
            "" if r["retry_after"] is None else "%.3f" % r["retry_after"]))
phases, start = [], 0.0
for rate, secs in PHASES:
    ph = summarize([r for r in rows if start <= r["t"] < start + secs], secs)
    ph["rate"] = rate
    phases.append(ph)
    start += secs
json.dump({"label": args.label, "t0": round(t0_epoch, 6),
           "arrivals": "poisson" if args.poisson else "constant",
           "phases": phases, "total": summarize(rows, start)}, sys.stdout)
print()
