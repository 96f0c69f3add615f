#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The protection bench's table: protect_report.py CSV OUT.md SECONDS.

Per scenario over all rounds: legitimate requests, failures, success, medians
of the per-round latency percentiles, p50 relative to the unattacked
baseline, and what the abusive source got. Checks the issue's targets for
infergate: >= 99.9 % success, median latency <= 1.2x the baseline's."""
import csv
import statistics
import sys



def legit(rs):
    """The legitimate clients over rounds: requests, failures, success %, median p50."""
    req = sum(int(r["legit_requests"]) for r in rs)
    fail = sum(int(r["legit_failed"]) for r in rs)
    return (req, fail, 100.0 * (req - fail) / req if req else 0.0,
            statistics.median(int(r["p50_us"]) for r in rs))


rows = list(csv.DictReader(open(sys.argv[1])))
dur = float(sys.argv[3])
order = ["baseline", "none", "limit_req", "infergate"]
ka = ["ka_none", "ka_limit_req", "ka_infergate"]
KA_RATE, KA_BURST = 200.0, 200.0  # requests/s per address, and burst, both tools
TICK = 100.0      # USER_HZ: /proc/PID/stat's CPU times
by = {s: [r for r in rows if r["scenario"] == s] for s in order + ka}
base_p50 = statistics.median(int(r["p50_us"]) for r in by["baseline"])

lines = ["## Protection, end to end (nginx gzip-9 handler, wrk)", "",
         "%d rounds x %.0f s per scenario, interleaved. Legitimate: 8 keep-alive connections at "
         "20 requests/s each from one address. Attack: one abusive source (64 connections, a new "
         "connection per request) and a spoofed SYN flood from 2^20 IPv6 sources. Latency: median "
         "over rounds of each round's percentile." % (len(by["baseline"]), dur), "",
         "| scenario | legit requests | failed | success | p50 ms | p90 ms | p99 ms | p50 vs baseline "
         "| abusive answered/s |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
res = {}
for s in order:
    rs = by[s]
    if not rs:
        continue
    req, fail, succ, p50 = legit(rs)
    p90 = statistics.median(int(r["p90_us"]) for r in rs)
    p99 = statistics.median(int(r["p99_us"]) for r in rs)
    ab = statistics.median(int(r["abusive_2xx"]) for r in rs) / dur
    res[s] = (succ, p50 / base_p50)
    lines.append("| %s | %d | %d | %.2f %% | %.2f | %.2f | %.2f | %.2fx | %s |" % (
        s, req, fail, succ, p50 / 1000, p90 / 1000, p99 / 1000, p50 / base_p50,
        "-" if s == "baseline" else "%.0f" % ab))
if "infergate" in res:
    succ, ratio = res["infergate"]
    lines += ["", "| target (infergate under attack) | measured | limit | result |",
              "|---|---:|---:|---|",
              "| legitimate success | %.2f %% | >= 99.9 %% | %s |" % (succ, "PASS" if succ >= 99.9 else "MISS"),
              "| median latency vs unattacked | %.2fx | <= 1.2x | %s |" % (ratio, "PASS" if ratio <= 1.2 else "MISS")]
# what a source may get over a run: the burst, then the rate
KA_LIMIT = KA_RATE + KA_BURST / dur
if any(by[s] for s in ka):
    lines += ["", "## Keep-alive abuser: requests, not connections", "",
              "The same legitimate clients (160 requests/s from one address); one abusive "
              "address on 64 keep-alive connections sending as fast as it is answered, no flood. "
              "Both tools limit requests at %.0f/s per address, burst 200: nginx `limit_req` "
              "(its 429), infergate `--unit request --action reject` in XDP (the kernel's 429; "
              "the connection is closed after it, so the abuser reconnects). Its limit over a "
              "run: (burst + rate x %.0f s) / %.0f s = %.0f/s. nginx CPU: its worker's user + "
              "system time over the run, from /proc; on refused requests: that less what the "
              "answers cost at ka_none's CPU per answer (the noise is a few tenths of a second). "
              "Abuser sent: what wrk read, plus the data path's refusals." % (KA_RATE, dur, dur, KA_LIMIT), "",
              "| scenario | legit success | p50 vs baseline | abuser sent/s | abuser answered 2xx/s "
              "| vs its limit | nginx CPU s | nginx CPU per 2xx answer | nginx CPU on refused |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    # CPU per answer unprotected: what nginx spends on a request it serves
    per_answer = None
    if by["ka_none"]:
        per_answer = statistics.median(
            int(r.get("nginx_ticks") or 0) / TICK / max(1, int(r["legit_requests"]) -
                                                           int(r["legit_failed"]) + int(r["abusive_2xx"]))
            for r in by["ka_none"])
    for s_ in ka:
        rs = by[s_]
        if not rs:
            continue
        req, fail, succ, p50 = legit(rs)
        # wrk counts the responses it read; the kernel's refusals close the
        # connection under it: those are the data path's count
        sent = statistics.median(int(r["abusive_requests"]) + int(r.get("kernel_refused") or 0)
                                 for r in rs) / dur
        ok = statistics.median(int(r["abusive_2xx"]) for r in rs) / dur
        cpu = statistics.median(int(r.get("nginx_ticks") or 0) for r in rs) / TICK
        answers = statistics.median(int(r["legit_requests"]) - int(r["legit_failed"]) +
                                    int(r["abusive_2xx"]) for r in rs)
        res[s_] = (succ, p50 / base_p50, ok)
        lines.append("| %s | %.2f %% | %.2fx | %.0f | %.0f | %s | %.2f | %.0f us | %s |" % (
            s_, succ, p50 / base_p50, sent, ok,
            "-" if s_ == "ka_none" else "%+.1f %%" % (100.0 * (ok - KA_LIMIT) / KA_LIMIT),
            cpu, 1e6 * cpu / answers if answers else 0,
            "-" if s_ == "ka_none" or per_answer is None else "%.2f s" % (cpu - answers * per_answer)))
    if "ka_infergate" in res:
        succ, ratio, ok = res["ka_infergate"]
        lines += ["", "| target (infergate, keep-alive abuser) | measured | limit | result |",
                  "|---|---:|---:|---|",
                  "| legitimate success | %.2f %% | >= 99.9 %% | %s |" % (succ, "PASS" if succ >= 99.9 else "MISS"),
                  "| median latency vs unattacked | %.2fx | <= 1.2x | %s |" % (ratio, "PASS" if ratio <= 1.2 else "MISS"),
                  "| abuser's answered rate vs its limit | %+.1f %% | within 5 %% | %s |" % (
                      100.0 * (ok - KA_LIMIT) / KA_LIMIT, "PASS" if abs(ok - KA_LIMIT) <= 0.05 * KA_LIMIT else "MISS")]
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text)
