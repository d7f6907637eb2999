/* advice — see advice.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "quantity.h"

static int quantity_field(const cJSON *text, const char *field, bool cpu,
			  int64_t *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(text, field);
	char msg[160];
	int r;

	if (!v || cJSON_IsNull(v)) {
		snprintf(err, errlen, "%s is missing", field);
		return -EINVAL;
	}
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "%s must be a quantity string such as \"%s\"",
			 field, cpu ? "250m" : "256Mi");
		return -EINVAL;
	}
	r = cpu ? quantity_parse_millicores(v->valuestring, out, msg, sizeof(msg))
		: quantity_parse_bytes(v->valuestring, out, msg, sizeof(msg));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", field, msg);
		return -EINVAL;
	}
	return 0;
}

/* The "replicas" member of obj: a whole JSON number 0..INT32_MAX. */
static int replicas_field(const cJSON *obj, int32_t *out, char *err, size_t errlen)
{
	const cJSON *rep = cJSON_GetObjectItemCaseSensitive(obj, "replicas");

	if (!rep || cJSON_IsNull(rep)) {
		snprintf(err, errlen, "replicas is missing");
		return -EINVAL;
	}
	if (!cJSON_IsNumber(rep) || !isfinite(rep->valuedouble) ||
	    rep->valuedouble != floor(rep->valuedouble)) {
		char *printed = cJSON_PrintUnformatted(rep);
		snprintf(err, errlen, "replicas must be a whole number, got %.40s",
			 printed ? printed : "?");
		free(printed);
		return -EINVAL;
	}
	if (rep->valuedouble < 0 || rep->valuedouble > INT32_MAX) {
		snprintf(err, errlen, "replicas %.0f is out of range", rep->valuedouble);
		return -EINVAL;
	}
	*out = (int32_t)rep->valuedouble;
	return 0;
}

/* The four quantity members of obj, all required. */
static int resources_fields(const cJSON *obj, struct resources *r,
			    char *err, size_t errlen)
{
	if (quantity_field(obj, "cpu_request", true, &r->cpu_request_m, err, errlen) < 0 ||
	    quantity_field(obj, "cpu_limit", true, &r->cpu_limit_m, err, errlen) < 0 ||
	    quantity_field(obj, "memory_request", false, &r->memory_request_b, err, errlen) < 0 ||
	    quantity_field(obj, "memory_limit", false, &r->memory_limit_b, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

/* -EINVAL when obj has a member not in allowed (NULL-terminated). */
static int only_keys(const cJSON *obj, const char *const *allowed, const char *what,
		     char *err, size_t errlen)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, m->string) != 0)
			a++;
		if (!*a) {
			snprintf(err, errlen, "%s has an unexpected field \"%.40s\"",
				 what, m->string);
			return -EINVAL;
		}
	}
	return 0;
}

int advice_from_agent_text(const cJSON *text, const char *container,
			   struct advice *out, char *err, size_t errlen)
{
	struct resources r;
	int32_t replicas;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	if (!cJSON_IsObject(text)) {
		snprintf(err, errlen, "the answer's \"text\" is not an object");
		return -EINVAL;
	}
	if (replicas_field(text, &replicas, err, errlen) < 0 ||
	    resources_fields(text, &r, err, errlen) < 0)
		return -EINVAL;

	out->containers = calloc(1, sizeof(*out->containers));
	if (!out->containers || !(out->containers[0].name = strdup(container))) {
		advice_free(out);
		return -ENOMEM;
	}
	out->container_count = 1;
	out->containers[0].r = r;
	out->replicas = replicas;
	return 0;
}

