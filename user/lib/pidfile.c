// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/pidfile.h"

int ig_pidfile_read(const char *path, pid_t *pid)
{
	char line[32];
	long v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f))
		v = strtol(line, NULL, 10);
	fclose(f);
	if (v <= 1 || v > 0x7fffffff)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

/* Global options come before the command (main.c): skip them, and the value
 * of the one that takes one, to find it. */
static int runs_agent(const char *args, size_t n)
{
	const char *a = args, *end = args + n, *base = strrchr(args, '/');

	if (strcmp(base ? base + 1 : args, "infergate"))
		return 0;
	for (a += strlen(a) + 1; a < end; a += strlen(a) + 1) {
		if (!strcmp(a, "--pin-dir")) {
			a += strlen(a) + 1;
			continue;
		}
		if (a[0] != '-')
			return !strcmp(a, "run");
	}
	return 0;
}

int ig_pid_is_agent(pid_t pid, char *cmd, size_t len)
{
	char path[64], args[4096];
	ssize_t n;
	int fd;

	if (len)
		cmd[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, args, sizeof(args) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH; /* a zombie, or a kernel thread: no agent either way */
	args[n] = '\0';
	for (ssize_t i = 0; i < n - 1 && (size_t)i + 1 < len; i++)
		cmd[i] = args[i] ? args[i] : ' ';
	if (len)
		cmd[(size_t)n - 1 < len ? (size_t)n - 1 : len - 1] = '\0';
	return runs_agent(args, (size_t)n) ? 0 : -EPERM;
}
