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

int advice_from_agent_text(const cJSON *text, const char *container,
			   struct advice *out, char *err, size_t errlen)
{
	const cJSON *rep;
	struct resources r;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	if (!cJSON_IsObject(text)) {
		snprintf(err, errlen, "the answer's \"text\" is not an object");
		return -EINVAL;
	}
	rep = cJSON_GetObjectItemCaseSensitive(text, "replicas");
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
	if (quantity_field(text, "cpu_request", true, &r.cpu_request_m, err, errlen) < 0 ||
	    quantity_field(text, "cpu_limit", true, &r.cpu_limit_m, err, errlen) < 0 ||
	    quantity_field(text, "memory_request", false, &r.memory_request_b, err, errlen) < 0 ||
	    quantity_field(text, "memory_limit", false, &r.memory_limit_b, err, errlen) < 0)
		return -EINVAL;

	out->containers = calloc(1, sizeof(*out->containers));
	if (!out->containers || !(out->containers[0].name = strdup(container))) {
		advice_free(out);
		return -ENOMEM;
	}
	out->container_count = 1;
	out->containers[0].r = r;
	out->replicas = (int32_t)rep->valuedouble;
	return 0;
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
