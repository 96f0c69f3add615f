// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The one option parser of the command line, and the help it prints, both
 * read from a command's table (cli.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ig_abi.h"
#include "cli/cli.h"
#include "lib/args.h"
#include "lib/log.h"

const char *ig_cli_pin_dir = IG_DEFAULT_PIN_DIR;

/* Enough for the longest table (limit's); ig_opts_parse refuses a longer one. */
#define IG_MAX_OPTS 48
/* getopt_long returns this plus the option's index for a long option. */
#define LONG_BASE 256

int ig_cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "infergate%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'infergate%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "");
	return 2;
}

int ig_cli_open(struct ig_instance *in)
{
	int err = ig_env_check(ig_cli_pin_dir);

	return err ? err : ig_instance_open(in, ig_cli_pin_dir);
}

static int takes_arg(const struct ig_opt *o)
{
	return o->type != IG_OPT_BOOL;
}

/* "a|b|c" (sep "|") or "a, b or c" (sep ", ", last " or "). */
static void join_values(const char *const *v, const char *sep, const char *last, char *buf,
			size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; v[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? (v[i + 1] ? sep : last) : "", v[i]);
}

void ig_opt_label(const struct ig_opt *o, char *buf, size_t len)
{
	char vals[128];
	const char *meta = o->metavar;
	size_t n = 0;

	if (o->type == IG_OPT_ENUM) {
		join_values(o->values, "|", "|", vals, sizeof(vals));
		meta = vals;
	}
	if (o->short_name)
		n += (size_t)snprintf(buf, len, "-%c%s", o->short_name, o->name ? ", " : "");
	if (o->name && n < len)
		n += (size_t)snprintf(buf + n, len - n, "--%s", o->name);
	if (takes_arg(o) && meta && n < len)
		snprintf(buf + n, len - n, " %s", meta);
}

/* The name an error or the usage line uses: the long one when there is one. */
static void opt_usage_name(const struct ig_opt *o, char *buf, size_t len)
{
	struct ig_opt one = *o;

	if (one.name)
		one.short_name = 0;
	ig_opt_label(&one, buf, len);
}

void ig_cmd_synopsis(const struct ig_cmd *c, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s", c->args ? c->args : "");

	for (const struct ig_opt *o = c->opts; o && o->type && n < len; o++) {
		char label[160];

		if (o->detail)
			continue;
		opt_usage_name(o, label, sizeof(label));
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s", n ? " " : "",
				      o->required ? "" : "[", label, o->required ? "" : "]");
	}
}

/* Lines of text: the first where the output stands, the others indented by
 * `indent`; always ends the line. */
static void print_lines(FILE *out, const char *text, int indent)
{
	if (!*text)
		fputc('\n', out);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		int l = nl ? (int)(nl - p) : (int)strlen(p);

		if (p != text)
			fprintf(out, "%*s", indent, "");
		fprintf(out, "%.*s\n", l, p);
		p += l + (nl ? 1 : 0);
	}
}

#define HELP_COLUMN 22

void ig_opts_help(const struct ig_opt *opts, FILE *out)
{
	for (const struct ig_opt *o = opts; o && o->type; o++) {
		char label[160];

		if (o->heading)
			print_lines(out, o->heading, 0);
		ig_opt_label(o, label, sizeof(label));
		/* a label too long for the column pushes its text to the right */
		if (strlen(label) > HELP_COLUMN)
			fprintf(out, "  %s  ", label);
		else
			fprintf(out, "  %-*s ", HELP_COLUMN, label);
		print_lines(out, o->help ? o->help : "", HELP_COLUMN + 3);
	}
}

void ig_cmd_help(const struct ig_cmd *c, FILE *out)
{
	char syn[1024];

	ig_cmd_synopsis(c, syn, sizeof(syn));
	fprintf(out, "usage: infergate [--pin-dir DIR] %s %s\n\n%s\n", c->name, syn, c->doc);
	if (c->opts && c->opts->type) {
		fputc('\n', out);
		ig_opts_help(c->opts, out);
	}
}

/* Into the field at o->off: an integer of o->size bytes. */
static void store(void *cfg, const struct ig_opt *o, __u64 v)
{
	char *p = (char *)cfg + o->off;

	switch (o->size) {
	case 1: *(__u8 *)p = (__u8)v; break;
	case 2: *(__u16 *)p = (__u16)v; break;
	case 4: *(__u32 *)p = (__u32)v; break;
	case 8: *(__u64 *)p = v; break;
	}
}

/* A table's mistakes, caught on its first use (and by the build, which
 * generates the man page through every table) rather than as a write past
 * the command's struct. */
static int opt_check(const struct ig_cmd *c, const struct ig_opt *o)
{
	size_t want = 0;

	switch (o->type) {
	case IG_OPT_BOOL:
	case IG_OPT_ENUM:
		want = sizeof(int);
		break;
	case IG_OPT_STRING:
		want = sizeof(const char *);
		break;
	case IG_OPT_COUNT:
	case IG_OPT_RATE:
	case IG_OPT_PORT:
		want = o->size == 1 || o->size == 2 || o->size == 4 ? o->size : 8;
		break;
	case IG_OPT_CUSTOM:
	case IG_OPT_END:
		break;
	}
	if ((want && (o->size != want || o->off + o->size > c->cfg_size)) ||
	    (!o->name && !o->short_name) || (o->type == IG_OPT_ENUM && !o->values) ||
	    (o->type == IG_OPT_CUSTOM && !o->parse) ||
	    (takes_arg(o) && o->type != IG_OPT_ENUM && !o->metavar)) {
		ig_err("%s: option %s is declared wrong", c->name ? c->name : "infergate",
		       o->name ? o->name : "(short)");
		return -EINVAL;
	}
	return 0;
}

