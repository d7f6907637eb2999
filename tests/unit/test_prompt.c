/* Tests of the advisor prompt (prompt.c): each block's exact lines, the
 * units, the stable prefixes of docs/contracts.md, and the size bound
 * whatever the number of containers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prompt.h"

#define MI (INT64_C(1024) * 1024)
#define GI (INT64_C(1024) * MI)
#define NOW INT64_C(1700000000000)
#define SEC INT64_C(1000)

static struct target target(void)
{
	struct target t = {
		.source = "test.yaml:1:1", .cluster = "default", .ipa_name = "web-ipa",
		.namespace = "shop", .deployment = "web", .ingress = "web",
		.prometheus_uri = "http://prometheus", .min_replicas = 1, .max_replicas = 10,
	};

	t.guard = guardrails_defaults();
	t.guard.min_cpu_m = 100;
	t.guard.max_cpu_m = 2000;
	t.guard.min_memory_b = 64 * MI;
	t.guard.max_memory_b = 2 * GI;
	return t;
}

static struct container_observation container(const char *name)
{
	struct container_observation c = {
		.name = (char *)name,
		.current = { 250, 500, 256 * MI, 512 * MI },
		.cpu_cores = 0.18, .memory_bytes = 200.0 * MI, .pods_with_cpu = 3,
		.throttling = NAN,
	};
	return c;
}

static struct observation observation(struct container_observation *c, size_t n)
{
	struct observation o = {
		.replicas = 3, .status_replicas = 3, .updated_replicas = 3,
		.ready_replicas = 3, .available_replicas = 3,
		.primary_container = c[0].name, .containers = c, .container_count = n,
		.pod_count = 3, .request_rate = 12.34,
		.node_memory_allocatable_max = 8.0 * GI, .node_cpu_allocatable_max = 4,
		.node_memory_available_max = 6.0 * GI,
	};
	return o;
}

static void decision(struct history *h, int64_t ago_s, const char *action,
		     int32_t from, int32_t to, const char *note)
{
	struct history_decision d = { .at_ms = NOW - ago_s * SEC, .from = from, .to = to };

	snprintf(d.action, sizeof(d.action), "%.*s", (int)sizeof(d.action) - 1, action);
	snprintf(d.note, sizeof(d.note), "%.*s", (int)sizeof(d.note) - 1, note);
	history_add_decision(h, &d);
}

static void sample(struct history *h, int64_t ago_s, int32_t replicas, double cpu,
		   double mem_mi, double rps)
{
	struct history_sample s = { NOW - ago_s * SEC, replicas, cpu, mem_mi * MI, rps };

	history_add_sample(h, &s);
}

/* The text has this exact line. */
static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return;
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_blocks(void **state)
{
	struct target t = target();
	struct container_observation c[2] = { container("app"), container("sidecar") };
	struct observation o = observation(c, 2);
	struct history *h = calloc(1, sizeof(*h));
	char *p;
	int i;

	(void)state;
	assert_non_null(h);
	c[0].restarts = 4;
	c[0].oom_kills = 1;
	c[0].throttling = 0.25;
	c[1].current = (struct resources){ 50, RESOURCE_UNSET, 64 * MI, RESOURCE_UNSET };
	c[1].cpu_cores = NAN;
	c[1].memory_bytes = NAN;
	/* One sample every 30 s for 10 minutes: the last 5 minutes are shown. */
	for (i = 20; i >= 1; i--)
		sample(h, i * 30, i > 4 ? 3 : 4, 0.1 + 0.01 * i, 100 + i, i == 2 ? NAN : 10.0 + i);
	sample(h, -60, 9, 9, 9, 9); /* from the future: ignored */
	decision(h, 360, "hold", 3, 3, "the sixth");
	decision(h, 300, "none", 3, 3, "");
	decision(h, 240, "scale", 3, 4, "advice 4");
	history_add_event(h, NOW - 240 * SEC, 3, 4);
	decision(h, 180, "resize", 4, 4, "Recommend mode");
	decision(h, 120, "failed", 4, 5, "PATCH: 409\nConflict");
	decision(h, 60, "hold", 4, 4, "advice 5 → 4: scale-up stabilization");
	h->last_resize_ms = NOW - 3600 * SEC;

	p = prompt_render(&t, &o, h, NOW);
	assert_non_null(p);
	if (getenv("PROMPT_PRINT"))  /* to read it whole */
		fputs(p, stderr);
	has_line(p, "Deployment shop/web (IPA web-ipa, cluster default)");
	has_line(p, "units: cpu in millicores (m, 1000m = 1 core), memory in Mi (1Mi = 1048576 bytes)");
	has_line(p, "replicas: spec 3, ready 3, available 3, updated 3; no rollout in progress");
	has_line(p, "advice is for container app");
	has_line(p, "container app: cpu request 250m, limit 500m; memory request 256Mi, limit 512Mi; "
		    "cpu usage 180m per pod (72% of request); memory working set 200Mi max per pod; "
		    "restarts 4; OOM killed in 1 pod; cpu throttled in 25% of periods");
	has_line(p, "container sidecar: cpu request 50m, limit none; memory request 64Mi, limit none; "
		    "cpu usage unknown; memory working set unknown max per pod");
	has_line(p, "request rate: 12.3/s (ingress web)");
	has_line(p, "nodes: largest allocatable memory 8192Mi, cpu 4.0 cores; most available memory 6144Mi");
	/* History: -4m30s .. -30s, oldest first, the future sample left out. */
	has_line(p, "history of container app (oldest first, time before now):");
	has_line(p, "  -4m30s: replicas 3, cpu 190m/pod, memory 109Mi, 19.0 req/s");
	has_line(p, "  -1m: replicas 4, cpu 120m/pod, memory 102Mi, req/s unknown");
	has_line(p, "  -30s: replicas 4, cpu 110m/pod, memory 101Mi, 11.0 req/s");
	assert_int_equal(count(p, " req/s"), 9);
	assert_null(strstr(p, "  -5m: replicas"));
	assert_null(strstr(p, "replicas 9"));
	/* Guardrails. */
	has_line(p, "guardrails (ipad enforces them on any advice):");
	has_line(p, "  mode Auto: replicas and resources may change");
	has_line(p, "  replica bounds: min 1, max 10");
	has_line(p, "  scale up: at most 4 pods per 15s or 100% per 15s (Max: the larger change); "
		    "stabilization window 0s");
	has_line(p, "  scale down: at most 100% per 15s; stabilization window 5m");
	has_line(p, "  allowed requests of container app: cpu 100m to 2, memory 64Mi to 2Gi");
	has_line(p, "  limits: RequestsAndLimits (limits keep their ratio to requests; no limit "
		    "stays no limit); never above the largest node's allocatable");
	has_line(p, "  memory request at least the recent peak working set + 15%");
	has_line(p, "  resources change only by more than 15%, at most once per 30m, never during "
		    "a rollout or with a scale-down; last resize -1h");
	/* The last 5 decisions, newest first, with their outcome. */
	has_line(p, "last decisions (newest first):");
	has_line(p, "  -1m: hold, replicas 4 -> 4: advice 5 → 4: scale-up stabilization");
	has_line(p, "  -2m: failed, replicas 4 -> 5, apply failed: PATCH: 409 Conflict");
	has_line(p, "  -3m: resize, replicas 4 -> 4, not applied: Recommend mode");
	has_line(p, "  -4m: scale, replicas 3 -> 4, applied: advice 4");
	has_line(p, "  -5m: none, replicas 3 -> 3");
	assert_null(strstr(p, "the sixth"));
	/* The stable prefixes come before anything a stub could confuse. */
	assert_true(strstr(p, "replicas: spec") < strstr(p, "history of"));
	assert_int_equal(count(p, "% of request)"), 1);
	assert_non_null(strstr(p, "within the guardrails.\n"));
	assert_int_equal(p[strlen(p) - 1], '\n');
	free(p);
	free(h);
}

