/* advisor_ipa_agent — the original IPA agent protocol.
 *
 * POST <base>/askllm, Content-Type application/json, body {"metrics":
 * "<prompt>"} (JSON-encoded by cJSON, so quotes, backslashes and control
 * characters survive). Success is HTTP 200 with {"status":"success",
 * "text":{replicas, cpu_request, cpu_limit, memory_request, memory_limit}}.
 * Anything else is a failure: HTTP errors (the agent's 500 with "{}"),
 * {"status":"error"}, a text that is not an object (prose, a ```json fence)
 * or invalid values. The original README says /llmagent; the agent really
 * serves /askllm. */
#ifndef IPAD_ADVISOR_IPA_AGENT_H
#define IPAD_ADVISOR_IPA_AGENT_H

#include <stddef.h>

#include "advice.h"
#include "http.h"

/* Ask the agent at base_url about the prompt; the advice is for container.
 * Returns 0 with out filled, or a negative errno with err describing the
 * failure in one line (never the whole body). */
int advisor_ipa_agent(struct http_client *hc, const char *base_url,
		      const char *prompt, const char *container,
		      long timeout_ms, struct advice *out,
		      char *err, size_t errlen);

/* Interpret an agent answer (HTTP status + body); used by the above and by
 * the unit tests. */
int advisor_ipa_agent_parse(long http_status, const char *body,
			    const char *container, struct advice *out,
			    char *err, size_t errlen);

#endif
