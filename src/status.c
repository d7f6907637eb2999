/* status — see status.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"

#define CONDITION_MESSAGE_MAX 1024

const char *status_state_name(enum status_state s)
{
	switch (s) {
	case STATUS_LIMITED: return "Limited";
	case STATUS_HELD: return "Held";
	case STATUS_PAUSED: return "Paused";
	case STATUS_REFUSED: return "Refused";
	case STATUS_FAILED: return "Failed";
	case STATUS_ACTIVE: break;
	}
	return "Active";
}

const char *status_guardrail(const char *reason)
{
	static const struct { const char *text, *reason; } known[] = {
		{ ": maxReplicas", "TooManyReplicas" },
		{ ": minReplicas", "TooFewReplicas" },
		{ "scale-up stabilization", "ScaleUpStabilized" },
		{ "scale-down stabilization", "ScaleDownStabilized" },
		{ "scale-up limit", "RateLimited" },
		{ "scale-down limit", "RateLimited" },
		{ "scaling is disabled", "ScalingDisabled" },
		{ "resources kept", "ResizeDeferred" },
		{ ": minAllowed", "ResourcesBounded" },
		{ ": maxAllowed", "ResourcesBounded" },
		{ ": largest node's allocatable", "ResourcesBounded" },
		{ ": recent peak working set", "ResourcesBounded" },
		{ ": raised after", "ResourcesBounded" },
		{ ": not below the request", "ResourcesBounded" },
		{ ": the limit it keeps", "ResourcesBounded" },
	};
	const char *first = NULL, *at;
	const char *r = "GuardrailApplied";
	size_t i;

	for (i = 0; reason && i < sizeof(known) / sizeof(known[0]); i++)
		if ((at = strstr(reason, known[i].text)) && (!first || at < first)) {
			first = at;
			r = known[i].reason;
		}
	return r;
}

static void rfc3339(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void set(struct status_item *it, enum status_state state, const char *reason,
		const char *message)
{
	it->state = state;
	it->reason = reason;
	snprintf(it->message, sizeof(it->message), "%.*s", (int)sizeof(it->message) - 1,
		 message ? message : "");
}

void status_item_record(struct status_item *it, const struct decision_record *rec,
			enum outcome outcome, bool conflict, int64_t now_ms)
{
	const struct target *t = rec->target;
	const struct observation *o = rec->observation;
	const struct decision *d = rec->decision;
	char key[200];

	it->target = t;
	it->current_replicas = o ? o->replicas : -1;
	it->desired_replicas = d ? d->replicas_to : it->current_replicas;
	snprintf(it->error, sizeof(it->error), "%.*s", (int)sizeof(it->error) - 1,
		 rec->error ? rec->error : "");
	if (rec->advisor_latency_ms >= 0) {
		snprintf(it->advisor, sizeof(it->advisor), "%s",
			 rec->fallback ? rec->fallback : rec->advisor);
		it->advisor_latency_ms = rec->advisor_latency_ms;
	} else if (!it->advisor[0]) {
		it->advisor_latency_ms = -1;
	}
	if (outcome == OUTCOME_APPLIED && d && d->action != ACTION_HOLD &&
	    d->action != ACTION_NONE) {
		target_key(t, key, sizeof(key));
		if (d->action == ACTION_SCALE)
			snprintf(it->last_action, sizeof(it->last_action), "scaled %s %d→%d",
				 key, d->replicas_from, d->replicas_to);
		else if (d->action == ACTION_RESIZE)
			snprintf(it->last_action, sizeof(it->last_action),
				 "resized %s container %s", key, d->container ? d->container : "?");
		else
			snprintf(it->last_action, sizeof(it->last_action),
				 "scaled %s %d→%d and resized container %s", key,
				 d->replicas_from, d->replicas_to,
				 d->container ? d->container : "?");
		it->last_action_ms = now_ms;
	}

	if (t->refused)
		set(it, STATUS_REFUSED, "ConflictingClaim", t->refused);
	else if (!o || !d)
		set(it, STATUS_FAILED, "FailedGetDeployment", rec->error);
	else if (d->action == ACTION_HOLD && (o->paused || t->paused))
		set(it, STATUS_PAUSED, "Paused", d->reason);
	else if (conflict)
		set(it, STATUS_HELD, "ConflictingAutoscaler", d->reason);
	else if (rec->apply_failed)
		set(it, STATUS_FAILED, "FailedRescale", rec->error);
	else if (d->outside_change)
		set(it, STATUS_HELD, "ReplicasChangedOutside", d->reason);
	else if (!rec->advice)
		set(it, STATUS_HELD, rec->advisor_latency_ms >= 0 ? "AdvisorFailed"
		    : "NotEvaluated", d->reason[0] ? d->reason : rec->error);
	else if (d->action == ACTION_HOLD && d->priority <= DECISION_PRIORITY_FAILURE)
		set(it, STATUS_HELD, o->metrics_missing ? "FailedGetMetrics" : "NotEvaluated",
		    d->reason[0] ? d->reason : rec->error);
	else if (d->reason[0] && strcmp(status_guardrail(d->reason), "ScalingDisabled") == 0)
		set(it, STATUS_HELD, "ScalingDisabled", d->reason);
	else if (d->reason[0])
		set(it, STATUS_LIMITED, status_guardrail(d->reason), d->reason);
	else
		set(it, STATUS_ACTIVE, NULL, NULL);
}

/* "2026-11-30T02:41:07Z" (what rfc3339() writes; fractions and offsets
 * are not) to Unix ms; -1 when it is not that. */
