/* events — core/v1 Events on the target's Deployment, what `kubectl
 * describe deployment` lists: one per applied decision (SuccessfulRescale
 * "New size: N; reason: ...", SuccessfulResize) and warnings
 * (FailedRescale, FailedGetMetrics, AdvisorFailed, ConflictingAutoscaler);
 * and on an IPA object (ConflictingClaim).
 *
 * An Event is POSTed to /api/v1/namespaces/NS/events (NS: the involved
 * object's namespace), named "<object name>.<hex ns timestamp>", with
 * involvedObject {apiVersion, kind, name, namespace, uid} (apps/v1
 * Deployment, or ipa.shafinhasnat.me/v1alpha1 IPA), firstTimestamp = lastTimestamp,
 * count 1, source.component, reportingComponent "ipad" and
 * reportingInstance the host name. A warning identical (reason and
 * message) to the previous warning of that reason for the same target,
 * within EVENTS_AGGREGATE_S, is not created again: the existing Event's
 * count and lastTimestamp are PATCHed (a new one is created when it is
 * gone). The caller never fails a decision because of an Event. */
#ifndef IPAD_EVENTS_H
#define IPAD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "kube.h"
#include "target.h"

#define EVENTS_COMPONENT "ipad"
#define EVENTS_AGGREGATE_S 600       /* as client-go's EventCorrelator */
#define EVENTS_MEMORY_SLOTS 4

/* The object an Event is about (its involvedObject); strings borrowed. */
struct event_object {
	const char *api_version;     /* "apps/v1" */
	const char *kind;            /* "Deployment" */
	const char *namespace;       /* the Event's namespace too */
	const char *name;
	const char *uid;             /* or NULL */
};

/* t's Deployment (uid from the observation, may be NULL) / t's IPA
 * object (t->ipa_namespace must be set). */
struct event_object events_deployment(const struct target *t, const char *uid);
struct event_object events_ipa(const struct target *t);

/* The last warning of one reason, per target. */
struct event_memory_slot {
	char reason[32];
	char name[320];              /* the Event's metadata.name */
	char message[1024];
	int count;
	int64_t last_ms;             /* when it was last posted (Unix ms) */
};

struct event_memory {
	struct event_memory_slot slots[EVENTS_MEMORY_SLOTS];
};

/* The Event object as JSON text (malloc'ed, NULL on allocation failure)
 * about io, type "Normal" or "Warning", at (Unix ns) for the name and the
 * timestamps, instance for reportingInstance; the Event's name goes into
 * name. The message is cut at 1024 bytes. */
char *events_object(const struct event_object *io, const char *type,
		    const char *reason, const char *message, int64_t at_ns,
		    const char *instance, char *name, size_t namelen);

/* Post (or aggregate into mem, which may be NULL) one Event about io.
 * Returns 0, or a negative errno with err saying why. */
int events_emit(const struct event_object *io, struct kube_cluster *k,
		struct http_client *hc, long timeout_ms,
		const char *type, const char *reason, const char *message,
		struct event_memory *mem, char *err, size_t errlen);

#endif
