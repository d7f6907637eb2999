/* http — ipad's one libcurl layer (see http.h). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>

#include "http.h"

#define HTTP_MAX_BODY ((size_t)64 << 20)
#define HTTP_MAX_CONNECT_MS 5000L

struct http_pool {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

struct http_client {
	CURL *easy;              /* bound to the pool's share handle */
	struct curl_slist *connect_to; /* of the transfer in progress */
	char errbuf[CURL_ERROR_SIZE];
	bool not_cancellable;    /* http_client_set_cancellable(c, false) */
};

/* One response being received. */
struct transfer {
	struct http_response *resp;
	size_t cap;              /* allocated size of resp->body */
	bool too_big;            /* the body passed HTTP_MAX_BODY */
	bool no_memory;
	CURL *easy;              /* of the transfer (for its status) */
	const struct http_stream *stream; /* or NULL: buffer the body */
	int stream_state;        /* 0: unknown yet, 1: streaming a 2xx
				    body, -1: buffering another answer */
	int stream_rc;           /* on_data's negative value, or 0 */
	bool stream_cancelled;   /* stopped by *stream->cancel */
	bool not_cancellable;    /* of the client: ignore the cancel flag */
};

static const volatile sig_atomic_t *cancel_flag;

void http_set_cancel_flag(const volatile sig_atomic_t *flag)
{
	cancel_flag = flag;
}

bool http_cancelled(void)
{
	return cancel_flag && *cancel_flag;
}

/* libcurl's progress callback: nonzero aborts the transfer. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer *t = userp;
	if (t->stream && t->stream->cancel && atomic_load(t->stream->cancel)) {
		t->stream_cancelled = true;
		return 1;
	}
	return !t->not_cancellable && http_cancelled();
}

void http_client_set_cancellable(struct http_client *c, bool cancellable)
{
	c->not_cancellable = !cancellable;
}

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
		       void *userp)
{
	struct http_pool *p = userp;
	pthread_mutex_lock(&p->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
	struct http_pool *p = userp;
	pthread_mutex_unlock(&p->locks[data]);
}

struct http_pool *http_pool_new(void)
{
	struct http_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->share = curl_share_init();
	if (!p->share) {
		free(p);
		return NULL;
	}
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&p->locks[i], NULL);
	if (curl_share_setopt(p->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(p->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(p->share, CURLSHOPT_USERDATA, p) ||
	    curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT)) {
		http_pool_free(p);
		return NULL;
	}
	return p;
}

void http_pool_free(struct http_pool *p)
{
	if (!p)
		return;
	curl_share_cleanup(p->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&p->locks[i]);
	free(p);
}

struct http_client *http_client_new(struct http_pool *p)
{
	struct http_client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->easy = curl_easy_init();
	/* curl_easy_reset() keeps the share: set once */
	if (!c->easy || curl_easy_setopt(c->easy, CURLOPT_SHARE, p->share)) {
		http_client_free(c);
		return NULL;
	}
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->easy);
	free(c);
}

void http_response_free(struct http_response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->content_type);
	memset(r, 0, sizeof *r);
	r->retry_after_s = -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	struct http_response *r = t->resp;
	size_t n = size * nmemb;
	if (t->stream && t->stream_state == 0) {
		long status = 0;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
		t->stream_state = status >= 200 && status <= 299 ? 1 : -1;
	}
	if (t->stream_state == 1) {
		int rc = n ? t->stream->on_data(t->stream->ctx, data, n) : 0;
		if (rc < 0) {
			t->stream_rc = rc;
			return 0;
		}
		return n;
	}
	if (n > HTTP_MAX_BODY - r->body_len) {
		t->too_big = true;
		return 0;
	}
	if (r->body_len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 16384;
		while (cap < r->body_len + n + 1)
			cap *= 2;
		char *body = realloc(r->body, cap);
		if (!body) {
			t->no_memory = true;
			return 0;
		}
		r->body = body;
		t->cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return n;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
 * Returns seconds from now, or -1 when unparsable. */
static long parse_retry_after(const char *v, size_t len)
{
	char buf[64];
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (strspn(buf, "0123456789") == len) {
		errno = 0;
		long s = strtol(buf, NULL, 10);
		return errno == ERANGE ? LONG_MAX : s;
	}
	time_t when = curl_getdate(buf, NULL), now = time(NULL);
	if (when == -1)
		return -1;
	return when > now ? (long)(when - now) : 0;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userp)
{
	struct transfer *t = userp;
	struct http_response *r = t->resp;
	size_t n = size * nitems;
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the last one's */
		free(r->content_type);
		r->content_type = NULL;
		r->retry_after_s = -1;
		return n;
	}
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return n;
	size_t name_len = (size_t)(colon - line);
	const char *v = colon + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (name_len == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
		free(r->content_type);
		r->content_type = strndup(v, (size_t)(end - v));
		if (!r->content_type) {
			t->no_memory = true;
			return 0;
		}
	} else if (name_len == 11 && strncasecmp(line, "Retry-After", 11) == 0) {
		r->retry_after_s = parse_retry_after(v, (size_t)(end - v));
	}
	return n;
}

