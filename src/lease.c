/* lease — see lease.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "http.h"
#include "journal.h"
#include "lease.h"

#define LEASE_GROUP_VERSION "/apis/coordination.k8s.io/v1"
#define LEASE_RELEASE_MS 2000L

struct lease_timing lease_timing_for(int64_t duration_ms)
{
	struct lease_timing t;

	if (duration_ms < LEASE_DURATION_MIN_MS)
		duration_ms = LEASE_DURATION_MIN_MS;
	t.duration_ms = duration_ms;
	t.renew_deadline_ms = duration_ms * 2 / 3;
	t.retry_ms = duration_ms * 2 / 15;
	if (t.retry_ms < 1000)
		t.retry_ms = 1000;
	return t;
}

enum lease_verdict lease_decide(const struct lease_record *r, const char *identity,
				double observed_s, double now_s, long default_duration_s)
{
	long duration_s = r->duration_s > 0 ? r->duration_s : default_duration_s;

	if (!r->exists)
		return LEASE_CREATE;
	if (strcmp(r->holder, identity) == 0)
		return LEASE_RENEW;
	if (r->holder[0] == '\0' || now_s >= observed_s + (double)duration_s)
		return LEASE_ACQUIRE;
	return LEASE_STANDBY;
}

bool lease_still_valid(double renewed_s, double renew_deadline_s, double now_s)
{
	return renewed_s >= 0 && now_s < renewed_s + renew_deadline_s;
}

int lease_record_parse(const cJSON *obj, struct lease_record *out, char *err, size_t errlen)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec"), *v;

	memset(out, 0, sizeof(*out));
	out->exists = true;
	if (!cJSON_IsObject(obj) || (spec && !cJSON_IsObject(spec))) {
		snprintf(err, errlen, "the Lease has no spec object");
		return -EBADMSG;
	}
	v = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof(out->holder)) {
			snprintf(err, errlen, "the Lease's spec.holderIdentity is not a string "
				 "of at most %zu characters", sizeof(out->holder) - 1);
			return -EBADMSG;
		}
		snprintf(out->holder, sizeof(out->holder), "%s", v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
	if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e9)
		out->duration_s = (long)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
	if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 2147483647.0)
		out->transitions = (long)v->valuedouble;
	return 0;
}

char *lease_micro_time(int64_t unix_us, char *buf, size_t len)
{
	time_t secs = (time_t)(unix_us / 1000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(unix_us % 1000000));
	return buf;
}

/* Set obj[key] = v (owned), replacing what was there. */
static int set_item(cJSON *obj, const char *key, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v) ? 0 : -ENOMEM;
	if (!cJSON_AddItemToObject(obj, key, v)) {
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return 0;
}

/* obj[key] as an object, created when missing or not an object. */
static cJSON *object_item(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsObject(v))
		return v;
	if (set_item(obj, key, cJSON_CreateObject()) < 0)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int lease_record_write(cJSON *obj, enum lease_verdict v, const char *ns, const char *name,
		       const char *identity, long duration_s, const char *now)
{
	cJSON *spec, *meta;
	long transitions = 0;
	int rc = 0;

	if (v == LEASE_CREATE) {
		meta = object_item(obj, "metadata");
		if (!meta)
			return -ENOMEM;
		rc |= set_item(obj, "apiVersion", cJSON_CreateString("coordination.k8s.io/v1"));
		rc |= set_item(obj, "kind", cJSON_CreateString("Lease"));
		rc |= set_item(meta, "namespace", cJSON_CreateString(ns));
		rc |= set_item(meta, "name", cJSON_CreateString(name));
	}
	spec = object_item(obj, "spec");
	if (!spec)
		return -ENOMEM;
	if (v == LEASE_ACQUIRE) {
		cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
		if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 2147483646.0)
			transitions = (long)t->valuedouble;
		transitions++;
	}
	rc |= set_item(spec, "holderIdentity", cJSON_CreateString(identity));
	rc |= set_item(spec, "leaseDurationSeconds", cJSON_CreateNumber((double)duration_s));
	rc |= set_item(spec, "renewTime", cJSON_CreateString(now));
	if (v == LEASE_CREATE || v == LEASE_ACQUIRE) {
		rc |= set_item(spec, "acquireTime", cJSON_CreateString(now));
		rc |= set_item(spec, "leaseTransitions", cJSON_CreateNumber((double)transitions));
	}
	return rc ? -ENOMEM : 0;
}

