/* Table-driven tests of the decision (policy.c): every guardrail and the
 * field's known failure classes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define MI (INT64_C(1024) * 1024)
#define GI (INT64_C(1024) * MI)
#define U RESOURCE_UNSET
#define NOW INT64_C(1700000000000)
#define SEC INT64_C(1000)
#define FAILED_ADVISOR (-2)

/* What a case may change before the decision. */
struct setup {
	struct guardrails *g;
	struct history *h;
	struct observation *o;
	struct container_observation *c;
	struct target *t;
};

struct policy_case {
	const char *name;
	int min, max;
	int32_t replicas;            /* spec.replicas */
	struct resources current;
	bool rollout;
	const char *missing;
	int32_t advice_replicas;     /* FAILED_ADVISOR: no advice */
	bool advice_has_resources;
	struct resources advised;
	void (*setup)(struct setup *s);
	/* expected */
	enum action action;
	int32_t replicas_to;
	struct resources resources_to;
	int priority;
	const char *reason;          /* part of the reason, NULL: none */
};

static void rec(struct history *h, int64_t ago_s, int32_t replicas)
{
	history_add_recommendation(h, NOW - ago_s * SEC, replicas);
}

/* ---- setups ---- */
static void no_data(struct setup *s)
{
	s->c->pods_with_cpu = 0;
	s->c->cpu_cores = NAN;
}
static void recent_high(struct setup *s)
{
	rec(s->h, 120, 6);
	rec(s->h, 60, 8);
}
static void old_high(struct setup *s)
{
	rec(s->h, 400, 8);
}
static void flapping(struct setup *s)
{
	rec(s->h, 240, 5);
	rec(s->h, 180, 6);
	rec(s->h, 120, 5);
	rec(s->h, 60, 6);
}
static void down_one_per_minute(struct setup *s)
{
	s->g->down.pods = 1;
	s->g->down.pods_period_ms = 60 * SEC;
	s->g->down.percent = 0;
	s->g->down.stabilization_ms = 0;
}
static void up_pods_after_event(struct setup *s)
{
	s->g->up.pods = 4;
	s->g->up.pods_period_ms = 60 * SEC;
	s->g->up.percent = 0;
	history_add_event(s->h, NOW - 30 * SEC, 2, 6);
}
static void up_select_min(struct setup *s)
{
	s->g->up.select = SELECT_MIN;
}
static void up_disabled(struct setup *s)
{
	s->g->up.select = SELECT_DISABLED;
}
static void up_window(struct setup *s)
{
	s->g->up.stabilization_ms = 180 * SEC;
	rec(s->h, 120, 4);
}
static void min_cpu_50m(struct setup *s)
{
	s->g->min_cpu_m = 50;
}
static void max_memory_2gi(struct setup *s)
{
	s->g->max_memory_b = 2 * GI;
}
static void node_16gi(struct setup *s)
{
	s->o->node_memory_allocatable_max = (double)(16 * GI);
}
static void node_8_cores(struct setup *s)
{
	s->o->node_cpu_allocatable_max = 8.0;
}
static void peak_300mi(struct setup *s)
{
	s->c->memory_bytes = (double)(300 * MI);
}
static void history_peak_400mi(struct setup *s)
{
	struct history_sample x = { NOW - 600 * SEC, 3, 0.1, (double)(400 * MI), NAN };

	history_add_sample(s->h, &x);
	s->c->memory_bytes = (double)(100 * MI);
}
static void oom_killed(struct setup *s)
{
	s->c->oom_kills = 1;
	s->c->memory_bytes = (double)(250 * MI);
}
static void resized_5_min_ago(struct setup *s)
{
	s->h->last_resize_ms = NOW - 300 * SEC;
}
static void resized_40_min_ago(struct setup *s)
{
	s->h->last_resize_ms = NOW - 2400 * SEC;
}
static void requests_only(struct setup *s)
{
	s->g->controlled = CONTROLLED_REQUESTS_ONLY;
}
static void replicas_only(struct setup *s)
{
	s->g->mode = MODE_REPLICAS_ONLY;
}
static void resources_only(struct setup *s)
{
	s->g->mode = MODE_RESOURCES_ONLY;
}
static void recommend(struct setup *s)
{
	s->g->mode = MODE_RECOMMEND;
}
static void deployment_paused(struct setup *s)
{
	s->o->paused = true;
}
static void ipa_paused(struct setup *s)
{
	s->t->paused = true;
	s->t->ipa_namespace = "shop";
	s->t->ipa_name = "my-ipa";
}
/* ipad wrote 4 replicas at 2023-11-14T22:12:20Z (NOW - 60 s). */
static void written_4(struct setup *s)
{
	old_high(s);
	s->h->written_replicas = 4;
	s->h->written_ms = NOW - 60 * SEC;
}

