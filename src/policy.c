/* policy — see policy.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "ipa.h"
#include "policy.h"
#include "quantity.h"

#define MIB (INT64_C(1024) * 1024)
/* After an OOM kill: max(value + 100Mi, value × 1.2), VPA's bump. */
#define OOM_BUMP_B (100 * MIB)
#define OOM_BUMP_FACTOR 1.2

static void note(struct decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct decision *d, const char *fmt, ...)
{
	size_t used = strlen(d->reason);
	va_list ap;

	if (used + 3 >= sizeof(d->reason))
		return;
	if (used)
		used += (size_t)snprintf(d->reason + used, sizeof(d->reason) - used, "; ");
	va_start(ap, fmt);
	vsnprintf(d->reason + used, sizeof(d->reason) - used, fmt, ap);
	va_end(ap);
}

/* A guardrail changed the advice: note it and lower the priority to
 * "guarded" (a failure's priority stays). */
#define guarded(d, ...) do { \
	note((d), __VA_ARGS__); \
	if ((d)->priority > DECISION_PRIORITY_GUARDED) \
		(d)->priority = DECISION_PRIORITY_GUARDED; \
} while (0)

static void hold(struct decision *d, int priority)
{
	d->action = ACTION_HOLD;
	d->priority = priority;
	d->replicas_to = d->replicas_from;
	d->resources_to = d->resources_from;
}

static const char *window_text(int64_t ms, char *buf, size_t len)
{
	return duration_format(ms, buf, len);
}

/* ---- replicas ---------------------------------------------------------- */

/* HPA: the replica count at the start of the period ending now, from the
 * applied scale events within it. */
static int64_t period_start(const struct history *h, int32_t current,
			    int64_t now_ms, int64_t period_ms)
{
	int64_t start = current;
	size_t i;

	for (i = 0; h && i < h->event_count; i++)
		if (h->events[i].at_ms > now_ms - period_ms)
			start -= (int64_t)h->events[i].to - h->events[i].from;
	return start;
}

/* HPA calculateScaleUpLimitWithScalingRules / ...ScaleDown...: the
 * furthest the count may move this period. up: the highest count allowed;
 * down: the lowest. INT32_MAX / 0 when no policy limits it. */
static int64_t rate_limit(const struct scaling_rules *r, bool up,
			  const struct history *h, int32_t current, int64_t now_ms)
{
	int64_t limit = 0, p;
	bool any = false;
	/* selectPolicy Max picks the policy allowing the largest change. */
	bool largest = r->select == SELECT_MAX;

	if (r->select == SELECT_DISABLED)
		return current;
	if (r->pods > 0) {
		p = period_start(h, current, now_ms, r->pods_period_ms);
		p = up ? p + r->pods : p - r->pods;
		limit = p;
		any = true;
	}
	if (r->percent > 0) {
		double start = (double)period_start(h, current, now_ms, r->percent_period_ms);
		p = up ? (int64_t)ceil(start * (1.0 + r->percent / 100.0))
		       : (int64_t)(start * (1.0 - r->percent / 100.0));
		if (!any || (up == largest ? p > limit : p < limit))
			limit = p;
		any = true;
	}
	if (!any)
		return up ? INT32_MAX : 0;
	return limit;
}

/* Stabilization: HPA stabilizeRecommendationWithBehaviors. */
static int32_t stabilize(const struct target *t, const struct history *h,
			 int32_t current, int32_t want, int64_t now_ms,
			 struct decision *d)
{
	const struct guardrails *g = &t->guard;
	int32_t up = want, down = want, rec = current;
	char w[32];
	size_t i;

	for (i = 0; h && i < h->rec_count; i++) {
		const struct history_recommendation *r = &h->recs[i];
		if (r->at_ms > now_ms - g->up.stabilization_ms && r->replicas < up)
			up = r->replicas;
		if (r->at_ms > now_ms - g->down.stabilization_ms && r->replicas > down)
			down = r->replicas;
	}
	/* A target seen for the first time: its current count is its first
	 * recommendation, so that a (re)start never scales down at once. */
	if ((!h || h->rec_count == 0) && g->down.stabilization_ms > 0 && current > down)
		down = current;
	if (rec < up)
		rec = up;
	if (rec > down)
		rec = down;
	if (rec > want)
		guarded(d, "advice %d → %d: scale-down stabilization (highest "
			"recommendation of the last %s)", want, rec,
			window_text(g->down.stabilization_ms, w, sizeof(w)));
	else if (rec < want)
		guarded(d, "advice %d → %d: scale-up stabilization (lowest "
			"recommendation of the last %s)", want, rec,
			window_text(g->up.stabilization_ms, w, sizeof(w)));
	return rec;
}

