/* Unit tests of informer.c: the watch stream's line splitter and event
 * decoder, and an informer that has not been started. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "informer.h"

#define IPA(type, ns, name, rv) \
	"{\"type\":\"" type "\",\"object\":{\"apiVersion\":\"ipa.shafinhasnat.me/" \
	"v1alpha1\",\"kind\":\"IPA\",\"metadata\":{\"namespace\":\"" ns "\"," \
	"\"name\":\"" name "\",\"resourceVersion\":\"" rv "\"},\"spec\":" \
	"{\"maxReplicas\":5}}}\n"
#define BOOKMARK(rv) \
	"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"IPA\",\"apiVersion\":" \
	"\"ipa.shafinhasnat.me/v1alpha1\",\"metadata\":{\"resourceVersion\":\"" rv "\"}}}\n"
#define GONE \
	"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\"," \
	"\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource " \
	"version: 5 (9)\",\"reason\":\"Expired\",\"code\":410}}\n"

/* What the callbacks saw. */
struct seen {
	char events[16][128];   /* "TYPE ns/name@rv" or "ERROR code reason" */
	size_t nevents;
	char kinds[8][64];      /* problem kinds */
	char texts[8][512];
	size_t nproblems;
	int stop_with;          /* returned for ERROR events */
};

static int on_event(void *ctx, const struct informer_event *ev)
{
	static const char *const names[] = { "ADDED", "MODIFIED", "DELETED",
					     "BOOKMARK", "ERROR" };
	struct seen *s = ctx;
	assert_true(s->nevents < 16);
	assert_non_null(ev->object);
	char *e = s->events[s->nevents++];
	if (ev->type == INFORMER_ERROR) {
		snprintf(e, 128, "ERROR %ld %s", ev->code, ev->reason ? ev->reason : "-");
		return s->stop_with;
	}
	snprintf(e, 128, "%s %s/%s@%s", names[ev->type],
		 ev->namespace_ ? ev->namespace_ : "-", ev->name ? ev->name : "-",
		 ev->resource_version);
	return 0;
}

static void on_problem(void *ctx, const char *kind, const char *text)
{
	struct seen *s = ctx;
	assert_true(s->nproblems < 8);
	snprintf(s->kinds[s->nproblems], 64, "%s", kind);
	snprintf(s->texts[s->nproblems++], 512, "%s", text);
}

static void feed_all(struct informer_stream *st, const char *text, size_t piece)
{
	size_t len = strlen(text);
	for (size_t i = 0; i < len; i += piece) {
		size_t n = len - i < piece ? len - i : piece;
		assert_int_equal(informer_stream_feed(st, text + i, n), 0);
	}
}

static void test_lines_in_one_chunk(void **state)
{
	(void)state;
	struct seen s = { 0 };
	struct informer_stream st;
	informer_stream_init(&st, INFORMER_MAX_LINE, on_event, on_problem, &s);
	feed_all(&st, IPA("ADDED", "shop", "web", "10") "\n\r\n"
		 IPA("MODIFIED", "shop", "web", "11")
		 IPA("DELETED", "shop", "web", "12") BOOKMARK("15"), 100000);
	assert_int_equal(s.nevents, 4);
	assert_string_equal(s.events[0], "ADDED shop/web@10");
	assert_string_equal(s.events[1], "MODIFIED shop/web@11");
	assert_string_equal(s.events[2], "DELETED shop/web@12");
	assert_string_equal(s.events[3], "BOOKMARK -/-@15");
	assert_int_equal(st.events, 4);
	assert_int_equal(s.nproblems, 0);
	assert_false(informer_stream_pending(&st));
	informer_stream_free(&st);
}

/* Every split point, including byte by byte: lines are never lost,
 * doubled or parsed early. */
