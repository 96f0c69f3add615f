#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The veth bench (part of `make bench`): real frames into a receiving
# namespace, where one limiter at a time enforces the same policy (1 packet/s,
# burst 1, per source, on TCP port 8000, so nearly every packet is dropped):
# infergate in native XDP and on tcx, iptables hashlimit (srcip), an nftables
# dynamic-set meter, and as the baseline an XDP program that counts and drops.
#
# The generator (veth/vethgen, an XDP program run with BPF_PROG_TEST_RUN in
# live-frames mode) and the receiver's NAPI share one pinned CPU, so the time
# the generator takes is the time both sides spend: ns per received packet,
# minus the baseline's in the same round, is what a limiter costs. Variants
# and source counts are interleaved round by round; medians are reported.
# Everything lives in two namespaces made here and is removed on exit.
set -eEuo pipefail
build=${1:-build}
B=$build/tests/bench
GEN=$B/vethgen
IG=$build/infergate
OUT=$build/bench
ROUNDS=${IG_VETH_ROUNDS:-5}
COUNT=${IG_VETH_PACKETS:-2000000}
CPU=${IG_BENCH_CPU:-$(($(nproc) - 1))}
SOURCES=(1 1000 100000)
VARIANTS=(baseline infergate hashlimit nft infergate_tc)

[ "$(id -u)" -eq 0 ] || { echo "veth bench: needs root" >&2; exit 1; }
for t in iptables nft ethtool taskset; do
	command -v "$t" >/dev/null || { echo "veth bench: $t missing (make deps installs it)" >&2; exit 1; }
done

S=igvb-s$$ R=igvb-r$$ VS=igvbs$$ VR=igvbr$$ PIN=/sys/fs/bpf/igvb-$$
cleanup() {
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$R" 2>/dev/null || true
	rm -rf "$PIN" "$PIN-ig"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inS() { nsenter --net="/run/netns/$S" "$@"; }
inR() { nsenter --net="/run/netns/$R" "$@"; }

ip netns add "$S"
ip netns add "$R"
ip link add "$VS" netns "$S" type veth peer name "$VR" netns "$R"
inS ip link set lo up
inR ip link set lo up
inS ip addr add 198.19.255.1/15 dev "$VS"
inR ip addr add 198.19.255.2/15 dev "$VR"
inS ip link set "$VS" up
inR ip link set "$VR" up
# frames sent with XDP_TX reach a peer without an XDP program only through GRO
inR ethtool -K "$VR" gro on >/dev/null
MAC=$(inR ip -br link show "$VR" | awk '{print $3}')
mkdir -p "$PIN" "$OUT"

# Each variant: setup, packets it saw (its own counter), packets it dropped, teardown.
setup_baseline() { inR "$GEN" sink "$VR" "$PIN" >/dev/null; }
seen_baseline() { "$GEN" count "$PIN"; }
dropped_baseline() { "$GEN" count "$PIN"; }
teardown_baseline() { rm -f "$PIN/link" "$PIN/count"; }

igj() { inR "$IG" --pin-dir "$PIN-ig" status --json | python3 -c "import json,sys; p=json.load(sys.stdin)['ports'][0]; print($1)"; }
setup_infergate() {
	inR "$IG" --pin-dir "$PIN-ig" attach "$VR" --hook xdp --xdp-mode native >/dev/null
	inR "$IG" --pin-dir "$PIN-ig" limit 8000 --rate 1/s --burst 1 --unit packet >/dev/null
}
seen_infergate() { igj 'p["passed"]["packets"] + p["dropped"]["packets"]'; }
dropped_infergate() { igj 'p["dropped"]["packets"]'; }
teardown_infergate() { inR "$IG" --pin-dir "$PIN-ig" detach "$VR" --purge >/dev/null; }

# The same data path on tcx ingress, where it runs beside another program that
# holds the XDP hook (user/README.md, "Other programs on the interface").
setup_infergate_tc() {
	inR "$IG" --pin-dir "$PIN-ig" attach "$VR" --hook tc >/dev/null
	inR "$IG" --pin-dir "$PIN-ig" limit 8000 --rate 1/s --burst 1 --unit packet >/dev/null
}
seen_infergate_tc() { seen_infergate; }
dropped_infergate_tc() { dropped_infergate; }
teardown_infergate_tc() { teardown_infergate; }

ipt_pkts() { inR iptables -L INPUT -v -x -n | awk -v n="$1" '/dpt:8000/ { if (++i == n) print $1 }'; }
setup_hashlimit() {
	inR iptables -A INPUT -p tcp --dport 8000
	inR iptables -A INPUT -p tcp --dport 8000 -m hashlimit --hashlimit-mode srcip \
		--hashlimit-above 1/sec --hashlimit-burst 1 --hashlimit-name igvb \
		--hashlimit-htable-size 131072 --hashlimit-htable-max 262144 -j DROP
}
seen_hashlimit() { ipt_pkts 1; }
dropped_hashlimit() { ipt_pkts 2; }
teardown_hashlimit() { inR iptables -F INPUT; }

nft_pkts() { inR nft list counter ip igvb "$1" | awk '/packets/ { print $2 }'; }
setup_nft() {
	inR nft -f - <<-NFT
	table ip igvb {
		counter seen {}
		counter over {}
		set m { type ipv4_addr; size 262144; flags dynamic,timeout; timeout 1m; }
		chain input {
			type filter hook input priority filter; policy accept;
			tcp dport 8000 counter name "seen" update @m { ip saddr limit rate over 1/second burst 1 packets } counter name "over" drop
		}
	}
	NFT
}
seen_nft() { nft_pkts seen; }
dropped_nft() { nft_pkts over; }
teardown_nft() { inR nft delete table ip igvb; }

csv=$OUT/veth.csv
echo "round,variant,sources,sent,seen,dropped,ns,ns_per_packet" >"$csv"
echo "veth bench: ${#VARIANTS[@]} variants x ${#SOURCES[@]} source counts x $ROUNDS rounds x $COUNT packets, CPU $CPU" >&2
for ((r = 1; r <= ROUNDS; r++)); do
	for n in "${SOURCES[@]}"; do
		for v in "${VARIANTS[@]}"; do
			"setup_$v"
			out=$(inS taskset -c "$CPU" "$GEN" gen "$VS" "$MAC" 198.19.255.2 8000 "$n" 198.18.0.1 "$COUNT")
			read -r _ sent _ ns <<<"$out"
			seen=$("seen_$v")
			dropped=$("dropped_$v")
			"teardown_$v"
			python3 -c "import sys; print('%s,%s,%s,%s,%s,%s,%s,%.1f' % (sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], int(sys.argv[7]) / max(int(sys.argv[5]), 1)))" \
				"$r" "$v" "$n" "$sent" "$seen" "$dropped" "$ns" >>"$csv"
		done
	done
	echo "veth bench: round $r/$ROUNDS done" >&2
done
python3 "$(dirname "$0")/veth_report.py" "$csv" "$OUT"
