#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# What systemd sees: `make install` lays out binary, unit and example config
# under DESTDIR/PREFIX; the unit passes `systemd-analyze verify`; the agent
# speaks sd_notify (READY with MAINPID, RELOADING on SIGHUP, STOPPING) to the
# socket in $NOTIFY_SOCKET, here a listener of the test's own.
. "$(dirname "$0")/../lib/netns.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)

t_make_install_layout_and_unit() {
	local root=$IG_TMP/root
	make -s -C "$TOP" BUILD="$IG_BUILD" install DESTDIR="$root" PREFIX=/usr >/dev/null
	for f in usr/sbin/infergate usr/share/doc/infergate/infergate.conf.example \
		usr/lib/systemd/system/infergate.service; do
		[ -f "$root/$f" ] || ig_fail "make install did not install $f"
	done
	[ -x "$root/usr/sbin/infergate" ] || ig_fail "the binary is not executable"
	grep -q '^ExecStart=/usr/sbin/infergate run --config /etc/infergate.conf' \
		"$root/usr/lib/systemd/system/infergate.service" || ig_fail "ExecStart not set to PREFIX"
	grep -q '^Type=notify' "$root/usr/lib/systemd/system/infergate.service" || ig_fail "not Type=notify"
	# a plain `infergate reload` reads the default pid file: the unit must
	# leave the agent writing there
	grep -q '^ExecStart=.*--pid-file' "$root/usr/lib/systemd/system/infergate.service" &&
		ig_fail "the unit moves the pid file away from where reload looks"
	for f in usr/share/man/man8/infergate.8 usr/share/man/man5/infergate.conf.5 \
		usr/share/bash-completion/completions/infergate; do
		[ -s "$root/$f" ] || ig_fail "make install did not install $f"
	done
	if command -v man >/dev/null; then
		man -l "$root/usr/share/man/man8/infergate.8" 2>/dev/null | grep 'reject-budget' >/dev/null ||
			ig_fail "the man page does not render the commands"
		man -l "$root/usr/share/man/man5/infergate.conf.5" 2>/dev/null | grep "fleet_rate" >/dev/null ||
			ig_fail "infergate.conf(5) does not render its keys"
	fi
	bash -n "$root/usr/share/bash-completion/completions/infergate" ||
		ig_fail "the completion script is not valid bash"
	"$root/usr/sbin/infergate" --version | grep '^infergate ' >/dev/null || ig_fail "installed binary does not run"
	if command -v systemd-analyze >/dev/null; then
		# verify the unit against the installed binary's real path
		sed "s|/usr/sbin/infergate|$root/usr/sbin/infergate|" \
			"$root/usr/lib/systemd/system/infergate.service" >"$IG_TMP/infergate.service"
		systemd-analyze verify "$IG_TMP/infergate.service" || ig_fail "systemd-analyze verify failed"
	fi
	make -s -C "$TOP" BUILD="$IG_BUILD" uninstall DESTDIR="$root" PREFIX=/usr >/dev/null
	[ -z "$(find "$root" -type f)" ] || ig_fail "uninstall left: $(find "$root" -type f)"
}

ready_twice() { [ "$(grep -c '^READY=1' "$1")" -ge 2 ]; }

t_agent_speaks_sd_notify() {
	local pid
	ig_make_pair
	# the listener: prints every datagram, one per line (newlines as |)
	"$IG_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
while True:
    print(s.recv(4096).decode().replace("\n", "|"), flush=True)
' "$IG_TMP/notify.sock" >"$IG_TMP/notify.log" 2>&1 &
	IG_PIDS+=($!)
	ig_wait_for 5 "the notify listener" test -e "$IG_TMP/notify.sock.ready"
	printf '[agent]\ninterface = %s\nmetrics = off\n[port 8000]\nrate = 5/s\n' "$VS" >"$IG_TMP/agent.conf"
	NOTIFY_SOCKET=$IG_TMP/notify.sock nsenter --net="/run/netns/$SRV" "$IG_BIN" --pin-dir "$PIN" \
		run --config "$IG_TMP/agent.conf" --pid-file "$IG_TMP/agent.pid" >"$IG_TMP/agent.log" 2>&1 &
	pid=$!
	IG_PIDS+=($pid)
	ig_wait_for 10 "READY=1" grep -q "^READY=1|MAINPID=$pid$" "$IG_TMP/notify.log"
	kill -HUP "$pid"
	ig_wait_for 5 "RELOADING=1 then READY=1" grep -q "^RELOADING=1$" "$IG_TMP/notify.log"
	# counted on every poll (an argument would be counted once, when the
	# reload may still be running)
	ig_wait_for 5 "READY=1 after the reload" ready_twice "$IG_TMP/notify.log"
	kill -TERM "$pid"
	wait "$pid" || ig_fail "the agent exited with $?"
	ig_wait_for 5 "STOPPING=1" grep -q "^STOPPING=1$" "$IG_TMP/notify.log"
	[ ! -e "$IG_TMP/agent.pid" ] || ig_fail "the pid file outlived the agent"
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs still attached after the agent stopped"
	cat "$IG_TMP/notify.log"
}

# The agent started as the unit starts it (no --pid-file): a plain reload,
# without --pid-file either, finds it.
t_reload_default_pid_file() {
	local pid pidfile
	ig_make_pair
	pidfile=/run/infergate/$(echo "${PIN#/}" | tr / _).pid
	printf '[agent]\ninterface = %s\nmetrics = off\n[port 8000]\nrate = 5/s\n' "$VS" >"$IG_TMP/agent.conf"
	nsenter --net="/run/netns/$SRV" "$IG_BIN" --pin-dir "$PIN" run --config "$IG_TMP/agent.conf" \
		>"$IG_TMP/agent.log" 2>&1 &
	pid=$!
	IG_PIDS+=($pid)
	# "running on" comes once SIGHUP is handled (the pid file comes before)
	ig_wait_for 10 "the agent to start" grep -q "running on $VS" "$IG_TMP/agent.log"
	grep -qx "$pid" "$pidfile" || ig_fail "no pid $pid in $pidfile: $(cat "$pidfile")"
	printf '[agent]\ninterface = %s\nmetrics = off\n[port 8000]\nrate = 7/s\n' "$VS" >"$IG_TMP/agent.conf"
	ig reload
	ig_wait_for 5 "the reload" grep -q "reload: applied" "$IG_TMP/agent.log"
	ig_assert_eq "$(ig_json 'port(8000)["rate"]')" 7 "rate after the reload"
	kill -TERM "$pid"
	wait "$pid" || ig_fail "the agent exited with $?"
	[ ! -e "$pidfile" ] || ig_fail "the pid file outlived the agent"
}

run_test make-install-layout-and-unit t_make_install_layout_and_unit
run_test reload-default-pid-file t_reload_default_pid_file
run_test agent-speaks-sd-notify t_agent_speaks_sd_notify
