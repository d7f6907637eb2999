/* prompt — see prompt.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "prompt.h"
#include "quantity.h"

struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (t->len + (size_t)n + 1 > t->cap)) {
		size_t cap = (t->cap ? t->cap * 2 : 1024) + (size_t)(n < 0 ? 0 : n);
		char *b = n < 0 ? NULL : realloc(t->buf, cap);
		if (!b) {
			t->failed = 1;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static const char *cpu_text(int64_t m, char *buf)
{
	return m == RESOURCE_UNSET ? "none" : quantity_format_millicores(m, buf, QUANTITY_BUFSZ);
}

static const char *mem_text(int64_t b, char *buf)
{
	return b == RESOURCE_UNSET ? "none" : quantity_format_bytes(b, buf, QUANTITY_BUFSZ);
}

static const char *mi(double bytes, char *buf, size_t len)
{
	if (isnan(bytes))
		snprintf(buf, len, "unknown");
	else
		snprintf(buf, len, "%.0fMi", bytes / (1024.0 * 1024.0));
	return buf;
}

/* "-4m30s": how long before now, whole seconds. */
static const char *ago(int64_t now_ms, int64_t at_ms, char *buf, size_t len)
{
	int64_t d = now_ms > at_ms ? (now_ms - at_ms) / 1000 * 1000 : 0;
	char w[32];

	if (d == 0)
		snprintf(buf, len, "now");
	else
		snprintf(buf, len, "-%s", duration_format(d, w, sizeof(w)));
	return buf;
}

static const char *dur(int64_t ms, char *buf, size_t len)
{
	return ms > 0 ? duration_format(ms, buf, len) : (snprintf(buf, len, "0s"), buf);
}

static void container_line(struct text *x, const struct container_observation *c)
{
	char q[4][QUANTITY_BUFSZ], m1[32];

	add(x, "container %.253s: cpu request %s, limit %s; memory request %s, limit %s",
	    c->name,
	    cpu_text(c->current.cpu_request_m, q[0]), cpu_text(c->current.cpu_limit_m, q[1]),
	    mem_text(c->current.memory_request_b, q[2]), mem_text(c->current.memory_limit_b, q[3]));
	if (isnan(c->cpu_cores))
		add(x, "; cpu usage unknown");
	else {
		add(x, "; cpu usage %.0fm per pod", c->cpu_cores * 1000.0);
		if (c->current.cpu_request_m > 0)
			add(x, " (%.0f%% of request)",
			    c->cpu_cores * 100000.0 / (double)c->current.cpu_request_m);
	}
	add(x, "; memory working set %s max per pod", mi(c->memory_bytes, m1, sizeof(m1)));
	if (c->restarts > 0)
		add(x, "; restarts %d", c->restarts);
	if (c->oom_kills > 0)
		add(x, "; OOM killed in %d pod%s", c->oom_kills, c->oom_kills == 1 ? "" : "s");
	if (isfinite(c->throttling))
		add(x, "; cpu throttled in %.0f%% of periods",
		    100.0 * (c->throttling < 0 ? 0 : c->throttling > 1 ? 1 : c->throttling));
	add(x, "\n");
}

/* At most PROMPT_MAX_SAMPLES of the last PROMPT_HISTORY_WINDOW_MS, evenly
 * picked, oldest first, the newest always included. */
static void history_block(struct text *x, const struct target *t,
			  const struct observation *o, const struct history *h, int64_t now_ms)
{
	size_t first = h->sample_count, end = h->sample_count, n, k, last = (size_t)-1;
	char a[40], m1[32];

	/* Oldest first: skip samples "from the future" (a clock set back),
	 * then take those within the window. */
	while (end > 0 && h->samples[end - 1].at_ms > now_ms)
		end--;
	first = end;
	while (first > 0 && h->samples[first - 1].at_ms > now_ms - PROMPT_HISTORY_WINDOW_MS)
		first--;
	n = end - first;
	if (n == 0)
		return;
	add(x, "history of container %.253s (oldest first, time before now):\n",
	    o->primary_container ? o->primary_container : "?");
	for (k = 0; k < PROMPT_MAX_SAMPLES && k < n; k++) {
		size_t m = n <= PROMPT_MAX_SAMPLES ? k
			 : (n - 1) - (PROMPT_MAX_SAMPLES - 1 - k) * (n - 1) / (PROMPT_MAX_SAMPLES - 1);
		const struct history_sample *s = &h->samples[first + m];

		if (m == last)
			continue;
		last = m;
		add(x, "  %s: replicas %d", ago(now_ms, s->at_ms, a, sizeof(a)), s->replicas);
		if (isnan(s->cpu_cores))
			add(x, ", cpu unknown");
		else
			add(x, ", cpu %.0fm/pod", s->cpu_cores * 1000.0);
		add(x, ", memory %s", mi(s->memory_bytes, m1, sizeof(m1)));
		if (t->ingress || !isnan(s->request_rate)) {
			if (isnan(s->request_rate))
				add(x, ", req/s unknown");
			else
				add(x, ", %.1f req/s", s->request_rate);
		}
		add(x, "\n");
	}
}