static void test_lines_split_across_chunks(void **state)
{
	(void)state;
	const char *body = IPA("ADDED", "a", "one", "1") IPA("ADDED", "b", "two", "2")
			   "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":"
			   "{\"namespace\":\"a\",\"name\":\"one\",\"resourceVersion\":\"3\"}}}";
	for (size_t piece = 1; piece < 40; piece++) {
		struct seen s = { 0 };
		struct informer_stream st;
		informer_stream_init(&st, INFORMER_MAX_LINE, on_event, on_problem, &s);
		feed_all(&st, body, piece);
		assert_int_equal(s.nevents, 2);
		/* the last line has no newline yet: pending, not parsed */
		assert_true(informer_stream_pending(&st));
		assert_int_equal(informer_stream_feed(&st, "\r\n", 2), 0);
		assert_int_equal(s.nevents, 3);
		assert_string_equal(s.events[1], "ADDED b/two@2");
		assert_string_equal(s.events[2], "MODIFIED a/one@3");
		assert_false(informer_stream_pending(&st));
		informer_stream_free(&st);
	}
}

static void test_garbage_lines_skipped(void **state)
{
	(void)state;
	struct seen s = { 0 };
	struct informer_stream st;
	informer_stream_init(&st, INFORMER_MAX_LINE, on_event, on_problem, &s);
	feed_all(&st, "<html>502 Bad Gateway\x01</html>\n"
		 IPA("ADDED", "shop", "web", "10")
		 "{\"kind\":\"Status\"}\n"
		 "{\"type\":\"SNAPSHOT\",\"object\":{}}\n"
		 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}\n"
		 "{\"type\":\"ADDED\",\"object\":\"web\"}\n"
		 "[1,2]\n"
		 IPA("ADDED", "shop", "api", "11"), 7);
	assert_int_equal(s.nevents, 2);
	assert_string_equal(s.events[1], "ADDED shop/api@11");
	assert_int_equal(st.skipped, 6);
	assert_int_equal(s.nproblems, 6);
	assert_string_equal(s.kinds[0], "not JSON");
	assert_string_equal(s.texts[0], "skipped a watch event line of 29 bytes "
			    "(not JSON): \"<html>502 Bad Gateway </html>\"");
	assert_string_equal(s.kinds[1], "not a watch event: no \"type\"");
	assert_string_equal(s.kinds[2], "unknown event type \"SNAPSHOT\"");
	assert_string_equal(s.kinds[3], "ADDED object has no metadata.resourceVersion");
	assert_string_equal(s.kinds[4], "ADDED event without an \"object\"");
	assert_string_equal(s.kinds[5], "not JSON");
	informer_stream_free(&st);
}

static void test_overlong_line(void **state)
{
	(void)state;
	struct seen s = { 0 };
	struct informer_stream st;
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	informer_stream_init(&st, 200, on_event, on_problem, &s);
	/* an overlong line arriving in pieces, before and after good ones */
	feed_all(&st, IPA("ADDED", "a", "one", "1"), 9);
	feed_all(&st, "{\"type\":\"ADDED\",\"object\":{\"data\":\"", 5);
	feed_all(&st, big, 50);
	feed_all(&st, big, 64);
	feed_all(&st, "\"}}\n" IPA("ADDED", "a", "two", "2"), 3);
	assert_int_equal(s.nevents, 2);
	assert_string_equal(s.events[1], "ADDED a/two@2");
	assert_int_equal(s.nproblems, 1);
	assert_string_equal(s.kinds[0], "overlong");
	assert_string_equal(s.texts[0], "skipped a watch event line of more than 200 "
			    "bytes (overlong): \"{\"type\":\"ADDED\",\"object\":{\"data\":"
			    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"");
	/* one chunk that holds a whole overlong line */
	char line[600];
	snprintf(line, sizeof line, "%s\n" BOOKMARK("7"), big);
	feed_all(&st, line, sizeof line);
	assert_int_equal(s.nproblems, 2);
	assert_int_equal(s.nevents, 3);
	assert_string_equal(s.events[2], "BOOKMARK -/-@7");
	/* a line of exactly max_line bytes is fine */
	char exact[202];
	memset(exact, ' ', 200);
	const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
			 "{\"resourceVersion\":\"8\"}}}";
	memcpy(exact, bm, strlen(bm));
	exact[200] = '\n';
	exact[201] = '\0';
	feed_all(&st, exact, 13);
	assert_int_equal(s.nevents, 4);
	assert_int_equal(s.nproblems, 2);
	informer_stream_free(&st);
}

