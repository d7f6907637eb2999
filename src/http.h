/* http — ipad's one libcurl layer.
 *
 * One struct http_client per worker thread (a CURL easy handle is not
 * thread-safe); all clients created from one struct http_pool share DNS and
 * the connection cache through a CURLSH with proper locks, so that
 * connections to an API server or Prometheus are reused across targets.
 * Every request has a total timeout; there are no hidden retries here
 * (retry policy belongs to the callers, who know their deadlines).
 * Redirects are not followed. Response bodies are capped (64 MiB). */
#ifndef IPAD_HTTP_H
#define IPAD_HTTP_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct http_pool;
struct http_client;

/* TLS settings of one request; all pointers are borrowed. */
struct http_tls {
	const char *ca_pem;          /* in-memory CA bundle or NULL */
	size_t ca_pem_len;
	bool insecure_skip_verify;   /* no peer or host verification */
	const char *client_cert_pem; /* in-memory PEM or NULL */
	size_t client_cert_pem_len;
	const char *client_key_pem;
	size_t client_key_pem_len;
	const char *server_name;     /* SNI and the name the server's
					certificate must carry, when it is
					not the URL's host (kubeconfig
					tls-server-name), or NULL */
	const char *proxy;           /* http://, https:// or socks5:// proxy
					URL, or NULL: none (the *_proxy
					environment is not used) */
	bool no_compression;         /* do not ask for gzip */
};

struct http_request {
	const char *method;          /* "GET", "POST", "PATCH", "PUT" */
	const char *url;             /* absolute URL */
	const char *const *headers;  /* NULL-terminated "Name: value" or NULL */
	const char *body;            /* or NULL */
	size_t body_len;
	long timeout_ms;             /* total, > 0 */
	const struct http_tls *tls;  /* or NULL for defaults */
};

struct http_response {
	long status;                 /* HTTP status code */
	char *body;                  /* owned, always NUL-terminated (may be "") */
	size_t body_len;
	char *content_type;          /* owned or NULL */
	long retry_after_s;          /* Retry-After in seconds (an HTTP-date
					as seconds from now), -1 when absent
					or unparsable */
	double elapsed_s;            /* total time of the transfer */
};

/* Global libcurl setup; call once from main before any thread starts. */
int http_global_init(void);
void http_global_cleanup(void);

/* Cancel every transfer, in flight or yet to start, once *flag is nonzero
 * (libcurl checks it at least about once a second, also while waiting):
 * http_do then returns -ECANCELED with "METHOD URL: cancelled: ipad is
 * stopping" in err. So a stop request does not wait for the full timeout
 * of a call in progress. NULL (the default): never. Set it before threads
 * start; the flag is borrowed. */
void http_set_cancel_flag(const volatile sig_atomic_t *flag);

/* Whether that flag is set (for other waits, such as an exec credential
 * plugin's run). */
bool http_cancelled(void);

/* Whether c's transfers obey that flag (the default: yes). A call that
 * must still be made while ipad stops (the release of a leader election
 * Lease, lease.h) clears it on its own client; its timeout bounds it. */
void http_client_set_cancellable(struct http_client *c, bool cancellable);

/* A pool (share handle: DNS cache and connection cache, locked with one
 * mutex per kind of shared data) and clients bound to it. NULL on
 * allocation error. Free every client of a pool before the pool. */
struct http_pool *http_pool_new(void);
void http_pool_free(struct http_pool *p);
struct http_client *http_client_new(struct http_pool *p);
void http_client_free(struct http_client *c);

/* Perform one request. Returns 0 when an HTTP response arrived (whatever its
 * status), or a negative errno (-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH
 * also for a name that does not resolve, -EPROTO for TLS problems, -EFBIG
 * for a body over 64 MiB, -EINVAL for a malformed request or URL, -ENOMEM,
 * -EIO otherwise) with "METHOD URL: curl's reason" in err; the URL is shown
 * without user info, query string or fragment. resp is filled only on 0
 * (left empty otherwise) and must be freed with http_response_free().
 * A request with a body is sent with the body as is: give its Content-Type
 * in headers. Header values are wiped from memory after the request
 * (they may carry a bearer token). */
int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *resp, char *err, size_t errlen);

void http_response_free(struct http_response *r);

/* Receives the body of a 2xx answer piece by piece as it arrives (len > 0,
 * data borrowed for the call). Return 0 to go on, or a negative errno to
 * stop the transfer: http_stream() then returns it. */
typedef int (*http_data_fn)(void *ctx, const char *data, size_t len);

struct http_stream {
	http_data_fn on_data;
	void *ctx;
	const atomic_int *cancel;    /* or NULL; the transfer is cancelled too
					once *cancel is nonzero (checked
					like http_set_cancel_flag's flag) */
};

/* As http_do, for an answer that streams (a Kubernetes watch): the body of
 * a 2xx answer goes to s->on_data instead of resp->body (which stays "");
 * any other answer is buffered as by http_do (its Status is needed).
 * req->timeout_ms caps the whole transfer: give a watch its timeoutSeconds
 * plus a margin. TCP keepalive probes (after 30 s of silence, every 10 s)
 * notice a peer that went away without closing. Returns as http_do, or
 * -ECANCELED ("cancelled") when *s->cancel was set, or on_data's negative
 * value. On failure resp->status is the status of the answer whose body
 * was being received when it failed (a watch dropped mid-stream), 0 when
 * none arrived; the rest of resp is empty. */
int http_stream(struct http_client *c, const struct http_request *req,
		const struct http_stream *s, struct http_response *resp,
		char *err, size_t errlen);

/* Percent-encode s for a URL query or form body (RFC 3986 unreserved kept).
 * Returns a malloc'ed string or NULL. */
char *http_escape(const char *s);

#endif
