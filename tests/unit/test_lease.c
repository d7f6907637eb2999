/* Unit tests for lease.c: the election's pure decision (client-go's
 * tryAcquireOrRenew with the local observation clock), the leader's renew
 * deadline, and the Lease records written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lease.h"

static struct lease_record rec(bool exists, const char *holder, long duration_s)
{
	struct lease_record r = { .exists = exists, .duration_s = duration_s };

	strcpy(r.holder, holder);
	return r;
}

static void test_decide(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		bool exists;
		const char *holder;
		long duration_s;     /* leaseDurationSeconds, 0: unset */
		double observed_s;   /* local: record last seen changing */
		double now_s;
		enum lease_verdict want;
	} cases[] = {
		{ "missing: create", false, "", 0, 0, 100, LEASE_CREATE },
		{ "unheld: acquire at once", true, "", 15, 100, 100, LEASE_ACQUIRE },
		{ "released (duration 1): acquire at once", true, "", 1, 100, 100.2,
		  LEASE_ACQUIRE },
		{ "held by other, fresh", true, "b", 15, 100, 110, LEASE_STANDBY },
		{ "held by other, just not expired", true, "b", 15, 100, 114.99,
		  LEASE_STANDBY },
		{ "held by other, expired by the local clock", true, "b", 15, 100, 115,
		  LEASE_ACQUIRE },
		{ "held by other, long expired", true, "b", 15, 100, 1000, LEASE_ACQUIRE },
		{ "held by other, its own short duration", true, "b", 5, 100, 105.5,
		  LEASE_ACQUIRE },
		{ "held by other, no duration: ours (15 s)", true, "b", 0, 100, 110,
		  LEASE_STANDBY },
		{ "held by other, no duration, ours passed", true, "b", 0, 100, 116,
		  LEASE_ACQUIRE },
		{ "held by self: renew", true, "a", 15, 100, 101, LEASE_RENEW },
		{ "held by self, seen long ago (restart, reload): renew", true, "a", 15, 0,
		  1000, LEASE_RENEW },
		{ "holder a prefix of self is another", true, "a2", 15, 100, 101,
		  LEASE_STANDBY },
		/* 409 on our renewal: the Lease is read again at once; the new
		 * record is another holder's, seen changing now → standby */
		{ "409, re-read: another host took it", true, "b", 15, 105, 105.01,
		  LEASE_STANDBY },
		/* 409 on our acquisition of an expired Lease: the other one
		 * renewed in the meantime, a change just seen → standby */
		{ "409, re-read: the holder renewed", true, "b", 15, 130, 130.01,
		  LEASE_STANDBY },
		/* 409 but the record is still ours (only metadata changed) */
		{ "409, re-read: still ours", true, "a", 15, 105, 105.01, LEASE_RENEW },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lease_record r = rec(cases[i].exists, cases[i].holder,
					    cases[i].duration_s);
		enum lease_verdict v = lease_decide(&r, "a", cases[i].observed_s,
						    cases[i].now_s, 15);
		if (v != cases[i].want)
			fail_msg("%s: verdict %d, want %d", cases[i].what, v, cases[i].want);
	}
}

/* The remote renewTime never decides: only when this host saw the record
 * change. A holder whose clock runs far ahead or behind changes nothing. */
static void test_clock_skew_ignored(void **state)
{
	(void)state;
	static const char *const times[] = {
		"2099-01-01T00:00:00.000000Z", "2000-01-01T00:00:00.000000Z",
		"2026-11-30T03:00:00.000000Z", "not a time",
	};
	char json[512], err[256];

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		struct lease_record r;
		cJSON *o;

		snprintf(json, sizeof(json),
			 "{\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":\"b\","
			 "\"leaseDurationSeconds\":15,\"acquireTime\":\"%s\","
			 "\"renewTime\":\"%s\",\"leaseTransitions\":2}}", times[i], times[i]);
		o = cJSON_Parse(json);
		assert_non_null(o);
		assert_int_equal(lease_record_parse(o, &r, err, sizeof(err)), 0);
		assert_string_equal(r.holder, "b");
		assert_int_equal(r.duration_s, 15);
		assert_int_equal(r.transitions, 2);
		assert_int_equal(lease_decide(&r, "a", 100, 101, 15), LEASE_STANDBY);
		assert_int_equal(lease_decide(&r, "a", 100, 114, 15), LEASE_STANDBY);
		assert_int_equal(lease_decide(&r, "a", 100, 115, 15), LEASE_ACQUIRE);
		cJSON_Delete(o);
	}
}

static void test_renew_deadline(void **state)
{
	(void)state;
	static const struct {
		double renewed_s, deadline_s, now_s;
		bool valid;
	} cases[] = {
		{ -1, 10, 0, false },        /* never acquired */
		{ 100, 10, 100, true },
		{ 100, 10, 109.99, true },
		{ 100, 10, 110, false },     /* renew deadline passed */
		{ 100, 10, 500, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(lease_still_valid(cases[i].renewed_s, cases[i].deadline_s,
						   cases[i].now_s), cases[i].valid);

	/* The leader stops before the others may take over: they count the
	 * duration from when they saw its write, which it sent earlier. */
	static const int64_t durations[] = { 1000, 5000, 15000, 60000, 300000 };
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		struct lease_timing t = lease_timing_for(durations[i]);
		double sent = 1000, seen_by_other = sent + 0.001;
		struct lease_record other_view = rec(true, "a", (long)(t.duration_ms / 1000));

		assert_true(t.duration_ms >= LEASE_DURATION_MIN_MS);
		assert_true(t.retry_ms >= 1000);
		assert_true(t.retry_ms < t.renew_deadline_ms);
		assert_true(t.renew_deadline_ms < t.duration_ms);
		for (double now = sent; now < sent + 400; now += 0.25) {
			bool leader_acts = lease_still_valid(sent, t.renew_deadline_ms / 1000.0, now);
			bool other_takes = lease_decide(&other_view, "b", seen_by_other, now, 15) ==
					   LEASE_ACQUIRE;
			assert_false(leader_acts && other_takes);
		}
	}
	assert_int_equal(lease_timing_for(15000).renew_deadline_ms, 10000);
	assert_int_equal(lease_timing_for(15000).retry_ms, 2000);
	assert_int_equal(lease_timing_for(5000).retry_ms, 1000);
}

static cJSON *get(cJSON *o, const char *a, const char *b)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
}