int lease_record_release(cJSON *obj)
{
	cJSON *spec = object_item(obj, "spec");

	if (!spec || set_item(spec, "holderIdentity", cJSON_CreateString("")) < 0 ||
	    set_item(spec, "leaseDurationSeconds", cJSON_CreateNumber(1)) < 0)
		return -ENOMEM;
	return 0;
}

struct lease_elector {
	struct kube_cluster cluster; /* its own: it outlives reloads */
	struct kube_cluster *k;   /* &cluster */
	struct cluster_config cc; /* what cluster was made from (for _same) */
	char *configured_identity; /* [ipad] identity, or NULL */
	struct http_pool *pool;
	struct http_client *hc;
	char *ns, *name, *identity;
	char *path;               /* of the Lease */
	char *collection;         /* of the namespace's Leases (POST) */
	struct lease_timing tm;
	long request_ms;
	pthread_t thread;
	pthread_mutex_t lock;     /* guards what follows */
	pthread_cond_t cond;      /* CLOCK_MONOTONIC */
	bool stopping;
	bool tried;               /* the first try has ended */
	bool leading;             /* as the last try decided */
	double renewed_s;         /* send time of the last successful write, -1 */
	char holder[254];         /* holder last seen */
	char error[512];          /* the last try's failure, "" */
	/* the elector's thread only (and lease_elector_stop after the join) */
	cJSON *object;            /* the Lease as last read or written */
	char *seen_spec;          /* its spec printed: what "changing" compares */
	double observed_s;        /* monotonic s: seen_spec last changed */
	int logged_rc;            /* failure logged (0: none since a success) */
	char logged_holder[254];  /* standby logged for this holder */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long duration_seconds(const struct lease_elector *e)
{
	return (long)((e->tm.duration_ms + 999) / 1000);
}

/* Remember obj (owned) as the Lease last seen; its spec changing
 * restarts the local clock of expiry. */
static void seen(struct lease_elector *e, cJSON *obj, double at)
{
	char *spec = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(obj, "spec"));

	if (!spec || !e->seen_spec || strcmp(spec, e->seen_spec) != 0) {
		free(e->seen_spec);
		e->seen_spec = spec;
		e->observed_s = at;
	} else {
		free(spec);
	}
	cJSON_Delete(e->object);
	e->object = obj;
}

/* A failed request: said once per kind of failure until a try succeeds. */
static void failed(struct lease_elector *e, int rc, const char *err)
{
	pthread_mutex_lock(&e->lock);
	snprintf(e->error, sizeof(e->error), "%s", err);
	pthread_mutex_unlock(&e->lock);
	if (rc == e->logged_rc || rc == -ECANCELED)  /* said once; or ipad stops */
		return;
	e->logged_rc = rc;
	if (rc == -EACCES && strstr(err, "403"))
		journal_lifecycle(3, "cluster %s: Lease %s/%s: %s; ipad's user needs get, create "
				  "and update on leases in API group coordination.k8s.io in "
				  "namespace %s (the ClusterRole of "
				  "/usr/share/ipad/manifests/ipad-rbac.yaml grants them)",
				  e->k->name, e->ns, e->name, err, e->ns);
	else
		journal_lifecycle(4, "cluster %s: Lease %s/%s: %s; tried again every %.0f s",
				  e->k->name, e->ns, e->name, err, (double)e->tm.retry_ms / 1000.0);
}

static void standby(struct lease_elector *e, const char *holder)
{
	bool was;

	pthread_mutex_lock(&e->lock);
	was = e->leading;
	e->leading = false;
	snprintf(e->holder, sizeof(e->holder), "%s", holder);
	e->error[0] = '\0';
	pthread_mutex_unlock(&e->lock);
	e->logged_rc = 0;
	if (was)
		journal_lifecycle(4, "cluster %s: lost the Lease %s/%s: %s holds it now",
				  e->k->name, e->ns, e->name, holder);
	if (strcmp(e->logged_holder, holder) != 0) {
		snprintf(e->logged_holder, sizeof(e->logged_holder), "%s", holder);
		journal_lifecycle(6, "cluster %s: standby, Lease %s/%s is held by %s",
				  e->k->name, e->ns, e->name, holder);
	}
}

