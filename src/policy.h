/* policy — the decision: advice × observation × guardrails × history →
 * what to do. Pure: no I/O, no clock (now is passed in), no allocation;
 * every rule is table-tested (tests/unit/test_policy.c).
 *
 * Rules, in order (guardrails.h holds the settings and their defaults):
 *  0. Paused: the annotation ipa.shafinhasnat.me/paused: "true" on the
 *     Deployment (o->paused) or on the IPA object (t->paused) → hold at
 *     PRIORITY 6 (a user's choice, not a failure), the reason naming the
 *     object that carries it.
 *     Changed outside ipad: spec.replicas differs from what ipad last wrote
 *     (h->written_replicas, when h->written_ms says there was a write) →
 *     hold this cycle at PRIORITY 5 with outside_change set, so that a
 *     kubectl scale is not overwritten by the advice of the same cycle;
 *     policy_remember() then takes the new count as the baseline, so the
 *     next cycle decides from it.
 *  1. spec.replicas 0 while minReplicas >= 1: someone disabled scaling
 *     (HPA's convention) → hold.
 *  2. No advice (advisor failed, answer refused, fallback hold) → hold.
 *  3. Metrics missing for a Deployment with pods and not one metric
 *     arrived (no CPU, no memory, no request rate) → hold.
 *  4. Replicas (unless ResourcesOnly), HPA's algorithm
 *     (pkg/controller/podautoscaler normalizeDesiredReplicasWithBehaviors):
 *     the advice is clamped to [minReplicas, maxReplicas] and becomes the
 *     recommendation stored in the history; stabilization: the lowest
 *     recommendation of the scale-up window and the highest of the
 *     scale-down window bound the move from the current count; metrics
 *     missing → no scale-down; rate limits: Pods / Percent per period,
 *     counted from the replica count at the start of the period (applied
 *     scale events), selectPolicy Max/Min/Disabled; a current count outside
 *     [min, max] is brought back at once.
 *  5. Resources of the advised container (unless ReplicasOnly): requests
 *     from the advice within minAllowed/maxAllowed; memory request at
 *     least the recent peak working set + memory margin; limits: none
 *     stays none, RequestsOnly keeps them (the request is capped at a kept
 *     limit), RequestsAndLimits takes the advice's limit or keeps the
 *     current limit/request ratio (capped at maxAllowed); after an OOM kill
 *     the memory limit rises to max(limit + 100Mi, limit × 1.2); nothing
 *     above the largest node's allocatable. Then the change is applied only
 *     when no rollout is in progress, the cooldown since the last resize
 *     has passed, replicas do not go down in the same decision, and some
 *     value changes by at least the threshold.
 *  Every guardrail that changed the advice is named in reason, from what to
 *  what ("advice 40 → 12: maxReplicas"). When the advice asked for a change
 *  and the guardrails left nothing of it, the decision is a hold (not
 *  "none"). Mode Recommend decides the same and sets recommend_only. */
#ifndef IPAD_POLICY_H
#define IPAD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "advice.h"
#include "history.h"
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
	char reason[768];             /* hold reason and guardrail notes, "" if none */
	int32_t recommendation;       /* for the history: the clamped advice, or -1 */
	bool recommend_only;          /* mode Recommend: record, never act */
	bool outside_change;          /* held: spec.replicas was changed
					 outside ipad since its last write */
};

/* Decide for target t at now_ms (Unix ms). a is NULL when there is no
 * advice; advisor_error then says why (may be NULL). o must be a
 * successful observation. h is the target's history (NULL: none). */
void policy_decide(const struct target *t, const struct observation *o,
		   const struct advice *a, const char *advisor_error,
		   const struct history *h, int64_t now_ms,
		   struct decision *out);

/* What became of a decision. */
enum outcome {
	OUTCOME_NOT_APPLIED = 0,  /* nothing to do, hold, dry-run, Recommend */
	OUTCOME_APPLIED,          /* the cluster was changed */
	OUTCOME_FAILED,           /* applying failed */
};

/* Remember a decision made at now_ms in h: the recommendation (when
 * there is one), a sample of o's advised container, and when applied the
 * scale event and the resize time; the last decisions list gets its
 * action ("failed" when applying failed) and error (else reason). The
 * replicas ipad wrote: an applied scale sets written_replicas/written_ms,
 * a failed apply forgets them (what reached the cluster is unknown), any
 * other outcome takes o->replicas as the new baseline. Pure. */
void policy_remember(struct history *h, const struct observation *o,
		     const struct decision *d, enum outcome outcome,
		     const char *error, int64_t now_ms);

/* "scale", "resize", "scale+resize", "none", "hold". */
const char *action_name(enum action a);

#endif
