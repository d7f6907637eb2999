/* Unit tests for duration.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
		int64_t ms;
		const char *err;
	} cases[] = {
		{ "90", 0, 90000, NULL },
		{ "0", 0, 0, NULL },
		{ "0.5", 0, 500, NULL },
		{ ".25", 0, 250, NULL },
		{ "90s", 0, 90000, NULL },
		{ "5m", 0, 300000, NULL },
		{ "1m30s", 0, 90000, NULL },
		{ "1h", 0, 3600000, NULL },
		{ "1.5h", 0, 5400000, NULL },
		{ "250ms", 0, 250, NULL },
		{ "1s250ms", 0, 1250, NULL },
		{ "2d", 0, 172800000, NULL },
		{ "30d", 0, 2592000000LL, NULL },
		{ "0.0000003125d", 0, 27, NULL }, /* ten fraction digits */
		{ "0.5000000000000000000s", 0, 500, NULL },
		{ "5 minutes", -EINVAL, 0,
		  "\"5 minutes\" is not a duration; use 90, 90s or 5m" },
		{ "", -EINVAL, 0,
		  "\"\" is not a duration (it is empty); use 90, 90s or 5m" },
		{ "-5s", -EINVAL, 0,
		  "\"-5s\" is not a duration; use 90, 90s or 5m" },
		{ "1m30", -EINVAL, 0,
		  "\"1m30\" is not a duration; use 90, 90s or 5m" },
		{ "5M", -EINVAL, 0,
		  "\"5M\" is not a duration; use 90, 90s or 5m" },
		{ "s", -EINVAL, 0,
		  "\"s\" is not a duration; use 90, 90s or 5m" },
		{ "0.0001", -EINVAL, 0,
		  "\"0.0001\" is not a duration (finer than a millisecond); use 90, 90s or 5m" },
		{ "1.5ms", -EINVAL, 0,
		  "\"1.5ms\" is not a duration (finer than a millisecond); use 90, 90s or 5m" },
		{ "0.00000000001d", -EINVAL, 0,
		  "\"0.00000000001d\" is not a duration (finer than a millisecond); use 90, 90s or 5m" },
		{ "30d1ms", -ERANGE, 0,
		  "\"30d1ms\" is too long; durations are at most 30d" },
		{ "99999999999999999999999s", -ERANGE, 0,
		  "\"99999999999999999999999s\" is too long; durations are at most 30d" },
		{ "2592001", -ERANGE, 0,
		  "\"2592001\" is too long; durations are at most 30d" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -1;
		char err[160] = "";
		int rc = duration_parse_ms(cases[i].text, &ms, err, sizeof(err));
		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, expected %d (%s)", cases[i].text,
				 rc, cases[i].rc, err);
		if (rc == 0 && ms != cases[i].ms)
			fail_msg("\"%s\": %lld ms, expected %lld", cases[i].text,
				 (long long)ms, (long long)cases[i].ms);
		if (rc != 0 && strcmp(err, cases[i].err) != 0)
			fail_msg("\"%s\": message\n  %s\nexpected\n  %s",
				 cases[i].text, err, cases[i].err);
	}
	int64_t ms;
	assert_int_equal(duration_parse_ms(NULL, &ms, NULL, 0), -EINVAL);
}

static void test_format(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *text;
	} cases[] = {
		{ 0, "0s" },
		{ 250, "250ms" },
		{ 1000, "1s" },
		{ 1250, "1s250ms" },
		{ 90000, "1m30s" },
		{ 300000, "5m" },
		{ 3600000, "1h" },
		{ 5400000, "1h30m" },
		{ 86400000 + 1, "1d1ms" },
		{ -90000, "-1m30s" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		assert_string_equal(duration_format(cases[i].ms, buf, sizeof(buf)),
				    cases[i].text);
		int64_t back;
		if (cases[i].ms >= 0) {
			assert_int_equal(duration_parse_ms(buf, &back, NULL, 0), 0);
			assert_true(back == cases[i].ms);
		}
	}
	char small[4];
	assert_string_equal(duration_format(90000, small, sizeof(small)), "1m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
