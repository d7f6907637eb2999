/* kube — the Kubernetes REST client: authenticated requests against one
 * cluster and the API's Status errors turned into sentences.
 *
 * Follows the API conventions: errors are a metav1.Status object whose
 * `message` is what a user needs (reported with reason and code), 429
 * carries Retry-After. Objects are exchanged as cJSON trees. */
#ifndef IPAD_KUBE_H
#define IPAD_KUBE_H

#include <pthread.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "kubeconfig.h"

struct kube_auth;           /* one loaded kubeconfig context (kube.c) */
struct kube_exec_cache;     /* an exec plugin's credential (kube.c) */
struct cluster_config;

/* One cluster as the workers share it. Credentials are loaded when first
 * needed and re-loaded (the kubeconfig files read again) when they may
 * have changed: after a 401, after a failed connection, and when a load
 * failed (at most every KUBE_RELOAD_S seconds). A user with an exec
 * credential plugin (execcred.h) has the plugin run when its credential
 * is first needed; the credential is kept across reloads until its
 * expirationTimestamp is near (KUBE_EXEC_MARGIN_S, kube.c) or a request
 * with it gets 401; one run per cluster at a time, a failed run is
 * remembered like a failed load. A cluster whose
 * connection failed is not tried again for KUBE_DOWN_S seconds: its
 * requests fail at once with the same error, so that one unreachable or
 * slow cluster does not occupy the workers. Thread-safe; never moved
 * after kube_cluster_init(). */
struct kube_cluster {
	char *name;                    /* cluster name from the INI */
	char *kubeconfig;              /* ':'-separated files */
	char *context;                 /* or NULL: current-context */
	long request_timeout_ms;
	pthread_mutex_t lock;          /* guards what follows */
	struct kube_auth *auth;        /* current credentials, or NULL */
	bool stale;                    /* auth to be loaded again */
	char *load_error;              /* why the last load failed, or NULL */
	int load_rc;
	double load_at;                /* monotonic s of the last load */
	char *down_error;              /* the last connection failure */
	int down_rc;
	double down_until;             /* monotonic s */
	struct kube_exec_cache *exec_cache; /* or NULL */
	unsigned exec_gen;             /* of the latest exec_cache */
	pthread_mutex_t exec_lock;     /* held while an exec plugin runs (taken
					  before lock, never while holding it) */
};

#define KUBE_RELOAD_S 5.0
#define KUBE_DOWN_S 5.0

/* Result of one API call. */
struct kube_result {
	long status;        /* HTTP status, 0 when no response */
	cJSON *object;      /* parsed body on 2xx (owned), else NULL */
	char *reason;       /* Status.reason on errors ("NotFound"), or NULL */
	long retry_after_s; /* from Retry-After / details.retryAfterSeconds, -1 */
};

/* Set up k for the cluster cc (copied; no file is read).
 * Returns 0 or -ENOMEM with err set; k is always safe to pass to
 * kube_cluster_free(). */
int kube_cluster_init(struct kube_cluster *k, const struct cluster_config *cc,
		      char *err, size_t errlen);

/* Load k's kubeconfig now (no exec plugin is run and nothing is
 * contacted): for --check-config and the start-up record. Returns 0 or
 * the -errno of kubeconfig_load() with its message in err. */
int kube_cluster_load(struct kube_cluster *k, char *err, size_t errlen);

/* The server URL of k's loaded credentials into buf ("" when none). */
void kube_cluster_server(struct kube_cluster *k, char *buf, size_t len);

void kube_cluster_free(struct kube_cluster *k);

/* One request: method, path ("/apis/apps/v1/namespaces/shop/deployments/web"),
 * optional JSON body with its Content-Type (e.g.
 * "application/strategic-merge-patch+json"). timeout_ms caps the call
 * (<= 0: the cluster's request timeout). Adds Authorization and
 * Accept: application/json, User-Agent ipad/VERSION.
 * A 401 answer makes the credentials be loaded again (exec plugins run
 * again) and the request is sent once more. An exec plugin that has to
 * run first may take timeout_ms (at least 5 s, at most 30 s) on top.
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

/* A GET whose answer streams: a watch ("...?watch=1&resourceVersion=..."),
 * or a list that has to be cancellable. Sent like kube_request (same
 * headers and credentials, 401: credentials loaded again and sent once
 * more), but the body of a 2xx answer is handed to on_data piece by piece
 * as it arrives (http_stream()); cancel (or NULL) stops the transfer
 * within about a second once nonzero, as does http_set_cancel_flag's
 * flag. timeout_ms caps the whole call (<= 0: the cluster's request
 * timeout), so give a watch its timeoutSeconds plus a margin.
 * Returns 0 when a 2xx answer ended normally (res->status set, no
 * object); the errors of kube_request for other answers (res->status,
 * res->reason from the Status: 410 is -EINVAL with status 410); on_data's
 * negative value; -ECANCELED when cancelled; transport errors as from
 * http_do. A 2xx answer that broke off (connection dropped mid-stream)
 * returns the transport error with res->status still 200, and does not
 * mark the cluster unreachable. res as in kube_request. */
int kube_stream(struct kube_cluster *k, struct http_client *hc, const char *path,
		long timeout_ms, http_data_fn on_data, void *ctx,
		const atomic_int *cancel, struct kube_result *res,
		char *err, size_t errlen);

/* Percent-escape one path segment (namespace or name), RFC 3986
 * unreserved characters kept. malloc'ed, or NULL (errno EINVAL) for "",
 * "." and ".." which would change the path, or NULL on allocation error. */
char *kube_escape_segment(const char *s);

/* The REST path of a namespaced object or collection, namespace and name
 * escaped with kube_escape_segment():
 *   kube_path("/apis/apps/v1", "shop", "deployments", "web", "scale")
 *   → "/apis/apps/v1/namespaces/shop/deployments/web/scale"
 * name and subresource may be NULL (the collection). malloc'ed, or NULL on
 * allocation failure or a name kube_escape_segment() refuses. */
char *kube_path(const char *group_version, const char *ns, const char *plural,
		const char *name, const char *subresource);

#endif
