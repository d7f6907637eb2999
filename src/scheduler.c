/* scheduler — see scheduler.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act.h"
#include "advisor.h"
#include "advisor_builtin.h"
#include "autoscalers.h"
#include "events.h"
#include "journal.h"
#include "lease.h"
#include "observe.h"
#include "policy.h"
#include "publish.h"
#include "quantity.h"
#include "scheduler.h"
#include "state.h"
#include "status.h"

/* Calls shorter than this are not started: the deadline has passed. */
#define MIN_CALL_MS 50

struct worker {
	struct scheduler *s;
	struct http_client *hc;
	pthread_t thread;
};

struct scheduler {
	const struct ipad_config *cfg;
	const struct target_list *targets;
	struct kube_cluster *clusters;
	int cluster_count;
	bool dry_run;
	volatile sig_atomic_t *stop;
	struct http_pool *pool;
	struct worker *workers;
	int worker_count;
	int *cluster_index;     /* per target: index in clusters, -1: none */
	struct lease_elector **electors; /* per cluster, or NULL: no election */
	const struct registry_rejections *rejected; /* IPA objects with errors */
	/* per cycle */
	pthread_mutex_t queue_lock; /* guards claimed, first, in_flight */
	pthread_cond_t queue_cond;
	bool *claimed;          /* per target: taken by a worker */
	size_t first;           /* every target before it is claimed */
	int *in_flight;         /* per cluster: targets being evaluated */
	atomic_size_t changed, failures;
	double deadline;   /* monotonic seconds */
	struct history *histories; /* one per target, same index */
	struct event_memory *event_mem; /* one per target: last warnings */
	struct status_item *status; /* one per target: for the IPA status;
				       .target NULL: not recorded this cycle */
	struct publisher *publisher; /* IPA status and ConflictingClaim Events */
	/* Other autoscalers, listed once per namespace per cycle. */
	pthread_mutex_t as_lock;    /* guards what follows */
	pthread_cond_t as_cond;     /* an entry became ready */
	struct ns_autoscalers *as;
	size_t as_count, as_cap;
};

struct ns_autoscalers {
	int cluster;                /* index in clusters */
	char *ns;
	cJSON *hpa, *vpa;           /* the lists, or NULL: not known */
	bool ready;                 /* listed (else a worker is listing) */
};

static void as_clear(struct scheduler *s)
{
	size_t i;

	for (i = 0; i < s->as_count; i++) {
		free(s->as[i].ns);
		cJSON_Delete(s->as[i].hpa);
		cJSON_Delete(s->as[i].vpa);
	}
	s->as_count = 0;
}

/* Wall clock in Unix ms: history times survive a restart. */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* min(configured, time left before the deadline) in ms; 0 when too late. */
static long budget_ms(const struct scheduler *s, long configured)
{
	double left = (s->deadline - now_s()) * 1000.0;

	if (left < MIN_CALL_MS)
		return 0;
	return left < (double)configured ? (long)left : configured;
}

static int cluster_of(const struct scheduler *s, const struct target *t)
{
	int i;

	for (i = 0; i < s->cluster_count; i++)
		if (strcmp(s->clusters[i].name, t->cluster) == 0)
			return i;
	return -1;
}

/* The HPAs and VPAs of t's Deployment (the namespace is listed once per
 * cycle; a list that fails is logged and counts as none). Returns 1 when
 * ipad must hold t, with the sentence in why. */
static int other_autoscalers(struct scheduler *s, struct worker *w, const struct target *t,
			     struct kube_cluster *k, char *why, size_t len)
{
	int c = s->cluster_index[t - s->targets->items], v;
	char names[2][512], err[512];
	cJSON *l[2] = { NULL, NULL };
	size_t i;
	bool mine = false;

