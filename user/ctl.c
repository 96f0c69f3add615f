// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
/* The agent's control socket: see ctl.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "ctl.h"
#include "args.h"
#include "levels.h"
#include "log.h"

#define IG_CTL_LINE 256
#define IG_CTL_MAX_LINES 64
#define IG_CTL_TIMEOUT_MS 200

void ig_ctl_default_path(const char *pin_dir, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "/run/infergate/");

	while (*pin_dir == '/')
		pin_dir++;
	for (; *pin_dir && n + 6 < len; pin_dir++)
		buf[n++] = *pin_dir == '/' ? '_' : *pin_dir;
	snprintf(buf + n, len - n, ".sock");
}

static int ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		ig_err("control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return 0;
}

int ig_ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, err;

	err = ctl_addr(path, &sa);
	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a socket left by an agent that was killed: nobody answers on it */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ig_err("control socket %s: another agent answers there", path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0660) || listen(fd, 64)) {
		err = -errno;
		ig_err("cannot listen on control socket %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
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

static void serve_one(int fd, const struct ig_instance *in)
{
	struct timeval tv = { 0, IG_CTL_TIMEOUT_MS * 1000 };
	char buf[IG_CTL_LINE * 2], reply[IG_CTL_LINE + 32];
	size_t have = 0;
	int lines = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (lines < IG_CTL_MAX_LINES) {
		char *nl = memchr(buf, '\n', have);
		ssize_t n;

		if (!nl) {
			if (have >= IG_CTL_LINE) {
				static const char e[] = "error line too long\n";

				(void)!write(fd, e, sizeof(e) - 1);
				return;
			}
			n = read(fd, buf + have, sizeof(buf) - have);
			if (n <= 0)
				return; /* EOF, timeout, error: done with this client */
			have += (size_t)n;
			continue;
		}
		*nl = '\0';
		ig_ctl_handle(in, buf, reply, sizeof(reply) - 1);
		strcat(reply, "\n");
		if (write(fd, reply, strlen(reply)) < 0)
			return;
		lines++;
		have -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, have);
	}
}

void ig_ctl_serve(int lfd, const struct ig_instance *in)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN: nobody else waiting */
		/* the accepted socket is blocking, with timeouts */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		serve_one(fd, in);
		close(fd);
	}
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
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
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
	if (!have) {
		ig_err("control socket %s: no answer", path);
		return -EIO;
	}
	return 0;
}
