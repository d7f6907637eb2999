/* prom — Prometheus HTTP API instant queries and their results.
 *
 * Implements the /api/v1/query envelope of Prometheus 2.x: {status, data:
 * {resultType, result}, errorType, error, warnings}. Sample values arrive as
 * strings and may be "NaN", "+Inf", "-Inf". An empty result is "no data",
 * which callers must treat as unknown, never as zero. */
#ifndef IPAD_PROM_H
#define IPAD_PROM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "http.h"

struct prom_sample {
	const cJSON *metric;  /* the label set (borrowed from the vector) */
	double value;         /* may be NaN or +-Inf */
};

struct prom_vector {
	struct prom_sample *samples; /* owned */
	size_t count;
	cJSON *root;                 /* owned parse tree the samples point into */
};

/* Parse one /api/v1/query answer (any HTTP status). A "vector" result fills
 * out; a "scalar" becomes one sample with no labels. Errors (-EINVAL) carry
 * Prometheus' own words: "bad_data: 1:5: parse error: ..."; a body that is
 * not a Prometheus answer (-EBADMSG) is described without echoing it whole.
 * out is always safe to free. */
int prom_parse_vector(const char *body, long http_status,
		      struct prom_vector *out, char *err, size_t errlen);

/* POST base_url/api/v1/query with query=promql (form-encoded, so long
 * selectors do not hit URL limits). timeout_ms bounds the whole call.
 * Returns 0 or a negative errno with "Prometheus URL: ..." in err. */
int prom_query(struct http_client *hc, const char *base_url,
	       const char *promql, long timeout_ms,
	       struct prom_vector *out, char *err, size_t errlen);

/* The value of label name in s, or NULL. */
const char *prom_label(const struct prom_sample *s, const char *name);

void prom_vector_free(struct prom_vector *v);

/* A PromQL string literal for value: quotes added, '\\', '"' and newlines
 * escaped. malloc'ed, NULL on allocation failure. */
char *prom_quote(const char *value);

/* value with every RE2 metacharacter escaped, for use inside =~ "..."
 * (still to be passed through prom_quote). malloc'ed or NULL. */
char *prom_regex_escape(const char *value);

#endif
