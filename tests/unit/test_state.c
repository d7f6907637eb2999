/* Unit tests of state.c: the per-target history on disk. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "tempfiles.h"

#include "state.h"

#define NOW_MS ((int64_t)time(NULL) * 1000)

static struct target web = { .cluster = "eu_west", .namespace = "shop",
			     .deployment = "web.v2" };

/* Files of dir whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void test_round_trip(void **state)
{
	struct history *h = calloc(1, sizeof(*h)), *back = calloc(1, sizeof(*back));
	struct history_sample s = { NOW_MS - 1000, 3, 0.25, 1.5e8, NAN };
	struct history_decision d = { .at_ms = NOW_MS - 500, .action = "scale",
				      .from = 3, .to = 5, .note = "advice 9 → 5: \"maxReplicas\"" };
	char err[512], dir[256], *path;

	(void)state;
	assert_non_null(h);
	assert_non_null(back);
	snprintf(dir, sizeof(dir), "%s/rt", temp_dir());
	history_add_recommendation(h, NOW_MS - 2000, 4);
	history_add_recommendation(h, NOW_MS - 1000, 5);
	history_add_event(h, NOW_MS - 900, 3, 5);
	history_add_sample(h, &s);
	history_add_decision(h, &d);
	h->last_resize_ms = NOW_MS - 100;
	h->written_replicas = 5;
	h->written_ms = NOW_MS - 900;
	/* the directory is made when missing */
	assert_int_equal(state_save(dir, &web, h, err, sizeof(err)), 0);
	path = state_path(dir, &web);
	assert_non_null(path);
	assert_non_null(strstr(path, "/eu%5Fwest_shop_web.v2.json"));
	free(path);
	assert_int_equal(count_files(dir, "eu%5Fwest_shop_web.v2.json.tmp"), 0);

	assert_int_equal(state_load(dir, &web, back, err, sizeof(err)), 0);
	assert_int_equal(back->rec_count, 2);
	assert_int_equal(back->recs[1].replicas, 5);
	assert_true(back->recs[1].at_ms == NOW_MS - 1000 || back->recs[1].at_ms == h->recs[1].at_ms);
	assert_int_equal(back->event_count, 1);
	assert_int_equal(back->events[0].to, 5);
	assert_int_equal(back->sample_count, 1);
	assert_true(back->samples[0].cpu_cores == 0.25);
	assert_true(isnan(back->samples[0].request_rate));
	assert_int_equal(back->decision_count, 1);
	assert_string_equal(back->decisions[0].note, d.note);
	assert_true(back->last_resize_ms == h->last_resize_ms);
	assert_int_equal(back->written_replicas, 5);
	assert_true(back->written_ms == NOW_MS - 900);

	/* a second save replaces the file */
	history_add_recommendation(h, NOW_MS, 6);
	assert_int_equal(state_save(dir, &web, h, err, sizeof(err)), 0);
	assert_int_equal(state_load(dir, &web, back, err, sizeof(err)), 0);
	assert_int_equal(back->rec_count, 3);
	free(h);
	free(back);
}

/* A file written before "written" existed loads: nothing was written. */
static void test_old_file_loads(void **state)
{
	static const char old[] = "{\"version\":1,\"target\":\"eu_west/shop/web.v2\","
		"\"recommendations\":[],\"events\":[],\"samples\":[],\"decisions\":[],"
		"\"last_resize\":0}";
	struct history *h = calloc(1, sizeof(*h));
	char err[512], dir[256];

	(void)state;
	assert_non_null(h);
	snprintf(dir, sizeof(dir), "%s/old", temp_dir());
	assert_int_equal(mkdir(dir, 0700), 0);
	write_temp("old/eu%5Fwest_shop_web.v2.json", old, strlen(old));
	h->written_ms = 5;
	assert_int_equal(state_load(dir, &web, h, err, sizeof(err)), 0);
	assert_true(h->written_ms == 0);
	free(h);
}

static void test_missing_is_empty(void **state)
{
	struct history *h = calloc(1, sizeof(*h));
	char err[512];

	(void)state;
	assert_non_null(h);
	h->rec_count = 7;
	assert_int_equal(state_load(temp_dir(), &web, h, err, sizeof(err)), 0);
	assert_int_equal(h->rec_count, 0);
	free(h);
}

/* Corrupt or foreign files are set aside; ipad starts clean. */
static void test_set_aside(void **state)
{
	static const char *const bad[] = {
		"{\"version\":1,\"target\":\"eu_w", /* cut by a crash of another writer */
		"",
		"[1,2,3]",
		"{\"version\":2,\"target\":\"eu_west/shop/web.v2\"}",
		"{\"version\":1,\"target\":\"other/shop/web\"}",
		"{\"version\":1,\"target\":\"eu_west/shop/web.v2\",\"recommendations\":[[1,\"5\"]]}",
		"{\"version\":1,\"target\":\"eu_west/shop/web.v2\",\"events\":[[1,-3,2]]}",
		"{\"version\":1,\"target\":\"eu_west/shop/web.v2\",\"samples\":[[1e300,1,0,0,0]]}",
		"{\"version\":1,\"target\":\"eu_west/shop/web.v2\",\"written\":[1,-4]}",
	};
	static const char *const why[] = { "not JSON", "not JSON", "not a version 1",
		"not a version 1", "another target", "bad recommendations",
		"bad events", "bad samples", "bad written" };
	struct history *h = calloc(1, sizeof(*h));
	char err[512], dir[256];
	size_t i;

	(void)state;
	assert_non_null(h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64], *path;
		snprintf(dir, sizeof(dir), "%s/aside%zu", temp_dir(), i);
		assert_int_equal(mkdir(dir, 0700), 0);
		snprintf(name, sizeof(name), "aside%zu/eu%%5Fwest_shop_web.v2.json", i);
		path = (char *)write_temp(name, bad[i], strlen(bad[i]));
		err[0] = '\0';
		assert_int_equal(state_load(dir, &web, h, err, sizeof(err)), -EBADMSG);
		if (!strstr(err, why[i]) || !strstr(err, "set aside as") ||
		    !strstr(err, "starting with an empty history"))
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(h->rec_count, 0);
		assert_int_equal(count_files(dir, "eu%5Fwest_shop_web.v2.json.corrupt-"), 1);
		/* the next load starts clean */
		assert_int_equal(state_load(dir, &web, h, err, sizeof(err)), 0);
		(void)path;
	}
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_missing_is_empty),
		cmocka_unit_test(test_old_file_loads),
		cmocka_unit_test(test_set_aside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