static void rules_line(struct text *x, const char *dir, const struct scaling_rules *r)
{
	char w[32];

	add(x, "  scale %s: ", dir);
	if (r->select == SELECT_DISABLED) {
		add(x, "disabled\n");
		return;
	}
	if (r->pods <= 0 && r->percent <= 0)
		add(x, "no rate limit");
	else {
		add(x, "at most ");
		if (r->pods > 0)
			add(x, "%d pods per %s", r->pods, dur(r->pods_period_ms, w, sizeof(w)));
		if (r->pods > 0 && r->percent > 0)
			add(x, " %s ", r->select == SELECT_MIN ? "and" : "or");
		if (r->percent > 0)
			add(x, "%d%% per %s", r->percent, dur(r->percent_period_ms, w, sizeof(w)));
		if (r->pods > 0 && r->percent > 0)
			add(x, " (%s: the %s change)", select_policy_names[r->select],
			    r->select == SELECT_MIN ? "smaller" : "larger");
	}
	add(x, "; stabilization window %s\n", dur(r->stabilization_ms, w, sizeof(w)));
}

static void guardrails_block(struct text *x, const struct target *t,
			     const struct observation *o, const struct history *h, int64_t now_ms)
{
	const struct guardrails *g = &t->guard;
	static const char *const what[] = {
		[MODE_AUTO] = "replicas and resources may change",
		[MODE_RECOMMEND] = "nothing is applied, the advice is only recorded",
		[MODE_REPLICAS_ONLY] = "only replicas may change, resources stay",
		[MODE_RESOURCES_ONLY] = "only resources may change, replicas stay",
	};
	char q[4][QUANTITY_BUFSZ], w[32], a[40];
	const char *pc = o->primary_container ? o->primary_container : "?";

	add(x, "guardrails (ipad enforces them on any advice):\n");
	add(x, "  mode %s: %s\n", ipa_mode_names[g->mode], what[g->mode]);
	add(x, "  replica bounds: min %d, max %d\n", t->min_replicas, t->max_replicas);
	rules_line(x, "up", &g->up);
	rules_line(x, "down", &g->down);
	add(x, "  allowed requests of container %.253s: cpu %s to %s, memory %s to %s\n", pc,
	    cpu_text(g->min_cpu_m, q[0]), cpu_text(g->max_cpu_m, q[1]),
	    mem_text(g->min_memory_b, q[2]), mem_text(g->max_memory_b, q[3]));
	add(x, "  limits: %s; never above the largest node's allocatable\n",
	    g->controlled == CONTROLLED_REQUESTS_ONLY
		? "RequestsOnly (limits are not changed)"
		: "RequestsAndLimits (limits keep their ratio to requests; no limit stays no limit)");
	add(x, "  memory request at least the recent peak working set + %d%%\n",
	    g->memory_margin_percent);
	add(x, "  resources change only by more than %d%%, at most once per %s, never during "
	       "a rollout or with a scale-down", g->resize_threshold_percent,
	    dur(g->resize_cooldown_ms, w, sizeof(w)));
	if (h && h->last_resize_ms > 0)
		add(x, "; last resize %s\n", ago(now_ms, h->last_resize_ms, a, sizeof(a)));
	else
		add(x, "; no resize yet\n");
}

/* What became of a past decision: applied (a scale event or the resize
 * at its time), failed, or not applied (dry run, Recommend, deadline). */
static const char *outcome_of(const struct history *h, const struct history_decision *d)
{
	size_t i;

	if (strcmp(d->action, "failed") == 0)
		return "apply failed";
	if (strcmp(d->action, "hold") == 0 || strcmp(d->action, "none") == 0)
		return NULL;
	for (i = 0; i < h->event_count; i++)
		if (h->events[i].at_ms == d->at_ms)
			return "applied";
	if (h->last_resize_ms == d->at_ms && strcmp(d->action, "scale") != 0)
		return "applied";
	return "not applied";
}

