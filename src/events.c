/* events — see events.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "events.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* RFC 3339 in seconds, UTC, as core/v1 Event timestamps. */
static void rfc3339(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct event_object events_deployment(const struct target *t, const char *uid)
{
	return (struct event_object){ "apps/v1", "Deployment", t->namespace,
				      t->deployment, uid };
}

struct event_object events_ipa(const struct target *t)
{
	return (struct event_object){ "ipa.shafinhasnat.me/v1alpha1", "IPA",
				      t->ipa_namespace, t->ipa_name, t->ipa_uid };
}

char *events_object(const struct event_object *io, const char *type,
		    const char *reason, const char *message, int64_t at_ns,
		    const char *instance, char *name, size_t namelen)
{
	cJSON *ev = cJSON_CreateObject(), *md, *inv, *src;
	char ts[32], msg[1025], *text = NULL;

	if (!ev)
		return NULL;
	snprintf(name, namelen, "%s.%llx", io->name, (unsigned long long)at_ns);
	snprintf(msg, sizeof(msg), "%s", message ? message : "");
	rfc3339(at_ns, ts, sizeof(ts));
	if (!cJSON_AddStringToObject(ev, "apiVersion", "v1") ||
	    !cJSON_AddStringToObject(ev, "kind", "Event") ||
	    !(md = cJSON_AddObjectToObject(ev, "metadata")) ||
	    !cJSON_AddStringToObject(md, "name", name) ||
	    !cJSON_AddStringToObject(md, "namespace", io->namespace) ||
	    !(inv = cJSON_AddObjectToObject(ev, "involvedObject")) ||
	    !cJSON_AddStringToObject(inv, "apiVersion", io->api_version) ||
	    !cJSON_AddStringToObject(inv, "kind", io->kind) ||
	    !cJSON_AddStringToObject(inv, "name", io->name) ||
	    !cJSON_AddStringToObject(inv, "namespace", io->namespace) ||
	    (io->uid && !cJSON_AddStringToObject(inv, "uid", io->uid)) ||
	    !cJSON_AddStringToObject(ev, "type", type) ||
	    !cJSON_AddStringToObject(ev, "reason", reason) ||
	    !cJSON_AddStringToObject(ev, "message", msg) ||
	    !cJSON_AddStringToObject(ev, "firstTimestamp", ts) ||
	    !cJSON_AddStringToObject(ev, "lastTimestamp", ts) ||
	    !cJSON_AddNumberToObject(ev, "count", 1) ||
	    !(src = cJSON_AddObjectToObject(ev, "source")) ||
	    !cJSON_AddStringToObject(src, "component", EVENTS_COMPONENT) ||
	    !cJSON_AddStringToObject(ev, "reportingComponent", EVENTS_COMPONENT) ||
	    !cJSON_AddStringToObject(ev, "reportingInstance", instance))
		goto out;
	text = cJSON_PrintUnformatted(ev);
out:
	cJSON_Delete(ev);
	return text;
}

static struct event_memory_slot *slot_for(struct event_memory *mem, const char *reason)
{
	struct event_memory_slot *oldest = NULL;
	int i;

	if (!mem)
		return NULL;
	for (i = 0; i < EVENTS_MEMORY_SLOTS; i++) {
		struct event_memory_slot *s = &mem->slots[i];
		if (strcmp(s->reason, reason) == 0)
			return s;
		if (!oldest || s->last_ms < oldest->last_ms)
			oldest = s;
	}
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->reason, sizeof(oldest->reason), "%s", reason);
	return oldest;
}

/* PATCH count and lastTimestamp of the remembered Event. */
static int aggregate(const struct event_object *io, struct kube_cluster *k,
		     struct http_client *hc, long timeout_ms,
		     struct event_memory_slot *s, int64_t at_ns, char *err, size_t errlen)
{
	char ts[32], *path = kube_path("/api/v1", io->namespace, "events", s->name, NULL);
	char *body = NULL;
	int r = -ENOMEM;

	rfc3339(at_ns, ts, sizeof(ts));
	if (path && asprintf(&body, "{\"count\":%d,\"lastTimestamp\":\"%s\"}", s->count + 1, ts) >= 0)
		r = kube_request(k, hc, "PATCH", path, "application/merge-patch+json",
				 body, timeout_ms, NULL, err, errlen);
	else
		snprintf(err, errlen, "out of memory");
	free(path);
	free(body);
	return r;
}

int events_emit(const struct event_object *io, struct kube_cluster *k,
		struct http_client *hc, long timeout_ms,
		const char *type, const char *reason, const char *message,
		struct event_memory *mem, char *err, size_t errlen)
{
	int64_t at = now_ns();
	struct event_memory_slot *s = NULL;
	char host[256], name[320], *body = NULL, *path = NULL;
	int r;

	if (strcmp(type, "Warning") == 0)
		s = slot_for(mem, reason);
	if (s && s->count > 0 && strncmp(s->message, message, sizeof(s->message) - 1) == 0 &&
	    at / 1000000 - s->last_ms < (int64_t)EVENTS_AGGREGATE_S * 1000) {
		r = aggregate(io, k, hc, timeout_ms, s, at, err, errlen);
		if (r == 0) {
			s->count++;
			s->last_ms = at / 1000000;
			return 0;
		}
		if (r != -ENOENT)
			return r;
		/* The Event expired (or was deleted): a new one. */
	}
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	body = events_object(io, type, reason, message, at, host, name, sizeof(name));
	path = kube_path("/api/v1", io->namespace, "events", NULL, NULL);
	if (!body || !path) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = kube_request(k, hc, "POST", path, "application/json", body, timeout_ms,
			 NULL, err, errlen);
	if (r == 0 && s) {
		snprintf(s->name, sizeof(s->name), "%s", name);
		snprintf(s->message, sizeof(s->message), "%s", message);
		s->count = 1;
		s->last_ms = at / 1000000;
	}
out:
	free(body);
	free(path);
	return r;
}
