/* runtime — see runtime.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "advisor_llm.h"
#include "http.h"
#include "ipa.h"
#include "journal.h"
#include "runtime.h"
#include "scheduler.h"

int setup_load(const char *path, bool strict, struct ipad_setup **out, struct diag *d)
{
	struct ipad_setup *su = calloc(1, sizeof(*su));
	struct ipad_config *cfg;
	char err[1024];
	int i;

	*out = NULL;
	if (!su) {
		diag_error(d, "%s: out of memory", path);
		return -ENOMEM;
	}
	cfg = &su->cfg;
	if (config_load(path, cfg, d) == 0)
		ipa_load_targets(cfg, &su->targets, d);
	if (diag_errors(d) == 0) {
		su->clusters = calloc((size_t)cfg->cluster_count + 1, sizeof(*su->clusters));
		if (!su->clusters)
			diag_error(d, "%s: out of memory", path);
		for (i = 0; su->clusters && i < cfg->cluster_count; i++) {
			struct kube_cluster *k = &su->clusters[i];
			const char *name = cfg->clusters[i].name;

			if (kube_cluster_init(k, &cfg->clusters[i], err, sizeof(err)) < 0)
				diag_error(d, "%s", err);
			else if (kube_cluster_load(k, err, sizeof(err)) == 0)
				continue;
			else if (strict)
				diag_error(d, "%s: [cluster %s] kubeconfig: %s",
					   cfg->path, name, err);
			else
				diag_warning(d, "%s: [cluster %s] kubeconfig: %s; "
					     "its targets are held until it loads",
					     cfg->path, name, err);
		}
	}
	/* The advisor's API key, offline: a missing or too open file is said
	 * now rather than in the first decision records. A systemd credential
	 * can only be read under the unit ($CREDENTIALS_DIRECTORY). */
	if (diag_errors(d) == 0 && (cfg->advisor_key_file ||
				    (cfg->advisor_key_credential && getenv("CREDENTIALS_DIRECTORY")))) {
		char *key = NULL;

		if (llm_key_load(cfg, &key, err, sizeof(err)) < 0) {
			if (strict)
				diag_error(d, "%s: [advisor] %s", cfg->path, err);
			else
				diag_warning(d, "%s: [advisor] %s; until it is fixed the "
					     "fallback decides", cfg->path, err);
		}
		llm_key_free(key);
	}
	if (diag_errors(d) > 0) {
		setup_free(su);
		return -EINVAL;
	}
	*out = su;
	return 0;
}

void setup_free(struct ipad_setup *su)
{
	int i;

	if (!su)
		return;
	for (i = 0; su->clusters && i < su->cfg.cluster_count; i++)
		kube_cluster_free(&su->clusters[i]);
	free(su->clusters);
	target_list_free(&su->targets);
	config_free(&su->cfg);
	free(su);
}

char *setup_summary(const struct ipad_setup *su, char *buf, size_t len)
{
	snprintf(buf, len, "%zu target%s, %d cluster%s, advisor %s", su->targets.count,
		 su->targets.count == 1 ? "" : "s", su->cfg.cluster_count,
		 su->cfg.cluster_count == 1 ? "" : "s", advisor_type_name(su->cfg.advisor));
	return buf;
}

/* Set from the main thread only; read by the workers and libcurl. */
static volatile sig_atomic_t stop_requested;

struct runtime {
	const struct runtime_options *opt;
	struct ipad_setup *su;
	struct scheduler *s;
	pthread_t main_thread;
	/* the cycle in progress */
	pthread_t cycle_thread;
	bool cycle_running;
	atomic_bool cycle_done;
	double cycle_started;    /* monotonic s */
	struct cycle_stats stats;
	/* for STATUS= */
	bool have_stats;         /* a cycle has finished */
	char last_error[300];    /* a failed reload, or the last failed target */
	bool reload_pending;
	/* watchdog */
	double watchdog_s;       /* WatchdogSec, 0 when off */
	double last_ping;
	unsigned long pinged_records;
	bool stall_reported;
};

static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool dry_run(const struct runtime *rt)
{
	return rt->opt->dry_run || rt->su->cfg.dry_run;
}

static double interval_s(const struct runtime *rt)
{
	return (double)rt->su->cfg.interval_ms / 1000.0;
}

