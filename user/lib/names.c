// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The words for the ABI's enums: see names.h. */
#include "lib/names.h"

/* Unsized tables: their length is their last named value + 1, so the asserts
 * below catch an enum that grew without its name. */
static const char *const proto_names[] = {
	[IG_PROTO_TCP] = "tcp",
	[IG_PROTO_UDP] = "udp",
};

static const char *const unit_names[] = {
	[IG_UNIT_CONN] = "conn",
	[IG_UNIT_PACKET] = "packet",
	[IG_UNIT_BYTE] = "byte",
	[IG_UNIT_REQUEST] = "request",
};

static const char *const action_names[] = {
	[IG_ACTION_DROP] = "drop",
	[IG_ACTION_REJECT] = "reject",
	[IG_ACTION_429] = "429",
};

static const char *const reason_names[] = {
	[IG_R_PASS_OTHER] = "pass_other",
	[IG_R_PASS_UNPARSED] = "pass_unparsed",
	[IG_R_PASS_FRAGMENT] = "pass_fragment",
	[IG_R_PASS_FREE] = "pass_free",
	[IG_R_PASS_ADMITTED] = "admitted",
	[IG_R_DROP_LIMIT] = "drop_limit",
	[IG_R_REJECT] = "reject",
	[IG_R_DROP_BUDGET] = "drop_budget",
	[IG_R_DROP_CONTENDED] = "drop_contended",
	[IG_R_DROP_REPLY_FAIL] = "drop_reply_fail",
	[IG_R_STEERED] = "steered",
	[IG_R_PASS_PROBE] = "probe",
	[IG_R_REJECT_OPEN] = "reject_open",
	[IG_R_DROP_STEER_FAIL] = "drop_steer_fail",
	[IG_R_DRY_DROP] = "would_drop",
	[IG_R_DRY_REJECT] = "would_reject",
	[IG_R_PASS_ALLOW] = "allowed",
	[IG_R_DROP_DENY] = "denied",
	[IG_R_DROP_DEEP] = "drop_deep",
	[IG_R_DROP_FRAGMENT] = "drop_fragment",
	[IG_R_DROP_UNREAD] = "drop_unread",
	[IG_R_DROP_NO_REPLY] = "drop_no_reply",
	[IG_R_DROP_V4MAPPED] = "drop_v4mapped",
	[IG_R_REJECT_HTTP] = "reject_429",
	[IG_R_DROP_UNFRAMED] = "drop_unframed",
	[IG_R_PASS_TEARDOWN] = "teardown",
	[IG_R_REJECT_COOKIE] = "synack_cookie",
	[IG_R_DROP_COOKIE_ACK] = "drop_cookie_ack",
	[IG_R_DROP_PROXY] = "drop_proxy",
};

static const char *const clock_names[] = {
	[IG_CLOCK_TICK] = "tick",
	[IG_CLOCK_COARSE] = "coarse",
	[IG_CLOCK_TEST] = "test",
};

static const char *const level_names[] = {
	[IG_L_SOURCE] = "source",     [IG_L_PREFIX] = "prefix", [IG_L_PORT] = "port",
	[IG_L_NEWCOMER] = "newcomer", [IG_L_TABLE] = "table",   [IG_L_TOKENS] = "tokens",
	[IG_L_CONNS] = "conns",       [IG_L_DENY] = "deny",     [IG_L_FLEET] = "fleet",
	[IG_L_INFLIGHT] = "inflight",
};

static const char *const tier_kind_names[] = {
	[IG_TIER_LIMIT] = "tier",
	[IG_TIER_ALLOW] = "allow",
	[IG_TIER_DENY] = "deny",
	[IG_TIER_FENCE] = "fence",
};

static const char *const brk_state_names[] = {
	[IG_BRK_CLOSED] = "closed",
	[IG_BRK_OPEN] = "open",
	[IG_BRK_HALF_OPEN] = "half_open",
};

static const char *const brk_force_names[] = {
	[IG_FORCE_AUTO] = "auto",
	[IG_FORCE_OPEN] = "open",
	[IG_FORCE_CLOSED] = "closed",
};

static const char *const http_class_names[] = {
	[IG_HTTP_1XX] = "1xx", [IG_HTTP_2XX] = "2xx", [IG_HTTP_3XX] = "3xx",
	[IG_HTTP_4XX] = "4xx", [IG_HTTP_5XX] = "5xx",
};

static const char *const route_names[] = {
	[IG_ROUTE_PRIMARY] = "primary",
	[IG_ROUTE_PROBE] = "probe",
	[IG_ROUTE_FALLBACK] = "fallback",
};

/* Sized, so the asserts below cannot see a rule without a word: the
 * command line's option takes it NULL-terminated (tests/unit/test_names.c
 * finds a hole). */
const char *const ig_token_count_names[IG_TC_MAX + 1] = {
	[IG_TC_USAGE] = "usage",
	[IG_TC_EVENTS] = "events",
	[IG_TC_BYTES] = "bytes",
};

#define N(tab) (sizeof(tab) / sizeof((tab)[0]))
_Static_assert(N(proto_names) == IG_PROTO_MAX, "a protocol without a name");
_Static_assert(N(unit_names) == IG_UNIT_MAX, "a unit without a name");
_Static_assert(N(action_names) == IG_ACTION_MAX, "an action without a name");
_Static_assert(N(reason_names) == IG_R_MAX, "a reason without a name");
_Static_assert(N(clock_names) == IG_CLOCK_TEST + 1, "a clock without a name");
_Static_assert(N(level_names) == IG_L_MAX, "a level without a name");
_Static_assert(N(tier_kind_names) == IG_TIER_KIND_MAX, "a tier kind without a name");
_Static_assert(N(brk_state_names) == IG_BRK_STATE_MAX, "a breaker state without a name");
_Static_assert(N(brk_force_names) == IG_FORCE_MAX, "a breaker force without a name");
_Static_assert(N(http_class_names) == IG_HTTP_MAX, "an HTTP class without a name");
_Static_assert(N(route_names) == IG_ROUTE_MAX, "a route without a name");

#define NAME_OR(tab, v, other) ((unsigned)(v) < N(tab) && (tab)[v] ? (tab)[v] : (other))

const char *ig_proto_name(enum ig_proto p) { return NAME_OR(proto_names, p, "unknown"); }
const char *ig_unit_name(enum ig_unit u) { return NAME_OR(unit_names, u, "unknown"); }
const char *ig_action_name(enum ig_action a) { return NAME_OR(action_names, a, "unknown"); }
const char *ig_reason_name(enum ig_reason r) { return NAME_OR(reason_names, r, "unknown"); }
const char *ig_clock_name(enum ig_clock c) { return NAME_OR(clock_names, c, "unknown"); }
const char *ig_level_name(enum ig_level l) { return NAME_OR(level_names, l, "?"); }
const char *ig_tier_kind_name(enum ig_tier_kind k) { return NAME_OR(tier_kind_names, k, "tier"); }
const char *ig_brk_state_name(enum ig_brk_state s) { return NAME_OR(brk_state_names, s, "unknown"); }
const char *ig_brk_force_name(enum ig_brk_force f) { return NAME_OR(brk_force_names, f, "unknown"); }
const char *ig_http_class_name(enum ig_http_class c) { return NAME_OR(http_class_names, c, "unknown"); }
const char *ig_route_name(enum ig_route r) { return NAME_OR(route_names, r, "unknown"); }
const char *ig_token_count_name(enum ig_token_count c)
{
	return (unsigned)c < IG_TC_MAX && ig_token_count_names[c] ? ig_token_count_names[c]
								   : "unknown";
}
