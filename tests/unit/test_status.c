/* Unit tests of status.c: an IPA's .status from its targets' outcomes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"

/* 2023-11-14T22:13:20Z */
#define NOW INT64_C(1700000000000)
#define NOW_TEXT "2023-11-14T22:13:20Z"

static struct target target(const char *deployment, int item)
{
	return (struct target){ .namespace = "shop", .deployment = (char *)deployment,
				.ipa_namespace = "shop", .ipa_name = "my-ipa",
				.ipa_generation = 3, .ipa_item = item,
				.min_replicas = 1, .max_replicas = 10 };
}

static struct observation observation(int32_t replicas)
{
	return (struct observation){ .replicas = replicas, .request_rate = NAN };
}

static struct decision decision(enum action a, int32_t from, int32_t to, int priority,
				const char *reason)
{
	struct decision d = { .action = a, .priority = priority, .replicas_from = from,
			      .replicas_to = to, .recommendation = -1 };

	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	return d;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static const cJSON *condition(const cJSON *st, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "conditions"))
		if (strcmp(str(c, "type"), type) == 0)
			return c;
	fail_msg("no condition %s", type);
	return NULL;
}

static void test_guardrail_names(void **state)
{
	static const struct { const char *reason, *want; } cases[] = {
		{ "advice 40 → 12: maxReplicas", "TooManyReplicas" },
		{ "advice 0 → 2: minReplicas", "TooFewReplicas" },
		{ "advice 3 → 8: scale-down stabilization (highest recommendation of the last 5m)",
		  "ScaleDownStabilized" },
		{ "advice 6 → 4: scale-up stabilization (lowest ...)", "ScaleUpStabilized" },
		{ "advice 1000000000 → 10: maxReplicas; advice 10 → 7: scale-up limit (...)",
		  "TooManyReplicas" },
		{ "advice 20 → 6: scale-up limit (4 pods per 15s)", "RateLimited" },
		{ "advice 4 → 9: scale-down limit (1 pods per 1m)", "RateLimited" },
		{ "memory request 8Gi → 2Gi: maxAllowed", "ResourcesBounded" },
		{ "resources kept: last resize 5m ago, cooldown 30m", "ResizeDeferred" },
		{ "replicas is 0 on the Deployment while minReplicas is 1: scaling is disabled for it",
		  "ScalingDisabled" },
		{ "something new", "GuardrailApplied" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(status_guardrail(cases[i].reason), cases[i].want) != 0)
			fail_msg("%s: %s", cases[i].reason, status_guardrail(cases[i].reason));
}

/* The state and reason of one record. */
static void test_record_states(void **state)
{
	struct target t = target("web", 0);
	struct observation o = observation(3);
	struct advice a = { .replicas = 3 };
	struct decision d;
	struct decision_record rec = { .target = &t, .advisor = "ipa-agent",
				       .observation = &o, .advice = &a,
				       .advisor_latency_ms = 1200, .decision = &d };
	struct status_item it = { 0 };

	(void)state;
	d = decision(ACTION_SCALE, 3, 5, 6, "");
	status_item_record(&it, &rec, OUTCOME_APPLIED, false, NOW);
	assert_int_equal(it.state, STATUS_ACTIVE);
	assert_null(it.reason);
	assert_string_equal(it.last_action, "scaled shop/web 3→5");
	assert_true(it.last_action_ms == NOW);
	assert_string_equal(it.advisor, "ipa-agent");
	assert_int_equal(it.current_replicas, 3);
	assert_int_equal(it.desired_replicas, 5);

	/* a guardrail clipped it; the last action stays */
	d = decision(ACTION_HOLD, 3, 3, 5, "advice 40 → 10: maxReplicas");
	rec.advisor_latency_ms = -1;      /* not asked: the last advisor stays */
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, false, NOW + 60000);
	assert_int_equal(it.state, STATUS_LIMITED);
	assert_string_equal(it.reason, "TooManyReplicas");
	assert_string_equal(it.message, "advice 40 → 10: maxReplicas");
	assert_string_equal(it.last_action, "scaled shop/web 3→5");
	assert_true(it.last_action_ms == NOW);
	assert_string_equal(it.advisor, "ipa-agent");
	assert_int_equal(it.advisor_latency_ms, 1200);

	o.paused = true;
	d = decision(ACTION_HOLD, 3, 3, 6, "paused by the annotation ...");
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, false, NOW);
	assert_int_equal(it.state, STATUS_PAUSED);
	assert_string_equal(it.reason, "Paused");
	o.paused = false;

	d = decision(ACTION_HOLD, 3, 3, 4, "HorizontalPodAutoscaler web also scales ...");
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, true, NOW);
	assert_int_equal(it.state, STATUS_HELD);
	assert_string_equal(it.reason, "ConflictingAutoscaler");

	d = decision(ACTION_HOLD, 7, 7, 5, "spec.replicas changed from 4 to 7 outside ipad");
	d.outside_change = true;
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, false, NOW);
	assert_string_equal(it.reason, "ReplicasChangedOutside");

	d = decision(ACTION_HOLD, 3, 3, 4, "no advice: agent answered HTTP 500");
	rec.advice = NULL;
	rec.advisor_latency_ms = 30;
	rec.error = "agent answered HTTP 500";
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, false, NOW);
	assert_int_equal(it.state, STATUS_HELD);
	assert_string_equal(it.reason, "AdvisorFailed");
	assert_string_equal(it.error, "agent answered HTTP 500");

	rec.advice = &a;
	rec.error = NULL;
	o.metrics_missing = "CPU usage of web";
	d = decision(ACTION_HOLD, 3, 3, 4, "no metrics at all (CPU usage of web): nothing to decide on");
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, false, NOW);
	assert_string_equal(it.reason, "FailedGetMetrics");
	assert_string_equal(it.error, "");
	o.metrics_missing = NULL;

	d = decision(ACTION_SCALE, 3, 5, 6, "");
	rec.apply_failed = true;
	rec.error = "PATCH ...: 409 Conflict";
	status_item_record(&it, &rec, OUTCOME_FAILED, false, NOW + 1);
	assert_int_equal(it.state, STATUS_FAILED);
	assert_string_equal(it.reason, "FailedRescale");
	assert_true(it.last_action_ms == NOW);  /* nothing applied */

	rec.apply_failed = false;
	rec.observation = NULL;
	rec.decision = NULL;
	rec.error = "GET ...: 404 NotFound: deployments.apps \"web\" not found";
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, false, NOW);
	assert_int_equal(it.state, STATUS_FAILED);
	assert_string_equal(it.reason, "FailedGetDeployment");
	assert_int_equal(it.current_replicas, -1);

	t.refused = "shop/web is claimed by IPA shop/first (item 0) since it was created first";
	status_item_record(&it, &rec, OUTCOME_NOT_APPLIED, false, NOW);
	assert_int_equal(it.state, STATUS_REFUSED);
	assert_string_equal(it.reason, "ConflictingClaim");
}

