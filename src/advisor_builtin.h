/* advisor_builtin — a deterministic, HPA-style replica policy so that ipad
 * works with no LLM at all.
 *
 * Implements the HorizontalPodAutoscaler resource-metric algorithm:
 * utilization = sum(CPU usage) / sum(CPU requests) over the containers that
 * have a request and data; ratio = utilization / target;
 * desired = ceil(ready × ratio), unchanged while |ratio − 1| <= tolerance.
 * It advises replicas only, never resources. */
#ifndef IPAD_ADVISOR_BUILTIN_H
#define IPAD_ADVISOR_BUILTIN_H

#include <stddef.h>

#include "advice.h"
#include "observe.h"

/* target_utilization in percent (> 0), tolerance in [0, 1).
 * Returns 0 with out->replicas set and a rationale ("CPU 91% of requests,
 * target 70%: 3 → 4"), or -ENODATA when no container has both a CPU request
 * and usage data (err says which), -ENOMEM. */
int advisor_builtin(const struct observation *o, double target_utilization,
		    double tolerance, struct advice *out,
		    char *err, size_t errlen);

#endif
