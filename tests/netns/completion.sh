#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The generated bash completion ($IG_BUILD/infergate.bash-completion), driven
# as bash drives it: COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT set, the
# function `complete -p infergate` names called, COMPREPLY read back. The
# words it offers come from the CLI's tables and from the host it runs on
# (interfaces of its namespace, ports limited on a real instance).
. "$(dirname "$0")/../lib/netns.sh"

COMPLETION=$IG_BUILD/infergate.bash-completion

completion_preflight() {
	[ -r "$COMPLETION" ] || ig_skip "no $COMPLETION (make builds it)"
}

# Prints COMPREPLY, one word a line, for the line LINE (the cursor at its
# end), in a fresh bash that sourced the completion. The first word is the
# CLI's path, as COMP_WORDS[0] is what the script runs for ports. PREFIX
# (e.g. nsenter --net=...) runs that bash elsewhere.
complete_line() { # LINE [PREFIX...]
	local line=$1
	shift
	# shellcheck disable=SC2016 # the inner bash expands them
	"$@" bash -c '
		. "$1"
		fn=$(complete -p infergate | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		[ -n "$fn" ] || { echo "no completion function registered" >&2; exit 3; }
		# bash splits the line at blanks and makes "=" a word of its own
		# (COMP_WORDBREAKS); a trailing blank is an empty last word
		read -ra COMP_WORDS <<<"${2//=/ = }"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_WORDS[0]=$3
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$2 COMP_POINT=${#2}
		"$fn" infergate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' completion "$COMPLETION" "$line" "$IG_BIN"
}

# The offered words, sorted, on one line.
offered() { complete_line "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

assert_offers() { # LINE EXPECTED (sorted, space-separated)
	local got
	got=$(offered "$1")
	echo "'$1' -> $got"
	ig_assert_eq "$got" "$2" "completion of '$1'"
}

# Every command `infergate --help` lists, and nothing else, at position 1.
t_commands() {
	completion_preflight
	local want
	want=$("$IG_BIN" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort |
		tr '\n' ' ' | sed 's/ $//')
	[ "$(wc -w <<<"$want")" -ge 10 ] || ig_fail "too few commands in --help: $want"
	assert_offers "infergate " "$want"
	assert_offers "infergate --pin-dir /tmp/x " "$want"
	assert_offers "infergate -v li" "limit"
	assert_offers "infergate un" "unlimit"
	# hidden commands stay hidden
	offered "infergate _" | grep -q . && ig_fail "hidden commands offered: $(offered 'infergate _')"
	assert_offers "infergate --pin" "--pin-dir"
}

# A command's options, and an enum option's values from its table.
t_options() {
	completion_preflight
	assert_offers "infergate limit --al" "--algorithm"
	assert_offers "infergate limit 8000 --algorithm " \
		"fixed-window leaky-bucket sliding-window token-bucket"
	assert_offers "infergate limit 8000 --algorithm sl" "sliding-window"
	assert_offers "infergate limit 8000 --action " "429 drop reject"
	assert_offers "infergate limit 8000 --unit " "byte conn packet request"
	assert_offers "infergate limit 8000 --key " "api-key proxy-source source"
	assert_offers "infergate limit 8000 --token-count " "bytes events usage"
	assert_offers "infergate attach --hook " "tc xdp"
	# --opt=value: bash makes the "=" a word, which is put back before the value
	assert_offers "infergate limit 8000 --algorithm=" \
		"=fixed-window =leaky-bucket =sliding-window =token-bucket"
	assert_offers "infergate limit 8000 --algorithm=le" "leaky-bucket"
	assert_offers "infergate limit 8000 --rate=5/s --u" "--unit"
	assert_offers "infergate --pin-dir=/tmp/x li" "limit"
	assert_offers "infergate status --f" "--fleet"
	assert_offers "infergate top --j" "--json"
	# a value that is a number offers nothing (not the options, not files)
	assert_offers "infergate limit 8000 --rate " ""
	# every option limit --help describes is offered after a dash
	local opt got
	got=$(offered "infergate limit -")
	for opt in $("$IG_BIN" limit --help 2>&1 | sed -n 's/^  \(--[a-z][a-z-]*\).*/\1/p' | sort -u); do
		grep -qw -- "$opt" <<<"$got" || ig_fail "limit --help names $opt, completion does not: $got"
	done
}

# attach's interface: the ones of the namespace the completion runs in.
t_interfaces() {
	completion_preflight
	ig_make_pair
	local got how
	for how in "ip netns exec $SRV" "nsenter --net=/run/netns/$SRV"; do
		# shellcheck disable=SC2086
		got=$(complete_line "infergate attach " $how | sort | tr '\n' ' ')
		echo "$how: attach -> $got"
		grep -qw -- "$VS" <<<"$got" || ig_fail "$how: attach does not offer $VS: $got"
		grep -qw -- "$VC" <<<"$got" && ig_fail "$how: attach offers the other namespace's $VC"
		# shellcheck disable=SC2086
		got=$(complete_line "infergate attach ${VS:0:6}" $how | tr '\n' ' ')
		ig_assert_eq "$got" "$VS " "$how: attach ${VS:0:6}"
	done
	got=$(complete_line "infergate detach " nsenter --net="/run/netns/$SRV" | tr '\n' ' ')
	grep -qw -- "$VS" <<<"$got" || ig_fail "detach does not offer $VS: $got"
	# the interface only at the first argument
	ig_assert_eq "$(complete_line "infergate attach $VS " nsenter --net="/run/netns/$SRV")" "" \
		"attach IFACE <TAB>"
}

# unlimit's port: the limited ports of the instance --pin-dir names.
t_ports() {
	completion_preflight
	ig_make_pair
	ig_attach
	ig limit 8000/tcp --rate 5/s >/dev/null
	ig limit 8443/tcp --rate 1/min >/dev/null
	ig limit 5353/udp --rate 10/s >/dev/null
	local ns="nsenter --net=/run/netns/$SRV" got
	# shellcheck disable=SC2086
	got=$(complete_line "infergate --pin-dir $PIN unlimit " $ns | sort | tr '\n' ' ')
	ig_assert_eq "$got" "5353/udp 8000/tcp 8443/tcp " "unlimit's ports"
	# shellcheck disable=SC2086
	got=$(complete_line "infergate --pin-dir $PIN unlimit 84" $ns | tr '\n' ' ')
	ig_assert_eq "$got" "8443/tcp " "unlimit 84"
	# shellcheck disable=SC2086
	got=$(complete_line "infergate --pin-dir=$PIN unlimit " $ns | sort | tr '\n' ' ')
	ig_assert_eq "$got" "5353/udp 8000/tcp 8443/tcp " "unlimit's ports with --pin-dir=DIR"
	ig unlimit 8443/tcp >/dev/null
	# shellcheck disable=SC2086
	got=$(complete_line "infergate --pin-dir $PIN unlimit " $ns | sort | tr '\n' ' ')
	ig_assert_eq "$got" "5353/udp 8000/tcp " "unlimit's ports after an unlimit"
	# no instance there: nothing, and no error on the terminal
	# shellcheck disable=SC2086
	got=$(complete_line "infergate --pin-dir $PIN-none unlimit " $ns 2>&1)
	ig_assert_eq "$got" "" "unlimit without an instance"
}

run_test completion/commands t_commands
run_test completion/options t_options
run_test completion/interfaces t_interfaces
run_test completion/ports t_ports