static void test_error_410_stops_the_stream(void **state)
{
	(void)state;
	struct seen s = { .stop_with = -ESTALE };
	struct informer_stream st;
	informer_stream_init(&st, INFORMER_MAX_LINE, on_event, on_problem, &s);
	const char *body = IPA("ADDED", "a", "one", "1") GONE IPA("ADDED", "a", "two", "2");
	assert_int_equal(informer_stream_feed(&st, body, strlen(body)), -ESTALE);
	assert_int_equal(s.nevents, 2);
	assert_string_equal(s.events[1], "ERROR 410 Expired");
	informer_stream_free(&st);
}

static void test_decode(void **state)
{
	(void)state;
	struct informer_event ev;
	char why[128];
	const char *line = GONE;
	assert_int_equal(informer_event_decode(line, strlen(line), &ev, why, sizeof why), 0);
	assert_int_equal(ev.type, INFORMER_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.reason, "Expired");
	assert_string_equal(ev.message, "too old resource version: 5 (9)");
	assert_null(ev.name);
	informer_event_clear(&ev);

	line = IPA("DELETED", "shop", "web", "42");
	assert_int_equal(informer_event_decode(line, strlen(line), &ev, why, sizeof why), 0);
	assert_int_equal(ev.type, INFORMER_DELETED);
	assert_string_equal(ev.namespace_, "shop");
	assert_string_equal(ev.name, "web");
	assert_string_equal(ev.resource_version, "42");
	assert_int_equal(ev.code, 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ev.object, "kind")), "IPA");
	informer_event_clear(&ev);

	line = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}";
	assert_int_equal(informer_event_decode(line, strlen(line), &ev, why, sizeof why),
			 -EBADMSG);
	assert_string_equal(why, "BOOKMARK object has no metadata.resourceVersion");
	assert_null(ev.object);
	line = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}";
	assert_int_equal(informer_event_decode(line, strlen(line), &ev, why, sizeof why),
			 -EBADMSG);
	assert_string_equal(why, "ADDED object has no metadata.name");
	/* an ERROR without a code is no relist */
	line = "{\"type\":\"ERROR\",\"object\":{\"message\":\"internal error\"}}";
	assert_int_equal(informer_event_decode(line, strlen(line), &ev, why, sizeof why), 0);
	assert_int_equal(ev.code, 0);
	assert_null(ev.reason);
	informer_event_clear(&ev);
}

static void test_not_started(void **state)
{
	(void)state;
	struct cluster_config cc = { .name = "eu", .kubeconfig = "/nonexistent" };
	struct kube_cluster k;
	char err[512];
	assert_int_equal(kube_cluster_init(&k, &cc, err, sizeof err), 0);

	struct informer *inf = informer_new(&k, "shop, web shop\tapi", err, sizeof err);
	assert_non_null(inf);
	char **objects;
	size_t count = 7;
	bool synced = true;
	assert_int_equal(informer_objects(inf, &objects, &count, &synced), 0);
	assert_int_equal(count, 0);
	assert_false(synced);
	assert_int_equal(informer_version(inf), 0);
	assert_false(informer_wait_synced(inf, 10));
	informer_objects_free(objects, count);
	informer_free(inf);
	informer_free(NULL);

	assert_null(informer_new(&k, " ,, ", err, sizeof err));
	assert_string_equal(err, "cluster eu: ipa-namespaces: names no namespace; "
			    "give namespaces separated by blanks or commas, or leave "
			    "it out for all namespaces");
	assert_null(informer_new(&k, "shop ..", err, sizeof err));
	assert_string_equal(err, "cluster eu: ipa-namespaces: \"..\" is not a "
			    "namespace name");
	inf = informer_new(&k, NULL, err, sizeof err);
	assert_non_null(inf);
	informer_free(inf);
	kube_cluster_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_in_one_chunk),
		cmocka_unit_test(test_lines_split_across_chunks),
		cmocka_unit_test(test_garbage_lines_skipped),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_error_410_stops_the_stream),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_not_started),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
