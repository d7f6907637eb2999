/* Unit tests for quantity.c: Kubernetes quantities <-> integers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "quantity.h"

struct parse_case {
	const char *text;
	int rc;
	int64_t value; /* when rc == 0 */
	const char *err; /* when rc != 0: the exact message */
};

static const struct parse_case cpu_cases[] = {
	{ "9334m", 0, 9334, NULL },
	{ "250m", 0, 250, NULL },
	{ "1", 0, 1000, NULL },
	{ "1.5", 0, 1500, NULL },
	{ "0.1", 0, 100, NULL },
	{ ".5", 0, 500, NULL },
	{ "2.", 0, 2000, NULL },
	{ "+2", 0, 2000, NULL },
	{ "-250m", 0, -250, NULL },
	{ "1e3", 0, 1000000, NULL },
	{ "2e-3", 0, 2, NULL },
	{ "1E-2", 0, 10, NULL },
	{ "0.1m", 0, 1, NULL },          /* rounds up, like Kubernetes */
	{ "1001u", 0, 2, NULL },         /* 1.001m -> 2m */
	{ "1000000n", 0, 1, NULL },
	{ "1n", 0, 1, NULL },
	{ "-0.1m", 0, -1, NULL },        /* away from zero */
	{ "0", 0, 0, NULL },
	{ "0e999999999999", 0, 0, NULL },
	{ "000.000", 0, 0, NULL },
	{ "1e-999999", 0, 1, NULL },
	{ "1k", 0, 1000000, NULL },
	{ "1Ki", 0, 1024000, NULL },
	{ "9223372036854775807m", 0, INT64_MAX, NULL },
	{ "9223372036854775.807", 0, INT64_MAX, NULL },
	{ "0.33333333333333333333333333333", 0, 334, NULL },
	{ "9223372036854775808m", -ERANGE, 0,
	  "\"9223372036854775808m\" is too large (more than 9223372036854775807 millicores)" },
	{ "1E", -ERANGE, 0,
	  "\"1E\" is too large (more than 9223372036854775807 millicores)" },
	{ "1e99999999999999999999", -ERANGE, 0,
	  "\"1e99999999999999999999\" is too large (more than 9223372036854775807 millicores)" },
	{ "", -EINVAL, 0,
	  "\"\" is not a Kubernetes quantity; write e.g. 250m, 0.5 or 2" },
	{ "1.5.2", -EINVAL, 0,
	  "\"1.5.2\" is not a Kubernetes quantity (unexpected \".2\"); write e.g. 250m, 0.5 or 2" },
	{ "--1", -EINVAL, 0,
	  "\"--1\" is not a Kubernetes quantity (it does not start with a number); write e.g. 250m, 0.5 or 2" },
	{ "m", -EINVAL, 0,
	  "\"m\" is not a Kubernetes quantity (it does not start with a number); write e.g. 250m, 0.5 or 2" },
	{ ".", -EINVAL, 0,
	  "\".\" is not a Kubernetes quantity (it does not start with a number); write e.g. 250m, 0.5 or 2" },
	{ "1 m", -EINVAL, 0,
	  "\"1 m\" is not a Kubernetes quantity (unexpected \" m\"); write e.g. 250m, 0.5 or 2" },
	{ "100mc", -EINVAL, 0,
	  "\"100mc\" is not a Kubernetes quantity (unknown suffix \"mc\"); write e.g. 250m, 0.5 or 2" },
	{ "1e", -EINVAL, 0,
	  "\"1e\" is not a Kubernetes quantity (unknown suffix \"e\"); write e.g. 250m, 0.5 or 2" },
	/* An exponent and an SI suffix do not combine in Kubernetes. */
	{ "2e3m", -EINVAL, 0,
	  "\"2e3m\" is not a Kubernetes quantity (unknown suffix \"e3m\"); write e.g. 250m, 0.5 or 2" },
	{ "1e1.5", -EINVAL, 0,
	  "\"1e1.5\" is not a Kubernetes quantity (unknown suffix \"e1.5\"); write e.g. 250m, 0.5 or 2" },
};

static const struct parse_case memory_cases[] = {
	{ "1G", 0, 1000000000, NULL },
	{ "1Gi", 0, 1073741824, NULL },
	{ "256Mi", 0, 268435456, NULL },
	{ "1.5Gi", 0, 1610612736, NULL },
	{ "1e9", 0, 1000000000, NULL },
	{ "129e6", 0, 129000000, NULL },
	{ "128974848", 0, 128974848, NULL },
	{ "0.5", 0, 1, NULL },
	{ "1500m", 0, 2, NULL },
	{ "0.3Ki", 0, 308, NULL },       /* 307.2 -> 308 */
	{ "7Ei", 0, 8070450532247928832LL, NULL },
	{ "0.000000000000000001Ei", 0, 2, NULL }, /* 1.15 -> 2 */
	{ "8Ei", -ERANGE, 0,
	  "\"8Ei\" is too large (more than 9223372036854775807 bytes)" },
	{ "256MB", -EINVAL, 0,
	  "\"256MB\" is not a Kubernetes quantity (unknown suffix \"MB\"); write e.g. 512Mi, 1Gi or 1G" },
	{ "1Gib", -EINVAL, 0,
	  "\"1Gib\" is not a Kubernetes quantity (unknown suffix \"Gib\"); write e.g. 512Mi, 1Gi or 1G" },
	{ "1gi", -EINVAL, 0,
	  "\"1gi\" is not a Kubernetes quantity (unknown suffix \"gi\"); write e.g. 512Mi, 1Gi or 1G" },
	{ "\x01\xff", -EINVAL, 0,
	  "\"\\x01\\xff\" is not a Kubernetes quantity (it does not start with a number); write e.g. 512Mi, 1Gi or 1G" },
};

