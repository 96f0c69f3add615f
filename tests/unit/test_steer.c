// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The pure half of breaker steering (bpf/pure/steer.h) and the port
 * rewrite's checksum (bpf/pure/csum.h), natively. */
#include <string.h>
#include "pure/csum.h"
#include "pure/steer.h"
#include "frames.h"
#include "harness.h"

/* Patching one port under the checksum gives what a full recomputation gives,
 * for random segments and ports (the 0x0000/0xffff corner included). */
IG_TEST(steer_incremental_checksum_matches_a_full_recompute)
{
	unsigned long long rng = 42;

	for (int i = 0; i < 20000; i++) {
		struct ig_frame_spec s;
		struct ig_frame f;
		__u8 payload[64];
		__u16 *port, *check, old, new;

		ig_frame_defaults(&s, (int)(i & 1), IG_F_TCP);
		s.sport = (__u16)ig_rnd(&rng);
		s.dport = i % 7 == 0 ? 0 : (__u16)ig_rnd(&rng);
		s.seq = (__u32)ig_rnd(&rng);
		for (size_t k = 0; k < sizeof(payload); k++)
			payload[k] = (__u8)ig_rnd(&rng);
		s.payload = payload;
		s.payload_len = ig_rnd(&rng) % sizeof(payload);
		ASSERT_OK(ig_frame_build(&s, &f), "build");
		port = (__u16 *)(f.buf + f.l4_off + ((i & 2) ? 0 : 2));
		check = (__u16 *)(f.buf + f.l4_off + 16);
		old = *port;
		new = i % 11 == 0 ? 0xffff : (__u16)ig_rnd(&rng);
		*port = new;
		*check = ig_csum_replace16(*check, old, new);
		ASSERT_TRUE(ig_l4_csum_ok(f.buf + f.l3_off, f.buf + f.l4_off, f.len - f.l4_off,
					  IG_F_TCP), "checksum still valid");
	}
}

static int status_class(const char *s)
{
	return ig_http_status_class((const __u8 *)s, (const __u8 *)s + strlen(s));
}

IG_TEST(steer_reads_the_status_class_of_http1_responses_only)
{
	ASSERT_EQ(status_class("HTTP/1.1 200 OK\r\n"), IG_HTTP_2XX, "200");
	ASSERT_EQ(status_class("HTTP/1.0 503 Service Unavailable"), IG_HTTP_5XX, "503");
	ASSERT_EQ(status_class("HTTP/1.1 100 "), IG_HTTP_1XX, "100");
	ASSERT_EQ(status_class("HTTP/1.1 302"), IG_HTTP_3XX, "exactly 12 bytes");
	ASSERT_EQ(status_class("HTTP/1.1 429 Too Many"), IG_HTTP_4XX, "429");
	ASSERT_EQ(status_class("HTTP/1.1 50"), -1, "truncated");
	ASSERT_EQ(status_class("HTTP/2 200 OK"), -1, "not HTTP/1.x");
	ASSERT_EQ(status_class("HTTP/1.1 600 x"), -1, "no such class");
	ASSERT_EQ(status_class("HTTP/1.1 0x0 x"), -1, "not digits");
	ASSERT_EQ(status_class("GET / HTTP/1.1\r\n"), -1, "a request");
	ASSERT_EQ(status_class(""), -1, "empty");
}

IG_TEST(steer_forced_state_wins_and_unknown_values_fail_to_the_primary)
{
	struct ig_breaker b = { .state = IG_BRK_OPEN, .force = IG_FORCE_AUTO };

	ASSERT_EQ(ig_brk_effective(&b), IG_BRK_OPEN, "auto follows the agent");
	b.force = IG_FORCE_CLOSED;
	ASSERT_EQ(ig_brk_effective(&b), IG_BRK_CLOSED, "forced closed");
	b.state = IG_BRK_CLOSED;
	b.force = IG_FORCE_OPEN;
	ASSERT_EQ(ig_brk_effective(&b), IG_BRK_OPEN, "forced open");
	b.force = (enum ig_brk_force)9;
	b.state = IG_BRK_HALF_OPEN;
	ASSERT_EQ(ig_brk_effective(&b), IG_BRK_HALF_OPEN, "unknown force: auto");
	b.state = (enum ig_brk_state)9;
	ASSERT_EQ(ig_brk_effective(&b), IG_BRK_CLOSED, "unknown state: closed");
}
