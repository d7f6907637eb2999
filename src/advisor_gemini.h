/* advisor_gemini — Google Gemini's generateContent (v1beta) as an advisor.
 *
 * POST {base}/v1beta/models/{model}:generateContent (base default
 * https://generativelanguage.googleapis.com), header x-goog-api-key, body
 * {contents:[{role:"user", parts:[{text: prompt}]}], systemInstruction,
 * generationConfig:{temperature:0, responseMimeType:"application/json",
 * responseSchema: llm_schema(gemini = true)}}.
 * The answer is candidates[0].content.parts[*].text without the parts marked
 * "thought": true, joined and read with advice_from_llm_text().
 * Failures, each with its own message: HTTP errors ({"error":{code,
 * message, status}}), a blocked prompt (no candidates,
 * promptFeedback.blockReason), a finishReason other than STOP (SAFETY,
 * MAX_TOKENS, RECITATION, ...), no text, invalid advice. A 429 carrying a
 * google.rpc.RetryInfo retryDelay (or Retry-After) is retried once after
 * that delay when it fits in the call's budget. usageMetadata.totalTokenCount
 * goes to advice.tokens.
 * Spec: /work/shared/reference/prometheus-and-llm.md, "Google Gemini". */
#ifndef IPAD_ADVISOR_GEMINI_H
#define IPAD_ADVISOR_GEMINI_H

#include <stddef.h>

#include "advice.h"
#include "advisor_llm.h"
#include "http.h"

#define GEMINI_DEFAULT_BASE "https://generativelanguage.googleapis.com"

/* Ask Gemini (c->base_url NULL: Google's). Returns 0 with out filled, or a
 * negative errno with err in one line (never the key, never the whole
 * body). out is always safe to free. */
int advisor_gemini(struct http_client *hc, const struct llm_call *c,
		   struct advice *out, char *err, size_t errlen);

/* The request body for c; malloc'ed JSON text, or NULL. */
char *advisor_gemini_request(const struct llm_call *c);

/* Interpret an answer (HTTP status, body, Retry-After seconds or -1).
 * Returns 0 with out filled; -EAGAIN for a 429 with *retry_ms set to the
 * delay asked for (-1 when none was given); -EIO for other HTTP errors;
 * -EBADMSG for a blocked prompt, a stopped or empty answer; -EINVAL for
 * invalid advice. */
int advisor_gemini_parse(long status, const char *body, long retry_after_s,
			 const struct llm_call *c, struct advice *out,
			 long *retry_ms, char *err, size_t errlen);

#endif
