# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A user-space TCP client for the per-request attack tests: every segment of
the connection is built here (scapy) and sent on an AF_PACKET socket, so its
order is the test's, not the kernel's. Needs the client kernel kept from
resetting the connection it does not know (the test drops its RSTs).

    req_rawtcp.py IFACE SMAC DMAC SRC DST PORT [--body N] [--chunked]
                  [--cuts=A,B,..] [--order I,J,..] [--pipeline M] [--no-ack]

1. handshake (--no-ack: without its last ACK, which the first data segment
carries: the server's kernel makes the socket of that segment); 2. the first request (its JSON body padded to N bytes; with
--chunked in one chunk) cut at the offsets given (negative: from its end), the
pieces sent in the order given, each as one segment, what the server
acknowledges after each noted, then what is missing resent like TCP would;
3. once its response is read, M requests pipelined in one segment (resent
until acknowledged, 3 times at most); 4. the responses read until M of them,
or a close. Prints one JSON line: "acks" (the server's ack after each piece,
relative; null: none came, the data path dropped it), "resent", "first" and
"statuses" (the responses' status codes), fin, rst.

The server's data is acknowledged as it comes, in order; nothing else of TCP
(windows, retransmission of lost data, options) is done: on veth nothing is
lost, and where the data path drops a segment the test resends it on purpose.
"""
import argparse
import json
import random
import select
import socket
import time

from scapy.all import IP, IPv6, TCP, Ether, Raw, conf, raw

conf.verb = 0
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
BODY = b'{"model":"infergate-test","messages":[{"role":"user","content":"hello"}]}'


def request(body=0, chunked=False):
    """A completion request, its JSON body padded to BODY bytes; chunked: in
    one chunk, then the last chunk."""
    b = BODY
    if body > len(b):
        b = b[:-1] + b',"pad":"' + b"x" * (body - len(b) - 9) + b'"}'
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: backend\r\n"
            b"Content-Type: application/json\r\n")
    if chunked:
        return head + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(b), b)
    return head + b"Content-Length: %d\r\n\r\n%s" % (len(b), b)


class RawConn:
    def __init__(self, a):
        self.a = a
        self.l3 = IPv6 if ":" in a.dst else IP
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((a.iface, 0))
        self.sport = random.randint(20000, 60000)
        self.isn = random.getrandbits(32)
        self.snd = (self.isn + 1) & 0xffffffff
        self.rcv = None     # next server byte wanted
        self.acked = None   # highest ack from the server
        self.acks = 0       # segments with an ACK from the server
        self.data = b""     # the server's stream, in order
        self.fin = self.rst = False

    def send(self, flags, seq, payload=b""):
        a = self.a
        p = (Ether(src=a.smac, dst=a.dmac) / self.l3(src=a.src, dst=a.dst) /
             TCP(sport=self.sport, dport=a.port, flags=flags, seq=seq,
                 ack=self.rcv or 0, window=65535))
        if payload:
            p = p / Raw(payload)
        self.sock.send(raw(p))

    def seq_off(self, seq):
        return (seq - self.isn - 1) & 0xffffffff

    def poll(self, until, limit):
        """Read the server's segments until until() or limit seconds."""
        end = time.time() + limit
        while not until():
            left = end - time.time()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return False
            frame, addr = self.sock.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            p = Ether(frame)
            if TCP not in p or p[TCP].sport != self.a.port or p[TCP].dport != self.sport:
                continue
            self.segment(p[TCP])
        return True

    def segment(self, t):
        f = int(t.flags)
        if f & 0x04:
            self.rst = True
            return
        if f & 0x12 == 0x12:
            self.rcv = (t.seq + 1) & 0xffffffff
        if f & 0x10:
            self.acks += 1
            if self.acked is None or ((t.ack - self.acked) & 0xffffffff) < 0x80000000:
                self.acked = t.ack
        payload = bytes(t.payload)
        if self.rcv is None or not (payload or f & 0x01):
            return
        fin = 1 if f & 0x01 else 0
        skip = (self.rcv - t.seq) & 0xffffffff  # bytes of it had already
        if skip < len(payload) + fin:
            self.data += payload[skip:]
            self.rcv = (self.rcv + len(payload) - skip + fin) & 0xffffffff
            self.fin = self.fin or bool(fin)
        # every data segment is acknowledged, in order or not: a gap is
        # filled by the server's fast retransmission
        self.send("A", self.snd)

    def acked_to(self, seq):
        return self.acked is not None and ((self.acked - seq) & 0xffffffff) < 0x80000000


def responses(data):
    """The statuses of the whole responses in data (Content-Length framed)."""
    out = []
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            return out
        head = data[:head_end].decode("latin-1").split("\r\n")
        n = 0
        for line in head[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                n = int(v)
        if len(data) < head_end + 4 + n:
            return out
        out.append(int(head[0].split()[1]))
        data = data[head_end + 4 + n:]


def main():
    ap = argparse.ArgumentParser()
    for k in ("iface", "smac", "dmac", "src", "dst"):
        ap.add_argument(k)
    ap.add_argument("port", type=int)
    ap.add_argument("--body", type=int, default=0)
    ap.add_argument("--chunked", action="store_true")
    ap.add_argument("--cuts", default="")
    ap.add_argument("--order", default="")
    ap.add_argument("--pipeline", type=int, default=3)
    ap.add_argument("--no-ack", action="store_true")
    a = ap.parse_args()
    c = RawConn(a)
    out = {"cuts": a.cuts, "order": a.order, "pipeline": a.pipeline, "chunked": a.chunked}

    c.send("S", c.isn)
    if not c.poll(lambda: c.rcv is not None, 2):
        out["error"] = "no SYN-ACK"
        print(json.dumps(out))
        return
    if not a.no_ack:
        c.send("A", c.snd)

    req = request(a.body, a.chunked)
    cuts = sorted(int(x) % len(req) for x in a.cuts.split(",") if x)
    bounds = list(zip([0] + cuts, cuts + [len(req)]))
    order = [int(x) for x in a.order.split(",")] if a.order else list(range(len(bounds)))
    start = c.snd
    # each piece as its own segment, in the order given; after each, what
    # the server acknowledges (its kernel answers out-of-order data with a
    # duplicate ACK, so an ACK means the piece got past the data path)
    out["acks"] = []
    for i in order:
        lo, hi = bounds[i]
        n = c.acks
        c.send("PA", (start + lo) & 0xffffffff, req[lo:hi])
        got = c.poll(lambda: c.acks > n, 0.5)
        out["acks"].append((c.acked - start) & 0xffffffff if got else None)
    out["resent"] = send_until_acked(c, start, req)
    c.poll(lambda: len(responses(c.data)) >= 1 or c.fin or c.rst, 3)
    first = responses(c.data)

    burst = request() * a.pipeline
    out["pipeline_resent"] = send_until_acked(c, c.snd, burst) - 1
    c.poll(lambda: len(responses(c.data)) >= 1 + a.pipeline or c.fin or c.rst, 3)
    st = responses(c.data)
    out["first"] = first
    out["statuses"] = st[len(first):]
    out["fin"], out["rst"] = c.fin, c.rst
    c.send("R", c.snd)
    print(json.dumps(out))


def send_until_acked(c, seq, data):
    """What TCP would do: data at seq sent from the first byte the server
    has not acknowledged, until all of it is (sent at most 4 times, 0.5 s
    apart). Moves c.snd past it. Returns how many times it went again."""
    end = (seq + len(data)) & 0xffffffff
    sent = 0
    while not c.acked_to(end) and sent < 4:
        done = (c.acked - seq) & 0xffffffff if c.acked_to(seq) else 0
        c.send("PA", (seq + done) & 0xffffffff, data[done:])
        sent += 1
        c.poll(lambda: c.acked_to(end), 0.5)
    c.snd = end
    return sent


main()
