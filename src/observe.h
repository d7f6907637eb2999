/* observe — what ipad knows about one target right now: the Deployment and
 * its pods from the Kubernetes API, usage and traffic from Prometheus.
 *
 * Unknown is never zero: every metric that Prometheus could not give
 * (error, empty result, NaN) stays NAN and is listed in metrics_missing. */
#ifndef IPAD_OBSERVE_H
#define IPAD_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "kube.h"
#include "resources.h"
#include "target.h"

struct container_observation {
	char *name;              /* owned */
	struct resources current;/* from the pod template */
	double cpu_cores;        /* mean usage per pod with data, cores; NAN */
	double memory_bytes;     /* largest working set of any pod, bytes; NAN */
	int pods_with_cpu;       /* pods that reported CPU for this container */
	int restarts;            /* sum of restartCount over the pods */
	int oom_kills;           /* pods whose last termination of it was
				    OOMKilled (status.containerStatuses[]
				    .lastState.terminated.reason) */
	double throttling;       /* throttled CFS periods over all periods
				    in the window, 0..1; NAN: unknown (no
				    CPU limit, or no data) */
};

struct observation {
	char *uid;                   /* the Deployment's metadata.uid (owned),
					or NULL */
	bool paused;                 /* metadata.annotations carries
					IPA_PAUSED_ANNOTATION (ipa.h): "true" */
	int32_t replicas;            /* spec.replicas */
	int32_t status_replicas;     /* status.replicas */
	int32_t updated_replicas;    /* status.updatedReplicas */
	int32_t ready_replicas;      /* status.readyReplicas */
	int32_t available_replicas;  /* status.availableReplicas */
	bool rollout_in_progress;
	char *rollout_reason;        /* owned sentence, or NULL */
	char *primary_container;     /* the container advice is for (borrowed
					from containers[]) */
	struct container_observation *containers; /* owned, template order */
	size_t container_count;
	size_t pod_count;            /* pods matching the selector */

	double request_rate;         /* ingress requests per second, NAN */
	double node_memory_allocatable_max; /* bytes, largest node, NAN */
	double node_cpu_allocatable_max;    /* cores, largest node, NAN */
	double node_memory_available_max;   /* bytes, most available, NAN */
	char *metrics_missing;       /* owned: "CPU usage (empty result), ..."
					or NULL when every metric arrived */
	char *metrics_error;         /* first Prometheus error text, or NULL */
};

/* Fill o from a Deployment object (apps/v1 JSON). container selects the
 * primary container (NULL: the kubectl.kubernetes.io/default-container
 * annotation, else the first). Quantities that do not parse are errors
 * (-EINVAL) naming the container and field. Metrics are set to NAN.
 * o is always safe to free. */
int observe_parse_deployment(const cJSON *deployment, const char *container,
			     struct observation *o, char *err, size_t errlen);

/* Observe target t: GET the Deployment, list its pods by the selector, then
 * query Prometheus (CPU and working set per container with container!=""
 * and namespace filters, rates over window_s seconds, CFS throttling per
 * container over the same window, the ingress request
 * rate in both the `namespace`
 * and `exported_namespace` label shapes, node capacity). timeout_ms caps
 * each request. Returns 0, or a negative errno when the Deployment cannot
 * be read (err names the object and the API's message). Prometheus
 * failures do not fail the call: they leave NAN and metrics_missing. */
int observe_target(const struct target *t, struct kube_cluster *k,
		   struct http_client *hc, long timeout_ms, long window_s,
		   struct observation *o, char *err, size_t errlen);

/* The primary container's observation. */
const struct container_observation *observation_primary(const struct observation *o);

/* CPU utilization of the pods in percent of their CPU requests, HPA's way:
 * sum of usage over sum of requests of the containers that have both; NAN
 * when no container has a request and data. */
double observation_cpu_utilization(const struct observation *o);

void observation_free(struct observation *o);

#endif
