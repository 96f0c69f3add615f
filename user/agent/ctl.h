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
#include "lib/instance.h"

/* /run/infergate/<pin dir, '/' as '_'>.sock */
void ig_ctl_default_path(const char *pin_dir, char *buf, size_t len);
/*
 * The agent's side: a listening socket at path (a stale one is replaced, mode
 * 0660) and its clients, all non-blocking. A client is closed after a line
 * longer than IG_CTL_LINE, when it does not read its answers, or after
 * IG_CTL_IDLE_MS without a byte; beyond IG_CTL_CLIENTS at once, a new one is
 * told "error busy". Nothing here ever waits: a slow client costs the agent's
 * loop nothing but a read() that returns EAGAIN.
 */
#define IG_CTL_LINE 256
#define IG_CTL_CLIENTS 16
#define IG_CTL_IDLE_MS 5000
struct ig_ctl;
int ig_ctl_open(struct ig_ctl **ctl, const char *path);
/* Closes every client and the socket, and removes path. NULL: no-op. */
void ig_ctl_close(struct ig_ctl *ctl);
/* The fds to wait on for input (at most 1 + IG_CTL_CLIENTS); their number. */
int ig_ctl_fds(const struct ig_ctl *ctl, int *fds, int max);
/* Accept, read and answer what is there; call after every wait. */
void ig_ctl_serve(struct ig_ctl *ctl, const struct ig_instance *in);
/* One request as a client: the reply line (without newline) in reply;
 * -ENOENT / -ECONNREFUSED when no agent listens at path, -ETIMEDOUT when it
 * does not answer within 2 s. Silent: the caller says what failed. */
int ig_ctl_request(const char *path, const char *line, char *reply, size_t len);
/* Handle one request line (also what the CLI does without an agent). */
int ig_ctl_handle(const struct ig_instance *in, const char *line, char *reply, size_t len);

#endif
