/* resources — a container's CPU and memory requests and limits in ipad's
 * integer units (millicores, bytes). RESOURCE_UNSET marks a value the
 * container does not set (Kubernetes: key absent from requests/limits). */
#ifndef IPAD_RESOURCES_H
#define IPAD_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#define RESOURCE_UNSET INT64_C(-1)

struct resources {
	int64_t cpu_request_m;      /* millicores or RESOURCE_UNSET */
	int64_t cpu_limit_m;
	int64_t memory_request_b;   /* bytes or RESOURCE_UNSET */
	int64_t memory_limit_b;
};

static inline struct resources resources_unset(void)
{
	struct resources r = { RESOURCE_UNSET, RESOURCE_UNSET,
			       RESOURCE_UNSET, RESOURCE_UNSET };
	return r;
}

static inline bool resources_equal(const struct resources *a,
				   const struct resources *b)
{
	return a->cpu_request_m == b->cpu_request_m &&
	       a->cpu_limit_m == b->cpu_limit_m &&
	       a->memory_request_b == b->memory_request_b &&
	       a->memory_limit_b == b->memory_limit_b;
}

#endif
