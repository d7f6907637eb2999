/* advisor_gemini — see advisor_gemini.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "advisor_gemini.h"

char *advisor_gemini_request(const struct llm_call *c)
{
	cJSON *root = cJSON_CreateObject(), *contents, *msg, *parts, *part, *sys,
	      *gen, *schema = llm_schema(c, true);
	char *json = NULL;
	bool ok;

	ok = root && schema &&
	     (contents = cJSON_AddArrayToObject(root, "contents")) &&
	     (msg = cJSON_CreateObject()) && cJSON_AddItemToArray(contents, msg) &&
	     cJSON_AddStringToObject(msg, "role", "user") &&
	     (parts = cJSON_AddArrayToObject(msg, "parts")) &&
	     (part = cJSON_CreateObject()) && cJSON_AddItemToArray(parts, part) &&
	     cJSON_AddStringToObject(part, "text", c->prompt) &&
	     (sys = cJSON_AddObjectToObject(root, "systemInstruction")) &&
	     (parts = cJSON_AddArrayToObject(sys, "parts")) &&
	     (part = cJSON_CreateObject()) && cJSON_AddItemToArray(parts, part) &&
	     cJSON_AddStringToObject(part, "text", llm_instruction()) &&
	     (gen = cJSON_AddObjectToObject(root, "generationConfig")) &&
	     cJSON_AddNumberToObject(gen, "temperature", 0) &&
	     cJSON_AddStringToObject(gen, "responseMimeType", "application/json") &&
	     cJSON_AddItemToObject(gen, "responseSchema", schema);
	if (ok)
		schema = NULL; /* owned by root now */
	if (ok)
		json = cJSON_PrintUnformatted(root);
	cJSON_Delete(schema);
	cJSON_Delete(root);
	return json;
}

/* "47s" / "0.5s" (a google.protobuf.Duration in JSON) in ms, or -1. */
static long duration_ms(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || strcmp(end, "s") != 0 || !(v >= 0) || v > 86400)
		return -1;
	return (long)(v * 1000.0 + 0.5);
}

/* The RetryInfo delay in an error's details, or -1. */
static long retry_info_ms(const cJSON *error)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(error, "details")) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(d, "@type");
		const cJSON *delay = cJSON_GetObjectItemCaseSensitive(d, "retryDelay");
		if (cJSON_IsString(type) && strstr(type->valuestring, "google.rpc.RetryInfo") &&
		    cJSON_IsString(delay))
			return duration_ms(delay->valuestring);
	}
	return -1;
}

static int http_error(long status, const cJSON *root, long retry_after_s,
		      long *retry_ms, char *err, size_t errlen)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
	char ex[80];

	snprintf(err, errlen, "Gemini answered HTTP %ld%s%s%s%s", status,
		 cJSON_IsString(st) ? " " : "", cJSON_IsString(st) ? st->valuestring : "",
		 cJSON_IsString(m) ? ": " : "",
		 cJSON_IsString(m) ? llm_excerpt(m->valuestring, ex, sizeof(ex)) : "");
	if (status != 429)
		return -EIO;
	*retry_ms = retry_info_ms(e);
	if (*retry_ms < 0 && retry_after_s >= 0)
		*retry_ms = retry_after_s * 1000;
	return -EAGAIN;
}

/* The text parts of content that are not thoughts, joined; NULL when none
 * (*oom set on allocation failure). */
static char *answer_text(const cJSON *content, bool *oom)
{
	const cJSON *p;
	char *text = NULL;
	size_t len = 0;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(content, "parts")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
		size_t n;
		char *grown;

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "thought")) ||
		    !cJSON_IsString(t))
			continue;
		n = strlen(t->valuestring);
		if (!(grown = realloc(text, len + n + 1))) {
			free(text);
			*oom = true;
			return NULL;
		}
		text = grown;
		memcpy(text + len, t->valuestring, n + 1);
		len += n;
	}
	return text;
}

/* What a finishReason other than STOP means, for the message. */
static const char *finish_hint(const char *reason)
{
	if (strcmp(reason, "SAFETY") == 0)
		return " (a safety filter)";
	if (strcmp(reason, "MAX_TOKENS") == 0)
		return " (the output token limit)";
	return "";
}

