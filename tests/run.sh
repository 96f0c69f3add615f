#!/usr/bin/env bash
# Runs every suite and prints the one summary line: "N passed, N failed, N skipped".
#   tests/run.sh BUILD_DIR [FILTER]
# C tests (unit, BPF_PROG_TEST_RUN) run from BUILD_DIR/tests/ig_tests; each
# tests/netns/*.sh file runs as its own process and prints one line per test
# ("ok   NAME", "FAIL NAME", "skip NAME: reason"), two files at a time
# (IG_JOBS). Files named *.slow.sh run only with IG_SLOW=1.
set -u
build=${1:-build}
filter=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
export IG_BIN=${IG_BIN:-$(cd "$build" && pwd)/infergate}
export IG_BUILD=$(cd "$build" && pwd)

passed=0 failed=0 skipped=0
failures=() durations=()

tally() { # reads result lines on stdin, echoes them, counts them
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"ok   "*) passed=$((passed + 1)) ;;
		"FAIL "*) failed=$((failed + 1)); failures+=("${line#FAIL }") ;;
		"skip "*) skipped=$((skipped + 1)) ;;
		esac
	done
}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests need root (BPF, network namespaces): run as root or with sudo" >&2
	exit 2
fi
if ! grep -q '^bpf /sys/fs/bpf ' /proc/mounts; then
	mount -t bpf bpf /sys/fs/bpf || { echo "cannot mount bpffs at /sys/fs/bpf" >&2; exit 2; }
fi

echo "== C tests (unit, BPF_PROG_TEST_RUN)"
ctmp=$(mktemp)
"$IG_BUILD/tests/ig_tests" ${filter:+"$filter"} >"$ctmp" 2>&1
tally <"$ctmp"
if ! grep -q '^# ig_tests:' "$ctmp"; then
	tally <<<"FAIL ig_tests: the runner died before its summary"
fi
rm -f "$ctmp"

# Each pure header under libFuzzer for a bounded time (IG_FUZZ_SECONDS each,
# default 10), from its seeds in tests/fuzz/corpus/NAME (read only: what the
# run finds goes to a temporary directory). IG_JOBS (2) at a time: each is one
# busy CPU, so the nine take ~50 s on two cores instead of 90.
fuzz_one() { # NAME DIR: its result line into DIR/result
	if "$IG_BUILD/tests/fuzz_$1" -max_total_time="${IG_FUZZ_SECONDS:-10}" \
		-artifact_prefix="$2/" "$2" "$here/fuzz/corpus/$1" >"$2/log" 2>&1; then
		echo "ok   fuzz-$1: $(grep -o 'Done [0-9]* runs' "$2/log")" >"$2/result"
	else
		tail -n 30 "$2/log" | sed 's/^/    /' >"$2/result"
		echo "FAIL fuzz-$1 (crash input kept in $2)" >>"$2/result"
	fi
}
if [ -z "$filter" ] || [[ fuzz == *"$filter"* ]]; then
	fuzzers=(parse bucket sources steer reply http resp proxy window)
	for ((i = 0; i < ${#fuzzers[@]}; i += ${IG_JOBS:-2})); do
		batch=("${fuzzers[@]:i:${IG_JOBS:-2}}")
		fdirs=() fpids=()
		for fuzzer in "${batch[@]}"; do
			fdir=$(mktemp -d)
			fdirs+=("$fdir")
			fuzz_one "$fuzzer" "$fdir" &
			fpids+=($!)
		done
		wait "${fpids[@]}"
		for j in "${!batch[@]}"; do
			echo "== fuzz_${batch[j]} (${IG_FUZZ_SECONDS:-10} s)"
			tally <"${fdirs[j]}/result"
			grep -q '^FAIL' "${fdirs[j]}/result" || rm -rf "${fdirs[j]}"
		done
	done
fi

# The namespace suites, IG_JOBS (2) at a time: each builds hosts of its own
# (names from its PID), and most of their time is spent waiting on clients,
# timeouts and the agent's ticks, not on a CPU. A suite whose header says
# "# ig-run: alone" (floods that load a CPU, timings, the package test that
# installs into the system) runs after them, by itself. The largest files
# start first, so that the longest suites do not end the run alone.
# Each suite's lines are printed together when it ends.
jobs_max=${IG_JOBS:-2}
shared=() alone=()
for f in "$here"/netns/*.sh; do
	[ -e "$f" ] || continue
	case "$f" in *.slow.sh) [ "${IG_SLOW:-0}" = 1 ] || continue ;; esac
	[ -n "$filter" ] && [[ "$f" != *"$filter"* ]] && continue
	if grep -q '^# ig-run: alone' "$f"; then alone+=("$f"); else shared+=("$f"); fi
done
if [ ${#shared[@]} -gt 0 ]; then
	mapfile -t shared < <(for f in "${shared[@]}"; do echo "$(wc -c <"$f") $f"; done |
		sort -rn | cut -d' ' -f2-)
fi
outdir=$(mktemp -d)
declare -A running=()

run_suite() { # FILE: its lines into $outdir/NAME, its seconds into NAME.secs
	local name t0=$SECONDS
	name=$(basename "$1")
	timeout 900 bash "$1" >"$outdir/$name" 2>&1 || echo "FAIL $name: exited $?" >>"$outdir/$name"
	echo $((SECONDS - t0)) >"$outdir/$name.secs"
}

report() { # NAME
	echo "== $1 ($(cat "$outdir/$1.secs") s)"
	tally <"$outdir/$1"
	durations+=("$(cat "$outdir/$1.secs") $1")
}

reap() { # waits for one suite to end and reports it
	local pid
	wait -n -p pid "${!running[@]}"
	report "${running[$pid]}"
	unset "running[$pid]"
}

for f in "${shared[@]}"; do
	[ ${#running[@]} -lt "$jobs_max" ] || reap
	run_suite "$f" &
	running[$!]=$(basename "$f")
done
while [ ${#running[@]} -gt 0 ]; do reap; done
for f in "${alone[@]}"; do
	run_suite "$f"
	report "$(basename "$f")"
done
rm -rf "$outdir"
# where the time went, longest first
if [ ${#durations[@]} -gt 0 ]; then
	echo "suite seconds: $(printf '%s\n' "${durations[@]}" | sort -rn | head -n 8 | tr '\n' ' ')"
	echo "total seconds: $SECONDS"
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