static int64_t parse_rfc3339(const char *text)
{
	struct tm tm = { 0 };
	char z = 0;
	int n = 0;

	if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon,
			    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &n) != 7 ||
	    z != 'Z' || text[n] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000;
}

void status_item_resume(struct status_item *it, const cJSON *previous)
{
	const cJSON *e;

	if (!it->target || it->last_action_ms > 0)
		return;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(previous, "items")) {
		const cJSON *dep = cJSON_GetObjectItemCaseSensitive(e, "deployment");
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(e, "namespace");
		const cJSON *what = cJSON_GetObjectItemCaseSensitive(e, "lastAction");
		const cJSON *when = cJSON_GetObjectItemCaseSensitive(e, "lastActionTime");
		int64_t ms;

		if (!cJSON_IsString(dep) || !cJSON_IsString(ns) || !cJSON_IsString(what) ||
		    !cJSON_IsString(when) || strcmp(dep->valuestring, it->target->deployment) != 0 ||
		    strcmp(ns->valuestring, it->target->namespace) != 0)
			continue;
		ms = parse_rfc3339(when->valuestring);
		if (ms > 0) {
			snprintf(it->last_action, sizeof(it->last_action), "%.*s",
				 (int)sizeof(it->last_action) - 1, what->valuestring);
			it->last_action_ms = ms;
		}
		return;
	}
}

/* ---- composing --------------------------------------------------------- */

static int by_item(const void *a, const void *b)
{
	const struct status_item *x = *(const struct status_item *const *)a;
	const struct status_item *y = *(const struct status_item *const *)b;

	return (x->target->ipa_item > y->target->ipa_item) -
	       (x->target->ipa_item < y->target->ipa_item);
}

/* Append "ns/name: text" to buf ("; "-separated), cut at the buffer. */
static void add_part(char *buf, size_t len, const struct status_item *it, const char *text)
{
	size_t used = strlen(buf);

	if (used + 8 >= len)
		return;
	snprintf(buf + used, len - used, "%s%s/%s: %s", used ? "; " : "",
		 it->target->namespace, it->target->deployment, text);
}

