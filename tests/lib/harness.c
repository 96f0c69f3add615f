// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Runner for the tests registered with IG_TEST(): `ig_tests [SUBSTRING...]`
 * runs the tests whose name or file contains any SUBSTRING (all without one). */
#include <stdlib.h>
#include "harness.h"

#define IG_MAX_TESTS 512

struct ig_test_entry {
	const char *name;
	const char *file;
	ig_test_fn fn;
};

static struct ig_test_entry tests[IG_MAX_TESTS];
static int ntests;

jmp_buf ig_test_jmp;
int ig_test_failed;
char ig_skip_reason[256];

void ig_test_register(const char *name, ig_test_fn fn, const char *file)
{
	if (ntests < IG_MAX_TESTS)
		tests[ntests++] = (struct ig_test_entry){ name, file, fn };
}

static int selected(const struct ig_test_entry *t, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(t->name, argv[i]) || strstr(t->file, argv[i]))
			return 1;
	return 0;
}

/* 0 passed, 1 failed, 2 skipped. Its own frame, so that longjmp from an
 * assert clobbers nothing the runner keeps. */
static int run_one(const struct ig_test_entry *t)
{
	int r;

	ig_test_failed = 0;
	ig_skip_reason[0] = 0;
	r = setjmp(ig_test_jmp);
	if (r == 0) {
		t->fn();
		printf("ok   %s\n", t->name);
		return 0;
	}
	if (r == 2) {
		printf("skip %s: %s\n", t->name, ig_skip_reason);
		return 2;
	}
	printf("FAIL %s\n", t->name);
	return 1;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < ntests; i++) {
		if (!selected(&tests[i], argc, argv))
			continue;
		switch (run_one(&tests[i])) {
		case 0: passed++; break;
		case 1: failed++; break;
		default: skipped++; break;
		}
	}
	/* Read by tests/run.sh, which prints the one summary line. */
	printf("# ig_tests: passed=%d failed=%d skipped=%d\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