static void run_cases(const struct parse_case *cases, size_t n,
		      int (*parse)(const char *, int64_t *, char *, size_t))
{
	for (size_t i = 0; i < n; i++) {
		const struct parse_case *c = &cases[i];
		int64_t v = -12345;
		char err[256] = "";
		int rc = parse(c->text, &v, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("\"%s\": rc %d, expected %d (%s)", c->text, rc,
				 c->rc, err);
		if (rc == 0 && v != c->value)
			fail_msg("\"%s\": %lld, expected %lld", c->text,
				 (long long)v, (long long)c->value);
		if (rc == 0)
			assert_string_equal(err, "");
		else
			assert_true(v == -12345); /* untouched on error */
		if (rc != 0 && strcmp(err, c->err) != 0)
			fail_msg("\"%s\": message\n  %s\nexpected\n  %s", c->text,
				 err, c->err);
	}
}

static void test_parse_millicores(void **state)
{
	(void)state;
	run_cases(cpu_cases, sizeof(cpu_cases) / sizeof(cpu_cases[0]),
		  quantity_parse_millicores);
}

static void test_parse_bytes(void **state)
{
	(void)state;
	run_cases(memory_cases, sizeof(memory_cases) / sizeof(memory_cases[0]),
		  quantity_parse_bytes);
}

static void test_parse_null_err_and_long(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(quantity_parse_bytes(NULL, &v, NULL, 0), -EINVAL);
	assert_int_equal(quantity_parse_bytes("1x", &v, NULL, 0), -EINVAL);

	char long_text[300];
	memset(long_text, '1', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	char err[256];
	assert_int_equal(quantity_parse_bytes(long_text, &v, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "is not a Kubernetes quantity (it is too long)"));

	/* The longest accepted text still gives the exact answer. */
	char exact[257] = "1.";
	memset(exact + 2, '0', 254);
	exact[256] = '\0';
	assert_int_equal(quantity_parse_millicores(exact, &v, err, sizeof(err)), 0);
	assert_true(v == 1000);

	/* A small buffer cuts the message but never overflows. */
	char tiny[8];
	assert_int_equal(quantity_parse_bytes("256MB", &v, tiny, sizeof(tiny)),
			 -EINVAL);
	assert_string_equal(tiny, "\"256MB\"");
}

static void test_format(void **state)
{
	(void)state;
	static const struct {
		int64_t v;
		const char *cpu, *mem;
	} cases[] = {
		{ 0, "0", "0" },
		{ 250, "250m", "250" },
		{ 1000, "1", "1000" },
		{ 1500, "1500m", "1500" },
		{ -2000, "-2", "-2000" },
		{ 1024, "1024m", "1Ki" },
		{ 1536 * 1024, "1572864m", "1536Ki" },
		{ 268435456, "268435456m", "256Mi" },
		{ 1073741824, "1073741824m", "1Gi" },
		{ 1000000000, "1000000", "1000000000" },
		{ -1073741824, "-1073741824m", "-1Gi" },
		{ INT64_MAX, "9223372036854775807m", "9223372036854775807" },
		{ INT64_MIN, "-9223372036854775808m", "-8Ei" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[QUANTITY_BUFSZ];
		assert_string_equal(quantity_format_millicores(cases[i].v, buf, sizeof(buf)),
				    cases[i].cpu);
		assert_string_equal(quantity_format_bytes(cases[i].v, buf, sizeof(buf)),
				    cases[i].mem);
	}
}

/* What is formatted parses back to the same value. */
static void test_round_trip(void **state)
{
	(void)state;
	static const int64_t values[] = { 0, 1, 999, 1000, 1001, 123456789,
					  1LL << 40, (1LL << 40) + 1, INT64_MAX };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char buf[QUANTITY_BUFSZ];
		int64_t back;
		assert_int_equal(quantity_parse_millicores(
			quantity_format_millicores(values[i], buf, sizeof(buf)),
			&back, NULL, 0), 0);
		assert_true(back == values[i]);
		assert_int_equal(quantity_parse_bytes(
			quantity_format_bytes(values[i], buf, sizeof(buf)),
			&back, NULL, 0), 0);
		assert_true(back == values[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_millicores),
		cmocka_unit_test(test_parse_bytes),
		cmocka_unit_test(test_parse_null_err_and_long),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
