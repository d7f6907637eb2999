/* prom — Prometheus instant queries; see prom.h. */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static double parse_sample_value(const cJSON *pair, int *ok)
{
	const cJSON *v;
	char *end;
	double d;

	*ok = 0;
	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2)
		return NAN;
	v = cJSON_GetArrayItem(pair, 1);
	if (!cJSON_IsString(v))
		return NAN;
	errno = 0;
	d = strtod(v->valuestring, &end);
	if (end == v->valuestring || *end != '\0')
		return NAN;
	*ok = 1;
	return d;
}

/* Copy at most n printable characters of s into buf, for messages. */
static void excerpt(const char *s, char *buf, size_t len, size_t n)
{
	size_t i, j = 0;

	for (i = 0; s[i] && i < n && j + 1 < len; i++)
		buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[j] = '\0';
}

int prom_parse_vector(const char *body, long http_status,
		      struct prom_vector *out, char *err, size_t errlen)
{
	const cJSON *status, *data, *type, *result, *item;
	char ex[81];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->root = cJSON_Parse(body ? body : "");
	status = cJSON_GetObjectItemCaseSensitive(out->root, "status");
	if (!cJSON_IsString(status)) {
		excerpt(body ? body : "", ex, sizeof(ex), 80);
		snprintf(err, errlen,
			 "HTTP %ld, not a Prometheus API answer: \"%s\"",
			 http_status, ex);
		prom_vector_free(out);
		return -EBADMSG;
	}
	if (strcmp(status->valuestring, "success") != 0) {
		const cJSON *et = cJSON_GetObjectItemCaseSensitive(out->root, "errorType");
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(out->root, "error");
		snprintf(err, errlen, "HTTP %ld, %s: %s", http_status,
			 cJSON_IsString(et) ? et->valuestring : "error",
			 cJSON_IsString(e) ? e->valuestring : "(no message)");
		prom_vector_free(out);
		return -EINVAL;
	}
	data = cJSON_GetObjectItemCaseSensitive(out->root, "data");
	type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
	result = cJSON_GetObjectItemCaseSensitive(data, "result");
	if (!cJSON_IsString(type) || !cJSON_IsArray(result)) {
		snprintf(err, errlen, "Prometheus answer has no data.resultType/data.result");
		prom_vector_free(out);
		return -EBADMSG;
	}
	if (strcmp(type->valuestring, "scalar") == 0) {
		int ok;
		double v = parse_sample_value(result, &ok);
		if (!ok) {
			snprintf(err, errlen, "Prometheus scalar result is malformed");
			prom_vector_free(out);
			return -EBADMSG;
		}
		out->samples = calloc(1, sizeof(*out->samples));
		if (!out->samples) {
			prom_vector_free(out);
			return -ENOMEM;
		}
		out->samples[0].metric = NULL;
		out->samples[0].value = v;
		out->count = 1;
		return 0;
	}
	if (strcmp(type->valuestring, "vector") != 0) {
		snprintf(err, errlen, "Prometheus returned a %s, expected an instant vector",
			 type->valuestring);
		prom_vector_free(out);
		return -EBADMSG;
	}
	out->samples = calloc((size_t)cJSON_GetArraySize(result) + 1, sizeof(*out->samples));
	if (!out->samples) {
		prom_vector_free(out);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(item, result) {
		int ok;
		const cJSON *metric = cJSON_GetObjectItemCaseSensitive(item, "metric");
		double v = parse_sample_value(cJSON_GetObjectItemCaseSensitive(item, "value"), &ok);
		if (!cJSON_IsObject(metric) || !ok) {
			snprintf(err, errlen, "Prometheus vector sample %zu is malformed", n);
			prom_vector_free(out);
			return -EBADMSG;
		}
		out->samples[n].metric = metric;
		out->samples[n].value = v;
		n++;
	}
	out->count = n;
	return 0;
}

int prom_query(struct http_client *hc, const char *base_url,
	       const char *promql, long timeout_ms,
	       struct prom_vector *out, char *err, size_t errlen)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json", NULL };
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	char *q, *body = NULL, *url = NULL;
	char msg[512];
	size_t blen;
	int r;

	memset(out, 0, sizeof(*out));
	q = http_escape(promql);
	if (!q)
		return -ENOMEM;
	blen = strlen(q) + sizeof("query=");
	body = malloc(blen);
	url = malloc(strlen(base_url) + sizeof("/api/v1/query"));
	if (!body || !url) {
		free(q);
		free(body);
		free(url);
		return -ENOMEM;
	}
	snprintf(body, blen, "query=%s", q);
	free(q);
	strcpy(url, base_url);
	while (*url && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	strcat(url, "/api/v1/query");

	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = strlen(body);
	req.timeout_ms = timeout_ms;
	r = http_do(hc, &req, &resp, msg, sizeof(msg));
	if (r < 0) {
		snprintf(err, errlen, "Prometheus %s: %s", base_url, msg);
	} else {
		r = prom_parse_vector(resp.body, resp.status, out, msg, sizeof(msg));
		if (r < 0)
			snprintf(err, errlen, "Prometheus %s: %s", base_url, msg);
	}
	http_response_free(&resp);
	free(body);
	free(url);
	return r;
}

const char *prom_label(const struct prom_sample *s, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->metric, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void prom_vector_free(struct prom_vector *v)
{
	free(v->samples);
	cJSON_Delete(v->root);
	memset(v, 0, sizeof(*v));
}

char *prom_quote(const char *value)
{
	size_t i, j = 0, n = strlen(value);
	char *out = malloc(2 * n + 3);

	if (!out)
		return NULL;
	out[j++] = '"';
	for (i = 0; i < n; i++) {
		switch (value[i]) {
		case '\\': out[j++] = '\\'; out[j++] = '\\'; break;
		case '"':  out[j++] = '\\'; out[j++] = '"'; break;
		case '\n': out[j++] = '\\'; out[j++] = 'n'; break;
		default:   out[j++] = value[i];
		}
	}
	out[j++] = '"';
	out[j] = '\0';
	return out;
}

char *prom_regex_escape(const char *value)
{
	static const char meta[] = "\\.+*?()|[]{}^$";
	size_t i, j = 0, n = strlen(value);
	char *out = malloc(2 * n + 1);

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strchr(meta, value[i]))
			out[j++] = '\\';
		out[j++] = value[i];
	}
	out[j] = '\0';
	return out;
}