static void test_modes_and_rules(void **state)
{
	struct target t = target();
	struct container_observation c[1] = { container("app") };
	struct observation o = observation(c, 1);
	char *p;

	(void)state;
	t.ingress = NULL;
	t.guard.mode = MODE_REPLICAS_ONLY;
	t.guard.controlled = CONTROLLED_REQUESTS_ONLY;
	t.guard.up.select = SELECT_DISABLED;
	t.guard.down = (struct scaling_rules){ 60000, 1, 60000, 10, 30000, SELECT_MIN };
	t.guard.min_cpu_m = RESOURCE_UNSET;
	t.guard.max_memory_b = RESOURCE_UNSET;
	o.rollout_in_progress = true;
	o.rollout_reason = "rollout in progress: 1 of 3 pods updated";
	o.metrics_missing = "CPU usage of app";
	p = prompt_render(&t, &o, NULL, NOW);
	assert_non_null(p);
	has_line(p, "replicas: spec 3, ready 3, available 3, updated 3; "
		    "rollout in progress: 1 of 3 pods updated");
	has_line(p, "missing metrics: CPU usage of app");
	has_line(p, "  mode ReplicasOnly: only replicas may change, resources stay");
	has_line(p, "  scale up: disabled");
	has_line(p, "  scale down: at most 1 pods per 1m and 10% per 30s (Min: the smaller "
		    "change); stabilization window 1m");
	has_line(p, "  allowed requests of container app: cpu none to 2, memory 64Mi to none");
	has_line(p, "  limits: RequestsOnly (limits are not changed); never above the largest "
		    "node's allocatable");
	has_line(p, "  resources change only by more than 15%, at most once per 30m, never during "
		    "a rollout or with a scale-down; no resize yet");
	/* No history: neither block; no ingress: no rate anywhere. */
	assert_null(strstr(p, "history of"));
	assert_null(strstr(p, "last decisions"));
	assert_null(strstr(p, "request rate"));
	assert_null(strstr(p, "req/s"));
	free(p);

	t.guard.mode = MODE_RECOMMEND;
	p = prompt_render(&t, &o, NULL, NOW);
	assert_non_null(p);
	has_line(p, "  mode Recommend: nothing is applied, the advice is only recorded");
	free(p);
	t.guard.mode = MODE_RESOURCES_ONLY;
	p = prompt_render(&t, &o, NULL, NOW);
	assert_non_null(p);
	has_line(p, "  mode ResourcesOnly: only resources may change, replicas stay");
	free(p);
}

