#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Per-request limits (--unit request) on h2c (HTTP/2 over cleartext TCP,
# prior knowledge), with real tools on both hooks: nghttpd as the server,
# h2load, nghttp and curl as clients (Debian's nghttp2-server and
# nghttp2-client; make deps installs them). A HEADERS frame opening a new
# odd stream is one request; what the server really saw is read from
# nghttpd's -v log (a "recv HEADERS frame" line per stream it got, a "send
# HEADERS frame" line per stream it answered).
#
# Per-test state lives in run_test's subshell (see netns.sh):
# shellcheck disable=SC2031,SC2119
# shellcheck source=../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=../lib/req_common.sh
. "$(dirname "$0")/../lib/req_common.sh"

PORT=8000

h2_preflight() {
	local t
	for t in nghttpd h2load nghttp; do
		command -v "$t" >/dev/null || ig_skip "$t not installed (make deps: nghttp2-server, nghttp2-client)"
	done
}

# Namespaces, nghttpd on $PORT (a 6-byte index.html), infergate on $HOOK
# with the limit given; more client addresses $C4B $C4C $C6B $C6C.
setup() { # LIMIT ARGS...
	local out a
	req_preflight
	h2_preflight
	ig_make_pair
	# more client addresses, a bucket each (used where a client binds to one)
	C4B=${C4%.*}.3 C4C=${C4%.*}.4 C6B=fd00::3 C6C=fd00::4
	for a in "$C4B" "$C4C"; do
		ig_cli ip addr add "$a/24" dev "$VC"
	done
	for a in "$C6B" "$C6C"; do
		ig_cli ip -6 addr add "$a/64" dev "$VC" nodad preferred_lft 0
	done
	ig_wait_for 5 "$C6C usable" ig_link_usable "$CLI" "$VC" "$C6C"
	mkdir "$IG_TMP/www"
	echo hello >"$IG_TMP/www/index.html"
	# -v: a line per frame; stdout is a file, so line-buffered by stdbuf
	nsenter --net="/run/netns/$SRV" stdbuf -oL nghttpd -v --no-tls -d "$IG_TMP/www" "$PORT" \
		>"$IG_TMP/nghttpd.log" 2>&1 &
	IG_PIDS+=("$!")
	ig_wait_for 5 "nghttpd on port $PORT" ig_listening -Hltn "$PORT"
	ig_attach
	out=$(ig limit "$PORT/tcp" "$@" 2>&1) || ig_fail "ig limit $PORT/tcp $*: $out"
}

# Streams nghttpd got (HEADERS frames received) and answered.
srv_got() { grep -c 'recv HEADERS frame' "$IG_TMP/nghttpd.log" || true; }
srv_answered() { grep -c 'send HEADERS frame' "$IG_TMP/nghttpd.log" || true; }

# New connections to the server from ADDR (nghttp and h2load cannot bind):
# the route to the server's address names it as the source.
use_source() { # ADDR
	if [[ "$1" == *:* ]]; then
		ig_cli ip -6 route replace "$S6/128" dev "$VC" src "$1"
	else
		ig_cli ip route replace "$S4/32" dev "$VC" src "$1"
	fi
}

# The lines of TEXT naming an error, joined (for measured: lines).
errors_in() { # TEXT
	grep -iE 'error|GOAWAY|invalid|429|reset|not processed|empty reply' <<<"$1" | head -n 3 | tr '\n' ' ' || true
}

url() { # FAMILY [PATH]
	if [ "$1" = 6 ]; then echo "http://[$S6]:$PORT/${2:-}"; else echo "http://$S4:$PORT/${2:-}"; fi
}

