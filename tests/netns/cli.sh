#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The CLI's life cycle on a real interface: refusals leave nothing behind,
# attach is idempotent, detach leaves the interface clean, --purge the bpffs.
. "$(dirname "$0")/../lib/netns.sh"

# Nothing pinned: the pin dir is absent or empty.
ig_assert_no_pins() { # DIR
	if [ -d "$1" ] && [ -n "$(ls -A "$1")" ]; then
		ig_fail "left pinned in $1: $(ls -A "$1" | tr '\n' ' ')"
	fi
	return 0
}

# ig_expect_error RC WHAT CLI-ARGS...: the CLI (its own --pin-dir included in
# the args) exits RC with exactly one non-empty line on stderr.
ig_expect_error() {
	local want=$1 what=$2 rc=0 err
	shift 2
	nsenter --net="/run/netns/$SRV" ${IG_AS_USER:+setpriv --reuid=65534 --regid=65534 --clear-groups} \
		"$IG_BIN" "$@" >"$IG_TMP/out" 2>"$IG_TMP/err" || rc=$?
	err=$(cat "$IG_TMP/err")
	echo "$what: exit $rc, stderr: $err"
	ig_assert_eq "$rc" "$want" "$what: exit code"
	ig_assert_eq "$(grep -c . "$IG_TMP/err")" 1 "$what: lines on stderr"
	ig_assert_eq "$(wc -l <"$IG_TMP/err")" 1 "$what: lines on stderr (blank ones too)"
}

# Each refusal on a fresh host: it leaves no program and no pins.
ig_error_case() { # RC WHAT ARGS...
	ig_make_pair
	ig_expect_error "$1" "$2" --pin-dir "$PIN" "${@:3}"
	ig_assert_clean "$SRV" "$VS"
	ig_assert_no_pins "$PIN"
}

t_err_unknown_iface() { ig_error_case 1 "attach to a missing interface" attach igmissing0 --hook "$HOOK"; }
t_err_port_0() { ig_error_case 2 "port 0" limit 0 --rate 5/s; }
t_err_port_70000() { ig_error_case 2 "port 70000" limit 70000/tcp --rate 5/s; }
t_err_rate_0() { ig_error_case 2 "rate 0" limit 8080 --rate 0; }
t_err_rate_abc() { ig_error_case 2 "rate abc" limit 8080 --rate abc; }

t_err_pin_parent_missing() {
	local base
	ig_make_pair
	base=/sys/fs/bpf/ig-test-$$-$IG_N-missing
	IG_PINS+=("$base")
	ig_expect_error 1 "pin dir whose parent is missing" \
		--pin-dir "$base/instance" attach "$VS" --hook "$HOOK"
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$base" ] || ig_fail "$base was created: $(ls -laR "$base")"
}

t_err_not_bpffs() {
	ig_make_pair
	ig_expect_error 1 "pin dir outside bpffs" --pin-dir "$IG_TMP/pins" attach "$VS" --hook "$HOOK"
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$IG_TMP/pins" ] || ig_fail "$IG_TMP/pins was created"
}

t_err_not_root() {
	ig_make_pair
	command -v setpriv >/dev/null || ig_skip "setpriv (util-linux) not installed"
	IG_AS_USER=1 ig_expect_error 1 "attach as an unprivileged user" --pin-dir "$PIN" \
		attach "$VS" --hook "$HOOK"
	ig_assert_clean "$SRV" "$VS"
	ig_assert_no_pins "$PIN"
}

# A refused limit on a running instance changes nothing there either.
t_err_keeps_instance() {
	local before
	ig_make_pair
	ig_attach
	ig limit 8080 --rate 5/s --burst 10
	before=$(ig_json 'j["ports"]')
	ig_expect_error 2 "rate abc on a running instance" --pin-dir "$PIN" limit 8080 --rate abc
	ig_expect_error 2 "port 0 on a running instance" --pin-dir "$PIN" limit 0 --rate 1/s
	ig_assert_eq "$(ig_json 'j["ports"]')" "$before" "ports after refused commands"
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs attached (ingress + egress)"
}

