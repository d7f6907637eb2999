/* Unit tests for registry.c: files and IPA objects in one list, one
 * claimant per Deployment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"

static void make_config(struct ipad_config *cfg)
{
	assert_int_equal(config_defaults(cfg), 0);
	cfg->path = strdup("/etc/ipad/ipad.conf");
	cfg->clusters = calloc(2, sizeof(*cfg->clusters));
	assert_non_null(cfg->clusters);
	cfg->cluster_count = 2;
	cfg->clusters[0].name = strdup("eu");
	cfg->clusters[0].prometheus = strdup("http://prom:9090");
	cfg->clusters[1].name = strdup("us");
	cfg->clusters[1].prometheus = strdup("http://prom:9090");
}

/* An IPA object named ns/name, created at minute `created`, for the
 * Deployments "shop/D" of deployments (blank-separated). */
static char *object(const char *ns, const char *name, int created, const char *deployments)
{
	char items[1024] = "", *json, *copy = strdup(deployments);
	size_t n = 0;

	for (char *save, *d = strtok_r(copy, " ", &save); d; d = strtok_r(NULL, " ", &save))
		n += (size_t)snprintf(items + n, sizeof(items) - n,
				      "%s{\"deployment\":\"%s\",\"namespace\":\"shop\"}",
				      n ? "," : "", d);
	free(copy);
	assert_true(asprintf(&json,
		"{\"apiVersion\":\"ipa.shafinhasnat.me/v1alpha1\",\"kind\":\"IPA\","
		"\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"u-%s\","
		"\"generation\":1,\"creationTimestamp\":\"2026-11-30T00:%02d:00Z\"},"
		"\"spec\":{\"metadata\":{\"llmAgent\":\"http://agent\",\"ipaGroup\":[%s]}}}",
		name, ns, name, created, items) > 0);
	return json;
}

/* A target as a file would give it. */
static void file_target(struct target_list *l, const char *cluster, const char *deployment)
{
	struct target t = {
		.source = strdup("/etc/ipad/ipa.d/web.yaml:5:5"),
		.cluster = strdup(cluster), .ipa_name = strdup("file-ipa"),
		.namespace = strdup("shop"), .deployment = strdup(deployment),
		.prometheus_uri = strdup("http://prom:9090"),
		.min_replicas = 1, .max_replicas = 10,
	};
	assert_int_equal(target_list_append(l, &t), 0);
}

/* "deployment:ipa-name:refused?" of each target, blank-separated. */
static void assert_list(const struct target_list *l, const char *want)
{
	char got[2048] = "";
	size_t n = 0;

	for (size_t i = 0; i < l->count; i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s/%s:%s%s", i ? " " : "",
				      l->items[i].cluster, l->items[i].deployment,
				      l->items[i].ipa_name,
				      l->items[i].refused ? ":refused" : "");
	assert_string_equal(got, want);
}

static void test_claims(void **state)
{
	struct ipad_config cfg;
	struct target_list files = { 0 }, out = { 0 };
	struct diag d = { 0 };
	struct registry *r = registry_new();
	char *eu[3], *us[1];
	struct registry_objects objs[2] = { { eu, 3 }, { us, 1 } };

	(void)state;
	assert_non_null(r);
	make_config(&cfg);
	file_target(&files, "eu", "web");
	/* b is older than a; c claims web (held by the file) and api. */
	eu[0] = object("ops", "a", 5, "api cart");
	eu[1] = object("ops", "b", 1, "cart");
	eu[2] = object("ops", "c", 9, "web api");
	us[0] = object("ops", "a", 7, "web");   /* another cluster: no conflict */

	assert_int_equal(registry_build(r, &cfg, &files, objs, &out, NULL, &d), 0);
	assert_int_equal(d.count, 0);
	assert_list(&out, "eu/web:file-ipa eu/cart:b eu/api:a eu/cart:a:refused "
			  "us/web:a eu/web:c:refused eu/api:c:refused");
	const struct target *refused = &out.items[5];
	assert_string_equal(refused->refused,
			    "Deployment shop/web in cluster eu is already managed by "
			    "/etc/ipad/ipa.d/web.yaml:5:5; this claim is refused while "
			    "that one holds it");
	assert_string_equal(out.items[3].refused,
			    "Deployment shop/cart in cluster eu is already managed by "
			    "cluster eu: IPA ops/b: spec.metadata.ipaGroup[0]; this claim "
			    "is refused while that one holds it");
	target_list_free(&out);

	/* b is deleted: a takes cart over. An IPA created earlier than a
	 * that claims api later does not take it from a, who holds it. */
	free(eu[1]);
	eu[1] = object("ops", "z", 0, "api");
	assert_int_equal(registry_build(r, &cfg, &files, objs, &out, NULL, &d), 0);
	assert_list(&out, "eu/web:file-ipa eu/api:a us/web:a eu/api:z:refused "
			  "eu/cart:a eu/web:c:refused eu/api:c:refused");
	target_list_free(&out);

	/* A bad object contributes nothing; the others stay. */
	free(eu[2]);
	eu[2] = strdup("{\"apiVersion\":\"ipa.shafinhasnat.me/v1alpha1\",\"kind\":\"IPA\","
		       "\"metadata\":{\"name\":\"bad\",\"namespace\":\"ops\",\"generation\":4},"
		       "\"spec\":{\"metadata\":{\"llmAgent\":\"http://a\"}}}");
	struct registry_rejections rejected = { 0 };
	assert_int_equal(registry_build(r, &cfg, &files, objs, &out, &rejected, &d), 0);
	assert_int_equal(rejected.count, 1);
	assert_int_equal(rejected.items[0].cluster, 0);
	assert_string_equal(rejected.items[0].namespace, "ops");
	assert_string_equal(rejected.items[0].name, "bad");
	assert_int_equal(rejected.items[0].generation, 4);
	assert_string_equal(rejected.items[0].message, "spec.metadata.ipaGroup: is required: "
			    "a list of items with deployment and namespace");
	registry_rejections_free(&rejected);
	assert_int_equal(rejected.count, 0);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.messages[0], "cluster eu: IPA ops/bad: spec.metadata.ipaGroup: "
			    "is required: a list of items with deployment and namespace");
	assert_list(&out, "eu/web:file-ipa eu/api:a eu/cart:a us/web:a eu/api:z:refused");
	target_list_free(&out);

	/* Without objects: the files alone. */
	assert_int_equal(registry_build(r, &cfg, &files, NULL, &out, NULL, &d), 0);
	assert_list(&out, "eu/web:file-ipa");
	target_list_free(&out);

	for (int i = 0; i < 3; i++)
		free(eu[i]);
	free(us[0]);
	diag_free(&d);
	target_list_free(&files);
	registry_free(r);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
