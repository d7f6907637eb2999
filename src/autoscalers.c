/* autoscalers — see autoscalers.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoscalers.h"

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "apps/v1" and "apps" are group apps; "v1" (core) and others are not. */
static int group_apps(const char *api_version)
{
	size_t n;

	if (!api_version)
		return 0;
	n = strcspn(api_version, "/");
	return n == 4 && strncmp(api_version, "apps", 4) == 0;
}

int autoscalers_match(const cJSON *list, const char *ref_field,
		      const char *deployment, char *names, size_t len)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items"), *it;
	int n = 0;

	if (len)
		names[0] = '\0';
	cJSON_ArrayForEach(it, items) {
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(it, "spec");
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(spec, ref_field);
		const cJSON *up = cJSON_GetObjectItemCaseSensitive(spec, "updatePolicy");
		const char *kind = str(ref, "kind"), *name = str(ref, "name");
		const char *mode = str(up, "updateMode");
		const char *own = str(cJSON_GetObjectItemCaseSensitive(it, "metadata"), "name");
		size_t used = strlen(names);

		if (!kind || !name || strcmp(kind, "Deployment") != 0 ||
		    strcmp(name, deployment) != 0 || !group_apps(str(ref, "apiVersion")))
			continue;
		if (strcmp(ref_field, "targetRef") == 0 && mode && strcmp(mode, "Off") == 0)
			continue;
		n++;
		if (used < len)
			snprintf(names + used, len - used, "%s%s", used ? ", " : "",
				 own ? own : "?");
	}
	return n;
}

cJSON *autoscalers_list(struct kube_cluster *k, struct http_client *hc,
			long timeout_ms, const char *ns, int vpa,
			char *err, size_t errlen)
{
	char *path = vpa ? kube_path("/apis/autoscaling.k8s.io/v1", ns,
				     "verticalpodautoscalers", NULL, NULL)
			 : kube_path("/apis/autoscaling/v2", ns,
				     "horizontalpodautoscalers", NULL, NULL);
	struct kube_result res = { 0 };
	cJSON *list = NULL;
	int r;

	if (!path) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r = kube_request(k, hc, "GET", path, NULL, NULL, timeout_ms, &res, err, errlen);
	if (r == 0) {
		list = res.object;
		res.object = NULL;
	} else if (r == -ENOENT) {
		list = cJSON_CreateObject();
	}
	kube_result_free(&res);
	free(path);
	return list;
}

int autoscalers_hold(enum ipa_mode mode, const char *hpas, const char *vpas,
		     char *why, size_t len)
{
	int hpa = hpas && *hpas, vpa = vpas && *vpas;

	if (len)
		why[0] = '\0';
	if ((!hpa || mode == MODE_RESOURCES_ONLY) && (!vpa || mode == MODE_REPLICAS_ONLY))
		return 0;
	if (hpa && vpa)
		snprintf(why, len, "HorizontalPodAutoscaler %s also scales and "
			 "VerticalPodAutoscaler %s also resizes this Deployment: "
			 "ipad holds it", hpas, vpas);
	else if (hpa)
		snprintf(why, len, "HorizontalPodAutoscaler %s also scales this Deployment: "
			 "ipad holds it (mode ResourcesOnly leaves the replicas to it)", hpas);
	else
		snprintf(why, len, "VerticalPodAutoscaler %s also resizes this Deployment: "
			 "ipad holds it (mode ReplicasOnly leaves the resources to it)", vpas);
	return 1;
}
