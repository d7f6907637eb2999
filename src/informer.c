/* informer — list+watch of IPA custom resources (see informer.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "informer.h"
#include "journal.h"

#define IPA_GROUP_VERSION "/apis/ipa.shafinhasnat.me/v1alpha1"
#define IPA_API_VERSION "ipa.shafinhasnat.me/v1alpha1"
#define IPA_KIND "IPA"
#define IPA_PLURAL "ipas"

#define LIST_LIMIT 500                   /* objects per page, as client-go */
#define LIST_MAX_BODY ((size_t)64 << 20) /* of one page */
#define WATCH_MIN_S 300                  /* client-go: 5..10 minutes */
#define WATCH_MAX_S 600
#define WATCH_MARGIN_MS 30000L           /* past timeoutSeconds: the server
					    did not end the watch */
#define BACKOFF_START_S 0.5
#define BACKOFF_MAX_S 30.0
#define SNIPPET_LEN 80                   /* of a skipped line in messages */

#define MANIFESTS "/usr/share/ipad/manifests/"

/* One object of the store. */
struct entry {
	char *ns;        /* metadata.namespace ("" when none) */
	char *name;
	char *rv;        /* metadata.resourceVersion */
	char *json;
	char *spec;      /* json without status, resourceVersion and
			    managedFields: a status write (ipad's own,
			    status.h) changes no target */
};

/* One list+watch loop of one path (client-go's reflector). */
struct reflector {
	struct informer *inf;
	const char *ns;            /* NULL: all namespaces (borrowed) */
	char *path;                /* the collection's path */
	struct http_client *hc;
	pthread_t thread;
	bool running;
	unsigned seed;             /* rand_r: timeouts and jitter */
	char *rv;                  /* last resourceVersion seen, or NULL */
	char *logged;              /* what failed when last logged, or NULL */
	char *problem;             /* the kind of skipped line logged last */
	char *error_event;         /* the message of an ERROR event (not 410) */
	unsigned long progress;    /* events but ERROR of the current watch */
};

struct informer {
	struct kube_cluster *k;
	char **namespaces;         /* NULL-terminated, or NULL: all */
	struct http_pool *pool;
	struct reflector *refl;
	size_t nrefl;
	atomic_int stop;
	bool started;
	pthread_mutex_t lock;      /* guards what follows */
	pthread_cond_t cond;       /* synced_count, stop */
	struct entry *items;       /* sorted by ns, then name */
	size_t count, cap;
	size_t synced_count;       /* reflectors whose first list is in */
	unsigned long version;
};

/* ---- the watch stream ---------------------------------------------------- */

static const char *str_item(const cJSON *obj, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
	return s && *s ? s : NULL;
}

void informer_event_clear(struct informer_event *ev)
{
	if (!ev)
		return;
	cJSON_Delete(ev->object);
	memset(ev, 0, sizeof *ev);
}

int informer_event_decode(const char *line, size_t len, struct informer_event *ev,
			  char *why, size_t whylen)
{
	static const char *const types[] = {
		[INFORMER_ADDED] = "ADDED", [INFORMER_MODIFIED] = "MODIFIED",
		[INFORMER_DELETED] = "DELETED", [INFORMER_BOOKMARK] = "BOOKMARK",
		[INFORMER_ERROR] = "ERROR",
	};
	memset(ev, 0, sizeof *ev);
	cJSON *root = cJSON_ParseWithLength(line, len);
	const char *type = str_item(root, "type");
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "object");
	int rc = -EBADMSG, t = -1;
	for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(type, types[i]) == 0)
			t = (int)i;
	if (!cJSON_IsObject(root))
		snprintf(why, whylen, "not JSON");
	else if (!type)
		snprintf(why, whylen, "not a watch event: no \"type\"");
	else if (t < 0)
		snprintf(why, whylen, "unknown event type \"%.40s\"", type);
	else if (!cJSON_IsObject(obj))
		snprintf(why, whylen, "%s event without an \"object\"", type);
	else
		rc = 0;
	if (rc < 0) {
		cJSON_Delete(root);
		return rc;
	}
	cJSON_DetachItemViaPointer(root, obj);
	cJSON_Delete(root);
	ev->type = (enum informer_event_type)t;
	ev->object = obj;
	if (ev->type == INFORMER_ERROR) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		ev->code = cJSON_IsNumber(code) ? (long)code->valuedouble : 0;
		ev->reason = str_item(obj, "reason");
		ev->message = str_item(obj, "message");
		return 0;
	}
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	ev->namespace_ = str_item(md, "namespace");
	ev->name = str_item(md, "name");
	ev->resource_version = str_item(md, "resourceVersion");
	if (!ev->resource_version)
		snprintf(why, whylen, "%s object has no metadata.resourceVersion",
			 types[t]);
	else if (!ev->name && ev->type != INFORMER_BOOKMARK)
		snprintf(why, whylen, "%s object has no metadata.name", types[t]);
	else
		return 0;
	informer_event_clear(ev);
	return -EBADMSG;
}

