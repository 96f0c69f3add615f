#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ig-run: alone
# The Debian package of `make deb`, installed for real with apt-get: what it
# puts where, that the installed binary works, and that remove keeps an
# operator's edited config while purge leaves nothing. Uses the package in
# $IG_BUILD, or makes it there. Each test installs and purges it itself; a
# machine with an infergate package the suite did not install is left alone.
. "$(dirname "$0")/../lib/netns.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CONF=/etc/infergate/infergate.conf

# dpkg's status word for the package: installed, config-files, not-installed
# (also when dpkg has forgotten the name, as after a purge).
deb_state() {
	dpkg-query -W -f='${db:Status-Status}' infergate 2>/dev/null || echo not-installed
}

# Waits for another user's dpkg lock rather than failing.
deb_apt() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=120 "$@"
}

# From the package file alone: every Depends is already on a machine that
# builds infergate, so apt must install nothing else (and download nothing).
# Not --no-download: apt 2.6 then refuses a local .deb ("Pathname to install
# is not absolute").
deb_install() {
	touch "$IG_TMP/installed"
	deb_apt --no-install-recommends install "$DEB" >"$IG_TMP/apt.log" 2>&1 ||
		ig_fail "apt-get install failed: $(tail -n 5 "$IG_TMP/apt.log")"
	grep -q '^0 upgraded, 1 newly installed, 0 to remove' "$IG_TMP/apt.log" ||
		ig_fail "apt-get installed more than the package: $(grep -A3 NEW "$IG_TMP/apt.log")"
	ig_assert_eq "$(deb_state)" installed "dpkg state after install"
}

deb_purge() {
	deb_apt purge infergate >"$IG_TMP/apt.log" 2>&1 ||
		ig_fail "apt-get purge failed: $(tail -n 5 "$IG_TMP/apt.log")"
}

# From each test's EXIT trap: purges the package only if this test installed it.
deb_cleanup() {
	if [ -e "$IG_TMP/installed" ] && [ "$(deb_state)" != not-installed ]; then
		deb_apt purge infergate >/dev/null 2>&1 || dpkg --purge infergate >/dev/null 2>&1
	fi
	ig_cleanup
}

deb_begin() {
	trap deb_cleanup EXIT
	deb_preflight
}

deb_preflight() {
	[ -n "$DEB" ] || ig_skip "no package: $DEB_WHY"
	[ "$(deb_state)" = not-installed ] ||
		ig_skip "an infergate package is already on this machine ($(deb_state)): not touching it"
}

t_install() {
	local f version
	deb_begin
	deb_install
	version=$(dpkg-deb -f "$DEB" Version)
	ig_assert_eq "$(/usr/sbin/infergate --version)" "infergate ${version%-*}" "--version of the installed binary"
	dpkg -L infergate >"$IG_TMP/files"
	for f in /usr/sbin/infergate /lib/systemd/system/infergate.service "$CONF" \
		/usr/share/man/man8/infergate.8.gz /usr/share/man/man5/infergate.conf.5.gz \
		/usr/share/bash-completion/completions/infergate /usr/share/doc/infergate/copyright \
		/usr/share/doc/infergate/changelog.Debian.gz /usr/share/doc/infergate/infergate.conf.example; do
		grep -qx "$f" "$IG_TMP/files" || ig_fail "dpkg -L infergate does not list $f"
		[ -f "$f" ] || ig_fail "$f listed but not there"
	done
	dpkg-query -W -f='${Conffiles}\n' infergate >"$IG_TMP/conffiles"
	grep -q "^ $CONF [0-9a-f]\{32\}$" "$IG_TMP/conffiles" ||
		ig_fail "conffile not registered: $(cat "$IG_TMP/conffiles")"
	if command -v man >/dev/null; then
		ig_assert_eq "$(man -w 8 infergate)" /usr/share/man/man8/infergate.8.gz "man -w 8 infergate"
		ig_assert_eq "$(man -w 5 infergate.conf)" /usr/share/man/man5/infergate.conf.5.gz "man -w 5 infergate.conf"
	fi
	grep -qx "ExecStart=/usr/sbin/infergate run --config $CONF" /lib/systemd/system/infergate.service ||
		ig_fail "unit: $(grep ExecStart /lib/systemd/system/infergate.service)"
	# installed, never enabled: it would attach to an interface nobody chose
	if [ -n "$(find /etc/systemd/system -name infergate.service 2>/dev/null)" ]; then
		ig_fail "the service was enabled: $(find /etc/systemd/system -name infergate.service)"
	fi
	if [ -d /run/systemd/system ]; then
		systemctl is-active --quiet infergate.service && ig_fail "the service was started"
	fi
	return 0
}

