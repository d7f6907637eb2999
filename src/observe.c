/* observe — see observe.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipa.h"
#include "observe.h"
#include "prom.h"
#include "quantity.h"

#define DEFAULT_CONTAINER_ANNOTATION "kubectl.kubernetes.io/default-container"

static const cJSON *path_get(const cJSON *o, const char *a, const char *b,
			     const char *c)
{
	o = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		o = cJSON_GetObjectItemCaseSensitive(o, b);
	if (c)
		o = cJSON_GetObjectItemCaseSensitive(o, c);
	return o;
}

static int32_t int_or(const cJSON *v, int32_t dflt)
{
	return cJSON_IsNumber(v) ? (int32_t)v->valuedouble : dflt;
}

static const char *string_or_null(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Append ", what" (or "what" first) to *list. */
static void list_add(char **list, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void list_add(char **list, const char *fmt, ...)
{
	char item[256], *n;
	size_t old = *list ? strlen(*list) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(item, sizeof(item), fmt, ap);
	va_end(ap);
	n = realloc(*list, old + strlen(item) + 3);
	if (!n)
		return;
	if (old)
		strcpy(n + old, ", ");
	strcpy(n + old + (old ? 2 : 0), item);
	*list = n;
}

static int parse_quantity_at(const cJSON *map, const char *key, bool cpu,
			     int64_t *out, const char *container,
			     const char *where, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
	char msg[160];
	int r;

	*out = RESOURCE_UNSET;
	if (!v)
		return 0;
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "container %s: resources.%s.%s is not a quantity string",
			 container, where, key);
		return -EINVAL;
	}
	r = cpu ? quantity_parse_millicores(v->valuestring, out, msg, sizeof(msg))
		: quantity_parse_bytes(v->valuestring, out, msg, sizeof(msg));
	if (r < 0) {
		snprintf(err, errlen, "container %s: resources.%s.%s: %s",
			 container, where, key, msg);
		return -EINVAL;
	}
	return 0;
}

static void rollout_state(const cJSON *dep, struct observation *o)
{
	int64_t gen = int_or(path_get(dep, "metadata", "generation", NULL), 0);
	int64_t seen = int_or(path_get(dep, "status", "observedGeneration", NULL), 0);
	char buf[200];

	buf[0] = '\0';
	if (seen < gen)
		snprintf(buf, sizeof(buf),
			 "the Deployment controller has not yet observed generation %lld",
			 (long long)gen);
	else if (o->updated_replicas < o->replicas)
		snprintf(buf, sizeof(buf), "rollout in progress: %d of %d pods updated",
			 o->updated_replicas, o->replicas);
	else if (o->status_replicas > o->updated_replicas)
		snprintf(buf, sizeof(buf),
			 "rollout in progress: %d old pods still terminating",
			 o->status_replicas - o->updated_replicas);
	else if (o->available_replicas < o->updated_replicas)
		snprintf(buf, sizeof(buf),
			 "rollout in progress: %d of %d updated pods available",
			 o->available_replicas, o->updated_replicas);
	if (buf[0]) {
		o->rollout_in_progress = true;
		o->rollout_reason = strdup(buf);
	}
}

int observe_parse_deployment(const cJSON *dep, const char *container,
			     struct observation *o, char *err, size_t errlen)
{
	const cJSON *containers, *c, *ann;
	const char *want = container;
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	o->request_rate = o->node_memory_allocatable_max = NAN;
	o->node_cpu_allocatable_max = o->node_memory_available_max = NAN;

	if (!cJSON_IsObject(dep)) {
		snprintf(err, errlen, "the API answer is not a Deployment object");
		return -EBADMSG;
	}
	o->replicas = int_or(path_get(dep, "spec", "replicas", NULL), 1);
	o->status_replicas = int_or(path_get(dep, "status", "replicas", NULL), 0);
	o->updated_replicas = int_or(path_get(dep, "status", "updatedReplicas", NULL), 0);
	o->ready_replicas = int_or(path_get(dep, "status", "readyReplicas", NULL), 0);
	o->available_replicas = int_or(path_get(dep, "status", "availableReplicas", NULL), 0);
	rollout_state(dep, o);
	ann = path_get(dep, "metadata", "annotations", IPA_PAUSED_ANNOTATION);
	o->paused = cJSON_IsString(ann) && strcmp(ann->valuestring, "true") == 0;
	if (string_or_null(path_get(dep, "metadata", "uid", NULL)) &&
	    !(o->uid = strdup(string_or_null(path_get(dep, "metadata", "uid", NULL)))))
		return -ENOMEM;

