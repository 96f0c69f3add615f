// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent as an object (user/agent/agent.c) on the loaded data path, its
 * clock in the test's hands: the tick schedule, a breaker driven by the
 * passive counters, and a reload applied as a difference (or refused whole).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "harness.h"
#include "agent/agent.h"
#include "lib/breakers.h"
#include "lib/policy.h"

#define T0 1000000ULL /* the fake clock at start, ms */

static char conf_path[64], pid_path[80];

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");

	ASSERT_TRUE(f != NULL, "config file");
	fputs(text, f);
	fclose(f);
}

static struct ig_agent *start(struct infergate *skel, const char *conf)
{
	struct ig_agent_opts o = { .pin_dir = "/sys/fs/bpf/ig-test-agent", .config_path = conf_path,
				   .pid_file = pid_path, .obj = skel->obj, .now_ms = T0 };
	struct ig_agent *a = NULL;
	int fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/ig-agent-conf-XXXXXX");
	fd = mkstemp(conf_path);
	ASSERT_TRUE(fd >= 0, "temporary config");
	close(fd);
	snprintf(pid_path, sizeof(pid_path), "%s.pid", conf_path);
	write_conf(conf);
	dp_lib_writes();
	ASSERT_OK(ig_agent_start(&a, &o), "start the agent");
	return a;
}

static void stop(struct ig_agent *a)
{
	ig_agent_stop(a);
	ASSERT_NEQ(access(pid_path, F_OK), 0, "the pid file is removed at stop");
	unlink(conf_path);
}

/* The primary's answers so far, as the egress program would have counted them. */
static void health(struct infergate *skel, __u16 port, __u64 ok, __u64 failed)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ig_health *h = calloc((size_t)ncpu, sizeof(*h));
	__u32 key = port;

	ASSERT_TRUE(h != NULL, "memory");
	h[0].http[IG_HTTP_2XX] = ok;
	h[0].http[IG_HTTP_5XX] = failed;
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.health), &key, h, BPF_ANY), "health");
	free(h);
}

static struct ig_breaker breaker(struct ig_agent *a, __u16 port)
{
	struct ig_breaker b;

	ASSERT_OK(ig_breaker_get(ig_agent_instance(a), port, &b), "read the breaker");
	return b;
}

IG_TEST(agent_step_drives_a_breaker_on_a_fake_clock)
{
	struct infergate *skel = dp_load();
	struct ig_agent *a = start(skel, "[agent]\ninterface = lo\ntick = 100ms\nmetrics = off\n"
				   "control = off\n[port 8000/tcp]\nbreaker = on\nwindow = 10s\n"
				   "min_requests = 10\nfailure_rate = 50%\nopen_time = 5s\n"
				   "half_open_probes = 2\n");

	ASSERT_EQ(breaker(a, 8000).flags, IG_BRK_F_ON, "the breaker is made at start");
	ASSERT_EQ(access(pid_path, F_OK), 0, "the pid file is written");
	ASSERT_EQ(ig_agent_step(a, T0), 100, "the first tick at start; the next in 100 ms");
	health(skel, 8000, 0, 20);
	ASSERT_EQ(ig_agent_step(a, T0 + 50), 50, "no tick yet: 50 ms to go");
	ASSERT_EQ(breaker(a, 8000).state, IG_BRK_CLOSED, "counters are read at ticks only");
	ASSERT_EQ(ig_agent_step(a, T0 + 100), 100, "a tick");
	ASSERT_EQ(breaker(a, 8000).state, IG_BRK_OPEN, "20 failures of 20: open");
	ASSERT_EQ(ig_agent_step(a, T0 + 5099), 100, "behind schedule: the next tick 100 ms on");
	ASSERT_EQ(breaker(a, 8000).state, IG_BRK_OPEN, "open for 5 s");
	ASSERT_EQ(ig_agent_step(a, T0 + 5100), 99, "5 s are up, but time is judged at ticks");
	ASSERT_EQ(breaker(a, 8000).state, IG_BRK_OPEN, "still open between ticks");
	ig_agent_step(a, T0 + 5199);
	ASSERT_EQ(breaker(a, 8000).state, IG_BRK_HALF_OPEN, "half-open at the tick");
	ASSERT_EQ(breaker(a, 8000).probes, 2, "with its probe budget");
	health(skel, 8000, 2, 20);
	ASSERT_EQ(ig_agent_step(a, T0 + 60000), 100, "far behind: one tick, no catch-up burst");
	ASSERT_EQ(breaker(a, 8000).state, IG_BRK_CLOSED, "two successes: closed");
	stop(a);
}

static struct ig_policy pol(struct ig_agent *a, enum ig_proto proto, __u16 port)
{
	struct ig_policy p;

	ASSERT_OK(ig_policy_get(ig_agent_instance(a), proto, port, &p), "read a policy");
	return p;
}

IG_TEST(agent_reload_applies_the_difference_or_nothing)
{
	struct infergate *skel = dp_load();
	struct ig_agent *a = start(skel, "[agent]\ninterface = lo\nmetrics = off\ncontrol = off\n"
				   "[port 8000/tcp]\nrate = 10/s\n[port 9000/tcp]\nrate = 5/s\n");
	__u32 slot = pol(a, IG_PROTO_TCP, 8000).slot;

	ASSERT_EQ(pol(a, IG_PROTO_TCP, 8000).rate, 10, "8000 limited");
	ASSERT_GT(pol(a, IG_PROTO_TCP, 9000).slot, 0, "9000 limited");
	write_conf("[agent]\ninterface = lo\nmetrics = off\ncontrol = off\n"
		   "[port 8000/tcp]\nrate = 20/s\nmax_conns = 3\n[port 7000/udp]\nrate = 1/s\n");
	ASSERT_OK(ig_agent_reload(a), "reload");
	ASSERT_EQ(pol(a, IG_PROTO_TCP, 8000).rate, 20, "8000's new rate");
	ASSERT_EQ(pol(a, IG_PROTO_TCP, 8000).slot, slot, "in its slot");
	ASSERT_EQ(pol(a, IG_PROTO_TCP, 8000).flags, IG_POL_F_HIER | IG_POL_F_CONNS,
		  "its new level switched on");
	ASSERT_EQ(pol(a, IG_PROTO_TCP, 9000).slot, 0, "9000 no longer limited");
	ASSERT_EQ(pol(a, IG_PROTO_UDP, 7000).rate, 1, "7000/udp limited");

	write_conf("[agent]\ninterface = eth9\nmetrics = off\ncontrol = off\n"
		   "[port 8000/tcp]\nrate = 30/s\n");
	ASSERT_EQ(ig_agent_reload(a), -EINVAL, "another interface takes a restart");
	write_conf("[agent]\ninterface = lo\n[port 8000/tcp]\nrate = fast\n");
	ASSERT_LT(ig_agent_reload(a), 0, "a bad config is refused");
	ASSERT_EQ(pol(a, IG_PROTO_TCP, 8000).rate, 20, "nothing changed");
	ASSERT_EQ(pol(a, IG_PROTO_UDP, 7000).rate, 1, "nothing changed");
	stop(a);
}