	pthread_mutex_lock(&s->as_lock);
	for (i = 0; i < s->as_count; i++)
		if (s->as[i].cluster == c && strcmp(s->as[i].ns, t->namespace) == 0)
			break;
	if (i == s->as_count) {     /* this worker lists the namespace */
		if (s->as_count == s->as_cap) {
			size_t cap = s->as_cap ? s->as_cap * 2 : 8;
			struct ns_autoscalers *n = realloc(s->as, cap * sizeof(*n));
			if (n) {
				s->as = n;
				s->as_cap = cap;
			}
		}
		mine = true;
		if (s->as_count < s->as_cap && (s->as[i].ns = strdup(t->namespace))) {
			s->as[i].cluster = c;
			s->as[i].hpa = s->as[i].vpa = NULL;
			s->as[i].ready = false;
			s->as_count++;
		} else {
			i = SIZE_MAX;   /* out of memory: not shared */
		}
	}
	pthread_mutex_unlock(&s->as_lock);
	if (mine) {
		for (v = 0; v < 2; v++) {
			long timeout = budget_ms(s, k->request_timeout_ms);

			if (timeout == 0)
				break;
			l[v] = autoscalers_list(k, w->hc, timeout, t->namespace, v, err, sizeof(err));
			if (!l[v])
				journal_lifecycle(4, "%s/%s: the %s of the namespace are not known: %s",
						  t->namespace, t->deployment,
						  v ? "VerticalPodAutoscalers"
						  : "HorizontalPodAutoscalers", err);
		}
	}
	pthread_mutex_lock(&s->as_lock);
	if (mine && i != SIZE_MAX) {
		s->as[i].hpa = l[0];
		s->as[i].vpa = l[1];
		s->as[i].ready = true;
		l[0] = l[1] = NULL;
		pthread_cond_broadcast(&s->as_cond);
	}
	while (i != SIZE_MAX && !s->as[i].ready)
		pthread_cond_wait(&s->as_cond, &s->as_lock);
	autoscalers_match(i != SIZE_MAX ? s->as[i].hpa : l[0], "scaleTargetRef",
			  t->deployment, names[0], sizeof(names[0]));
	autoscalers_match(i != SIZE_MAX ? s->as[i].vpa : l[1], "targetRef",
			  t->deployment, names[1], sizeof(names[1]));
	pthread_mutex_unlock(&s->as_lock);
	cJSON_Delete(l[0]);
	cJSON_Delete(l[1]);
	return autoscalers_hold(t->guard.mode, names[0], names[1], why, len);
}

/* The decision when another autoscaler owns the Deployment: nothing
 * changes, a warning. */
static void hold_for(const struct observation *o, const char *why, struct decision *d)
{
	const struct container_observation *p = observation_primary(o);

	memset(d, 0, sizeof(*d));
	d->action = ACTION_HOLD;
	d->priority = DECISION_PRIORITY_FAILURE;
	d->replicas_from = d->replicas_to = o->replicas;
	d->recommendation = -1;
	if (p) {
		d->container = p->name;
		d->resources_from = d->resources_to = p->current;
	}
	snprintf(d->reason, sizeof(d->reason), "%s", why);
}

