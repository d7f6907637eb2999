/* act — applies a decision to the cluster.
 *
 * Replicas go through the scale subresource (PATCH .../deployments/NAME/scale,
 * application/merge-patch+json {"spec":{"replicas":N}}), which touches
 * nothing else. Resources go through one strategic-merge patch of the
 * Deployment that names the advised container and sets only its cpu and
 * memory requests/limits: other containers and other resources (GPUs,
 * ephemeral-storage) stay as they are. */
#ifndef IPAD_ACT_H
#define IPAD_ACT_H

#include <stddef.h>

#include "http.h"
#include "kube.h"
#include "policy.h"
#include "target.h"

/* The strategic-merge patch body for the decision's resources. malloc'ed
 * JSON text, NULL on allocation failure. */
char *act_resources_patch(const struct decision *d);

/* Apply d (scale, then resize). Returns 0, or a negative errno with err
 * saying what was applied and what failed ("scaled to 5; resize failed:
 * PATCH ...: 422 Invalid: ..."). ACTION_NONE and ACTION_HOLD do nothing. */
int act_apply(const struct target *t, struct kube_cluster *k,
	      struct http_client *hc, long timeout_ms,
	      const struct decision *d, char *err, size_t errlen);

#endif