static void rules_text(const struct scaling_rules *r, char *buf, size_t len)
{
	char a[32], b[32];

	if (r->select == SELECT_DISABLED)
		snprintf(buf, len, "selectPolicy Disabled");
	else if (r->pods > 0 && r->percent > 0)
		snprintf(buf, len, "%d pods per %s or %d %% per %s, selectPolicy %s",
			 r->pods, window_text(r->pods_period_ms, a, sizeof(a)),
			 r->percent, window_text(r->percent_period_ms, b, sizeof(b)),
			 select_policy_names[r->select]);
	else if (r->pods > 0)
		snprintf(buf, len, "%d pods per %s", r->pods,
			 window_text(r->pods_period_ms, a, sizeof(a)));
	else
		snprintf(buf, len, "%d %% per %s", r->percent,
			 window_text(r->percent_period_ms, a, sizeof(a)));
}

static void decide_replicas(const struct target *t, const struct observation *o,
			    int32_t advised, const struct history *h,
			    int64_t now_ms, struct decision *d)
{
	const int32_t current = o->replicas;
	int32_t want = advised, rec;
	int64_t limit;
	char rules[160];

	if (want > t->max_replicas) {
		guarded(d, "advice %d → %d: maxReplicas", want, t->max_replicas);
		want = t->max_replicas;
	} else if (want < t->min_replicas) {
		guarded(d, "advice %d → %d: minReplicas", want, t->min_replicas);
		want = t->min_replicas;
	}
	d->recommendation = want;
	rec = stabilize(t, h, current, want, now_ms, d);

	if (rec < current && o->metrics_missing) {
		note(d, "advice %d → %d: no scale-down while metrics are missing (%s)",
		     rec, current, o->metrics_missing);
		d->priority = DECISION_PRIORITY_FAILURE;
		rec = current;
	}
	/* A count outside the owner's bounds goes back at once (below). */
	if (current > t->max_replicas || current < t->min_replicas) {
		/* no rate limit */
	} else if (rec > current) {
		limit = rate_limit(&t->guard.up, true, h, current, now_ms);
		if (limit < current)
			limit = current;
		if (rec > limit) {
			rules_text(&t->guard.up, rules, sizeof(rules));
			guarded(d, "advice %d → %lld: scale-up limit (%s)", rec,
				(long long)limit, rules);
			rec = (int32_t)limit;
		}
	} else if (rec < current) {
		limit = rate_limit(&t->guard.down, false, h, current, now_ms);
		if (limit > current)
			limit = current;
		if (rec < limit) {
			rules_text(&t->guard.down, rules, sizeof(rules));
			guarded(d, "advice %d → %lld: scale-down limit (%s)", rec,
				(long long)limit, rules);
			rec = (int32_t)limit;
		}
	}
	if (rec > t->max_replicas)
		rec = t->max_replicas;
	if (rec < t->min_replicas)
		rec = t->min_replicas;
	d->replicas_to = rec;
}

/* ---- resources --------------------------------------------------------- */

static const char *qty(bool cpu, int64_t v, char *buf)
{
	if (v == RESOURCE_UNSET)
		return "none";
	return cpu ? quantity_format_millicores(v, buf, QUANTITY_BUFSZ)
		   : quantity_format_bytes(v, buf, QUANTITY_BUFSZ);
}

/* Raise (at_least) or lower *v to bound when it is on the wrong side,
 * naming the guardrail. RESOURCE_UNSET values and bounds are left alone. */
static void bound(struct decision *d, bool cpu, const char *what, int64_t *v,
		  int64_t b, bool at_least, const char *why)
{
	char q1[QUANTITY_BUFSZ], q2[QUANTITY_BUFSZ];

	if (*v == RESOURCE_UNSET || b == RESOURCE_UNSET ||
	    (at_least ? *v >= b : *v <= b))
		return;
	guarded(d, "%s %s → %s: %s", what, qty(cpu, *v, q1), qty(cpu, b, q2), why);
	*v = b;
}