/* Two items (given out of order), one scaled under a guardrail, one paused. */
static void test_compose(void **state)
{
	struct target t0 = target("web", 0), t1 = target("api", 1);
	struct status_item a = { .target = &t0, .state = STATUS_LIMITED,
				 .reason = "TooManyReplicas",
				 .message = "advice 40 → 10: maxReplicas",
				 .current_replicas = 8, .desired_replicas = 10,
				 .advisor = "ipa-agent", .advisor_latency_ms = 850,
				 .last_action = "scaled shop/web 8→10",
				 .last_action_ms = NOW - 60000 };
	struct status_item b = { .target = &t1, .state = STATUS_PAUSED, .reason = "Paused",
				 .message = "paused by the annotation ipa.shafinhasnat.me/paused "
					    "on Deployment shop/api",
				 .current_replicas = 2, .desired_replicas = 2,
				 .advisor_latency_ms = -1 };
	const struct status_item *items[] = { &b, &a };
	cJSON *st, *st2, *item;
	const cJSON *c;

	(void)state;
	st = status_compose(items, 2, NULL, NOW);
	assert_non_null(st);
	assert_string_equal(str(st, "status"), "Success");
	assert_true(num(st, "observedGeneration") == 3);
	assert_true(num(st, "targets") == 2);
	assert_string_equal(str(st, "lastAction"),
			    "scaled shop/web 8→10 at 2023-11-14T22:12:20Z");
	assert_string_equal(str(st, "lastActionTime"), "2023-11-14T22:12:20Z");

	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "items"), 0);
	assert_string_equal(str(item, "deployment"), "web");
	assert_string_equal(str(item, "namespace"), "shop");
	assert_string_equal(str(item, "state"), "Limited");
	assert_string_equal(str(item, "reason"), "TooManyReplicas");
	assert_true(num(item, "currentReplicas") == 8);
	assert_true(num(item, "desiredReplicas") == 10);
	assert_string_equal(str(item, "lastAction"), "scaled shop/web 8→10");
	assert_string_equal(str(item, "lastActionTime"), "2023-11-14T22:12:20Z");
	assert_string_equal(str(item, "lastAdvisor"), "ipa-agent");
	assert_true(num(item, "lastAdvisorLatencyMs") == 850);
	assert_null(cJSON_GetObjectItemCaseSensitive(item, "lastError"));
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "items"), 1);
	assert_string_equal(str(item, "deployment"), "api");
	assert_string_equal(str(item, "state"), "Paused");
	assert_null(cJSON_GetObjectItemCaseSensitive(item, "lastAdvisor"));
	assert_null(cJSON_GetObjectItemCaseSensitive(item, "lastAction"));

	c = condition(st, "Ready");
	assert_string_equal(str(c, "status"), "True");
	assert_string_equal(str(c, "reason"), "TargetsLoaded");
	assert_true(num(c, "observedGeneration") == 3);
	assert_string_equal(str(c, "lastTransitionTime"), NOW_TEXT);
	c = condition(st, "ScalingActive");
	assert_string_equal(str(c, "status"), "False");
	assert_string_equal(str(c, "reason"), "Paused");
	assert_non_null(strstr(str(c, "message"), "shop/api: paused by the annotation"));
	c = condition(st, "ScalingLimited");
	assert_string_equal(str(c, "status"), "True");
	assert_string_equal(str(c, "reason"), "TooManyReplicas");
	assert_string_equal(str(c, "message"), "shop/web: advice 40 → 10: maxReplicas");

	/* A minute later the pause is gone: ScalingActive turns (now), Ready
	 * and ScalingLimited keep their transition time. */
	b.state = STATUS_ACTIVE;
	b.reason = NULL;
	b.message[0] = '\0';
	st2 = status_compose(items, 2, cJSON_GetObjectItemCaseSensitive(st, "conditions"),
			     NOW + 60000);
	assert_non_null(st2);
	assert_string_equal(str(condition(st2, "Ready"), "lastTransitionTime"), NOW_TEXT);
	assert_string_equal(str(condition(st2, "ScalingLimited"), "lastTransitionTime"), NOW_TEXT);
	c = condition(st2, "ScalingActive");
	assert_string_equal(str(c, "status"), "True");
	assert_string_equal(str(c, "reason"), "ValidAdvice");
	assert_string_equal(str(c, "lastTransitionTime"), "2023-11-14T22:14:20Z");
	cJSON_Delete(st);
	cJSON_Delete(st2);
}

