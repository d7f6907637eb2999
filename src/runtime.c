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
#include "informer.h"
#include "ipa.h"
#include "journal.h"
#include "lease.h"
#include "registry.h"
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

char *setup_summary(const struct ipad_setup *su, const struct target_list *targets,
		    char *buf, size_t len)
{
	size_t n = targets ? targets->count : su->targets.count;
	int watched = 0;

	for (int i = 0; i < su->cfg.cluster_count; i++)
		watched += su->cfg.clusters[i].watch_ipas;
	if (watched)
		snprintf(buf, len, "%zu target%s%s, %d cluster%s (IPA objects watched in %d), "
			 "advisor %s", n, n == 1 ? "" : "s", targets ? "" : " in files",
			 su->cfg.cluster_count,
			 su->cfg.cluster_count == 1 ? "" : "s", watched,
			 advisor_type_name(su->cfg.advisor));
	else
		snprintf(buf, len, "%zu target%s, %d cluster%s, advisor %s", n,
			 n == 1 ? "" : "s", su->cfg.cluster_count,
			 su->cfg.cluster_count == 1 ? "" : "s",
			 advisor_type_name(su->cfg.advisor));
	return buf;
}

/* What the registry made of the files and the watched IPA objects: the
 * targets and the IPA objects with errors. On the heap, so that it stays
 * where the scheduler that borrows it looks. */
struct built {
	struct target_list targets;
	struct registry_rejections rejected;
};

/* Set from the main thread only; read by the workers and libcurl. */
static volatile sig_atomic_t stop_requested;

struct runtime {
	const struct runtime_options *opt;
	struct ipad_setup *su;
	struct scheduler *s;
	struct lease_elector **electors; /* leader election: per cluster of su
					    (NULL entries did not start), or
					    NULL when off */
	int elector_count;
	/* The targets the scheduler runs: su's files and the IPA objects of
	 * the watched clusters, rebuilt when an informer saw a change. */
	struct built *built;          /* the scheduler borrows it */
	struct informer **informers;  /* per cluster of su; NULL: not watched */
	unsigned long *built_from;    /* informer versions of targets */
	struct registry *registry;
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

/* How long start-up and reload wait for the first list of the watched
 * IPA objects; after it the targets join when they are listed. */
#define WATCH_SYNC_WAIT_MS 10000

/* Start an informer for each cluster of su that watches IPA objects and
 * wait (at most WATCH_SYNC_WAIT_MS in all) for their first lists. NULL
 * only when out of memory. */
static struct informer **watch_start(struct ipad_setup *su)
{
	struct informer **inf = calloc((size_t)su->cfg.cluster_count + 1, sizeof(*inf));
	double deadline = monotonic_s() + WATCH_SYNC_WAIT_MS / 1000.0;
	char err[512];
	int i;

	if (!inf)
		return NULL;
	for (i = 0; i < su->cfg.cluster_count; i++) {
		const struct cluster_config *cc = &su->cfg.clusters[i];

		if (!cc->watch_ipas)
			continue;
		inf[i] = informer_new(&su->clusters[i], cc->ipa_namespaces, err, sizeof(err));
		if (!inf[i] || informer_start(inf[i]) < 0) {
			journal_lifecycle(3, "cluster %s: the IPA objects are not watched: %s",
					  cc->name, inf[i] ? "no thread could start" : err);
			informer_free(inf[i]);
			inf[i] = NULL;
		}
	}
	for (i = 0; i < su->cfg.cluster_count; i++) {
		double left = deadline - monotonic_s();

		if (inf[i] && !informer_wait_synced(inf[i], left > 0 ? (long)(left * 1000) : 0))
			journal_lifecycle(4, "cluster %s: the IPA objects are not listed after "
					  "%d s; their targets join when they are",
					  su->cfg.clusters[i].name, WATCH_SYNC_WAIT_MS / 1000);
	}
	return inf;
}

static void watch_stop(struct informer **inf, int count)
{
	for (int i = 0; inf && i < count; i++)
		informer_free(inf[i]);
	free(inf);
}

/* Build *out (empty) from su's files and the objects of inf (versions into
 * built_from, read before the objects so that a change in between is
 * seen next time). Problems of IPA objects are logged. Returns 0 or
 * -ENOMEM (out empty). */
static int build_targets(struct registry *r, struct ipad_setup *su, struct informer **inf,
			 unsigned long *built_from, struct built *out)
{
	int n = su->cfg.cluster_count, i, rc = 0;
	struct registry_objects *objs = calloc((size_t)n + 1, sizeof(*objs));
	struct diag d = { 0 };
	bool synced;

	if (!objs)
		return -ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		if (!inf || !inf[i])
			continue;
		built_from[i] = informer_version(inf[i]);
		rc = informer_objects(inf[i], &objs[i].objects, &objs[i].count, &synced);
	}
	if (rc == 0)
		rc = registry_build(r, &su->cfg, &su->targets, objs, &out->targets,
				    &out->rejected, &d);
	for (size_t k = 0; k < d.count; k++)
		journal_lifecycle(4, "%s; that IPA object is not used until it is fixed",
				  d.messages[k]);
	for (i = 0; i < n; i++)
		informer_objects_free(objs[i].objects, objs[i].count);
	free(objs);
	diag_free(&d);
	return rc;
}

