/* Unit tests of advice.c: validation and the compact summary. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "advice.h"

#define MI (INT64_C(1024) * 1024)

static struct container_advice one = {
	.name = "web",
	.r = { 100, 200, 128 * MI, 256 * MI },
};

static void test_valid_and_summary(void **state)
{
	struct advice a = { .replicas = 5, .containers = &one, .container_count = 1 };
	char err[128], s[128];

	(void)state;
	assert_int_equal(advice_validate(&a, err, sizeof(err)), 0);
	assert_string_equal(advice_summary(&a, s, sizeof(s)),
			    "replicas=5 web cpu=100m/200m memory=128Mi/256Mi");
	assert_ptr_equal(advice_container(&a, "web"), &one);
	assert_null(advice_container(&a, "sidecar"));
	a.replicas = -1;
	assert_string_equal(advice_summary(&a, s, sizeof(s)),
			    "web cpu=100m/200m memory=128Mi/256Mi");
}

static void test_unset_values(void **state)
{
	struct container_advice c = { .name = "app",
		.r = { 2000, RESOURCE_UNSET, 1073741824, RESOURCE_UNSET } };
	struct advice a = { .replicas = 2, .containers = &c, .container_count = 1 };
	char err[128], s[128];

	(void)state;
	assert_int_equal(advice_validate(&a, err, sizeof(err)), 0);
	assert_string_equal(advice_summary(&a, s, sizeof(s)),
			    "replicas=2 app cpu=2/- memory=1Gi/-");
}

static void test_invalid(void **state)
{
	struct container_advice c = { .name = "web" };
	struct advice a = { .replicas = 1, .containers = &c, .container_count = 1 };
	char err[128];

	(void)state;
	c.r = (struct resources){ 0, 100, 64 * MI, 64 * MI };
	assert_int_equal(advice_validate(&a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "container web: CPU request must be above zero");
	c.r = (struct resources){ 100, -5, 64 * MI, 64 * MI };
	assert_int_equal(advice_validate(&a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "container web: CPU limit must be above zero");
	c.r = (struct resources){ 100, 100, 4 * MI - 1, 64 * MI };
	assert_int_equal(advice_validate(&a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "memory request"));
	assert_non_null(strstr(err, "below 4Mi"));
	c.r = (struct resources){ 100, 100, 4 * MI, 4 * MI };
	assert_int_equal(advice_validate(&a, err, sizeof(err)), 0);
	c.r = (struct resources){ 101, 100, 4 * MI, 4 * MI };
	assert_int_equal(advice_validate(&a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "container web: CPU request 101m is above the limit 100m");
	a.replicas = -2;
	c.r = (struct resources){ 100, 100, 4 * MI, 4 * MI };
	assert_int_equal(advice_validate(&a, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_summary),
		cmocka_unit_test(test_unset_values),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
