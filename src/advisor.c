/* advisor — see advisor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "advisor.h"
#include "advisor_builtin.h"
#include "advisor_gemini.h"
#include "advisor_ipa_agent.h"
#include "advisor_openai.h"
#include "prompt.h"

/* Gemini or an OpenAI-compatible server: the key, the prompt and the
 * container names for the call. */
static int advise_llm(const struct ipad_config *cfg, const struct target *t,
		      const struct observation *o, const struct history *h,
		      int64_t now_ms, struct http_client *hc,
		      long timeout_ms, struct advice *out, char *err, size_t errlen)
{
	struct llm_call c = { .base_url = cfg->advisor_url, .model = cfg->advisor_model,
			      .container_count = o->container_count,
			      .timeout_ms = timeout_ms };
	const char **names = calloc(o->container_count + 1, sizeof(*names));
	char *key = NULL, *prompt = NULL;
	int r;

	if (!names || !(prompt = prompt_render(t, o, h, now_ms)))
		r = -ENOMEM;
	else
		r = llm_key_load(cfg, &key, err, errlen);
	if (r == 0) {
		for (size_t i = 0; i < o->container_count; i++)
			names[i] = o->containers[i].name;
		c.containers = names;
		c.prompt = prompt;
		c.api_key = key;
		r = cfg->advisor == ADVISOR_GEMINI
			? advisor_gemini(hc, &c, out, err, errlen)
			: advisor_openai(hc, &c, out, err, errlen);
	} else if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	llm_key_free(key);
	free(prompt);
	free(names);
	return r;
}

int advisor_advise(const struct ipad_config *cfg, const struct target *t,
		   const struct observation *o, const struct history *h,
		   int64_t now_ms, struct http_client *hc,
		   long timeout_ms, struct advice *out, char *err, size_t errlen)
{
	const char *url;
	char *prompt;
	int r;

	switch (cfg->advisor) {
	case ADVISOR_BUILTIN:
		return advisor_builtin(o, cfg->target_cpu_utilization,
				       cfg->tolerance, out, err, errlen);
	case ADVISOR_IPA_AGENT:
		url = cfg->advisor_url ? cfg->advisor_url : t->llm_agent;
		if (!url) {
			snprintf(err, errlen, "no IPA agent URL: set llmAgent in %s "
				 "or url in [advisor]", t->source);
			return -EINVAL;
		}
		prompt = prompt_render(t, o, h, now_ms);
		if (!prompt)
			return -ENOMEM;
		r = advisor_ipa_agent(hc, url, prompt, o->primary_container,
				      timeout_ms, out, err, errlen);
		free(prompt);
		return r;
	case ADVISOR_GEMINI:
	case ADVISOR_OPENAI:
		return advise_llm(cfg, t, o, h, now_ms, hc, timeout_ms, out, err, errlen);
	}
	snprintf(err, errlen, "unknown advisor");
	return -EINVAL;
}
