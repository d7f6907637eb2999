/* advisor_llm — what the LLM advisors (advisor_gemini, advisor_openai)
 * share: the call's parameters, the API key, the instruction that states
 * the answer's shape, its JSON schema in either dialect, and the one wait a
 * retry hint may buy within the call's time budget.
 *
 * Spec: /work/shared/reference/prometheus-and-llm.md ("LLM APIs"). */
#ifndef IPAD_ADVISOR_LLM_H
#define IPAD_ADVISOR_LLM_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "advice.h"
#include "config.h"
#include "http.h"

/* One LLM call; every pointer is borrowed. */
struct llm_call {
	const char *base_url;        /* API base, no trailing '/' needed */
	const char *model;           /* model name */
	const char *api_key;         /* the key, or NULL: none */
	const char *prompt;          /* prompt_render()'s text (user message) */
	const char *const *containers; /* the Deployment's container names */
	size_t container_count;
	long timeout_ms;             /* the whole call, retries and waits included */
};

/* The system instruction: the answer's JSON shape and rules in words (also
 * what a server without schema support has to go by). Static text. */
const char *llm_instruction(void);

/* The advice's JSON schema (advice_from_llm_text's shape), with the
 * container names as an enum.
 * gemini = true: Gemini's OpenAPI subset: UPPERCASE types, "required",
 *   "nullable"; no additionalProperties, $schema or title (Gemini rejects
 *   them); confidence optional.
 * gemini = false: OpenAI strict json_schema: lower-case types, every object
 *   with additionalProperties false and every property required
 *   (confidence as ["number", "null"]).
 * Returns a new tree (the caller's) or NULL on allocation failure. */
cJSON *llm_schema(const struct llm_call *c, bool gemini);

/* Read the API key named by cfg ([advisor] api-key-file, or
 * api-key-credential from $CREDENTIALS_DIRECTORY/NAME) into *key: surrounding
 * blanks trimmed, malloc'ed, to be released with llm_key_free(). With
 * neither key set, *key = NULL and 0. A file that group or others may read
 * (mode & 077), an empty key, a key with control characters, a missing
 * $CREDENTIALS_DIRECTORY or an unreadable file fail with a negative errno
 * (-EPERM for the mode) and err naming the file and the fix, never the key. */
int llm_key_load(const struct ipad_config *cfg, char **key, char *err, size_t errlen);

/* Wipe and free a key (NULL is fine). */
void llm_key_free(char *key);

/* "Name: value" header text, wiped and freed by llm_key_free(); NULL on
 * allocation failure. */
char *llm_key_header(const char *name, const char *prefix, const char *key);

/* Milliseconds since t0_ms (CLOCK_MONOTONIC) and the clock itself. */
long llm_now_ms(void);

/* Wait delay_ms before the one retry when that fits the budget: the call
 * started at t0_ms, may last timeout_ms, and the retry needs at least a
 * second of its own. Returns 0 after waiting (stops early with -ECANCELED
 * when ipad is stopping), or -ETIMEDOUT without waiting, err then saying
 * "<what>: retry in N s does not fit the N s left". */
int llm_wait_retry(const char *what, long delay_ms, long t0_ms, long timeout_ms,
		   char *err, size_t errlen);

/* POST json to url with headers (NULL-terminated, Content-Type and Accept
 * JSON added here) within what is left of the budget (timeout_ms since
 * t0_ms). Returns http_do()'s result, err prefixed with what; -ETIMEDOUT
 * when nothing is left. resp as with http_do(). */
int llm_post(struct http_client *hc, const char *what, const char *url,
	     const char *const *headers, const char *json, long t0_ms,
	     long timeout_ms, struct http_response *resp, char *err, size_t errlen);

/* The first 60 characters of s, control characters as blanks, "..." when
 * cut: for quoting a server's text in one line. Returns buf. */
const char *llm_excerpt(const char *s, char *buf, size_t len);

#endif