/* One entry of "containers" into c (name checked against names). */
static int llm_container(const cJSON *e, size_t i, const char *const *names,
			 size_t n, struct container_advice *c, char *err, size_t errlen)
{
	static const char *const fields[] = { "name", "cpu_request", "cpu_limit",
		"memory_request", "memory_limit", NULL };
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
	char what[32], msg[200];
	size_t k;

	snprintf(what, sizeof(what), "containers[%zu]", i);
	if (!cJSON_IsObject(e)) {
		snprintf(err, errlen, "%s is not an object", what);
		return -EINVAL;
	}
	if (only_keys(e, fields, what, err, errlen) < 0)
		return -EINVAL;
	if (!cJSON_IsString(name)) {
		snprintf(err, errlen, "%s.name is missing or not a string", what);
		return -EINVAL;
	}
	for (k = 0; k < n && strcmp(names[k], name->valuestring) != 0; k++)
		;
	if (k == n) {
		snprintf(err, errlen, "%s: container \"%.60s\" is not in the Deployment",
			 what, name->valuestring);
		return -EINVAL;
	}
	if (resources_fields(e, &c->r, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "container %s: %s", names[k], msg);
		return -EINVAL;
	}
	c->name = strdup(names[k]);
	return c->name ? 0 : -ENOMEM;
}

/* "replicas", "containers", "confidence" and "rationale" of the answer. */
static int llm_fields(const cJSON *root, const char *const *names, size_t n,
		      struct advice *out, char *err, size_t errlen)
{
	static const char *const fields[] = { "replicas", "containers",
		"rationale", "confidence", NULL };
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "containers");
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(root, "rationale");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(root, "confidence");
	const cJSON *e;
	size_t i = 0, j;
	int r;

	if (only_keys(root, fields, "the answer", err, errlen) < 0 ||
	    replicas_field(root, &out->replicas, err, errlen) < 0)
		return -EINVAL;
	if (!cJSON_IsArray(list)) {
		snprintf(err, errlen, "containers is missing or not a list");
		return -EINVAL;
	}
	if (!cJSON_IsString(why)) {
		snprintf(err, errlen, "rationale is missing or not a string");
		return -EINVAL;
	}
	if (conf && !cJSON_IsNull(conf) &&
	    (!cJSON_IsNumber(conf) || !(conf->valuedouble >= 0 && conf->valuedouble <= 1))) {
		snprintf(err, errlen, "confidence must be a number from 0 to 1");
		return -EINVAL;
	}
	if (cJSON_GetArraySize(list) > 0 &&
	    !(out->containers = calloc((size_t)cJSON_GetArraySize(list),
				       sizeof(*out->containers))))
		return -ENOMEM;
	cJSON_ArrayForEach(e, list) {
		r = llm_container(e, i, names, n, &out->containers[i], err, errlen);
		if (out->containers[i].name)
			out->container_count = i + 1;
		if (r < 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(out->containers[j].name, out->containers[i].name) == 0) {
				snprintf(err, errlen, "container %s appears twice",
					 out->containers[i].name);
				return -EINVAL;
			}
		i++;
	}
	if (cJSON_IsNumber(conf))
		r = asprintf(&out->rationale, "confidence %.2f: %.200s",
			     conf->valuedouble, why->valuestring);
	else
		r = asprintf(&out->rationale, "%.200s", why->valuestring);
	if (r < 0) {
		out->rationale = NULL;
		return -ENOMEM;
	}
	return 0;
}

int advice_from_llm_text(const char *text, const char *const *names, size_t n,
			 struct advice *out, char *err, size_t errlen)
{
	cJSON *root;
	int r;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	root = cJSON_ParseWithOpts(text ? text : "", NULL, true);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "the answer is not one JSON object");
		cJSON_Delete(root);
		return -EINVAL;
	}
	r = llm_fields(root, names, n, out, err, errlen);
	if (r == 0)
		r = advice_validate(out, err, errlen);
	if (r < 0)
		advice_free(out);
	cJSON_Delete(root);
	return r;
}

