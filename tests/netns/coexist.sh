#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# infergate beside other programs on the same interface: Debian's xdp-filter
# (libxdp) on the XDP hook, another vendor's tcx program (lib/tcx_peer.bpf.c)
# on tcx. The XDP hook is never taken silently; --hook tc runs beside an XDP
# program, each enforcing its own rules; --tc-position puts infergate first or
# last among the tcx programs, shown by what the other program counted.
. "$(dirname "$0")/../lib/netns.sh"

# libxdp keeps its own pins under $LIBXDP_BPFFS (one dir per test), but
# xdp-filter 1.3.1 pins its maps at /sys/fs/bpf/xdp-filter whatever that says,
# shared by every xdp-filter on the machine. So the tests run only where none
# is there (never touching an operator's rules), and remove what they made.
XF_PINS=/sys/fs/bpf/xdp-filter
xf() { LIBXDP_BPFFS=$XF_FS nsenter --net="/run/netns/$SRV" xdp-filter "$@"; }

xf_cleanup() {
	set +eE # as ig_cleanup: everything runs, whatever fails
	trap - ERR
	[ -z "${VS:-}" ] || xf unload "$VS" >/dev/null 2>&1
	rm -rf "$XF_PINS"
	ig_cleanup
}

xf_begin() {
	command -v xdp-filter >/dev/null || ig_skip "xdp-filter (Debian xdp-tools) not installed"
	[ ! -e "$XF_PINS" ] || ig_skip "another xdp-filter's state is pinned at $XF_PINS: not sharing it"
	trap xf_cleanup EXIT
	XF_FS=/sys/fs/bpf/ig-test-$$-$IG_N-xdpfs
	IG_PINS+=("$XF_FS")
	mkdir "$XF_FS"
	ig_make_pair
}

xf_setup() {
	xf_begin
	xf load -m native "$VS" 2>"$IG_TMP/xf.log" || ig_fail "xdp-filter load: $(cat "$IG_TMP/xf.log")"
	XF_ID=$(xdp_id)
	[ -n "$XF_ID" ] || ig_fail "no XDP program after xdp-filter load"
	XF_NAME=$(nsenter --net="/run/netns/$SRV" bpftool -j prog show id "$XF_ID" |
		"$IG_PY" -c 'import json,sys; print(json.load(sys.stdin)["name"])')
}

# The id of the program on $VS's XDP hook (empty when there is none), or on
# DEV's in namespace NS.
xdp_id() { xdp_id_in "$SRV" "$VS"; }
xdp_id_in() { # NS DEV
	nsenter --net="/run/netns/$1" ip -d -j link show dev "$2" | "$IG_PY" -c '
import json, sys
x = json.load(sys.stdin)[0].get("xdp", {})
print(x.get("prog", {}).get("id", "") if x else "")'
}

# A second client address, on the client's veth: one source xdp-filter denies.
add_client2() {
	C4B=${C4%.2}.3
	ig_cli ip addr add "$C4B/24" dev "$VC"
}

t_xdpfilter_first() {
	local rc=0
	xf_setup
	ig attach "$VS" 2>"$IG_TMP/err" || rc=$?
	cat "$IG_TMP/err"
	ig_assert_eq "$rc" 1 "attach over xdp-filter: exit status"
	grep -q "ID $XF_ID '$XF_NAME'" "$IG_TMP/err" || ig_fail "the error does not name the program"
	grep -q -- "--hook tc" "$IG_TMP/err" || ig_fail "the error does not give --hook tc"
	grep -q -- "--replace" "$IG_TMP/err" || ig_fail "the error does not give --replace"
	ig_assert_eq "$(xdp_id)" "$XF_ID" "program on the XDP hook after the refusal"
	ig_assert_eq "$(ig_tcx_count "$SRV" "$VS")" 0 "tcx programs left by the refusal"
	if [ -d "$PIN" ] && ls "$PIN" | grep -q '^link_'; then ig_fail "links pinned: $(ls "$PIN")"; fi
}

