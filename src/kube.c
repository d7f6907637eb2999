/* kube — Kubernetes REST requests and Status errors (see kube.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "config.h"
#include "execcred.h"
#include "kube.h"

#define KUBE_DEFAULT_TIMEOUT_MS 10000L
#define KUBE_SNIPPET_LEN 80     /* of a body that is not a Status */

/* One loaded kubeconfig context, shared by the requests in flight. */
struct kube_auth {
	int refs;                       /* under the cluster's lock */
	struct kube_credentials creds;
	struct http_tls tls;            /* points into creds */
	double refresh_at;              /* monotonic s: load again (tokenFile
					   re-read every minute, exec
					   credential expiring), 0: never */
	bool exec_pending;              /* creds.exec's credential is not in
					   yet: not to be used for requests */
	unsigned exec_gen;              /* the exec_cache generation used */
};

/* The credential an exec plugin returned, kept per cluster across reloads
 * of the kubeconfig until it expires or is refused (401). */
struct kube_exec_cache {
	struct execcred cred;
	char *key;                      /* exec_key() of the run */
	double refresh_at;              /* monotonic s, 0: until refused */
	unsigned gen;
};

/* An exec credential is renewed this long before its expirationTimestamp
 * (at most a quarter of its lifetime). */
#define KUBE_EXEC_MARGIN_S 10.0

/* client-go re-reads a tokenFile about every minute. */
#define KUBE_TOKEN_FILE_S 60.0

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exec_cache_free(struct kube_exec_cache *c)
{
	if (!c)
		return;
	execcred_free(&c->cred);
	free(c->key);
	free(c);
}

static void auth_unref(struct kube_auth *a)
{
	if (a && --a->refs == 0) {
		kubeconfig_free(&a->creds);
		free(a);
	}
}

/* Replace *field by a copy of text (NULL: clear). */
static void set_text(char **field, const char *text)
{
	free(*field);
	*field = text ? strdup(text) : NULL;
}

int kube_cluster_init(struct kube_cluster *k, const struct cluster_config *cc,
		      char *err, size_t errlen)
{
	memset(k, 0, sizeof *k);
	pthread_mutex_init(&k->lock, NULL);
	pthread_mutex_init(&k->exec_lock, NULL);
	k->name = strdup(cc->name);
	k->kubeconfig = strdup(cc->kubeconfig ? cc->kubeconfig : "");
	k->context = cc->context ? strdup(cc->context) : NULL;
	k->request_timeout_ms = cc->request_timeout_ms > 0
				? (long)cc->request_timeout_ms : KUBE_DEFAULT_TIMEOUT_MS;
	k->stale = true;
	if (!k->name || !k->kubeconfig || (cc->context && !k->context)) {
		if (err && errlen)
			snprintf(err, errlen, "cluster \"%s\": out of memory", cc->name);
		return -ENOMEM;
	}
	return 0;
}

/* Load the kubeconfig into a new k->auth; k->lock is held. */
static int load_locked(struct kube_cluster *k, char *err, size_t errlen)
{
	struct kube_auth *a = calloc(1, sizeof *a);
	int rc = a ? kubeconfig_load(k->kubeconfig, k->context, &a->creds, err, errlen)
		   : -ENOMEM;
	k->load_at = now_s();
	if (rc < 0) {
		if (!a && err && errlen)
			snprintf(err, errlen, "cluster \"%s\": out of memory", k->name);
		free(a);
		k->load_rc = rc;
		set_text(&k->load_error, err);
		return rc;
	}
	const struct kube_credentials *c = &a->creds;
	a->refs = 1;
	a->tls = (struct http_tls){
		.ca_pem = c->ca_pem,
		.ca_pem_len = c->ca_pem_len,
		.insecure_skip_verify = c->insecure_skip_tls_verify,
		.client_cert_pem = c->client_cert_pem,
		.client_cert_pem_len = c->client_cert_pem_len,
		.client_key_pem = c->client_key_pem,
		.client_key_pem_len = c->client_key_pem_len,
		.server_name = c->tls_server_name,
		.proxy = c->proxy_url,
		.no_compression = c->disable_compression,
	};
	if (c->token_file)
		a->refresh_at = k->load_at + KUBE_TOKEN_FILE_S;
	a->exec_pending = c->exec != NULL;
	auth_unref(k->auth);
	k->auth = a;
	k->stale = false;
	set_text(&k->load_error, NULL);
	return 0;
}

