/* policy — the decision: advice × observation × target bounds → what to
 * do. Pure: no I/O, no clock, no allocation; every rule is unit-tested.
 *
 * Rules, in order:
 *  1. spec.replicas 0 while minReplicas >= 1: someone disabled scaling
 *     (HPA's convention) → hold.
 *  2. No advice (advisor failed or its answer was rejected) → hold.
 *  3. Replicas are clamped to [minReplicas, maxReplicas]; the record says
 *     "advice 40 → 10: maxReplicas".
 *  4. Metrics missing, empty or NaN → never scale down.
 *  5. Resources of the advised container: a limit the container does not
 *     have is not added (no limit stays no limit); no change while a rollout
 *     is in progress; only cpu and memory are ever touched.
 *  When the advice asked for a change and the guardrails left nothing of it,
 *  the decision is a hold (not "none"), with the guardrail as reason. */
#ifndef IPAD_POLICY_H
#define IPAD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "advice.h"
#include "observe.h"
#include "resources.h"
#include "target.h"

enum action {
	ACTION_NONE = 0,      /* advice equals the current state */
	ACTION_SCALE,
	ACTION_RESIZE,
	ACTION_SCALE_RESIZE,
	ACTION_HOLD,          /* refused or blocked; nothing changes */
};

/* journald priorities of decisions (see docs/contracts.md). */
#define DECISION_PRIORITY_APPLIED 6
#define DECISION_PRIORITY_GUARDED 5
#define DECISION_PRIORITY_FAILURE 4
#define DECISION_PRIORITY_ERROR   3

struct decision {
	enum action action;
	int priority;                 /* journald PRIORITY */
	int32_t replicas_from;
	int32_t replicas_to;
	const char *container;        /* borrowed from the observation, or NULL */
	struct resources resources_from;
	struct resources resources_to;
	char reason[512];             /* hold reason and guardrail notes, "" if none */
};

/* Decide for target t. a is NULL when the advisor failed; advisor_error
 * then says why (may be NULL). o must be a successful observation. */
void policy_decide(const struct target *t, const struct observation *o,
		   const struct advice *a, const char *advisor_error,
		   struct decision *out);

/* "scale", "resize", "scale+resize", "none", "hold". */
const char *action_name(enum action a);

#endif