t_attach_twice() {
	local id1 id2
	ig_make_pair
	ig_attach
	id1=$(ig_json 'j["attachments"][0]["prog_id"]')
	ig_attach
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs attached after two attaches (ingress + egress)"
	ig_assert_eq "$(ig_json 'len(j["attachments"])')" 1 "attachments in status"
	ig_assert_eq "$(ig_json 'j["attachments"][0]["hook"]')" "$HOOK" "hook in status"
	id2=$(ig_json 'j["attachments"][0]["prog_id"]')
	echo "prog ids: $id1 then $id2"
	if [ "$HOOK" = xdp ]; then
		nsenter --net="/run/netns/$SRV" ip -d link show dev "$VS" | grep "prog/xdp id $id2 " >/dev/null ||
			ig_fail "status prog_id $id2 is not the XDP program on $VS"
	fi
	# and the one attached program does its job
	ig_start_server tcp 8080
	ig limit 8080 --rate 1/s --burst 1 --action reject
	ig_curl_run 3 "http://$S4:8080/" 2
	ig_curl_summary
	# burst 1 at 1/s: one admitted, plus at most one (the bucket keeps time on
	# whole-token instants: a source first seen just before one gets its
	# next token early, the +-1 of the bucket's exactness)
	ig_assert_ge "$CURL_REFUSED" 1 "refused after the second attach"
	ig_assert_eq "$(ig_json 'reason(8080,"tcp","admitted") + reason(8080,"tcp","reject")')" 3 \
		"charges counted once each"
}

t_detach_clean() {
	ig_make_pair
	ig_start_server tcp 8080
	ig_attach
	ig limit 8080 --rate 1/s --burst 1 --action reject
	[ -e "$PIN/link_${HOOK}_$VS" ] || ig_fail "no link pinned as $PIN/link_${HOOK}_$VS: $(ls "$PIN")"
	ig detach "$VS"
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$PIN/link_${HOOK}_$VS" ] || ig_fail "link pin left after detach"
	[ -e "$PIN/port_policy" ] || ig_fail "detach without --purge removed the maps: $(ls -A "$PIN")"
	ig_assert_eq "$(ig_json 'len(j["attachments"])')" 0 "attachments in status after detach"
	ig_assert_eq "$(ig_json '[p["port"] for p in j["ports"]]')" "[8080]" "policy kept after detach"
	# Nothing limits any more.
	ig_curl_run 10 "http://$S4:8080/" 2
	ig_curl_summary
	ig_assert_eq "$CURL_OK" 10 "connections after detach"
}

t_detach_purge() {
	ig_make_pair
	ig_attach
	ig limit 8080 --rate 5/s
	ig detach "$VS" --purge
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$PIN" ] || ig_fail "pin dir left after detach --purge: $(ls -A "$PIN")"
	# A new instance starts from scratch.
	ig_attach
	ig_assert_eq "$(ig_json 'len(j["ports"])')" 0 "ports of a new instance after --purge"
}

for HOOK in xdp tc; do
	run_test "$HOOK/cli-error-unknown-iface" t_err_unknown_iface
	run_test "$HOOK/cli-error-pin-parent-missing" t_err_pin_parent_missing
	run_test "$HOOK/cli-error-pin-dir-not-bpffs" t_err_not_bpffs
	run_test "$HOOK/cli-error-not-root" t_err_not_root
	run_test "$HOOK/cli-error-keeps-instance" t_err_keeps_instance
	run_test "$HOOK/attach-twice" t_attach_twice
	run_test "$HOOK/detach-clean" t_detach_clean
	run_test "$HOOK/detach-purge" t_detach_purge
done
HOOK=xdp
run_test cli-error-port-0 t_err_port_0
run_test cli-error-port-70000 t_err_port_70000
run_test cli-error-rate-0 t_err_rate_0
run_test cli-error-rate-abc t_err_rate_abc

# A pid file left by a dead agent may name a pid since reused by anything:
# reload must check it is an infergate agent before sending SIGHUP (which
# kills most programs).
t_reload_pidfile_foreign_pid() {
	local pid
	ig_make_pair
	sleep 300 &
	pid=$!
	IG_PIDS+=($pid)
	echo "$pid" >"$IG_TMP/stale.pid"
	ig_expect_error 1 "reload with a foreign pid" --pin-dir "$PIN" reload --pid-file "$IG_TMP/stale.pid"
	grep -q "pid $pid from .* is not an infergate agent" "$IG_TMP/err" ||
		ig_fail "message: $(cat "$IG_TMP/err")"
	sleep 0.2
	kill -0 "$pid" 2>/dev/null || ig_fail "the foreign process was signalled"
}
run_test reload-pidfile-foreign-pid-not-signalled t_reload_pidfile_foreign_pid

# The flow table's size is chosen at the first attach and kept while pinned.
t_max_flows() {
	ig_make_pair
	ig_attach --max-flows 4096
	ig_assert_eq "$(ig_json 'j["max_flows"]')" 4096 "flow table size"
	ig_expect_error 1 "another size while pinned" --pin-dir "$PIN" attach "$VS" --max-flows 8192
	grep -q "holds 4096 flows; --max-flows 8192 differs" "$IG_TMP/err" || ig_fail "message: $(cat "$IG_TMP/err")"
	ig_attach
	ig_assert_eq "$(ig_json 'j["max_flows"]')" 4096 "kept by an attach without the option"
}
run_test max-flows t_max_flows
