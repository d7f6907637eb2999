/* advisor_builtin — see advisor_builtin.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advisor_builtin.h"

int advisor_builtin(const struct observation *o, double target_utilization,
		    double tolerance, struct advice *out,
		    char *err, size_t errlen)
{
	double util = observation_cpu_utilization(o), ratio, desired;
	int32_t current = o->ready_replicas > 0 ? o->ready_replicas : o->replicas;
	char why[200];

	memset(out, 0, sizeof(*out));
	out->replicas = -1;
	if (isnan(util)) {
		snprintf(err, errlen, "no CPU utilization: no container has both a CPU "
			 "request and CPU usage data");
		return -ENODATA;
	}
	ratio = util / target_utilization;
	if (fabs(ratio - 1.0) <= tolerance || current <= 0) {
		out->replicas = o->replicas;
		snprintf(why, sizeof(why), "CPU %.0f%% of requests, target %.0f%%: "
			 "within tolerance %.2f, keep %d", util, target_utilization,
			 tolerance, o->replicas);
	} else {
		desired = ceil((double)current * ratio - 1e-9);
		if (desired > INT32_MAX)
			desired = INT32_MAX;
		out->replicas = (int32_t)desired;
		snprintf(why, sizeof(why), "CPU %.0f%% of requests, target %.0f%%: "
			 "%d ready × %.2f → %d", util, target_utilization, current,
			 ratio, out->replicas);
	}
	out->rationale = strdup(why);
	return out->rationale ? 0 : -ENOMEM;
}