# xdp-filter denies one source in XDP; infergate limits the port in tcx. Each
# enforces its own rule, and detaching infergate leaves xdp-filter running.
t_xdpfilter_beside_tc() {
	local r
	xf_setup
	add_client2
	xf ip "$C4B" -m src
	ig attach "$VS" --hook tc
	ig limit 8000/tcp --rate 1/min --burst 3 --unit conn --action drop
	ig_start_server tcp 8000
	r=$(ig_attempts "$C4" 8)
	echo "allowed source: $r (ok failed)"
	ig_assert_eq "$r" "3 5" "infergate's limit on the allowed source"
	r=$(ig_attempts "$C4B" 3)
	echo "denied source: $r"
	ig_assert_eq "$r" "0 3" "xdp-filter's deny on the other source"
	# the denied SYNs never reached tcx: infergate counted the 8 of the first only
	ig_assert_eq "$(ig_json 'reason(8000,"tcp","admitted") + reason(8000,"tcp","drop_limit")')" 8 \
		"SYNs infergate saw"
	ig_assert_eq "$(xdp_id)" "$XF_ID" "xdp-filter's program while infergate runs"
	ig detach "$VS"
	ig_assert_eq "$(xdp_id)" "$XF_ID" "xdp-filter's program after infergate's detach"
	r=$(ig_attempts "$C4B" 2)
	ig_assert_eq "$r" "0 2" "xdp-filter still denies after infergate's detach"
	r=$(ig_attempts "$C4" 2)
	ig_assert_eq "$r" "2 0" "the allowed source without infergate"
}

t_xdpfilter_replace() {
	local rc=0
	xf_setup
	ig attach "$VS" --replace 2>"$IG_TMP/err" || rc=$?
	cat "$IG_TMP/err"
	ig_assert_eq "$rc" 0 "attach --replace: exit status"
	grep -q "detached XDP program ID $XF_ID '$XF_NAME'" "$IG_TMP/err" ||
		ig_fail "--replace does not say what it detached"
	[ "$(xdp_id)" != "$XF_ID" ] || ig_fail "xdp-filter's program still on the hook"
	ig_assert_eq "$(ig_json 'j["attachments"][0]["prog_id"]')" "$(xdp_id)" "infergate's program on the hook"
	ig limit 8000/tcp --rate 1/min --burst 2 --unit conn --action drop
	ig_start_server tcp 8000
	ig_assert_eq "$(ig_attempts "$C4" 4)" "2 2" "infergate's limit after --replace"
}