/* An empty struct built, or NULL when out of memory. */
static struct built *built_new(void)
{
	return calloc(1, sizeof(struct built));
}

static void built_free(struct built *b)
{
	if (b) {
		target_list_free(&b->targets);
		registry_rejections_free(&b->rejected);
	}
	free(b);
}

/* Whether an informer of rt saw a change since the targets were built. */
static bool targets_stale(const struct runtime *rt)
{
	for (int i = 0; rt->informers && i < rt->su->cfg.cluster_count; i++)
		if (rt->informers[i] && informer_version(rt->informers[i]) != rt->built_from[i])
			return true;
	return false;
}

/* A scheduler over su and targets (borrowed), or NULL with err set. */
static struct scheduler *make_scheduler(const struct runtime *rt, struct ipad_setup *su,
					const struct built *b,
					char *err, size_t errlen)
{
	struct scheduler *s = scheduler_new(&su->cfg, &b->targets, su->clusters,
					    su->cfg.cluster_count,
					    rt->opt->dry_run || su->cfg.dry_run,
					    &stop_requested, err, errlen);

	if (s)
		scheduler_set_rejected(s, &b->rejected);
	return s;
}

/* Put s, the targets it runs and the informer versions they were built
 * from in place of rt's (which are freed). */
static void install(struct runtime *rt, struct scheduler *s, struct built *b,
		    unsigned long *versions)
{
	scheduler_carry_over(s, rt->s);
	scheduler_free(rt->s);
	built_free(rt->built);
	free(rt->built_from);
	rt->s = s;
	rt->built = b;
	rt->built_from = versions;
}

/* Between cycles: the IPA objects changed; build the targets and the
 * scheduler again (each target that stays keeps its history).
 * On failure the running ones stay. */
static void refresh_targets(struct runtime *rt)
{
	struct built *next = built_new();
	unsigned long *versions = calloc((size_t)rt->su->cfg.cluster_count + 1,
					 sizeof(*versions));
	struct scheduler *s = NULL;
	size_t refused = 0, watched = 0, managed, i;
	char err[512];

	if (next && versions &&
	    build_targets(rt->registry, rt->su, rt->informers, versions, next) == 0)
		s = make_scheduler(rt, rt->su, next, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "out of memory");
	if (!s) {
		journal_lifecycle(3, "the changed IPA objects are not taken: %s; the "
				  "previous targets keep running", err);
		built_free(next);
		free(versions);
		return;
	}
	install(rt, s, next, versions);
	for (i = 0; i < next->targets.count; i++) {
		if (next->targets.items[i].refused)
			refused++;
		else if (next->targets.items[i].ipa_namespace)
			watched++;
	}
	/* Refused claims are listed (they are recorded) but manage nothing. */
	managed = next->targets.count - refused;
	journal_lifecycle(6, "IPA objects changed: now %zu target%s, %zu of them from IPA "
			  "objects; %zu claim%s refused", managed, managed == 1 ? "" : "s",
			  watched, refused, refused == 1 ? "" : "s");
}

/* Stop rt's electors: with release on a real stop (the other hosts take
 * over at once), without when a reload replaces them (the new elector
 * finds its own identity as holder and keeps leading). */
static void electors_stop(struct runtime *rt, bool release)
{
	for (int i = 0; rt->electors && i < rt->elector_count; i++)
		lease_elector_stop(rt->electors[i], release);
	free(rt->electors);
	rt->electors = NULL;
	rt->elector_count = 0;
}

/* Before each cycle: with leader election on, an elector per cluster of
 * rt->su. Electors whose settings a reload left unchanged keep running
 * (no gap in leading); otherwise all are replaced; one that did not start
 * is tried again at the next cycle (its cluster is held meanwhile).
 * Returns 0, or -ENOMEM when not even the array is there (no cycle). */
static int electors_sync(struct runtime *rt)
{
	const struct ipad_config *cfg = &rt->su->cfg;
	bool same = cfg->leader_election && rt->electors &&
		    rt->elector_count == cfg->cluster_count;
	char err[512];
	int i;

	for (i = 0; same && i < rt->elector_count; i++)
		same = !rt->electors[i] ||
		       lease_elector_same(rt->electors[i], &cfg->clusters[i], cfg);
	if (!same)
		electors_stop(rt, false);
	if (!cfg->leader_election)
		return 0;
	if (!rt->electors) {
		rt->electors = calloc((size_t)cfg->cluster_count + 1, sizeof(*rt->electors));
		if (!rt->electors) {
			journal_lifecycle(3, "leader election: out of memory; no cycle runs "
					  "until it can start");
			return -ENOMEM;
		}
		rt->elector_count = cfg->cluster_count;
	}
	for (i = 0; i < rt->elector_count; i++)
		if (!rt->electors[i] &&
		    !(rt->electors[i] = lease_elector_start(&cfg->clusters[i], cfg, err,
							    sizeof(err))))
			journal_lifecycle(3, "%s; the cluster's targets are held", err);
	return 0;
}

