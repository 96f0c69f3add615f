# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Connections held open at once, for max-conns tests (tests/netns/apikey.sh):
opens --conns connections to HOST:PORT one after another from --bind, sends
one chat-completion request on each and reads its answer, keeping every
connection open (keep-alive) until all have been tried and --hold seconds
have passed, or until the file --until appears (bounded by --hold-max);
then closes them all.

  conn_hold.py HOST PORT --conns N [--bind ADDR] [--hold S] [--until FILE]
               [--hold-max S] [--timeout S] [--ready FILE --go FILE]

With --go the connections are all opened first, FILE --ready is made, and
their requests wait until the file --go appears (bounded by --hold-max).

Prints one JSON line when every connection has been tried (before the hold)
and flushes it: ok (a 200), refused (a 429), errors (reset, refused, closed
without an answer), timeouts; "held": how many 200s are still open."""
import argparse
import json
import os
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("host")
ap.add_argument("port", type=int)
ap.add_argument("--conns", type=int, required=True)
ap.add_argument("--bind")
ap.add_argument("--hold", type=float, default=0.0)
ap.add_argument("--until", help="hold until this file exists")
ap.add_argument("--hold-max", type=float, default=30.0)
ap.add_argument("--timeout", type=float, default=3.0)
ap.add_argument("--ready", help="made once every connection is open (with --go)")
ap.add_argument("--go", help="the requests wait for this file")
a = ap.parse_args()

BODY = b'{"model":"infergate-test","messages":[{"role":"user","content":"hi"}]}'
REQ = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: infergate-test\r\n"
       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)) + BODY


def status(s):
    """The answer's status code, its body read whole (Content-Length)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            return None
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    code = int(lines[0].split()[1])
    length = 0
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        d = s.recv(4096)
        if not d:
            break
        rest += d
    return code


out = {"ok": 0, "refused": 0, "errors": 0, "timeouts": 0}
held = []


def wait_for(path):
    end = time.time() + a.hold_max
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.05)


def opened():
    """a connection to HOST:PORT, or None (counted)"""
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        if a.bind:
            s.bind((a.bind, 0))
        s.connect((a.host, a.port))
        return s
    except socket.timeout:
        out["timeouts"] += 1
    except OSError:
        out["errors"] += 1
    s.close()
    return None


def ask(s):
    """one request on s, its answer counted; s held when it was a 200"""
    try:
        s.sendall(REQ)
        code = status(s)
    except socket.timeout:
        out["timeouts"] += 1
        s.close()
        return
    except OSError:
        out["errors"] += 1
        s.close()
        return
    if code == 200:
        out["ok"] += 1
        held.append(s)
    else:
        out["refused" if code == 429 else "errors"] += 1
        s.close()


if a.go:
    socks = [s for s in (opened() for i in range(a.conns)) if s]
    if a.ready:
        open(a.ready, "w").close()
    wait_for(a.go)
    for s in socks:
        ask(s)
else:
    for i in range(a.conns):
        s = opened()
        if s:
            ask(s)
out["held"] = len(held)
print(json.dumps(out), flush=True)
if a.until:
    wait_for(a.until)
else:
    time.sleep(min(a.hold, a.hold_max))
for s in held:
    s.close()
sys.exit(0)