/* One resource (CPU or memory) of the advised container. */
struct one_resource {
	bool cpu;
	const char *name;               /* "cpu", "memory" */
	int64_t from_req, from_lim;
	int64_t adv_req, adv_lim;       /* RESOURCE_UNSET: advice silent */
	int64_t min_allowed, max_allowed;
	int64_t node;                   /* largest node's allocatable, or UNSET */
	int64_t req_floor;              /* memory: peak + margin, or UNSET */
	int64_t lim_floor;              /* memory after an OOM kill, or UNSET */
	const char *req_floor_why, *lim_floor_why;
};

static void decide_one(const struct guardrails *g, const struct one_resource *x,
		       int64_t *req, int64_t *lim, struct decision *d)
{
	char what_req[32], what_lim[32];

	snprintf(what_req, sizeof(what_req), "%s request", x->name);
	snprintf(what_lim, sizeof(what_lim), "%s limit", x->name);
	*req = x->from_req;
	*lim = x->from_lim;
	if (x->adv_req != RESOURCE_UNSET) {
		*req = x->adv_req;
		bound(d, x->cpu, what_req, req, x->req_floor, true, x->req_floor_why);
		bound(d, x->cpu, what_req, req, x->min_allowed, true, "minAllowed");
		bound(d, x->cpu, what_req, req, x->max_allowed, false, "maxAllowed");
		bound(d, x->cpu, what_req, req, x->node, false, "largest node's allocatable");
	}
	if (x->from_lim == RESOURCE_UNSET)
		return;                 /* no limit stays no limit */
	if (g->controlled == CONTROLLED_REQUESTS_ONLY) {
		bound(d, x->cpu, what_req, req, x->from_lim, false,
		      "the limit it keeps (controlledValues RequestsOnly)");
		return;
	}
	if (x->adv_lim != RESOURCE_UNSET)
		*lim = x->adv_lim;
	else if (*req != x->from_req && x->from_req > 0)
		/* VPA: the limit keeps its ratio to the request. */
		*lim = (int64_t)ceill((long double)x->from_lim * *req / x->from_req);
	bound(d, x->cpu, what_lim, lim, x->lim_floor, true, x->lim_floor_why);
	if (*lim != x->from_lim) {
		bound(d, x->cpu, what_lim, lim, x->max_allowed, false, "maxAllowed");
		bound(d, x->cpu, what_lim, lim, x->node, false, "largest node's allocatable");
	}
	bound(d, x->cpu, what_lim, lim, *req, true, "not below the request");
}

/* The largest relative change of the four values, in percent (1000 when
 * a value appears). */
static double change_percent(const struct resources *a, const struct resources *b)
{
	const int64_t from[4] = { a->cpu_request_m, a->cpu_limit_m,
				  a->memory_request_b, a->memory_limit_b };
	const int64_t to[4] = { b->cpu_request_m, b->cpu_limit_m,
				b->memory_request_b, b->memory_limit_b };
	double worst = 0, c;
	int i;

	for (i = 0; i < 4; i++) {
		if (from[i] == to[i])
			continue;
		c = from[i] <= 0 ? 1000.0
			: fabs((double)(to[i] - from[i])) * 100.0 / (double)from[i];
		if (c > worst)
			worst = c;
	}
	return worst;
}

static bool decide_resources(const struct target *t, const struct observation *o,
			     const struct container_observation *c,
			     const struct container_advice *ca,
			     const struct history *h, int64_t now_ms,
			     struct decision *d)
{
	const struct guardrails *g = &t->guard;
	const struct resources *from = &c->current;
	struct resources to = *from;
	double peak = c->memory_bytes, hpeak, node_cpu, change;
	int64_t floor_b = RESOURCE_UNSET, lim_floor = RESOURCE_UNSET;
	char why_req[160] = "", why_lim[160] = "", q1[QUANTITY_BUFSZ], w[32];