# An interface's index is only unique in its namespace. A bystander namespace
# whose interface has $VS's index, with infergate attached there by a bpf_link
# (BY_NS, BY_DEV, BY_ID: its program).
bystander() {
	local idx pin=/sys/fs/bpf/ig-test-$$-$IG_N-bystander
	idx=$(ig_srv ip -j link show dev "$VS" | "$IG_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
	BY_NS="igb-$$x$IG_N" BY_DEV="bya$IG_N"
	ip netns add "$BY_NS"
	IG_NETNS+=("$BY_NS")
	IG_PINS+=("$pin")
	# a veth registers its peer first: both indexes given
	by ip link add "$BY_DEV" index "$idx" type veth peer name "byb$IG_N" index $((idx + 1))
	by "$IG_BIN" --pin-dir "$pin" attach "$BY_DEV"
	BY_ID=$(by_xdp_id)
}
by() { nsenter --net="/run/netns/$BY_NS" "$@"; }
by_xdp_id() { xdp_id_in "$BY_NS" "$BY_DEV"; }

# --replace beside the bystander takes this namespace's program, by netlink,
# and leaves the bystander's link. It once found the link by index alone,
# detached the bystander's and failed, whenever a suite ran beside this one.
t_xdpfilter_replace_other_ns() {
	local rc=0
	xf_setup
	bystander
	ig attach "$VS" --replace 2>"$IG_TMP/err" || rc=$?
	cat "$IG_TMP/err"
	ig_assert_eq "$rc" 0 "attach --replace beside a namespace with the same ifindex: exit status"
	grep -q "detached XDP program ID $XF_ID '$XF_NAME' (native)" "$IG_TMP/err" ||
		ig_fail "--replace does not say it detached xdp-filter's program, by netlink"
	ig_assert_eq "$(ig_json 'j["attachments"][0]["prog_id"]')" "$(xdp_id)" "infergate's program on the hook"
	ig_assert_eq "$(by_xdp_id)" "$BY_ID" "the other namespace's XDP program"
}

# The same program, attached here by netlink and linked in the bystander: the
# link matches by index and program, but netlink is tried first and takes it.
t_replace_shared_program() {
	local rc=0
	ig_make_pair
	bystander
	ig_srv bpftool net attach xdpdrv id "$BY_ID" dev "$VS"
	ig_assert_eq "$(xdp_id)" "$BY_ID" "the bystander's program attached here by netlink"
	ig attach "$VS" --replace 2>"$IG_TMP/err" || rc=$?
	cat "$IG_TMP/err"
	ig_assert_eq "$rc" 0 "attach --replace: exit status"
	ig_assert_eq "$(ig_json 'j["attachments"][0]["prog_id"]')" "$(xdp_id)" "infergate's program on the hook"
	ig_assert_eq "$(by_xdp_id)" "$BY_ID" "the other namespace's XDP program"
}

# The same program linked here and in the bystander: which link holds this
# hook cannot be told from the links, so --replace detaches neither and says so.
t_replace_ambiguous_link() {
	local rc=0 dir=/sys/fs/bpf/ig-test-$$-$IG_N-xdplink
	ig_make_pair
	bystander
	IG_PINS+=("$dir")
	mkdir "$dir"
	ig_srv "$IG_BUILD/tests/tcx_peer" xdplink "$BY_ID" "$VS" "$dir"
	ig_assert_eq "$(xdp_id)" "$BY_ID" "the bystander's program linked here"
	ig attach "$VS" --replace 2>"$IG_TMP/err" || rc=$?
	cat "$IG_TMP/err"
	ig_assert_eq "$rc" 1 "attach --replace with two links alike: exit status"
	grep -q "is linked to an interface of this index in another network namespace" "$IG_TMP/err" ||
		ig_fail "the refusal does not say why"
	ig_assert_eq "$(xdp_id)" "$BY_ID" "the program linked here after the refusal"
	ig_assert_eq "$(by_xdp_id)" "$BY_ID" "the other namespace's XDP program"
}

# A program held by a bpf_link (infergate's, of another pin dir) is refused,
# then taken by detaching its link; the first pin dir's link is then gone.
t_replace_linked() {
	local pin2 id rc=0
	ig_make_pair
	pin2=/sys/fs/bpf/ig-test-$$-$IG_N-second
	IG_PINS+=("$pin2")
	ig attach "$VS"
	id=$(xdp_id)
	PIN=$pin2 ig attach "$VS" 2>"$IG_TMP/err" || rc=$?
	cat "$IG_TMP/err"
	ig_assert_eq "$rc" 1 "attach over another pin dir's program: exit status"
	grep -q "held by infergate's program ID $id 'ig_xdp' (native, bpf_link [0-9]*) of another pin dir" \
		"$IG_TMP/err" || ig_fail "the refusal does not name the program and its link"
	PIN=$pin2 ig attach "$VS" --replace 2>"$IG_TMP/err"
	cat "$IG_TMP/err"
	grep -q "detached XDP program ID $id 'ig_xdp' (native, bpf_link" "$IG_TMP/err" ||
		ig_fail "--replace does not say it detached the link"
	[ "$(xdp_id)" != "$id" ] || ig_fail "the first program is still on the hook"
	ig_assert_eq "$(PIN=$pin2 ig_json 'j["attachments"][0]["prog_id"]')" "$(xdp_id)" \
		"the second pin dir's program on the hook"
}

# infergate first: a libxdp user cannot take the hook, and infergate's program
# stays as it was.
t_infergate_first() {
	local id rc=0
	xf_begin
	ig attach "$VS"
	id=$(xdp_id)
	xf load -m native "$VS" 2>"$IG_TMP/xf.log" || rc=$?
	cat "$IG_TMP/xf.log"
	[ "$rc" -ne 0 ] || ig_fail "xdp-filter loaded over infergate"
	ig_assert_eq "$(xdp_id)" "$id" "infergate's program after xdp-filter's attempt"
}

# Where libxdp can build its multi-program dispatcher, an attach over it is
# refused with its own message. Its compatibility check loads a freplace
# program; kernels that refuse those (this VM kind: EPERM) make libxdp fall
# back to a single program, and there is no dispatcher to meet.
t_dispatcher() {
	local rc=0
	xf_setup
	if ! ig_srv bpftool prog show id "$XF_ID" | grep -q xdp_dispatcher; then
		xf unload "$VS" >/dev/null 2>&1
		xf load -v -m native "$VS" >"$IG_TMP/v" 2>&1 || true
		ig_skip "libxdp built no dispatcher here: $(grep -m1 -o 'Compatibility check.*' "$IG_TMP/v" || echo 'single-program mode')"
	fi
	ig attach "$VS" 2>"$IG_TMP/err" || rc=$?
	ig_assert_eq "$rc" 1 "attach over the dispatcher: exit status"
	grep -q "libxdp's multi-program dispatcher" "$IG_TMP/err" || ig_fail "not named: $(cat "$IG_TMP/err")"
}

# tcx order, by what the other program saw: first, infergate's drops never
# reach it; last, it sees every SYN before infergate drops them.
tcx_order_case() { # POSITION EXPECTED-ORDER EXPECTED-PEER-SYNS
	local peer
	ig_make_pair
	peer=/sys/fs/bpf/ig-test-$$-$IG_N-tcxpeer
	IG_PINS+=("$peer")
	mkdir "$peer"
	ig_srv "$IG_BUILD/tests/tcx_peer" attach "$IG_BUILD/tests/tcx_peer.bpf.o" "$VS" last "$peer"
	ig attach "$VS" --hook tc ${1:+--tc-position "$1"}
	ig_assert_eq "$(ig_srv "$IG_BUILD/tests/tcx_peer" order "$VS" | tr '\n' ' ')" "$2" "tcx ingress order"
	ig limit 8000/tcp --rate 1/min --burst 3 --unit conn --action drop
	ig_start_server tcp 8000
	ig_assert_eq "$(ig_attempts "$C4" 8)" "3 5" "infergate's limit"
	ig_assert_eq "$(ig_srv "$IG_BUILD/tests/tcx_peer" count "$peer")" "$3" "SYNs the other program saw"
	# an in-place upgrade keeps the place
	ig attach "$VS" --hook tc
	ig_assert_eq "$(ig_srv "$IG_BUILD/tests/tcx_peer" order "$VS" | tr '\n' ' ')" "$2" "order after an upgrade"
	ig detach "$VS"
	ig_assert_eq "$(ig_srv "$IG_BUILD/tests/tcx_peer" order "$VS" | tr '\n' ' ')" "peer_count " "left after detach"
}

t_tcx_first() { tcx_order_case "" "ig_tc peer_count " 3; }
t_tcx_last() { tcx_order_case last "peer_count ig_tc " 8; }

# An anchor: two other programs (same name, told apart by id), infergate
# right before the second: the first sees every SYN, the second only those
# infergate passed. An anchor that is not there is refused, naming what is.
t_tcx_anchor() {
	local a b rc=0 T=$IG_BUILD/tests/tcx_peer
	ig_make_pair
	a=/sys/fs/bpf/ig-test-$$-$IG_N-tcxa b=/sys/fs/bpf/ig-test-$$-$IG_N-tcxb
	IG_PINS+=("$a" "$b")
	mkdir "$a" "$b"
	ig_srv "$T" attach "$IG_BUILD/tests/tcx_peer.bpf.o" "$VS" last "$a"
	ig_srv "$T" attach "$IG_BUILD/tests/tcx_peer.bpf.o" "$VS" last "$b"
	ig attach "$VS" --hook tc --tc-position after:nosuch_prog 2>"$IG_TMP/err" || rc=$?
	cat "$IG_TMP/err"
	ig_assert_eq "$rc" 1 "a missing anchor: exit status"
	grep -q "no tcx ingress program 'nosuch_prog'.*peer_count (id $(ig_srv "$T" id "$a"))" \
		"$IG_TMP/err" || ig_fail "the refusal does not list the programs there"
	ig_assert_eq "$(ig_tcx_count "$SRV" "$VS")" 2 "tcx programs after the refusal"
	ig attach "$VS" --hook tc --tc-position "before:$(ig_srv "$T" id "$b")"
	ig_assert_eq "$(ig_srv "$T" order "$VS" | tr '\n' ' ')" "peer_count ig_tc peer_count " \
		"tcx ingress order"
	ig limit 8000/tcp --rate 1/min --burst 3 --unit conn --action drop
	ig_start_server tcp 8000
	ig_assert_eq "$(ig_attempts "$C4" 8)" "3 5" "infergate's limit"
	ig_assert_eq "$(ig_srv "$T" count "$a")" 8 "SYNs the program before infergate saw"
	ig_assert_eq "$(ig_srv "$T" count "$b")" 3 "SYNs the program after infergate saw"
}

run_test coexist/xdp-filter-first-refused t_xdpfilter_first
run_test coexist/xdp-filter-beside-tc t_xdpfilter_beside_tc
run_test coexist/xdp-filter-replace t_xdpfilter_replace
run_test coexist/xdp-filter-replace-other-netns t_xdpfilter_replace_other_ns
run_test coexist/replace-shared-program-by-netlink t_replace_shared_program
run_test coexist/replace-ambiguous-link-refused t_replace_ambiguous_link
run_test coexist/replace-a-linked-program t_replace_linked
run_test coexist/infergate-first t_infergate_first
run_test coexist/libxdp-dispatcher t_dispatcher
run_test coexist/tcx-first t_tcx_first
run_test coexist/tcx-last t_tcx_last
run_test coexist/tcx-anchor t_tcx_anchor
