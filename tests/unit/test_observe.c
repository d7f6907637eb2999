/* Unit tests of observe.c: reading a Deployment object. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "observe.h"

#define MI (INT64_C(1024) * 1024)

static const char *two_containers =
	"{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"generation\":4},"
	"\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
	"\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":["
	"{\"name\":\"web\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"1G\"},"
	"\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},"
	"{\"name\":\"proxy\",\"resources\":{\"requests\":{\"cpu\":\"9334m\","
	"\"nvidia.com/gpu\":\"1\",\"ephemeral-storage\":\"1Gi\"}}}]}}},"
	"\"status\":{\"observedGeneration\":4,\"replicas\":3,\"updatedReplicas\":3,"
	"\"readyReplicas\":3,\"availableReplicas\":3}}";

static int parse(const char *json, const char *container, struct observation *o,
		 char *err, size_t len)
{
	cJSON *dep = cJSON_Parse(json);
	int r = observe_parse_deployment(dep, container, o, err, len);

	cJSON_Delete(dep);
	return r;
}

static void test_containers(void **state)
{
	struct observation o;
	char err[256];

	(void)state;
	assert_int_equal(parse(two_containers, NULL, &o, err, sizeof(err)), 0);
	assert_int_equal(o.replicas, 3);
	assert_false(o.rollout_in_progress);
	assert_int_equal(o.container_count, 2);
	assert_string_equal(o.primary_container, "web");
	assert_int_equal(o.containers[0].current.cpu_request_m, 250);
	assert_int_equal(o.containers[0].current.cpu_limit_m, 1000);
	assert_int_equal(o.containers[0].current.memory_request_b, INT64_C(1000000000));
	assert_int_equal(o.containers[0].current.memory_limit_b, 1024 * MI);
	assert_int_equal(o.containers[1].current.cpu_request_m, 9334);
	assert_int_equal(o.containers[1].current.cpu_limit_m, RESOURCE_UNSET);
	assert_int_equal(o.containers[1].current.memory_request_b, RESOURCE_UNSET);
	assert_true(isnan(o.containers[0].cpu_cores));
	assert_true(isnan(o.request_rate));
	observation_free(&o);

	assert_int_equal(parse(two_containers, "proxy", &o, err, sizeof(err)), 0);
	assert_string_equal(o.primary_container, "proxy");
	assert_string_equal(observation_primary(&o)->name, "proxy");
	observation_free(&o);

	assert_int_equal(parse(two_containers, "db", &o, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "container \"db\" is not in the pod template; it has: web proxy");
	observation_free(&o);
}

static void test_default_container_annotation(void **state)
{
	struct observation o;
	char err[256];
	const char *json =
		"{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/default-container\":\"app\"}},"
		"\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"istio-proxy\"},"
		"{\"name\":\"app\"}]}}}}";

	(void)state;
	assert_int_equal(parse(json, NULL, &o, err, sizeof(err)), 0);
	assert_string_equal(o.primary_container, "app");
	assert_int_equal(o.replicas, 1); /* spec.replicas defaults to 1 */
	assert_false(o.paused);
	observation_free(&o);
}

/* ipa.shafinhasnat.me/paused: "true" pauses; any other value does not. */
static void test_paused_annotation(void **state)
{
	static const char *const values[] = { "\"true\"", "\"false\"", "\"True\"", "true" };
	struct observation o;
	char err[256], json[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(json, sizeof(json), "{\"metadata\":{\"annotations\":"
			 "{\"ipa.shafinhasnat.me/paused\":%s}},\"spec\":{\"template\":"
			 "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}}}", values[i]);
		assert_int_equal(parse(json, NULL, &o, err, sizeof(err)), 0);
		assert_int_equal(o.paused, i == 0);
		observation_free(&o);
	}
}

static void test_rollout(void **state)
{
	struct observation o;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"metadata\":{\"generation\":5},\"spec\":{\"replicas\":3,"
		"\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}},"
		"\"status\":{\"observedGeneration\":4,\"replicas\":3,\"updatedReplicas\":3,"
		"\"availableReplicas\":3}}", NULL, &o, err, sizeof(err)), 0);
	assert_true(o.rollout_in_progress);
	assert_string_equal(o.rollout_reason,
			    "the Deployment controller has not yet observed generation 5");
	observation_free(&o);
	assert_int_equal(parse("{\"metadata\":{\"generation\":5},\"spec\":{\"replicas\":3,"
		"\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}},"
		"\"status\":{\"observedGeneration\":5,\"replicas\":4,\"updatedReplicas\":1,"
		"\"availableReplicas\":3}}", NULL, &o, err, sizeof(err)), 0);
	assert_string_equal(o.rollout_reason, "rollout in progress: 1 of 3 pods updated");
	observation_free(&o);
	assert_int_equal(parse("{\"metadata\":{\"generation\":5},\"spec\":{\"replicas\":3,"
		"\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}},"
		"\"status\":{\"observedGeneration\":5,\"replicas\":3,\"updatedReplicas\":3,"
		"\"availableReplicas\":2}}", NULL, &o, err, sizeof(err)), 0);
	assert_string_equal(o.rollout_reason, "rollout in progress: 2 of 3 updated pods available");
	observation_free(&o);
}

static void test_bad_objects(void **state)
{
	struct observation o;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}",
			       NULL, &o, err, sizeof(err)), -EBADMSG);
	observation_free(&o);
	assert_int_equal(parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
		"\"a\",\"resources\":{\"requests\":{\"cpu\":\"lots\"}}}]}}}}", NULL, &o, err,
		sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "container a: resources.requests.cpu"));
	observation_free(&o);
	assert_int_equal(parse("[]", NULL, &o, err, sizeof(err)), -EBADMSG);
	observation_free(&o);
	assert_int_equal(parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{}]}}}}",
			       NULL, &o, err, sizeof(err)), -EBADMSG);
	observation_free(&o);
}

static void test_utilization(void **state)
{
	struct container_observation co[2] = {
		{ .name = "a", .current = { 200, -1, -1, -1 }, .cpu_cores = 0.1 },
		{ .name = "b", .current = { 200, -1, -1, -1 }, .cpu_cores = 0.3 },
	};
	struct observation o = { .containers = co, .container_count = 2 };

	(void)state;
	/* sums, not a mean of ratios: (0.1 + 0.3) / (0.2 + 0.2) */
	assert_true(fabs(observation_cpu_utilization(&o) - 100.0) < 1e-9);
	co[1].cpu_cores = NAN;
	assert_true(fabs(observation_cpu_utilization(&o) - 50.0) < 1e-9);
	co[0].cpu_cores = NAN;
	assert_true(isnan(observation_cpu_utilization(&o)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_default_container_annotation),
		cmocka_unit_test(test_paused_annotation),
		cmocka_unit_test(test_rollout),
		cmocka_unit_test(test_bad_objects),
		cmocka_unit_test(test_utilization),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
