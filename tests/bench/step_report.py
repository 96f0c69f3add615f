# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The step test's report (tests/bench/step.sh): per scenario the samples
every 250 ms (step-SCENARIO.csv), the summary (step.md, also printed) and the
chart (step.png, gnuplot).

    step_report.py OUTDIR CAPACITY SCENARIO...

Time 0 is the start of the schedule: 10 s at 0.5x capacity, 20 s at 3x,
10 s at 0.5x. Rates at a sample are over the second before it: offered
(arrivals, by send time), admitted (200 completions, by completion time),
refused (429s); TTFT p99 of the completions whose first token came in that
second (the client's view), and the engine's queue as sampled then.
"""
import csv
import json
import math
import os
import subprocess
import sys

out, cap, scenarios = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
LOW_END, HIGH_END, END = 10.0, 30.0, 40.0
COLS = ["t", "offered_rps", "admitted_rps", "refused_rps", "waiting", "running", "kv",
        "ttft_p99_1s", "engine_ttft_p99_1s", "admitted_a", "admitted_b", "port_rate"]


def pct(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))]


def fnum(x, f="%.3f"):
    return "NaN" if x is None else f % x


def load(sc):
    global arrivals
    rows, t0s = [], {}
    for c in ("a", "b"):
        with open(os.path.join(out, "step-%s-%s.json" % (sc, c))) as f:
            j = json.load(f)
            t0s[c] = j["t0"]
            arrivals = j["arrivals"]
    zero = min(t0s.values())
    for c in ("a", "b"):
        with open(os.path.join(out, "step-%s-%s.csv" % (sc, c))) as f:
            for r in csv.DictReader(f):
                send = t0s[c] - zero + float(r["t_send"])
                ttft = float(r["ttft_s"]) if r["ttft_s"] else None
                total = float(r["total_s"]) if r["total_s"] else None
                rows.append({"c": c, "send": send, "status": r["status"], "ttft": ttft,
                             "first": send + ttft if ttft is not None else None,
                             "done": send + total if total is not None else None})
    samples = []
    with open(os.path.join(out, "step-%s-samples.csv" % sc)) as f:
        for s in csv.DictReader(f):
            samples.append({"t": float(s["epoch"]) - zero, "waiting": int(s["waiting"]),
                            "running": int(s["running"]), "kv": float(s["kv"]),
                            "engine_p99": float(s["engine_ttft_p99_1s"])
                            if s["engine_ttft_p99_1s"] else None,
                            "port_rate": float(s["port_rate"]) if s.get("port_rate") else None})
    return rows, samples


def series(rows, samples):
    ok = [r for r in rows if r["status"] == "200"]
    res = []
    for s in samples:
        t = s["t"]
        if t < -0.5:
            continue
        inw = lambda x: x is not None and t - 1.0 < x <= t  # noqa: E731
        res.append({
            "t": t,
            "offered_rps": sum(1 for r in rows if inw(r["send"])),
            "admitted_rps": sum(1 for r in ok if inw(r["done"])),
            "refused_rps": sum(1 for r in rows if r["status"] == "429" and inw(r["send"])),
            "waiting": s["waiting"], "running": s["running"], "kv": s["kv"],
            "ttft_p99_1s": pct([r["ttft"] for r in ok if inw(r["first"])], 99),
            "engine_ttft_p99_1s": s["engine_p99"],
            "admitted_a": sum(1 for r in ok if r["c"] == "a" and inw(r["done"])),
            "admitted_b": sum(1 for r in ok if r["c"] == "b" and inw(r["done"])),
            "port_rate": s["port_rate"],
        })
    return res


data, skipped, arrivals = {}, {}, "?"
for sc in scenarios:
    skip = os.path.join(out, "step-%s.skip" % sc)
    if os.path.exists(skip):
        skipped[sc] = open(skip).read().strip()
        continue
    rows, samples = load(sc)
    ser = series(rows, samples)
    data[sc] = (rows, ser)
    with open(os.path.join(out, "step-%s.csv" % sc), "w") as f:
        f.write(",".join(COLS) + "\n")
        for x in ser:
            f.write(",".join(fnum(x[k], "%.4f") if isinstance(x[k], float) or x[k] is None
                             else str(x[k]) for k in COLS) + "\n")

# unloaded: step.sh's calibration run (2/s evenly spaced, nothing in front)
try:
    with open(os.path.join(out, "step-unloaded.json")) as f:
        unloaded = json.load(f)["total"]["ttft_p99"]
except (OSError, ValueError, KeyError):
    unloaded = None
# the level before the step: TTFT p99 of the first 10 s at 0.5x (of `none`
# when it ran, else the lowest); recovery of the TTFT is a return to it
phase1 = {sc: pct([r["ttft"] for r in rows if r["status"] == "200" and r["send"] < LOW_END], 99)
          for sc, (rows, _) in data.items()}
before = phase1.get("none") or min([v for v in phase1.values() if v] or [None])

lines = ["# Step test (issue 15): 0.5x capacity 10 s, 3x 20 s, 0.5x 10 s",
         "",
         "Engine capacity %.2f requests/s (%s); two "
         "clients, equal demand, streamed completions, %s arrivals. TTFT p99 unloaded "
         "(2 requests/s evenly spaced, nothing in front): %s s; at 0.5x before the step "
         "(the first 10 s of %s): %s s." % (cap, os.environ.get(
             "IG_STEP_SHAPE", "4 slots, 20 ms prefill, 16 tokens x 20 ms"), arrivals, fnum(unloaded),
                                            "`none`" if "none" in phase1 else "the scenarios, the lowest",
                                            fnum(before)),
         "",
         "| scenario | TTFT p99 admitted (all) | at 3x | vs unloaded | goodput at 3x (% of capacity) "
         "| refused | timed out | queue max | recovery (queue empty) | TTFT back (to before the step) "
         "| shares at 3x (a/b) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for sc, (rows, ser) in data.items():
    ok = [r for r in rows if r["status"] == "200"]
    p_all = pct([r["ttft"] for r in ok], 99)
    p_hi = pct([r["ttft"] for r in ok if LOW_END <= r["send"] < HIGH_END], 99)
    done_hi = [r for r in ok if LOW_END <= r["done"] < HIGH_END]
    good = len(done_hi) / (HIGH_END - LOW_END) / cap * 100
    na = sum(1 for r in done_hi if r["c"] == "a")
    nb = len(done_hi) - na
    refused = sum(1 for r in rows if r["status"] == "429")
    tout = sum(1 for r in rows if r["status"] == "timeout")
    other = sum(1 for r in rows if r["status"] not in ("200", "429", "timeout"))
    qmax = max([x["waiting"] for x in ser] or [0])
    rec = next((x["t"] - HIGH_END for x in ser if x["t"] >= HIGH_END and x["waiting"] == 0), None)
    # TTFT back: the first sample after the step down from which every later
    # one with completions in its second is within the level before the step
    back = None
    if before:
        after = [x for x in ser if x["t"] >= HIGH_END and x["ttft_p99_1s"] is not None]
        for i, x in enumerate(after):
            if all(y["ttft_p99_1s"] <= before for y in after[i:]):
                back = x["t"] - HIGH_END
                break
    lines.append("| %s | %s s | %s s | %s | %.0f %% | %d | %d%s | %d | %s | %s | %.1f %% / %.1f %% |" % (
        sc, fnum(p_all), fnum(p_hi),
        "%.1fx" % (p_hi / unloaded) if p_hi and unloaded else "-", good, refused, tout,
        " (+%d other)" % other if other else "", qmax,
        "%.2f s" % rec if rec is not None else "not by %.0f s" % (ser[-1]["t"] - HIGH_END if ser else 0),
        "%.2f s" % back if back is not None else "no",
        100.0 * na / max(1, len(done_hi)), 100.0 * nb / max(1, len(done_hi))))
for sc, why in skipped.items():
    lines.append("| %s | skipped: %s |||||||||| " % (sc, why.replace("|", "/")))
lines += ["",
          "TTFT: from sending the request to the first SSE event (which carries the first "
          "token). Goodput: 200 completions finished during the 3x phase, per second, against "
          "the capacity. Recovery: from the step down (t = 30 s) to the first sample of an "
          "empty engine queue; TTFT back: to the first sample from which the TTFT p99 of "
          "each second stays within the level before the step. Shares: the two clients' completions during the 3x phase.",
          "Per 250 ms samples: step-SCENARIO.csv; every request: step-SCENARIO-{a,b}.csv; "
          "chart: step.png."]
md = "\n".join(lines) + "\n"
with open(os.path.join(out, "step.md"), "w") as f:
    f.write(md)
print(md)

# the chart: four panels over time, a line per scenario
if data:
    plots = lambda col, scs=list(data): ", ".join(  # noqa: E731
        "'%s' using 1:%d with lines lw 2 lt %d title '%s'"
        % (os.path.join(out, "step-%s.csv" % sc), COLS.index(col) + 1,
           list(data).index(sc) + 1, sc) for sc in scs)
    rated = [sc for sc, (_, ser) in data.items() if any(x["port_rate"] is not None for x in ser)]
    xmax = max(x["t"] for _, ser in data.values() for x in ser) if data else END
    gp = """set terminal pngcairo size 1000,%(height)d font ',10'
set output '%(png)s'
set datafile separator ','
set datafile missing 'NaN'
set key top right
set grid
set xrange [0:%(xmax).1f]
set multiplot layout %(panels)d,1 title 'Step test: 0.5x / 3x / 0.5x the engine capacity (%(cap).1f req/s)'
set arrow 1 from 10, graph 0 to 10, graph 1 nohead dt 2
set arrow 2 from 30, graph 0 to 30, graph 1 nohead dt 2
set ylabel 'offered req/s'
plot %(off)s, %(cap)f with lines dt 3 lc rgb 'black' title 'capacity'
set ylabel 'admitted (200/s)'
plot %(adm)s, %(cap)f with lines dt 3 lc rgb 'black' title 'capacity'
set ylabel 'engine queue (waiting)'
plot %(q)s
set ylabel 'TTFT p99, last 1 s (s)'
%(xl4)sset logscale y
plot %(ttft)s
unset logscale y
%(p5)sunset multiplot
""" % {"png": os.path.join(out, "step.png"), "xmax": xmax, "cap": cap,
       "off": plots("offered_rps"), "adm": plots("admitted_rps"), "q": plots("waiting"),
       "ttft": plots("ttft_p99_1s"), "panels": 5 if rated else 4, "height": 1600 if rated else 1300,
       "xl4": "" if rated else "set xlabel 'time (s)'\n",
       "p5": ("set ylabel 'port rate set (req/s)'\nset xlabel 'time (s)'\nplot %s, %f with lines "
              "dt 3 lc rgb 'black' title 'capacity'\n" % (plots("port_rate", rated), cap)
              if rated else "")}
    with open(os.path.join(out, "step.gp"), "w") as f:
        f.write(gp)
    r = subprocess.run(["gnuplot", os.path.join(out, "step.gp")], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("step report: gnuplot failed: %s" % r.stderr.strip())
    print("step bench: chart %s" % os.path.join(out, "step.png"))
