/* prompt — see prompt.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *prompt_render(const struct target *t, const struct observation *o)
{
	struct text x = { 0 };
	size_t i;
	char q[4][QUANTITY_BUFSZ], m1[32], m2[32];

	add(&x, "Deployment %s/%s (IPA %s, cluster %s)\n", t->namespace,
	    t->deployment, t->ipa_name, t->cluster);
	add(&x, "replicas: spec %d, ready %d, available %d, updated %d; %s\n",
	    o->replicas, o->ready_replicas, o->available_replicas,
	    o->updated_replicas, o->rollout_in_progress ? o->rollout_reason : "no rollout in progress");
	add(&x, "allowed replicas: min %d, max %d\n", t->min_replicas, t->max_replicas);
	add(&x, "advice is for container %s\n", o->primary_container);
	for (i = 0; i < o->container_count && i < PROMPT_MAX_CONTAINERS; i++) {
		const struct container_observation *c = &o->containers[i];
		add(&x, "container %s: cpu request %s, limit %s; memory request %s, limit %s",
		    c->name,
		    cpu_text(c->current.cpu_request_m, q[0]), cpu_text(c->current.cpu_limit_m, q[1]),
		    mem_text(c->current.memory_request_b, q[2]), mem_text(c->current.memory_limit_b, q[3]));
		if (isnan(c->cpu_cores))
			add(&x, "; cpu usage unknown");
		else {
			add(&x, "; cpu usage %.0fm per pod", c->cpu_cores * 1000.0);
			if (c->current.cpu_request_m > 0)
				add(&x, " (%.0f%% of request)",
				    c->cpu_cores * 100000.0 / (double)c->current.cpu_request_m);
		}
		add(&x, "; memory working set %s max per pod\n", mi(c->memory_bytes, m1, sizeof(m1)));
	}
	if (o->container_count > PROMPT_MAX_CONTAINERS)
		add(&x, "(%zu more containers not shown)\n",
		    o->container_count - PROMPT_MAX_CONTAINERS);
	if (t->ingress) {
		if (isnan(o->request_rate))
			add(&x, "request rate: unknown (ingress %s)\n", t->ingress);
		else
			add(&x, "request rate: %.1f/s (ingress %s)\n", o->request_rate, t->ingress);
	}
	if (isnan(o->node_cpu_allocatable_max))
		snprintf(q[0], sizeof(q[0]), "unknown");
	else
		snprintf(q[0], sizeof(q[0]), "%.1f", o->node_cpu_allocatable_max);
	add(&x, "nodes: largest allocatable memory %s, cpu %s cores; most available memory %s\n",
	    mi(o->node_memory_allocatable_max, m1, sizeof(m1)), q[0],
	    mi(o->node_memory_available_max, m2, sizeof(m2)));
	if (o->metrics_missing)
		add(&x, "missing metrics: %s\n", o->metrics_missing);
	add(&x, "Answer with the replicas and the CPU/memory requests and limits for the "
		"advised container as Kubernetes quantities (CPU in millicores like \"250m\", "
		"memory in Mi like \"256Mi\").\n");
	if (x.failed) {
		free(x.buf);
		return NULL;
	}
	return x.buf;
}
