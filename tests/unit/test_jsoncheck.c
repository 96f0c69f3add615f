// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What `status --fleet --json` passes on from Redis (user/lib/jsoncheck.c):
 * one JSON object, or nothing. */
#include <string.h>
#include "lib/jsoncheck.h"
#include "harness.h"

static int is_obj(const char *s)
{
	return ig_json_is_object(s, strlen(s));
}

IG_TEST(jsoncheck_a_redis_value_breaking_the_document_is_refused)
{
	ASSERT_TRUE(is_obj("{\"node\":\"a\",\"breakers\":[{\"port\":8000,\"forced\":false}],"
			   "\"fleet\":{\"up\":true,\"x\":null,\"f\":-1.5e3}}"), "a node's status");
	ASSERT_TRUE(is_obj(" { } "), "empty, with blanks");
	ASSERT_TRUE(is_obj("{\"s\":\"\\\"\\\\\\u001b\"}"), "escapes");
	ASSERT_FALSE(is_obj("{\"node\":\"a\"},{\"injected\":1}"), "two objects");
	ASSERT_FALSE(is_obj("{\"node\":\"a\"]}"), "unbalanced");
	ASSERT_FALSE(is_obj("{\"node\":\"a"), "cut short");
	ASSERT_FALSE(is_obj("{\"node\":\"\x1b[2J\"}"), "a raw control character");
	ASSERT_FALSE(is_obj("[1,2]"), "not an object");
	ASSERT_FALSE(is_obj("hello"), "not JSON");
	ASSERT_FALSE(is_obj("{\"a\":tru}"), "a bad literal");
	ASSERT_FALSE(is_obj("{\"a\":1,}"), "a trailing comma");
	ASSERT_FALSE(is_obj("{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}"), "too deep");
	ASSERT_FALSE(ig_json_is_object("{}\0{}", 5), "a NUL inside");
}
