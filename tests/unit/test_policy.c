/* Table-driven tests of the decision (policy.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define MI (INT64_C(1024) * 1024)
#define U RESOURCE_UNSET

struct policy_case {
	const char *name;
	/* target */
	int min, max;
	/* observation */
	int32_t replicas;
	struct resources current;
	bool rollout;
	const char *missing;
	/* advice: replicas -2 = advisor failed */
	int32_t advice_replicas;
	struct resources advised;
	bool advice_has_resources;
	/* expected */
	enum action action;
	int32_t replicas_to;
	struct resources resources_to;
	int priority;
	const char *reason; /* part of the reason, or NULL for "" */
};

static const struct policy_case cases[] = {
	{ "scale up within bounds", 1, 10, 3, { 100, 200, 128 * MI, 256 * MI }, false, NULL,
	  5, { 0 }, false, ACTION_SCALE, 5, { 100, 200, 128 * MI, 256 * MI }, 6, NULL },
	{ "no change", 1, 10, 3, { 100, 200, 128 * MI, 256 * MI }, false, NULL,
	  3, { 0 }, false, ACTION_NONE, 3, { 100, 200, 128 * MI, 256 * MI }, 6, NULL },
	{ "advice above max is clamped", 1, 12, 3, { 100, U, U, U }, false, NULL,
	  40, { 0 }, false, ACTION_SCALE, 12, { 100, U, U, U }, 5, "advice 40 → 12: maxReplicas" },
	{ "advice 0 below min is clamped", 2, 12, 3, { 100, U, U, U }, false, NULL,
	  0, { 0 }, false, ACTION_SCALE, 2, { 100, U, U, U }, 5, "advice 0 → 2: minReplicas" },
	{ "at max already: advice above max holds", 1, 10, 10, { 100, U, U, U }, false, NULL,
	  40, { 0 }, false, ACTION_HOLD, 10, { 100, U, U, U }, 5, "advice 40 → 10: maxReplicas" },
	{ "advice 10^9 is clamped", 1, 10, 3, { 100, U, U, U }, false, NULL,
	  1000000000, { 0 }, false, ACTION_SCALE, 10, { 100, U, U, U }, 5, "maxReplicas" },
	{ "missing metrics: no scale-down", 1, 10, 6, { 100, U, U, U }, false,
	  "CPU usage of web", 2, { 0 }, false, ACTION_HOLD, 6, { 100, U, U, U }, 4,
	  "no scale-down while metrics are missing (CPU usage of web)" },
	{ "missing metrics: scale-up still allowed", 1, 10, 3, { 100, U, U, U }, false,
	  "request rate of ingress web", 5, { 0 }, false, ACTION_SCALE, 5, { 100, U, U, U }, 6, NULL },
	{ "advisor failed: hold", 1, 10, 3, { 100, U, U, U }, false, NULL,
	  -2, { 0 }, false, ACTION_HOLD, 3, { 100, U, U, U }, 4, "no advice: agent answered HTTP 500" },
	{ "replicas 0 while min >= 1: scaling disabled", 1, 10, 0, { 100, U, U, U }, false, NULL,
	  5, { 0 }, false, ACTION_HOLD, 0, { 100, U, U, U }, 5, "scaling is disabled" },
	{ "replicas 0 with min 0 may scale", 0, 10, 0, { 100, U, U, U }, false, NULL,
	  2, { 0 }, false, ACTION_SCALE, 2, { 100, U, U, U }, 6, NULL },
	{ "resize all four", 1, 10, 3, { 100, 200, 128 * MI, 256 * MI }, false, NULL,
	  3, { 200, 400, 256 * MI, 512 * MI }, true, ACTION_RESIZE, 3,
	  { 200, 400, 256 * MI, 512 * MI }, 6, NULL },
	{ "scale and resize", 1, 10, 3, { 100, 200, 128 * MI, 256 * MI }, false, NULL,
	  4, { 200, 400, 256 * MI, 512 * MI }, true, ACTION_SCALE_RESIZE, 4,
	  { 200, 400, 256 * MI, 512 * MI }, 6, NULL },
	{ "no limit stays no limit", 1, 10, 3, { 100, U, 128 * MI, U }, false, NULL,
	  3, { 200, 400, 256 * MI, 512 * MI }, true, ACTION_RESIZE, 3,
	  { 200, U, 256 * MI, U }, 6, NULL },
	{ "request capped at a kept limit", 1, 10, 3, { 100, U, 128 * MI, 200 * MI }, false, NULL,
	  3, { 200, 400, 256 * MI, U }, true, ACTION_RESIZE, 3,
	  { 200, U, 200 * MI, 200 * MI }, 6, NULL },
	{ "rollout in progress: resources kept, replicas still move", 1, 10, 3,
	  { 100, 200, 128 * MI, 256 * MI }, true, NULL,
	  4, { 200, 400, 256 * MI, 512 * MI }, true, ACTION_SCALE, 4,
	  { 100, 200, 128 * MI, 256 * MI }, 5, "resources kept: rollout in progress" },
	{ "same resources in another spelling: no resize", 1, 10, 3,
	  { 1000, 2000, 1073741824, 2147483648 }, false, NULL,
	  3, { 1000, 2000, 1073741824, 2147483648 }, true, ACTION_NONE, 3,
	  { 1000, 2000, 1073741824, 2147483648 }, 6, NULL },
};

