/* guardrails — the per-target settings that bound what an advice may do,
 * with HPA's and VPA's names and defaults where they fit
 * (autoscaling/v2 HorizontalPodAutoscalerBehavior, VPA
 * ContainerResourcePolicy). Defaults come from [defaults] in ipad.conf
 * (kebab-case keys) and each IPA item may override them (camelCase);
 * documented in ipad.conf(5) and ipad.ipa(5). policy.c applies them. */
#ifndef IPAD_GUARDRAILS_H
#define IPAD_GUARDRAILS_H

#include <stdint.h>

#include "resources.h"

/* What ipad may change on a target. */
enum ipa_mode {
	MODE_AUTO = 0,        /* replicas and resources */
	MODE_RECOMMEND,       /* decide and record, never act */
	MODE_REPLICAS_ONLY,
	MODE_RESOURCES_ONLY,
};

/* What to do when the advisor fails or its answer is refused. */
enum fallback_kind {
	FALLBACK_BUILTIN = 0, /* the built-in HPA-style policy advises */
	FALLBACK_HOLD,
};

/* VPA's controlledValues: whether limits follow the requests. */
enum controlled_values {
	CONTROLLED_REQUESTS_AND_LIMITS = 0,
	CONTROLLED_REQUESTS_ONLY,
};

/* HPA's selectPolicy. */
enum select_policy { SELECT_MAX = 0, SELECT_MIN, SELECT_DISABLED };

/* One direction of HPA's behavior (scaleUp or scaleDown). A policy with
 * value 0 is absent; with neither policy the direction is unlimited. */
struct scaling_rules {
	int64_t stabilization_ms;   /* stabilizationWindowSeconds, 0 .. 1 h */
	int pods;                   /* Pods policy: replicas per period */
	int64_t pods_period_ms;     /* periodSeconds, 1 s .. 30 min */
	int percent;                /* Percent policy: percent per period */
	int64_t percent_period_ms;
	enum select_policy select;
};

struct guardrails {
	struct scaling_rules up, down;
	/* VPA minAllowed / maxAllowed of the advised container's requests;
	 * millicores and bytes, RESOURCE_UNSET: no bound. */
	int64_t min_cpu_m, max_cpu_m;
	int64_t min_memory_b, max_memory_b;
	enum controlled_values controlled;
	int memory_margin_percent;  /* above the recent peak working set */
	int resize_threshold_percent; /* smallest resource change applied */
	int64_t resize_cooldown_ms; /* at most one resize per cooldown */
	enum ipa_mode mode;
	enum fallback_kind fallback;
};

/* HPA's defaults: up 0 s window, 4 pods or 100 % per 15 s, Max; down
 * 300 s window, 100 % per 15 s; no resource bounds; RequestsAndLimits;
 * memory margin 15 %; resize threshold 15 %; cooldown 30 min; Auto;
 * fallback builtin. */
static inline struct guardrails guardrails_defaults(void)
{
	struct guardrails g = {
		.up = { 0, 4, 15000, 100, 15000, SELECT_MAX },
		.down = { 300000, 0, 15000, 100, 15000, SELECT_MAX },
		.min_cpu_m = RESOURCE_UNSET, .max_cpu_m = RESOURCE_UNSET,
		.min_memory_b = RESOURCE_UNSET, .max_memory_b = RESOURCE_UNSET,
		.controlled = CONTROLLED_REQUESTS_AND_LIMITS,
		.memory_margin_percent = 15,
		.resize_threshold_percent = 15,
		.resize_cooldown_ms = 30 * 60 * 1000,
		.mode = MODE_AUTO,
		.fallback = FALLBACK_BUILTIN,
	};
	return g;
}

/* The values as written in the INI and the IPA YAML, indexed by the enums
 * and NULL-terminated: "Auto"..., "builtin"/"hold", "RequestsAndLimits"/
 * "RequestsOnly", "Max"/"Min"/"Disabled". */
extern const char *const ipa_mode_names[];
extern const char *const fallback_names[];
extern const char *const controlled_values_names[];
extern const char *const select_policy_names[];

#endif
