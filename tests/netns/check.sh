#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `infergate check [IFACE]`: one line per item that parses, the JSON that
# agrees with it, the exit status (1 on a fail, 0 with warnings), and each
# thing it must notice: another XDP program, bpffs missing, a pinned layout of
# another version, infergate's own attachment. It changes nothing.
. "$(dirname "$0")/../lib/netns.sh"

# ig_check OUT ARGS...: `ig ARGS` into $IG_TMP/OUT(.err); CHECK_RC its exit status.
ig_check() {
	local out=$1
	shift
	CHECK_RC=0
	ig "$@" >"$IG_TMP/$out" 2>"$IG_TMP/$out.err" || CHECK_RC=$?
	echo "== check $* (exit $CHECK_RC)"
	cat "$IG_TMP/$out" "$IG_TMP/$out.err"
}

# Every line of a text report parses: `STATUS NAME  DETAIL[ -- FIX]`, status
# padded to four, a fix on every warn and fail line and none on an ok line;
# each name once. With a JSON report of the same run (JSON FILE), the two
# agree item for item and in their counts.
ig_check_parse() { # TEXT [JSON]
	"$IG_PY" - "$@" <<'EOF'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
if not lines:
    sys.exit("empty report")
items = []
for l in lines:
    m = re.fullmatch(r"(ok  |warn|fail) ([a-z][a-z0-9/_-]*) {2,}(\S.*)", l)
    if not m:
        sys.exit("unparsed line: %r" % l)
    st, name, rest = m.group(1).strip(), m.group(2), m.group(3)
    detail, sep, fix = rest.partition(" -- ")
    if (st == "ok") == bool(sep):
        sys.exit("%s line with%s a fix: %r" % (st, "" if sep else "out", l))
    items.append((name, st, detail, fix or None))
names = [i[0] for i in items]
if len(set(names)) != len(names):
    sys.exit("a name twice: %s" % names)
if len(sys.argv) > 2:
    j = json.load(open(sys.argv[2]))
    assert j["version"], j
    got = [(c["name"], c["status"], c["detail"], c["fix"]) for c in j["checks"]]
    if got != items:
        sys.exit("json %s != text %s" % (got, items))
    for st, key in (("fail", "failed"), ("warn", "warned")):
        n = sum(1 for i in items if i[1] == st)
        if j[key] != n:
            sys.exit("json %s %s, text has %d" % (key, j[key], n))
EOF
}

# The line of item NAME in OUT.
ig_check_line() { # OUT NAME
	grep -E "^(ok  |warn|fail) $2 " "$IG_TMP/$1" || ig_fail "no item $2 in: $(cat "$IG_TMP/$1")"
}

ig_check_status() { # OUT NAME STATUS
	local l
	l=$(ig_check_line "$1" "$2")
	ig_assert_eq "${l%% *}" "$3" "status of $2 ($l)"
}

t_clean_veth() {
	ig_make_pair
	ig_check out check "$VS"
	ig_assert_eq "$CHECK_RC" 0 "exit status on a clean veth"
	ig_assert_eq "$(grep -c . "$IG_TMP/out.err")" 0 "stderr lines"
	for item in kernel btf tcx syncookies jit bpffs caps clock pinned libxdp iface driver \
		xdp/native xdp/multibuf attached xdp/progs tcx/ingress tcx/egress mtu; do
		ig_check_line out "$item" >/dev/null
	done
	ig_check_status out xdp/native ok
	ig_check_status out xdp/progs ok
	ig_check_status out pinned ok
	ig_check_status out driver ok
	ig_check_line out driver | grep -q ' veth' || ig_fail "driver: $(ig_check_line out driver)"
	ig_check_line out iface | grep -q "$VS: index [0-9]*, up, MTU 1500" ||
		ig_fail "iface: $(ig_check_line out iface)"
	ig_check json check --json "$VS"
	ig_assert_eq "$CHECK_RC" 0 "exit status of --json"
	"$IG_PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["interface"] == sys.argv[2], j' \
		"$IG_TMP/json" "$VS"
	ig_check_parse "$IG_TMP/out" "$IG_TMP/json"
	# read-only: nothing attached, nothing pinned
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$PIN" ] || ig_fail "check made $PIN"
	# without an interface: the host items only, and "interface": null
	ig_check host check
	ig_assert_eq "$CHECK_RC" 0 "exit status without IFACE"
	! grep -qE '^(ok  |warn|fail) (iface|driver|xdp/|tcx/|attached|mtu)' "$IG_TMP/host" ||
		ig_fail "interface items without an interface"
	ig_check hostjson check --json
	"$IG_PY" -c 'import json, sys; assert json.load(open(sys.argv[1]))["interface"] is None' \
		"$IG_TMP/hostjson"
	ig_check_parse "$IG_TMP/host" "$IG_TMP/hostjson"
}

