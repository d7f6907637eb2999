/* status — what ipad writes into .status of an IPA custom resource (through
 * the status subresource, PATCH .../ipas/NAME/status with
 * application/merge-patch+json, one per IPA per cycle; scheduler.c sends it).
 *
 * The status, composed by status_compose() from the outcomes of the IPA's
 * targets in this cycle (pure: no I/O, no clock):
 *   status              the original operator's string: "Success", or the
 *                       first item's error ("shop/web: GET ...: 404 ...")
 *   observedGeneration  the metadata.generation the targets were built from
 *   targets             items ipad manages (not refused); printer column
 *   lastAction          the newest change ipad applied to one of the items,
 *                       "scaled shop/web 2→4 at 2026-11-30T02:41:07Z";
 *                       printer column; left out (the object keeps its
 *                       value, merge patch) while ipad applied nothing
 *   lastActionTime      RFC 3339, with lastAction
 *   items[]             one per ipaGroup item, in item order: deployment,
 *                       namespace, state (Active, Limited, Held, Paused,
 *                       Refused, Failed), reason (CamelCase, not when
 *                       Active), message, currentReplicas, desiredReplicas,
 *                       lastAction, lastActionTime, lastAdvisor,
 *                       lastAdvisorLatencyMs (milliseconds), lastError
 *                       (left out when none)
 *   conditions[]        metav1.Condition (type, status "True"/"False",
 *                       reason, message, lastTransitionTime — changed only
 *                       when status changes —, observedGeneration):
 *     Ready          False ConflictingClaim when an item is refused, else
 *                    True TargetsLoaded (an object with an error in its
 *                    spec gets status_invalid() instead);
 *     ScalingActive  False when an item is not scaled: the reason of the
 *                    first in this order: ConflictingAutoscaler, Paused,
 *                    FailedGetMetrics, AdvisorFailed, FailedGetDeployment,
 *                    FailedRescale, ScalingDisabled, ReplicasChangedOutside,
 *                    NotEvaluated; ConflictingClaim when every item is
 *                    refused; else True ValidAdvice;
 *     ScalingLimited True when a guardrail changed the advice of an item,
 *                    the reason naming the guardrail (status_guardrail());
 *                    else False DesiredWithinRange.
 * The vocabulary follows the HorizontalPodAutoscaler's conditions. */
#ifndef IPAD_STATUS_H
#define IPAD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "journal.h"
#include "policy.h"
#include "target.h"

enum status_state {
	STATUS_ACTIVE = 0,   /* evaluated; the decision applied or nothing to do */
	STATUS_LIMITED,      /* a guardrail changed the advice */
	STATUS_HELD,         /* nothing changed: another autoscaler, a failure
				of the advisor or Prometheus, a change outside */
	STATUS_PAUSED,       /* the ipa.shafinhasnat.me/paused annotation */
	STATUS_REFUSED,      /* another IPA claimed the Deployment first */
	STATUS_FAILED,       /* not observed, or applying failed */
};

/* "Active", "Limited", ... */
const char *status_state_name(enum status_state s);

/* What the status says about one target; kept across cycles by the
 * scheduler (lastAction and lastAdvisor survive cycles without them). */
struct status_item {
	const struct target *target;  /* borrowed; NULL: nothing recorded */
	enum status_state state;
	const char *reason;           /* static CamelCase, NULL when Active */
	char message[512];            /* why, "" when Active */
	int32_t current_replicas;     /* spec.replicas, -1: unknown */
	int32_t desired_replicas;     /* the decision's, -1: unknown */
	char advisor[24];             /* the last advisor asked, "" never */
	long advisor_latency_ms;      /* its latency, -1: never asked */
	char error[512];              /* this cycle's error, "" none */
	char last_action[256];        /* "scaled shop/web 2→4", "" none */
	int64_t last_action_ms;       /* Unix ms, 0: none */
};

/* Fill it from one target's record of this cycle: outcome of the
 * decision, conflict when another autoscaler held it, now_ms (Unix ms)
 * the time of an applied change. rec->target must stay valid as long as
 * it is used. */
void status_item_record(struct status_item *it, const struct decision_record *rec,
			enum outcome outcome, bool conflict, int64_t now_ms);

/* After a restart or a rebuild of the targets: take its lastAction and
 * lastActionTime from the entry for the same Deployment in previous, the
 * .status the IPA object carries (NULL: none), when it has none itself.
 * An entry whose time is not RFC 3339 ("2026-11-30T02:41:07Z") is
 * ignored. */
void status_item_resume(struct status_item *it, const cJSON *previous);

/* The CamelCase condition reason of the first guardrail that the
 * decision's reason text (policy.h) names: TooManyReplicas (maxReplicas),
 * TooFewReplicas (minReplicas), ScaleUpStabilized, ScaleDownStabilized,
 * RateLimited (scale-up or scale-down limit), ScalingDisabled (replicas 0),
 * ResizeDeferred (resources kept), ResourcesBounded (minAllowed,
 * maxAllowed, node size, memory floor, limit rules); GuardrailApplied when
 * none is known. */
const char *status_guardrail(const char *decision_reason);

/* The .status object of one IPA from its items (n >= 1, all of the same
 * IPA; sorted here by ipa_item), previous the conditions array last sent
 * (NULL: none; a condition whose status is unchanged keeps its
 * lastTransitionTime), now_ms the time of this status (Unix ms).
 * Returns a new cJSON object (the caller frees it), or NULL when out of
 * memory. */
cJSON *status_compose(const struct status_item **items, size_t n,
		      const cJSON *previous, int64_t now_ms);

/* The .status of an IPA object whose spec has an error (registry.h), so
 * that it gives no target: status the message, observedGeneration
 * generation, targets 0, no items, Ready and ScalingActive False with
 * reason InvalidSpec and the message (previous and now_ms as in
 * status_compose()). A new cJSON object, or NULL when out of memory. */
cJSON *status_invalid(const char *message, long long generation, const cJSON *previous,
		      int64_t now_ms);

#endif