	hpeak = h ? history_memory_peak(h, now_ms, HISTORY_MAX_AGE_MS) : NAN;
	if (!isnan(hpeak) && (isnan(peak) || hpeak > peak))
		peak = hpeak;
	if (!isnan(peak) && peak > 0) {
		double f = peak * (1.0 + g->memory_margin_percent / 100.0);
		if (c->oom_kills > 0 && peak * OOM_BUMP_FACTOR > f)
			f = peak * OOM_BUMP_FACTOR;
		if (c->oom_kills > 0 && peak + (double)OOM_BUMP_B > f)
			f = peak + (double)OOM_BUMP_B;
		floor_b = (int64_t)ceil(f);
		snprintf(why_req, sizeof(why_req), "recent peak working set %s + %s",
			 quantity_format_bytes((int64_t)ceil(peak), q1, sizeof(q1)),
			 c->oom_kills > 0 ? "OOM kill margin" : "memory margin");
	}
	if (c->oom_kills > 0 && from->memory_limit_b != RESOURCE_UNSET) {
		double l = (double)from->memory_limit_b;
		lim_floor = (int64_t)ceil(fmax(l + (double)OOM_BUMP_B, l * OOM_BUMP_FACTOR));
		snprintf(why_lim, sizeof(why_lim), "raised after %d OOM kill%s",
			 c->oom_kills, c->oom_kills == 1 ? "" : "s");
	}
	node_cpu = o->node_cpu_allocatable_max;

	{
		struct one_resource cpu = {
			true, "cpu", from->cpu_request_m, from->cpu_limit_m,
			ca->r.cpu_request_m, ca->r.cpu_limit_m, g->min_cpu_m, g->max_cpu_m,
			isnan(node_cpu) ? RESOURCE_UNSET : (int64_t)floor(node_cpu * 1000.0),
			RESOURCE_UNSET, RESOURCE_UNSET, NULL, NULL };
		struct one_resource mem = {
			false, "memory", from->memory_request_b, from->memory_limit_b,
			ca->r.memory_request_b, ca->r.memory_limit_b,
			g->min_memory_b, g->max_memory_b,
			isnan(o->node_memory_allocatable_max) ? RESOURCE_UNSET
				: (int64_t)floor(o->node_memory_allocatable_max),
			floor_b, lim_floor, why_req, why_lim };
		decide_one(g, &cpu, &to.cpu_request_m, &to.cpu_limit_m, d);
		decide_one(g, &mem, &to.memory_request_b, &to.memory_limit_b, d);
	}
	if (resources_equal(&to, from))
		return false;

	if (o->rollout_in_progress) {
		guarded(d, "resources kept: %s", o->rollout_reason ?
			o->rollout_reason : "rollout in progress");
		return false;
	}
	if (h && h->last_resize_ms > 0 && now_ms - h->last_resize_ms < g->resize_cooldown_ms) {
		char ago[32];
		guarded(d, "resources kept: last resize %s ago, cooldown %s",
			window_text(now_ms - h->last_resize_ms, ago, sizeof(ago)),
			window_text(g->resize_cooldown_ms, w, sizeof(w)));
		return false;
	}
	if (d->replicas_to < d->replicas_from) {
		guarded(d, "resources kept: never resized together with a scale-down");
		return false;
	}
	change = change_percent(from, &to);
	if (change < g->resize_threshold_percent) {
		guarded(d, "resources kept: largest change %.0f %% is below the "
			"%d %% threshold", change, g->resize_threshold_percent);
		return false;
	}
	d->resources_to = to;
	return true;
}

/* ---- the decision ------------------------------------------------------ */

/* Not one metric arrived for a Deployment that has pods. */
static bool no_data(const struct observation *o, const struct container_observation *c)
{
	return o->metrics_missing && o->replicas > 0 && isnan(o->request_rate) &&
	       (!c || (c->pods_with_cpu == 0 && isnan(c->memory_bytes)));
}

