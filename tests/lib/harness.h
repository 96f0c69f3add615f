/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The C test harness: tests register themselves with IG_TEST(), assert with
 * the ASSERT_* macros (a failed assert reports file:line and the values, and
 * ends that test), and one runner (harness.c) runs them all and prints a line
 * per test. tests/run.sh folds its counts into the one summary line.
 */
#ifndef IG_HARNESS_H
#define IG_HARNESS_H

#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <setjmp.h>

typedef void (*ig_test_fn)(void);
void ig_test_register(const char *name, ig_test_fn fn, const char *file);

/* Set by the asserts; the runner longjmps out of a failed test. */
extern jmp_buf ig_test_jmp;
extern int ig_test_failed;
extern char ig_skip_reason[256];

#define IG_TEST(name)                                                           \
	static void name(void);                                                 \
	__attribute__((constructor)) static void ig_register_##name(void)       \
	{                                                                       \
		ig_test_register(#name, name, __FILE__);                        \
	}                                                                       \
	static void name(void)

#define IG_FAIL(fmt, ...)                                                       \
	do {                                                                    \
		fprintf(stderr, "    %s:%d: " fmt "\n", __FILE__, __LINE__,        \
			##__VA_ARGS__);                                         \
		ig_test_failed = 1;                                             \
		longjmp(ig_test_jmp, 1);                                        \
	} while (0)

/* Skip only when the machine truly lacks a feature; say which. */
#define IG_SKIP(fmt, ...)                                                       \
	do {                                                                    \
		snprintf(ig_skip_reason, sizeof(ig_skip_reason), fmt, ##__VA_ARGS__); \
		longjmp(ig_test_jmp, 2);                                        \
	} while (0)

#define ASSERT_TRUE(cond, what)                                                 \
	do {                                                                    \
		if (!(cond))                                                    \
			IG_FAIL("%s: expected true: %s", what, #cond);         \
	} while (0)

#define ASSERT_FALSE(cond, what) ASSERT_TRUE(!(cond), what)

#define IG_ASSERT_CMP(a, b, op, what)                                           \
	do {                                                                    \
		long long __a = (long long)(a), __b = (long long)(b);           \
		if (!(__a op __b))                                              \
			IG_FAIL("%s: expected %s %s %s, got %lld vs %lld", what, #a, \
				#op, #b, __a, __b);                             \
	} while (0)

#define ASSERT_EQ(a, b, what) IG_ASSERT_CMP(a, b, ==, what)
#define ASSERT_NEQ(a, b, what) IG_ASSERT_CMP(a, b, !=, what)
#define ASSERT_LT(a, b, what) IG_ASSERT_CMP(a, b, <, what)
#define ASSERT_LE(a, b, what) IG_ASSERT_CMP(a, b, <=, what)
#define ASSERT_GT(a, b, what) IG_ASSERT_CMP(a, b, >, what)
#define ASSERT_GE(a, b, what) IG_ASSERT_CMP(a, b, >=, what)

/* For calls returning 0 or -errno (or -1 with errno set). */
#define ASSERT_OK(err, what)                                                    \
	do {                                                                    \
		long long __e = (long long)(err);                               \
		if (__e != 0)                                                   \
			IG_FAIL("%s: returned %lld (%s)", what, __e,           \
				strerror(__e < 0 ? (int)-__e : errno));         \
	} while (0)

#define ASSERT_MEMEQ(a, b, len, what)                                           \
	do {                                                                    \
		if (memcmp((a), (b), (len)))                                    \
			IG_FAIL("%s: %zu bytes differ", what, (size_t)(len));  \
	} while (0)

#define ASSERT_STREQ(a, b, what)                                                \
	do {                                                                    \
		const char *__sa = (a), *__sb = (b);                            \
		if (strcmp(__sa, __sb))                                         \
			IG_FAIL("%s: expected \"%s\", got \"%s\"", what, __sb, __sa); \
	} while (0)

/* xorshift64*: reproducible, so a failure reproduces. Each file keeps its own
 * state (and seed), so adding a test elsewhere does not change its inputs. */
static inline unsigned long long ig_rnd(unsigned long long *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

#endif /* IG_HARNESS_H */