# Another program on the XDP hook: named by id and name, a warning.
t_other_xdp_program() {
	local id
	ig_make_pair
	ip -n "$SRV" link set dev "$VS" xdpdrv obj "$IG_BUILD/tests/xdp_pass.bpf.o" sec xdp
	id=$(ip -n "$SRV" -j -d link show dev "$VS" |
		"$IG_PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
	ig_check out check "$VS"
	ig_assert_eq "$CHECK_RC" 0 "exit status (a warning only)"
	ig_check_status out xdp/progs warn
	ig_check_line out xdp/progs | grep -qF "id $id xdp_pass (native) -- --hook tc, or detach it" ||
		ig_fail "xdp/progs: $(ig_check_line out xdp/progs)"
	ig_check json check --json "$VS"
	ig_check_parse "$IG_TMP/out" "$IG_TMP/json"
	# still there: check detaches nothing
	ig_assert_eq "$(ip -n "$SRV" -j -d link show dev "$VS" |
		"$IG_PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')" \
		"$id" "the XDP program after check"
}

# bpffs unmounted in a mount namespace of the check's own: a fail, exit 1;
# the root's bpffs stays mounted.
t_bpffs_missing() {
	local rc=0
	ig_make_pair
	# shellcheck disable=SC2016 # the inner sh expands them
	unshare -m --propagation private sh -c \
		'umount -l /sys/fs/bpf && exec nsenter --net="/run/netns/$1" "$2" --pin-dir "$3" check' \
		sh "$SRV" "$IG_BIN" "$PIN" >"$IG_TMP/out" 2>"$IG_TMP/out.err" || rc=$?
	cat "$IG_TMP/out" "$IG_TMP/out.err"
	grep -q '^bpf /sys/fs/bpf ' /proc/mounts || ig_fail "the root's bpffs was unmounted"
	ig_assert_eq "$rc" 1 "exit status without bpffs"
	ig_check_status out bpffs fail
	ig_check_line out bpffs | grep -q 'not on a bpf filesystem.* -- mount -t bpf bpf /sys/fs/bpf' ||
		ig_fail "bpffs: $(ig_check_line out bpffs)"
	ig_check_parse "$IG_TMP/out"
}

# A map of ours pinned with another value size: the pinned state fails.
t_old_layout() {
	ig_make_pair
	mkdir "$PIN"
	bpftool map create "$PIN/port_policy" type array key 4 value 8 entries 1 name port_policy
	ig_check out check "$VS"
	ig_assert_eq "$CHECK_RC" 1 "exit status with a foreign layout"
	ig_check_status out pinned fail
	ig_check_line out pinned | grep -q 'map port_policy has another layout (type 2, key 4, value 8 bytes' ||
		ig_fail "pinned: $(ig_check_line out pinned)"
	ig_check_line out pinned | grep -qF -- "-- see the upgrade notes" ||
		ig_fail "pinned: no fix: $(ig_check_line out pinned)"
	ig_check json check --json "$VS"
	ig_assert_eq "$CHECK_RC" 1 "exit status of --json"
	ig_check_parse "$IG_TMP/out" "$IG_TMP/json"
	[ -e "$PIN/port_policy" ] || ig_fail "check removed the pinned map"
}

# An instance of an older version (a map missing): a warning, upgraded by attach.
t_older_instance() {
	ig_make_pair
	ig attach "$VS" --hook xdp --xdp-mode native
	rm "$PIN/key_seed"
	ig_check out check "$VS"
	ig_assert_eq "$CHECK_RC" 0 "exit status with an older instance"
	ig_check_status out pinned warn
	ig_check_line out pinned | grep -qF "(no map key_seed) -- 'infergate attach IFACE' upgrades it" ||
		ig_fail "pinned: $(ig_check_line out pinned)"
}

t_after_attach() {
	local hook=$1 prog
	ig_make_pair
	HOOK=$hook ig_attach
	ig_check out check "$VS"
	ig_assert_eq "$CHECK_RC" 0 "exit status when attached"
	ig_check_status out attached ok
	ig_check_line out attached | grep -q "infergate attached to $VS: $hook (prog [0-9]*), egress tcx" ||
		ig_fail "attached: $(ig_check_line out attached)"
	ig_check_status out pinned ok
	ig_check_line out pinned | grep -qE "$PIN: [0-9]+ maps in the layout of infergate [0-9.]+; .*clock .* recorded.*attached: $hook $VS" ||
		ig_fail "pinned: $(ig_check_line out pinned)"
	# its own programs are not "other" programs
	for item in xdp/progs tcx/ingress tcx/egress; do
		ig_check_status out "$item" ok
		ig_check_line out "$item" | grep -q "no other" || ig_fail "$item: $(ig_check_line out "$item")"
	done
	prog=$(ig_check_line out attached | sed 's/.*(prog \([0-9]*\)).*/\1/')
	ig_assert_eq "$(ig status --json | "$IG_PY" -c 'import json, sys; print(json.load(sys.stdin)["attachments"][0]["prog_id"])')" \
		"$prog" "the attached program's id (status --json)"
	ig_check json check --json "$VS"
	ig_check_parse "$IG_TMP/out" "$IG_TMP/json"
}
t_after_attach_xdp() { t_after_attach xdp; }
t_after_attach_tc() { t_after_attach tc; }

t_usage() {
	ig_make_pair
	ig_check out check "$VS" lo
	ig_assert_eq "$CHECK_RC" 2 "two interfaces"
	ig_check out check --frobnicate
	ig_assert_eq "$CHECK_RC" 2 "an unknown option"
	ig_check out check --help
	ig_assert_eq "$CHECK_RC" 0 "--help"
	grep -q '^usage: infergate \[--pin-dir DIR\] check \[IFACE\] \[--json\]' "$IG_TMP/out" ||
		ig_fail "help: $(cat "$IG_TMP/out")"
	ig_check out check igmissing0
	ig_assert_eq "$CHECK_RC" 1 "an unknown interface"
	ig_check_status out iface fail
	ig_check_line out iface | grep -qF "no such interface: igmissing0 -- " ||
		ig_fail "iface: $(ig_check_line out iface)"
	ig_check_parse "$IG_TMP/out"
	# bash completion offers interfaces for check
	"$IG_BIN" __completion bash | sed -n '/^\tcheck)$/,/^\t\t;;/p' | grep -q '/proc/net/dev' ||
		ig_fail "completion: no interfaces for check"
}

run_test check/clean-veth t_clean_veth
run_test check/other-xdp-program t_other_xdp_program
run_test check/bpffs-missing t_bpffs_missing
run_test check/old-layout t_old_layout
run_test check/older-instance t_older_instance
run_test check/after-attach-xdp t_after_attach_xdp
run_test check/after-attach-tc t_after_attach_tc
run_test check/usage t_usage