/* One Event; a failure is logged, never more. */
static void event(struct scheduler *s, struct worker *w, const struct target *t,
		  struct kube_cluster *k, const struct observation *o,
		  const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
static void event(struct scheduler *s, struct worker *w, const struct target *t,
		  struct kube_cluster *k, const struct observation *o,
		  const char *type, const char *reason, const char *fmt, ...)
{
	long timeout = budget_ms(s, k->request_timeout_ms);
	struct event_object io = events_deployment(t, o->uid);
	char msg[1024], err[512];
	va_list ap;

	if (timeout < 1000)  /* the recording reserve: still a short call */
		timeout = 1000;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (events_emit(&io, k, w->hc, timeout, type, reason, msg,
			&s->event_mem[t - s->targets->items], err, sizeof(err)) < 0)
		journal_lifecycle(4, "%s/%s: event %s not recorded: %s",
				  t->namespace, t->deployment, reason, err);
}

/* The Events of one decision on the Deployment (never in dry-run). */
static void tell(struct scheduler *s, struct worker *w, const struct target *t,
		 struct kube_cluster *k, const struct decision_record *rec,
		 const char *aerr, bool advised, enum outcome outcome,
		 const char *conflict)
{
	const struct observation *o = rec->observation;
	const struct decision *d = rec->decision;
	char why[2048];

	if (s->dry_run || !k || !o)
		return;
	if (conflict[0])
		event(s, w, t, k, o, "Warning", "ConflictingAutoscaler", "%s", conflict);
	if (rec->advisor_latency_ms >= 0 && (!advised || rec->fallback))
		event(s, w, t, k, o, "Warning", "AdvisorFailed", "%s%s", aerr,
		      rec->fallback ? "; the builtin fallback advised" : "");
	if (o->metrics_missing)
		event(s, w, t, k, o, "Warning", "FailedGetMetrics", "missing metrics: %s%s%s",
		      o->metrics_missing, o->metrics_error ? "; " : "",
		      o->metrics_error ? o->metrics_error : "");
	if (!d)
		return;
	if (outcome == OUTCOME_FAILED)
		event(s, w, t, k, o, "Warning", "FailedRescale", "%s",
		      rec->error ? rec->error : "applying the decision failed");
	if (outcome != OUTCOME_APPLIED)
		return;
	snprintf(why, sizeof(why), "%s%s%s%s%s%s",
		 rec->fallback ? "builtin fallback" : rec->advisor,
		 " advice", rec->advice && rec->advice->rationale ? ": " : "",
		 rec->advice && rec->advice->rationale ? rec->advice->rationale : "",
		 d->reason[0] ? "; " : "", d->reason);
	if (d->action == ACTION_SCALE || d->action == ACTION_SCALE_RESIZE)
		event(s, w, t, k, o, "Normal", "SuccessfulRescale",
		      "New size: %d; reason: %s", d->replicas_to, why);
	if (d->action == ACTION_RESIZE || d->action == ACTION_SCALE_RESIZE) {
		char q[4][QUANTITY_BUFSZ];
		const struct resources *r = &d->resources_to;

		quantity_format_millicores(r->cpu_request_m, q[0], sizeof(q[0]));
		quantity_format_bytes(r->memory_request_b, q[1], sizeof(q[1]));
		quantity_format_millicores(r->cpu_limit_m, q[2], sizeof(q[2]));
		quantity_format_bytes(r->memory_limit_b, q[3], sizeof(q[3]));
		event(s, w, t, k, o, "Normal", "SuccessfulResize",
		      "New resources of container %s: requests cpu %s, memory %s; "
		      "limits cpu %s, memory %s; reason: %s", d->container ? d->container : "?",
		      r->cpu_request_m == RESOURCE_UNSET ? "none" : q[0],
		      r->memory_request_b == RESOURCE_UNSET ? "none" : q[1],
		      r->cpu_limit_m == RESOURCE_UNSET ? "none" : q[2],
		      r->memory_limit_b == RESOURCE_UNSET ? "none" : q[3], why);
	}
}

static void run_target(struct worker *w, const struct target *t, struct kube_cluster *k)
{
	struct scheduler *s = w->s;
	struct history *h = &s->histories[t - s->targets->items];
	struct observation o = { 0 };
	struct advice a = { 0 };
	struct decision d;
	struct decision_record rec = {
		.target = t, .advisor = advisor_type_name(s->cfg->advisor),
		.advisor_latency_ms = -1, .dry_run = s->dry_run,
	};
	char err[1024], aerr[512], ferr[256], serr[512], conflict[700], standby[700];
	int c = s->cluster_index[t - s->targets->items];
	struct lease_elector *elector = s->electors && c >= 0 ? s->electors[c] : NULL;
	long timeout;
	bool advised = false;
	double t0;
	int priority;
	int64_t now;
	enum outcome outcome = OUTCOME_NOT_APPLIED;

	err[0] = aerr[0] = conflict[0] = '\0';
	if (!k) {
		snprintf(err, sizeof(err), "cluster \"%s\" is not configured", t->cluster);
		rec.error = err;
		goto record;
	}
	/* Another ipad leads the cluster: not even observed. The elector's
	 * first try may still run: wait for it within the deadline. */
	if (s->electors && !(elector && lease_elector_leading(elector,
							      budget_ms(s, 2 * k->request_timeout_ms),
							      standby, sizeof(standby)))) {
		if (!elector)
			snprintf(standby, sizeof(standby), "standby: leader election does not "
				 "run for cluster %s (see the lifecycle records)", t->cluster);
		rec.standby = standby;
		goto record;
	}
	/* Another IPA holds the Deployment (registry.h): a warning each
	 * cycle, nothing observed or changed. */
	if (t->refused) {
		rec.error = t->refused;
		goto record;
	}
	timeout = budget_ms(s, k->request_timeout_ms);
	if (timeout == 0) {
		snprintf(err, sizeof(err), "cycle deadline passed before the target was observed");
		rec.error = err;
		goto record;
	}
	if (observe_target(t, k, w->hc, timeout,
			   (long)(s->cfg->metrics_window_ms / 1000), &o, err, sizeof(err)) < 0) {
		rec.error = err;
		goto record;
	}
	rec.observation = &o;
	/* Paused (policy.h): a hold without asking the advisor. */
	if (o.paused || t->paused) {
		now = wall_ms();
		policy_decide(t, &o, NULL, NULL, h, now, &d);
		rec.decision = &d;
		goto decided;
	}
	if (other_autoscalers(s, w, t, k, conflict, sizeof(conflict))) {
		hold_for(&o, conflict, &d);
		rec.decision = &d;
		now = wall_ms();
		goto decided;
	}

	timeout = budget_ms(s, (long)s->cfg->advisor_timeout_ms);
	if (*s->stop) {
		snprintf(aerr, sizeof(aerr), "ipad is stopping");
	} else if (timeout == 0) {
		snprintf(aerr, sizeof(aerr), "cycle deadline passed before the advisor was asked");
	} else {
		t0 = now_s();
		advised = advisor_advise(s->cfg, t, &o, h, wall_ms(), w->hc, timeout, &a,
					 aerr, sizeof(aerr)) == 0;
		rec.advisor_latency_ms = (long)((now_s() - t0) * 1000.0);
	}
	if (!advised) {
		rec.error = aerr;
		/* The fallback: the built-in policy, unless it was the advisor. */
		if (s->cfg->advisor != ADVISOR_BUILTIN &&
		    t->guard.fallback == FALLBACK_BUILTIN && !*s->stop) {
			advice_free(&a);
			if (advisor_builtin(&o, s->cfg->target_cpu_utilization,
					    s->cfg->tolerance, &a, ferr, sizeof(ferr)) == 0) {
				advised = true;
				rec.fallback = "builtin";
			} else {
				snprintf(aerr + strlen(aerr), sizeof(aerr) - strlen(aerr),
					 "; builtin fallback: %s", ferr);
			}
		}
	}
	if (advised)
		rec.advice = &a;
	now = wall_ms();
	policy_decide(t, &o, advised ? &a : NULL, aerr, h, now, &d);
	/* The advisor failed: the record is a warning even when the
	 * fallback's advice is applied. */
	if (rec.fallback && d.priority > DECISION_PRIORITY_FAILURE)
		d.priority = DECISION_PRIORITY_FAILURE;
	rec.decision = &d;

decided:
	if (d.action != ACTION_NONE && d.action != ACTION_HOLD && !s->dry_run &&
	    !d.recommend_only) {
		/* A stop request or a spent deadline abandons the decision whole. */
		timeout = budget_ms(s, k->request_timeout_ms);
		if (*s->stop || timeout == 0) {
			d.action = ACTION_HOLD;
			d.priority = DECISION_PRIORITY_FAILURE;
			d.replicas_to = d.replicas_from;
			d.resources_to = d.resources_from;
			snprintf(err, sizeof(err), "%s: decision not applied",
				 *s->stop ? "ipad is stopping" : "cycle deadline passed");
			rec.error = err;
		} else if (elector && !lease_elector_leading(elector, 0, standby,
							     sizeof(standby))) {
			/* The Lease was lost while deciding: another host may
			 * act now, so nothing of this decision is applied. */
			d.action = ACTION_HOLD;
			d.priority = DECISION_PRIORITY_FAILURE;
			d.replicas_to = d.replicas_from;
			d.resources_to = d.resources_from;
			snprintf(err, sizeof(err), "lost the Lease before applying (%s): decision "
				 "not applied", standby);
			rec.error = err;
		} else if (act_apply(t, k, w->hc, timeout, &d, err, sizeof(err)) < 0) {
			rec.error = err;
			rec.apply_failed = true;
			outcome = OUTCOME_FAILED;
		} else {
			outcome = OUTCOME_APPLIED;
		}
	}
	policy_remember(h, &o, &d, outcome, rec.error, now);
	/* In dry-run the history stays in memory: a state directory the
	 * service owns is not touched by a trial run (as root). */
	if (!s->dry_run && state_save(s->cfg->state_directory, t, h, serr, sizeof(serr)) < 0)
		journal_lifecycle(4, "the history of %s/%s is not saved: %s",
				  t->namespace, t->deployment, serr);
	if (d.action != ACTION_NONE && d.action != ACTION_HOLD && !rec.apply_failed)
		atomic_fetch_add(&s->changed, 1);
record:
	if (!rec.standby)
		status_item_record(&s->status[t - s->targets->items], &rec, outcome,
				   conflict[0] != '\0', wall_ms());
	journal_decision(&rec);
	tell(s, w, t, k, &rec, aerr, advised, outcome, conflict);
	priority = journal_decision_priority(&rec);
	if (priority <= DECISION_PRIORITY_FAILURE)
		atomic_fetch_add(&s->failures, 1);
	advice_free(&a);
	observation_free(&o);
}

/* min(the cluster's request timeout, the time left), at least 1 s: the
 * recording reserve is still a short call. */
static long status_timeout(const struct scheduler *s, const struct kube_cluster *k)
{
	long timeout = budget_ms(s, k->request_timeout_ms);

	return timeout < 1000 ? 1000 : timeout;
}

/* Whether this host may write to cluster c (leader election). */
static bool may_write(const struct scheduler *s, int c)
{
	char why[512];

	/* The Lease may have been lost during the cycle. */
	return !s->electors || (s->electors[c] &&
				lease_elector_leading(s->electors[c], 0, why, sizeof(why)));
}

/* The status of each IPA object with an invalid spec: InvalidSpec. */
static void publish_rejected(struct scheduler *s)
{
	for (size_t i = 0; s->rejected && i < s->rejected->count; i++) {
		const struct registry_rejection *r = &s->rejected->items[i];
		struct kube_cluster *k;

		if (r->cluster < 0 || r->cluster >= s->cluster_count || !may_write(s, r->cluster))
			continue;
		k = &s->clusters[r->cluster];
		publish_invalid(s->publisher, k, s->workers[0].hc, status_timeout(s, k), r);
	}
}

/* After the workers: one status per IPA object with targets recorded in
 * this cycle (grouped by cluster and IPA), by the leader only. */
static void publish_status(struct scheduler *s)
{
	size_t n = s->targets->count, i, j, m;
	struct status_item **group = calloc(n + 1, sizeof(*group));
	struct event_memory **mems = calloc(n + 1, sizeof(*mems));
	bool *done = calloc(n + 1, sizeof(*done));

	if (!group || !mems || !done) {
		journal_lifecycle(4, "the status of the IPA objects is not written: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct target *t = &s->targets->items[i];
		int c = s->cluster_index[i];

		if (done[i] || !t->ipa_namespace || !t->ipa_name || !s->status[i].target || c < 0)
			continue;
		for (m = 0, j = i; j < n; j++) {
			const struct target *u = &s->targets->items[j];
			if (!done[j] && s->status[j].target && s->cluster_index[j] == c &&
			    u->ipa_namespace && u->ipa_name &&
			    strcmp(u->ipa_namespace, t->ipa_namespace) == 0 &&
			    strcmp(u->ipa_name, t->ipa_name) == 0) {
				done[j] = true;
				mems[m] = &s->event_mem[j];
				group[m++] = &s->status[j];
			}
		}
		if (may_write(s, c))
			publish_ipa(s->publisher, &s->clusters[c], s->workers[0].hc,
				    status_timeout(s, &s->clusters[c]), group, mems, m);
	}
out:
	free(group);
	free(mems);
	free(done);
}

/* The next target whose cluster is below its concurrency limit, waiting
 * while every unclaimed target's cluster is at its limit. Returns the
 * target's index, or the target count when none is left. */
static size_t claim(struct scheduler *s)
{
	size_t n = s->targets->count, i;

	pthread_mutex_lock(&s->queue_lock);
	for (;;) {
		bool waiting = false;
		while (s->first < n && s->claimed[s->first])
			s->first++;
		for (i = s->first; i < n; i++) {
			int c = s->cluster_index[i];
			if (s->claimed[i])
				continue;
			if (c < 0 || s->in_flight[c] < s->cfg->clusters[c].concurrency)
				break;
			waiting = true;
		}
		if (i < n || !waiting)
			break;
		pthread_cond_wait(&s->queue_cond, &s->queue_lock);
	}
	if (i < n) {
		s->claimed[i] = true;
		if (s->cluster_index[i] >= 0)
			s->in_flight[s->cluster_index[i]]++;
	}
	pthread_mutex_unlock(&s->queue_lock);
	return i;
}

static void release(struct scheduler *s, size_t i)
{
	pthread_mutex_lock(&s->queue_lock);
	if (s->cluster_index[i] >= 0)
		s->in_flight[s->cluster_index[i]]--;
	pthread_cond_broadcast(&s->queue_cond);
	pthread_mutex_unlock(&s->queue_lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct scheduler *s = w->s;
	size_t i;

	while ((i = claim(s)) < s->targets->count) {
		int c = s->cluster_index[i];
		run_target(w, &s->targets->items[i], c >= 0 ? &s->clusters[c] : NULL);
		release(s, i);
	}
	return NULL;
}

struct scheduler *scheduler_new(const struct ipad_config *cfg,
				const struct target_list *targets,
				struct kube_cluster *clusters, int cluster_count,
				bool dry_run, volatile sig_atomic_t *stop,
				char *err, size_t errlen)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	int i;

	if (!s)
		goto nomem;
	s->cfg = cfg;
	s->targets = targets;
	s->clusters = clusters;
	s->cluster_count = cluster_count;
	s->dry_run = dry_run;
	s->stop = stop;
	s->worker_count = cfg->concurrency;
	if ((size_t)s->worker_count > targets->count)
		s->worker_count = targets->count ? (int)targets->count : 1;
	s->pool = http_pool_new();
	s->workers = calloc((size_t)s->worker_count, sizeof(*s->workers));
	s->histories = calloc(targets->count + 1, sizeof(*s->histories));
	s->event_mem = calloc(targets->count + 1, sizeof(*s->event_mem));
	s->status = calloc(targets->count + 1, sizeof(*s->status));
	s->publisher = publisher_new();
	s->cluster_index = calloc(targets->count + 1, sizeof(*s->cluster_index));
	s->claimed = calloc(targets->count + 1, sizeof(*s->claimed));
	s->in_flight = calloc((size_t)cluster_count + 1, sizeof(*s->in_flight));
	pthread_mutex_init(&s->queue_lock, NULL);
	pthread_mutex_init(&s->as_lock, NULL);
	pthread_cond_init(&s->as_cond, NULL);
	pthread_cond_init(&s->queue_cond, NULL);
	if (!s->pool || !s->workers || !s->cluster_index || !s->claimed || !s->in_flight ||
	    !s->event_mem || !s->status || !s->publisher)
		goto nomem;
	for (size_t t = 0; t < targets->count; t++)
		s->cluster_index[t] = cluster_of(s, &targets->items[t]);
	if (!s->histories)
		goto nomem;
	for (size_t t = 0; t < targets->count; t++) {
		char serr[512];
		if (state_load(cfg->state_directory, &targets->items[t], &s->histories[t],
			       serr, sizeof(serr)) < 0)
			journal_lifecycle(4, "%s", serr);
	}
	for (i = 0; i < s->worker_count; i++) {
		s->workers[i].s = s;
		s->workers[i].hc = http_client_new(s->pool);
		if (!s->workers[i].hc)
			goto nomem;
	}
	return s;
nomem:
	snprintf(err, errlen, "out of memory setting up %d workers", cfg->concurrency);
	scheduler_free(s);
	return NULL;
}

/* The index of the target of s with t's cluster, namespace and
 * Deployment, or SIZE_MAX. */
static size_t find_target(const struct scheduler *s, const struct target *t)
{
	for (size_t i = 0; i < s->targets->count; i++) {
		const struct target *u = &s->targets->items[i];
		if (strcmp(u->cluster, t->cluster) == 0 && strcmp(u->namespace, t->namespace) == 0 &&
		    strcmp(u->deployment, t->deployment) == 0)
			return i;
	}
	return SIZE_MAX;
}

void scheduler_carry_over(struct scheduler *s, struct scheduler *old)
{
	struct publisher *p;

	if (!old)
		return;
	for (size_t i = 0; i < s->targets->count; i++) {
		size_t j = find_target(old, &s->targets->items[i]);
		if (j == SIZE_MAX)
			continue;
		s->histories[i] = old->histories[j];
		s->event_mem[i] = old->event_mem[j];
	}
	p = s->publisher;
	s->publisher = old->publisher;
	old->publisher = p;
}

void scheduler_set_rejected(struct scheduler *s, const struct registry_rejections *rejected)
{
	s->rejected = rejected;
}

void scheduler_set_electors(struct scheduler *s, struct lease_elector **per_cluster)
{
	s->electors = per_cluster;
}

void scheduler_run_cycle(struct scheduler *s, struct cycle_stats *stats)
{
	double start = now_s();
	sigset_t all, old;
	int i, started = 0;

	memset(s->claimed, 0, s->targets->count * sizeof(*s->claimed));
	for (size_t t = 0; t < s->targets->count; t++)
		s->status[t].target = NULL;
	as_clear(s);
	s->first = 0;
	atomic_store(&s->changed, 0);
	atomic_store(&s->failures, 0);
	/* Leave a tenth of the interval (at most 5 s) for recording. */
	s->deadline = start + (double)s->cfg->interval_ms / 1000.0 -
		      ((double)s->cfg->interval_ms / 10000.0 > 5.0 ? 5.0
		       : (double)s->cfg->interval_ms / 10000.0);

	/* Workers never take signals: the main thread does. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < s->worker_count; i++) {
		if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0)
			break;
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started == 0)            /* no thread could start: do it here */
		worker_main(&s->workers[0]);
	for (i = 0; i < started; i++)
		pthread_join(s->workers[i].thread, NULL);
	if (!s->dry_run) {
		publish_status(s);
		publish_rejected(s);
	}

	stats->targets = s->targets->count;
	stats->changed = atomic_load(&s->changed);
	stats->failures = atomic_load(&s->failures);
	stats->seconds = now_s() - start;
}

void scheduler_free(struct scheduler *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; s->workers && i < s->worker_count; i++)
		http_client_free(s->workers[i].hc);
	free(s->workers);
	free(s->histories);
	free(s->event_mem);
	free(s->status);
	publisher_free(s->publisher);
	as_clear(s);
	free(s->as);
	pthread_mutex_destroy(&s->as_lock);
	pthread_cond_destroy(&s->as_cond);
	free(s->cluster_index);
	free(s->claimed);
	free(s->in_flight);
	pthread_mutex_destroy(&s->queue_lock);
	pthread_cond_destroy(&s->queue_cond);
	http_pool_free(s->pool);
	free(s);
}