/* Send state ("READY=1", "RELOADING=1\n...", or "") with the status line. */
static void notify(struct runtime *rt, const char *state)
{
	char status[600], what[160], *p;
	size_t n;

	n = (size_t)snprintf(status, sizeof(status), "%s%s; ", setup_summary(rt->su, &rt->built->targets, what,
								  sizeof(what)),
			     dry_run(rt) ? " (dry run)" : "");
	if (rt->electors && n < sizeof(status)) {   /* leader election */
		int i, leading = 0;

		for (i = 0; i < rt->elector_count; i++)
			leading += rt->electors[i] &&
				   lease_elector_leading(rt->electors[i], 0, NULL, 0);
		n += (size_t)snprintf(status + n, sizeof(status) - n, "leading %d/%d cluster%s; ",
				      leading, rt->elector_count,
				      rt->elector_count == 1 ? "" : "s");
	}
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
	if (electors_sync(rt) < 0)
		return;
	scheduler_set_electors(rt->s, rt->electors);
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
	struct informer **informers = NULL;
	struct built *built = NULL;
	unsigned long *versions = NULL;
	struct diag d = { 0 };
	char err[512], what[160], *text;

	rt->reload_pending = false;
	if (setup_load(rt->opt->config, true, &next, &d) == 0) {
		informers = watch_start(next);
		versions = calloc((size_t)next->cfg.cluster_count + 1, sizeof(*versions));
		built = built_new();
		if (!informers || !versions || !built ||
		    build_targets(rt->registry, next, informers, versions, built) < 0)
			snprintf(err, sizeof(err), "out of memory");
		else
			s = make_scheduler(rt, next, built, err, sizeof(err));
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
		if (next)
			watch_stop(informers, next->cfg.cluster_count);
		built_free(built);
		free(versions);
		setup_free(next);
	} else {
		install(rt, s, built, versions);
		watch_stop(rt->informers, rt->su->cfg.cluster_count);
		setup_free(rt->su);
		rt->su = next;
		rt->informers = informers;
		rt->last_error[0] = '\0';
		journal_open(next->cfg.log_target, next->cfg.log_format);
		journal_name_clusters(next->cfg.cluster_count > 1);
		journal_message(6, IPAD_MESSAGE_RELOADED, "configuration reloaded from %s: %s, "
				"interval %llds%s%s%s", rt->opt->config,
				setup_summary(next, &rt->built->targets, what, sizeof(what)),
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
	char err[512], what[160];

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
	journal_name_clusters(su->cfg.cluster_count > 1);
	rt.registry = registry_new();
	rt.informers = watch_start(su);
	rt.built_from = calloc((size_t)su->cfg.cluster_count + 1, sizeof(*rt.built_from));
	rt.built = built_new();
	if (!rt.registry || !rt.informers || !rt.built_from || !rt.built ||
	    build_targets(rt.registry, su, rt.informers, rt.built_from, rt.built) < 0)
		snprintf(err, sizeof(err), "out of memory");
	else
		rt.s = make_scheduler(&rt, su, rt.built, err, sizeof(err));
	if (!rt.s) {
		fprintf(stderr, "ipad: %s\n", err);
		watch_stop(rt.informers, su->cfg.cluster_count);
		built_free(rt.built);
		free(rt.built_from);
		registry_free(rt.registry);
		setup_free(rt.su);
		return EX_OSERR;
	}
	if (sd_watchdog_enabled(0, &watchdog_usec) > 0)
		rt.watchdog_s = (double)watchdog_usec / 1e6;
	journal_lifecycle(6, "ipad %s started: %s, interval %llds%s%s", PACKAGE_VERSION,
			  setup_summary(su, &rt.built->targets, what, sizeof(what)),
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
			if (targets_stale(&rt))
				refresh_targets(&rt);
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
	electors_stop(&rt, true);   /* the Leases released: others take over */
	journal_lifecycle(6, "ipad stopped%s", stop_requested ? " on signal" : "");
	scheduler_free(rt.s);
	watch_stop(rt.informers, rt.su->cfg.cluster_count);
	built_free(rt.built);
	free(rt.built_from);
	registry_free(rt.registry);
	setup_free(rt.su);
	return opt->once && rt.stats.failures > 0 ? EX_TEMPFAIL : EX_OK;
}