static int errno_of(CURLcode cc, long os_errno, const struct transfer *t)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return os_errno == ECONNREFUSED ? -ECONNREFUSED : -EHOSTUNREACH;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return -EPROTO;
	case CURLE_WRITE_ERROR:
		if (t->stream_rc < 0)
			return t->stream_rc;
		return t->too_big ? -EFBIG : t->no_memory ? -ENOMEM : -EIO;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return -EINVAL;
	default:
		return t->no_memory ? -ENOMEM : -EIO;
	}
}

/* "METHOD URL: reason", the URL without user info, query or fragment (they
 * may carry credentials or tokens). */
static void describe(char *err, size_t errlen, const char *method,
		     const char *url, const char *reason)
{
	if (!err || errlen == 0)
		return;
	size_t len = strcspn(url, "?#");
	const char *host = strstr(url, "://");
	host = host && (size_t)(host - url) < len ? host + 3 : url;
	const char *at = memchr(host, '@', strcspn(host, "/?#"));
	size_t scheme_len = (size_t)(host - url);
	const char *rest = at ? at + 1 : host;
	snprintf(err, errlen, "%s %.*s%.*s: %s", method, (int)scheme_len, url,
		 (int)(len - (size_t)(rest - url)), rest, reason);
}

/* Free a header list after wiping it: it may carry a bearer token. */
static void wipe_slist(struct curl_slist *l)
{
	for (struct curl_slist *h = l; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(l);
}

/* kubeconfig tls-server-name: connect to the URL's host and port, but use
 * name for SNI and the certificate check (the URL's host becomes name,
 * CURLOPT_CONNECT_TO sends the connection to the real address). */
static CURLcode connect_as(struct http_client *c, const char *url,
			   const char *name, CURLcode cc)
{
	CURL *e = c->easy;
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *rewritten = NULL, *to = NULL;
	struct curl_slist *list = NULL;
	if (cc != CURLE_OK)
		return cc;
	cc = CURLE_OUT_OF_MEMORY;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_HOST, name, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &rewritten, 0) == CURLUE_OK &&
	    asprintf(&to, "%s:%s:%s:%s", name, port, host, port) >= 0 &&
	    (list = curl_slist_append(NULL, to))) {
		cc = curl_easy_setopt(e, CURLOPT_URL, rewritten);
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(e, CURLOPT_CONNECT_TO, list);
	}
	free(to);
	curl_free(rewritten);
	curl_free(port);
	curl_free(host);
	curl_url_cleanup(u);
	/* libcurl reads the list during the transfer: http_do frees it */
	if (cc == CURLE_OK)
		c->connect_to = list;
	else
		curl_slist_free_all(list);
	return cc;
}

#define SET(opt, val) \
	do { if (cc == CURLE_OK) cc = curl_easy_setopt(e, opt, val); } while (0)

/* Set the options of one request on the freshly reset handle e. */
static CURLcode setup(struct http_client *c, const struct http_request *req,
		      struct curl_slist *headers, struct transfer *t)
{
	CURL *e = c->easy;
	CURLcode cc = CURLE_OK;
	const struct http_tls *tls = req->tls;
	long connect_ms = req->timeout_ms < HTTP_MAX_CONNECT_MS
			  ? req->timeout_ms : HTTP_MAX_CONNECT_MS;
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, req->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	if (!tls || !tls->no_compression)
		SET(CURLOPT_ACCEPT_ENCODING, "");  /* what libcurl can decode */
	if (tls && tls->proxy) {
		/* as client-go: proxy-url is used for every host, whatever
		 * no_proxy says; socks5 resolves names at the proxy */
		bool socks = strncmp(tls->proxy, "socks5://", 9) == 0;
		SET(CURLOPT_PROXY, socks ? tls->proxy + 9 : tls->proxy);
		SET(CURLOPT_NOPROXY, "");
		if (socks)
			SET(CURLOPT_PROXYTYPE, (long)CURLPROXY_SOCKS5_HOSTNAME);
	}
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, t);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, t);
	SET(CURLOPT_NOPROGRESS, 0L);
	if (t->stream) {
		SET(CURLOPT_TCP_KEEPALIVE, 1L);
		SET(CURLOPT_TCP_KEEPIDLE, 30L);
		SET(CURLOPT_TCP_KEEPINTVL, 10L);
	}
	if (strcmp(req->method, "HEAD") == 0)
		SET(CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "GET") != 0)
		SET(CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body);
	}
	if (!tls)
		return cc;
	if (tls->server_name)
		cc = connect_as(c, req->url, tls->server_name, cc);
	/* The blobs are borrowed (NOCOPY): no unwiped copy of a key is made,
	 * and libcurl reads them only during the transfer. */
	if (tls->ca_pem) {
		struct curl_blob b = { (void *)tls->ca_pem, tls->ca_pem_len,
				       CURL_BLOB_NOCOPY };
		SET(CURLOPT_CAINFO_BLOB, &b);
		SET(CURLOPT_CAPATH, NULL); /* trust this CA only, as client-go */
	}
	if (tls->insecure_skip_verify) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (tls->client_cert_pem) {
		struct curl_blob b = { (void *)tls->client_cert_pem,
				       tls->client_cert_pem_len, CURL_BLOB_NOCOPY };
		SET(CURLOPT_SSLCERT_BLOB, &b);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (tls->client_key_pem) {
		struct curl_blob b = { (void *)tls->client_key_pem,
				       tls->client_key_pem_len, CURL_BLOB_NOCOPY };
		SET(CURLOPT_SSLKEY_BLOB, &b);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	}
	return cc;
}