/* Send state ("READY=1", "RELOADING=1\n...", or "") with the status line. */
static void notify(struct runtime *rt, const char *state)
{
	char status[600], what[120], *p;
	size_t n;

	n = (size_t)snprintf(status, sizeof(status), "%s%s; ", setup_summary(rt->su, what, sizeof(what)),
			     dry_run(rt) ? " (dry run)" : "");
	if (n < sizeof(status)) {
		if (rt->reload_pending)
			n += (size_t)snprintf(status + n, sizeof(status) - n,
					      "reload waits for the cycle to end");
		else if (rt->have_stats)
			n += (size_t)snprintf(status + n, sizeof(status) - n,
					      "last cycle %.1f s: %zu changed, %zu failed",
					      rt->stats.seconds, rt->stats.changed,
					      rt->stats.failures);
		else
			n += (size_t)snprintf(status + n, sizeof(status) - n,
					      "first cycle running");
	}
	if (n < sizeof(status) && rt->last_error[0])
		snprintf(status + n, sizeof(status) - n, "; last error: %s", rt->last_error);
	for (p = status; *p; p++)    /* one line */
		if (*p == '\n')
			*p = ' ';
	sd_notifyf(0, "%s%sSTATUS=%s", state, state[0] ? "\n" : "", status);
}

/* WATCHDOG=1 every half WatchdogSec while the work progresses (runtime.h). */
static void watchdog(struct runtime *rt, double now)
{
	unsigned long records;
	double ran;

	if (rt->watchdog_s <= 0 || now - rt->last_ping < rt->watchdog_s / 2)
		return;
	records = journal_decision_count();
	ran = now - rt->cycle_started;
	if (rt->cycle_running && ran > 2 * interval_s(rt) && records == rt->pinged_records) {
		if (!rt->stall_reported) {
			rt->stall_reported = true;
			snprintf(rt->last_error, sizeof(rt->last_error),
				 "the cycle has run for %.0f s without finishing a target",
				 ran);
			journal_message(3, IPAD_MESSAGE_STALLED,
					"the cycle has run for %.0f s, twice the interval, and no "
					"target finished since the last check: watchdog pings stop "
					"until one does", ran);
			notify(rt, "");
		}
		return;
	}
	sd_notify(0, "WATCHDOG=1");
	rt->last_ping = now;
	rt->pinged_records = records;
}

static void *cycle_main(void *arg)
{
	struct runtime *rt = arg;

	scheduler_run_cycle(rt->s, &rt->stats);
	atomic_store(&rt->cycle_done, true);
	pthread_kill(rt->main_thread, SIGUSR1);  /* wake the main loop */
	return NULL;
}

static void start_cycle(struct runtime *rt, double now)
{
	rt->cycle_started = now;
	rt->cycle_running = true;
	rt->stall_reported = false;
	atomic_store(&rt->cycle_done, false);
	if (pthread_create(&rt->cycle_thread, NULL, cycle_main, rt) != 0) {
		/* no thread: run it here (no watchdog pings meanwhile) */
		cycle_main(rt);
		rt->cycle_thread = pthread_self();
	}
}

static void end_cycle(struct runtime *rt)
{
	char failure[sizeof(rt->last_error)];

	if (!pthread_equal(rt->cycle_thread, pthread_self()))
		pthread_join(rt->cycle_thread, NULL);
	rt->cycle_running = false;
	rt->have_stats = true;
	if (rt->stats.failures > 0) {
		journal_last_failure(failure, sizeof(failure));
		snprintf(rt->last_error, sizeof(rt->last_error), "%s", failure);
	}
	notify(rt, "");
}

/* The problems of d in one text, one per line. malloc'd or NULL. */
static char *problems(const struct diag *d)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (i = 0; i < d->count; i++)
		fprintf(f, "%s%s%s", i ? "\n" : "",
			d->is_warning && d->is_warning[i] ? "warning: " : "", d->messages[i]);
	fclose(f);
	return text;
}

/* Between cycles: load and validate the whole configuration again, then
 * put it in place of the running one, or keep the running one. */
static void reload(struct runtime *rt)
{
	struct ipad_setup *next = NULL;
	struct scheduler *s = NULL;
	struct diag d = { 0 };
	char err[512], what[120], *text;

	rt->reload_pending = false;
	if (setup_load(rt->opt->config, true, &next, &d) == 0) {
		s = scheduler_new(&next->cfg, &next->targets, next->clusters,
				  next->cfg.cluster_count, rt->opt->dry_run || next->cfg.dry_run,
				  &stop_requested, err, sizeof(err));
		if (!s)
			diag_error(&d, "%s", err);
	}
	text = problems(&d);
	if (!s) {
		size_t errors = diag_errors(&d);
		size_t i;

		for (i = 0; i < d.count && d.is_warning && d.is_warning[i]; i++)
			;
		snprintf(rt->last_error, sizeof(rt->last_error),
			 "reload failed, the previous configuration runs: %s%s",
			 i < d.count ? d.messages[i] : "out of memory",
			 errors > 1 ? " (and more)" : "");
		journal_message(3, IPAD_MESSAGE_RELOAD_FAILED,
				"reloading %s failed with %zu error%s; the previous configuration "
				"keeps running:\n%s", rt->opt->config, errors,
				errors == 1 ? "" : "s", text ? text : "out of memory");
		setup_free(next);
	} else {
		scheduler_free(rt->s);
		setup_free(rt->su);
		rt->s = s;
		rt->su = next;
		rt->last_error[0] = '\0';
		journal_open(next->cfg.log_target, next->cfg.log_format);
		journal_message(6, IPAD_MESSAGE_RELOADED, "configuration reloaded from %s: %s, "
				"interval %llds%s%s%s", rt->opt->config,
				setup_summary(next, what, sizeof(what)),
				(long long)(next->cfg.interval_ms / 1000),
				dry_run(rt) ? ", dry run" : "", d.count ? "\n" : "",
				d.count && text ? text : "");
	}
	free(text);
	diag_free(&d);
	notify(rt, "READY=1");
}

