/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rates as operators write them: N per second, minute, hour, day or any
 * number of seconds up to a day ("3/min", "500/d", "5/10s"), kept in
 * ig_abi.h's one-u64 form (N and the period) so that status shows what was
 * written and the data path admits exactly N per period.
 */
#ifndef IG_RATE_H
#define IG_RATE_H

#include <stddef.h>
#include <linux/types.h>
#include "ig_abi.h"

/* "100", "100/s", "3/min" (or /m), "2/h", "500/d", "5/10s", "1/15min"; k/M/G
 * on N. A bare N is per second. Errors through ig_args_error(). */
int ig_parse_rate(const char *s, __u64 *rate);
/* The same for a token budget: a bare N is a minute's (tokens_per_minute). */
int ig_parse_tokens(const char *s, __u64 *tokens);

/* "3/min", "100/s", "500/d", "5/10s", "1/12h": the largest unit that divides
 * the period. dflt: the field's default period (1, or IG_TOKEN_PERIOD_S).
 * Returns buf. */
#define IG_RATE_STR 40
char *ig_rate_str(__u64 rate, __u64 dflt, char *buf, size_t len);
/* A buffer for one call's argument lists: ig_rate_s(r) in a printf. Four
 * rotate, so a call may show up to four rates. */
const char *ig_rate_s(__u64 rate);

/* Units per second, for arithmetic that wants a number (the agent's
 * adaptive rate, rough displays). */
double ig_rate_per_s(__u64 rate, __u64 dflt);
/* a < b, == 0, > b as rates (N/period compared exactly). */
int ig_rate_cmp(__u64 a, __u64 b);

/* The default burst: one period's worth, N (capped at IG_MAX_BURST): 3/min
 * gets 3, 100/s 100 as it always did. */
__u64 ig_rate_default_burst(__u64 rate);
/* A burst the bucket can hold at this rate: its refill, burst * period / N,
 * within IG_RATE_MAX_REFILL_S (else a 64-bit TAT would wrap). 0, or -ERANGE
 * with an error naming `what` (the option or config key). */
int ig_rate_check_burst(__u64 rate, __u64 burst, const char *what);

/* A rate in JSON, three keys: KEY the N (what 0.9 printed for N/s, so a
 * reader of per-second rates sees no change), KEY_period_s, KEY_text
 * ("3/min"). */
struct ig_json;
void ig_json_rate(struct ig_json *j, const char *key, __u64 rate, __u64 dflt);

#endif