# h2load from the client namespace; sets H2 (its output), H2_RC, H2_DUR (s)
# and the numbers of its "requests:" line: H2_DONE H2_OK H2_FAILED H2_ERRORED.
h2load_run() { # TIMEOUT ARGS...
	local limit=$1 t0
	shift
	t0=$(ig_now)
	H2_RC=0
	H2=$(ig_cli timeout "$limit" h2load "$@" 2>&1) || H2_RC=$?
	H2_DUR=$(ig_calc "$(ig_now) - $t0")
	read -r H2_DONE H2_OK H2_FAILED H2_ERRORED <<<"$(awk '/^requests:/ {
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) ~ /^done/) d = $i; if ($(i + 1) ~ /^succeeded/) s = $i
			if ($(i + 1) ~ /^failed/) f = $i; if ($(i + 1) ~ /^errored/) e = $i
		}
		print d + 0, s + 0, f + 0, e + 0 }' <<<"$H2")"
	echo "h2load $* (rc $H2_RC, ${H2_DUR}s, $H2_DONE done): $(grep -E '^(requests|status codes):' <<<"$H2" | tr '\n' ';')"
}

# 1. One connection, one stream at a time (h2load -m 1), 10 requests at 1/s
# burst 5, drop: each HEADERS frame is a segment of its own; the burst goes
# through at once, the rest wait for tokens (their segments are dropped and
# retransmitted), all succeed, and the server never gets more than the
# bucket allows: burst + rate * elapsed.
t_h2load_serial() { # FAMILY
	local lo hi
	setup --rate 1/s --burst 5 --unit request --action drop
	mark
	h2load_run 30 -n 10 -c 1 -m 1 "$(url "$1")"
	ig_assert_eq "$H2_RC" 0 "h2load's exit status"
	ig_assert_eq "$H2_OK" 10 "streams that succeeded"
	ig_assert_eq "$(srv_got)" 10 "streams nghttpd got"
	# 5 at once, then one per refill: the 10th no sooner than ~4 s later
	read -r lo hi <<<"$(ig_expect_window 5 1 "$H2_DUR")"
	ig_assert_range 10 "$lo" "$hi" "10 streams in ${H2_DUR}s at 1/s burst 5"
	ig_assert_ge "$(grown drop_limit)" 1 "drop_limit (the later streams waited)"
	echo "measured: h2load -m 1, IPv$1, 1/s burst 5, drop: 10 of 10 streams in $(secs "$H2_DUR")s;" \
		"admitted +$(grown admitted), drop_limit +$(grown drop_limit), pass_free +$(grown pass_free)"
}

# 2. One connection, concurrent streams at 1/s burst 5, drop. h2load writes
# its first -m HEADERS frames at once, with the preface: one segment starting
# -m requests, charged all or nothing. Within the burst (-m 4, 10 requests):
# all succeed, the later ones as tokens come. Past it (-m 10, 20 requests, the
# brief's case): what a per-request limit must still do is serve the streams
# (a flight of 10 from a full bucket, leaving the client owing 5): all 20
# within 30 s, never more than max(burst, 10) + rate * t. (Before 0.6 such a
# flight was never admitted: h2load got nothing.)
t_h2load_concurrent() { # FAMILY M N
	local got answered lo hi
	setup --rate 1/s --burst 5 --unit request --action drop
	mark
	h2load_run 30 -n "$3" -c 1 -m "$2" "$(url "$1")"
	got=$(srv_got) answered=$(srv_answered)
	echo "measured: h2load -n $3 -m $2, IPv$1, 1/s burst 5, drop: $H2_OK of $3 succeeded in" \
		"$(secs "$H2_DUR")s (rc $H2_RC); nghttpd got $got streams, answered $answered;" \
		"admitted +$(grown admitted) segments, drop_limit +$(grown drop_limit)"
	ig_assert_eq "$H2_OK" "$3" "streams that succeeded within 30 s"
	ig_assert_eq "$got" "$3" "streams nghttpd got"
	if [ "$2" -le 5 ]; then
		read -r lo hi <<<"$(ig_expect_window 5 1 "$H2_DUR")"
	else
		# a flight above the burst is admitted whole from a full bucket
		# only (then owed): at most max(burst, -m) + rate * t, and each
		# flight waits for the bucket to fill (and for the retransmission
		# that finds it full), so no lower bound but the count itself
		read -r lo hi <<<"$(ig_expect_window "$2" 1 "$H2_DUR")"
		lo=$3
	fi
	ig_assert_range "$3" "$lo" "$hi" "$3 streams in ${H2_DUR}s at 1/s burst 5, -m $2"
}