static void run_case(const struct policy_case *c)
{
	struct target t = { .namespace = "shop", .deployment = "web",
			    .min_replicas = c->min, .max_replicas = c->max };
	struct container_observation co = { .name = "web", .current = c->current,
					    .cpu_cores = 0.1, .memory_bytes = NAN };
	struct observation o = { .replicas = c->replicas, .ready_replicas = c->replicas,
				 .containers = &co, .container_count = 1,
				 .primary_container = co.name,
				 .rollout_in_progress = c->rollout,
				 .rollout_reason = c->rollout ? "rollout in progress: 1 of 3 pods updated" : NULL,
				 .metrics_missing = (char *)c->missing };
	struct container_advice ca = { .name = "web", .r = c->advised };
	struct advice a = { .replicas = c->advice_replicas,
			    .containers = c->advice_has_resources ? &ca : NULL,
			    .container_count = c->advice_has_resources ? 1 : 0 };
	struct decision d;

	policy_decide(&t, &o, c->advice_replicas == -2 ? NULL : &a,
		      "agent answered HTTP 500", &d);
	if (d.action != c->action || d.replicas_to != c->replicas_to ||
	    d.priority != c->priority ||
	    !resources_equal(&d.resources_to, &c->resources_to) ||
	    (c->reason ? !strstr(d.reason, c->reason) : d.reason[0] != '\0'))
		fail_msg("%s: action %s replicas %d priority %d reason \"%s\" "
			 "resources %lld/%lld %lld/%lld",
			 c->name, action_name(d.action), d.replicas_to, d.priority, d.reason,
			 (long long)d.resources_to.cpu_request_m,
			 (long long)d.resources_to.cpu_limit_m,
			 (long long)d.resources_to.memory_request_b,
			 (long long)d.resources_to.memory_limit_b);
	assert_int_equal(d.replicas_from, c->replicas);
	assert_true(resources_equal(&d.resources_from, &c->current));
	/* Whatever the advice, the result stays inside the bounds (or holds). */
	if (d.action != ACTION_HOLD && d.action != ACTION_NONE && d.replicas_to != d.replicas_from) {
		assert_true(d.replicas_to >= c->min);
		assert_true(d.replicas_to <= c->max);
	}
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(action_name(ACTION_SCALE), "scale");
	assert_string_equal(action_name(ACTION_RESIZE), "resize");
	assert_string_equal(action_name(ACTION_SCALE_RESIZE), "scale+resize");
	assert_string_equal(action_name(ACTION_HOLD), "hold");
	assert_string_equal(action_name(ACTION_NONE), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_action_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