#define R(a, b, c, d) { (a), (b), (c), (d) }
#define STD R(100, 200, 128 * MI, 256 * MI)

static const struct policy_case cases[] = {
	{ .name = "scale up within bounds", .min = 1, .max = 10, .replicas = 3,
	  .current = STD, .advice_replicas = 5,
	  .action = ACTION_SCALE, .replicas_to = 5, .resources_to = STD, .priority = 6 },
	{ .name = "no change", .min = 1, .max = 10, .replicas = 3, .current = STD,
	  .advice_replicas = 3, .action = ACTION_NONE, .replicas_to = 3,
	  .resources_to = STD, .priority = 6 },
	{ .name = "advice above max is clamped", .min = 1, .max = 12, .replicas = 8,
	  .current = R(100, U, U, U), .advice_replicas = 40,
	  .action = ACTION_SCALE, .replicas_to = 12, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 40 → 12: maxReplicas" },
	{ .name = "advice 0 below min is clamped", .min = 2, .max = 12, .replicas = 3,
	  .current = R(100, U, U, U), .advice_replicas = 0, .setup = old_high,
	  .action = ACTION_SCALE, .replicas_to = 2, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 0 → 2: minReplicas" },
	{ .name = "at max already: advice above max holds", .min = 1, .max = 10,
	  .replicas = 10, .current = R(100, U, U, U), .advice_replicas = 40,
	  .action = ACTION_HOLD, .replicas_to = 10, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 40 → 10: maxReplicas" },
	{ .name = "advice 10^9 is clamped, then rate-limited", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, U, U, U), .advice_replicas = 1000000000,
	  .action = ACTION_SCALE, .replicas_to = 7, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 1000000000 → 10: maxReplicas; advice 10 → 7: scale-up limit" },
	{ .name = "missing metrics: no scale-down", .min = 1, .max = 10, .replicas = 6,
	  .current = R(100, U, U, U), .missing = "CPU usage of web", .advice_replicas = 2,
	  .setup = old_high,
	  .action = ACTION_HOLD, .replicas_to = 6, .resources_to = R(100, U, U, U),
	  .priority = 4, .reason = "no scale-down while metrics are missing (CPU usage of web)" },
	{ .name = "missing metrics: scale-up still allowed", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, U, U, U),
	  .missing = "request rate of ingress web", .advice_replicas = 5,
	  .action = ACTION_SCALE, .replicas_to = 5, .resources_to = R(100, U, U, U),
	  .priority = 6 },
	{ .name = "no data at all: hold", .min = 1, .max = 10, .replicas = 3,
	  .current = R(100, U, U, U), .missing = "CPU usage of web, memory working set of web",
	  .advice_replicas = 5, .setup = no_data,
	  .action = ACTION_HOLD, .replicas_to = 3, .resources_to = R(100, U, U, U),
	  .priority = 4, .reason = "no metrics at all" },
	{ .name = "advisor failed: hold", .min = 1, .max = 10, .replicas = 3,
	  .current = R(100, U, U, U), .advice_replicas = FAILED_ADVISOR,
	  .action = ACTION_HOLD, .replicas_to = 3, .resources_to = R(100, U, U, U),
	  .priority = 4, .reason = "no advice: agent answered HTTP 500" },
	{ .name = "replicas 0 while min >= 1: scaling disabled", .min = 1, .max = 10,
	  .replicas = 0, .current = R(100, U, U, U), .advice_replicas = 5,
	  .action = ACTION_HOLD, .replicas_to = 0, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "scaling is disabled" },
	{ .name = "replicas 0 with min 0 may scale, without metrics", .min = 0, .max = 10,
	  .replicas = 0, .current = R(100, U, U, U), .missing = "pods", .advice_replicas = 2,
	  .setup = no_data,
	  .action = ACTION_SCALE, .replicas_to = 2, .resources_to = R(100, U, U, U),
	  .priority = 6 },
	/* HPA behavior: rate limits and stabilization */
	{ .name = "scale-up limit: 4 pods or 100 % per 15 s from 2", .min = 1, .max = 50,
	  .replicas = 2, .current = R(100, U, U, U), .advice_replicas = 20,
	  .action = ACTION_SCALE, .replicas_to = 6, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 20 → 6: scale-up limit (4 pods per 15s or 100 % per 15s, selectPolicy Max)" },
	{ .name = "scale-up limit at 10: percent wins", .min = 1, .max = 50,
	  .replicas = 10, .current = R(100, U, U, U), .advice_replicas = 40,
	  .action = ACTION_SCALE, .replicas_to = 20, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 40 → 20: scale-up limit" },
	{ .name = "selectPolicy Min: the smaller change", .min = 1, .max = 50,
	  .replicas = 10, .current = R(100, U, U, U), .advice_replicas = 40,
	  .setup = up_select_min,
	  .action = ACTION_SCALE, .replicas_to = 14, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 40 → 14: scale-up limit" },
	{ .name = "selectPolicy Disabled: no scale-up", .min = 1, .max = 50,
	  .replicas = 3, .current = R(100, U, U, U), .advice_replicas = 5,
	  .setup = up_disabled,
	  .action = ACTION_HOLD, .replicas_to = 3, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 5 → 3: scale-up limit (selectPolicy Disabled)" },
	{ .name = "rate limit counts from the start of the period", .min = 1, .max = 50,
	  .replicas = 6, .current = R(100, U, U, U), .advice_replicas = 20,
	  .setup = up_pods_after_event,
	  .action = ACTION_HOLD, .replicas_to = 6, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 20 → 6: scale-up limit (4 pods per 1m)" },
	{ .name = "scale-down stabilization keeps the window's highest", .min = 1, .max = 10,
	  .replicas = 8, .current = R(100, U, U, U), .advice_replicas = 3,
	  .setup = recent_high,
	  .action = ACTION_HOLD, .replicas_to = 8, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 3 → 8: scale-down stabilization (highest recommendation of the last 5m)" },
	{ .name = "first sight: no scale-down before the window", .min = 1, .max = 10,
	  .replicas = 8, .current = R(100, U, U, U), .advice_replicas = 3,
	  .action = ACTION_HOLD, .replicas_to = 8, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 3 → 8: scale-down stabilization" },
	{ .name = "scale-down after the window", .min = 1, .max = 10,
	  .replicas = 8, .current = R(100, U, U, U), .advice_replicas = 3,
	  .setup = old_high,
	  .action = ACTION_SCALE, .replicas_to = 3, .resources_to = R(100, U, U, U),
	  .priority = 6 },
	{ .name = "flapping between 5 and 6 stays at 6", .min = 1, .max = 10,
	  .replicas = 6, .current = R(100, U, U, U), .advice_replicas = 5,
	  .setup = flapping,
	  .action = ACTION_HOLD, .replicas_to = 6, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "scale-down stabilization" },
	{ .name = "scale-up stabilization keeps the window's lowest", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, U, U, U), .advice_replicas = 6,
	  .setup = up_window,
	  .action = ACTION_SCALE, .replicas_to = 4, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 6 → 4: scale-up stabilization" },
	{ .name = "scale-down limit: 1 pod per minute", .min = 1, .max = 20,
	  .replicas = 10, .current = R(100, U, U, U), .advice_replicas = 4,
	  .setup = down_one_per_minute,
	  .action = ACTION_SCALE, .replicas_to = 9, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 4 → 9: scale-down limit (1 pods per 1m)" },
	{ .name = "dead band: 40 → 41 is not swallowed", .min = 1, .max = 100,
	  .replicas = 40, .current = R(100, U, U, U), .advice_replicas = 41,
	  .action = ACTION_SCALE, .replicas_to = 41, .resources_to = R(100, U, U, U),
	  .priority = 6 },
	{ .name = "above max after a re-apply: back to max at once", .min = 1, .max = 10,
	  .replicas = 15, .current = R(100, U, U, U), .advice_replicas = 15,
	  .setup = down_one_per_minute,
	  .action = ACTION_SCALE, .replicas_to = 10, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 15 → 10: maxReplicas" },
	{ .name = "below min after a re-apply: back to min", .min = 3, .max = 10,
	  .replicas = 1, .current = R(100, U, U, U), .advice_replicas = 1,
	  .action = ACTION_SCALE, .replicas_to = 3, .resources_to = R(100, U, U, U),
	  .priority = 5, .reason = "advice 1 → 3: minReplicas" },
	/* resources */
	{ .name = "resize all four", .min = 1, .max = 10, .replicas = 3, .current = STD,
	  .advice_replicas = 3, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI),
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(200, 400, 256 * MI, 512 * MI), .priority = 6 },
	{ .name = "scale and resize", .min = 1, .max = 10, .replicas = 3, .current = STD,
	  .advice_replicas = 4, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI),
	  .action = ACTION_SCALE_RESIZE, .replicas_to = 4,
	  .resources_to = R(200, 400, 256 * MI, 512 * MI), .priority = 6 },
	{ .name = "no limit stays no limit", .min = 1, .max = 10, .replicas = 3,
	  .current = R(100, U, 128 * MI, U), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(200, 400, 256 * MI, 512 * MI),
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(200, U, 256 * MI, U), .priority = 6 },
	{ .name = "limits keep their ratio when the advice has none", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, 300, 128 * MI, 200 * MI), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(200, U, 256 * MI, U),
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(200, 600, 256 * MI, 400 * MI), .priority = 6 },
	{ .name = "RequestsOnly: limits kept, request capped at the limit", .min = 1,
	  .max = 10, .replicas = 3, .current = R(100, U, 128 * MI, 200 * MI),
	  .advice_replicas = 3, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI), .setup = requests_only,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(200, U, 200 * MI, 200 * MI), .priority = 5,
	  .reason = "memory request 256Mi → 200Mi: the limit it keeps (controlledValues RequestsOnly)" },
	{ .name = "advised limit below a raised request is raised", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, 200, 128 * MI, 256 * MI), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(10, 40, 128 * MI, 256 * MI),
	  .setup = min_cpu_50m,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(50, 50, 128 * MI, 256 * MI), .priority = 5,
	  .reason = "cpu request 10m → 50m: minAllowed; cpu limit 40m → 50m: not below the request" },
	{ .name = "maxAllowed caps the request and the ratio's limit", .min = 1, .max = 10,
	  .replicas = 3, .current = STD, .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(100, 200, 8 * GI, U),
	  .setup = max_memory_2gi,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(100, 200, 2 * GI, 2 * GI), .priority = 5,
	  .reason = "memory request 8Gi → 2Gi: maxAllowed; memory limit 4Gi → 2Gi: maxAllowed" },
	{ .name = "limit blow-up from a large ratio stops at the node", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, U, 512 * MI, 4 * GI), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(100, U, 3840 * MI, U),
	  .setup = node_16gi,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(100, U, 3840 * MI, 16 * GI), .priority = 5,
	  .reason = "memory limit 30Gi → 16Gi: largest node's allocatable" },
	{ .name = "advice above node size: 9334m on 8 cores", .min = 1, .max = 10,
	  .replicas = 3, .current = R(1000, U, U, U), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(9334, U, U, U),
	  .setup = node_8_cores,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(8000, U, U, U), .priority = 5,
	  .reason = "cpu request 9334m → 8: largest node's allocatable" },
	{ .name = "memory never below the peak working set + 15 %", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, U, 256 * MI, U), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(100, U, 64 * MI, U),
	  .setup = peak_300mi,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(100, U, 345 * MI, U), .priority = 5,
	  .reason = "memory request 64Mi → 345Mi: recent peak working set 300Mi + memory margin" },
	{ .name = "the peak comes from the history too", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, U, 256 * MI, U), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(100, U, 64 * MI, U),
	  .setup = history_peak_400mi,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(100, U, 460 * MI, U), .priority = 5,
	  .reason = "recent peak working set 400Mi" },
	{ .name = "OOM kill raises the limit and the floor", .min = 1, .max = 10,
	  .replicas = 3, .current = STD, .advice_replicas = 3,
	  .advice_has_resources = true, .advised = STD, .setup = oom_killed,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(100, 200, 350 * MI, 356 * MI), .priority = 5,
	  .reason = "memory request 128Mi → 350Mi: recent peak working set 250Mi + OOM kill margin" },
	{ .name = "change below the threshold: 1G is not 1Gi", .min = 1, .max = 10,
	  .replicas = 3, .current = R(100, U, GI, U), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(100, U, 1000000000, U),
	  .action = ACTION_HOLD, .replicas_to = 3,
	  .resources_to = R(100, U, GI, U), .priority = 5,
	  .reason = "resources kept: largest change 7 % is below the 15 % threshold" },
	{ .name = "cooldown: resized 5 min ago", .min = 1, .max = 10, .replicas = 3,
	  .current = STD, .advice_replicas = 3, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI), .setup = resized_5_min_ago,
	  .action = ACTION_HOLD, .replicas_to = 3, .resources_to = STD, .priority = 5,
	  .reason = "resources kept: last resize 5m ago, cooldown 30m" },
	{ .name = "cooldown over: resized 40 min ago", .min = 1, .max = 10, .replicas = 3,
	  .current = STD, .advice_replicas = 3, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI), .setup = resized_40_min_ago,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(200, 400, 256 * MI, 512 * MI), .priority = 6 },
	{ .name = "never resize together with a scale-down", .min = 1, .max = 10,
	  .replicas = 5, .current = STD, .advice_replicas = 3, .advice_has_resources = true,
	  .setup = old_high,
	  .advised = R(200, 400, 256 * MI, 512 * MI),
	  .action = ACTION_SCALE, .replicas_to = 3, .resources_to = STD, .priority = 5,
	  .reason = "resources kept: never resized together with a scale-down" },
	{ .name = "rollout in progress: resources kept, replicas still move", .min = 1,
	  .max = 10, .replicas = 3, .current = STD, .rollout = true,
	  .advice_replicas = 4, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI),
	  .action = ACTION_SCALE, .replicas_to = 4, .resources_to = STD, .priority = 5,
	  .reason = "resources kept: rollout in progress" },
	{ .name = "same resources in another spelling: no resize", .min = 1, .max = 10,
	  .replicas = 3, .current = R(1000, 2000, GI, 2 * GI), .advice_replicas = 3,
	  .advice_has_resources = true, .advised = R(1000, 2000, GI, 2 * GI),
	  .action = ACTION_NONE, .replicas_to = 3,
	  .resources_to = R(1000, 2000, GI, 2 * GI), .priority = 6 },
	/* modes */
	{ .name = "ReplicasOnly ignores the resources", .min = 1, .max = 10,
	  .replicas = 3, .current = STD, .advice_replicas = 4, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI), .setup = replicas_only,
	  .action = ACTION_SCALE, .replicas_to = 4, .resources_to = STD, .priority = 6 },
	{ .name = "ResourcesOnly ignores the replicas", .min = 1, .max = 10,
	  .replicas = 3, .current = STD, .advice_replicas = 9, .advice_has_resources = true,
	  .advised = R(200, 400, 256 * MI, 512 * MI), .setup = resources_only,
	  .action = ACTION_RESIZE, .replicas_to = 3,
	  .resources_to = R(200, 400, 256 * MI, 512 * MI), .priority = 6 },
	{ .name = "Recommend decides the same", .min = 1, .max = 10, .replicas = 3,
	  .current = STD, .advice_replicas = 5, .setup = recommend,
	  .action = ACTION_SCALE, .replicas_to = 5, .resources_to = STD, .priority = 6 },
	/* pause and changes outside ipad */
	{ .name = "paused on the Deployment: hold, not a failure", .min = 1, .max = 10,
	  .replicas = 3, .current = STD, .advice_replicas = 8, .setup = deployment_paused,
	  .action = ACTION_HOLD, .replicas_to = 3, .resources_to = STD, .priority = 6,
	  .reason = "paused by the annotation ipa.shafinhasnat.me/paused on Deployment shop/web" },
	{ .name = "paused on the IPA, even without advice", .min = 1, .max = 10,
	  .replicas = 3, .current = STD, .advice_replicas = FAILED_ADVISOR, .setup = ipa_paused,
	  .action = ACTION_HOLD, .replicas_to = 3, .resources_to = STD, .priority = 6,
	  .reason = "paused by the annotation ipa.shafinhasnat.me/paused on IPA shop/my-ipa" },
	{ .name = "spec.replicas changed outside ipad: hold this cycle", .min = 1, .max = 10,
	  .replicas = 7, .current = STD, .advice_replicas = 4, .setup = written_4,
	  .action = ACTION_HOLD, .replicas_to = 7, .resources_to = STD, .priority = 5,
	  .reason = "spec.replicas changed from 4 to 7 outside ipad since its last write "
		    "at 2023-11-14T22:12:20Z; holding this cycle" },
	{ .name = "spec.replicas as ipad wrote it: decided as usual", .min = 1, .max = 10,
	  .replicas = 4, .current = STD, .advice_replicas = 6, .setup = written_4,
	  .action = ACTION_SCALE, .replicas_to = 6, .resources_to = STD, .priority = 6 },
};