static void decisions_block(struct text *x, const struct history *h, int64_t now_ms)
{
	size_t i, n = h->decision_count;
	char a[40], note[sizeof(h->decisions[0].note)];

	if (n == 0)
		return;
	add(x, "last decisions (newest first):\n");
	for (i = 0; i < n && i < PROMPT_MAX_DECISIONS; i++) {
		const struct history_decision *d = &h->decisions[n - 1 - i];
		const char *out = outcome_of(h, d);
		size_t j;

		snprintf(note, sizeof(note), "%s", d->note);
		for (j = 0; note[j]; j++)
			if ((unsigned char)note[j] < 0x20)
				note[j] = ' ';
		add(x, "  %s: %.15s, replicas %d -> %d", ago(now_ms, d->at_ms, a, sizeof(a)),
		    d->action, d->from, d->to);
		if (out)
			add(x, ", %s", out);
		if (note[0])
			add(x, ": %s", note);
		add(x, "\n");
	}
}

char *prompt_render(const struct target *t, const struct observation *o,
		    const struct history *h, int64_t now_ms)
{
	static const char answer[] =
		"Answer with the replicas and the CPU/memory requests and limits for the "
		"advised container as Kubernetes quantities (CPU in millicores like \"250m\", "
		"memory in Mi like \"256Mi\"), within the guardrails.\n";
	struct text x = { 0 };
	size_t i;
	char q[QUANTITY_BUFSZ], m1[32], m2[32];

	add(&x, "Deployment %.253s/%.253s (IPA %.253s, cluster %.253s)\n", t->namespace,
	    t->deployment, t->ipa_name, t->cluster);
	add(&x, "units: cpu in millicores (m, 1000m = 1 core), memory in Mi (1Mi = 1048576 bytes)\n");
	add(&x, "replicas: spec %d, ready %d, available %d, updated %d; %.200s\n",
	    o->replicas, o->ready_replicas, o->available_replicas,
	    o->updated_replicas, o->rollout_in_progress && o->rollout_reason
		? o->rollout_reason : "no rollout in progress");
	add(&x, "advice is for container %.253s\n",
	    o->primary_container ? o->primary_container : "?");
	for (i = 0; i < o->container_count && i < PROMPT_MAX_CONTAINERS; i++)
		container_line(&x, &o->containers[i]);
	if (o->container_count > PROMPT_MAX_CONTAINERS)
		add(&x, "(%zu more containers not shown)\n",
		    o->container_count - PROMPT_MAX_CONTAINERS);
	if (t->ingress) {
		if (isnan(o->request_rate))
			add(&x, "request rate: unknown (ingress %.253s)\n", t->ingress);
		else
			add(&x, "request rate: %.1f/s (ingress %.253s)\n", o->request_rate, t->ingress);
	}
	if (isnan(o->node_cpu_allocatable_max))
		snprintf(q, sizeof(q), "unknown");
	else
		snprintf(q, sizeof(q), "%.1f", o->node_cpu_allocatable_max);
	add(&x, "nodes: largest allocatable memory %s, cpu %s cores; most available memory %s\n",
	    mi(o->node_memory_allocatable_max, m1, sizeof(m1)), q,
	    mi(o->node_memory_available_max, m2, sizeof(m2)));
	if (o->metrics_missing)
		add(&x, "missing metrics: %.400s\n", o->metrics_missing);
	if (h)
		history_block(&x, t, o, h, now_ms);
	guardrails_block(&x, t, o, h, now_ms);
	if (h)
		decisions_block(&x, h, now_ms);
	/* The bound, whatever the names: cut whole lines, keep the question. */
	if (!x.failed && x.len + sizeof(answer) - 1 > PROMPT_MAX_BYTES) {
		static const char cut[] = "(cut)\n";
		size_t keep = PROMPT_MAX_BYTES - (sizeof(answer) - 1) - (sizeof(cut) - 1);

		while (keep > 0 && x.buf[keep - 1] != '\n')
			keep--;
		x.len = keep;
		x.buf[x.len] = '\0';
		add(&x, "%s", cut);
	}
	add(&x, "%s", answer);
	if (x.failed) {
		free(x.buf);
		return NULL;
	}
	return x.buf;
}