void policy_decide(const struct target *t, const struct observation *o,
		   const struct advice *a, const char *advisor_error,
		   const struct history *h, int64_t now_ms, struct decision *d)
{
	const struct container_observation *primary = observation_primary(o);
	const struct container_advice *ca = NULL;
	enum ipa_mode mode = t->guard.mode;
	bool scale, resize = false;

	memset(d, 0, sizeof(*d));
	d->replicas_from = d->replicas_to = o->replicas;
	d->priority = DECISION_PRIORITY_APPLIED;
	d->recommendation = -1;
	d->recommend_only = mode == MODE_RECOMMEND;
	if (primary) {
		d->container = primary->name;
		d->resources_from = d->resources_to = primary->current;
	}

	if (o->paused || t->paused) {
		hold(d, DECISION_PRIORITY_APPLIED);
		if (o->paused)
			note(d, "paused by the annotation %s on Deployment %s/%s",
			     IPA_PAUSED_ANNOTATION, t->namespace, t->deployment);
		else
			note(d, "paused by the annotation %s on IPA %s%s%s",
			     IPA_PAUSED_ANNOTATION, t->ipa_namespace ? t->ipa_namespace : "",
			     t->ipa_namespace ? "/" : "", t->ipa_name ? t->ipa_name : "?");
		return;
	}
	if (h && h->written_ms > 0 && o->replicas != h->written_replicas) {
		char at[32];
		time_t sec = (time_t)(h->written_ms / 1000);
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		hold(d, DECISION_PRIORITY_GUARDED);
		d->outside_change = true;
		note(d, "spec.replicas changed from %d to %d outside ipad since its last "
		     "write at %s; holding this cycle", h->written_replicas, o->replicas, at);
		return;
	}
	if (o->replicas == 0 && t->min_replicas >= 1) {
		hold(d, DECISION_PRIORITY_GUARDED);
		note(d, "replicas is 0 on the Deployment while minReplicas is %d: "
		     "scaling is disabled for it", t->min_replicas);
		return;
	}
	if (!a) {
		hold(d, DECISION_PRIORITY_FAILURE);
		note(d, "no advice: %s", advisor_error ? advisor_error : "the advisor failed");
		return;
	}
	if (no_data(o, primary)) {
		hold(d, DECISION_PRIORITY_FAILURE);
		note(d, "no metrics at all (%s): nothing to decide on", o->metrics_missing);
		return;
	}

	if (a->replicas >= 0 && mode != MODE_RESOURCES_ONLY)
		decide_replicas(t, o, a->replicas, h, now_ms, d);
	if (primary && mode != MODE_REPLICAS_ONLY)
		ca = advice_container(a, primary->name);
	if (ca)
		resize = decide_resources(t, o, primary, ca, h, now_ms, d);

	scale = d->replicas_to != d->replicas_from;
	d->action = scale && resize ? ACTION_SCALE_RESIZE :
		    scale ? ACTION_SCALE : resize ? ACTION_RESIZE : ACTION_NONE;
	/* The advice wanted a change and a guardrail stopped all of it. */
	if (d->action == ACTION_NONE && d->reason[0])
		d->action = ACTION_HOLD;
}

void policy_remember(struct history *h, const struct observation *o,
		     const struct decision *d, enum outcome outcome,
		     const char *error, int64_t now_ms)
{
	bool applied = outcome == OUTCOME_APPLIED;
	const struct container_observation *c = observation_primary(o);
	struct history_sample s = {
		.at_ms = now_ms, .replicas = o->replicas,
		.cpu_cores = c ? c->cpu_cores : NAN,
		.memory_bytes = c ? c->memory_bytes : NAN,
		.request_rate = o->request_rate,
	};
	struct history_decision hd = { .at_ms = now_ms, .from = d->replicas_from,
				       .to = d->replicas_to };

	/* The first sight's current count (see stabilize()) is kept. */
	if (d->recommendation >= 0 && h->rec_count == 0)
		history_add_recommendation(h, now_ms, d->replicas_from);
	if (d->recommendation >= 0)
		history_add_recommendation(h, now_ms, d->recommendation);
	history_add_sample(h, &s);
	if (applied && d->replicas_to != d->replicas_from)
		history_add_event(h, now_ms, d->replicas_from, d->replicas_to);
	if (applied && (d->action == ACTION_RESIZE || d->action == ACTION_SCALE_RESIZE))
		h->last_resize_ms = now_ms;
	if (outcome == OUTCOME_FAILED) {
		h->written_ms = 0;
	} else if (applied && d->replicas_to != d->replicas_from) {
		h->written_replicas = d->replicas_to;
		h->written_ms = now_ms;
	} else if (h->written_ms > 0) {
		h->written_replicas = o->replicas;
	}
	snprintf(hd.action, sizeof(hd.action), "%s",
		 outcome == OUTCOME_FAILED ? "failed" : action_name(d->action));
	snprintf(hd.note, sizeof(hd.note), "%.*s", (int)sizeof(hd.note) - 1,
		 error ? error : d->reason);
	history_add_decision(h, &hd);
}

const char *action_name(enum action a)
{
	switch (a) {
	case ACTION_SCALE: return "scale";
	case ACTION_RESIZE: return "resize";
	case ACTION_SCALE_RESIZE: return "scale+resize";
	case ACTION_HOLD: return "hold";
	case ACTION_NONE: break;
	}
	return "none";
}