int advice_validate(const struct advice *a, char *err, size_t errlen)
{
	char q1[QUANTITY_BUFSZ], q2[QUANTITY_BUFSZ];
	size_t i;

	if (a->replicas < -1) {
		snprintf(err, errlen, "replicas %d is negative", a->replicas);
		return -EINVAL;
	}
	for (i = 0; i < a->container_count; i++) {
		const struct container_advice *c = &a->containers[i];
		const struct resources *r = &c->r;

		if ((r->cpu_request_m != RESOURCE_UNSET && r->cpu_request_m <= 0) ||
		    (r->cpu_limit_m != RESOURCE_UNSET && r->cpu_limit_m <= 0)) {
			snprintf(err, errlen, "container %s: CPU %s must be above zero",
				 c->name, r->cpu_request_m <= 0 &&
				 r->cpu_request_m != RESOURCE_UNSET ? "request" : "limit");
			return -EINVAL;
		}
		if ((r->memory_request_b != RESOURCE_UNSET &&
		     r->memory_request_b < ADVICE_MIN_MEMORY_B) ||
		    (r->memory_limit_b != RESOURCE_UNSET &&
		     r->memory_limit_b < ADVICE_MIN_MEMORY_B)) {
			bool req = r->memory_request_b != RESOURCE_UNSET &&
				   r->memory_request_b < ADVICE_MIN_MEMORY_B;
			snprintf(err, errlen, "container %s: memory %s %s is below 4Mi",
				 c->name, req ? "request" : "limit",
				 quantity_format_bytes(req ? r->memory_request_b
						       : r->memory_limit_b, q1, sizeof(q1)));
			return -EINVAL;
		}
		if (r->cpu_limit_m != RESOURCE_UNSET && r->cpu_request_m > r->cpu_limit_m) {
			snprintf(err, errlen, "container %s: CPU request %s is above the limit %s",
				 c->name,
				 quantity_format_millicores(r->cpu_request_m, q1, sizeof(q1)),
				 quantity_format_millicores(r->cpu_limit_m, q2, sizeof(q2)));
			return -EINVAL;
		}
		if (r->memory_limit_b != RESOURCE_UNSET &&
		    r->memory_request_b > r->memory_limit_b) {
			snprintf(err, errlen, "container %s: memory request %s is above the limit %s",
				 c->name,
				 quantity_format_bytes(r->memory_request_b, q1, sizeof(q1)),
				 quantity_format_bytes(r->memory_limit_b, q2, sizeof(q2)));
			return -EINVAL;
		}
	}
	return 0;
}

static const char *fmt_cpu(int64_t v, char *buf, size_t len)
{
	return v == RESOURCE_UNSET ? "-" : quantity_format_millicores(v, buf, len);
}

static const char *fmt_mem(int64_t v, char *buf, size_t len)
{
	return v == RESOURCE_UNSET ? "-" : quantity_format_bytes(v, buf, len);
}

char *advice_summary(const struct advice *a, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	if (a->replicas >= 0)
		used += (size_t)snprintf(buf, len, "replicas=%d", a->replicas);
	for (i = 0; i < a->container_count && used < len; i++) {
		const struct resources *r = &a->containers[i].r;
		char q[4][QUANTITY_BUFSZ];

		used += (size_t)snprintf(buf + used, len - used,
			"%s%s cpu=%s/%s memory=%s/%s", used ? " " : "",
			a->containers[i].name,
			fmt_cpu(r->cpu_request_m, q[0], sizeof(q[0])),
			fmt_cpu(r->cpu_limit_m, q[1], sizeof(q[1])),
			fmt_mem(r->memory_request_b, q[2], sizeof(q[2])),
			fmt_mem(r->memory_limit_b, q[3], sizeof(q[3])));
	}
	return buf;
}

const struct container_advice *advice_container(const struct advice *a,
						 const char *name)
{
	size_t i;

	for (i = 0; i < a->container_count; i++)
		if (strcmp(a->containers[i].name, name) == 0)
			return &a->containers[i];
	return NULL;
}

void advice_free(struct advice *a)
{
	size_t i;

	for (i = 0; i < a->container_count; i++)
		free(a->containers[i].name);
	free(a->containers);
	free(a->rationale);
	memset(a, 0, sizeof(*a));
	a->replicas = -1;
}
