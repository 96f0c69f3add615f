/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One JSON writer for every --json output and every JSON the agent sends
 * (fleet heartbeats, top). It tracks nesting and commas itself, so callers
 * cannot emit a stray comma, and it escapes every string it is given: names
 * come from config files and interfaces, never trusted to be plain ASCII.
 */
#ifndef IG_JSON_H
#define IG_JSON_H

#include <stdio.h>
#include <linux/types.h>

#define IG_JSON_MAX_DEPTH 16

struct ig_json {
	FILE *out;
	int depth;
	int pretty;                       /* newlines and indentation */
	int first[IG_JSON_MAX_DEPTH + 1]; /* nothing written at this depth yet */
	int after_key;                    /* the next value follows a key */
};

void ig_json_init(struct ig_json *j, FILE *out, int pretty);
/* Containers: as a value (after a key, in an array, or at the top). */
void ig_json_obj_open(struct ig_json *j);
void ig_json_obj_close(struct ig_json *j);
void ig_json_arr_open(struct ig_json *j);
void ig_json_arr_close(struct ig_json *j);
void ig_json_key(struct ig_json *j, const char *key);
/* Values. */
void ig_json_str(struct ig_json *j, const char *s);
void ig_json_u64(struct ig_json *j, __u64 v);
void ig_json_s64(struct ig_json *j, __s64 v);
void ig_json_double(struct ig_json *j, double v);
void ig_json_bool(struct ig_json *j, int v);
void ig_json_null(struct ig_json *j);
/* key + value in one call, for the common case. */
void ig_json_kstr(struct ig_json *j, const char *key, const char *s);
void ig_json_ku64(struct ig_json *j, const char *key, __u64 v);
void ig_json_ks64(struct ig_json *j, const char *key, __s64 v);
void ig_json_kdouble(struct ig_json *j, const char *key, double v);
void ig_json_kbool(struct ig_json *j, const char *key, int v);
/* Ends the document: a newline after the outermost value. */
void ig_json_end(struct ig_json *j);

/* The escaped form of s, quotes included, into buf (truncated at a whole
 * character, always terminated); returns what it would need, like snprintf. */
size_t ig_json_escape(char *buf, size_t len, const char *s);

#endif
