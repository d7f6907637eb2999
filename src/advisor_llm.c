/* advisor_llm — see advisor_llm.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "advisor_llm.h"
#include "http.h"

/* A key file is small; anything bigger is not a key. */
#define KEY_MAX 4096

const char *llm_instruction(void)
{
	return "You are the advisor of a Kubernetes autoscaler. From the "
	       "Deployment's state in the user message, advise its replica count "
	       "and the CPU and memory requests and limits of its containers. "
	       "Answer with exactly one JSON object and nothing else: "
	       "{\"replicas\": integer >= 0, \"containers\": [{\"name\": container "
	       "name, \"cpu_request\": string, \"cpu_limit\": string, "
	       "\"memory_request\": string, \"memory_limit\": string}], "
	       "\"rationale\": one short sentence, \"confidence\": number from 0 "
	       "to 1}. Quantities are Kubernetes quantity strings: CPU in "
	       "millicores like \"250m\", memory in Mi like \"256Mi\"; a request "
	       "never above its limit. Only use container names from the user "
	       "message; list a container only to change it. Stay within the "
	       "guardrails listed in the user message.";
}

static cJSON *typed(const char *type, bool gemini)
{
	cJSON *o = cJSON_CreateObject();
	char up[16];
	size_t i;

	for (i = 0; type[i] && i + 1 < sizeof(up); i++)
		up[i] = gemini ? (char)(type[i] - 'a' + 'A') : type[i];
	up[i] = '\0';
	if (o && !cJSON_AddStringToObject(o, "type", up)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* properties + required (+ additionalProperties false for OpenAI) on obj;
 * names[] are required, optional (may be NULL) is not for Gemini. */
static bool close_object(cJSON *obj, const char *const *names, const char *optional,
			 bool gemini)
{
	cJSON *req = cJSON_AddArrayToObject(obj, "required");
	size_t i;

	if (!req)
		return false;
	for (i = 0; names[i]; i++)
		if (!cJSON_AddItemToArray(req, cJSON_CreateString(names[i])))
			return false;
	if (optional && !gemini &&
	    !cJSON_AddItemToArray(req, cJSON_CreateString(optional)))
		return false;
	return gemini || cJSON_AddFalseToObject(obj, "additionalProperties");
}

cJSON *llm_schema(const struct llm_call *c, bool gemini)
{
	static const char *const quantities[] = { "cpu_request", "cpu_limit",
		"memory_request", "memory_limit", NULL };
	static const char *const item_names[] = { "name", "cpu_request", "cpu_limit",
		"memory_request", "memory_limit", NULL };
	static const char *const top_names[] = { "replicas", "containers",
		"rationale", NULL };
	cJSON *root = typed("object", gemini), *props, *items = NULL, *iprops = NULL,
	      *name = NULL, *names = NULL, *conf = NULL, *arr = NULL;
	bool ok = root != NULL;
	size_t i;

	props = ok ? cJSON_AddObjectToObject(root, "properties") : NULL;
	ok = ok && props &&
	     cJSON_AddItemToObject(props, "replicas", typed("integer", gemini)) &&
	     (arr = typed("array", gemini)) && cJSON_AddItemToObject(props, "containers", arr) &&
	     (items = typed("object", gemini)) && cJSON_AddItemToObject(arr, "items", items) &&
	     (iprops = cJSON_AddObjectToObject(items, "properties")) &&
	     (name = typed("string", gemini)) && cJSON_AddItemToObject(iprops, "name", name) &&
	     (names = cJSON_AddArrayToObject(name, "enum"));
	for (i = 0; ok && i < c->container_count; i++)
		ok = cJSON_AddItemToArray(names, cJSON_CreateString(c->containers[i]));
	for (i = 0; ok && quantities[i]; i++)
		ok = cJSON_AddItemToObject(iprops, quantities[i], typed("string", gemini));
	ok = ok && close_object(items, item_names, NULL, gemini) &&
	     cJSON_AddItemToObject(props, "rationale", typed("string", gemini));
	if (ok && gemini)
		ok = (conf = typed("number", true)) &&
		     cJSON_AddItemToObject(props, "confidence", conf) &&
		     cJSON_AddTrueToObject(conf, "nullable");
	else if (ok)
		ok = (conf = cJSON_CreateObject()) &&
		     cJSON_AddItemToObject(props, "confidence", conf) &&
		     (arr = cJSON_AddArrayToObject(conf, "type")) &&
		     cJSON_AddItemToArray(arr, cJSON_CreateString("number")) &&
		     cJSON_AddItemToArray(arr, cJSON_CreateString("null"));
	ok = ok && close_object(root, top_names, "confidence", gemini);
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Read the key file at path (already opened as fd) into *key. */
static int read_key(int fd, const char *path, char **key, char *err, size_t errlen)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	size_t len = 0, start = 0, i;

	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "API key %s is not a regular file", path);
		return -EINVAL;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen, "API key %s is readable by others (mode %04o); "
			 "refused: chmod 600 %s", path, (unsigned)(sb.st_mode & 07777), path);
		return -EPERM;
	}
	buf = malloc(KEY_MAX + 1);
	if (!buf)
		return -ENOMEM;
	while (len < KEY_MAX && (n = read(fd, buf + len, KEY_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			snprintf(err, errlen, "API key %s: %s", path, strerror(e));
			llm_key_free(buf);
			return -e;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]))
		buf[--len] = '\0';
	while (buf[start] && strchr(" \t\r\n", buf[start]))
		start++;
	for (i = start; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			break;
	if (start == len || i < len || len == KEY_MAX) {
		snprintf(err, errlen, "API key %s %s", path, start == len ? "is empty" :
			 "is not one line of printable text (one key, nothing else)");
		llm_key_free(buf);
		return -EINVAL;
	}
	memmove(buf, buf + start, len - start + 1);
	explicit_bzero(buf + len - start + 1, start);
	*key = buf;
	return 0;
}

