/* Unit tests of the builtin HPA-style advisor. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "advisor_builtin.h"

#define U RESOURCE_UNSET

static int32_t advise(int32_t replicas, int32_t ready, int64_t request_m,
		      double cores, struct advice *a)
{
	struct container_observation co = { .name = "web",
		.current = { request_m, U, U, U }, .cpu_cores = cores };
	struct observation o = { .replicas = replicas, .ready_replicas = ready,
				 .containers = &co, .container_count = 1,
				 .primary_container = co.name };
	char err[200];
	int r = advisor_builtin(&o, 70.0, 0.1, a, err, sizeof(err));

	return r == 0 ? a->replicas : r;
}

static void test_hpa_formula(void **state)
{
	struct advice a;

	(void)state;
	/* 140% of a 70% target: double */
	assert_int_equal(advise(3, 3, 100, 0.140, &a), 6);
	assert_non_null(strstr(a.rationale, "CPU 140% of requests, target 70%"));
	advice_free(&a);
	/* 35%: half, rounded up */
	assert_int_equal(advise(5, 5, 100, 0.035, &a), 3);
	advice_free(&a);
	/* inside the tolerance (ratio 1.05): keep */
	assert_int_equal(advise(4, 4, 100, 0.0735, &a), 4);
	assert_non_null(strstr(a.rationale, "within tolerance"));
	advice_free(&a);
	/* just outside (ratio 1.2): ceil(10 × 1.2) = 12 */
	assert_int_equal(advise(10, 10, 1000, 0.840, &a), 12);
	advice_free(&a);
	/* ready pods, not spec, are the base during a scale-up */
	assert_int_equal(advise(6, 3, 100, 0.140, &a), 6);
	advice_free(&a);
	/* no advice on resources */
	assert_int_equal(advise(3, 3, 100, 0.140, &a), 6);
	assert_int_equal(a.container_count, 0);
	advice_free(&a);
}

static void test_no_data(void **state)
{
	struct advice a;

	(void)state;
	assert_int_equal(advise(3, 3, 100, NAN, &a), -ENODATA);
	advice_free(&a);
	assert_int_equal(advise(3, 3, U, 0.5, &a), -ENODATA); /* no request */
	advice_free(&a);
}

static void test_sidecar_without_request_is_ignored(void **state)
{
	struct container_observation co[2] = {
		{ .name = "web", .current = { 100, U, U, U }, .cpu_cores = 0.14 },
		{ .name = "proxy", .current = { U, U, U, U }, .cpu_cores = 0.5 },
	};
	struct observation o = { .replicas = 2, .ready_replicas = 2, .containers = co,
				 .container_count = 2, .primary_container = co[0].name };
	struct advice a;
	char err[100];

	(void)state;
	assert_int_equal(advisor_builtin(&o, 70.0, 0.1, &a, err, sizeof(err)), 0);
	assert_int_equal(a.replicas, 4);
	advice_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hpa_formula),
		cmocka_unit_test(test_no_data),
		cmocka_unit_test(test_sidecar_without_request_is_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
