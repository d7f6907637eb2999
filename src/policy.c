/* policy — see policy.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

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

static void hold(struct decision *d, int priority)
{
	d->action = ACTION_HOLD;
	d->priority = priority;
	d->replicas_to = d->replicas_from;
	d->resources_to = d->resources_from;
}

/* Keep a limit the container does not have unset. */
static struct resources resources_target(const struct resources *from,
					 const struct resources *advised)
{
	struct resources to = *from;

	if (advised->cpu_request_m != RESOURCE_UNSET)
		to.cpu_request_m = advised->cpu_request_m;
	if (advised->memory_request_b != RESOURCE_UNSET)
		to.memory_request_b = advised->memory_request_b;
	if (advised->cpu_limit_m != RESOURCE_UNSET && from->cpu_limit_m != RESOURCE_UNSET)
		to.cpu_limit_m = advised->cpu_limit_m;
	if (advised->memory_limit_b != RESOURCE_UNSET && from->memory_limit_b != RESOURCE_UNSET)
		to.memory_limit_b = advised->memory_limit_b;
	/* A kept limit below the new request would be rejected by the API. */
	if (to.cpu_limit_m != RESOURCE_UNSET && to.cpu_request_m > to.cpu_limit_m)
		to.cpu_request_m = to.cpu_limit_m;
	if (to.memory_limit_b != RESOURCE_UNSET && to.memory_request_b > to.memory_limit_b)
		to.memory_request_b = to.memory_limit_b;
	return to;
}

void policy_decide(const struct target *t, const struct observation *o,
		   const struct advice *a, const char *advisor_error,
		   struct decision *d)
{
	const struct container_observation *primary = observation_primary(o);
	const struct container_advice *ca = NULL;
	bool scale, resize = false;

	memset(d, 0, sizeof(*d));
	d->replicas_from = d->replicas_to = o->replicas;
	d->priority = DECISION_PRIORITY_APPLIED;
	if (primary) {
		d->container = primary->name;
		d->resources_from = d->resources_to = primary->current;
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

	if (a->replicas >= 0) {
		int32_t want = a->replicas;

		if (want > t->max_replicas) {
			note(d, "advice %d → %d: maxReplicas", want, t->max_replicas);
			want = t->max_replicas;
			d->priority = DECISION_PRIORITY_GUARDED;
		} else if (want < t->min_replicas) {
			note(d, "advice %d → %d: minReplicas", want, t->min_replicas);
			want = t->min_replicas;
			d->priority = DECISION_PRIORITY_GUARDED;
		}
		if (want < o->replicas && o->metrics_missing) {
			note(d, "advice %d → %d: no scale-down while metrics are missing (%s)",
			     want, o->replicas, o->metrics_missing);
			want = o->replicas;
			d->priority = DECISION_PRIORITY_FAILURE;
		}
		d->replicas_to = want;
	}

	if (primary)
		ca = advice_container(a, primary->name);
	if (ca) {
		struct resources to = resources_target(&primary->current, &ca->r);

		if (!resources_equal(&to, &primary->current)) {
			if (o->rollout_in_progress) {
				note(d, "resources kept: %s", o->rollout_reason ?
				     o->rollout_reason : "rollout in progress");
				d->priority = DECISION_PRIORITY_GUARDED;
			} else {
				d->resources_to = to;
				resize = true;
			}
		}
	}

	scale = d->replicas_to != d->replicas_from;
	d->action = scale && resize ? ACTION_SCALE_RESIZE :
		    scale ? ACTION_SCALE : resize ? ACTION_RESIZE : ACTION_NONE;
	/* The advice wanted a change and a guardrail stopped all of it. */
	if (d->action == ACTION_NONE && d->reason[0])
		d->action = ACTION_HOLD;
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