t_check() {
	local rc=0
	deb_begin
	deb_install
	/usr/sbin/infergate check >"$IG_TMP/check" 2>"$IG_TMP/check.err" || rc=$?
	cat "$IG_TMP/check"
	# this machine runs infergate (the other suites do): nothing may fail
	[ "$rc" -eq 0 ] || ig_fail "infergate check exited $rc: $(cat "$IG_TMP/check.err")"
	grep -q '^ok   pinned ' "$IG_TMP/check" || ig_fail "no pinned item"
	[ -s "$IG_TMP/check" ] || ig_fail "infergate check printed nothing"
	if grep -vE '^(ok|warn|fail) ' "$IG_TMP/check"; then
		ig_fail "lines of infergate check not starting ok/warn/fail (above)"
	fi
	return 0
}

# Installed, and the installed CLI's instance on a veth of the test's with
# a limit on 8080: what t_works and t_upgrade start from.
deb_installed_instance() {
	deb_begin
	deb_install
	# ig and ig_start_agent run $IG_BIN
	# shellcheck disable=SC2034
	IG_BIN=/usr/sbin/infergate
	ig_make_pair
	ig attach "$VS"
	ig limit 8080 --rate 5/s --burst 10
}

# The installed binary on a real interface: the CLI's life cycle, then the
# agent on the shipped config (its interface set to the test's).
t_works() {
	local out
	deb_installed_instance
	# whole before grep: grep -q ending early would fail the pipe (SIGPIPE)
	out=$(ig status)
	grep -q '^8080/tcp ' <<<"$out" || ig_fail "status does not show 8080/tcp: $out"
	ig detach "$VS" --purge
	ig_assert_clean "$SRV" "$VS"
	[ ! -e "$PIN" ] || [ -z "$(ls -A "$PIN")" ] || ig_fail "left pinned: $(ls -A "$PIN")"
	sed "s/^interface = .*/interface = $VS/" "$CONF" >"$IG_TMP/agent.conf"
	ig_start_agent
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs the agent attached (ingress + egress)"
	kill "$IG_AGENT_PID"
	wait "$IG_AGENT_PID" || true
	ig detach "$VS" --purge
	ig_assert_clean "$SRV" "$VS"
}

# Every file and the package's own directories, as dpkg -L listed them.
deb_assert_gone() { # LIST
	local f
	while read -r f; do
		case "$f" in
		/. | /etc | /lib | /lib/systemd | /lib/systemd/system | /usr | /usr/sbin | /usr/share | \
			/usr/share/bash-completion | /usr/share/bash-completion/completions | /usr/share/doc | \
			/usr/share/lintian | /usr/share/lintian/overrides | /usr/share/man | /usr/share/man/man?) ;;
		*) [ ! -e "$f" ] || ig_fail "purge left $f" ;;
		esac
	done <"$1"
}

t_purge() {
	deb_begin
	deb_install
	dpkg -L infergate >"$IG_TMP/files"
	deb_purge
	ig_assert_eq "$(deb_state)" not-installed "dpkg state after purge"
	deb_assert_gone "$IG_TMP/files"
	[ ! -e /etc/infergate ] || ig_fail "/etc/infergate left: $(ls -la /etc/infergate)"
}

t_conffile_kept() {
	local mark="; edited by the operator (test $$)"
	deb_begin
	deb_install
	dpkg -L infergate >"$IG_TMP/files"
	echo "$mark" >>"$CONF"
	deb_apt remove infergate >"$IG_TMP/apt.log" 2>&1 || ig_fail "apt-get remove: $(tail -n 5 "$IG_TMP/apt.log")"
	ig_assert_eq "$(deb_state)" config-files "dpkg state after remove"
	[ ! -e /usr/sbin/infergate ] || ig_fail "remove left the binary"
	grep -qxF "$mark" "$CONF" || ig_fail "remove lost the operator's edit"
	deb_install
	grep -qxF "$mark" "$CONF" || ig_fail "reinstall lost the operator's edit"
	[ -z "$(find /etc/infergate -name '*.dpkg-*')" ] || ig_fail "dpkg left $(find /etc/infergate -name '*.dpkg-*')"
	deb_purge
	ig_assert_eq "$(deb_state)" not-installed "dpkg state after purge"
	deb_assert_gone "$IG_TMP/files"
	[ ! -e /etc/infergate ] || ig_fail "/etc/infergate left: $(ls -la /etc/infergate)"
}

