/* target — one autoscaling target: an ipaGroup item of an IPA object,
 * resolved against the daemon's defaults. The unit of work of a cycle. */
#ifndef IPAD_TARGET_H
#define IPAD_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "guardrails.h"

struct target {
	char *source;          /* where it was defined: "FILE:LINE:COL" */
	char *cluster;         /* cluster name from the INI */
	char *ipa_name;        /* IPA metadata.name */
	char *namespace;       /* Deployment namespace (ipaGroup[].namespace) */
	char *deployment;      /* Deployment name (ipaGroup[].deployment) */
	char *ingress;         /* ingress-nginx Ingress name, or NULL */
	char *container;       /* container the advice is for, or NULL:
				  the kubectl.kubernetes.io/default-container
				  annotation, else the first container */
	char *prometheus_uri;  /* base URL with scheme, never NULL after load */
	char *llm_agent;       /* IPA agent base URL ([advisor] url when set,
				  else the IPA's llmAgent), or NULL */
	int min_replicas;      /* >= 0 */
	int max_replicas;      /* >= max(min_replicas, 1) */
	struct guardrails guard; /* [defaults] with the item's overrides */
	/* Where the IPA object lives when it is a custom resource watched in
	 * the cluster (informer.h); NULL/0 for a target from a file. */
	char *ipa_namespace;   /* the IPA object's metadata.namespace */
	char *ipa_uid;         /* its metadata.uid, or NULL */
	long long ipa_generation; /* its metadata.generation, >= 1 */
	int ipa_item;          /* index of the item in spec.metadata.ipaGroup */
	bool paused;           /* the IPA object carries the annotation
				  ipa.shafinhasnat.me/paused: "true" */
	char *refused;         /* non-NULL: another IPA claimed the same
				  Deployment first; this claim is refused,
				  the sentence says by whom (registry.h) */
};

struct target_list {
	struct target *items;  /* owned */
	size_t count;
};

/* "namespace/deployment" into buf; returns buf. */
char *target_key(const struct target *t, char *buf, size_t len);

/* Free one target's strings (not the struct) / a whole list (and reset it). */
void target_free(struct target *t);
void target_list_free(struct target_list *l);

/* A deep copy of src into *dst. Returns 0, or -ENOMEM (then *dst holds
 * nothing to free). */
int target_copy(struct target *dst, const struct target *src);

/* Move *t to the end of l: l owns its strings afterwards and *t is reset.
 * Returns 0, or -ENOMEM (then *t is unchanged and still the caller's). */
int target_list_append(struct target_list *l, struct target *t);

/* Move every target of src to the end of dst and reset src. Returns 0, or
 * -ENOMEM (then both are unchanged). */
int target_list_splice(struct target_list *dst, struct target_list *src);

#endif
