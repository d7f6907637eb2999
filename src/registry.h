/* registry — the one list of targets of a cycle: the targets of the IPA
 * files and those of the IPA objects watched in each cluster (informer.h).
 *
 * One Deployment (cluster, namespace, name) has one autoscaler. When two
 * claim it — a file and an IPA object, or two IPA objects — the first
 * claimant keeps it: the one that held it at the previous build, else a
 * file (files are checked against each other at load, see ipa.h), else
 * the IPA object created first (metadata.creationTimestamp, then
 * namespace/name). A later claimant's target is still listed, with
 * `refused` saying who holds the Deployment, so that the scheduler records
 * the refusal and the refused IPA gets a status and an Event. */
#ifndef IPAD_REGISTRY_H
#define IPAD_REGISTRY_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "target.h"

/* Who held each Deployment at the last build. */
struct registry;

/* An empty registry, or NULL when out of memory. */
struct registry *registry_new(void);
void registry_free(struct registry *r);

/* The IPA objects of one cluster: JSON texts as informer_objects() gives
 * them (borrowed). */
struct registry_objects {
	char **objects;
	size_t count;
};

/* An IPA object that gives no target because its spec has an error:
 * it gets a status saying so (status_invalid()). */
struct registry_rejection {
	int cluster;              /* index in cfg->clusters */
	char *namespace, *name;
	long long generation;     /* metadata.generation, >= 1 */
	char *message;            /* its first error, without the object's name */
};

struct registry_rejections {
	struct registry_rejection *items;
	size_t count;
};

void registry_rejections_free(struct registry_rejections *r);

/* Build *out (which must be empty) from copies of files' targets and the
 * targets of objects[i], the IPA objects of cfg->clusters[i] (objects may
 * be NULL: no cluster watches any). An object with a problem contributes
 * no target; its problems are appended to d ("cluster NAME: IPA NS/NAME:
 * ...", see ipa_load_object()), it is appended to *rejected (which must
 * be empty; may be NULL) and the others still count. r then remembers
 * who holds each Deployment. Returns 0 (problems allowed) or -ENOMEM (out
 * and rejected are then empty and r unchanged). */
int registry_build(struct registry *r, const struct ipad_config *cfg,
		   const struct target_list *files,
		   const struct registry_objects *objects,
		   struct target_list *out, struct registry_rejections *rejected,
		   struct diag *d);

#endif