	containers = path_get(dep, "spec", "template", "spec");
	containers = cJSON_GetObjectItemCaseSensitive(containers, "containers");
	if (!cJSON_IsArray(containers) || cJSON_GetArraySize(containers) == 0) {
		snprintf(err, errlen, "the Deployment has no spec.template.spec.containers");
		return -EBADMSG;
	}
	o->containers = calloc((size_t)cJSON_GetArraySize(containers), sizeof(*o->containers));
	if (!o->containers)
		return -ENOMEM;
	cJSON_ArrayForEach(c, containers) {
		struct container_observation *co = &o->containers[i];
		const char *name = string_or_null(cJSON_GetObjectItemCaseSensitive(c, "name"));
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(c, "resources");
		const cJSON *req = cJSON_GetObjectItemCaseSensitive(res, "requests");
		const cJSON *lim = cJSON_GetObjectItemCaseSensitive(res, "limits");

		if (!name) {
			snprintf(err, errlen, "container %zu of the pod template has no name", i);
			return -EBADMSG;
		}
		co->name = strdup(name);
		co->cpu_cores = co->memory_bytes = co->throttling = NAN;
		o->container_count = ++i;
		if (!co->name)
			return -ENOMEM;
		if (parse_quantity_at(req, "cpu", true, &co->current.cpu_request_m, name, "requests", err, errlen) < 0 ||
		    parse_quantity_at(lim, "cpu", true, &co->current.cpu_limit_m, name, "limits", err, errlen) < 0 ||
		    parse_quantity_at(req, "memory", false, &co->current.memory_request_b, name, "requests", err, errlen) < 0 ||
		    parse_quantity_at(lim, "memory", false, &co->current.memory_limit_b, name, "limits", err, errlen) < 0)
			return -EINVAL;
	}

	if (!want) {
		ann = path_get(dep, "metadata", "annotations", DEFAULT_CONTAINER_ANNOTATION);
		if (!cJSON_IsString(ann))
			ann = cJSON_GetObjectItemCaseSensitive(
				path_get(dep, "spec", "template", "metadata"), "annotations");
		if (cJSON_IsObject(ann))
			ann = cJSON_GetObjectItemCaseSensitive(ann, DEFAULT_CONTAINER_ANNOTATION);
		want = string_or_null(ann);
	}
	if (!want) {
		o->primary_container = o->containers[0].name;
		return 0;
	}
	for (i = 0; i < o->container_count; i++)
		if (strcmp(o->containers[i].name, want) == 0)
			o->primary_container = o->containers[i].name;
	if (!o->primary_container) {
		size_t used = (size_t)snprintf(err, errlen,
			"container \"%s\" is not in the pod template; it has:", want);
		for (i = 0; i < o->container_count && used < errlen; i++)
			used += (size_t)snprintf(err + used, errlen - used, " %s",
						 o->containers[i].name);
		return -ENOENT;
	}
	return 0;
}

