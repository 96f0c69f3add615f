# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Report of tests/bench/veth.sh: medians per (variant, sources), minus the
baseline's median of the same round, as Markdown (veth.md) and a chart
(veth.png, with gnuplot when it is installed)."""
import csv, os, statistics, subprocess, sys

rows = list(csv.DictReader(open(sys.argv[1])))
out = sys.argv[2]
variants = ["infergate", "hashlimit", "nft", "infergate_tc"]
names = {"infergate": "infergate (XDP)", "hashlimit": "iptables hashlimit (srcip)",
         "nft": "nftables dynamic-set meter",
         "infergate_tc": "infergate (--hook tc: beside another XDP program)"}
sources = sorted({int(r["sources"]) for r in rows})
by = {}
for r in rows:
    by.setdefault((r["variant"], int(r["sources"]), r["round"]), r)

def above(v, n):
    """Per round: this variant's ns/packet minus the baseline's; the median."""
    d = []
    for rnd in sorted({r["round"] for r in rows}):
        a, b = by.get((v, n, rnd)), by.get(("baseline", n, rnd))
        if a and b:
            d.append(float(a["ns_per_packet"]) - float(b["ns_per_packet"]))
    return statistics.median(d) if d else float("nan")

def dropped_share(v, n):
    s = [int(r["dropped"]) / max(int(r["seen"]), 1) for r in rows
         if r["variant"] == v and int(r["sources"]) == n]
    return min(s) if s else 0.0

base = {n: statistics.median(float(r["ns_per_packet"]) for r in rows
                             if r["variant"] == "baseline" and int(r["sources"]) == n)
        for n in sources}
res = {(v, n): above(v, n) for v in variants for n in sources}
nrounds = len({r["round"] for r in rows})
lines = ["## infergate vs iptables hashlimit vs nftables meter, real frames over veth", "",
         "%d interleaved rounds x %s packets per cell; generator (XDP live frames) and receiver on one "
         "CPU; ns per received packet above the count-and-drop XDP baseline of the same round, median; "
         "policy: 1 packet/s, burst 1, per source, on 8000/tcp (nearly everything dropped)." %
         (nrounds, rows[0]["sent"]), "",
         "| limiter | " + " | ".join("%d source%s" % (n, "" if n == 1 else "s") for n in sources) +
         " | dropped (min share) |",
         "|---|" + "---:|" * len(sources) + "---:|",
         "| baseline: XDP count + drop (ns/packet, absolute) | " +
         " | ".join("%.0f" % base[n] for n in sources) + " | 100 % |"]
for v in variants:
    lines.append("| %s | %s | %.2f %% |" % (names[v], " | ".join("+%.0f" % res[(v, n)] for n in sources),
                                         100 * min(dropped_share(v, n) for n in sources)))
lines += ["", "| ratio (infergate / other) | " + " | ".join(str(n) for n in sources) + " |",
          "|---|" + "---:|" * len(sources)]
for v in ["hashlimit", "nft"]:
    lines.append("| vs %s | %s |" % (names[v], " | ".join(
        "1/%.1f" % (res[(v, n)] / res[("infergate", n)]) if res[("infergate", n)] > 0 else "n/a"
        for n in sources)))
lines.append("| tcx / XDP (the price of leaving the XDP hook to another program) | %s |" %
             " | ".join("%.1f" % (res[("infergate_tc", n)] / res[("infergate", n)])
                        if res[("infergate", n)] > 0 else "n/a" for n in sources))
targets = []
for v in ["hashlimit", "nft"]:
    for n, need in ((1000, 6), (100000, 5)):
        if n in sources:
            ratio = res[(v, n)] / res[("infergate", n)] if res[("infergate", n)] > 0 else float("inf")
            targets.append("| infergate <= 1/%d of %s at %d sources | 1/%.1f | %s |" %
                           (need, names[v], n, ratio, "PASS" if ratio >= need else "MISS"))
lines += ["", "| target | measured | result |", "|---|---:|---|"] + targets
md = "\n".join(lines) + "\n"
open(os.path.join(out, "veth.md"), "w").write(md)
print(md)

dat = os.path.join(out, "veth.dat")
with open(dat, "w") as f:
    for n in sources:
        f.write("%d %s\n" % (n, " ".join("%.1f" % res[(v, n)] for v in variants)))
try:
    subprocess.run(["gnuplot"], input="""
set terminal pngcairo size 800,500 noenhanced
set output '%s'
set title 'Drop-path cost over veth, above an XDP count-and-drop baseline'
set xlabel 'tracked sources'
set ylabel 'ns per packet'
set logscale x
set key top left
set grid
plot '%s' using 1:2 with linespoints lw 2 title '%s', '' using 1:3 with linespoints lw 2 title '%s', '' using 1:4 with linespoints lw 2 title '%s'
""" % (os.path.join(out, "veth.png"), dat, names["infergate"], names["hashlimit"], names["nft"]),
        text=True, check=True)
    print("veth bench: wrote %s/veth.md, veth.csv and veth.png" % out, file=sys.stderr)
except (OSError, subprocess.CalledProcessError) as e:
    print("veth bench: no chart (%s); wrote %s/veth.md and veth.csv" % (e, out), file=sys.stderr)