int kube_cluster_load(struct kube_cluster *k, char *err, size_t errlen)
{
	pthread_mutex_lock(&k->lock);
	int rc = load_locked(k, err, errlen);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

static void auth_put(struct kube_cluster *k, struct kube_auth *a)
{
	pthread_mutex_lock(&k->lock);
	auth_unref(a);
	pthread_mutex_unlock(&k->lock);
}

/* What makes an exec credential: the plugin's argv, env and
 * KUBERNETES_EXEC_INFO (which holds the cluster when it is given).
 * malloc'ed, or NULL. */
static char *exec_key(const struct kube_credentials *c)
{
	char *info = execcred_exec_info(c), *key = info;
	for (char **v = c->exec->argv; key && *v; v++) {
		if (asprintf(&key, "%s\n%s", info, *v) < 0)
			key = NULL;
		free(info);
		info = key;
	}
	for (char **v = c->exec->env; key && *v; v++) {
		if (asprintf(&key, "%s\n%s", info, *v) < 0)
			key = NULL;
		free(info);
		info = key;
	}
	return key;
}

/* Put the cached exec credential into a (pending, used by no request);
 * k->lock is held. */
static int exec_apply(struct kube_auth *a, const struct kube_exec_cache *cache)
{
	struct execcred copy;
	if (execcred_copy(&copy, &cache->cred) < 0)
		return -ENOMEM;
	struct kube_credentials *c = &a->creds;
	c->token = copy.token;
	c->client_cert_pem = copy.client_cert_pem;
	c->client_cert_pem_len = copy.client_cert_pem_len;
	c->client_key_pem = copy.client_key_pem;
	c->client_key_pem_len = copy.client_key_pem_len;
	a->tls.client_cert_pem = c->client_cert_pem;
	a->tls.client_cert_pem_len = c->client_cert_pem_len;
	a->tls.client_key_pem = c->client_key_pem;
	a->tls.client_key_pem_len = c->client_key_pem_len;
	if (cache->refresh_at > 0 && (a->refresh_at == 0 || cache->refresh_at < a->refresh_at))
		a->refresh_at = cache->refresh_at;
	a->exec_gen = cache->gen;
	a->exec_pending = false;
	return 0;
}

/* Give the pending auth a (referenced by the caller) its exec credential:
 * the cached one when it was made for the same plugin and cluster and is
 * not about to expire, else the plugin's new one. One run per cluster at
 * a time (k->exec_lock); the others wait for its outcome. A failed run is
 * remembered for KUBE_RELOAD_S like a failed load. */
static int exec_fill(struct kube_cluster *k, struct kube_auth *a, long timeout_ms,
		     char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&k->exec_lock);
	pthread_mutex_lock(&k->lock);
	char *key = a->exec_pending ? exec_key(&a->creds) : NULL;
	bool run = false;
	double now = now_s();
	if (!a->exec_pending) {
		rc = 0;  /* filled while this thread waited */
	} else if (!key) {
		snprintf(err, errlen, "cluster \"%s\": out of memory", k->name);
		rc = -ENOMEM;
	} else if (k->exec_cache && strcmp(k->exec_cache->key, key) == 0 &&
		   (k->exec_cache->refresh_at == 0 || now < k->exec_cache->refresh_at)) {
		rc = exec_apply(a, k->exec_cache);
	} else if (k->stale && k->load_error && now < k->load_at + KUBE_RELOAD_S) {
		snprintf(err, errlen, "%s", k->load_error);  /* it just failed */
		rc = k->load_rc;
	} else {
		run = true;
	}
	pthread_mutex_unlock(&k->lock);
	if (run) {
		struct kube_exec_cache *cache = calloc(1, sizeof *cache);
		rc = cache ? execcred_run(&a->creds, timeout_ms > 0 ? timeout_ms
					  : k->request_timeout_ms, &cache->cred, err, errlen)
			   : -ENOMEM;
		if (!cache)
			snprintf(err, errlen, "cluster \"%s\": out of memory", k->name);
		time_t wall = time(NULL);
		now = now_s();
		pthread_mutex_lock(&k->lock);
		if (rc == 0) {
			if (cache->cred.expiry > 0) {
				double life = difftime(cache->cred.expiry, wall);
				double margin = life / 4 < KUBE_EXEC_MARGIN_S ? life / 4
						: KUBE_EXEC_MARGIN_S;
				cache->refresh_at = now + (life - (margin > 0 ? margin : 0));
				if (cache->refresh_at <= 0)
					cache->refresh_at = now;
			}
			cache->key = key;
			key = NULL;
			cache->gen = ++k->exec_gen;
			exec_cache_free(k->exec_cache);
			k->exec_cache = cache;
			cache = NULL;
			rc = exec_apply(a, k->exec_cache);
		} else {
			k->stale = true;
			k->load_at = now;
			k->load_rc = rc;
			set_text(&k->load_error, err);
		}
		pthread_mutex_unlock(&k->lock);
		exec_cache_free(cache);
	}
	pthread_mutex_unlock(&k->exec_lock);
	free(key);
	if (rc == -ENOMEM && !run)
		snprintf(err, errlen, "cluster \"%s\": out of memory", k->name);
	return rc;
}

