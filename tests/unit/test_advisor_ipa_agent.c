/* Unit tests of the IPA agent answer parsing: the real agent's shapes and an
 * adversarial corpus. An answer is accepted whole or rejected whole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "advisor_ipa_agent.h"

#define MI (INT64_C(1024) * 1024)

static void test_real_success(void **state)
{
	struct advice a;
	char err[256];

	(void)state;
	assert_int_equal(advisor_ipa_agent_parse(200,
		"{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"100m\","
		"\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"},"
		"\"message\":\"traffic is rising\"}", "web", &a, err, sizeof(err)), 0);
	assert_int_equal(a.replicas, 3);
	assert_int_equal(a.container_count, 1);
	assert_string_equal(a.containers[0].name, "web");
	assert_int_equal(a.containers[0].r.cpu_request_m, 100);
	assert_int_equal(a.containers[0].r.cpu_limit_m, 200);
	assert_int_equal(a.containers[0].r.memory_request_b, 125 * MI);
	assert_int_equal(a.containers[0].r.memory_limit_b, 250 * MI);
	assert_string_equal(a.rationale, "traffic is rising");
	advice_free(&a);
}

static void test_other_quantity_forms(void **state)
{
	struct advice a;
	char err[256];

	(void)state;
	assert_int_equal(advisor_ipa_agent_parse(200,
		"{\"status\":\"success\",\"text\":{\"replicas\":0,\"cpu_request\":\"0.5\","
		"\"cpu_limit\":\"1\",\"memory_request\":\"1G\",\"memory_limit\":\"1Gi\"}}",
		"app", &a, err, sizeof(err)), 0);
	assert_int_equal(a.replicas, 0);
	assert_int_equal(a.containers[0].r.cpu_request_m, 500);
	assert_int_equal(a.containers[0].r.cpu_limit_m, 1000);
	assert_int_equal(a.containers[0].r.memory_request_b, INT64_C(1000000000));
	assert_int_equal(a.containers[0].r.memory_limit_b, INT64_C(1073741824));
	advice_free(&a);
}

struct bad_case {
	long status;
	const char *body;
	const char *expect; /* a part of the error message */
};

static const struct bad_case bad[] = {
	{ 500, "{}", "agent answered HTTP 500" },
	{ 200, "{\"status\":\"error\",\"text\":null}", "agent status is error" },
	{ 200, "I think you should use 3 replicas.", "not a JSON object" },
	{ 200, "{\"status\":\"success\",\"text\":\"```json\\n{\\\"replicas\\\": 3}\\n```\"}",
	  "\"text\" is not an object" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"lots\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "cpu_request" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":-3,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "out of range" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":\"5\",\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "whole number" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":2.7,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "whole number" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":1e12,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "out of range" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"0\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "CPU request must be above zero" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"-1\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "CPU request must be above zero" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"256MB\",\"memory_limit\":\"250Mi\"}}",
	  "memory_request" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"\",\"memory_limit\":\"250Mi\"}}",
	  "memory_request" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"3Mi\",\"memory_limit\":\"250Mi\"}}",
	  "below 4Mi" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"300m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "above the limit" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"500Mi\",\"memory_limit\":\"250Mi\"}}",
	  "above the limit" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\"}}", "memory_limit is missing" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":100,"
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "must be a quantity string" },
	{ 200, "{\"status\":\"success\",\"text\":{\"cpu_request\":\"100m\","
	  "\"cpu_limit\":\"200m\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  "replicas is missing" },
	{ 200, "{\"status\":\"success\",\"text\":{\"replicas\":3,\"cpu_request\":\"1e12\","
	  "\"cpu_limit\":\"2e12\",\"memory_request\":\"125Mi\",\"memory_limit\":\"250Mi\"}}",
	  NULL /* huge but representable: accepted here, bounded by policy later */ },
	{ 200, "[1,2,3]", "not a JSON object" },
	{ 200, "", "not a JSON object" },
};

static void test_bad_answers(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct advice a;
		char err[256] = "";
		int r = advisor_ipa_agent_parse(bad[i].status, bad[i].body, "web", &a,
						err, sizeof(err));
		if (!bad[i].expect) {
			assert_int_equal(r, 0);
			advice_free(&a);
			continue;
		}
		if (r == 0 || !strstr(err, bad[i].expect))
			fail_msg("case %zu: r=%d err=\"%s\", expected \"%s\"", i, r, err,
				 bad[i].expect);
		/* rejected whole: nothing left in the advice */
		assert_int_equal(a.container_count, 0);
		assert_int_equal(a.replicas, -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_success),
		cmocka_unit_test(test_other_quantity_forms),
		cmocka_unit_test(test_bad_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