#undef SET

/* http_do, or http_stream when stream is given. */
static int perform(struct http_client *c, const struct http_request *req,
		   const struct http_stream *stream, struct http_response *resp,
		   char *err, size_t errlen)
{
	struct transfer t = { .resp = resp, .stream = stream };
	struct curl_slist *headers = NULL;
	memset(resp, 0, sizeof *resp);
	resp->retry_after_s = -1;
	if (err && errlen)
		err[0] = '\0';
	if (!c || !req->method || !req->url || req->timeout_ms <= 0) {
		if (err && errlen)
			snprintf(err, errlen, "http: a request needs a method, a URL "
				 "and a positive timeout");
		return -EINVAL;
	}
	for (const char *const *h = req->headers; h && *h; h++) {
		struct curl_slist *l = curl_slist_append(headers, *h);
		if (!l) {
			wipe_slist(headers);
			describe(err, errlen, req->method, req->url, "out of memory");
			return -ENOMEM;
		}
		headers = l;
	}
	curl_easy_reset(c->easy);
	t.easy = c->easy;
	t.not_cancellable = c->not_cancellable;
	c->errbuf[0] = '\0';
	CURLcode cc = setup(c, req, headers, &t);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(c->easy);
	wipe_slist(headers);
	curl_slist_free_all(c->connect_to);
	c->connect_to = NULL;
	if (cc != CURLE_OK) {
		long os_errno = 0;
		curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &os_errno);
		int rc = errno_of(cc, os_errno, &t);
		char reason[CURL_ERROR_SIZE + 64];
		snprintf(reason, sizeof reason, "%s",
			 t.too_big ? "the response body is larger than 64 MiB"
			 : t.stream_cancelled ? "cancelled"
			 : rc == -ECANCELED ? "cancelled: ipad is stopping"
			 : t.stream_rc < 0 ? strerror(-t.stream_rc)
			 : c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		/* curl says "Couldn't connect to server": add the system's why */
		if (os_errno > 0 && !strstr(reason, strerror((int)os_errno)))
			snprintf(reason + strlen(reason), sizeof reason - strlen(reason),
				 " (%s)", strerror((int)os_errno));
		describe(err, errlen, req->method, req->url, reason);
		http_response_free(resp);
		if (t.stream_state == 1)  /* a streamed answer broke off */
			curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &resp->status);
		return rc;
	}
	if (!resp->body && !(resp->body = calloc(1, 1))) {
		describe(err, errlen, req->method, req->url, "out of memory");
		http_response_free(resp);
		return -ENOMEM;
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME, &resp->elapsed_s);
	return 0;
}

int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *resp, char *err, size_t errlen)
{
	return perform(c, req, NULL, resp, err, errlen);
}

int http_stream(struct http_client *c, const struct http_request *req,
		const struct http_stream *s, struct http_response *resp,
		char *err, size_t errlen)
{
	if (!s || !s->on_data) {
		memset(resp, 0, sizeof *resp);
		resp->retry_after_s = -1;
		if (err && errlen)
			snprintf(err, errlen, "http: a streamed request needs a "
				 "data callback");
		return -EINVAL;
	}
	return perform(c, req, s, resp, err, errlen);
}

char *http_escape(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!s || n > INT_MAX)
		return NULL;
	char *e = curl_easy_escape(NULL, s, (int)n);
	if (!e)
		return NULL;
	char *out = strdup(e);
	curl_free(e);
	return out;
}