void informer_stream_init(struct informer_stream *s, size_t max_line,
			  informer_event_fn on_event, informer_problem_fn on_problem,
			  void *ctx)
{
	*s = (struct informer_stream){ .on_event = on_event,
				       .on_problem = on_problem, .ctx = ctx,
				       .max_line = max_line };
}

void informer_stream_free(struct informer_stream *s)
{
	if (!s)
		return;
	free(s->line);
	s->line = NULL;
	s->len = s->cap = 0;
}

bool informer_stream_pending(const struct informer_stream *s)
{
	return s->len > 0 || s->overlong;
}

/* At most SNIPPET_LEN printable characters of a line: controls become a
 * space, bytes outside ASCII '?'. */
static void snippet(const char *text, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o < SNIPPET_LEN; i++) {
		unsigned char ch = (unsigned char)text[i];
		out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : ch > 0x7f ? '?' : (char)ch;
	}
	out[o] = '\0';
}

static void skipped(struct informer_stream *s, const char *kind, const char *line,
		    size_t len, size_t total)
{
	char text[SNIPPET_LEN + 1], msg[512];
	snippet(line, len, text);
	s->skipped++;
	snprintf(msg, sizeof msg, "skipped a watch event line of %s%zu bytes (%s): "
		 "\"%s%s\"", total > len ? "more than " : "", total, kind, text,
		 len > SNIPPET_LEN || total > len ? "..." : "");
	if (s->on_problem)
		s->on_problem(s->ctx, kind, msg);
}

/* One complete line (without its newline). */
static int take_line(struct informer_stream *s, const char *line, size_t len)
{
	while (len > 0 && (line[0] == ' ' || line[0] == '\t' || line[0] == '\r'))
		line++, len--;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
			   line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return 0;
	struct informer_event ev;
	char why[128];
	int rc = informer_event_decode(line, len, &ev, why, sizeof why);
	if (rc == -EBADMSG) {
		skipped(s, why, line, len, len);
		return 0;
	}
	if (rc < 0)
		return rc;
	s->events++;
	rc = s->on_event ? s->on_event(s->ctx, &ev) : 0;
	informer_event_clear(&ev);
	return rc;
}

int informer_stream_feed(struct informer_stream *s, const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		size_t used = nl ? n + 1 : n;
		if (s->overlong) {
			s->overlong = nl == NULL;   /* its end: the next line starts */
		} else if (n > s->max_line - s->len) {
			char head[SNIPPET_LEN];
			size_t have = s->len < SNIPPET_LEN ? s->len : SNIPPET_LEN;
			memcpy(head, s->line, have);
			if (have < SNIPPET_LEN) {
				size_t more = n < SNIPPET_LEN - have ? n : SNIPPET_LEN - have;
				memcpy(head + have, data, more);
				have += more;
			}
			skipped(s, "overlong", head, have, s->max_line);
			s->len = 0;
			s->overlong = nl == NULL;
		} else if (nl && s->len == 0) {
			int rc = take_line(s, data, n);  /* whole: no copy */
			if (rc < 0)
				return rc;
		} else {
			if (s->len + n + 1 > s->cap) {
				size_t cap = s->cap ? s->cap : 4096;
				while (cap < s->len + n + 1)
					cap *= 2;
				char *grown = realloc(s->line, cap);
				if (!grown)
					return -ENOMEM;
				s->line = grown;
				s->cap = cap;
			}
			memcpy(s->line + s->len, data, n);
			s->len += n;
			if (nl) {
				size_t total = s->len;
				s->len = 0;
				int rc = take_line(s, s->line, total);
				if (rc < 0)
					return rc;
			}
		}
		data += used;
		len -= used;
	}
	return 0;
}

/* ---- the store (inf->lock held) ------------------------------------------ */

static void entry_free(struct entry *e)
{
	free(e->ns);
	free(e->name);
	free(e->rv);
	free(e->json);
	free(e->spec);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);
	return c ? c : strcmp(x->name, y->name);
}