/* A reference to the cluster's credentials, loaded first when needed
 * (an exec plugin run when its credential is missing or expiring; it may
 * run for timeout_ms). Fails at once while the cluster is down, or while
 * a failed load or plugin run is younger than KUBE_RELOAD_S. */
static int auth_get(struct kube_cluster *k, long timeout_ms, struct kube_auth **out,
		    char *err, size_t errlen)
{
	int rc = 0;
	double now = now_s();
	*out = NULL;
	pthread_mutex_lock(&k->lock);
	if (now < k->down_until) {
		snprintf(err, errlen, "%s (cluster %s unreachable %.0f s ago; "
			 "tried again in %.0f s)", k->down_error, k->name,
			 KUBE_DOWN_S - (k->down_until - now), k->down_until - now);
		rc = k->down_rc;
	} else if (k->stale && k->load_error && now < k->load_at + KUBE_RELOAD_S) {
		snprintf(err, errlen, "%s", k->load_error);
		rc = k->load_rc;
	} else if (k->stale || (k->auth->refresh_at > 0 && now >= k->auth->refresh_at)) {
		rc = load_locked(k, err, errlen);
	}
	bool pending = rc == 0 && k->auth->exec_pending;
	if (rc == 0) {
		k->auth->refs++;
		*out = k->auth;
	}
	pthread_mutex_unlock(&k->lock);
	if (pending) {
		rc = exec_fill(k, *out, timeout_ms, err, errlen);
		if (rc < 0) {
			auth_put(k, *out);
			*out = NULL;
		}
	}
	return rc;
}

/* A's credentials were refused (401) or its server did not answer: read
 * the kubeconfig again before the next request; a connection failure
 * (rc) also marks the cluster down. */
static void auth_failed(struct kube_cluster *k, const struct kube_auth *a,
			int rc, const char *err)
{
	pthread_mutex_lock(&k->lock);
	if (k->auth == a) {
		k->stale = true;
		set_text(&k->load_error, NULL);
	}
	/* a refused exec credential is not used again */
	if (rc == 0 && a->creds.exec && k->exec_cache && k->exec_cache->gen == a->exec_gen) {
		exec_cache_free(k->exec_cache);
		k->exec_cache = NULL;
	}
	if (rc < 0) {
		k->down_until = now_s() + KUBE_DOWN_S;
		k->down_rc = rc;
		set_text(&k->down_error, err);
		if (!k->down_error)
			k->down_until = 0;
	}
	pthread_mutex_unlock(&k->lock);
}

void kube_cluster_server(struct kube_cluster *k, char *buf, size_t len)
{
	pthread_mutex_lock(&k->lock);
	snprintf(buf, len, "%s", k->auth ? k->auth->creds.server : "");
	pthread_mutex_unlock(&k->lock);
}