static void leading(struct lease_elector *e, enum lease_verdict v, double sent_s,
		    const char *previous)
{
	bool was;

	pthread_mutex_lock(&e->lock);
	was = e->leading;
	e->leading = true;
	e->renewed_s = sent_s;
	snprintf(e->holder, sizeof(e->holder), "%s", e->identity);
	e->error[0] = '\0';
	pthread_mutex_unlock(&e->lock);
	e->logged_rc = 0;
	e->logged_holder[0] = '\0';
	if (!was)
		journal_lifecycle(5, "cluster %s: leading (Lease %s/%s%s%s%s)", e->k->name,
				  e->ns, e->name,
				  v == LEASE_CREATE ? ", created" : v == LEASE_RENEW
				  ? ", already held by this identity" : "",
				  v == LEASE_ACQUIRE && previous[0] ? ", taken over from " : "",
				  v == LEASE_ACQUIRE ? previous : "");
}

/* GET the Lease into r (and e->object). */
static int read_lease(struct lease_elector *e, struct lease_record *r, char *err, size_t errlen)
{
	struct kube_result res;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = kube_request(e->k, e->hc, "GET", e->path, NULL, NULL, e->request_ms, &res,
			  err, errlen);
	if (rc == -ENOENT) {
		cJSON_Delete(e->object);
		e->object = NULL;
		kube_result_free(&res);
		return 0;
	}
	if (rc == 0)
		rc = lease_record_parse(res.object, r, err, errlen);
	if (rc == 0) {
		seen(e, res.object, mono_s());
		res.object = NULL;
	}
	kube_result_free(&res);
	return rc;
}

/* POST or PUT the verdict; on success e->object is the Lease written. */
static int write_lease(struct lease_elector *e, enum lease_verdict v, double *sent_s,
		       char *err, size_t errlen)
{
	struct kube_result res;
	char now[64], *body;
	cJSON *obj = v == LEASE_CREATE || !e->object ? cJSON_CreateObject()
		     : cJSON_Duplicate(e->object, true);
	int rc;

	if (!obj || lease_record_write(obj, v, e->ns, e->name, e->identity,
				       duration_seconds(e),
				       lease_micro_time(wall_us(), now, sizeof(now))) < 0 ||
	    !(body = cJSON_PrintUnformatted(obj))) {
		cJSON_Delete(obj);
		snprintf(err, errlen, "out of memory writing the Lease");
		return -ENOMEM;
	}
	cJSON_Delete(obj);
	*sent_s = mono_s();
	rc = kube_request(e->k, e->hc, v == LEASE_CREATE ? "POST" : "PUT",
			  v == LEASE_CREATE ? e->collection : e->path, "application/json",
			  body, e->request_ms, &res, err, errlen);
	free(body);
	if (rc == 0) {
		seen(e, res.object, *sent_s);
		res.object = NULL;
	}
	kube_result_free(&res);
	return rc;
}

/* One try: read, decide, write; a 409 (another host wrote first, or
 * created the Lease first) reads again at once, once. */
static void try_once(struct lease_elector *e)
{
	struct lease_record r;
	char err[1024], previous[254];
	double sent_s, renewed_s;
	int attempt, rc;
	bool was;

	for (attempt = 0; attempt < 2; attempt++) {
		enum lease_verdict v;

		rc = read_lease(e, &r, err, sizeof(err));
		if (rc < 0) {
			failed(e, rc, err);
			break;
		}
		v = lease_decide(&r, e->identity, e->observed_s, mono_s(), duration_seconds(e));
		if (v == LEASE_STANDBY) {
			standby(e, r.holder);
			break;
		}
		pthread_mutex_lock(&e->lock);
		was = e->stopping;
		pthread_mutex_unlock(&e->lock);
		if (was)
			break;
		snprintf(previous, sizeof(previous), "%s", r.holder);
		rc = write_lease(e, v, &sent_s, err, sizeof(err));
		if (rc == 0) {
			leading(e, v, sent_s, previous);
			break;
		}
		if (rc != -EBUSY || attempt == 1)
			failed(e, rc, err);
	}
	/* A leader that could not renew in time stops before the Lease can
	 * expire for the others. */
	pthread_mutex_lock(&e->lock);
	was = e->leading && !lease_still_valid(e->renewed_s,
					       (double)e->tm.renew_deadline_ms / 1000.0,
					       mono_s());
	if (was)
		e->leading = false;
	renewed_s = e->renewed_s;
	snprintf(err, sizeof(err), "%s", e->error);
	pthread_mutex_unlock(&e->lock);
	if (was)
		journal_lifecycle(4, "cluster %s: lost the Lease %s/%s: not renewed for %.1f s "
				  "(renew deadline %.1f s)%s%s; ipad stands by until it is "
				  "acquired again", e->k->name, e->ns, e->name,
				  mono_s() - renewed_s, (double)e->tm.renew_deadline_ms / 1000.0,
				  err[0] ? ": " : "", err);
}

