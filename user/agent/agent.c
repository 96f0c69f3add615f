// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent as an object: start, step (one pass over every part at a given
 * time), reload, stop; and ig_agent_run(), the driver that steps it on the
 * real clock until a signal. The parts are the table below.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "agent/parts.h"
#include "lib/breakers.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

/* ---------------------------------------------------------------- parts */

static int prober_start(struct ig_agent *a)
{
	int err = ig_prober_init(&a->prober);

	a->prober_ready = !err;
	return err;
}

static void prober_stop(struct ig_agent *a)
{
	if (a->prober_ready)
		ig_prober_free(&a->prober);
	a->prober_ready = 0;
}

static int ctl_start(struct ig_agent *a)
{
	char path[sizeof(a->cfg->control) + 200];

	if (!strcmp(a->cfg->control, "off"))
		return 0;
	if (a->cfg->control[0])
		snprintf(path, sizeof(path), "%s", a->cfg->control);
	else
		ig_ctl_default_path(a->pin_dir, path, sizeof(path));
	return ig_ctl_open(&a->ctl, path);
}

/* First in the step: the clients that spoke during the last wait are
 * answered before a fleet sync can take its ~100 ms. */
static void ctl_step(struct ig_agent *a, __u64 now, int tick)
{
	if (a->ctl)
		ig_ctl_serve(a->ctl, &a->in);
}

static void ctl_stop(struct ig_agent *a)
{
	ig_ctl_close(a->ctl);
	a->ctl = NULL;
}

static int top_start(struct ig_agent *a)
{
	return ig_top_open(&a->top, &a->in);
}

static void top_step(struct ig_agent *a, __u64 now, int tick)
{
	if (!tick)
		return;
	if (ig_top_poll(a->top) < 0)
		ig_warn("cannot read the drop events");
	ig_top_log(a->top, now);
}

static void top_stop(struct ig_agent *a)
{
	ig_top_close(a->top);
	a->top = NULL;
}

static int metrics_start(struct ig_agent *a)
{
	int err;

	if (!a->cfg->metrics_addr[0])
		return 0;
	err = ig_metrics_start(&a->metrics, a->cfg->metrics_addr, &a->in);
	if (!err)
		ig_metrics_set_top(a->metrics, a->top);
	return err;
}

/* Before top's stop: the metrics thread reads the top table. */
static void metrics_stop(struct ig_agent *a)
{
	ig_metrics_stop(a->metrics);
	a->metrics = NULL;
}

/* The config's fleet ports, for the sync. */
static int fleet_ports(struct ig_agent *a, const struct ig_cfg_file *cfg)
{
	struct ig_fleet_port ports[IG_FLEET_MAX_PORTS];
	int n = 0;

	for (int i = 0; i < cfg->nports; i++) {
		const struct ig_cfg_port *p = &cfg->ports[i];

		if (!p->has_limit || !p->fleet_rate)
			continue;
		if (n == IG_FLEET_MAX_PORTS) {
			ig_err("at most %d ports with a fleet_rate", IG_FLEET_MAX_PORTS);
			return -E2BIG;
		}
		ports[n++] = (struct ig_fleet_port){ .port = p->port, .proto = p->proto,
						     .rate = p->fleet_rate, .burst = p->fleet_burst,
						     .algo = IG_POL_ALGO(p->limit.flags) };
	}
	return ig_fleet_set_ports(a->fleet, ports, n);
}

/* What this node publishes for `status --fleet`: its breakers and the sync.
 * Through the JSON writer: the node name and the interface come from the
 * config, and Redis hands them to every reader. */
static char *node_json(struct ig_agent *a)
{
	struct ig_fleet_stats st;
	struct ig_json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	ig_fleet_stats(a->fleet, &st);
	ig_json_init(&j, out, 0);
	ig_json_obj_open(&j);
	ig_json_kstr(&j, "node", a->cfg->cluster.node);
	ig_json_kstr(&j, "interface", a->cfg->ifname);
	ig_json_key(&j, "breakers");
	ig_json_arr_open(&j);
	for (int i = 0; i < a->cfg->nports; i++) {
		const struct ig_cfg_port *p = &a->cfg->ports[i];
		struct ig_health h;
		struct ig_breaker b;

		if (!p->has_breaker || ig_breaker_get(&a->in, p->port, &b) ||
		    ig_health_read(&a->in, p->port, &h))
			continue;
		ig_json_obj_open(&j);
		ig_json_ku64(&j, "port", p->port);
		ig_json_kstr(&j, "state", b.state < IG_BRK_STATE_MAX ? ig_brk_state_name(b.state) : "?");
		ig_json_kbool(&j, "forced", b.force != IG_FORCE_AUTO);
		ig_json_ku64(&j, "http_5xx", h.http[IG_HTTP_5XX]);
		ig_json_ku64(&j, "http_2xx", h.http[IG_HTTP_2XX]);
		ig_json_ku64(&j, "rst", h.rst);
		ig_json_obj_close(&j);
	}
	ig_json_arr_close(&j);
	ig_json_key(&j, "fleet");
	ig_json_obj_open(&j);
	ig_json_kbool(&j, "up", st.up);
	ig_json_ku64(&j, "syncs", st.syncs);
	ig_json_ku64(&j, "blocks", st.blocks);
	ig_json_ku64(&j, "sent_bytes", st.bytes_sent);
	ig_json_obj_close(&j);
	ig_json_obj_close(&j);
	if (fclose(out)) { /* out of memory: nothing rather than half a document */
		free(buf);
		return NULL;
	}
	return buf;
}

