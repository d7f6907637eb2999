/* advisor_openai — see advisor_openai.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "advisor_openai.h"

/* Set once a server refused json_schema: later calls use json_object. */
static atomic_bool schema_refused;

static bool add_message(cJSON *messages, const char *role, const char *content)
{
	cJSON *m = cJSON_CreateObject();

	if (!m || !cJSON_AddItemToArray(messages, m))
		return cJSON_Delete(m), false;
	return cJSON_AddStringToObject(m, "role", role) &&
	       cJSON_AddStringToObject(m, "content", content);
}

char *advisor_openai_request(const struct llm_call *c, bool json_object)
{
	cJSON *root = cJSON_CreateObject(), *messages, *fmt, *js,
	      *schema = json_object ? NULL : llm_schema(c, false);
	char *json = NULL;
	bool ok;

	ok = root && (json_object || schema) &&
	     cJSON_AddStringToObject(root, "model", c->model) &&
	     (messages = cJSON_AddArrayToObject(root, "messages")) &&
	     add_message(messages, "system", llm_instruction()) &&
	     add_message(messages, "user", c->prompt) &&
	     cJSON_AddNumberToObject(root, "temperature", 0) &&
	     cJSON_AddNumberToObject(root, "max_tokens", OPENAI_MAX_TOKENS) &&
	     cJSON_AddFalseToObject(root, "stream") &&
	     (fmt = cJSON_AddObjectToObject(root, "response_format"));
	if (ok && json_object)
		ok = cJSON_AddStringToObject(fmt, "type", "json_object");
	else if (ok) {
		ok = cJSON_AddStringToObject(fmt, "type", "json_schema") &&
		     (js = cJSON_AddObjectToObject(fmt, "json_schema")) &&
		     cJSON_AddStringToObject(js, "name", "advice") &&
		     cJSON_AddTrueToObject(js, "strict") &&
		     cJSON_AddItemToObject(js, "schema", schema);
		if (ok)
			schema = NULL; /* owned by root now */
	}
	if (ok)
		json = cJSON_PrintUnformatted(root);
	cJSON_Delete(schema);
	cJSON_Delete(root);
	return json;
}

/* Whether text is about the response format (a server without schemas). */
static bool about_schema(const char *text)
{
	return text && (strstr(text, "response_format") || strstr(text, "json_schema"));
}

static int http_error(long status, const cJSON *root, const char *body,
		      long retry_after_s, long *retry_ms, char *err, size_t errlen)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(e) ? e : root,
							   "message");
	const char *text = cJSON_IsString(m) ? m->valuestring :
			   cJSON_IsString(e) ? e->valuestring : NULL;
	char ex[80];

	if (!text && !cJSON_IsObject(root))
		text = body; /* plain text, such as a proxy's page */
	snprintf(err, errlen, "OpenAI-compatible server answered HTTP %ld%s%s", status,
		 text && *text ? ": " : "", text ? llm_excerpt(text, ex, sizeof(ex)) : "");
	if (status == 400 && about_schema(text))
		return -ENOTSUP;
	if (status != 429 && status != 503)
		return -EIO;
	*retry_ms = retry_after_s >= 0 ? retry_after_s * 1000 : 1000;
	return -EAGAIN;
}

int advisor_openai_parse(long status, const char *body, long retry_after_s,
			 const struct llm_call *c, struct advice *out,
			 long *retry_ms, char *err, size_t errlen)
{
	cJSON *root = cJSON_Parse(body ? body : "");
	const cJSON *choice, *msg, *content, *refusal, *finish, *total;
	char ex[80], why[256];
	int r;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	*retry_ms = -1;
	if (status != 200 || cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "error")) ||
	    (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "object")) &&
	     strcmp(cJSON_GetObjectItemCaseSensitive(root, "object")->valuestring, "error") == 0)) {
		r = http_error(status, root, body, retry_after_s, retry_ms, err, errlen);
		cJSON_Delete(root);
		return r;
	}
	choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
	msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
	finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "OpenAI-compatible answer is not a JSON object: \"%s\"",
			 llm_excerpt(body, ex, sizeof(ex)));
		r = -EBADMSG;
	} else if (!cJSON_IsObject(msg)) {
		snprintf(err, errlen, "OpenAI-compatible answer has no choices[0].message");
		r = -EBADMSG;
	} else if (cJSON_IsString(refusal) && *refusal->valuestring) {
		snprintf(err, errlen, "the model refused: %s",
			 llm_excerpt(refusal->valuestring, ex, sizeof(ex)));
		r = -EBADMSG;
	} else if (cJSON_IsString(finish) && (strcmp(finish->valuestring, "length") == 0 ||
					      strcmp(finish->valuestring, "content_filter") == 0)) {
		snprintf(err, errlen, "the answer was %s (finish_reason %s)",
			 finish->valuestring[0] == 'l' ? "cut at max_tokens" :
			 "stopped by a content filter", finish->valuestring);
		r = -EBADMSG;
	} else if (!cJSON_IsString(content) || !*content->valuestring) {
		snprintf(err, errlen, "OpenAI-compatible answer has no message content");
		r = -EBADMSG;
	} else {
		r = advice_from_llm_text(content->valuestring, c->containers,
					 c->container_count, out, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "OpenAI-compatible advice rejected: %s", why);
	}
	total = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "usage"), "total_tokens");
	if (r == 0 && cJSON_IsNumber(total) && total->valuedouble > 0 &&
	    total->valuedouble < 1e15)
		out->tokens = (long)total->valuedouble;
	cJSON_Delete(root);
	return r;
}

int advisor_openai(struct http_client *hc, const struct llm_call *c,
		   struct advice *out, char *err, size_t errlen)
{
	const char *headers[2] = { NULL, NULL };
	struct http_response resp = { 0 };
	char *json = NULL, *url = NULL, *key = NULL;
	size_t n = strlen(c->base_url);
	long t0 = llm_now_ms(), retry_ms;
	bool object = atomic_load(&schema_refused), waited = false, fell_back = false;
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	while (n > 0 && c->base_url[n - 1] == '/')
		n--;
	if ((c->api_key && !(key = llm_key_header("Authorization", "Bearer ", c->api_key))) ||
	    asprintf(&url, "%.*s/v1/chat/completions", (int)n, c->base_url) < 0) {
		url = NULL;
		r = -ENOMEM;
	}
	headers[0] = key;
	while (r == 0) {
		free(json);
		if (!(json = advisor_openai_request(c, object))) {
			r = -ENOMEM;
			break;
		}
		r = llm_post(hc, "OpenAI-compatible server", url, headers, json, t0,
			     c->timeout_ms, &resp, err, errlen);
		if (r == 0)
			r = advisor_openai_parse(resp.status, resp.body, resp.retry_after_s,
						 c, out, &retry_ms, err, errlen);
		http_response_free(&resp);
		if (r == -ENOTSUP && !object && !fell_back) {
			/* No schemas here: json_object, now and from now on. */
			atomic_store(&schema_refused, true);
			object = fell_back = true;
			advice_free(out);
			r = 0;
			continue;
		}
		if (r == -EAGAIN && !waited) {
			waited = true;
			advice_free(out);
			r = llm_wait_retry("OpenAI-compatible server busy (HTTP 429/503)",
					   retry_ms, t0, c->timeout_ms, err, errlen);
			continue;
		}
		break;
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "OpenAI-compatible advisor: out of memory");
	llm_key_free(key);
	free(json);
	free(url);
	return r;
}
