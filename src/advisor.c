/* advisor — see advisor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "advisor.h"
#include "advisor_builtin.h"
#include "advisor_ipa_agent.h"
#include "prompt.h"

int advisor_advise(const struct ipad_config *cfg, const struct target *t,
		   const struct observation *o, struct http_client *hc,
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
		prompt = prompt_render(t, o);
		if (!prompt)
			return -ENOMEM;
		r = advisor_ipa_agent(hc, url, prompt, o->primary_container,
				      timeout_ms, out, err, errlen);
		free(prompt);
		return r;
	}
	snprintf(err, errlen, "unknown advisor");
	return -EINVAL;
}
