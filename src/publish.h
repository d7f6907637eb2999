/* publish — what ipad tells a cluster about its IPA objects after a
 * cycle: the .status of each IPA (composed by status.h), PATCHed through
 * the status subresource as application/merge-patch+json, and a Warning
 * Event ConflictingClaim on the IPA for each refused item (events.h,
 * aggregated like the others).
 *
 * A publisher remembers the conditions it last sent per IPA, so that a
 * condition's lastTransitionTime changes only when its status does (the
 * metav1.Condition convention); without that memory (after a restart or a
 * rebuild of the targets) it reads the object's status back first, which
 * also brings back each item's last action. A failure is a lifecycle
 * warning naming the IPA and never fails a cycle; a 404 (the IPA was
 * deleted meanwhile) is silent. Not thread-safe: one thread publishes. */
#ifndef IPAD_PUBLISH_H
#define IPAD_PUBLISH_H

#include <stddef.h>

#include "events.h"
#include "http.h"
#include "kube.h"
#include "registry.h"
#include "status.h"

struct publisher;

/* An empty publisher, or NULL when out of memory. */
struct publisher *publisher_new(void);
void publisher_free(struct publisher *p);

/* The status of one IPA object in cluster k from its n >= 1 items (all of
 * the same IPA, named by items[0]->target), and the Events of its refused
 * items, mems[i] being the event memory of items[i]'s target. Each call
 * takes at most timeout_ms. */
void publish_ipa(struct publisher *p, struct kube_cluster *k, struct http_client *hc,
		 long timeout_ms, struct status_item **items, struct event_memory **mems,
		 size_t n);

/* The InvalidSpec status (status_invalid()) of an IPA object in cluster k
 * that gives no target. */
void publish_invalid(struct publisher *p, struct kube_cluster *k, struct http_client *hc,
		     long timeout_ms, const struct registry_rejection *r);

#endif