static void test_write(void **state)
{
	(void)state;
	static const char *old =
		"{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
		"\"metadata\":{\"name\":\"ipad\",\"namespace\":\"kube-system\","
		"\"resourceVersion\":\"7\"},\"spec\":{\"holderIdentity\":\"b\","
		"\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-11-30T02:00:00.000000Z\","
		"\"renewTime\":\"2026-11-30T02:59:58.000000Z\",\"leaseTransitions\":3}}";
	const char *now = "2026-11-30T03:00:00.000000Z";
	cJSON *o;

	/* takeover: holder, times, transitions + 1; resourceVersion kept */
	o = cJSON_Parse(old);
	assert_int_equal(lease_record_write(o, LEASE_ACQUIRE, "kube-system", "ipad", "a", 15,
					    now), 0);
	assert_string_equal(get(o, "spec", "holderIdentity")->valuestring, "a");
	assert_string_equal(get(o, "spec", "acquireTime")->valuestring, now);
	assert_string_equal(get(o, "spec", "renewTime")->valuestring, now);
	assert_int_equal(get(o, "spec", "leaseTransitions")->valueint, 4);
	assert_int_equal(get(o, "spec", "leaseDurationSeconds")->valueint, 15);
	assert_string_equal(get(o, "metadata", "resourceVersion")->valuestring, "7");
	cJSON_Delete(o);

	/* renewal: acquireTime and transitions kept */
	o = cJSON_Parse(old);
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "spec"),
					       "holderIdentity", cJSON_CreateString("a"));
	assert_int_equal(lease_record_write(o, LEASE_RENEW, "kube-system", "ipad", "a", 5,
					    now), 0);
	assert_string_equal(get(o, "spec", "acquireTime")->valuestring,
			    "2026-11-30T02:00:00.000000Z");
	assert_string_equal(get(o, "spec", "renewTime")->valuestring, now);
	assert_int_equal(get(o, "spec", "leaseTransitions")->valueint, 3);
	assert_int_equal(get(o, "spec", "leaseDurationSeconds")->valueint, 5);
	cJSON_Delete(o);

	/* release: unheld, duration 1, the times kept */
	o = cJSON_Parse(old);
	assert_int_equal(lease_record_release(o), 0);
	assert_string_equal(get(o, "spec", "holderIdentity")->valuestring, "");
	assert_int_equal(get(o, "spec", "leaseDurationSeconds")->valueint, 1);
	assert_string_equal(get(o, "spec", "renewTime")->valuestring,
			    "2026-11-30T02:59:58.000000Z");
	assert_int_equal(get(o, "spec", "leaseTransitions")->valueint, 3);
	cJSON_Delete(o);

	/* creation */
	o = cJSON_CreateObject();
	assert_int_equal(lease_record_write(o, LEASE_CREATE, "kube-system", "ipad", "a", 15,
					    now), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "kind")->valuestring, "Lease");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "apiVersion")->valuestring,
			    "coordination.k8s.io/v1");
	assert_string_equal(get(o, "metadata", "namespace")->valuestring, "kube-system");
	assert_string_equal(get(o, "metadata", "name")->valuestring, "ipad");
	assert_string_equal(get(o, "spec", "holderIdentity")->valuestring, "a");
	assert_string_equal(get(o, "spec", "acquireTime")->valuestring, now);
	assert_int_equal(get(o, "spec", "leaseTransitions")->valueint, 0);
	cJSON_Delete(o);
}

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		int rc;
		const char *holder;
	} cases[] = {
		{ "{\"spec\":{}}", 0, "" },
		{ "{}", 0, "" },
		{ "{\"spec\":{\"holderIdentity\":null}}", 0, "" },
		{ "{\"spec\":{\"holderIdentity\":\"host-b\"}}", 0, "host-b" },
		{ "{\"spec\":{\"holderIdentity\":7}}", -EBADMSG, NULL },
		{ "{\"spec\":[]}", -EBADMSG, NULL },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lease_record r;
		cJSON *o = cJSON_Parse(cases[i].json);

		assert_int_equal(lease_record_parse(o, &r, err, sizeof(err)), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_true(r.exists);
			assert_string_equal(r.holder, cases[i].holder);
		}
		cJSON_Delete(o);
	}
}

static void test_micro_time(void **state)
{
	(void)state;
	char buf[40];

	assert_string_equal(lease_micro_time(1796007600000000LL, buf, sizeof(buf)),
			    "2026-11-30T03:00:00.000000Z");
	assert_string_equal(lease_micro_time(1796007600123456LL, buf, sizeof(buf)),
			    "2026-11-30T03:00:00.123456Z");
	assert_string_equal(lease_micro_time(0, buf, sizeof(buf)),
			    "1970-01-01T00:00:00.000000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_clock_skew_ignored),
		cmocka_unit_test(test_renew_deadline),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_micro_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