void kube_cluster_free(struct kube_cluster *k)
{
	if (!k)
		return;
	free(k->name);
	free(k->kubeconfig);
	free(k->context);
	auth_unref(k->auth);
	exec_cache_free(k->exec_cache);
	free(k->load_error);
	free(k->down_error);
	pthread_mutex_destroy(&k->lock);
	pthread_mutex_destroy(&k->exec_lock);
	memset(k, 0, sizeof *k);
}

void kube_result_free(struct kube_result *r)
{
	if (!r)
		return;
	cJSON_Delete(r->object);
	free(r->reason);
	*r = (struct kube_result){ .retry_after_s = -1 };
}

/* Append to the error sentence being built in err. */
__attribute__((format(printf, 4, 5)))
static void append(char *err, size_t errlen, size_t *off, const char *fmt, ...)
{
	if (!err || *off >= errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err + *off, errlen - *off, fmt, ap);
	va_end(ap);
	*off = n < 0 ? errlen : *off + (size_t)n;
}

/* At most KUBE_SNIPPET_LEN printable characters of an unexpected body:
 * controls and runs of white space become one space, other bytes '?'. */
static void snippet(const char *body, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o < KUBE_SNIPPET_LEN; i++) {
		unsigned char ch = (unsigned char)body[i];
		char c = ch < 0x20 || ch == 0x7f ? ' ' : ch > 0x7f ? '?' : (char)ch;
		if (c != ' ' || (o > 0 && out[o - 1] != ' '))
			out[o++] = c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static int errno_of_status(long status)
{
	if (status == 404)
		return -ENOENT;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 409)
		return -EBUSY;
	if (status == 429 || status >= 500)
		return -EAGAIN;
	return status >= 400 ? -EINVAL : -EIO;
}

static const char *str_item(const cJSON *obj, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
	return s && *s ? s : NULL;
}

/* A non-2xx answer: "<code> <reason>: <message>" from its Status object,
 * then "(field: message; ...)" of the causes whose message the Status
 * message does not already contain. */
static int status_error(const struct http_response *resp, struct kube_result *r,
			char *err, size_t errlen, size_t off)
{
	int rc = errno_of_status(resp->status);
	cJSON *st = cJSON_ParseWithLength(resp->body, resp->body_len);
	const char *kind = str_item(st, "kind");
	if (!kind || strcmp(kind, "Status") != 0) {
		char text[KUBE_SNIPPET_LEN + 1];
		snippet(resp->body, resp->body_len, text);
		append(err, errlen, &off, "HTTP %ld (not a Kubernetes Status: %s)",
		       resp->status, *text ? text : "empty body");
		cJSON_Delete(st);
		return rc;
	}
	const char *reason = str_item(st, "reason"), *message = str_item(st, "message");
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(st, "details");
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(details, "retryAfterSeconds");
	if (reason)
		r->reason = strdup(reason);
	if (r->retry_after_s < 0 && cJSON_IsNumber(after) && after->valuedouble > 0)
		r->retry_after_s = (long)after->valuedouble;
	append(err, errlen, &off, "%ld%s%s%s%s", resp->status, reason ? " " : "",
	       reason ? reason : "", message ? ": " : "", message ? message : "");
	const char *sep = " (";
	const cJSON *cause;
	cJSON_ArrayForEach(cause, cJSON_GetObjectItemCaseSensitive(details, "causes")) {
		const char *field = str_item(cause, "field");
		const char *text = str_item(cause, "message");
		if (!text || (message && strstr(message, text)))
			continue;
		append(err, errlen, &off, "%s%s%s%s", sep, field ? field : "",
		       field ? ": " : "", text);
		sep = "; ";
	}
	if (sep[0] == ';')
		append(err, errlen, &off, ")");
	cJSON_Delete(st);
	return rc;
}

