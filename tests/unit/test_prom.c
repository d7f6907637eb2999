/* Unit tests of prom.c: the /api/v1/query envelope and PromQL escaping. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prom.h"

static void test_vector(void **state)
{
	const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		"\"result\":[{\"metric\":{\"pod\":\"web-1\",\"container\":\"web\"},"
		"\"value\":[1700000000.123,\"0.25\"]},"
		"{\"metric\":{\"pod\":\"web-2\",\"container\":\"web\"},\"value\":[1700000000.123,\"NaN\"]},"
		"{\"metric\":{},\"value\":[1700000000.123,\"+Inf\"]}]}}";
	struct prom_vector v;
	char err[256];

	(void)state;
	assert_int_equal(prom_parse_vector(body, 200, &v, err, sizeof(err)), 0);
	assert_int_equal(v.count, 3);
	assert_string_equal(prom_label(&v.samples[0], "pod"), "web-1");
	assert_string_equal(prom_label(&v.samples[0], "container"), "web");
	assert_null(prom_label(&v.samples[0], "namespace"));
	assert_true(fabs(v.samples[0].value - 0.25) < 1e-12);
	assert_true(isnan(v.samples[1].value));
	assert_true(isinf(v.samples[2].value) && v.samples[2].value > 0);
	prom_vector_free(&v);
}

static void test_empty_is_no_data(void **state)
{
	struct prom_vector v;
	char err[256];

	(void)state;
	assert_int_equal(prom_parse_vector("{\"status\":\"success\",\"data\":"
		"{\"resultType\":\"vector\",\"result\":[]}}", 200, &v, err, sizeof(err)), 0);
	assert_int_equal(v.count, 0);
	prom_vector_free(&v);
}

static void test_scalar(void **state)
{
	struct prom_vector v;
	char err[256];

	(void)state;
	assert_int_equal(prom_parse_vector("{\"status\":\"success\",\"data\":"
		"{\"resultType\":\"scalar\",\"result\":[1.5,\"42\"]}}", 200, &v, err, sizeof(err)), 0);
	assert_int_equal(v.count, 1);
	assert_true(v.samples[0].value == 42.0);
	prom_vector_free(&v);
}

static void test_errors(void **state)
{
	struct prom_vector v;
	char err[256];

	(void)state;
	assert_int_equal(prom_parse_vector("{\"status\":\"error\",\"errorType\":\"bad_data\","
		"\"error\":\"1:5: parse error: unexpected\"}", 400, &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "HTTP 400, bad_data: 1:5: parse error: unexpected");
	assert_int_equal(prom_parse_vector("<html>502 Bad Gateway</html>", 502, &v, err,
					   sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "HTTP 502, not a Prometheus API answer"));
	assert_int_equal(prom_parse_vector("{\"status\":\"success\",\"data\":{\"resultType\":"
		"\"matrix\",\"result\":[]}}", 200, &v, err, sizeof(err)), -EBADMSG);
	assert_int_equal(prom_parse_vector("{\"status\":\"success\",\"data\":{\"resultType\":"
		"\"vector\",\"result\":[{\"metric\":{},\"value\":[1,2]}]}}", 200, &v, err,
		sizeof(err)), -EBADMSG); /* value must be a string */
	assert_int_equal(prom_parse_vector("", 200, &v, err, sizeof(err)), -EBADMSG);
	assert_int_equal(prom_parse_vector(NULL, 0, &v, err, sizeof(err)), -EBADMSG);
}

static void test_quote(void **state)
{
	char *q;

	(void)state;
	q = prom_quote("a\"b\\c\nd");
	assert_string_equal(q, "\"a\\\"b\\\\c\\nd\"");
	free(q);
	q = prom_regex_escape("web-7d9f.x|y(z)*");
	assert_string_equal(q, "web-7d9f\\.x\\|y\\(z\\)\\*");
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_empty_is_no_data),
		cmocka_unit_test(test_scalar),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
