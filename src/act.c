/* act — see act.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "act.h"
#include "quantity.h"

static int add_quantity(cJSON *map, const char *key, int64_t v, int cpu)
{
	char q[QUANTITY_BUFSZ];

	if (v == RESOURCE_UNSET)
		return 0;
	if (cpu)
		quantity_format_millicores(v, q, sizeof(q));
	else
		quantity_format_bytes(v, q, sizeof(q));
	return cJSON_AddStringToObject(map, key, q) ? 0 : -ENOMEM;
}

char *act_resources_patch(const struct decision *d)
{
	cJSON *root = cJSON_CreateObject(), *containers, *c, *res, *req, *lim;
	const struct resources *r = &d->resources_to;
	char *text = NULL;

	if (!root)
		return NULL;
	containers = cJSON_AddArrayToObject(
		cJSON_AddObjectToObject(
			cJSON_AddObjectToObject(
				cJSON_AddObjectToObject(root, "spec"), "template"),
			"spec"),
		"containers");
	c = cJSON_CreateObject();
	if (!containers || !c || !cJSON_AddItemToArray(containers, c))
		goto out;
	if (!cJSON_AddStringToObject(c, "name", d->container) ||
	    !(res = cJSON_AddObjectToObject(c, "resources")) ||
	    !(req = cJSON_AddObjectToObject(res, "requests")) ||
	    !(lim = cJSON_AddObjectToObject(res, "limits")) ||
	    add_quantity(req, "cpu", r->cpu_request_m, 1) < 0 ||
	    add_quantity(req, "memory", r->memory_request_b, 0) < 0 ||
	    add_quantity(lim, "cpu", r->cpu_limit_m, 1) < 0 ||
	    add_quantity(lim, "memory", r->memory_limit_b, 0) < 0)
		goto out;
	if (cJSON_GetArraySize(lim) == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(res, "limits");
	if (cJSON_GetArraySize(req) == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(res, "requests");
	text = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return text;
}

int act_apply(const struct target *t, struct kube_cluster *k,
	      struct http_client *hc, long timeout_ms,
	      const struct decision *d, char *err, size_t errlen)
{
	char *path = NULL, *body = NULL, msg[512];
	int r = 0;

	if (d->action == ACTION_SCALE || d->action == ACTION_SCALE_RESIZE) {
		path = kube_path("/apis/apps/v1", t->namespace, "deployments",
				 t->deployment, "scale");
		if (!path || asprintf(&body, "{\"spec\":{\"replicas\":%d}}", d->replicas_to) < 0) {
			r = -ENOMEM;
			goto out;
		}
		r = kube_request(k, hc, "PATCH", path, "application/merge-patch+json",
				 body, timeout_ms, NULL, msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "scale to %d failed: %s", d->replicas_to, msg);
			goto out;
		}
		free(path);
		free(body);
		path = body = NULL;
	}
	if (d->action == ACTION_RESIZE || d->action == ACTION_SCALE_RESIZE) {
		body = act_resources_patch(d);
		path = kube_path("/apis/apps/v1", t->namespace, "deployments",
				 t->deployment, NULL);
		if (!body || !path) {
			r = -ENOMEM;
			goto out;
		}
		r = kube_request(k, hc, "PATCH", path, "application/strategic-merge-patch+json",
				 body, timeout_ms, NULL, msg, sizeof(msg));
		if (r < 0)
			snprintf(err, errlen, "%sresize of container %s failed: %s",
				 d->action == ACTION_SCALE_RESIZE ? "scaled; " : "",
				 d->container, msg);
	}
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(path);
	free(body);
	return r;
}