static void *elector_main(void *arg)
{
	struct lease_elector *e = arg;
	struct timespec ts;
	double until;

	pthread_mutex_lock(&e->lock);
	while (!e->stopping) {
		pthread_mutex_unlock(&e->lock);
		try_once(e);
		pthread_mutex_lock(&e->lock);
		e->tried = true;
		pthread_cond_broadcast(&e->cond);
		until = mono_s() + (double)e->tm.retry_ms / 1000.0;
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		while (!e->stopping && mono_s() < until)
			pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static void elector_free(struct lease_elector *e)
{
	kube_cluster_free(&e->cluster);
	free(e->cc.name);
	free(e->cc.kubeconfig);
	free(e->cc.context);
	free(e->configured_identity);
	http_client_free(e->hc);
	http_pool_free(e->pool);
	cJSON_Delete(e->object);
	free(e->seen_spec);
	free(e->ns);
	free(e->name);
	free(e->identity);
	free(e->path);
	free(e->collection);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e);
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool lease_elector_same(const struct lease_elector *e, const struct cluster_config *cc,
			const struct ipad_config *cfg)
{
	return same_string(e->cc.name, cc->name) &&
	       same_string(e->cc.kubeconfig, cc->kubeconfig) &&
	       same_string(e->cc.context, cc->context) &&
	       e->cc.request_timeout_ms == cc->request_timeout_ms &&
	       same_string(e->ns, cfg->lease_namespace) && same_string(e->name, cfg->lease_name) &&
	       e->tm.duration_ms == lease_timing_for(cfg->lease_duration_ms).duration_ms &&
	       same_string(e->configured_identity, cfg->identity);
}
/* 8 hex digits drawn once per process (client-go's identity is
 * hostname_UUID): two hosts with the same name, or two processes on one
 * host, never hold the Lease together; a reload keeps the suffix. */
static pthread_once_t suffix_once = PTHREAD_ONCE_INIT;
static char suffix[9];

static void draw_suffix(void)
{
	unsigned int v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		v = (unsigned int)ts.tv_nsec ^ ((unsigned int)getpid() << 16);
	}
	snprintf(suffix, sizeof(suffix), "%08x", v);
}

static const char *process_suffix(void)
{
	pthread_once(&suffix_once, draw_suffix);
	return suffix;
}


struct lease_elector *lease_elector_start(const struct cluster_config *cc,
					  const struct ipad_config *cfg,
					  char *err, size_t errlen)
{
	struct lease_elector *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	sigset_t all, old;
	char host[256];
	int rc;

	if (!e) {
		snprintf(err, errlen, "cluster %s: out of memory for leader election", cc->name);
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	e->k = &e->cluster;
	if (kube_cluster_init(e->k, cc, err, errlen) < 0) {
		elector_free(e);
		return NULL;
	}
	e->cc.name = strdup(cc->name);
	e->cc.kubeconfig = cc->kubeconfig ? strdup(cc->kubeconfig) : NULL;
	e->cc.context = cc->context ? strdup(cc->context) : NULL;
	e->cc.request_timeout_ms = cc->request_timeout_ms;
	e->configured_identity = cfg->identity ? strdup(cfg->identity) : NULL;
	e->renewed_s = -1;
	e->tm = lease_timing_for(cfg->lease_duration_ms);
	e->request_ms = (long)(e->tm.duration_ms / 3);
	if (e->k->request_timeout_ms > 0 && e->k->request_timeout_ms < e->request_ms)
		e->request_ms = e->k->request_timeout_ms;
	if (cfg->identity) {
		snprintf(host, sizeof(host), "%s", cfg->identity);
	} else if (gethostname(host, sizeof(host) - 10) < 0 || !host[0]) {
		snprintf(err, errlen, "cluster %s: leader election: the host name is not known "
			 "(%s); set [ipad] identity", cc->name, strerror(errno));
		elector_free(e);
		return NULL;
	} else {
		host[sizeof(host) - 10] = '\0';
		snprintf(host + strlen(host), 10, "_%s", process_suffix());
	}
	host[sizeof(host) - 1] = '\0';
	if (strlen(host) >= sizeof(e->holder)) {
		snprintf(err, errlen, "cluster %s: leader election: identity \"%.40s...\" is "
			 "longer than %zu characters", cc->name, host, sizeof(e->holder) - 1);
		elector_free(e);
		return NULL;
	}
	e->ns = strdup(cfg->lease_namespace);
	e->name = strdup(cfg->lease_name);
	e->identity = strdup(host);
	e->path = kube_path(LEASE_GROUP_VERSION, cfg->lease_namespace, "leases",
			    cfg->lease_name, NULL);
	e->collection = kube_path(LEASE_GROUP_VERSION, cfg->lease_namespace, "leases",
				  NULL, NULL);
	e->pool = http_pool_new();
	e->hc = e->pool ? http_client_new(e->pool) : NULL;
	if (!e->ns || !e->name || !e->identity || !e->path || !e->collection || !e->hc ||
	    !e->cc.name || (cc->kubeconfig && !e->cc.kubeconfig) ||
	    (cc->context && !e->cc.context) || (cfg->identity && !e->configured_identity)) {
		snprintf(err, errlen, "cluster %s: leader election: out of memory, or lease-name "
			 "\"%s\" / lease-namespace \"%s\" is not a valid name", cc->name,
			 cfg->lease_name, cfg->lease_namespace);
		elector_free(e);
		return NULL;
	}
	/* The thread takes no signal: the main thread does. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&e->thread, NULL, elector_main, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cluster %s: leader election: no thread: %s", cc->name,
			 strerror(rc));
		elector_free(e);
		return NULL;
	}
	return e;
}

bool lease_elector_leading(struct lease_elector *e, long wait_ms, char *why, size_t len)
{
	double until = mono_s() + (double)(wait_ms > 0 ? wait_ms : 0) / 1000.0;
	struct timespec ts;
	bool ok;

	ts.tv_sec = (time_t)until;
	ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
	pthread_mutex_lock(&e->lock);
	while (!e->tried && !e->stopping && mono_s() < until)
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	ok = e->leading && lease_still_valid(e->renewed_s,
					     (double)e->tm.renew_deadline_ms / 1000.0, mono_s());
	if (!ok && why) {
		if (e->holder[0] && strcmp(e->holder, e->identity) != 0)
			snprintf(why, len, "standby: Lease %s/%s in cluster %s is held by %s",
				 e->ns, e->name, e->k->name, e->holder);
		else if (e->renewed_s >= 0)
			snprintf(why, len, "standby: Lease %s/%s in cluster %s was not renewed "
				 "within %.1f s%s%s", e->ns, e->name, e->k->name,
				 (double)e->tm.renew_deadline_ms / 1000.0,
				 e->error[0] ? ": " : "", e->error);
		else
			snprintf(why, len, "standby: Lease %s/%s in cluster %s is not acquired "
				 "yet%s%s", e->ns, e->name, e->k->name,
				 e->error[0] ? ": " : "", e->error);
	}
	pthread_mutex_unlock(&e->lock);
	return ok;
}

/* PUT the released Lease when this identity holds it as last seen. */
static void release(struct lease_elector *e)
{
	struct kube_result res;
	struct lease_record r;
	char err[1024], *body = NULL;
	cJSON *obj;
	int rc;

	if (!e->object || lease_record_parse(e->object, &r, err, sizeof(err)) < 0 ||
	    strcmp(r.holder, e->identity) != 0)
		return;
	obj = cJSON_Duplicate(e->object, true);
	if (!obj || lease_record_release(obj) < 0 || !(body = cJSON_PrintUnformatted(obj))) {
		cJSON_Delete(obj);
		journal_lifecycle(4, "cluster %s: the Lease %s/%s is not released: out of memory",
				  e->k->name, e->ns, e->name);
		return;
	}
	cJSON_Delete(obj);
	http_client_set_cancellable(e->hc, false);
	rc = kube_request(e->k, e->hc, "PUT", e->path, "application/json", body,
			  LEASE_RELEASE_MS, &res, err, sizeof(err));
	free(body);
	kube_result_free(&res);
	if (rc == 0)
		journal_lifecycle(6, "cluster %s: released the Lease %s/%s", e->k->name,
				  e->ns, e->name);
	else if (rc != -EBUSY)   /* 409: another host holds it already */
		journal_lifecycle(4, "cluster %s: the Lease %s/%s is not released: %s; another "
				  "host takes over when it expires (%ld s)", e->k->name, e->ns,
				  e->name, err, duration_seconds(e));
}

void lease_elector_stop(struct lease_elector *e, bool release_it)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	if (release_it)
		release(e);
	elector_free(e);
}