int advisor_gemini_parse(long status, const char *body, long retry_after_s,
			 const struct llm_call *c, struct advice *out,
			 long *retry_ms, char *err, size_t errlen)
{
	cJSON *root = cJSON_Parse(body ? body : "");
	const cJSON *cands, *cand, *fb, *reason, *usage, *total;
	char *text = NULL, msg[256];
	bool oom = false;
	int r;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	*retry_ms = -1;
	if (status != 200) {
		r = http_error(status, root, retry_after_s, retry_ms, err, errlen);
		cJSON_Delete(root);
		return r;
	}
	cands = cJSON_GetObjectItemCaseSensitive(root, "candidates");
	cand = cJSON_GetArrayItem(cands, 0);
	reason = cJSON_GetObjectItemCaseSensitive(cand, "finishReason");
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "Gemini answer is not a JSON object: \"%s\"",
			 llm_excerpt(body, msg, sizeof(msg)));
		r = -EBADMSG;
	} else if (!cJSON_IsObject(cand)) {
		fb = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "promptFeedback"), "blockReason");
		snprintf(err, errlen, "Gemini %s%s", cJSON_IsString(fb) ?
			 "blocked the prompt: blockReason " : "answered no candidates",
			 cJSON_IsString(fb) ? fb->valuestring : "");
		r = -EBADMSG;
	} else if (cJSON_IsString(reason) && strcmp(reason->valuestring, "STOP") != 0) {
		snprintf(err, errlen, "Gemini stopped the answer: finishReason %.40s%s",
			 reason->valuestring, finish_hint(reason->valuestring));
		r = -EBADMSG;
	} else if (!(text = answer_text(cJSON_GetObjectItemCaseSensitive(cand, "content"),
					 &oom))) {
		snprintf(err, errlen, "Gemini answered no text");
		r = oom ? -ENOMEM : -EBADMSG;
	} else {
		r = advice_from_llm_text(text, c->containers, c->container_count, out,
					 msg, sizeof(msg));
		if (r < 0)
			snprintf(err, errlen, "Gemini advice rejected: %s", msg);
	}
	usage = cJSON_GetObjectItemCaseSensitive(root, "usageMetadata");
	total = cJSON_GetObjectItemCaseSensitive(usage, "totalTokenCount");
	if (r == 0 && cJSON_IsNumber(total) && total->valuedouble > 0 &&
	    total->valuedouble < 1e15)
		out->tokens = (long)total->valuedouble;
	free(text);
	cJSON_Delete(root);
	return r;
}

int advisor_gemini(struct http_client *hc, const struct llm_call *c,
		   struct advice *out, char *err, size_t errlen)
{
	const char *base = c->base_url ? c->base_url : GEMINI_DEFAULT_BASE;
	const char *model = strncmp(c->model, "models/", 7) == 0 ? c->model + 7 : c->model;
	char *json = advisor_gemini_request(c), *url = NULL, *key = NULL;
	const char *headers[2] = { NULL, NULL };
	struct http_response resp = { 0 };
	size_t n = strlen(base);
	long t0 = llm_now_ms(), retry_ms;
	int r, attempt;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (c->api_key && !(key = llm_key_header("x-goog-api-key", "", c->api_key)))
		r = -ENOMEM;
	else if (!json || asprintf(&url, "%.*s/v1beta/models/%s:generateContent",
				   (int)n, base, model) < 0)
		r = -ENOMEM, url = NULL;
	else
		r = 0;
	headers[0] = key;
	for (attempt = 0; r == 0; attempt++) {
		r = llm_post(hc, "Gemini", url, headers, json, t0, c->timeout_ms,
			     &resp, err, errlen);
		if (r == 0)
			r = advisor_gemini_parse(resp.status, resp.body, resp.retry_after_s,
						 c, out, &retry_ms, err, errlen);
		http_response_free(&resp);
		if (r != -EAGAIN || attempt > 0)
			break;
		if (retry_ms < 0)
			break; /* no hint: a daily quota, not worth waiting for */
		r = llm_wait_retry("Gemini rate limited (HTTP 429)", retry_ms, t0,
				   c->timeout_ms, err, errlen);
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "Gemini: out of memory");
	llm_key_free(key);
	free(json);
	free(url);
	return r;
}