/* The index of ns/name, or of where it would go (*found false). */
static size_t store_find(const struct informer *inf, const char *ns,
			 const char *name, bool *found)
{
	size_t lo = 0, hi = inf->count;
	struct entry key = { .ns = (char *)ns, .name = (char *)name };
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entry_cmp(&key, &inf->items[mid]);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Add or replace *e (taken over). Returns 0 or -ENOMEM (e freed). */
static int store_put(struct informer *inf, struct entry *e)
{
	bool found;
	size_t i = store_find(inf, e->ns, e->name, &found);
	if (found) {
		if (strcmp(inf->items[i].rv, e->rv) == 0) {
			entry_free(e);  /* the same version */
			return 0;
		}
		bool same = strcmp(inf->items[i].spec, e->spec) == 0;
		entry_free(&inf->items[i]);
		inf->items[i] = *e;
		if (!same)
			inf->version++;
		return 0;
	}
	if (inf->count == inf->cap) {
		size_t cap = inf->cap ? inf->cap * 2 : 16;
		struct entry *grown = realloc(inf->items, cap * sizeof *grown);
		if (!grown) {
			entry_free(e);
			return -ENOMEM;
		}
		inf->items = grown;
		inf->cap = cap;
	}
	memmove(&inf->items[i + 1], &inf->items[i],
		(inf->count - i) * sizeof *inf->items);
	inf->items[i] = *e;
	inf->count++;
	inf->version++;
	return 0;
}

static void store_delete(struct informer *inf, const char *ns, const char *name)
{
	bool found;
	size_t i = store_find(inf, ns, name, &found);
	if (!found)
		return;
	entry_free(&inf->items[i]);
	memmove(&inf->items[i], &inf->items[i + 1],
		(inf->count - i - 1) * sizeof *inf->items);
	inf->count--;
	inf->version++;
}

static bool in_scope(const struct entry *e, const char *ns)
{
	return !ns || strcmp(e->ns, ns) == 0;
}

/* Replace the objects of namespace ns (NULL: all) by the n sorted entries
 * of list (taken over); the version moves only when something differs but
 * status (the objects are replaced anyway: their status is current).
 * Returns 0 or -ENOMEM (list freed, the store unchanged). */
static int store_replace(struct informer *inf, const char *ns,
			 struct entry *list, size_t n)
{
	size_t old = 0, j = 0;
	bool same = true;
	for (size_t i = 0; i < inf->count; i++) {
		const struct entry *e = &inf->items[i];
		if (!in_scope(e, ns))
			continue;
		old++;
		if (j >= n || entry_cmp(e, &list[j]) != 0 || strcmp(e->spec, list[j].spec) != 0)
			same = false;
		j++;
	}
	same = same && old == n;
	size_t total = inf->count - old + n;
	struct entry *items = malloc((total ? total : 1) * sizeof *items);
	if (!items) {
		for (size_t i = 0; i < n; i++)
			entry_free(&list[i]);
		free(list);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < inf->count; i++) {
		if (in_scope(&inf->items[i], ns))
			entry_free(&inf->items[i]);
		else
			items[k++] = inf->items[i];
	}
	if (n)   /* memcpy and qsort with NULL are undefined, even for 0 */
		memcpy(items + k, list, n * sizeof *list);
	if (total)
		qsort(items, total, sizeof *items, entry_cmp);
	free(list);
	free(inf->items);
	inf->items = items;
	inf->count = inf->cap = total;
	if (!same)
		inf->version++;
	return 0;
}

/* An entry for object obj (apiVersion and kind added when missing, as on
 * list items). Returns 0, -EBADMSG (no name or resourceVersion) or -ENOMEM. */
static int entry_of(cJSON *obj, struct entry *e)
{
	memset(e, 0, sizeof *e);
	if (!cJSON_GetObjectItemCaseSensitive(obj, "apiVersion") &&
	    !cJSON_AddStringToObject(obj, "apiVersion", IPA_API_VERSION))
		return -ENOMEM;
	if (!cJSON_GetObjectItemCaseSensitive(obj, "kind") &&
	    !cJSON_AddStringToObject(obj, "kind", IPA_KIND))
		return -ENOMEM;
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *ns = str_item(md, "namespace"), *name = str_item(md, "name");
	const char *rv = str_item(md, "resourceVersion");
	if (!name || !rv)
		return -EBADMSG;
	e->ns = strdup(ns ? ns : "");
	e->name = strdup(name);
	e->rv = strdup(rv);
	e->json = cJSON_PrintUnformatted(obj);
	cJSON *copy = cJSON_Duplicate(obj, true);
	if (copy) {
		cJSON *cmd = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "status");
		cJSON_DeleteItemFromObjectCaseSensitive(cmd, "resourceVersion");
		cJSON_DeleteItemFromObjectCaseSensitive(cmd, "managedFields");
		e->spec = cJSON_PrintUnformatted(copy);
		cJSON_Delete(copy);
	}
	if (!e->ns || !e->name || !e->rv || !e->json || !e->spec) {
		entry_free(e);
		memset(e, 0, sizeof *e);
		return -ENOMEM;
	}
	return 0;
}