static int fleet_start(struct ig_agent *a)
{
	int err;

	if (!a->cfg->has_cluster)
		return 0;
	err = ig_fleet_new(&a->fleet, &a->cfg->cluster);
	return err ? err : fleet_ports(a, a->cfg);
}

static void fleet_step(struct ig_agent *a, __u64 now, int tick)
{
	struct ig_fleet_stats st;
	char *node;

	if (!a->fleet || !tick)
		return;
	node = node_json(a);
	ig_fleet_tick(a->fleet, &a->in, now, node);
	free(node);
	ig_fleet_stats(a->fleet, &st);
	ig_metrics_fleet(a->metrics, &st);
}

static void fleet_reload(struct ig_agent *a, const struct ig_cfg_file *nc)
{
	if (a->fleet && fleet_ports(a, nc))
		ig_err("reload: fleet limits keep the old ports");
}

static void fleet_stop(struct ig_agent *a)
{
	ig_fleet_free(a->fleet);
	a->fleet = NULL;
}

void ig_agent_pid_file(const char *pin_dir, char *buf, size_t len)
{
	if (ig_run_path(pin_dir, ".pid", buf, len))
		buf[0] = '\0';
}

/* Last: the pid file says the agent is up. */
static int pid_start(struct ig_agent *a)
{
	char dir[sizeof(a->pid_path)], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", a->pid_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	f = fopen(a->pid_path, "w");
	if (!f) {
		int err = -errno;

		ig_err("cannot write pid file %s: %s", a->pid_path, strerror(-err));
		return err;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	a->pid_written = 1;
	return 0;
}

static void pid_stop(struct ig_agent *a)
{
	if (a->pid_written)
		unlink(a->pid_path);
	a->pid_written = 0;
}

static const struct ig_agent_part prober_part = {
	.name = "prober", .start = prober_start, .stop = prober_stop,
};
static const struct ig_agent_part ctl_part = {
	.name = "control", .start = ctl_start, .step = ctl_step, .stop = ctl_stop,
};
static const struct ig_agent_part top_part = {
	.name = "top", .start = top_start, .step = top_step, .stop = top_stop,
};
static const struct ig_agent_part metrics_part = {
	.name = "metrics", .start = metrics_start, .stop = metrics_stop,
};
static const struct ig_agent_part fleet_part = {
	.name = "fleet", .start = fleet_start, .step = fleet_step, .reload = fleet_reload,
	.stop = fleet_stop,
};
static const struct ig_agent_part pid_part = {
	.name = "pid file", .start = pid_start, .stop = pid_stop,
};

/*
 * Started in this order, stopped in the reverse; stepped in this order. The
 * maps come first (every part reads them); metrics after top (it serves the
 * top table) and before the breakers (they count into it); the breakers
 * before the fleet (a node publishes their state of this tick); adaptive
 * admission after the breakers (their step drains the finished transfers,
 * its scrapes among them, whose results it reads).
 */
static const struct ig_agent_part *const parts[] = {
	&ig_part_maps, &prober_part, &ctl_part, &top_part, &metrics_part,
	&ig_part_breakers, &ig_part_adaptive, &fleet_part, &pid_part,
};
#define NPARTS ((int)(sizeof(parts) / sizeof(parts[0])))

/* ---------------------------------------------------------------- the object */

static void stop_parts(struct ig_agent *a, int n)
{
	while (n-- > 0)
		if (parts[n]->stop)
			parts[n]->stop(a);
}

int ig_agent_start(struct ig_agent **out, const struct ig_agent_opts *o)
{
	struct ig_agent *a = calloc(1, sizeof(*a));
	char msg[600];
	int err, i;

	if (!a)
		return -ENOMEM;
	a->opts = *o;
	snprintf(a->pin_dir, sizeof(a->pin_dir), "%s", o->pin_dir ? o->pin_dir : "");
	snprintf(a->config_path, sizeof(a->config_path), "%s", o->config_path);
	if (o->pid_file)
		snprintf(a->pid_path, sizeof(a->pid_path), "%s", o->pid_file);
	else
		ig_agent_pid_file(a->pin_dir, a->pid_path, sizeof(a->pid_path));
	a->opts.pin_dir = a->pin_dir;
	a->opts.config_path = a->config_path;
	a->opts.pid_file = a->pid_path;
	a->now = o->now_ms ? o->now_ms : ig_mono_ms();
	a->cfg = calloc(1, sizeof(*a->cfg));
	if (!a->cfg) {
		free(a);
		return -ENOMEM;
	}
	err = ig_config_load(a->config_path, a->cfg, msg, sizeof(msg));
	if (err) {
		ig_err("%s; nothing applied", msg);
		free(a->cfg);
		free(a);
		return err;
	}
	for (i = 0; i < NPARTS; i++) {
		err = parts[i]->start ? parts[i]->start(a) : 0;
		if (err) {
			ig_dbg("agent: %s did not start: %s", parts[i]->name, strerror(-err));
			stop_parts(a, i + 1);
			free(a->cfg);
			free(a);
			return err;
		}
	}
	a->next_tick = a->now;
	ig_info("running on %s: %d port(s), %d breaker(s), tick %llu ms; pid %d in %s",
		a->cfg->ifname, a->cfg->nports, a->nw, (unsigned long long)a->cfg->tick_ms,
		(int)getpid(), a->pid_path);
	*out = a;
	return 0;
}

int ig_agent_step(struct ig_agent *a, __u64 now)
{
	int tick = now >= a->next_tick;

	a->now = now;
	if (tick) {
		a->next_tick += a->cfg->tick_ms;
		if (a->next_tick <= now) /* we fell behind: no burst of catch-up ticks */
			a->next_tick = now + a->cfg->tick_ms;
	}
	for (int i = 0; i < NPARTS; i++)
		if (parts[i]->step)
			parts[i]->step(a, now, tick);
	return (int)(a->next_tick - now);
}

int ig_agent_reload(struct ig_agent *a)
{
	struct ig_cfg_file *nc = calloc(1, sizeof(*nc));
	char msg[600];
	int err;

	if (!nc) {
		ig_err("reload refused: out of memory; nothing changed");
		return -ENOMEM;
	}
	err = ig_config_load(a->config_path, nc, msg, sizeof(msg));
	if (err)
		ig_err("reload refused: %s; nothing changed", msg);
	else
		err = ig_reload_check(a->cfg, nc);
	if (err) {
		free(nc);
		return err;
	}
	nc->attach.ifname = nc->ifname;
	for (int i = 0; i < NPARTS; i++)
		if (parts[i]->reload)
			parts[i]->reload(a, nc);
	ig_info("reload: applied %s (%d port(s), %d breaker(s))", a->config_path, nc->nports, a->nw);
	free(a->cfg);
	a->cfg = nc;
	return 0;
}

int ig_agent_wait(struct ig_agent *a, int timeout_ms)
{
	int fds[IG_PROBER_EXTRA_FDS];
	int nfds = a->ctl ? ig_ctl_fds(a->ctl, fds, IG_PROBER_EXTRA_FDS) : 0;

	if (ig_prober_wait(&a->prober, timeout_ms, fds, nfds)) {
		ig_warn("libcurl failed to run the health probes");
		return -EIO;
	}
	return 0;
}

const struct ig_instance *ig_agent_instance(const struct ig_agent *a)
{
	return &a->in;
}

void ig_agent_stop(struct ig_agent *a)
{
	if (!a)
		return;
	stop_parts(a, NPARTS);
	free(a->cfg);
	free(a);
}

/* ---------------------------------------------------------------- the driver */

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_reload(int sig)
{
	(void)sig;
	reload_signal = 1;
}

int ig_agent_run(const char *pin_dir, const char *config_path, const char *pid_file)
{
	struct ig_agent_opts o = { .pin_dir = pin_dir, .config_path = config_path,
				   .pid_file = pid_file };
	struct ig_agent *a;
	struct sigaction sa;
	int err;

	/* before the start: a signal sent once the pid file or the log says
	 * the agent runs is the agent's to handle */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	/* a peer gone mid-write (Redis, a metrics scraper) is an error return,
	 * not the end of the agent */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	err = ig_agent_start(&a, &o);
	if (err)
		return err;
	ig_notify_ready();
	while (!stop_signal) {
		if (reload_signal) {
			reload_signal = 0;
			ig_notify("RELOADING=1");
			ig_agent_reload(a);
			ig_notify("READY=1");
		}
		ig_agent_wait(a, ig_agent_step(a, ig_mono_ms()));
	}
	ig_notify("STOPPING=1");
	ig_info("stopping on signal %d; the data path keeps running with the pinned state in %s",
		(int)stop_signal, pin_dir);
	ig_agent_stop(a);
	return 0;
}
