/* guardrails — see guardrails.h. */
#include <stddef.h>

#include "guardrails.h"

const char *const ipa_mode_names[] = { "Auto", "Recommend", "ReplicasOnly",
				       "ResourcesOnly", NULL };
const char *const fallback_names[] = { "builtin", "hold", NULL };
const char *const controlled_values_names[] = { "RequestsAndLimits",
						"RequestsOnly", NULL };
const char *const select_policy_names[] = { "Max", "Min", "Disabled", NULL };