/* ---- one reflector ------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopping(const struct reflector *r)
{
	return atomic_load(&r->inf->stop) != 0;
}

/* Sleep s seconds, or less when the informer stops. */
static void pause_s(struct reflector *r, double s)
{
	struct informer *inf = r->inf;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)s;
	until.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&inf->lock);
	while (!atomic_load(&inf->stop) &&
	       pthread_cond_timedwait(&inf->cond, &inf->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&inf->lock);
}

/* The next reconnect delay: 0.5 s doubling up to 30 s per failure in a
 * row, with jitter (a random point in the upper half). */
static double backoff(struct reflector *r, unsigned *fails)
{
	double d = BACKOFF_START_S;
	for (unsigned i = 0; i < *fails && d < BACKOFF_MAX_S; i++)
		d *= 2;
	if (d > BACKOFF_MAX_S)
		d = BACKOFF_MAX_S;
	(*fails)++;
	return d / 2 + d / 2 * ((double)rand_r(&r->seed) / RAND_MAX);
}

static const char *scope(const struct reflector *r, char *buf, size_t len)
{
	if (r->ns)
		snprintf(buf, len, "namespace %s", r->ns);
	else
		snprintf(buf, len, "all namespaces");
	return buf;
}

/* Log msg at priority, unless the failure logged last was the same (key:
 * what failed how; the message may vary, e.g. "unreachable N s ago"). */
static void report(struct reflector *r, const char *key, int priority,
		   const char *msg)
{
	if (r->logged && strcmp(r->logged, key) == 0)
		return;
	free(r->logged);
	r->logged = strdup(key);
	journal_lifecycle(priority, "%s", msg);
}

/* A failed list or watch: say what to do (404: the CRD, 403: RBAC). */
static void report_failure(struct reflector *r, const char *what, long status,
			   int rc, const char *err)
{
	const char *cl = r->inf->k->name;
	char msg[2048], where[300], key[64];
	scope(r, where, sizeof where);
	snprintf(key, sizeof key, "%s %ld %d", what, status, rc);
	if (rc == -ECANCELED)
		return;   /* stopping */
	if (status == 404)
		snprintf(msg, sizeof msg, "cluster %s: the IPA CustomResourceDefinition "
			 "is not installed in cluster %s; kubectl apply -f "
			 MANIFESTS "ipa-crd.yaml (%s; IPA objects are not watched "
			 "until then, retrying)", cl, cl, err);
	else if (status == 403)
		snprintf(msg, sizeof msg, "cluster %s: ipad may not %s IPA objects in "
			 "%s; grant get, list and watch on ipas.ipa.shafinhasnat.me "
			 "to its user: kubectl apply -f " MANIFESTS "ipad-rbac.yaml "
			 "(%s; retrying)", cl, what, where, err);
	else if (status == 401)
		snprintf(msg, sizeof msg, "cluster %s: the API server refused the "
			 "credentials of the kubeconfig to %s IPA objects (%s; "
			 "retrying)", cl, what, err);
	else
		snprintf(msg, sizeof msg, "cluster %s: cannot %s IPA objects in %s: %s "
			 "(retrying)", cl, what, where, err);
	/* a watch broken off is routine (load balancers end idle streams) */
	report(r, key, status >= 200 && status <= 299 && rc != -EPROTO ? 6 : 4, msg);
}

/* The watch went well again: the next failure is logged again. */
static void report_ok(struct reflector *r, size_t count)
{
	char where[300];
	if (!r->logged)
		return;
	free(r->logged);
	r->logged = NULL;
	journal_lifecycle(5, "cluster %s: IPA objects in %s are listed and "
			  "watched again (%zu objects)", r->inf->k->name,
			  scope(r, where, sizeof where), count);
}