static bool add_condition(cJSON *conds, const cJSON *previous, const char *type,
			  bool status, const char *reason, const char *message,
			  long long generation, int64_t now_ms)
{
	const char *st = status ? "True" : "False";
	const cJSON *p, *when = NULL;
	char ts[32];
	cJSON *c = cJSON_CreateObject();

	cJSON_ArrayForEach(p, previous) {
		const cJSON *pt = cJSON_GetObjectItemCaseSensitive(p, "type");
		const cJSON *ps = cJSON_GetObjectItemCaseSensitive(p, "status");
		if (cJSON_IsString(pt) && strcmp(pt->valuestring, type) == 0 &&
		    cJSON_IsString(ps) && strcmp(ps->valuestring, st) == 0)
			when = cJSON_GetObjectItemCaseSensitive(p, "lastTransitionTime");
	}
	rfc3339(now_ms, ts, sizeof(ts));
	if (!c || !cJSON_AddItemToArray(conds, c)) {
		cJSON_Delete(c);
		return false;
	}
	return cJSON_AddStringToObject(c, "type", type) &&
	       cJSON_AddStringToObject(c, "status", st) &&
	       cJSON_AddStringToObject(c, "reason", reason) &&
	       cJSON_AddStringToObject(c, "message", message) &&
	       cJSON_AddStringToObject(c, "lastTransitionTime",
				       cJSON_IsString(when) ? when->valuestring : ts) &&
	       cJSON_AddNumberToObject(c, "observedGeneration", (double)generation);
}

static bool add_item(cJSON *arr, const struct status_item *it)
{
	const struct target *t = it->target;
	cJSON *o = cJSON_CreateObject();
	char ts[32];
	bool ok;

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	ok = cJSON_AddStringToObject(o, "deployment", t->deployment) &&
	     cJSON_AddStringToObject(o, "namespace", t->namespace) &&
	     cJSON_AddStringToObject(o, "state", status_state_name(it->state));
	if (ok && it->reason)
		ok = cJSON_AddStringToObject(o, "reason", it->reason) != NULL;
	if (ok && it->message[0])
		ok = cJSON_AddStringToObject(o, "message", it->message) != NULL;
	if (ok && it->current_replicas >= 0)
		ok = cJSON_AddNumberToObject(o, "currentReplicas", it->current_replicas) != NULL;
	if (ok && it->desired_replicas >= 0)
		ok = cJSON_AddNumberToObject(o, "desiredReplicas", it->desired_replicas) != NULL;
	if (ok && it->last_action_ms > 0) {
		rfc3339(it->last_action_ms, ts, sizeof(ts));
		ok = cJSON_AddStringToObject(o, "lastAction", it->last_action) &&
		     cJSON_AddStringToObject(o, "lastActionTime", ts);
	}
	if (ok && it->advisor[0])
		ok = cJSON_AddStringToObject(o, "lastAdvisor", it->advisor) &&
		     cJSON_AddNumberToObject(o, "lastAdvisorLatencyMs",
					     (double)it->advisor_latency_ms);
	if (ok && it->error[0])
		ok = cJSON_AddStringToObject(o, "lastError", it->error) != NULL;
	return ok;
}

/* The reasons that make ScalingActive False, the most telling first. */
static const char *const inactive_order[] = {
	"ConflictingAutoscaler", "Paused", "FailedGetMetrics", "AdvisorFailed",
	"FailedGetDeployment", "FailedRescale", "ScalingDisabled",
	"ReplicasChangedOutside", "NotEvaluated",
};
#define INACTIVE_N (sizeof(inactive_order) / sizeof(inactive_order[0]))

