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

rows = list(csv.DictReader(open(sys.argv[1])))
dur = float(sys.argv[3])
order = ["baseline", "none", "limit_req", "infergate"]
by = {s: [r for r in rows if r["scenario"] == s] for s in order}
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
    req = sum(int(r["legit_requests"]) for r in rs)
    fail = sum(int(r["legit_failed"]) for r in rs)
    succ = 100.0 * (req - fail) / req if req else 0.0
    p50 = statistics.median(int(r["p50_us"]) for r in rs)
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
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text)