# 3. Several URLs on one connection: nghttp sends their HEADERS frames
# together (one segment): 4 at burst 5 go through at once. curl does them
# one after the other, from curl 8.0 on (7.88 cannot reuse a prior-knowledge
# connection: curl#10634, its second transfer fails with "Error in the HTTP2
# framing layer"): 8 URLs from a second address, 5 at once, 3 as tokens come.
t_several_urls() { # FAMILY
	local urls=() i cv out lo hi t0 dur
	setup --rate 1/s --burst 5 --unit request --action drop
	for i in 1 2 3 4; do urls+=("$(url "$1" "index.html?$i")"); done
	out=$(ig_cli timeout 10 nghttp -ns "${urls[@]}" 2>&1) || ig_fail "nghttp failed: $out"
	echo "$out" | tail -n 6
	ig_assert_eq "$(grep -cE ' 200 +6 /index.html' <<<"$out")" 4 "nghttp: 4 URLs answered"
	ig_assert_eq "$(srv_got)" 4 "streams nghttpd got"

	cv=$(curl --version | awk 'NR == 1 { print $2 }')
	if [ "${cv%%.*}" -lt 8 ]; then
		echo "measured: nghttp, 4 URLs on one connection (IPv$1): all 4 answered; curl $cv" \
			"not run (curl#10634)"
		return 0
	fi
	if [ "$1" = 6 ]; then use_source "$C6B"; else use_source "$C4B"; fi
	urls=()
	for i in $(seq 1 8); do urls+=(-o /dev/null "$(url "$1" "index.html?c$i")"); done
	t0=$(ig_now)
	out=$(ig_cli curl -q -s --http2-prior-knowledge -m 20 \
		-w '%{http_code} %{http_version} %{num_connects}\n' "${urls[@]}" 2>&1) || true
	dur=$(ig_calc "$(ig_now) - $t0")
	echo "curl: $(tr '\n' ';' <<<"$out")"
	ig_assert_eq "$(grep -c '^200 2 ' <<<"$out")" 8 "curl: 8 URLs answered over HTTP/2"
	ig_assert_eq "$(awk '{ n += $3 } END { print n }' <<<"$out")" 1 "curl: connections opened"
	ig_assert_eq "$(srv_got)" 12 "streams nghttpd got"
	read -r lo hi <<<"$(ig_expect_window 5 1 "$dur")"
	ig_assert_range 8 "$lo" "$hi" "8 streams in ${dur}s at 1/s burst 5"
	echo "measured: nghttp 4 URLs at once, curl $cv 8 URLs on one connection (IPv$1):" \
		"all answered, curl's in $(secs "$dur")s"
}

