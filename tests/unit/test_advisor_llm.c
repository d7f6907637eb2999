/* Unit tests of the LLM advisors' answer parsing (advice_from_llm_text,
 * Gemini and OpenAI-compatible answers), the schema in each dialect and the
 * API key loading. An answer is accepted whole or rejected whole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "advisor_gemini.h"
#include "advisor_llm.h"
#include "advisor_openai.h"
#include "tempfiles.h"

#define MI (INT64_C(1024) * 1024)

static const char *const names[] = { "app", "sidecar" };
static const struct llm_call call = { .base_url = "http://127.0.0.1:1",
	.model = "m", .prompt = "replicas: spec 2", .containers = names,
	.container_count = 2, .timeout_ms = 1000 };

#define GOOD "{\"replicas\":4,\"containers\":[{\"name\":\"app\",\"cpu_request\":\"250m\"," \
	"\"cpu_limit\":\"500m\",\"memory_request\":\"1G\",\"memory_limit\":\"2Gi\"}]," \
	"\"rationale\":\"busy\",\"confidence\":0.8}"

static void test_good_answer(void **state)
{
	struct advice a;
	char err[256];

	(void)state;
	assert_int_equal(advice_from_llm_text(GOOD, names, 2, &a, err, sizeof(err)), 0);
	assert_int_equal(a.replicas, 4);
	assert_int_equal(a.container_count, 1);
	assert_string_equal(a.containers[0].name, "app");
	assert_int_equal(a.containers[0].r.cpu_request_m, 250);
	assert_int_equal(a.containers[0].r.cpu_limit_m, 500);
	assert_int_equal(a.containers[0].r.memory_request_b, INT64_C(1000000000));
	assert_int_equal(a.containers[0].r.memory_limit_b, 2048 * MI);
	assert_string_equal(a.rationale, "confidence 0.80: busy");
	advice_free(&a);

	/* replicas only; confidence null */
	assert_int_equal(advice_from_llm_text("{\"replicas\":0,\"containers\":[],"
		"\"rationale\":\"idle\",\"confidence\":null}", names, 2, &a, err,
		sizeof(err)), 0);
	assert_int_equal(a.replicas, 0);
	assert_int_equal(a.container_count, 0);
	assert_string_equal(a.rationale, "idle");
	advice_free(&a);
}

#define C(q) "{\"replicas\":3,\"containers\":[{\"name\":\"app\"," q "}],\"rationale\":\"r\"}"
#define Q(cr, cl, mr, ml) "\"cpu_request\":" cr ",\"cpu_limit\":" cl \
	",\"memory_request\":" mr ",\"memory_limit\":" ml

struct bad { const char *text, *expect; };

static const struct bad corpus[] = {
	{ "{\"replicas\":1e12,\"containers\":[],\"rationale\":\"r\"}", "out of range" },
	{ "{\"replicas\":-3,\"containers\":[],\"rationale\":\"r\"}", "out of range" },
	{ "{\"replicas\":\"5\",\"containers\":[],\"rationale\":\"r\"}", "whole number" },
	{ "{\"replicas\":2.7,\"containers\":[],\"rationale\":\"r\"}", "whole number" },
	{ C(Q("\"0\"", "\"1\"", "\"1Gi\"", "\"1Gi\"")), "above zero" },
	{ C(Q("\"-1\"", "\"1\"", "\"1Gi\"", "\"1Gi\"")), "above zero" },
	{ C(Q("\"1\"", "\"1\"", "\"256MB\"", "\"1Gi\"")), "memory_request" },
	{ C(Q("\"1\"", "\"1\"", "\"\"", "\"1Gi\"")), "memory_request" },
	{ C(Q("\"2\"", "\"1\"", "\"1Gi\"", "\"1Gi\"")), "above the limit" },
	{ C(Q("\"1\"", "\"1\"", "\"2Gi\"", "\"1Gi\"")), "above the limit" },
	{ C(Q("1", "\"1\"", "\"1Gi\"", "\"1Gi\"")), "quantity string" },
	{ C("\"cpu_request\":\"1\""), "cpu_limit is missing" },
	{ C(Q("\"1\"", "\"1\"", "\"1Gi\"", "\"1Gi\"") ",\"gpu\":\"1\""), "unexpected field \"gpu\"" },
	{ "{\"replicas\":3,\"containers\":[],\"rationale\":\"r\",\"extra\":1}", "unexpected field" },
	{ "{\"containers\":[],\"rationale\":\"r\"}", "replicas is missing" },
	{ "{\"replicas\":3,\"rationale\":\"r\"}", "containers" },
	{ "{\"replicas\":3,\"containers\":[]}", "rationale" },
	{ "{\"replicas\":3,\"containers\":[],\"rationale\":\"r\",\"confidence\":2}", "confidence" },
	{ "{\"replicas\":3,\"containers\":[{\"name\":\"db\"," Q("\"1\"", "\"1\"", "\"1Gi\"",
	  "\"1Gi\"") "}],\"rationale\":\"r\"}", "\"db\" is not in the Deployment" },
	{ "{\"replicas\":3,\"containers\":[{\"name\":\"app\"," Q("\"1\"", "\"1\"", "\"1Gi\"",
	  "\"1Gi\"") "},{\"name\":\"app\"," Q("\"1\"", "\"1\"", "\"1Gi\"", "\"1Gi\"")
	  "}],\"rationale\":\"r\"}", "twice" },
	{ "I recommend 4 replicas and 250m of CPU.", "not one JSON object" },
	{ "```json\n" GOOD "\n```", "not one JSON object" },
	{ GOOD " and more", "not one JSON object" },
	{ "[" GOOD "]", "not one JSON object" },
	{ "", "not one JSON object" },
};

