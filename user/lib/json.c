// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "lib/json.h"

void ig_json_init(struct ig_json *j, FILE *out, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
	j->first[0] = 1;
}

static void indent(struct ig_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Before any value or key: the comma and indentation that belong there. */
static void sep(struct ig_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = 0;
	if (j->depth)
		indent(j);
}

static void open(struct ig_json *j, char c)
{
	sep(j);
	fputc(c, j->out);
	if (j->depth < IG_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = 1;
}

static void close_(struct ig_json *j, char c)
{
	int empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->out);
}

void ig_json_obj_open(struct ig_json *j) { open(j, '{'); }
void ig_json_obj_close(struct ig_json *j) { close_(j, '}'); }
void ig_json_arr_open(struct ig_json *j) { open(j, '['); }
void ig_json_arr_close(struct ig_json *j) { close_(j, ']'); }

static void put_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void ig_json_key(struct ig_json *j, const char *key)
{
	sep(j);
	put_escaped(j->out, key);
	fputs(j->pretty ? ": " : ":", j->out);
	j->after_key = 1;
}

void ig_json_str(struct ig_json *j, const char *s)
{
	sep(j);
	put_escaped(j->out, s);
}

void ig_json_u64(struct ig_json *j, __u64 v)
{
	sep(j);
	fprintf(j->out, "%" PRIu64, (uint64_t)v);
}

void ig_json_s64(struct ig_json *j, __s64 v)
{
	sep(j);
	fprintf(j->out, "%" PRId64, (int64_t)v);
}

void ig_json_double(struct ig_json *j, double v)
{
	sep(j);
	if (isfinite(v))
		fprintf(j->out, "%.17g", v);
	else
		fputs("null", j->out); /* JSON has no NaN or infinity */
}

void ig_json_bool(struct ig_json *j, int v)
{
	sep(j);
	fputs(v ? "true" : "false", j->out);
}

void ig_json_null(struct ig_json *j)
{
	sep(j);
	fputs("null", j->out);
}

void ig_json_kstr(struct ig_json *j, const char *k, const char *s) { ig_json_key(j, k); ig_json_str(j, s); }
void ig_json_ku64(struct ig_json *j, const char *k, __u64 v) { ig_json_key(j, k); ig_json_u64(j, v); }
void ig_json_ks64(struct ig_json *j, const char *k, __s64 v) { ig_json_key(j, k); ig_json_s64(j, v); }
void ig_json_kdouble(struct ig_json *j, const char *k, double v) { ig_json_key(j, k); ig_json_double(j, v); }
void ig_json_kbool(struct ig_json *j, const char *k, int v) { ig_json_key(j, k); ig_json_bool(j, v); }

void ig_json_end(struct ig_json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}

size_t ig_json_escape(char *buf, size_t len, const char *s)
{
	char tmp[8];
	size_t n = 0;

#define EMIT(str) do { size_t l_ = strlen(str); \
	if (n + l_ < len) memcpy(buf + n, str, l_); else if (n < len) len = n + 1; \
	n += l_; } while (0)
	EMIT("\"");
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': EMIT("\\\""); break;
		case '\\': EMIT("\\\\"); break;
		case '\n': EMIT("\\n"); break;
		case '\r': EMIT("\\r"); break;
		case '\t': EMIT("\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
			} else {
				tmp[0] = (char)*p;
				tmp[1] = 0;
			}
			EMIT(tmp);
		}
	}
	EMIT("\"");
#undef EMIT
	if (len)
		buf[n < len ? n : len - 1] = 0;
	return n;
}