/* spec.selector → a labelSelector string ("app=web,tier in (a,b)"). */
static char *selector_string(const cJSON *dep)
{
	const cJSON *sel = path_get(dep, "spec", "selector", NULL);
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
	const cJSON *it, *v;
	char *s = NULL;

	cJSON_ArrayForEach(it, ml)
		if (cJSON_IsString(it))
			list_add(&s, "%s=%s", it->string, it->valuestring);
	cJSON_ArrayForEach(it, me) {
		const char *key = string_or_null(cJSON_GetObjectItemCaseSensitive(it, "key"));
		const char *op = string_or_null(cJSON_GetObjectItemCaseSensitive(it, "operator"));
		char vals[200];
		size_t used = 0;

		if (!key || !op)
			continue;
		vals[0] = '\0';
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(it, "values"))
			if (cJSON_IsString(v) && used < sizeof(vals))
				used += (size_t)snprintf(vals + used, sizeof(vals) - used,
							 "%s%s", used ? "," : "", v->valuestring);
		if (strcmp(op, "In") == 0)
			list_add(&s, "%s in (%s)", key, vals);
		else if (strcmp(op, "NotIn") == 0)
			list_add(&s, "%s notin (%s)", key, vals);
		else if (strcmp(op, "Exists") == 0)
			list_add(&s, "%s", key);
		else if (strcmp(op, "DoesNotExist") == 0)
			list_add(&s, "!%s", key);
	}
	return s;
}

static struct container_observation *container_named(struct observation *o,
						     const char *name)
{
	size_t i;

	for (i = 0; name && i < o->container_count; i++)
		if (strcmp(o->containers[i].name, name) == 0)
			return &o->containers[i];
	return NULL;
}

/* Restarts and OOM kills of a pod's containers into o. */
static void container_statuses(const cJSON *pod, struct observation *o)
{
	const cJSON *cs;

	cJSON_ArrayForEach(cs, path_get(pod, "status", "containerStatuses", NULL)) {
		struct container_observation *co = container_named(o,
			string_or_null(cJSON_GetObjectItemCaseSensitive(cs, "name")));
		const char *reason = string_or_null(path_get(cs, "lastState",
							     "terminated", "reason"));

		if (!co)
			continue;
		co->restarts += int_or(cJSON_GetObjectItemCaseSensitive(cs, "restartCount"), 0);
		if (reason && strcmp(reason, "OOMKilled") == 0)
			co->oom_kills++;
	}
}

/* The pods of the Deployment as a regex alternation of escaped names. */
static int pod_regex(const struct target *t, const cJSON *dep,
		     struct kube_cluster *k, struct http_client *hc,
		     long timeout_ms, struct observation *o, char **regex,
		     char *err, size_t errlen)
{
	struct kube_result res = { 0 };
	char *sel = selector_string(dep), *esel, *pods, *path;
	const cJSON *item;
	size_t cap = 1, len = 0;
	int r;

	*regex = NULL;
	if (!sel) {
		snprintf(err, errlen, "Deployment %s/%s has no spec.selector",
			 t->namespace, t->deployment);
		return -EBADMSG;
	}
	esel = http_escape(sel);
	pods = kube_path("/api/v1", t->namespace, "pods", NULL, NULL);
	free(sel);
	if (!esel || !pods || asprintf(&path, "%s?labelSelector=%s", pods, esel) < 0) {
		free(esel);
		free(pods);
		return -ENOMEM;
	}
	free(esel);
	free(pods);
	r = kube_request(k, hc, "GET", path, NULL, NULL, timeout_ms, &res, err, errlen);
	free(path);
	if (r < 0) {
		kube_result_free(&res);
		return r;
	}
	*regex = calloc(1, 1);
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(res.object, "items")) {
		const char *name = string_or_null(path_get(item, "metadata", "name", NULL));
		char *e, *n;

		if (!name || !*regex || !(e = prom_regex_escape(name)))
			continue;
		container_statuses(item, o);
		cap = len + strlen(e) + 2;
		n = realloc(*regex, cap);
		if (n) {
			len += (size_t)sprintf(n + len, "%s%s", len ? "|" : "", e);
			*regex = n;
			o->pod_count++;
		}
		free(e);
	}
	kube_result_free(&res);
	if (!*regex)
		return -ENOMEM;
	return 0;
}

/* Run one query; on failure remember the first error and return -1. */
static int query(struct http_client *hc, const char *url, const char *promql,
		 long timeout_ms, struct prom_vector *v, struct observation *o)
{
	char err[512];

	if (prom_query(hc, url, promql, timeout_ms, v, err, sizeof(err)) < 0) {
		if (!o->metrics_error)
			o->metrics_error = strdup(err);
		return -1;
	}
	return 0;
}

