// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The words for the ABI's enums (user/lib/names.c): the sizes are asserted at
 * compile time; here, that no value in range lacks its word (a hole in a
 * designated table) and that no two values share one. */
#include <errno.h>
#include <string.h>
#include "lib/args.h"
#include "lib/names.h"
#include "lib/tokens.h"
#include "harness.h"

static void check(const char *what, int n, const char *(*name)(int), const char *fallback)
{
	for (int i = 0; i < n; i++) {
		ASSERT_TRUE(name(i) && *name(i) && strcmp(name(i), fallback), what);
		for (int k = 0; k < i; k++)
			ASSERT_TRUE(strcmp(name(i), name(k)), what);
	}
	ASSERT_STREQ(name(n), fallback, what);
}

#define NAME_FN(fn, type) static const char *fn##_i(int v) { return fn((type)v); }
NAME_FN(ig_proto_name, enum ig_proto)
NAME_FN(ig_unit_name, enum ig_unit)
NAME_FN(ig_action_name, enum ig_action)
NAME_FN(ig_reason_name, enum ig_reason)
NAME_FN(ig_clock_name, enum ig_clock)
NAME_FN(ig_level_name, enum ig_level)
NAME_FN(ig_brk_state_name, enum ig_brk_state)
NAME_FN(ig_brk_force_name, enum ig_brk_force)
NAME_FN(ig_http_class_name, enum ig_http_class)
NAME_FN(ig_route_name, enum ig_route)
NAME_FN(ig_token_count_name, enum ig_token_count)

IG_TEST(names_every_enum_value_has_its_own_word)
{
	check("protocols", IG_PROTO_MAX, ig_proto_name_i, "unknown");
	check("units", IG_UNIT_MAX, ig_unit_name_i, "unknown");
	check("actions", IG_ACTION_MAX, ig_action_name_i, "unknown");
	check("reasons", IG_R_MAX, ig_reason_name_i, "unknown");
	check("clocks", IG_CLOCK_TEST + 1, ig_clock_name_i, "unknown");
	check("levels", IG_L_MAX, ig_level_name_i, "?");
	check("breaker states", IG_BRK_STATE_MAX, ig_brk_state_name_i, "unknown");
	check("breaker forces", IG_FORCE_MAX, ig_brk_force_name_i, "unknown");
	check("HTTP classes", IG_HTTP_MAX, ig_http_class_name_i, "unknown");
	check("routes", IG_ROUTE_MAX, ig_route_name_i, "unknown");
	check("token count rules", IG_TC_MAX, ig_token_count_name_i, "unknown");
	/* a tier's kind: the word a named tier is shown by is also the fallback */
	ASSERT_STREQ(ig_tier_kind_name(IG_TIER_ALLOW), "allow", "allow");
	ASSERT_STREQ(ig_tier_kind_name(IG_TIER_DENY), "deny", "deny");
	ASSERT_STREQ(ig_tier_kind_name(IG_TIER_LIMIT), "tier", "a named tier");
}

/* The option's table is the names' own, NULL-terminated; the parser reads
 * back every word and refuses the rest with what it expects. */
IG_TEST(names_token_count_words_parse_back)
{
	enum ig_token_count c = IG_TC_MAX;
	char msg[256];

	ASSERT_TRUE(ig_token_count_names[IG_TC_MAX] == NULL, "NULL-terminated");
	for (int i = 0; i < IG_TC_MAX; i++) {
		ASSERT_STREQ(ig_token_count_names[i], ig_token_count_name((enum ig_token_count)i),
			     "the table is the names");
		ASSERT_OK(ig_parse_token_count(ig_token_count_name((enum ig_token_count)i), &c),
			  "a name parses");
		ASSERT_EQ(c, i, "to its value");
	}
	ASSERT_STREQ(ig_token_count_name(IG_TC_USAGE), "usage", "0 is usage (0.6's policies)");
	ig_args_capture(msg, sizeof(msg));
	ASSERT_EQ(ig_parse_token_count("tokens", &c), -EINVAL, "an unknown word");
	ig_args_capture(NULL, 0);
	ASSERT_STREQ(msg, "invalid token_count 'tokens': expected usage, events or bytes", "message");
	ASSERT_EQ(ig_token_count_of(IG_POL_COUNT_MASK), IG_TC_BYTES, "3 is read as bytes");
	ASSERT_EQ(ig_token_count_of(ig_token_count_flags(IG_POL_F_TOKENS, IG_TC_EVENTS)),
		  IG_TC_EVENTS, "flags round trip");
	ASSERT_EQ(ig_token_count_flags(IG_POL_COUNT_MASK | IG_POL_F_DRY_RUN, IG_TC_USAGE),
		  IG_POL_F_DRY_RUN, "usage clears the bits, keeps the rest");
}