/* 200 containers with long names, a full history, long notes: bounded. */
static void test_size_bound(void **state)
{
	static char names[200][64];
	struct container_observation *c = calloc(200, sizeof(*c));
	struct history *h = calloc(1, sizeof(*h));
	struct target t = target();
	struct observation o;
	char note[200], *p;
	size_t i, len;

	(void)state;
	assert_non_null(c);
	assert_non_null(h);
	for (i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "container-with-a-long-name-%03zu-"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
		c[i] = container(names[i]);
		c[i].restarts = 1000;
		c[i].oom_kills = 1000;
		c[i].throttling = 0.99;
	}
	o = observation(c, 200);
	memset(note, 'n', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	for (i = 0; i < HISTORY_MAX_SAMPLES * 2; i++)
		sample(h, (int64_t)(HISTORY_MAX_SAMPLES * 2 - i) * 5, 1000, 123.456,
		       123456.0, 99999.9);
	for (i = 0; i < HISTORY_MAX_DECISIONS * 2; i++)
		decision(h, (int64_t)(HISTORY_MAX_DECISIONS * 2 - i) * 15, "scale+resize",
			 1000, 2000, note);
	h->last_resize_ms = NOW - 10 * SEC;
	assert_int_equal(h->sample_count, HISTORY_MAX_SAMPLES);
	assert_int_equal(h->decision_count, HISTORY_MAX_DECISIONS);

	p = prompt_render(&t, &o, h, NOW);
	assert_non_null(p);
	len = strlen(p);
	if (getenv("PROMPT_PRINT"))
		fprintf(stderr, "%s(%zu bytes)\n", p, len);
	assert_true(len <= PROMPT_MAX_BYTES);
	assert_int_equal(count(p, "\ncontainer "), PROMPT_MAX_CONTAINERS);
	has_line(p, "(192 more containers not shown)");
	assert_int_equal(count(p, " req/s\n"), PROMPT_MAX_SAMPLES);
	has_line(p, "  -5s: replicas 1000, cpu 123456m/pod, memory 123456Mi, 99999.9 req/s");
	assert_int_equal(count(p, ": scale+resize,"), PROMPT_MAX_DECISIONS);
	assert_null(strstr(p, "(cut)"));
	free(p);

	/* Names at Kubernetes' limits and a huge rollout reason: still bounded,
	 * whole lines cut, the question kept. */
	{
		static char big[4096];
		memset(big, 'z', sizeof(big) - 1);
		for (i = 0; i < 200; i++)
			c[i].name = big;
		o.primary_container = big;
		o.rollout_in_progress = true;
		o.rollout_reason = big;
		o.metrics_missing = big;
		t.namespace = t.deployment = t.ipa_name = t.cluster = t.ingress = big;
		p = prompt_render(&t, &o, h, NOW);
		assert_non_null(p);
		assert_true(strlen(p) <= PROMPT_MAX_BYTES);
		assert_non_null(strstr(p, "replicas: spec 3"));
		assert_non_null(strstr(p, "(cut)\nAnswer with"));
		assert_non_null(strstr(p, "within the guardrails.\n"));
		free(p);
	}
	free(c);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_modes_and_rules),
		cmocka_unit_test(test_size_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