cJSON *status_compose(const struct status_item **items, size_t n,
		      const cJSON *previous, int64_t now_ms)
{
	char refused[CONDITION_MESSAGE_MAX] = "", inactive[CONDITION_MESSAGE_MAX] = "";
	char limited[CONDITION_MESSAGE_MAX] = "", msg[CONDITION_MESSAGE_MAX], ts[32];
	const struct status_item *newest = NULL, *first_error = NULL, *first_limited = NULL;
	const char *inactive_reason = NULL;
	size_t i, k, managed = 0, rank = INACTIVE_N + 1;
	long long generation = 0;
	cJSON *st = cJSON_CreateObject(), *arr, *conds;
	bool ok;

	if (!st)
		return NULL;
	qsort(items, n, sizeof(*items), by_item);
	for (i = 0; i < n; i++) {
		const struct status_item *it = items[i];
		if (it->target->ipa_generation > generation)
			generation = it->target->ipa_generation;
		if (it->last_action_ms > 0 && (!newest || it->last_action_ms > newest->last_action_ms))
			newest = it;
		if (it->error[0] && !first_error)
			first_error = it;
		if (it->state == STATUS_REFUSED) {
			add_part(refused, sizeof(refused), it, it->message);
			continue;
		}
		managed++;
		if (it->state == STATUS_LIMITED) {
			if (!first_limited)
				first_limited = it;
			add_part(limited, sizeof(limited), it, it->message);
		} else if (it->state != STATUS_ACTIVE) {
			add_part(inactive, sizeof(inactive), it, it->message[0] ? it->message
				 : status_state_name(it->state));
			for (k = 0; k < INACTIVE_N; k++)
				if (it->reason && strcmp(it->reason, inactive_order[k]) == 0)
					break;
			if (k < rank) {
				rank = k;
				inactive_reason = it->reason ? it->reason : "NotEvaluated";
			}
		}
	}

	if (first_error)
		snprintf(msg, sizeof(msg), "%s/%s: %s", first_error->target->namespace,
			 first_error->target->deployment, first_error->error);
	else
		snprintf(msg, sizeof(msg), "Success");
	ok = cJSON_AddStringToObject(st, "status", msg) &&
	     cJSON_AddNumberToObject(st, "observedGeneration", (double)generation) &&
	     cJSON_AddNumberToObject(st, "targets", (double)managed);
	if (ok && newest) {
		rfc3339(newest->last_action_ms, ts, sizeof(ts));
		snprintf(msg, sizeof(msg), "%s at %s", newest->last_action, ts);
		ok = cJSON_AddStringToObject(st, "lastAction", msg) &&
		     cJSON_AddStringToObject(st, "lastActionTime", ts);
	}
	ok = ok && (arr = cJSON_AddArrayToObject(st, "items"));
	for (i = 0; ok && i < n; i++)
		ok = add_item(arr, items[i]);
	ok = ok && (conds = cJSON_AddArrayToObject(st, "conditions"));

	if (ok && refused[0])
		ok = add_condition(conds, previous, "Ready", false, "ConflictingClaim", refused,
				   generation, now_ms);
	else if (ok) {
		snprintf(msg, sizeof(msg), "%zu item%s evaluated every cycle", managed,
			 managed == 1 ? " is" : "s are");
		ok = add_condition(conds, previous, "Ready", true, "TargetsLoaded", msg,
				   generation, now_ms);
	}
	if (ok && managed == 0)
		ok = add_condition(conds, previous, "ScalingActive", false, "ConflictingClaim",
				   "no item is managed by ipad: every Deployment is claimed "
				   "by another IPA", generation, now_ms);
	else if (ok && inactive_reason)
		ok = add_condition(conds, previous, "ScalingActive", false, inactive_reason,
				   inactive, generation, now_ms);
	else if (ok)
		ok = add_condition(conds, previous, "ScalingActive", true, "ValidAdvice",
				   "the advice is applied within the guardrails",
				   generation, now_ms);
	if (ok && first_limited)
		ok = add_condition(conds, previous, "ScalingLimited", true, first_limited->reason,
				   limited, generation, now_ms);
	else if (ok)
		ok = add_condition(conds, previous, "ScalingLimited", false, "DesiredWithinRange",
				   "the desired counts are within the guardrails",
				   generation, now_ms);
	if (!ok) {
		cJSON_Delete(st);
		return NULL;
	}
	return st;
}

cJSON *status_invalid(const char *message, long long generation, const cJSON *previous,
		      int64_t now_ms)
{
	cJSON *st = cJSON_CreateObject(), *conds;
	bool ok = st && cJSON_AddStringToObject(st, "status", message) &&
		  cJSON_AddNumberToObject(st, "observedGeneration", (double)generation) &&
		  cJSON_AddNumberToObject(st, "targets", 0) &&
		  cJSON_AddArrayToObject(st, "items") &&
		  (conds = cJSON_AddArrayToObject(st, "conditions")) &&
		  add_condition(conds, previous, "Ready", false, "InvalidSpec", message,
				generation, now_ms) &&
		  add_condition(conds, previous, "ScalingActive", false, "InvalidSpec",
				"ipad manages none of the items until the spec is fixed",
				generation, now_ms);

	if (!ok) {
		cJSON_Delete(st);
		return NULL;
	}
	return st;
}