/* A refused item: Ready False, not counted, the operator's string an error. */
static void test_compose_refused(void **state)
{
	struct target t0 = target("web", 0), t1 = target("api", 1);
	struct status_item a = { .target = &t0, .state = STATUS_REFUSED,
				 .reason = "ConflictingClaim",
				 .message = "claimed by IPA shop/first (created first)",
				 .current_replicas = -1, .desired_replicas = -1,
				 .advisor_latency_ms = -1 };
	struct status_item b = { .target = &t1, .state = STATUS_FAILED,
				 .reason = "FailedGetDeployment",
				 .message = "deployments.apps \"api\" not found",
				 .error = "deployments.apps \"api\" not found",
				 .current_replicas = -1, .desired_replicas = -1,
				 .advisor_latency_ms = -1 };
	const struct status_item *items[] = { &a, &b };
	const cJSON *item;
	cJSON *st;

	(void)state;
	st = status_compose(items, 2, NULL, NOW);
	assert_non_null(st);
	assert_true(num(st, "targets") == 1);
	assert_string_equal(str(st, "status"), "shop/api: deployments.apps \"api\" not found");
	assert_null(cJSON_GetObjectItemCaseSensitive(st, "lastAction"));
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "items"), 0);
	assert_string_equal(str(item, "state"), "Refused");
	assert_null(cJSON_GetObjectItemCaseSensitive(item, "currentReplicas"));
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "items"), 1);
	assert_string_equal(str(item, "lastError"), "deployments.apps \"api\" not found");
	assert_string_equal(str(condition(st, "Ready"), "status"), "False");
	assert_string_equal(str(condition(st, "Ready"), "reason"), "ConflictingClaim");
	assert_string_equal(str(condition(st, "Ready"), "message"),
			    "shop/web: claimed by IPA shop/first (created first)");
	assert_string_equal(str(condition(st, "ScalingActive"), "reason"), "FailedGetDeployment");
	assert_string_equal(str(condition(st, "ScalingLimited"), "status"), "False");
	cJSON_Delete(st);

	/* nothing left to manage */
	b = a;
	b.target = &t1;
	st = status_compose(items, 2, NULL, NOW);
	assert_non_null(st);
	assert_true(num(st, "targets") == 0);
	assert_string_equal(str(condition(st, "ScalingActive"), "reason"), "ConflictingClaim");
	cJSON_Delete(st);
}