static void run_case(const struct policy_case *c)
{
	struct target t = { .namespace = "shop", .deployment = "web",
			    .min_replicas = c->min, .max_replicas = c->max,
			    .guard = guardrails_defaults() };
	struct container_observation co = { .name = "web", .current = c->current,
					    .cpu_cores = 0.1, .pods_with_cpu = 1,
					    .memory_bytes = NAN };
	struct observation o = { .replicas = c->replicas, .ready_replicas = c->replicas,
				 .containers = &co, .container_count = 1,
				 .primary_container = co.name,
				 .rollout_in_progress = c->rollout,
				 .rollout_reason = c->rollout ? "rollout in progress: 1 of 3 pods updated" : NULL,
				 .metrics_missing = (char *)c->missing,
				 .request_rate = NAN, .node_cpu_allocatable_max = NAN,
				 .node_memory_allocatable_max = NAN };
	struct container_advice ca = { .name = "web", .r = c->advised };
	struct advice a = { .replicas = c->advice_replicas,
			    .containers = c->advice_has_resources ? &ca : NULL,
			    .container_count = c->advice_has_resources ? 1 : 0 };
	struct history *h = calloc(1, sizeof(*h));
	struct setup s = { &t.guard, h, &o, &co, &t };
	struct decision d;

	assert_non_null(h);
	if (c->setup)
		c->setup(&s);
	policy_decide(&t, &o, c->advice_replicas == FAILED_ADVISOR ? NULL : &a,
		      "agent answered HTTP 500", h, NOW, &d);
	if (d.action != c->action || d.replicas_to != c->replicas_to ||
	    d.priority != c->priority ||
	    !resources_equal(&d.resources_to, &c->resources_to) ||
	    (c->reason ? !strstr(d.reason, c->reason) : d.reason[0] != '\0'))
		fail_msg("%s: action %s replicas %d priority %d reason \"%s\" "
			 "resources %lld/%lld %lld/%lld",
			 c->name, action_name(d.action), d.replicas_to, d.priority, d.reason,
			 (long long)d.resources_to.cpu_request_m,
			 (long long)d.resources_to.cpu_limit_m,
			 (long long)d.resources_to.memory_request_b,
			 (long long)d.resources_to.memory_limit_b);
	assert_int_equal(d.replicas_from, c->replicas);
	assert_true(resources_equal(&d.resources_from, &c->current));
	assert_int_equal(d.recommend_only, t.guard.mode == MODE_RECOMMEND);
	/* Whatever the advice, a change stays inside the bounds. */
	if (d.replicas_to != d.replicas_from) {
		assert_true(d.replicas_to >= c->min);
		assert_true(d.replicas_to <= c->max);
	}
	free(h);
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* Scale-down over several cycles: stabilization then the fall. */
static void test_remember_and_stabilize(void **state)
{
	struct target t = { .min_replicas = 1, .max_replicas = 10,
			    .guard = guardrails_defaults() };
	struct container_observation co = { .name = "web", .current = STD,
					    .cpu_cores = 0.1, .pods_with_cpu = 1,
					    .memory_bytes = (double)(100 * MI) };
	struct observation o = { .replicas = 8, .containers = &co, .container_count = 1,
				 .primary_container = co.name, .request_rate = NAN,
				 .node_cpu_allocatable_max = NAN,
				 .node_memory_allocatable_max = NAN };
	struct advice a = { .replicas = 8 };
	struct history *h = calloc(1, sizeof(*h));
	struct decision d;
	int64_t now = NOW;
	int i;

	(void)state;
	assert_non_null(h);
	policy_decide(&t, &o, &a, NULL, h, now, &d);
	policy_remember(h, &o, &d, OUTCOME_NOT_APPLIED, NULL, now);
	a.replicas = 2;
	for (i = 1; i <= 4; i++) {          /* 60 s cycles inside the 300 s window */
		now += 60 * SEC;
		policy_decide(&t, &o, &a, NULL, h, now, &d);
		assert_int_equal(d.action, ACTION_HOLD);
		assert_int_equal(d.replicas_to, 8);
		policy_remember(h, &o, &d, OUTCOME_NOT_APPLIED, NULL, now);
	}
	now += 61 * SEC;                    /* the 8 has left the window */
	policy_decide(&t, &o, &a, NULL, h, now, &d);
	assert_int_equal(d.action, ACTION_SCALE);
	assert_int_equal(d.replicas_to, 2);
	policy_remember(h, &o, &d, OUTCOME_APPLIED, NULL, now);
	assert_int_equal(h->event_count, 1);
	assert_int_equal(h->events[0].from, 8);
	assert_int_equal(h->sample_count, 6);
	assert_int_equal(h->decision_count, 6);
	assert_string_equal(h->decisions[5].action, "scale");
	assert_string_equal(h->decisions[0].action, "none");

	policy_remember(h, &o, &d, OUTCOME_FAILED, "scale to 2 failed: 409", now);
	assert_string_equal(h->decisions[h->decision_count - 1].action, "failed");
	assert_string_equal(h->decisions[h->decision_count - 1].note, "scale to 2 failed: 409");
	free(h);
}

/* ipad scales 3 → 4; someone scales to 7: held once, then 7 is the
 * baseline; a failed apply forgets what was written. */
static void test_outside_change_once(void **state)
{
	struct target t = { .namespace = "shop", .deployment = "web", .min_replicas = 1,
			    .max_replicas = 10, .guard = guardrails_defaults() };
	struct container_observation co = { .name = "web", .current = STD,
					    .cpu_cores = 0.1, .pods_with_cpu = 1,
					    .memory_bytes = NAN };
	struct observation o = { .replicas = 3, .containers = &co, .container_count = 1,
				 .primary_container = co.name, .request_rate = NAN,
				 .node_cpu_allocatable_max = NAN,
				 .node_memory_allocatable_max = NAN };
	struct advice a = { .replicas = 4 };
	struct history *h = calloc(1, sizeof(*h));
	struct decision d;
	int64_t now = NOW;

	(void)state;
	assert_non_null(h);
	policy_decide(&t, &o, &a, NULL, h, now, &d);
	assert_int_equal(d.action, ACTION_SCALE);
	policy_remember(h, &o, &d, OUTCOME_APPLIED, NULL, now);
	assert_int_equal(h->written_replicas, 4);
	assert_true(h->written_ms == now);

	o.replicas = 7;                     /* kubectl scale --replicas=7 */
	now += 60 * SEC;
	policy_decide(&t, &o, &a, NULL, h, now, &d);
	assert_int_equal(d.action, ACTION_HOLD);
	assert_true(d.outside_change);
	assert_int_equal(d.replicas_to, 7);
	assert_non_null(strstr(d.reason, "changed from 4 to 7 outside ipad"));
	policy_remember(h, &o, &d, OUTCOME_NOT_APPLIED, NULL, now);
	assert_int_equal(h->written_replicas, 7);

	now += 60 * SEC;                    /* the new baseline */
	a.replicas = 7;
	policy_decide(&t, &o, &a, NULL, h, now, &d);
	assert_false(d.outside_change);
	assert_int_equal(d.action, ACTION_NONE);

	a.replicas = 8;
	policy_decide(&t, &o, &a, NULL, h, now, &d);
	assert_int_equal(d.action, ACTION_SCALE);
	policy_remember(h, &o, &d, OUTCOME_FAILED, "409", now);
	assert_true(h->written_ms == 0);
	o.replicas = 9;                     /* nothing known to compare with */
	policy_decide(&t, &o, &a, NULL, h, now, &d);
	assert_false(d.outside_change);
	free(h);
}

static void test_history_limits(void **state)
{
	struct history *h = calloc(1, sizeof(*h));
	int i;

	(void)state;
	assert_non_null(h);
	for (i = 0; i < HISTORY_MAX_RECOMMENDATIONS + 10; i++)
		history_add_recommendation(h, NOW + i, i);
	assert_int_equal(h->rec_count, HISTORY_MAX_RECOMMENDATIONS);
	assert_int_equal(h->recs[0].replicas, 10);
	/* an hour later, everything is gone; entries from the future too */
	history_add_event(h, NOW + 10 * HISTORY_MAX_AGE_MS, 1, 2);
	history_prune(h, NOW + 2 * HISTORY_MAX_AGE_MS);
	assert_int_equal(h->rec_count, 0);
	assert_int_equal(h->event_count, 0);
	assert_true(isnan(history_memory_peak(h, NOW, HISTORY_MAX_AGE_MS)));
	free(h);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(action_name(ACTION_SCALE), "scale");
	assert_string_equal(action_name(ACTION_RESIZE), "resize");
	assert_string_equal(action_name(ACTION_SCALE_RESIZE), "scale+resize");
	assert_string_equal(action_name(ACTION_HOLD), "hold");
	assert_string_equal(action_name(ACTION_NONE), "none");
	assert_string_equal(ipa_mode_names[MODE_REPLICAS_ONLY], "ReplicasOnly");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_remember_and_stabilize),
		cmocka_unit_test(test_outside_change_once),
		cmocka_unit_test(test_history_limits),
		cmocka_unit_test(test_action_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