/* A skipped line is logged once per kind of problem in a row. */
static void on_problem(void *ctx, const char *kind, const char *text)
{
	struct reflector *r = ctx;
	if (r->problem && strcmp(r->problem, kind) == 0)
		return;
	free(r->problem);
	r->problem = strdup(kind);
	journal_lifecycle(4, "cluster %s: watch of IPA objects: %s", r->inf->k->name,
			  text);
}

static void set_rv(struct reflector *r, const char *rv)
{
	char *copy = strdup(rv);
	if (copy) {
		free(r->rv);
		r->rv = copy;
	}
}

/* ERROR 410 in a watch: relist (client-go's "too old resource version"). */
#define RELIST (-ESTALE)

static int on_event(void *ctx, const struct informer_event *ev)
{
	struct reflector *r = ctx;
	struct informer *inf = r->inf;
	struct entry e;
	int rc = 0;
	switch (ev->type) {
	case INFORMER_ADDED:
	case INFORMER_MODIFIED:
		rc = entry_of(ev->object, &e);
		if (rc == 0) {
			pthread_mutex_lock(&inf->lock);
			rc = store_put(inf, &e);
			pthread_mutex_unlock(&inf->lock);
		}
		break;
	case INFORMER_DELETED:
		pthread_mutex_lock(&inf->lock);
		store_delete(inf, ev->namespace_ ? ev->namespace_ : "", ev->name);
		pthread_mutex_unlock(&inf->lock);
		break;
	case INFORMER_BOOKMARK:
		break;
	case INFORMER_ERROR:
		if (ev->code == 410)
			return RELIST;
		free(r->error_event);
		if (asprintf(&r->error_event, "ERROR event %ld %s: %s", ev->code,
			     ev->reason ? ev->reason : "", ev->message ? ev->message
			     : "(no message)") < 0)
			r->error_event = NULL;
		return -EPROTO;
	}
	if (rc < 0)
		return rc;
	set_rv(r, ev->resource_version);
	r->progress++;
	return 0;
}

/* A list page's body, collected. */
struct body {
	char *data;
	size_t len, cap;
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct body *b = ctx;
	if (len > LIST_MAX_BODY - b->len)
		return -EFBIG;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *grown = realloc(b->data, cap);
		if (!grown)
			return -ENOMEM;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

/* Add the items of one list page to *list (n entries, cap); its
 * resourceVersion and continue token into *rv and *cont (replaced). */
static int take_page(struct reflector *r, const struct body *b, struct entry **list,
		     size_t *n, size_t *cap, char **rv, char **cont,
		     char *err, size_t errlen)
{
	cJSON *page = cJSON_ParseWithLength(b->data ? b->data : "", b->len);
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(page, "metadata");
	cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
	const char *prv = str_item(md, "resourceVersion"), *pcont = str_item(md, "continue");
	int rc = 0;
	if (!cJSON_IsObject(page) || !prv || !(cJSON_IsArray(items) || cJSON_IsNull(items))) {
		char text[SNIPPET_LEN + 1];
		snippet(b->data ? b->data : "", b->len, text);
		snprintf(err, errlen, "GET %s: the answer is not a list with "
			 "metadata.resourceVersion: \"%s\"", r->path, text);
		cJSON_Delete(page);
		return -EBADMSG;
	}
	free(*rv);
	free(*cont);
	*rv = strdup(prv);
	*cont = pcont ? strdup(pcont) : NULL;
	if (!*rv || (pcont && !*cont))
		rc = -ENOMEM;
	cJSON *item;
	cJSON_ArrayForEach(item, items) {
		if (rc < 0)
			break;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			struct entry *grown = realloc(*list, c * sizeof *grown);
			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			*list = grown;
			*cap = c;
		}
		int erc = cJSON_IsObject(item) ? entry_of(item, &(*list)[*n]) : -EBADMSG;
		if (erc == 0)
			(*n)++;
		else if (erc == -EBADMSG)
			on_problem(r, "list item", "a listed IPA object without "
				   "metadata.name or metadata.resourceVersion was "
				   "skipped");
		else
			rc = erc;
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "GET %s: out of memory", r->path);
	cJSON_Delete(page);
	return rc;
}

/* LIST with paging; replaces the reflector's part of the store and its
 * resourceVersion. *status: the HTTP status of a failed page, else 0. */