static double scalar_of(struct http_client *hc, const char *url,
			const char *promql, long timeout_ms, struct observation *o)
{
	struct prom_vector v;
	double d = NAN;

	if (query(hc, url, promql, timeout_ms, &v, o) == 0 && v.count > 0)
		d = v.samples[0].value;
	prom_vector_free(&v);
	return isfinite(d) ? d : NAN;
}

static void observe_metrics(const struct target *t, struct http_client *hc,
			    long timeout_ms, long window_s, const char *pods,
			    struct observation *o)
{
	const char *url = t->prometheus_uri;
	char *ns = prom_quote(t->namespace), *re = prom_quote(pods);
	char *q = NULL;
	struct prom_vector v;
	const struct container_observation *primary;
	size_t i;
	int expected;

	if (!ns || !re)
		goto out;
	/* CPU cores per pod and container; container!="" drops the pod-level
	 * cgroup series, container!="POD" the pause container. */
	if (asprintf(&q, "sum by (pod, container) (rate(container_cpu_usage_seconds_total"
		     "{namespace=%s, pod=~%s, container!=\"\", container!=\"POD\", image!=\"\"}[%lds]))",
		     ns, re, window_s) >= 0 && query(hc, url, q, timeout_ms, &v, o) == 0) {
		for (i = 0; i < v.count; i++) {
			struct container_observation *co =
				container_named(o, prom_label(&v.samples[i], "container"));
			if (!co || !isfinite(v.samples[i].value))
				continue;
			co->cpu_cores = co->pods_with_cpu ? co->cpu_cores + v.samples[i].value
							  : v.samples[i].value;
			co->pods_with_cpu++;
		}
		prom_vector_free(&v);
		for (i = 0; i < o->container_count; i++)
			if (o->containers[i].pods_with_cpu)
				o->containers[i].cpu_cores /= o->containers[i].pods_with_cpu;
	}
	free(q);
	q = NULL;
	if (asprintf(&q, "max by (pod, container) (container_memory_working_set_bytes"
		     "{namespace=%s, pod=~%s, container!=\"\", container!=\"POD\", image!=\"\"})",
		     ns, re) >= 0 && query(hc, url, q, timeout_ms, &v, o) == 0) {
		for (i = 0; i < v.count; i++) {
			struct container_observation *co =
				container_named(o, prom_label(&v.samples[i], "container"));
			if (co && isfinite(v.samples[i].value) &&
			    (isnan(co->memory_bytes) || v.samples[i].value > co->memory_bytes))
				co->memory_bytes = v.samples[i].value;
		}
		prom_vector_free(&v);
	}
	free(q);
	q = NULL;
	/* CFS throttling: throttled periods over all periods, per container
	 * (containers without a CPU limit have no series and stay unknown). */
	if (asprintf(&q, "sum by (container) (increase(container_cpu_cfs_throttled_periods_total"
		     "{namespace=%s, pod=~%s, container!=\"\", container!=\"POD\"}[%lds]))"
		     " / sum by (container) (increase(container_cpu_cfs_periods_total"
		     "{namespace=%s, pod=~%s, container!=\"\", container!=\"POD\"}[%lds]))",
		     ns, re, window_s, ns, re, window_s) >= 0 &&
	    query(hc, url, q, timeout_ms, &v, o) == 0) {
		for (i = 0; i < v.count; i++) {
			struct container_observation *co =
				container_named(o, prom_label(&v.samples[i], "container"));
			if (co && isfinite(v.samples[i].value))
				co->throttling = v.samples[i].value;
		}
		prom_vector_free(&v);
	}
	free(q);
	q = NULL;
	if (t->ingress) {
		char *ing = prom_quote(t->ingress);
		/* ingress-nginx's own `namespace` label, or under kube-prometheus
		 * the scrape's namespace wins and the Ingress's is exported_namespace. */
		if (ing && asprintf(&q,
			"sum(rate(nginx_ingress_controller_requests{namespace=%s, ingress=%s}[%lds]))"
			" or sum(rate(nginx_ingress_controller_requests{exported_namespace=%s, ingress=%s}[%lds]))",
			ns, ing, window_s, ns, ing, window_s) >= 0)
			o->request_rate = scalar_of(hc, url, q, timeout_ms, o);
		free(ing);
		free(q);
		q = NULL;
	}
	o->node_memory_allocatable_max = scalar_of(hc, url,
		"max(kube_node_status_allocatable{resource=\"memory\", unit=\"byte\"})", timeout_ms, o);
	o->node_cpu_allocatable_max = scalar_of(hc, url,
		"max(kube_node_status_allocatable{resource=\"cpu\", unit=\"core\"})", timeout_ms, o);
	o->node_memory_available_max = scalar_of(hc, url,
		"max(node_memory_MemAvailable_bytes)", timeout_ms, o);
out:
	free(ns);
	free(re);
	/* What decisions depend on and did not arrive. */
	primary = observation_primary(o);
	expected = o->ready_replicas < (int32_t)o->pod_count ? o->ready_replicas
							      : (int32_t)o->pod_count;
	if (primary && primary->pods_with_cpu == 0)
		list_add(&o->metrics_missing, "CPU usage of %s", primary->name);
	else if (primary && primary->pods_with_cpu < expected)
		list_add(&o->metrics_missing, "CPU usage of %s for %d of %d ready pods",
			 primary->name, expected - primary->pods_with_cpu, expected);
	if (primary && isnan(primary->memory_bytes))
		list_add(&o->metrics_missing, "memory working set of %s", primary->name);
	if (t->ingress && isnan(o->request_rate))
		list_add(&o->metrics_missing, "request rate of ingress %s", t->ingress);
}

