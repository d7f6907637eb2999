/* Unit tests of act.c: the strategic-merge patch names one container and
 * carries only cpu and memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "act.h"

#define MI (INT64_C(1024) * 1024)

static void test_patch_all(void **state)
{
	struct decision d = { .action = ACTION_RESIZE, .container = "web",
		.resources_to = { 250, 1000, 256 * MI, 512 * MI } };
	char *p = act_resources_patch(&d);

	(void)state;
	assert_string_equal(p, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
		"\"web\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"256Mi\"},"
		"\"limits\":{\"cpu\":\"1\",\"memory\":\"512Mi\"}}}]}}}}");
	free(p);
}

static void test_patch_without_limits(void **state)
{
	struct decision d = { .action = ACTION_RESIZE, .container = "app \"x\"",
		.resources_to = { 1500, RESOURCE_UNSET, INT64_C(1000000000), RESOURCE_UNSET } };
	char *p = act_resources_patch(&d);

	(void)state;
	assert_string_equal(p, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
		"\"app \\\"x\\\"\",\"resources\":{\"requests\":{\"cpu\":\"1500m\","
		"\"memory\":\"1000000000\"}}}]}}}}");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch_all),
		cmocka_unit_test(test_patch_without_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