static int list(struct reflector *r, long *status, size_t *count, char *err,
		size_t errlen)
{
	struct informer *inf = r->inf;
	struct entry *items = NULL;
	size_t n = 0, cap = 0;
	char *rv = NULL, *cont = NULL;
	bool restarted = false;
	int rc;
	*status = 0;
	for (;;) {
		char *path = NULL, *econt = cont ? http_escape(cont) : NULL;
		struct body b = { 0 };
		struct kube_result res;
		if (asprintf(&path, "%s?limit=%d%s%s", r->path, LIST_LIMIT,
			     econt ? "&continue=" : "", econt ? econt : "") < 0)
			path = NULL;
		free(econt);
		if (!path || (cont && !econt)) {
			snprintf(err, errlen, "GET %s: out of memory", r->path);
			free(path);
			rc = -ENOMEM;
			break;
		}
		rc = kube_stream(inf->k, r->hc, path, 0, collect, &b, &inf->stop,
				 &res, err, errlen);
		free(path);
		*status = rc < 0 ? res.status : 0;
		kube_result_free(&res);
		if (rc == 0)
			rc = take_page(r, &b, &items, &n, &cap, &rv, &cont, err, errlen);
		free(b.data);
		if (rc < 0 && *status == 410 && cont && !restarted) {
			/* the continue token expired: a full list again */
			restarted = true;
			for (size_t i = 0; i < n; i++)
				entry_free(&items[i]);
			n = 0;
			free(cont);
			cont = NULL;
			continue;
		}
		if (rc < 0 || !cont)
			break;
	}
	if (rc == 0) {
		if (n)   /* qsort(NULL, 0) is undefined */
			qsort(items, n, sizeof *items, entry_cmp);
		pthread_mutex_lock(&inf->lock);
		rc = store_replace(inf, r->ns, items, n);
		items = NULL;
		n = 0;
		pthread_mutex_unlock(&inf->lock);
		if (rc < 0)
			snprintf(err, errlen, "GET %s: out of memory", r->path);
	}
	if (rc == 0) {
		free(r->rv);
		r->rv = rv;
		rv = NULL;
	}
	for (size_t i = 0; i < n; i++)
		entry_free(&items[i]);
	free(items);
	free(rv);
	free(cont);
	*count = 0;
	if (rc == 0) {
		pthread_mutex_lock(&inf->lock);
		for (size_t i = 0; i < inf->count; i++)
			*count += in_scope(&inf->items[i], r->ns);
		pthread_mutex_unlock(&inf->lock);
	}
	return rc;
}

static int feed(void *ctx, const char *data, size_t len)
{
	return informer_stream_feed(ctx, data, len);
}

/* One WATCH from r->rv until it ends. *status as in list(); *events: how
 * many events but ERROR it delivered. */
static int watch(struct reflector *r, long *status, unsigned long *events,
		 char *err, size_t errlen)
{
	struct informer *inf = r->inf;
	int timeout_s = WATCH_MIN_S + (int)(rand_r(&r->seed) % (WATCH_MAX_S - WATCH_MIN_S + 1));
	char *erv = http_escape(r->rv ? r->rv : ""), *path = NULL;
	struct informer_stream s;
	struct kube_result res;
	*status = 0;
	*events = 0;
	if (!erv || asprintf(&path, "%s?watch=1&resourceVersion=%s&allowWatchBookmarks=true"
			     "&timeoutSeconds=%d", r->path, erv, timeout_s) < 0) {
		free(erv);
		snprintf(err, errlen, "GET %s: out of memory", r->path);
		return -ENOMEM;
	}
	free(erv);
	informer_stream_init(&s, INFORMER_MAX_LINE, on_event, on_problem, r);
	r->progress = 0;
	int rc = kube_stream(inf->k, r->hc, path, timeout_s * 1000L + WATCH_MARGIN_MS,
			     feed, &s, &inf->stop, &res, err, errlen);
	free(path);
	/* the last line without its newline */
	if (rc == 0 && informer_stream_pending(&s))
		rc = informer_stream_feed(&s, "\n", 1);
	*status = res.status;
	*events = r->progress;
	kube_result_free(&res);
	informer_stream_free(&s);
	if (rc == -EPROTO && r->error_event) {
		snprintf(err, errlen, "GET %s: %s", r->path, r->error_event);
		free(r->error_event);
		r->error_event = NULL;
	}
	return rc;
}

