/* publish — see publish.h. */
#include "publish.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "journal.h"

/* The conditions last written into one IPA's status. */
struct ipa_conditions {
	char *key;                  /* "cluster/namespace/name" */
	cJSON *conditions;
};

struct publisher {
	struct ipa_conditions *ipas;
	size_t count;
};

/* Wall clock in Unix ms: condition times. */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct publisher *publisher_new(void)
{
	return calloc(1, sizeof(struct publisher));
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++) {
		free(p->ipas[i].key);
		cJSON_Delete(p->ipas[i].conditions);
	}
	free(p->ipas);
	free(p);
}

/* The memory of the IPA named key, added when new; NULL when out of memory. */
static struct ipa_conditions *conditions_of(struct publisher *p, const char *key)
{
	struct ipa_conditions *n;
	size_t i;

	for (i = 0; i < p->count; i++)
		if (strcmp(p->ipas[i].key, key) == 0)
			return &p->ipas[i];
	n = realloc(p->ipas, (p->count + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->ipas = n;
	n = &p->ipas[p->count];
	if (!(n->key = strdup(key)))
		return NULL;
	n->conditions = NULL;
	p->count++;
	return n;
}

/* The status of IPA object ns/name as it is now (after a restart or a
 * rebuild of the targets ipad has no memory of what it wrote), or NULL
 * when there is none or the object cannot be read. */
static cJSON *status_on_object(struct kube_cluster *k, struct http_client *hc,
			       const char *ns, const char *name, long timeout)
{
	char *path = kube_path("/apis/ipa.shafinhasnat.me/v1alpha1", ns, "ipas", name, NULL);
	struct kube_result res = { 0 };
	cJSON *c = NULL;
	char err[512];

	if (path && kube_request(k, hc, "GET", path, NULL, NULL, timeout, &res,
				 err, sizeof(err)) == 0)
		c = cJSON_DetachItemFromObjectCaseSensitive(res.object, "status");
	kube_result_free(&res);
	free(path);
	return c;
}

/* The conditions ipad last sent for IPA ns/name of cluster k (read from
 * the object when it has no memory of them: then *previous is the
 * object's status, else NULL; the caller frees it), or NULL when out of
 * memory. */
static struct ipa_conditions *remembered(struct publisher *p, struct kube_cluster *k,
					 struct http_client *hc, const char *ns,
					 const char *name, long timeout, cJSON **previous)
{
	char key[1024];
	struct ipa_conditions *mem;

	*previous = NULL;
	snprintf(key, sizeof(key), "%s/%s/%s", k->name, ns, name);
	mem = conditions_of(p, key);
	if (mem && !mem->conditions) {
		*previous = status_on_object(k, hc, ns, name, timeout);
		mem->conditions = cJSON_DetachItemFromObjectCaseSensitive(*previous, "conditions");
	}
	return mem;
}

/* PATCH st (owned) as the status of IPA ns/name through the status
 * subresource, and remember its conditions in mem (may be NULL). A
 * failure is a lifecycle warning naming the IPA; a 404 (the IPA was
 * deleted meanwhile) is silent. */
static void patch_status(struct kube_cluster *k, struct http_client *hc, long timeout,
			 const char *ns, const char *name, cJSON *st, struct ipa_conditions *mem)
{
	cJSON *body = cJSON_CreateObject();
	char err[512], *text = NULL, *path = NULL;
	int r;

	if (body && st && cJSON_AddItemToObject(body, "status", st)) {
		text = cJSON_PrintUnformatted(body);
		path = kube_path("/apis/ipa.shafinhasnat.me/v1alpha1", ns, "ipas", name, "status");
	} else {
		cJSON_Delete(st);
		st = NULL;
	}
	if (!text || !path) {
		journal_lifecycle(4, "IPA %s/%s: the status is not written: out of memory",
				  ns, name);
		goto out;
	}
	r = kube_request(k, hc, "PATCH", path, "application/merge-patch+json", text, timeout,
			 NULL, err, sizeof(err));
	if (r == 0 && mem) {
		cJSON_Delete(mem->conditions);
		mem->conditions = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(st, "conditions"),
						  true);
	} else if (r < 0 && r != -ENOENT) {
		journal_lifecycle(4, "IPA %s/%s (cluster %s): the status is not written: %s",
				  ns, name, k->name, err);
	}
out:
	cJSON_Delete(body);
	free(text);
	free(path);
}

void publish_ipa(struct publisher *p, struct kube_cluster *k, struct http_client *hc,
		 long timeout_ms, struct status_item **items, struct event_memory **mems,
		 size_t n)
{
	const struct target *t = items[0]->target;
	struct ipa_conditions *mem;
	cJSON *prev;
	char err[512];
	size_t i;

	for (i = 0; i < n; i++) {
		struct event_object io = events_ipa(items[i]->target);

		if (items[i]->state != STATUS_REFUSED)
			continue;
		if (events_emit(&io, k, hc, timeout_ms, "Warning", "ConflictingClaim",
				items[i]->target->refused, mems[i], err, sizeof(err)) < 0)
			journal_lifecycle(4, "IPA %s/%s: event ConflictingClaim not recorded: %s",
					  t->ipa_namespace, t->ipa_name, err);
	}
	mem = remembered(p, k, hc, t->ipa_namespace, t->ipa_name, timeout_ms, &prev);
	if (prev)
		for (i = 0; i < n; i++)
			status_item_resume(items[i], prev);
	cJSON_Delete(prev);
	patch_status(k, hc, timeout_ms, t->ipa_namespace, t->ipa_name,
		     status_compose((const struct status_item **)items, n,
				    mem ? mem->conditions : NULL, wall_ms()), mem);
}

void publish_invalid(struct publisher *p, struct kube_cluster *k, struct http_client *hc,
		     long timeout_ms, const struct registry_rejection *r)
{
	struct ipa_conditions *mem;
	cJSON *prev;

	mem = remembered(p, k, hc, r->namespace, r->name, timeout_ms, &prev);
	cJSON_Delete(prev);
	patch_status(k, hc, timeout_ms, r->namespace, r->name,
		     status_invalid(r->message, r->generation, mem ? mem->conditions : NULL,
				    wall_ms()), mem);
}