int llm_key_load(const struct ipad_config *cfg, char **key, char *err, size_t errlen)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL;
	int fd, r;

	*key = NULL;
	if (cfg->advisor_key_file)
		path = strdup(cfg->advisor_key_file);
	else if (cfg->advisor_key_credential) {
		if (!dir || !*dir) {
			snprintf(err, errlen, "api-key-credential %s: $CREDENTIALS_DIRECTORY "
				 "is not set; run ipad under systemd with "
				 "LoadCredential=%s:/etc/ipad/credentials/%s, or use "
				 "api-key-file", cfg->advisor_key_credential,
				 cfg->advisor_key_credential, cfg->advisor_key_credential);
			return -ENOENT;
		}
		if (asprintf(&path, "%s/%s", dir, cfg->advisor_key_credential) < 0)
			path = NULL;
	} else
		return 0;
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "API key %s: %s", path, strerror(-r));
	} else {
		r = read_key(fd, path, key, err, errlen);
		close(fd);
	}
	free(path);
	return r;
}

void llm_key_free(char *key)
{
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
}

char *llm_key_header(const char *name, const char *prefix, const char *key)
{
	char *h;

	if (asprintf(&h, "%s: %s%s", name, prefix, key) < 0)
		return NULL;
	return h;
}

long llm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int llm_wait_retry(const char *what, long delay_ms, long t0_ms, long timeout_ms,
		   char *err, size_t errlen)
{
	long left = timeout_ms - (llm_now_ms() - t0_ms);
	long until;

	if (delay_ms < 0)
		delay_ms = 0;
	if (delay_ms + 1000 > left) {
		snprintf(err, errlen, "%s: retry in %.1f s does not fit the %.1f s left",
			 what, (double)delay_ms / 1000.0, left > 0 ? (double)left / 1000.0 : 0.0);
		return -ETIMEDOUT;
	}
	until = llm_now_ms() + delay_ms;
	for (long now = llm_now_ms(); now < until; now = llm_now_ms()) {
		long step = until - now < 100 ? until - now : 100;
		struct timespec ts = { 0, step * 1000000L };

		if (http_cancelled()) {
			snprintf(err, errlen, "%s: cancelled: ipad is stopping", what);
			return -ECANCELED;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

int llm_post(struct http_client *hc, const char *what, const char *url,
	     const char *const *headers, const char *json, long t0_ms,
	     long timeout_ms, struct http_response *resp, char *err, size_t errlen)
{
	const char *h[8] = { "Content-Type: application/json",
			     "Accept: application/json" };
	struct http_request req = { 0 };
	size_t n = 2;
	long left = timeout_ms - (llm_now_ms() - t0_ms);
	char msg[512];
	int r;

	for (; headers && *headers && n + 1 < sizeof(h) / sizeof(h[0]); headers++)
		h[n++] = *headers;
	h[n] = NULL;
	if (left <= 0) {
		snprintf(err, errlen, "%s: the advisor's time budget is spent", what);
		return -ETIMEDOUT;
	}
	req.method = "POST";
	req.url = url;
	req.headers = h;
	req.body = json;
	req.body_len = strlen(json);
	req.timeout_ms = left;
	r = http_do(hc, &req, resp, msg, sizeof(msg));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", what, msg);
	return r;
}

const char *llm_excerpt(const char *s, char *buf, size_t len)
{
	size_t i, j = 0;

	for (i = 0; s && s[i] && j + 4 < len && i < 60; i++)
		buf[j++] = ((unsigned char)s[i] < 0x20) ? ' ' : s[i];
	if (s && s[i] && j + 4 < len) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
	return buf;
}