static void synced(struct reflector *r, bool *listed)
{
	if (*listed)
		return;
	*listed = true;
	pthread_mutex_lock(&r->inf->lock);
	r->inf->synced_count++;
	pthread_cond_broadcast(&r->inf->cond);
	pthread_mutex_unlock(&r->inf->lock);
}

static void *run(void *arg)
{
	struct reflector *r = arg;
	unsigned fails = 0;
	bool need_list = true, listed = false, relisted = false;
	char err[1536], where[300];
	while (!stopping(r)) {
		long status;
		if (need_list) {
			size_t count;
			int rc = list(r, &status, &count, err, sizeof err);
			if (stopping(r))
				break;
			if (rc < 0) {
				report_failure(r, "list", status, rc, err);
				pause_s(r, backoff(r, &fails));
				continue;
			}
			if (!listed)
				journal_lifecycle(6, "cluster %s: %zu IPA objects listed "
						  "in %s; watching them", r->inf->k->name,
						  count, scope(r, where, sizeof where));
			report_ok(r, count);
			synced(r, &listed);
			need_list = false;
		}
		unsigned long events;
		double start = now_s();
		int rc = watch(r, &status, &events, err, sizeof err);
		if (stopping(r))
			break;
		bool delivered = events > 0;
		if (delivered)
			fails = 0;
		if (rc == RELIST || status == 410) {
			/* too old: relist at once, unless the last relist was
			 * no better (a compaction storm) */
			journal_lifecycle(7, "cluster %s: the resourceVersion of the IPA "
					  "watch is too old; listing again", r->inf->k->name);
			need_list = true;
			free(r->rv);
			r->rv = NULL;
			if (relisted && !delivered)
				pause_s(r, backoff(r, &fails));
			relisted = true;
			continue;
		}
		relisted = false;
		if (rc == 0) {
			/* the normal end (timeoutSeconds): watch again at once,
			 * unless the server ends watches as soon as they start */
			if (!delivered && now_s() - start < 1.0)
				pause_s(r, backoff(r, &fails));
			else
				fails = 0;
			continue;
		}
		report_failure(r, "watch", status, rc, err);
		/* 4xx but 429: list again (client-go: the watch failed, the
		 * reflector starts over); else resume from r->rv */
		if (status >= 400 && status <= 499 && status != 429)
			need_list = true;
		pause_s(r, backoff(r, &fails));
	}
	return NULL;
}

/* ---- the informer -------------------------------------------------------- */

