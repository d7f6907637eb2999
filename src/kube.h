/* kube — the Kubernetes REST client: authenticated requests against one
 * cluster and the API's Status errors turned into sentences.
 *
 * Follows the API conventions: errors are a metav1.Status object whose
 * `message` is what a user needs (reported with reason and code), 429
 * carries Retry-After. Objects are exchanged as cJSON trees. */
#ifndef IPAD_KUBE_H
#define IPAD_KUBE_H

#include <cjson/cJSON.h>

#include "http.h"
#include "kubeconfig.h"

struct kube_cluster {
	char *name;                    /* cluster name from the INI */
	struct kube_credentials creds; /* owned */
	struct http_tls tls;           /* points into creds */
	long request_timeout_ms;
};

/* Result of one API call. */
struct kube_result {
	long status;        /* HTTP status, 0 when no response */
	cJSON *object;      /* parsed body on 2xx (owned), else NULL */
	char *reason;       /* Status.reason on errors ("NotFound"), or NULL */
	long retry_after_s; /* from Retry-After / details.retryAfterSeconds, -1 */
};

/* Load the kubeconfig of one cluster (kubeconfig_load(): context NULL or ""
 * is the current-context) and point tls into its credentials.
 * request_timeout_ms <= 0 means 10 s. Returns 0 or -errno with err set;
 * k is always safe to pass to kube_cluster_free(). */
int kube_cluster_init(struct kube_cluster *k, const char *name,
		      const char *kubeconfig, const char *context,
		      long request_timeout_ms, char *err, size_t errlen);
void kube_cluster_free(struct kube_cluster *k);

/* One request: method, path ("/apis/apps/v1/namespaces/shop/deployments/web"),
 * optional JSON body with its Content-Type (e.g.
 * "application/strategic-merge-patch+json"). timeout_ms caps the call
 * (<= 0: the cluster's request timeout). Adds Authorization and
 * Accept: application/json, User-Agent ipad/VERSION.
 * Returns 0 on a 2xx answer with a JSON object body; otherwise a negative
 * errno (-ENOENT for 404, -EACCES 401/403, -EBUSY 409, -EAGAIN 429/5xx,
 * -EINVAL other 4xx, -EIO other statuses (redirects are not followed),
 * -EBADMSG for a 2xx body that is not a JSON object, transport errors as
 * from http_do) with err = "GET /apis/...: 404 NotFound:
 * deployments.apps \"web\" not found" (the Status message, then in
 * parentheses the details.causes whose message it does not contain;
 * an answer that is not a Status, e.g. a proxy's HTML page, gives
 * "HTTP 502 (not a Kubernetes Status: <its first 80 characters>)").
 * The query string is left out of messages. res may be NULL; when given it
 * is filled in all cases and must be freed with kube_result_free(). */
int kube_request(struct kube_cluster *k, struct http_client *hc,
		 const char *method, const char *path,
		 const char *content_type, const char *body, long timeout_ms,
		 struct kube_result *res, char *err, size_t errlen);

void kube_result_free(struct kube_result *r);

/* Percent-escape one path segment (namespace or name), RFC 3986
 * unreserved characters kept. malloc'ed, or NULL (errno EINVAL) for "",
 * "." and ".." which would change the path, or NULL on allocation error. */
char *kube_escape_segment(const char *s);

#endif
