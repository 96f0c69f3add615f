// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
/* The agent's control socket: see ctl.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "agent/ctl.h"
#include "lib/util.h"
#include "lib/args.h"
#include "lib/tokens.h"
#include "lib/log.h"

/* connections taken from the backlog per call: a connect flood waits there,
 * and the agent's loop goes round in between */
#define IG_CTL_ACCEPTS 64

struct ctl_client {
	int fd; /* -1: free */
	size_t have;
	__u64 last_ms; /* the last byte received (or the accept) */
	char buf[IG_CTL_LINE];
};

struct ig_ctl {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client c[IG_CTL_CLIENTS];
};

void ig_ctl_default_path(const char *pin_dir, char *buf, size_t len)
{
	if (ig_run_path(pin_dir, ".sock", buf, len))
		buf[0] = '\0';
}

static int ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return 0;
}

/* Only a socket is ours to remove: `control = PATH` naming a file (or a link
 * to one), or a file put where our socket was, must not cost that file.
 * 0: nothing is at path now; -EEXIST: something that is not a socket. */
static int remove_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	unlink(path);
	return 0;
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, err;

	err = ctl_addr(path, &sa);
	if (err) {
		ig_err("control socket path too long: %s", path);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		ig_err("cannot open control socket %s: %s", path, strerror(-err));
		return err;
	}
	/* a socket left by an agent that was killed: nobody answers on it */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ig_err("control socket %s: another agent answers there", path);
		close(fd);
		return -EADDRINUSE;
	}
	if (remove_socket(path)) {
		ig_err("control socket %s: something else is there (not a socket); refusing to "
		       "replace it: remove it or choose another path", path);
		close(fd);
		return -EEXIST;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0660) || listen(fd, 64)) {
		err = -errno;
		ig_err("cannot listen on control socket %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int ig_ctl_open(struct ig_ctl **out, const char *path)
{
	struct ig_ctl *ctl = calloc(1, sizeof(*ctl));
	int fd;

	if (!ctl)
		return -ENOMEM;
	fd = ctl_listen(path);
	if (fd < 0) {
		free(ctl);
		return fd;
	}
	ctl->lfd = fd;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	for (int i = 0; i < IG_CTL_CLIENTS; i++)
		ctl->c[i].fd = -1;
	*out = ctl;
	return 0;
}

void ig_ctl_close(struct ig_ctl *ctl)
{
	if (!ctl)
		return;
	for (int i = 0; i < IG_CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0)
			close(ctl->c[i].fd);
	close(ctl->lfd);
	remove_socket(ctl->path);
	free(ctl);
}

int ig_ctl_fds(const struct ig_ctl *ctl, int *fds, int max)
{
	int n = 0;

	if (max > 0)
		fds[n++] = ctl->lfd;
	for (int i = 0; i < IG_CTL_CLIENTS && n < max; i++)
		if (ctl->c[i].fd >= 0)
			fds[n++] = ctl->c[i].fd;
	return n;
}

int ig_ctl_handle(const struct ig_instance *in, const char *line, char *reply, size_t len)
{
	char verb[16], src[64], portspec[32], extra[2], m[256];
	unsigned long long tokens;
	enum ig_proto proto;
	long long left;
	int given, err;
	__u16 port;

	if (sscanf(line, "%15s %63s %31s %llu %1s", verb, src, portspec, &tokens, extra) != 4 ||
	    strcmp(verb, "charge")) {
		snprintf(reply, len, "error expected: charge SRC PORT[/tcp|/udp] TOKENS");
		return -EINVAL;
	}
	ig_args_capture(m, sizeof(m));
	err = ig_parse_port_spec(portspec, &port, &proto, &given);
	ig_args_capture(NULL, 0);
	if (err) {
		snprintf(reply, len, "error %s", m);
		return -EINVAL;
	}
	err = ig_tokens_charge(in, src, proto, port, tokens, &left);
	if (err == -EINVAL)
		snprintf(reply, len, "error invalid source address '%s'", src);
	else if (err == -ENOENT)
		snprintf(reply, len, "error %u/%s has no token budget", port, ig_proto_name(proto));
	else if (err)
		snprintf(reply, len, "error %s", strerror(-err));
	else
		snprintf(reply, len, "ok %lld", left);
	return err;
}

/* Best effort, never waits: a client whose socket buffer is full (it does not
 * read its answers) is done with. */
static int client_say(int fd, const char *msg)
{
	size_t len = strlen(msg);

	return send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EAGAIN;
}

static void client_drop(struct ctl_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->have = 0;
}

/* One read of what fits (so every client gets its turn), then every complete
 * line answered. */
static void client_serve(struct ctl_client *c, const struct ig_instance *in, __u64 now)
{
	char reply[IG_CTL_LINE + 32], *nl;
	int eof = 0;
	ssize_t n;

	n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
	if (n > 0) {
		c->have += (size_t)n;
		c->last_ms = now;
	} else if (n == 0) {
		eof = 1;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		goto drop;
	}
	while ((nl = memchr(c->buf, '\n', c->have))) {
		*nl = '\0';
		ig_ctl_handle(in, c->buf, reply, sizeof(reply) - 1);
		strcat(reply, "\n");
		if (client_say(c->fd, reply))
			goto drop;
		c->have -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->have);
	}
	if (c->have == sizeof(c->buf)) {
		char junk[4096];

		client_say(c->fd, "error line too long\n");
		/* closed with unread bytes, a unix socket resets the peer before
		 * it can read the answer: take what is there already */
		(void)!read(c->fd, junk, sizeof(junk));
		goto drop;
	}
	/* a line cut off by EOF is no request */
	if (eof || now - c->last_ms > IG_CTL_IDLE_MS)
		goto drop;
	return;
drop:
	client_drop(c);
}

void ig_ctl_serve(struct ig_ctl *ctl, const struct ig_instance *in)
{
	__u64 now = ig_mono_ms();

	for (int k = 0; k < IG_CTL_ACCEPTS; k++) {
		struct ctl_client *c = NULL;
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break; /* EAGAIN: nobody else waiting */
		for (int i = 0; i < IG_CTL_CLIENTS && !c; i++)
			if (ctl->c[i].fd < 0)
				c = &ctl->c[i];
		if (!c) {
			client_say(fd, "error busy\n");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->have = 0;
		c->last_ms = now;
	}
	for (int i = 0; i < IG_CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0)
			client_serve(&ctl->c[i], in, now);
}

int ig_ctl_request(const char *path, const char *line, char *reply, size_t len)
{
	struct timeval tv = { 2, 0 };
	struct sockaddr_un sa;
	size_t have = 0;
	int fd, err;
	ssize_t n;

	err = ctl_addr(path, &sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	/* MSG_NOSIGNAL: an agent that hung up (busy) is an error, not SIGPIPE */
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	shutdown(fd, SHUT_WR);
	while (have + 1 < len && (n = read(fd, reply + have, len - have - 1)) > 0)
		have += (size_t)n;
	close(fd);
	reply[have] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	/* nothing within the timeout, or closed unanswered */
	if (!have)
		return -ETIMEDOUT;
	return 0;
}
