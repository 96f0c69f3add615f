// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The control socket's path (user/agent/ctl.c): `control = PATH` replaces a
 * stale socket there, and nothing else: a regular file, or a link to one,
 * at PATH is refused and left as it was, at start and at stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "agent/ctl.h"
#include "harness.h"

static char dir[64], path[96], victim[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ig-ctl-XXXXXX");
	ASSERT_TRUE(mkdtemp(dir) != NULL, "temporary dir");
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	snprintf(victim, sizeof(victim), "%s/precious", dir);
}

static void put_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	ASSERT_TRUE(f != NULL, p);
	fputs(text, f);
	fclose(f);
}

static int holds(const char *p, const char *text)
{
	char buf[64] = "";
	FILE *f = fopen(p, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strcmp(buf, text);
}

static void teardown(void)
{
	unlink(path);
	unlink(victim);
	rmdir(dir);
}

IG_TEST(ctl_control_path_naming_a_regular_file_does_not_delete_it)
{
	struct ig_ctl *ctl = NULL;

	setup();
	put_file(path, "keep me\n");
	ASSERT_EQ(ig_ctl_open(&ctl, path), -EEXIST, "a file at the socket's path is refused");
	ASSERT_TRUE(holds(path, "keep me\n"), "and left as it was");
	teardown();
}

IG_TEST(ctl_control_path_a_symlink_to_a_file_is_not_followed)
{
	struct ig_ctl *ctl = NULL;
	struct stat st;

	setup();
	put_file(victim, "keep me\n");
	ASSERT_OK(symlink(victim, path), "a link at the socket's path");
	ASSERT_EQ(ig_ctl_open(&ctl, path), -EEXIST, "refused");
	ASSERT_OK(lstat(path, &st), "the link is there");
	ASSERT_TRUE(S_ISLNK(st.st_mode), "still a link");
	ASSERT_TRUE(holds(victim, "keep me\n"), "its target as it was");
	teardown();
}

IG_TEST(ctl_stale_socket_is_replaced_and_a_file_swapped_in_survives_the_stop)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ig_ctl *ctl = NULL;
	struct stat st;
	int fd;

	setup();
	/* an agent killed without cleaning up: a socket nobody listens on */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "a stale socket");
	close(fd);
	ASSERT_OK(ig_ctl_open(&ctl, path), "the stale socket is replaced");
	ASSERT_OK(lstat(path, &st), "our socket");
	ASSERT_TRUE(S_ISSOCK(st.st_mode), "a socket");
	/* someone puts a file where our socket was: the stop leaves it */
	ASSERT_OK(unlink(path), "socket gone");
	put_file(path, "keep me\n");
	ig_ctl_close(ctl);
	ASSERT_TRUE(holds(path, "keep me\n"), "the file survives the stop");
	teardown();
}
