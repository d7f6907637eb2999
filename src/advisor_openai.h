/* advisor_openai — OpenAI-compatible chat completions as an advisor
 * (OpenAI, vLLM, llama.cpp's llama-server, Ollama's /v1).
 *
 * POST {base}/v1/chat/completions, "Authorization: Bearer KEY" when a key is
 * configured, body {model, messages:[system, user], temperature:0,
 * max_tokens, stream:false, response_format:{type:"json_schema",
 * json_schema:{name:"advice", strict:true, schema: llm_schema(gemini =
 * false)}}}. A server that refuses the schema (HTTP 400 whose message
 * mentions response_format or json_schema) is asked once more with
 * {type:"json_object"}, and from then on for the rest of the process.
 * The answer is choices[0].message.content (reasoning_content ignored),
 * read with advice_from_llm_text(). Failures: both error shapes
 * ({"error":{message,type,code}} and vLLM's flat {"object":"error",
 * message}), message.refusal, finish_reason length or content_filter, no
 * content, invalid advice. 429 and 503 (llama-server's "Loading model") are
 * retried once after Retry-After (1 s without one) when that fits in the
 * budget. usage.total_tokens goes to advice.tokens.
 * Spec: /work/shared/reference/prometheus-and-llm.md, "OpenAI-compatible". */
#ifndef IPAD_ADVISOR_OPENAI_H
#define IPAD_ADVISOR_OPENAI_H

#include <stdbool.h>
#include <stddef.h>

#include "advice.h"
#include "advisor_llm.h"
#include "http.h"

/* Output token cap of a request (reasoning models spend some on thought). */
#define OPENAI_MAX_TOKENS 2048

/* Ask the server at c->base_url (required). Returns 0 with out filled, or a
 * negative errno with err in one line (never the key, never the whole
 * body). out is always safe to free. */
int advisor_openai(struct http_client *hc, const struct llm_call *c,
		   struct advice *out, char *err, size_t errlen);

/* The request body for c, with the json_schema response format or, when
 * json_object is true, {type:"json_object"}; malloc'ed JSON, or NULL. */
char *advisor_openai_request(const struct llm_call *c, bool json_object);

/* Interpret an answer (HTTP status, body, Retry-After seconds or -1).
 * Returns 0 with out filled; -EAGAIN for 429/503 with *retry_ms the delay to
 * wait; -ENOTSUP when the server refused the schema; -EIO for other HTTP
 * errors; -EBADMSG for a refusal, a cut or filtered or empty answer;
 * -EINVAL for invalid advice. */
int advisor_openai_parse(long status, const char *body, long retry_after_s,
			 const struct llm_call *c, struct advice *out,
			 long *retry_ms, char *err, size_t errlen);

#endif
