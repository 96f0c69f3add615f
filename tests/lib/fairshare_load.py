#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Real TCP load for the fair-share tests (tests/netns/flood.sh).

  fairshare_load.py server PORT OUT
      accept on [::]:PORT (IPv4 too), close at once, count accepted
      connections per client address; on SIGTERM write {addr: n} to OUT,
      on SIGUSR1 to OUT.snap (and go on). OUT.ready appears once listening.
  fairshare_load.py clients DST PORT RATE LEGIT_IPS ABUSIVE_IP ABUSIVE_RATE STOP OUT MAX_S
      one thread per legit address, each opening RATE connections a second
      on a fixed schedule (1 s connect timeout), and an abusive address
      opening ABUSIVE_RATE a second without waiting for any; until the file
      STOP exists (or MAX_S seconds). OUT.warm appears once every legit
      client has had two connections. Writes to OUT:
      {"legit": {ip: {"attempts", "ok"}}, "abusive": {"attempts", "first", "last"}}
"""
import json
import os
import signal
import socket
import sys
import threading
import time


def server(port, out):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(4096)
    s.settimeout(0.1)
    counts = {}
    stop = []
    snap = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGUSR1, lambda *_: snap.append(1))
    open(out + ".ready", "w").close()
    while not stop:
        if snap:
            snap.clear()
            with open(out + ".snap.tmp", "w") as f:
                json.dump(counts, f)
            os.rename(out + ".snap.tmp", out + ".snap")
        try:
            c, addr = s.accept()
        except (socket.timeout, InterruptedError):
            continue
        ip = addr[0]
        if ip.startswith("::ffff:"):
            ip = ip[7:]
        counts[ip] = counts.get(ip, 0) + 1
        c.close()
    with open(out + ".tmp", "w") as f:
        json.dump(counts, f)
    os.rename(out + ".tmp", out)


def clients(dst, port, rate, legit, abusive, ab_rate, stop, out, max_s):
    deadline = time.monotonic() + max_s
    res = {ip: {"attempts": 0, "ok": 0} for ip in legit}
    ab = {"attempts": 0, "first": None, "last": None}
    lock = threading.Lock()
    done = threading.Event()

    def stopped():
        return done.is_set() or os.path.exists(stop) or time.monotonic() > deadline

    def legit_client(ip):
        t0 = time.monotonic()
        k = 0
        while not stopped():
            wait = t0 + k / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            k += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((ip, 0))
            s.settimeout(1.0)
            try:
                s.connect((dst, port))
                ok = 1
            except OSError:
                ok = 0
            s.close()
            with lock:
                res[ip]["attempts"] += 1
                res[ip]["ok"] += ok

    def abusive_client():
        pending = []
        t0 = time.monotonic()
        k = 0
        while not stopped():
            now = time.monotonic()
            wait = t0 + k / ab_rate - now
            if wait > 0:
                time.sleep(wait)
            k += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((abusive, 0))
            s.connect_ex((dst, port))
            now = time.monotonic()
            if ab["first"] is None:
                ab["first"] = now
            ab["last"] = now
            ab["attempts"] += 1
            pending.append((now, s))
            # closed before the SYN's first retransmission (1 s): one
            # attempt is one SYN
            while pending and now - pending[0][0] > 0.5:
                pending.pop(0)[1].close()
        for _, s in pending:
            s.close()

    threads = [threading.Thread(target=legit_client, args=(ip,)) for ip in legit]
    threads.append(threading.Thread(target=abusive_client))
    for t in threads:
        t.start()
    warm = False
    while not stopped():
        if not warm:
            with lock:
                warm = all(r["ok"] >= 2 for r in res.values())
            if warm:
                open(out + ".warm", "w").close()
        time.sleep(0.05)
    done.set()
    for t in threads:
        t.join()
    ab["duration"] = (ab["last"] - ab["first"]) if ab["first"] is not None else 0
    with open(out + ".tmp", "w") as f:
        json.dump({"legit": res, "abusive": ab}, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 11 and sys.argv[1] == "clients":
        a = sys.argv
        clients(a[2], int(a[3]), float(a[4]), a[5].split(","), a[6], float(a[7]), a[8], a[9],
                float(a[10]))
    else:
        sys.exit(__doc__)