int ig_cmd_check(const struct ig_cmd *c)
{
	int n = 0;

	for (const struct ig_opt *o = c->opts; o && o->type; o++, n++)
		if (n == IG_MAX_OPTS || opt_check(c, o))
			return -EINVAL;
	if (c->complete == IG_COMPLETE_WORDS && (!c->words || c->word_pos < 1)) {
		ig_err("%s: completion words missing", c->name);
		return -EINVAL;
	}
	return 0;
}

static int parse_value(const struct ig_cmd *c, const struct ig_opt *o, const char *arg, void *cfg)
{
	char what[64], vals[256];
	__u64 v = 0;

	if (o->what)
		snprintf(what, sizeof(what), "%s", o->what);
	else if (o->name)
		snprintf(what, sizeof(what), "--%s", o->name);
	else
		snprintf(what, sizeof(what), "-%c", o->short_name);
	switch (o->type) {
	case IG_OPT_BOOL:
		(*(int *)((char *)cfg + o->off))++;
		return 0;
	case IG_OPT_STRING:
		*(const char **)((char *)cfg + o->off) = arg;
		return 0;
	case IG_OPT_ENUM:
		for (int i = 0; o->values[i]; i++)
			if (!strcmp(arg, o->values[i])) {
				store(cfg, o, (__u64)i);
				return 0;
			}
		join_values(o->values, ", ", " or ", vals, sizeof(vals));
		ig_cli_usage(c->name, "invalid %s '%s': expected %s", what, arg, vals);
		return -EINVAL;
	case IG_OPT_COUNT:
		if (ig_parse_count(arg, what, o->min, o->max, &v))
			return -EINVAL;
		break;
	case IG_OPT_RATE:
		/* 0 turns the thing off where .zero allows it */
		if (!(o->zero && (!strcmp(arg, "0") || !strcmp(arg, "0/s"))) && ig_parse_rate(arg, &v))
			return -EINVAL;
		break;
	case IG_OPT_PORT:
		if (!(o->zero && !strcmp(arg, "none")) && ig_parse_count(arg, what, 1, 65535, &v))
			return -EINVAL;
		break;
	case IG_OPT_CUSTOM:
		return o->parse(o, arg, cfg);
	case IG_OPT_END:
		break;
	}
	store(cfg, o, v);
	return 0;
}

int ig_opts_parse(const struct ig_cmd *c, int argc, char **argv, void *cfg, int stop, int *argi)
{
	struct option lo[IG_MAX_OPTS + 2] = {};
	char so[2 * IG_MAX_OPTS + 4], given[IG_MAX_OPTS] = {};
	int n = 0, nl = 0, ns = 0, ch;

	if (stop)
		so[ns++] = '+'; /* the command's options are its own */
	if (ig_cmd_check(c))
		return 2;
	for (const struct ig_opt *o = c->opts; o && o->type; o++, n++) {
		if (o->name)
			lo[nl++] = (struct option){ o->name, takes_arg(o) ? required_argument : no_argument,
						    NULL, LONG_BASE + n };
		if (o->short_name) {
			so[ns++] = o->short_name;
			if (takes_arg(o))
				so[ns++] = ':';
		}
	}
	lo[nl] = (struct option){ "help", no_argument, NULL, 'h' };
	so[ns++] = 'h';
	so[ns] = '\0';

	optind = 0; /* 0, not 1: glibc starts afresh, permuting again */
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		int i = -1;

		if (ch == 'h')
			return 1;
		if (ch >= LONG_BASE) {
			i = ch - LONG_BASE;
		} else {
			for (int k = 0; k < n; k++)
				if (c->opts[k].short_name == ch)
					i = k;
		}
		if (i < 0)
			return 2; /* getopt said what is wrong */
		if (parse_value(c, &c->opts[i], optarg, cfg))
			return 2;
		given[i] = 1;
	}
	for (int i = 0; i < n; i++) {
		char label[160];

		if (!c->opts[i].required || given[i])
			continue;
		opt_usage_name(&c->opts[i], label, sizeof(label));
		return ig_cli_usage(c->name, "%s is required", label);
	}
	*argi = optind;
	return 0;
}

int ig_cmd_run(const struct ig_cmd *c, int argc, char **argv)
{
	void *cfg = calloc(1, c->cfg_size ? c->cfg_size : 1);
	int r, argi = argc;

	if (!cfg) {
		ig_err("out of memory");
		return 1;
	}
	if (c->defaults)
		memcpy(cfg, c->defaults, c->cfg_size);
	r = ig_opts_parse(c, argc, argv, cfg, 0, &argi);
	if (r == 1) {
		ig_cmd_help(c, stdout);
		r = 0;
	} else if (!r && !c->args && argi < argc) {
		r = ig_cli_usage(c->name, "unexpected argument '%s'", argv[argi]);
	} else if (!r) {
		r = c->run(cfg, argc - argi, argv + argi);
	}
	free(cfg);
	return r;
}

const struct ig_cmd *ig_cmd_find(const struct ig_cmd *const *groups, const char *name)
{
	for (; *groups; groups++)
		for (const struct ig_cmd *c = *groups; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}