# An upgrade of the package (the same files under a later revision, repacked
# from this one with dpkg-deb): the operator's config stays as edited, the
# service stays disabled, and a data path attached before it keeps running
# with its limits: the package never detaches anything.
t_upgrade() {
	local mark="; edited before the upgrade (test $$)" next out
	deb_installed_instance
	echo "$mark" >>"$CONF"
	dpkg-deb -R "$DEB" "$IG_TMP/pkg"
	next="$(dpkg-deb -f "$DEB" Version)+upgrade1"
	sed -i "s/^Version: .*/Version: $next/" "$IG_TMP/pkg/DEBIAN/control"
	dpkg-deb --root-owner-group -b "$IG_TMP/pkg" "$IG_TMP/infergate_next.deb" >/dev/null
	deb_apt --no-install-recommends install "$IG_TMP/infergate_next.deb" >"$IG_TMP/apt.log" 2>&1 ||
		ig_fail "apt-get install (upgrade) failed: $(tail -n 5 "$IG_TMP/apt.log")"
	grep -q '^1 upgraded, 0 newly installed, 0 to remove' "$IG_TMP/apt.log" ||
		ig_fail "not an upgrade: $(grep -E 'upgraded|newly' "$IG_TMP/apt.log")"
	ig_assert_eq "$(dpkg-query -W -f='${Version}' infergate)" "$next" "installed version"
	grep -qxF "$mark" "$CONF" || ig_fail "the upgrade lost the operator's edit"
	[ -z "$(find /etc/infergate -name '*.dpkg-*')" ] || ig_fail "dpkg left $(find /etc/infergate -name '*.dpkg-*')"
	if [ -n "$(find /etc/systemd/system -name infergate.service 2>/dev/null)" ]; then
		ig_fail "the upgrade enabled the service"
	fi
	ig_assert_eq "$(ig_attached_count "$SRV" "$VS")" 2 "programs attached after the upgrade"
	out=$(ig status)
	grep -q '^8080/tcp ' <<<"$out" || ig_fail "the limit is gone after the upgrade: $out"
	ig detach "$VS" --purge
	deb_purge
	ig_assert_eq "$(deb_state)" not-installed "dpkg state after purge"
}

DEB_TESTS=(deb/install t_install deb/check t_check deb/works t_works deb/purge t_purge
	deb/conffile-kept t_conffile_kept deb/upgrade t_upgrade)

# Whether IG_TEST picks any of them: a filtered run of other tests builds nothing.
deb_wanted() {
	local i
	[ -n "${IG_TEST:-}" ] || return 0
	for ((i = 0; i < ${#DEB_TESTS[@]}; i += 2)); do
		# shellcheck disable=SC2053
		[[ ${DEB_TESTS[i]} == $IG_TEST ]] && return 0
	done
	return 1
}

# This tree's version's package (IG_VERSION of user/lib/log.h), the newest.
deb_find() {
	local v
	v=$(sed -n 's/^#define IG_VERSION "\(.*\)"/\1/p' "$TOP/user/lib/log.h")
	ls -t "$IG_BUILD"/infergate_"$v"-*.deb 2>/dev/null | head -n 1
}

# The package, made in $IG_BUILD from this tree (make deb repacks what is
# built; an older package left there is never the one tested).
DEB='' DEB_WHY=''
if [ "$(id -u)" -ne 0 ]; then
	DEB_WHY="needs root"
elif ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
	DEB_WHY="apt-get or dpkg-deb not installed"
elif deb_wanted; then
	if make -s -C "$TOP" BUILD="$IG_BUILD" deb >"$IG_RUN_DIR/make.log" 2>&1; then
		DEB=$(deb_find)
	else
		DEB_WHY="make deb failed: $(tail -n 3 "$IG_RUN_DIR/make.log" | tr '\n' ' ')"
	fi
fi

for ((i = 0; i < ${#DEB_TESTS[@]}; i += 2)); do
	run_test "${DEB_TESTS[i]}" "${DEB_TESTS[i + 1]}"
done
