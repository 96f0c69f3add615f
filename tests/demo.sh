#!/usr/bin/env bash
# `sudo make demo`: infergate in throwaway namespaces. A TCP server stands in
# for an inference backend on port 8000; a polite client (2 connections/s) and
# an abusive one (as fast as it can) share the limit of 5 new connections/s
# and burst 10 per source, enforced in XDP with RST replies. Everything it
# creates is removed on exit, however it exits.
set -eEu
build=${1:-build}
IG_BIN=$(cd "$build" && pwd)/infergate
. "$(dirname "$0")/lib/netns.sh"

[ "$(id -u)" -eq 0 ] || { echo "the demo needs root: sudo make demo" >&2; exit 1; }
grep -q '^bpf /sys/fs/bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf

IG_PIDS=() IG_NETNS=() IG_PINS=()
IG_TMP=$(mktemp -d)
IG_N=1
trap ig_cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

ig_make_pair
say "two hosts: server $S4 and clients, each in its own namespace, one veth between"
ig_start_server tcp 8000
ABUSER=198.18.$((IG_N % 250 + 1)).3
ig_cli ip addr add "$ABUSER/24" dev "$VC"

say "infergate attach $VS; limit 8000 --rate 5/s --burst 10 --action reject"
ig attach "$VS"
ig limit 8000 --rate 5/s --burst 10 --action reject

tally() { # NAME OK REFUSED: rename, so the status line never reads half a file
	echo "$2 $3" >"$IG_TMP/$1.tmp" && mv "$IG_TMP/$1.tmp" "$IG_TMP/$1"
}
polite() { # one connection every 0.5 s from the client's own address
	local ok=0 no=0
	for ((i = 0; i < 16; i++)); do
		if ig_cli curl -s -o /dev/null --connect-timeout 2 "http://$S4:8000/"; then
			ok=$((ok + 1)); else no=$((no + 1)); fi
		tally polite "$ok" "$no"
		sleep 0.5
	done
}
abusive() { # back to back from a second address for 8 s, bounded in count too
	local ok=0 no=0 end=$((SECONDS + 8))
	for ((i = 0; i < 2000 && SECONDS < end; i++)); do
		if ig_cli curl -s -o /dev/null --connect-timeout 2 --interface "$ABUSER" \
			"http://$S4:8000/"; then ok=$((ok + 1)); else no=$((no + 1)); fi
		tally abusive "$ok" "$no"
	done
}

say "8 seconds of traffic: polite client 2 conn/s, abusive client flat out"
tally polite 0 0; tally abusive 0 0
polite & pp=$!; IG_PIDS+=($pp)
abusive & ap=$!; IG_PIDS+=($ap)
while kill -0 "$pp" 2>/dev/null || kill -0 "$ap" 2>/dev/null; do
	read -r po pn <"$IG_TMP/polite"; read -r ao an <"$IG_TMP/abusive"
	printf '\r  polite: %3d served %3d refused   abusive: %3d served %3d refused (RST)   ' \
		"$po" "$pn" "$ao" "$an"
	sleep 0.25
done
wait "$pp" "$ap" 2>/dev/null || true
read -r po pn <"$IG_TMP/polite"; read -r ao an <"$IG_TMP/abusive"
printf '\r  polite: %3d served %3d refused   abusive: %3d served %3d refused (RST)   \n' \
	"$po" "$pn" "$ao" "$an"

say "infergate status"
ig status

say "summary"
echo "  the polite client was served $po of $((po + pn)); the abusive one $ao of $((ao + an)),"
echo "  about its burst (10) plus 5 per second, and every refusal was immediate (a RST from XDP)."
echo "  Cleaning up namespaces and pinned state."
