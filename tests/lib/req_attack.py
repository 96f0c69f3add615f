# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""HTTP/1.1 clients that shape their own TCP segments, for the per-request
attack tests (tests/netns/request_attack.slow.sh). python3 stdlib only.

    req_attack.py SCENARIO --host H --port P --src S --burst B --rate R [...]

Each scenario prints one JSON line. Sockets have TCP_NODELAY, so each send()
is one segment (unless the congestion window holds data back); where a test
needs its pieces to be separate segments *and* seen in order, send() waits
until the server acknowledged everything (SIOCOUTQ = 0): nothing is in flight
when the next piece goes out. data_segs_out (TCP_INFO) counts what left.

The charge a source's bucket holds is read off the 429 that ends every
scenario ("fill": requests one at a time until the first 429): the data path's
retry-after-ms is the time until the bucket admits one unit, so with TAT the
bucket's theoretical arrival time, spacing 1/rate and t0 the first charge,
    TAT = t429 + wait + (burst - 1) * spacing,  charge = (TAT - t0) / spacing
as long as the source was never idle long enough for its bucket to fill up
again (each scenario charges faster than the rate). The result is compared
with what the backend saw.

Scenarios:
  pipeline   N requests in one send(), N responses, then fill
  split      two requests cut into pieces ("PO" | "ST ..." | headers | body;
             "P" | "OST ..." | ...), each piece acknowledged before the next
  body-cl    a POST whose Content-Length body comes in --pieces segments, each
             starting with a whole "POST /v1/chat/completions HTTP/1.1" request
  body-chunked  the same with Transfer-Encoding: chunked, each segment a chunk's
             data (a request) and the next chunk-size line
  stream     one request (the warm-up), then --n requests, each cut into
             --pieces sends, all back to back without waiting (for reordering),
             then the responses
  after429   fill; the 429 read to its FIN; --ready written, --release awaited;
             then one more request on the same socket: must end in a RST
  hold       one keep-alive connection: --n requests --gap s apart, then fill
             on a second one, --ready written, --release awaited with the
             first still open (the spoof flood's witness)
  conns      --n connections, one request each, all left open; --ready
             written, --release awaited; half closed with FIN, half with RST
"""
import argparse
import errno
import fcntl
import json
import os
import socket
import struct
import time

TIOCOUTQ = 0x5411
TCP_CLOSE = 7
BODY = b'{"model":"infergate-test","messages":[{"role":"user","content":"hello"}]}'
PATH = "/v1/chat/completions"


def request(body=BODY, path=PATH, extra=b""):
    return (b"POST %s HTTP/1.1\r\nHost: backend\r\nContent-Type: application/json\r\n"
            b"%sContent-Length: %d\r\n\r\n%s" % (path.encode(), extra, len(body), body))


class Conn:
    def __init__(self, a):
        fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if a.src:
            self.s.bind((a.src, 0))
        self.s.settimeout(a.timeout)
        self.s.connect((a.host, a.port))
        self.sport = self.s.getsockname()[1]
        self.f = self.s.makefile("rb")
        self.timeout = a.timeout
        self.ack_timeouts = 0

    def info(self):
        b = self.s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 160)
        return {"state": b[0], "retrans": struct.unpack_from("I", b, 100)[0],
                "data_segs_out": struct.unpack_from("I", b, 156)[0]}

    def outq(self):
        return struct.unpack("i", fcntl.ioctl(self.s.fileno(), TIOCOUTQ, b"\0" * 4))[0]

    def send(self, data, wait=True):
        self.s.sendall(data)
        if not wait:
            return
        end = time.time() + self.timeout
        while self.outq():
            if time.time() > end:
                self.ack_timeouts += 1
                return
            time.sleep(0.001)

    def response(self):
        """status, headers (lower-case names), body; status 0 and "error" when
        the connection ended first."""
        r = {"status": 0}
        try:
            line = self.f.readline()
            if not line:
                r["error"] = "eof"
                return r
            r["t"] = time.time()
            r["status"] = int(line.split()[1])
            h = {}
            while True:
                line = self.f.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                h[k.strip().lower()] = v.strip()
            r["headers"] = h
            n = int(h.get("content-length") or 0)
            r["body"] = self.f.read(n).decode("latin-1") if n else ""
        except (OSError, ValueError, IndexError) as e:
            r["error"] = repr(e)
        return r

    def closed_by_peer(self):
        """The response stream ends here (FIN): b"" within the timeout."""
        try:
            return self.f.read(1) == b""
        except OSError:
            return False

    def close(self, rst=False):
        if rst:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.f.close()
        self.s.close()


TINY = b"GET / HTTP/1.1\r\n\r\n"


def fill(a, c, t0, out, limit=None):
    """Requests one at a time on c (reopened after a close) until a 429: out
    gets fill_ok, the 429's headers and the charge they imply. --tiny: the
    shortest request there is, in an 84-byte frame."""
    ok, limit = 0, limit or a.burst + 5
    for _ in range(limit):
        if c is None:
            c = Conn(a)
        c.send(TINY if a.tiny else request(), wait=False)
        r = c.response()
        if r["status"] == 200:
            ok += 1
            continue
        if r["status"] != 429:
            out["fill_error"] = r
            break
        h = r["headers"]
        ms = int(h.get("retry-after-ms") or -1)
        spacing = 1.0 / a.rate
        out["r429"] = {"retry_after": h.get("retry-after"), "retry_after_ms": ms,
                       "connection": h.get("connection"),
                       "type": json.loads(r["body"] or "{}").get("error", {}).get("type")}
        out["charge"] = round((r["t"] + ms / 1000.0 - t0) / spacing + a.burst - 1, 3)
        out["fin_after_429"] = c.closed_by_peer()
        break
    out["fill_ok"] = ok
    return c


def statuses(rs):
    return [r["status"] for r in rs]


def sc_pipeline(a, out):
    c = Conn(a)
    s0 = c.info()["data_segs_out"]
    t0 = time.time()
    c.send(request() * a.n)
    out["segs"] = c.info()["data_segs_out"] - s0
    out["statuses"] = statuses([c.response() for _ in range(a.n)])
    fill(a, c, t0, out)


def pieces_of(req, cuts):
    """req cut at the offsets given (negative: from the end)."""
    at = sorted(x if x >= 0 else len(req) + x for x in cuts)
    return [req[i:j] for i, j in zip([0] + at, at + [len(req)])]


def sc_split(a, out):
    c = Conn(a)
    r1, r2 = request(), request()
    cl = r1.index(b"Content-Length") + len(b"Content-Le")
    # "PO" | "ST /v1/... Content-Le" | "ngth: N" CRLF CRLF | body
    p1 = pieces_of(r1, [2, cl, -len(BODY)])
    # "P" (could still open the h2 preface) | "OST /v1/... HTTP/1.1" CRLF |
    # the headers | the empty line | the body in two
    line = r2.index(b"\r\n") + 2
    hdrs = r2.index(b"\r\n\r\n") + 2
    p2 = pieces_of(r2, [1, line, hdrs, hdrs + 2, -20])
    s0 = c.info()["data_segs_out"]
    t0 = time.time()
    rs = []
    for pieces in (p1, p2):
        for p in pieces:
            c.send(p)
        rs.append(c.response())
    out["sport"] = c.sport
    out["pieces"] = len(p1) + len(p2)
    out["segs"] = c.info()["data_segs_out"] - s0
    out["statuses"] = statuses(rs)
    out["ack_timeouts"] = c.ack_timeouts
    fill(a, c, t0, out)


def fake_request(i):
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: backend\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
            b"GET /v1/models?%d HTTP/1.1\r\nHost: backend\r\n\r\n" % i)


def sc_body_cl(a, out):
    c = Conn(a)
    segs = [fake_request(i) for i in range(a.pieces)]
    length = sum(len(x) for x in segs)
    t0 = time.time()
    c.send(b"POST %s HTTP/1.1\r\nHost: backend\r\nContent-Type: text/plain\r\n"
           b"Content-Length: %d\r\n\r\n" % (PATH.encode(), length))
    for x in segs:
        c.send(x)
    r = c.response()
    out["statuses"] = [r["status"]]
    out["body_len"] = length
    out["ack_timeouts"] = c.ack_timeouts
    fill(a, c, t0, out)


def sc_body_chunked(a, out):
    c = Conn(a)
    data = [fake_request(i) for i in range(a.pieces)]
    t0 = time.time()
    # each segment: a chunk's data (a whole request), its CRLF, the next size line
    c.send(b"POST %s HTTP/1.1\r\nHost: backend\r\nContent-Type: text/plain\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (PATH.encode(), len(data[0])))
    for i, x in enumerate(data):
        nxt = b"%x\r\n" % len(data[i + 1]) if i + 1 < len(data) else b"0\r\n\r\n"
        c.send(x + b"\r\n" + nxt)
    r = c.response()
    out["statuses"] = [r["status"]]
    out["body_len"] = sum(len(x) for x in data)
    out["ack_timeouts"] = c.ack_timeouts
    fill(a, c, t0, out)


def sc_stream(a, out):
    c = Conn(a)
    t0 = time.time()
    # one request alone first: a connection's first data segment overtaken
    # by its successors is a case of its own (request_attack.slow.sh's desync)
    c.send(request())
    out["warmup"] = c.response()["status"]
    i0 = c.info()
    for _ in range(a.n):
        req = request()
        step = -(-len(req) // a.pieces)
        for k in range(0, len(req), step):
            c.send(req[k:k + step], wait=False)
    rs = [c.response() for _ in range(a.n)]
    i1 = c.info()
    out["dur"] = round(time.time() - t0, 3)
    out["statuses"] = statuses(rs)
    out["errors"] = [r.get("error") for r in rs if r.get("error")][:3]
    out["segs"] = i1["data_segs_out"] - i0["data_segs_out"]
    out["retrans"] = i1["retrans"] - i0["retrans"]
    fill(a, c, t0, out)


def wait_file(path, limit):
    end = time.time() + limit
    while not os.path.exists(path):
        if time.time() > end:
            return False
        time.sleep(0.01)
    return True


def ready(a, out):
    with open(a.ready + ".tmp", "w") as f:
        f.write(json.dumps(out) + "\n")
    os.replace(a.ready + ".tmp", a.ready)
    out["released"] = wait_file(a.release, 30)


def sc_after429(a, out):
    t0 = time.time()
    c = fill(a, Conn(a), t0, out)
    ready(a, out)
    # the peer said Connection: close and FIN; keep talking regardless
    try:
        c.send(request(), wait=False)
    except OSError as e:
        out["after"] = "send: " + repr(e)
        return
    end = time.time() + 5
    while c.info()["state"] != TCP_CLOSE and time.time() < end:
        time.sleep(0.01)
    # a RST in CLOSE_WAIT (the 429's FIN was read) is EPIPE, elsewhere
    # ECONNRESET (tcp_reset()); nothing else closes a CLOSE_WAIT socket
    err = c.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    out["after_state"] = c.info()["state"]
    out["after"] = os.strerror(err) if err else "no error"
    out["after_reset"] = out["after_state"] == TCP_CLOSE and err in (errno.EPIPE, errno.ECONNRESET)


def sc_hold(a, out):
    c = Conn(a)
    t0 = time.time()
    rs = []
    for i in range(a.n):
        if i:
            time.sleep(a.gap)  # pacing: spread the requests over the flood
        c.send(request(), wait=False)
        rs.append(c.response())
    out["statuses"] = statuses(rs)
    # the fill on a second connection: the first one stays open
    fill(a, None, t0, out)
    ready(a, out)
    c.close()


def sc_conns(a, out):
    cs, st = [], []
    for _ in range(a.n):
        c = Conn(a)
        c.send(request(), wait=False)
        st.append(c.response()["status"])
        cs.append(c)
    out["ok"] = st.count(200)
    out["others"] = [s for s in st if s != 200][:5]
    ready(a, out)
    for i, c in enumerate(cs):
        c.close(rst=bool(i % 2))
    out["closed"] = len(cs)


ap = argparse.ArgumentParser()
ap.add_argument("scenario")
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--src", default="")
ap.add_argument("--burst", type=int, required=True)
ap.add_argument("--rate", type=float, required=True)
ap.add_argument("--n", type=int, default=3)
ap.add_argument("--pieces", type=int, default=4)
ap.add_argument("--gap", type=float, default=0.2)
ap.add_argument("--timeout", type=float, default=5)
ap.add_argument("--tiny", action="store_true")
ap.add_argument("--ready", default="")
ap.add_argument("--release", default="")
args = ap.parse_args()
result = {"scenario": args.scenario}
try:
    globals()["sc_" + args.scenario.replace("-", "_")](args, result)
except OSError as e:
    result["exception"] = repr(e)
print(json.dumps(result))