# 4. --action reject on an h2c port: the data path answers a refused HEADERS
# frame in HTTP/2 (request.h: SETTINGS, HEADERS :status 429 with retry-after
# and retry-after-ms ending the stream, GOAWAY naming the stream before it,
# FIN). Each client must read it as a 429: h2load (-n 6 -m 1 at burst 3) counts
# one 4xx; nghttp, one URL past the burst, prints the status and the waits;
# curl, one URL past the burst, reports 429. Four URLs in one segment at
# burst 3 are admitted from a full bucket (the source then owes one). The
# server never sees a refused stream, its side is reset, nothing is left open.
t_reject() { # FAMILY
	local got out a2 a3 url sid
	setup --rate 1/s --burst 3 --unit request --action reject
	if [ "$1" = 6 ]; then a2=$C6B a3=$C6C; else a2=$C4B a3=$C4C; fi
	url=$(url "$1" index.html)
	mark
	h2load_run 20 -n 6 -c 1 -m 1 "$(url "$1")"
	got=$(srv_got)
	echo "measured: reject on h2c, h2load -n 6 -m 1 (IPv$1): $H2_OK succeeded, $H2_FAILED failed," \
		"$H2_ERRORED errored, rc $H2_RC in $(secs "$H2_DUR")s; nghttpd got $got;" \
		"reject_429 +$(grown reject_429), drop_reply_fail +$(grown drop_reply_fail), teardown +$(grown teardown)"
	ig_assert_eq "$H2_OK" 3 "h2load: streams that succeeded (burst 3)"
	ig_assert_eq "$(grep -oE '[0-9]+ 4xx' <<<"$H2")" "1 4xx" "h2load: the 429 read as a status"
	ig_assert_eq "$got" 3 "streams nghttpd got"
	ig_assert_eq "$(grown reject_429)" 1 "reject_429"
	assert_no_leftovers
	mark
	use_source "$a2"
	out=$(ig_cli timeout 10 nghttp -n "$url?1" "$url?2" "$url?3" "$url?4" 2>&1) ||
		ig_fail "nghttp, 4 URLs: $out"
	ig_assert_eq "$(srv_got)" 7 "streams nghttpd got (nghttp's 4 past burst 3, from a full bucket)"
	out=$(ig_cli timeout 10 nghttp -v "$url?5" 2>&1) || true
	echo "measured: nghttp, 4 URLs in one segment at burst 3 (IPv$1): all served; one more:" \
		"$(grep -E ':status|retry-after|GOAWAY' <<<"$out" | sed 's/^ *\[[^]]*\] *//' | tr -s ' ' | tr '\n' ';')"
	# nghttp opens its request on stream 13 (3 to 11 are PRIORITY-only)
	sid=$(sed -nE 's/.*recv \(stream_id=([0-9]+)\) :status: 429.*/\1/p' <<<"$out")
	[ -n "$sid" ] || ig_fail "nghttp: no :status 429 ($out)"
	grep -qE "recv \(stream_id=$sid\) retry-after: 0*[1-9]" <<<"$out" || ig_fail "nghttp: no retry-after"
	grep -qE "recv \(stream_id=$sid\) retry-after-ms: 0*[1-9]" <<<"$out" ||
		ig_fail "nghttp: no retry-after-ms"
	# (the GOAWAY behind it is not printed: nghttp is done once its one
	# stream ended; the unit test reads it)
	ig_assert_eq "$(srv_got)" 7 "streams nghttpd got (not the refused one)"
	assert_no_leftovers
	mark
	use_source "$a3"
	out=$(ig_cli nghttp -n "$url?6" "$url?7" "$url?8" 2>&1) || ig_fail "nghttp: $out"
	out=$(ig_cli curl -q -s -S --http2-prior-knowledge --interface "$a3" -m 5 -o /dev/null \
		-w '%{http_code} %{http_version}' "$url?9" 2>&1) || true
	echo "measured: curl, one URL past burst 3 (IPv$1): '$(tr '\n' ' ' <<<"$out")';" \
		"reject_429 +$(grown reject_429), drop_reply_fail +$(grown drop_reply_fail)"
	ig_assert_eq "$out" "429 2" "curl: the status of the URL past the burst, over HTTP/2"
	ig_assert_eq "$(srv_got)" 10 "streams nghttpd got (nghttp's 3 of the third address, not curl's)"
	assert_no_leftovers
}

secs() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }

t_serial4() { t_h2load_serial 4; }
t_serial6() { t_h2load_serial 6; }
t_within_burst4() { t_h2load_concurrent 4 4 10; }
t_within_burst6() { t_h2load_concurrent 6 4 10; }
t_past_burst4() { t_h2load_concurrent 4 10 20; }
t_past_burst6() { t_h2load_concurrent 6 10 20; }
t_several4() { t_several_urls 4; }
t_several6() { t_several_urls 6; }
t_reject4() { t_reject 4; }
t_reject6() { t_reject 6; }

for HOOK in xdp tc; do
	run_test "$HOOK/h2-h2load-serial4" t_serial4
	run_test "$HOOK/h2-h2load-serial6" t_serial6
	run_test "$HOOK/h2-h2load-m4-within-burst4" t_within_burst4
	run_test "$HOOK/h2-h2load-m4-within-burst6" t_within_burst6
	run_test "$HOOK/h2-h2load-m10-past-burst4" t_past_burst4
	run_test "$HOOK/h2-h2load-m10-past-burst6" t_past_burst6
	run_test "$HOOK/h2-several-urls4" t_several4
	run_test "$HOOK/h2-several-urls6" t_several6
	run_test "$HOOK/h2-reject4" t_reject4
	run_test "$HOOK/h2-reject6" t_reject6
done