/* Fill r from an HTTP answer: the object of a 2xx, else the Status error. */
static int take_response(const char *method, const char *path,
			 const struct http_response *resp, struct kube_result *r,
			 char *err, size_t errlen)
{
	bool ok = resp->status >= 200 && resp->status <= 299;
	size_t off = 0;
	r->status = resp->status;
	r->retry_after_s = resp->retry_after_s;
	if (ok) {
		r->object = cJSON_ParseWithLength(resp->body, resp->body_len);
		if (cJSON_IsObject(r->object))
			return 0;
		cJSON_Delete(r->object);
		r->object = NULL;
	}
	append(err, errlen, &off, "%s %.*s: ", method, (int)strcspn(path, "?"), path);
	if (!ok)
		return status_error(resp, r, err, errlen, off);
	char text[KUBE_SNIPPET_LEN + 1];
	snippet(resp->body, resp->body_len, text);
	append(err, errlen, &off, "%ld but the body is not a JSON object: %s",
	       resp->status, *text ? text : "empty body");
	return -EBADMSG;
}

/* Free a header vector after wiping it (it carries credentials). */
static void free_headers(char **v)
{
	for (size_t i = 0; v && v[i]; i++) {
		explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

/* The headers of c's credentials: Authorization (Bearer, or Basic for
 * username/password) and Impersonate-User/-Uid/-Group; NULL-terminated,
 * NULL on allocation failure. */
static char **auth_headers(const struct kube_credentials *c)
{
	size_t n = 4;
	for (size_t i = 0; c->impersonate_groups && c->impersonate_groups[i]; i++)
		n++;
	char **v = calloc(n, sizeof(*v)), *basic = NULL;
	size_t k = 0;
	bool ok = v != NULL;
	if (ok && c->token)
		ok = asprintf(&v[k++], "Authorization: Bearer %s", c->token) >= 0;
	else if (ok && c->username) {
		char *pair = NULL;
		ok = asprintf(&pair, "%s:%s", c->username, c->password) >= 0 &&
		     (basic = base64_encode(pair, strlen(pair))) &&
		     asprintf(&v[k++], "Authorization: Basic %s", basic) >= 0;
		if (pair) {
			explicit_bzero(pair, strlen(pair));
			free(pair);
		}
		if (basic) {
			explicit_bzero(basic, strlen(basic));
			free(basic);
		}
	}
	if (ok && c->impersonate_user)
		ok = asprintf(&v[k++], "Impersonate-User: %s", c->impersonate_user) >= 0;
	if (ok && c->impersonate_uid)
		ok = asprintf(&v[k++], "Impersonate-Uid: %s", c->impersonate_uid) >= 0;
	for (size_t i = 0; ok && c->impersonate_groups && c->impersonate_groups[i]; i++)
		ok = asprintf(&v[k++], "Impersonate-Group: %s", c->impersonate_groups[i]) >= 0;
	if (!ok) {
		if (v && k > 0)
			v[k - 1] = NULL;  /* asprintf leaves it undefined */
		free_headers(v);
		return NULL;
	}
	return v;
}

/* One request with the credentials a; fills r (emptied first). With
 * stream, a 2xx body goes to stream->on_data (kube_stream). */
static int send_once(struct kube_cluster *k, const struct kube_auth *a,
		     struct http_client *hc, const char *method, const char *path,
		     const char *content_type, const char *body, long timeout_ms,
		     const struct http_stream *stream,
		     struct kube_result *r, char *err, size_t errlen)
{
	const struct kube_credentials *c = &a->creds;
	size_t off = 0;
	kube_result_free(r);
	char *url = NULL, *ctype = NULL;
	char **auth = auth_headers(c);
	if (asprintf(&url, "%s%s", c->server, path) < 0)
		url = NULL;
	if (body && asprintf(&ctype, "Content-Type: %s",
			     content_type ? content_type : "application/json") < 0)
		ctype = NULL;
	size_t nauth = 0;
	while (auth && auth[nauth])
		nauth++;
	const char **headers = calloc(nauth + 4, sizeof(*headers));
	int rc;
	if (!url || !auth || (body && !ctype) || !headers) {
		append(err, errlen, &off, "%s %.*s: out of memory", method,
		       (int)strcspn(path, "?"), path);
		rc = -ENOMEM;
	} else {
		const char **h = headers;
		for (size_t i = 0; i < nauth; i++)
			*h++ = auth[i];
		*h++ = "Accept: application/json";
		if (ctype)
			*h++ = ctype;
		*h++ = "User-Agent: ipad/" PACKAGE_VERSION;
		*h = NULL;
		struct http_request req = {
			.method = method, .url = url, .headers = headers,
			.body = body, .body_len = body ? strlen(body) : 0,
			.timeout_ms = timeout_ms > 0 ? timeout_ms : k->request_timeout_ms,
			.tls = &a->tls,
		};
		struct http_response resp;
		rc = stream ? http_stream(hc, &req, stream, &resp, err, errlen)
			    : http_do(hc, &req, &resp, err, errlen);
		if (rc == 0 && stream && resp.status >= 200 && resp.status <= 299)
			r->status = resp.status;  /* the body went to on_data */
		else if (rc == 0)
			rc = take_response(method, path, &resp, r, err, errlen);
		else
			r->status = resp.status;  /* 0, or a stream that broke off */
		http_response_free(&resp);
	}
	free(url);
	free(ctype);
	free(headers);
	free_headers(auth);
	return rc;
}

/* kube_request, or kube_stream when stream is given. */
static int request(struct kube_cluster *k, struct http_client *hc,
		   const char *method, const char *path,
		   const char *content_type, const char *body, long timeout_ms,
		   const struct http_stream *stream,
		   struct kube_result *res, char *err, size_t errlen)
{
	struct kube_result local, *r = res ? res : &local;
	*r = (struct kube_result){ .retry_after_s = -1 };
	size_t off = 0;
	if (err && errlen)
		err[0] = '\0';
	if (!k || !method || !path || path[0] != '/') {
		append(err, errlen, &off, "kube: a request needs a cluster, a "
		       "method and a path starting with '/'");
		return -EINVAL;
	}
	int rc;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct kube_auth *a;
		rc = auth_get(k, timeout_ms, &a, err, errlen);
		if (rc < 0)
			break;
		rc = send_once(k, a, hc, method, path, content_type, body,
			       timeout_ms, stream, r, err, errlen);
		bool transport = r->status == 0 && rc != -ENOMEM && rc != -EINVAL &&
				 rc != -ECANCELED;  /* a cancel is no failure */
		if (transport || r->status == 401)
			auth_failed(k, a, transport ? rc : 0, err);
		auth_put(k, a);
		/* new credentials may be accepted: once more (client-go's exec
		 * plugin contract; also a rotated token) */
		if (r->status != 401)
			break;
	}
	if (!res)
		kube_result_free(&local);
	return rc;
}

int kube_request(struct kube_cluster *k, struct http_client *hc,
		 const char *method, const char *path,
		 const char *content_type, const char *body, long timeout_ms,
		 struct kube_result *res, char *err, size_t errlen)
{
	return request(k, hc, method, path, content_type, body, timeout_ms,
		       NULL, res, err, errlen);
}

int kube_stream(struct kube_cluster *k, struct http_client *hc, const char *path,
		long timeout_ms, http_data_fn on_data, void *ctx,
		const atomic_int *cancel, struct kube_result *res,
		char *err, size_t errlen)
{
	const struct http_stream s = { .on_data = on_data, .ctx = ctx,
				       .cancel = cancel };
	return request(k, hc, "GET", path, NULL, NULL, timeout_ms, &s, res,
		       err, errlen);
}

char *kube_escape_segment(const char *s)
{
	/* "." and ".." would be removed from the path as dot-segments */
	if (!s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		errno = EINVAL;
		return NULL;
	}
	return http_escape(s);
}

char *kube_path(const char *group_version, const char *ns, const char *plural,
		const char *name, const char *subresource)
{
	char *ens = kube_escape_segment(ns);
	char *ename = name ? kube_escape_segment(name) : NULL;
	char *path = NULL;

	if (ens && (!name || ename) &&
	    asprintf(&path, "%s/namespaces/%s/%s%s%s%s%s", group_version, ens, plural,
		     ename ? "/" : "", ename ? ename : "",
		     subresource ? "/" : "", subresource ? subresource : "") < 0)
		path = NULL;
	free(ens);
	free(ename);
	return path;
}
