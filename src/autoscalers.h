/* autoscalers — other autoscalers of the same Deployment: an
 * autoscaling/v2 HorizontalPodAutoscaler (KEDA's keda-hpa-* included)
 * owns the replicas, an autoscaling.k8s.io/v1 VerticalPodAutoscaler the
 * resources. ipad must not fight them. */
#ifndef IPAD_AUTOSCALERS_H
#define IPAD_AUTOSCALERS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "guardrails.h"
#include "http.h"
#include "kube.h"

/* The names of the items of a HorizontalPodAutoscalerList (ref_field
 * "scaleTargetRef") or VerticalPodAutoscalerList ("targetRef") whose
 * spec.REF has kind Deployment, the name deployment and an apiVersion of
 * group apps ("apps/v1"), ", "-separated into names ("" when none; VPAs
 * whose spec.updatePolicy.updateMode is "Off" only recommend and are not
 * counted). Returns how many matched. */
int autoscalers_match(const cJSON *list, const char *ref_field,
		      const char *deployment, char *names, size_t len);

/* GET the HPAs (vpa 0) or VPAs (vpa 1) of namespace ns: the list object
 * (owned by the caller) or NULL. A 404 (the API is not served, e.g. no
 * VPA installed) gives an empty list; other failures NULL with err set. */
cJSON *autoscalers_list(struct kube_cluster *k, struct http_client *hc,
			long timeout_ms, const char *ns, int vpa,
			char *err, size_t errlen);

/* Whether ipad must hold a target of mode `mode` given the HPAs and VPAs
 * found (names, "" when none): an HPA holds everything but ResourcesOnly,
 * a VPA everything but ReplicasOnly. The sentence for the record and the
 * Event goes into why. Returns 1 to hold, 0 not to. */
int autoscalers_hold(enum ipa_mode mode, const char *hpas, const char *vpas,
		     char *why, size_t len);

#endif