int observe_target(const struct target *t, struct kube_cluster *k,
		   struct http_client *hc, long timeout_ms, long window_s,
		   struct observation *o, char *err, size_t errlen)
{
	struct kube_result res = { 0 };
	char *path = kube_path("/apis/apps/v1", t->namespace, "deployments",
			       t->deployment, NULL);
	char *pods = NULL, msg[512];
	int r;

	memset(o, 0, sizeof(*o));
	if (!path)
		return -ENOMEM;
	r = kube_request(k, hc, "GET", path, NULL, NULL, timeout_ms, &res, err, errlen);
	free(path);
	if (r < 0)
		goto out;
	r = observe_parse_deployment(res.object, t->container, o, msg, sizeof(msg));
	if (r < 0) {
		snprintf(err, errlen, "Deployment %s/%s: %s", t->namespace, t->deployment, msg);
		goto out;
	}
	r = pod_regex(t, res.object, k, hc, timeout_ms, o, &pods, err, errlen);
	if (r < 0)
		goto out;
	if (o->pod_count > 0)
		observe_metrics(t, hc, timeout_ms, window_s, pods, o);
	else if (o->replicas > 0)
		list_add(&o->metrics_missing, "pods (none found for the selector yet)");
out:
	free(pods);
	kube_result_free(&res);
	return r;
}

const struct container_observation *observation_primary(const struct observation *o)
{
	size_t i;

	for (i = 0; o->primary_container && i < o->container_count; i++)
		if (o->containers[i].name == o->primary_container)
			return &o->containers[i];
	return NULL;
}

double observation_cpu_utilization(const struct observation *o)
{
	double usage = 0, requests = 0;
	size_t i;

	for (i = 0; i < o->container_count; i++) {
		const struct container_observation *c = &o->containers[i];
		if (c->current.cpu_request_m <= 0 || isnan(c->cpu_cores))
			continue;
		usage += c->cpu_cores;
		requests += (double)c->current.cpu_request_m / 1000.0;
	}
	return requests > 0 ? usage * 100.0 / requests : NAN;
}

void observation_free(struct observation *o)
{
	size_t i;

	for (i = 0; i < o->container_count; i++)
		free(o->containers[i].name);
	free(o->containers);
	free(o->rollout_reason);
	free(o->metrics_missing);
	free(o->metrics_error);
	free(o->uid);
	memset(o, 0, sizeof(*o));
}
