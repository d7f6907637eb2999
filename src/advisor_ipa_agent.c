/* advisor_ipa_agent — see advisor_ipa_agent.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "advisor_ipa_agent.h"
#include "advisor_llm.h"

int advisor_ipa_agent_parse(long http_status, const char *body,
			    const char *container, struct advice *out,
			    char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *status, *text, *message;
	char ex[80], msg[256];
	int r;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	root = cJSON_Parse(body ? body : "");
	if (http_status != 200) {
		message = cJSON_GetObjectItemCaseSensitive(root, "message");
		snprintf(err, errlen, "agent answered HTTP %ld%s%s", http_status,
			 cJSON_IsString(message) ? ": " : "",
			 cJSON_IsString(message) ? llm_excerpt(message->valuestring, ex, sizeof(ex)) : "");
		cJSON_Delete(root);
		return -EIO;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "agent answer is not a JSON object: \"%s\"",
			 llm_excerpt(body, ex, sizeof(ex)));
		cJSON_Delete(root);
		return -EBADMSG;
	}
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	text = cJSON_GetObjectItemCaseSensitive(root, "text");
	if (!cJSON_IsString(status) || strcmp(status->valuestring, "success") != 0) {
		message = cJSON_GetObjectItemCaseSensitive(root, "message");
		snprintf(err, errlen, "agent status is %s%s%s",
			 cJSON_IsString(status) ? status->valuestring : "missing",
			 cJSON_IsString(message) ? ": " : "",
			 cJSON_IsString(message) ? llm_excerpt(message->valuestring, ex, sizeof(ex)) : "");
		cJSON_Delete(root);
		return -EBADMSG;
	}
	if (!cJSON_IsObject(text)) {
		snprintf(err, errlen, "agent answer's \"text\" is not an object%s%s%s",
			 cJSON_IsString(text) ? ": \"" : "",
			 cJSON_IsString(text) ? llm_excerpt(text->valuestring, ex, sizeof(ex)) : "",
			 cJSON_IsString(text) ? "\"" : "");
		cJSON_Delete(root);
		return -EBADMSG;
	}
	r = advice_from_agent_text(text, container, out, msg, sizeof(msg));
	if (r == 0)
		r = advice_validate(out, msg, sizeof(msg));
	if (r == 0) {
		message = cJSON_GetObjectItemCaseSensitive(root, "message");
		if (cJSON_IsString(message))
			out->rationale = strndup(message->valuestring, 200);
	} else {
		snprintf(err, errlen, "agent advice rejected: %s", msg);
		advice_free(out);
	}
	cJSON_Delete(root);
	return r;
}

int advisor_ipa_agent(struct http_client *hc, const char *base_url,
		      const char *prompt, const char *container,
		      long timeout_ms, struct advice *out,
		      char *err, size_t errlen)
{
	static const char *const headers[] = {
		"Content-Type: application/json", "Accept: application/json", NULL };
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	cJSON *body = cJSON_CreateObject();
	char *json = NULL, *url = NULL, msg[512];
	size_t n = strlen(base_url);
	int r;

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	if (!body || !cJSON_AddStringToObject(body, "metrics", prompt) ||
	    !(json = cJSON_PrintUnformatted(body)) ||
	    asprintf(&url, "%.*s/askllm", (int)n, base_url) < 0) {
		cJSON_Delete(body);
		free(json);
		return -ENOMEM;
	}
	cJSON_Delete(body);
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = json;
	req.body_len = strlen(json);
	req.timeout_ms = timeout_ms;
	r = http_do(hc, &req, &resp, msg, sizeof(msg));
	if (r < 0)
		snprintf(err, errlen, "IPA agent: %s", msg);
	else
		r = advisor_ipa_agent_parse(resp.status, resp.body, container, out, err, errlen);
	http_response_free(&resp);
	free(json);
	free(url);
	return r;
}
