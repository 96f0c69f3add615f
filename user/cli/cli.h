/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The command line's tables. A command declares each option once, in a table
 * of struct ig_opt that names a field of the command's own struct; from that
 * one table come the parser (one getopt_long driver for every command), the
 * --help text, the man page's option lists and bash completion. A file per
 * noun (attach.c, limit.c, ...) exports its commands as an array of struct
 * ig_cmd; main.c lists those arrays.
 *
 * Adding an option: one IG_OPT() line in the command's table and a field in
 * its struct; the help, the man page and completion follow.
 */
#ifndef IG_CLI_H
#define IG_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "lib/instance.h"

enum ig_opt_type {
	IG_OPT_END = 0,
	IG_OPT_BOOL,   /* no argument; an int field, incremented (so -vv counts) */
	IG_OPT_STRING, /* const char * field: the argument itself */
	IG_OPT_ENUM,   /* int field: the index of the argument in .values */
	IG_OPT_COUNT,  /* integer field: a whole number in [.min, .max], k/M/G suffix */
	IG_OPT_RATE,   /* integer field: N/s; with .zero, 0 (off) too */
	IG_OPT_PORT,   /* integer field: 1..65535; with .zero, the word "none" is 0 */
	IG_OPT_CUSTOM, /* .parse() reads it */
};

/* What bash completes a value with. */
enum ig_complete {
	IG_COMPLETE_NONE = 0,
	IG_COMPLETE_FILE,
	IG_COMPLETE_DIR,
	IG_COMPLETE_IFACE,        /* network interfaces */
	IG_COMPLETE_LIMITED_PORT, /* the ports the instance limits */
	IG_COMPLETE_WORDS,        /* the command's .words */
};

struct ig_opt {
	const char *name;          /* long name without the dashes; NULL: short only */
	char short_name;           /* 0: long only */
	enum ig_opt_type type;
	size_t off, size;          /* the field in the command's struct (IG_OPT fills them) */
	const char *metavar;       /* the argument as help shows it (ENUM: its values) */
	const char *help;          /* lines split by \n; help indents the ones after the first */
	const char *heading;       /* a title printed before this option (a group of them) */
	const char *what;          /* value errors say "invalid WHAT '...'" (default: --name) */
	const char *const *values; /* ENUM: the words, NULL-terminated; the index is stored */
	__u64 min, max;            /* COUNT */
	int zero;                  /* RATE: 0 is a value; PORT: "none" is 0 */
	int required;
	int detail;                /* left out of the one-line usage (help lists it) */
	enum ig_complete complete; /* STRING: FILE or DIR */
	/* CUSTOM: parse arg into cfg; -errno after logging why */
	int (*parse)(const struct ig_opt *o, const char *arg, void *cfg);
};

#define IG_OPT(_name, _type, _cfg, _field, ...)                                              \
	{ .name = (_name), .type = (_type), .off = offsetof(_cfg, _field),                  \
	  .size = sizeof(((_cfg *)0)->_field), __VA_ARGS__ }

struct ig_cmd {
	const char *name;
	/* cfg: the command's struct, filled from the options; argv: the
	 * positional arguments. Returns the exit code: 0, 1 failed, 2 usage. */
	int (*run)(const void *cfg, int argc, char **argv);
	const struct ig_opt *opts; /* ends with {}; NULL: none (--help is always there) */
	size_t cfg_size;
	const void *defaults;      /* the struct before parsing; NULL: zeroes */
	const char *args;          /* positional arguments in the usage line; NULL: none taken */
	enum ig_complete complete; /* what the positional arguments are */
	const char *const *words;  /* IG_COMPLETE_WORDS: the choices for argument .word_pos */
	int word_pos;              /* 1-based */
	const char *doc;           /* what it does: --help and the man page print the same */
	int hidden;                /* not in the help, the man page or completion */
};

#define IG_CMD(_name, _run, _opts, _cfg, ...)                                                \
	{ .name = (_name), .run = (_run), .opts = (_opts), .cfg_size = sizeof(_cfg), __VA_ARGS__ }

/* The instance every command works on (--pin-dir). */
extern const char *ig_cli_pin_dir;

/* Parse argv[1..] into cfg. stop: stop at the first argument that is not an
 * option (the global options before a command). 0 with *argi at the first
 * positional argument; 1 for --help (nothing printed); 2 after printing
 * a usage error. */
int ig_opts_parse(const struct ig_cmd *c, int argc, char **argv, void *cfg, int stop, int *argi);

/* -EINVAL (logged) when a table is wrong: a field of the wrong size for its
 * type, an enum without values, more options than the parser holds. */
int ig_cmd_check(const struct ig_cmd *c);
/* Run a command on argv (argv[0] is its name): parse, then c->run(). */
int ig_cmd_run(const struct ig_cmd *c, int argc, char **argv);
/* Find a command by name in NULL-terminated groups of {}-terminated arrays. */
const struct ig_cmd *ig_cmd_find(const struct ig_cmd *const *groups, const char *name);

/* "IFACE [--hook xdp|tc] ...": arguments and options on one line. */
void ig_cmd_synopsis(const struct ig_cmd *c, char *buf, size_t len);
/* An option's name as help shows it: "--rate N/s", "-n N", "-v, --verbose". */
void ig_opt_label(const struct ig_opt *o, char *buf, size_t len);
void ig_cmd_help(const struct ig_cmd *c, FILE *out);
/* Options as help lists them, two columns. */
void ig_opts_help(const struct ig_opt *opts, FILE *out);

/* "infergate CMD: <msg> (see 'infergate CMD --help')" on stderr; returns 2. */
int ig_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runtime failures exit 1; the message was logged where it happened. */
static inline int ig_cli_exit(int err)
{
	return err ? 1 : 0;
}
/* Check the environment (root, bpffs) and open the instance; what failed is
 * logged. */
int ig_cli_open(struct ig_instance *in);

/* Generated from the tables: the man page infergate(8) and the bash
 * completion script. global: the global options (a command without a name).
 * The man page checks every table first (-EINVAL): the build runs it. */
int ig_cli_man(const struct ig_cmd *global, const struct ig_cmd *const *groups, FILE *out);
void ig_cli_completion(const struct ig_cmd *global, const struct ig_cmd *const *groups,
		       FILE *out);
/* The ports the instance limits, one a line ("8000/tcp"): what completion
 * offers for unlimit. Returns the exit code. */
int ig_cli_limited_ports(FILE *out);

/* The command arrays of each noun's file. */
extern const struct ig_cmd ig_attach_cmds[];
extern const struct ig_cmd ig_limit_cmds[];
extern const struct ig_cmd ig_tier_cmds[];
extern const struct ig_cmd ig_key_cmds[];
extern const struct ig_cmd ig_breaker_cmds[];
extern const struct ig_cmd ig_status_cmds[];
extern const struct ig_cmd ig_agent_cmds[];
extern const struct ig_cmd ig_check_cmds[];

/* Breakers as JSON (status and breaker print the same objects). */
struct ig_json;
int ig_cli_breakers_json(const struct ig_instance *in, struct ig_json *j);

#endif
