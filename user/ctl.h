/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's control socket: a unix stream socket where a gateway or an
 * inference server reports what a request really cost, one line each:
 *     charge SRC PORT[/tcp|/udp] TOKENS\n  ->  ok TOKENS_LEFT\n | error MESSAGE\n
 * (TOKENS_LEFT is the client's balance after the charge; negative: in debt).
 */
#ifndef IG_CTL_H
#define IG_CTL_H

#include <stddef.h>
#include "instance.h"

/* /run/infergate/<pin dir, '/' as '_'>.sock */
void ig_ctl_default_path(const char *pin_dir, char *buf, size_t len);
/* A listening, non-blocking socket at path (a stale one is replaced), mode 0660. */
int ig_ctl_listen(const char *path);
/* Answer every connection waiting on lfd; never blocks for long (a client
 * gets 200 ms to send its lines). */
void ig_ctl_serve(int lfd, const struct ig_instance *in);
/* One request as a client: the reply line (without newline) in reply;
 * -ENOENT / -ECONNREFUSED when no agent listens at path. */
int ig_ctl_request(const char *path, const char *line, char *reply, size_t len);
/* Handle one request line (also what the CLI does without an agent). */
int ig_ctl_handle(const struct ig_instance *in, const char *line, char *reply, size_t len);

#endif