static void test_corpus(void **state)
{
	struct advice a;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		err[0] = '\0';
		int r = advice_from_llm_text(corpus[i].text, names, 2, &a, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, corpus[i].expect))
			fail_msg("case %zu (%s): r=%d err=%s", i, corpus[i].text, r, err);
		assert_int_equal(a.container_count, 0);
		assert_null(a.containers);
		assert_null(a.rationale);
	}
}

/* A Gemini answer whose text part holds t (JSON-escaped by the caller). */
#define GEM(parts, finish) "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[" \
	parts "]},\"finishReason\":\"" finish "\"}],\"usageMetadata\":{\"promptTokenCount\":" \
	"100,\"candidatesTokenCount\":20,\"totalTokenCount\":120}}"
#define GOOD_ESC "{\\\"replicas\\\":4,\\\"containers\\\":[],\\\"rationale\\\":\\\"busy\\\"}"

static void test_gemini(void **state)
{
	struct advice a;
	char err[256];
	long retry;

	(void)state;
	/* thought parts skipped, the rest joined */
	assert_int_equal(advisor_gemini_parse(200, GEM(
		"{\"text\":\"I think 99 replicas\",\"thought\":true},"
		"{\"text\":\"{\\\"replicas\\\":4,\\\"containers\\\":[],\"},"
		"{\"text\":\"\\\"rationale\\\":\\\"busy\\\"}\"}", "STOP"), -1, &call, &a,
		&retry, err, sizeof(err)), 0);
	assert_int_equal(a.replicas, 4);
	assert_int_equal(a.tokens, 120);
	advice_free(&a);

	assert_int_equal(advisor_gemini_parse(200, GEM("{\"text\":\"" GOOD_ESC "\"}",
		"SAFETY"), -1, &call, &a, &retry, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "SAFETY"));
	assert_int_equal(advisor_gemini_parse(200, "{\"candidates\":[{\"finishReason\":"
		"\"MAX_TOKENS\"}]}", -1, &call, &a, &retry, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "MAX_TOKENS"));
	assert_int_equal(advisor_gemini_parse(200, "{\"promptFeedback\":{\"blockReason\":"
		"\"PROHIBITED_CONTENT\"}}", -1, &call, &a, &retry, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "blocked the prompt: blockReason PROHIBITED_CONTENT"));
	assert_int_equal(advisor_gemini_parse(200, GEM("{\"text\":\"sure!\"}", "STOP"), -1,
		&call, &a, &retry, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Gemini advice rejected"));
	assert_int_equal(advisor_gemini_parse(200, GEM("{\"text\":\"x\",\"thought\":true}",
		"STOP"), -1, &call, &a, &retry, err, sizeof(err)), -EBADMSG);
	assert_int_equal(advisor_gemini_parse(429, "{\"error\":{\"code\":429,\"message\":"
		"\"Quota exceeded\",\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":"
		"\"type.googleapis.com/google.rpc.QuotaFailure\"},{\"@type\":"
		"\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"1.5s\"}]}}", -1,
		&call, &a, &retry, err, sizeof(err)), -EAGAIN);
	assert_int_equal(retry, 1500);
	assert_non_null(strstr(err, "429 RESOURCE_EXHAUSTED: Quota exceeded"));
	assert_int_equal(advisor_gemini_parse(400, "{\"error\":{\"code\":400,\"message\":"
		"\"API key not valid.\",\"status\":\"INVALID_ARGUMENT\"}}", -1, &call, &a,
		&retry, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "HTTP 400 INVALID_ARGUMENT: API key not valid."));
}

#define OAI(content, finish) "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0," \
	"\"message\":{\"role\":\"assistant\",\"reasoning_content\":\"99 replicas?\"," \
	"\"content\":" content "},\"finish_reason\":\"" finish "\"}],\"usage\":" \
	"{\"prompt_tokens\":100,\"completion_tokens\":30,\"total_tokens\":130}}"

static void test_openai(void **state)
{
	struct advice a;
	char err[256];
	long retry;

	(void)state;
	assert_int_equal(advisor_openai_parse(200, OAI("\"" GOOD_ESC "\"", "stop"), -1,
		&call, &a, &retry, err, sizeof(err)), 0);
	assert_int_equal(a.replicas, 4);
	assert_int_equal(a.tokens, 130);
	advice_free(&a);
	assert_int_equal(advisor_openai_parse(200, OAI("\"" GOOD_ESC "\"", "length"), -1,
		&call, &a, &retry, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "finish_reason length"));
	assert_int_equal(advisor_openai_parse(200, OAI("null,\"refusal\":\"I can't help\"",
		"stop"), -1, &call, &a, &retry, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "refused: I can't help"));
	assert_int_equal(advisor_openai_parse(200, OAI("\"```json\\n{}\\n```\"", "stop"), -1,
		&call, &a, &retry, err, sizeof(err)), -EINVAL);
	assert_int_equal(advisor_openai_parse(400, "{\"object\":\"error\",\"message\":"
		"\"model m does not exist\",\"type\":\"NotFoundError\",\"code\":404}", -1,
		&call, &a, &retry, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "HTTP 400: model m does not exist"));
	assert_int_equal(advisor_openai_parse(400, "{\"error\":{\"message\":\"'response_format."
		"type' must be 'json_object'\",\"type\":\"invalid_request_error\"}}", -1, &call,
		&a, &retry, err, sizeof(err)), -ENOTSUP);
	assert_int_equal(advisor_openai_parse(503, "{\"error\":{\"message\":\"Loading model\","
		"\"type\":\"unavailable_error\",\"code\":503}}", -1, &call, &a, &retry, err,
		sizeof(err)), -EAGAIN);
	assert_int_equal(retry, 1000);
	assert_int_equal(advisor_openai_parse(429, "{\"error\":{\"message\":\"slow down\"}}",
		3, &call, &a, &retry, err, sizeof(err)), -EAGAIN);
	assert_int_equal(retry, 3000);
	assert_int_equal(advisor_openai_parse(502, "<html>bad gateway</html>", -1, &call, &a,
		&retry, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "HTTP 502: <html>bad gateway</html>"));
}

static void test_schemas(void **state)
{
	char *g, *o, *j;

	(void)state;
	g = advisor_gemini_request(&call);
	o = advisor_openai_request(&call, false);
	j = advisor_openai_request(&call, true);
	assert_non_null(g);
	assert_non_null(o);
	assert_non_null(j);
	assert_non_null(strstr(g, "\"responseSchema\":{\"type\":\"OBJECT\""));
	assert_non_null(strstr(g, "\"responseMimeType\":\"application/json\""));
	assert_non_null(strstr(g, "\"enum\":[\"app\",\"sidecar\"]"));
	assert_null(strstr(g, "additionalProperties"));
	assert_null(strstr(g, "\"object\""));
	assert_non_null(strstr(o, "\"strict\":true"));
	assert_non_null(strstr(o, "\"additionalProperties\":false"));
	assert_non_null(strstr(o, "\"required\":[\"replicas\",\"containers\",\"rationale\","
			       "\"confidence\"]"));
	assert_non_null(strstr(o, "\"stream\":false"));
	assert_non_null(strstr(j, "\"response_format\":{\"type\":\"json_object\"}"));
	free(g);
	free(o);
	free(j);
}

static void test_keys(void **state)
{
	struct ipad_config cfg = { 0 };
	char err[256], *key = NULL, path[128];

	(void)state;
	cfg.advisor_key_file = path;
	snprintf(path, sizeof(path), "%s", write_temp("key", "  sk-secret-1\n\n", 15));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(llm_key_load(&cfg, &key, err, sizeof(err)), -EPERM);
	assert_null(key);
	assert_non_null(strstr(err, "readable by others"));
	assert_null(strstr(err, "sk-secret"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(llm_key_load(&cfg, &key, err, sizeof(err)), 0);
	assert_string_equal(key, "sk-secret-1");
	llm_key_free(key);

	snprintf(path, sizeof(path), "%s", write_temp("empty", " \n", 2));
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(llm_key_load(&cfg, &key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is empty"));

	cfg.advisor_key_file = NULL;
	cfg.advisor_key_credential = "advisor";
	unsetenv("CREDENTIALS_DIRECTORY");
	assert_int_equal(llm_key_load(&cfg, &key, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "CREDENTIALS_DIRECTORY"));
	snprintf(path, sizeof(path), "%s/creds", temp_dir());
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s", write_temp("creds/advisor", "AIza-2", 6));
	assert_int_equal(chmod(path, 0400), 0);
	setenv("CREDENTIALS_DIRECTORY", strcat(strcpy(path, temp_dir()), "/creds"), 1);
	assert_int_equal(llm_key_load(&cfg, &key, err, sizeof(err)), 0);
	assert_string_equal(key, "AIza-2");
	llm_key_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_answer),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_gemini),
		cmocka_unit_test(test_openai),
		cmocka_unit_test(test_schemas),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