/* After a restart: the item's last action comes back from the object. */
static void test_resume(void **state)
{
	struct target t = target("web", 0);
	struct status_item it = { .target = &t, .advisor_latency_ms = -1 };
	cJSON *prev = cJSON_Parse("{\"items\":["
		"{\"deployment\":\"api\",\"namespace\":\"shop\",\"lastAction\":\"x\","
		"\"lastActionTime\":\"2023-11-14T22:00:00Z\"},"
		"{\"deployment\":\"web\",\"namespace\":\"shop\","
		"\"lastAction\":\"scaled shop/web 8→10\","
		"\"lastActionTime\":\"2023-11-14T22:12:20Z\"}]}");

	(void)state;
	assert_non_null(prev);
	status_item_resume(&it, prev);
	assert_string_equal(it.last_action, "scaled shop/web 8→10");
	assert_true(it.last_action_ms == NOW - 60000);
	/* its own is kept */
	snprintf(it.last_action, sizeof(it.last_action), "scaled shop/web 10→3");
	it.last_action_ms = NOW;
	status_item_resume(&it, prev);
	assert_string_equal(it.last_action, "scaled shop/web 10→3");
	cJSON_Delete(prev);

	/* a time in another shape is ignored */
	it.last_action_ms = 0;
	it.last_action[0] = '\0';
	prev = cJSON_Parse("{\"items\":[{\"deployment\":\"web\",\"namespace\":\"shop\","
			   "\"lastAction\":\"y\",\"lastActionTime\":\"yesterday\"}]}");
	status_item_resume(&it, prev);
	assert_true(it.last_action_ms == 0);
	status_item_resume(&it, NULL);
	assert_true(it.last_action_ms == 0);
	cJSON_Delete(prev);
}

static void test_invalid(void **state)
{
	(void)state;
	cJSON *st = status_invalid("spec.metadata.ipaGroup: is required", 3, NULL,
				   INT64_C(1796000000000));
	assert_non_null(st);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(st, "status")),
			    "spec.metadata.ipaGroup: is required");
	assert_int_equal(cJSON_GetObjectItem(st, "observedGeneration")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(st, "targets")->valueint, 0);
	const cJSON *ready = condition(st, "Ready"), *active = condition(st, "ScalingActive");
	assert_non_null(ready);
	assert_non_null(active);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ready, "status")), "False");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ready, "reason")),
			    "InvalidSpec");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ready, "message")),
			    "spec.metadata.ipaGroup: is required");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(active, "reason")),
			    "InvalidSpec");
	/* Still invalid a minute later: the transition time stays. */
	cJSON *again = status_invalid("other problem", 4,
				      cJSON_GetObjectItem(st, "conditions"),
				      INT64_C(1796000060000));
	assert_non_null(again);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(condition(again, "Ready"),
								      "lastTransitionTime")),
			    cJSON_GetStringValue(cJSON_GetObjectItem(ready, "lastTransitionTime")));
	cJSON_Delete(again);
	cJSON_Delete(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guardrail_names),
		cmocka_unit_test(test_record_states),
		cmocka_unit_test(test_compose),
		cmocka_unit_test(test_compose_refused),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