/* Wait for a signal at most timeout seconds; act on it. */
static void wait_signal(struct runtime *rt, const sigset_t *set, double timeout)
{
	struct timespec ts;
	char when[64];
	int sig;

	if (timeout < 0.001)
		timeout = 0.001;
	ts.tv_sec = (time_t)timeout;
	ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
	sig = sigtimedwait(set, NULL, &ts);
	if ((sig == SIGTERM || sig == SIGINT) && !stop_requested) {
		stop_requested = 1;
		sd_notify(0, "STOPPING=1\nSTATUS=stopping");
		journal_lifecycle(6, "ipad stopping on %s%s", sig == SIGTERM ? "SIGTERM" : "SIGINT",
				  rt->cycle_running ? "; the cycle in progress is abandoned "
				  "between steps, nothing is half applied" : "");
	} else if (sig == SIGHUP && !rt->opt->once && !stop_requested) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		rt->reload_pending = true;
		snprintf(when, sizeof(when), "RELOADING=1\nMONOTONIC_USEC=%llu",
			 (unsigned long long)now.tv_sec * 1000000ULL +
			 (unsigned long long)now.tv_nsec / 1000ULL);
		notify(rt, when);
	}
}

int runtime_run(const struct runtime_options *opt, struct ipad_setup *su)
{
	struct runtime rt = { .opt = opt, .su = su, .main_thread = pthread_self() };
	uint64_t watchdog_usec = 0;
	sigset_t set;
	double next_start, now;
	char err[512], what[120];

	/* Every thread started from here on inherits the blocked set; the
	 * main thread takes these signals with sigtimedwait(). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	http_set_cancel_flag(&stop_requested);

	journal_open(su->cfg.log_target, su->cfg.log_format);
	rt.s = scheduler_new(&su->cfg, &su->targets, su->clusters, su->cfg.cluster_count,
			     dry_run(&rt), &stop_requested, err, sizeof(err));
	if (!rt.s) {
		fprintf(stderr, "ipad: %s\n", err);
		setup_free(rt.su);
		return EX_OSERR;
	}
	if (sd_watchdog_enabled(0, &watchdog_usec) > 0)
		rt.watchdog_s = (double)watchdog_usec / 1e6;
	journal_lifecycle(6, "ipad %s started: %s, interval %llds%s%s", PACKAGE_VERSION,
			  setup_summary(su, what, sizeof(what)),
			  (long long)(su->cfg.interval_ms / 1000), dry_run(&rt) ? ", dry run" : "",
			  rt.watchdog_s > 0 ? ", watchdog on" : "");
	notify(&rt, "READY=1");

	next_start = monotonic_s();
	for (;;) {
		double timeout = 3600;

		now = monotonic_s();
		if (rt.cycle_running && atomic_load(&rt.cycle_done)) {
			end_cycle(&rt);
			if (opt->once)
				break;
		}
		if (stop_requested && !rt.cycle_running)
			break;
		if (rt.reload_pending && !rt.cycle_running) {
			reload(&rt);
			if (rt.have_stats)  /* the new interval counts */
				next_start = rt.cycle_started + interval_s(&rt);
		}
		if (!rt.cycle_running && !stop_requested && now >= next_start) {
			start_cycle(&rt, now);
			next_start = now + interval_s(&rt);
		}
		watchdog(&rt, now);
		if (!rt.cycle_running)
			timeout = next_start - now;
		if (rt.watchdog_s > 0 && rt.last_ping + rt.watchdog_s / 2 - now < timeout)
			timeout = rt.last_ping + rt.watchdog_s / 2 - now;
		if (rt.cycle_running && atomic_load(&rt.cycle_done))
			timeout = 0;
		wait_signal(&rt, &set, timeout);
	}
	if (!stop_requested)
		sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	journal_lifecycle(6, "ipad stopped%s", stop_requested ? " on signal" : "");
	scheduler_free(rt.s);
	setup_free(rt.su);
	return opt->once && rt.stats.failures > 0 ? EX_TEMPFAIL : EX_OK;
}