static void free_namespaces(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Split "a, b c" into a NULL-terminated vector without repeats. */
static int split_namespaces(const char *text, char ***out)
{
	size_t n = 0, cap = 4;
	char **v = calloc(cap, sizeof *v);
	const char *seps = " \t,";
	if (!v)
		return -ENOMEM;
	for (const char *p = text + strspn(text, seps); *p; p += strspn(p, seps)) {
		size_t len = strcspn(p, seps);
		bool repeat = false;
		for (size_t i = 0; i < n; i++)
			repeat |= strlen(v[i]) == len && strncmp(v[i], p, len) == 0;
		if (!repeat) {
			if (n + 2 > cap) {
				char **grown = realloc(v, cap * 2 * sizeof *v);
				if (!grown) {
					free_namespaces(v);
					return -ENOMEM;
				}
				v = grown;
				cap *= 2;
			}
			if (!(v[n] = strndup(p, len))) {
				free_namespaces(v);
				return -ENOMEM;
			}
			v[++n] = NULL;
		}
		p += len;
	}
	*out = v;
	return n ? 0 : -EINVAL;
}

struct informer *informer_new(struct kube_cluster *k, const char *namespaces,
			      char *err, size_t errlen)
{
	struct informer *inf = calloc(1, sizeof *inf);
	const char *name = k && k->name ? k->name : "?";
	if (!inf) {
		snprintf(err, errlen, "cluster %s: IPA informer: out of memory", name);
		return NULL;
	}
	inf->k = k;
	atomic_init(&inf->stop, 0);
	pthread_mutex_init(&inf->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&inf->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (namespaces) {
		int rc = split_namespaces(namespaces, &inf->namespaces);
		if (rc == -EINVAL) {
			snprintf(err, errlen, "cluster %s: ipa-namespaces: names no "
				 "namespace; give namespaces separated by blanks or "
				 "commas, or leave it out for all namespaces", name);
			informer_free(inf);
			return NULL;
		}
		if (rc < 0) {
			inf->namespaces = NULL;
			snprintf(err, errlen, "cluster %s: IPA informer: out of memory", name);
			informer_free(inf);
			return NULL;
		}
	}
	size_t n = 1;
	if (inf->namespaces)
		for (n = 0; inf->namespaces[n]; n++)
			;
	inf->refl = calloc(n, sizeof *inf->refl);
	inf->pool = http_pool_new();
	if (!inf->refl || !inf->pool) {
		snprintf(err, errlen, "cluster %s: IPA informer: out of memory", name);
		informer_free(inf);
		return NULL;
	}
	inf->nrefl = n;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)inf;
	for (size_t i = 0; i < n; i++) {
		struct reflector *r = &inf->refl[i];
		r->inf = inf;
		r->seed = seed + (unsigned)i * 7919u;
		r->ns = inf->namespaces ? inf->namespaces[i] : NULL;
		errno = 0;
		if (r->ns)
			r->path = kube_path(IPA_GROUP_VERSION, r->ns, IPA_PLURAL, NULL, NULL);
		else if (asprintf(&r->path, "%s/%s", IPA_GROUP_VERSION, IPA_PLURAL) < 0)
			r->path = NULL;
		r->hc = http_client_new(inf->pool);
		if (!r->path && errno == EINVAL) {
			snprintf(err, errlen, "cluster %s: ipa-namespaces: \"%s\" is not "
				 "a namespace name", name, r->ns);
			informer_free(inf);
			return NULL;
		}
		if (!r->path || !r->hc) {
			snprintf(err, errlen, "cluster %s: IPA informer: out of memory", name);
			informer_free(inf);
			return NULL;
		}
	}
	return inf;
}

int informer_start(struct informer *inf)
{
	if (inf->started)
		return -EALREADY;
	inf->started = true;
	for (size_t i = 0; i < inf->nrefl; i++) {
		int rc = pthread_create(&inf->refl[i].thread, NULL, run, &inf->refl[i]);
		if (rc != 0)
			return -rc;   /* informer_free() stops the others */
		inf->refl[i].running = true;
	}
	return 0;
}

bool informer_wait_synced(struct informer *inf, long timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (timeout_ms < 0)
		timeout_ms = 0;
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&inf->lock);
	while (inf->synced_count < inf->nrefl &&
	       pthread_cond_timedwait(&inf->cond, &inf->lock, &until) != ETIMEDOUT)
		;
	bool done = inf->synced_count >= inf->nrefl;
	pthread_mutex_unlock(&inf->lock);
	return done;
}

unsigned long informer_version(struct informer *inf)
{
	pthread_mutex_lock(&inf->lock);
	unsigned long v = inf->version;
	pthread_mutex_unlock(&inf->lock);
	return v;
}

void informer_objects_free(char **objects, size_t count)
{
	for (size_t i = 0; objects && i < count; i++)
		free(objects[i]);
	free(objects);
}

int informer_objects(struct informer *inf, char ***objects, size_t *count, bool *synced_out)
{
	int rc = 0;
	*objects = NULL;
	*count = 0;
	pthread_mutex_lock(&inf->lock);
	*synced_out = inf->synced_count >= inf->nrefl;
	char **v = calloc(inf->count ? inf->count : 1, sizeof *v);
	size_t n = 0;
	for (; v && n < inf->count; n++)
		if (!(v[n] = strdup(inf->items[n].json)))
			break;
	if (!v || n < inf->count) {
		informer_objects_free(v, n);
		rc = -ENOMEM;
	} else {
		*objects = v;
		*count = n;
	}
	pthread_mutex_unlock(&inf->lock);
	return rc;
}

void informer_free(struct informer *inf)
{
	if (!inf)
		return;
	pthread_mutex_lock(&inf->lock);
	atomic_store(&inf->stop, 1);
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
	for (size_t i = 0; i < inf->nrefl; i++)
		if (inf->refl[i].running)
			pthread_join(inf->refl[i].thread, NULL);
	for (size_t i = 0; inf->refl && i < inf->nrefl; i++) {
		struct reflector *r = &inf->refl[i];
		http_client_free(r->hc);
		free(r->path);
		free(r->rv);
		free(r->logged);
		free(r->problem);
		free(r->error_event);
	}
	free(inf->refl);
	http_pool_free(inf->pool);
	for (size_t i = 0; i < inf->count; i++)
		entry_free(&inf->items[i]);
	free(inf->items);
	free_namespaces(inf->namespaces);
	pthread_cond_destroy(&inf->cond);
	pthread_mutex_destroy(&inf->lock);
	free(inf);
}
