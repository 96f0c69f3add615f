# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Chat-completion requests on keep-alive connections, shaped the ways the
client-identity tests need (tests/netns/apikey.sh): with an API key in a
chosen header, from a chosen source address, a new key on every request, the
key's header cut across two TCP segments, or a PROXY header (v1 or v2) of
the client's own making in front. A 429 closes its connection (the limiter says
Connection: close); the next request opens another. No retries.

  key_client.py HOST PORT --n N [--key K | --fresh-keys] [--header NAME]
                [--bind ADDR] [--split] [--proxy-v1 SRC | --proxy-v2 SRC] [--timeout S]
                [--also HOST...] [--rate R]

--also spreads the requests round-robin over HOST and these (one
connection to each), --rate paces them at R a second (sequential: slower
answers make it slower, never faster); ok_by_host says where they went.

Prints one JSON line: ok, refused (429), other (other statuses), timeouts
(no answer in --timeout: a dropped request), errors (resets, refusals),
retry_after_ms (the last 429's retry-after-ms)."""
import argparse
import json
import socket
import time
import uuid

ap = argparse.ArgumentParser()
ap.add_argument("host")
ap.add_argument("port", type=int)
ap.add_argument("--n", type=int, required=True)
ap.add_argument("--key")
ap.add_argument("--fresh-keys", action="store_true", help="a new made-up key per request")
ap.add_argument("--header", default="Authorization", help="Authorization (Bearer), x-api-key, api-key")
ap.add_argument("--bind", help="source address")
ap.add_argument("--split", action="store_true", help="the key's header in two segments")
ap.add_argument("--proxy-v1", metavar="SRC", help="start each connection with this PROXY header")
ap.add_argument("--proxy-v2", metavar="SRC", help="the same, a binary v2 header")
ap.add_argument("--timeout", type=float, default=2.0)
ap.add_argument("--also", nargs="+", default=[], metavar="HOST")
ap.add_argument("--rate", type=float)
a = ap.parse_args()

BODY = b'{"model":"infergate-test","messages":[{"role":"user","content":"hi"}]}'
out = {"ok": 0, "refused": 0, "other": 0, "timeouts": 0, "errors": 0}
hosts = [a.host] + a.also
out["ok_by_host"] = {h: 0 for h in hosts}


def connect(host):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(a.timeout)
    if a.bind:
        s.bind((a.bind, 0))
    s.connect((host, a.port))
    if a.proxy_v1:
        fam = "TCP6" if ":" in a.proxy_v1 else "TCP4"
        s.sendall(("PROXY %s %s %s 40000 %d\r\n" % (fam, a.proxy_v1, host, a.port)).encode())
    if a.proxy_v2:
        s.sendall(proxy_v2(a.proxy_v2, host, 40000, a.port))
    return s


def proxy_v2(src, dst, sport, dport):
    """PROXY v2, PROXY command over TCP; both addresses of src's family (a
    v4 destination written v4-mapped under an IPv6 source)."""
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if ":" in src:
        d = dst if ":" in dst else "::ffff:" + dst
        body = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, d)
        fam = 0x21
    else:
        body = socket.inet_pton(socket.AF_INET, src) + socket.inet_pton(socket.AF_INET, dst)
        fam = 0x11
    body += sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    return sig + bytes([0x21, fam]) + len(body).to_bytes(2, "big") + body


def request(key):
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    kh = b""
    if key is not None:
        val = ("Bearer " + key) if a.header.lower() == "authorization" else key
        kh = ("%s: %s\r\n" % (a.header, val)).encode()
    rest = b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY
    return head, kh, rest


def read_response(s):
    """The status, and whether the connection stays open."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    n = 0
    close = False
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"retry-after-ms" and status == 429:
            out["retry_after_ms"] = int(v)
        if k.strip().lower() == b"content-length":
            n = int(v)
        if k.strip().lower() == b"connection" and b"close" in v.lower():
            close = True
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            break
        body += d
    return status, close


socks = {h: None for h in hosts}
t0 = time.monotonic()
for i in range(a.n):
    host = hosts[i % len(hosts)]
    sock = socks[host]
    if a.rate:
        wait = t0 + i / a.rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    key = str(uuid.uuid4()) if a.fresh_keys else a.key
    head, kh, rest = request(key)
    try:
        if sock is None:
            sock = socks[host] = connect(host)
        if a.split and kh:
            cut = len(kh) - 6  # inside the key's value
            sock.sendall(head + kh[:cut])
            time.sleep(0.02)  # a segment of its own (TCP_NODELAY)
            sock.sendall(kh[cut:] + rest)
        else:
            sock.sendall(head + kh + rest)
        status, close = read_response(sock)
    except socket.timeout:
        out["timeouts"] += 1
        close = True
        status = None
    except OSError as e:
        out["errors"] += 1
        out["last_error"] = "%s: %s" % (type(e).__name__, e)
        close = True
        status = None
    if status == 200:
        out["ok"] += 1
        out["ok_by_host"][host] += 1
    elif status == 429:
        out["refused"] += 1
    elif status is not None:
        out["other"] += 1
    if close and sock is not None:
        sock.close()
        socks[host] = None
out["seconds"] = round(time.monotonic() - t0, 3)
print(json.dumps(out))
