/* advice — the one internal shape of an advisor's answer, whatever the
 * advisor (builtin policy, IPA agent, Gemini, OpenAI-compatible), and its
 * validation. An advice is either valid as a whole or rejected as a whole. */
#ifndef IPAD_ADVICE_H
#define IPAD_ADVICE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "resources.h"

/* Smallest memory request or limit an advice may carry: 4 MiB. */
#define ADVICE_MIN_MEMORY_B (INT64_C(4) * 1024 * 1024)

struct container_advice {
	char *name;              /* owned */
	struct resources r;      /* RESOURCE_UNSET where the advice is silent */
};

struct advice {
	int32_t replicas;        /* >= 0, or -1 when the advisor is silent */
	struct container_advice *containers; /* owned, may be NULL */
	size_t container_count;
	char *rationale;         /* owned short text, or NULL */
	long tokens;             /* tokens the LLM call used (its usage
				    total), 0 when unknown or no LLM */
};

/* Read the IPA agent's `text` object {replicas, cpu_request, cpu_limit,
 * memory_request, memory_limit} (Kubernetes quantities, any suffix) as the
 * advice for container. Every field is required; replicas must be a JSON
 * integer; the quantities must parse. Errors (-EINVAL) name the field and
 * the offending value: "memory_limit: \"256MB\" is not a Kubernetes
 * quantity". out is always safe to free. */
int advice_from_agent_text(const cJSON *text, const char *container,
			   struct advice *out, char *err, size_t errlen);

/* Read the answer an LLM advisor (gemini, openai) was asked for: text must
 * be exactly one JSON object (no prose, no ``` fence, nothing after it)
 *   {"replicas": int >= 0,
 *    "containers": [{"name", "cpu_request", "cpu_limit", "memory_request",
 *                    "memory_limit"}, ...],      (quantities as strings)
 *    "rationale": string,
 *    "confidence": number 0..1 or null (optional)}
 * with no other keys. Each container name must be one of names[0..n-1] (the
 * Deployment's containers) and appear once. The result is also checked with
 * advice_validate(). The rationale is kept (at most 200 bytes), prefixed
 * with "confidence 0.80: " when a confidence is given. Returns 0, -EINVAL
 * with the first problem in err (naming the field and value), or -ENOMEM;
 * out is always safe to free. */
int advice_from_llm_text(const char *text, const char *const *names, size_t n,
			 struct advice *out, char *err, size_t errlen);

/* Check an advice for impossible values: negative replicas, CPU request or
 * limit <= 0, memory below ADVICE_MIN_MEMORY_B, request above limit.
 * Returns 0 or -EINVAL with the first problem in err. */
int advice_validate(const struct advice *a, char *err, size_t errlen);

/* "replicas=5 web cpu=200m/400m memory=256Mi/512Mi" (request/limit, "-"
 * when unset) into buf; returns buf. */
char *advice_summary(const struct advice *a, char *buf, size_t len);

/* The advice for container name, or NULL. */
const struct container_advice *advice_container(const struct advice *a,
						 const char *name);

void advice_free(struct advice *a);

#endif
