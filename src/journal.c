/* journal — see journal.h. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cjson/cJSON.h>
/* CODE_FILE/CODE_LINE of journal.c would say nothing to a reader. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "journal.h"
#include "quantity.h"

#define MAX_FIELDS 48

static enum log_target sink = LOG_STDERR;
static enum log_format format = LOG_LOGFMT;
static atomic_bool name_clusters;    /* set between cycles, read by workers */
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

/* For the status line and the watchdog. */
static atomic_ulong decisions;
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_failure[256];

struct record {
	char *fields[MAX_FIELDS]; /* "NAME=value", owned */
	size_t count;
};

static void field(struct record *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void field(struct record *r, const char *name, const char *fmt, ...)
{
	char *value = NULL, *f = NULL;
	va_list ap;
	int n;

	if (r->count >= MAX_FIELDS)
		return;
	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (asprintf(&f, "%s=%s", name, value) >= 0)
		r->fields[r->count++] = f;
	free(value);
}

void journal_name_clusters(bool on)
{
	name_clusters = on;
}

enum log_target journal_open(enum log_target target, enum log_format fmt)
{
	format = fmt;
	if (target == LOG_AUTO)
		target = (getenv("JOURNAL_STREAM") ||
			  access("/run/systemd/journal/socket", W_OK) == 0)
			 ? LOG_JOURNAL : LOG_STDERR;
	sink = target;
	return sink;
}

static void put_logfmt_value(FILE *f, const char *v)
{
	const char *p;
	bool plain = *v != '\0';

	for (p = v; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\')
			plain = false;
	if (plain) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if ((unsigned char)*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void emit(struct record *r)
{
	size_t i;

	if (sink == LOG_JOURNAL) {
		struct iovec iov[MAX_FIELDS];
		for (i = 0; i < r->count; i++) {
			iov[i].iov_base = r->fields[i];
			iov[i].iov_len = strlen(r->fields[i]);
		}
		sd_journal_sendv(iov, (int)r->count);
	} else {
		char *line = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&line, &len);

		if (f) {
			if (format == LOG_JSON) {
				cJSON *o = cJSON_CreateObject();
				char *text;
				for (i = 0; o && i < r->count; i++) {
					char *eq = strchr(r->fields[i], '=');
					*eq = '\0';
					cJSON_AddStringToObject(o, r->fields[i], eq + 1);
					*eq = '=';
				}
				text = o ? cJSON_PrintUnformatted(o) : NULL;
				if (text)
					fputs(text, f);
				free(text);
				cJSON_Delete(o);
			} else {
				for (i = 0; i < r->count; i++) {
					char *eq = strchr(r->fields[i], '='), *k;
					if (i)
						fputc(' ', f);
					for (k = r->fields[i]; k < eq; k++)
						fputc(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k, f);
					fputc('=', f);
					put_logfmt_value(f, eq + 1);
				}
			}
			fputc('\n', f);
			fclose(f);
			pthread_mutex_lock(&stderr_lock);
			fwrite(line, 1, len, stderr);
			fflush(stderr);
			pthread_mutex_unlock(&stderr_lock);
		}
		free(line);
	}
	for (i = 0; i < r->count; i++)
		free(r->fields[i]);
	r->count = 0;
}

static void vmessage(int priority, const char *message_id, const char *fmt, va_list ap)
{
	struct record r = { .count = 0 };
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	field(&r, "MESSAGE", "%s", msg);
	field(&r, "PRIORITY", "%d", priority);
	field(&r, "MESSAGE_ID", "%s", message_id);
	field(&r, "SYSLOG_IDENTIFIER", "ipad");
	free(msg);
	emit(&r);
}

void journal_lifecycle(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(priority, IPAD_MESSAGE_LIFECYCLE, fmt, ap);
	va_end(ap);
}

void journal_message(int priority, const char *message_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(priority, message_id, fmt, ap);
	va_end(ap);
}

unsigned long journal_decision_count(void)
{
	return atomic_load(&decisions);
}

void journal_last_failure(char *buf, size_t len)
{
	pthread_mutex_lock(&failure_lock);
	snprintf(buf, len, "%s", last_failure);
	pthread_mutex_unlock(&failure_lock);
}

int journal_decision_priority(const struct decision_record *r)
{
	if (r->apply_failed)
		return DECISION_PRIORITY_ERROR;
	if (r->standby)
		return DECISION_PRIORITY_APPLIED;
	if (!r->decision)
		return DECISION_PRIORITY_FAILURE;
	return r->decision->priority;
}

static const char *cpu_q(int64_t v, char *buf)
{
	return v == RESOURCE_UNSET ? "none" : quantity_format_millicores(v, buf, QUANTITY_BUFSZ);
}

static const char *mem_q(int64_t v, char *buf)
{
	return v == RESOURCE_UNSET ? "none" : quantity_format_bytes(v, buf, QUANTITY_BUFSZ);
}

/* "cpu 100m/200m → 200m/400m, memory 128Mi/256Mi → 256Mi/512Mi" */
static void resources_change(const struct decision *d, char *buf, size_t len)
{
	char q[8][QUANTITY_BUFSZ];
	const struct resources *f = &d->resources_from, *t = &d->resources_to;

	snprintf(buf, len, "cpu %s/%s → %s/%s, memory %s/%s → %s/%s",
		 cpu_q(f->cpu_request_m, q[0]), cpu_q(f->cpu_limit_m, q[1]),
		 cpu_q(t->cpu_request_m, q[2]), cpu_q(t->cpu_limit_m, q[3]),
		 mem_q(f->memory_request_b, q[4]), mem_q(f->memory_limit_b, q[5]),
		 mem_q(t->memory_request_b, q[6]), mem_q(t->memory_limit_b, q[7]));
}

void journal_decision(const struct decision_record *r)
{
	const struct target *t = r->target;
	const struct decision *d = r->decision;
	const struct observation *o = r->observation;
	struct record rec = { .count = 0 };
	char what[400], why[200], adv[80], change[200], q[QUANTITY_BUFSZ];
	double util = o ? observation_cpu_utilization(o) : NAN;
	size_t used = 0;

	if (r->advisor_latency_ms >= 0)
		snprintf(adv, sizeof(adv), " (%s%s, %.1f s)", r->advisor,
			 r->fallback ? " failed, builtin fallback" : "",
			 (double)r->advisor_latency_ms / 1000.0);
	else
		adv[0] = '\0';

	why[0] = '\0';
	if (o && t->ingress && !isnan(o->request_rate))
		used += (size_t)snprintf(why, sizeof(why), "request rate %.1f/s",
					 o->request_rate);
	if (!isnan(util) && used < sizeof(why))
		snprintf(why + used, sizeof(why) - used, "%sCPU %.0f %% of requests",
			 used ? ", " : "", util);

	if (!d) {
		snprintf(what, sizeof(what), "hold: %s", r->standby ? r->standby
			 : r->error ? r->error : "not observed");
	} else {
		const char *verb = r->dry_run || d->recommend_only ? "would " : "";
		change[0] = '\0';
		if (d->action == ACTION_RESIZE || d->action == ACTION_SCALE_RESIZE)
			resources_change(d, change, sizeof(change));
		switch (d->action) {
		case ACTION_SCALE:
			snprintf(what, sizeof(what), "%sscale replicas %d → %d%s", verb,
				 d->replicas_from, d->replicas_to, adv);
			break;
		case ACTION_RESIZE:
			snprintf(what, sizeof(what), "%sresize %s: %s%s", verb,
				 d->container, change, adv);
			break;
		case ACTION_SCALE_RESIZE:
			snprintf(what, sizeof(what), "%sscale replicas %d → %d and resize %s: %s%s",
				 verb, d->replicas_from, d->replicas_to, d->container, change, adv);
			break;
		case ACTION_HOLD:
			snprintf(what, sizeof(what), "hold at %d replicas%s", d->replicas_from, adv);
			break;
		case ACTION_NONE:
			snprintf(what, sizeof(what), "replicas %d unchanged%s", d->replicas_from, adv);
			break;
		}
	}

	{
		char msg[1200];
		size_t m = (size_t)snprintf(msg, sizeof(msg), "%s%s%s/%s: %s",
					    name_clusters ? t->cluster : "",
					    name_clusters ? ": " : "", t->namespace,
					    t->deployment, what);
		if (r->apply_failed && m < sizeof(msg))
			m += (size_t)snprintf(msg + m, sizeof(msg) - m, " FAILED: %s", r->error);
		if (d && why[0] && m < sizeof(msg))
			m += (size_t)snprintf(msg + m, sizeof(msg) - m, ": %s", why);
		if (d && d->reason[0] && m < sizeof(msg))
			snprintf(msg + m, sizeof(msg) - m, " [%s]", d->reason);
		field(&rec, "MESSAGE", "%s", msg);
		if (journal_decision_priority(r) <= DECISION_PRIORITY_FAILURE) {
			pthread_mutex_lock(&failure_lock);
			snprintf(last_failure, sizeof(last_failure), "%.*s",
				 (int)sizeof(last_failure) - 1, msg);
			pthread_mutex_unlock(&failure_lock);
		}
	}
	field(&rec, "PRIORITY", "%d", journal_decision_priority(r));
	field(&rec, "MESSAGE_ID", "%s", IPAD_MESSAGE_DECISION);
	field(&rec, "SYSLOG_IDENTIFIER", "ipad");
	field(&rec, "IPA_CLUSTER", "%s", t->cluster);
	field(&rec, "IPA_NAMESPACE", "%s", t->namespace);
	field(&rec, "IPA_DEPLOYMENT", "%s", t->deployment);
	field(&rec, "IPA_NAME", "%s", t->ipa_name);
	field(&rec, "IPA_SOURCE", "%s", t->source);
	field(&rec, "IPA_ADVISOR", "%s", r->advisor);
	field(&rec, "IPA_ACTION", "%s", r->apply_failed ? "failed" :
	      d ? action_name(d->action) : "hold");
	if (r->dry_run)
		field(&rec, "IPA_DRY_RUN", "1");
	if (t->guard.mode != MODE_AUTO)
		field(&rec, "IPA_MODE", "%s", ipa_mode_names[t->guard.mode]);
	if (r->fallback)
		field(&rec, "IPA_FALLBACK", "%s", r->fallback);
	if (d) {
		field(&rec, "IPA_REPLICAS_FROM", "%d", d->replicas_from);
		field(&rec, "IPA_REPLICAS_TO", "%d", d->replicas_to);
		if (d->container) {
			const struct resources *f = &d->resources_from, *to = &d->resources_to;
			field(&rec, "IPA_CONTAINER", "%s", d->container);
			field(&rec, "IPA_CPU_REQUEST_FROM", "%s", cpu_q(f->cpu_request_m, q));
			field(&rec, "IPA_CPU_REQUEST_TO", "%s", cpu_q(to->cpu_request_m, q));
			field(&rec, "IPA_CPU_LIMIT_FROM", "%s", cpu_q(f->cpu_limit_m, q));
			field(&rec, "IPA_CPU_LIMIT_TO", "%s", cpu_q(to->cpu_limit_m, q));
			field(&rec, "IPA_MEMORY_REQUEST_FROM", "%s", mem_q(f->memory_request_b, q));
			field(&rec, "IPA_MEMORY_REQUEST_TO", "%s", mem_q(to->memory_request_b, q));
			field(&rec, "IPA_MEMORY_LIMIT_FROM", "%s", mem_q(f->memory_limit_b, q));
			field(&rec, "IPA_MEMORY_LIMIT_TO", "%s", mem_q(to->memory_limit_b, q));
		}
		if (d->reason[0])
			field(&rec, "IPA_REASON", "%s", d->reason);
	}
	if (r->advice) {
		char s[300];
		field(&rec, "IPA_ADVICE", "%s", advice_summary(r->advice, s, sizeof(s)));
		if (r->advice->rationale)
			field(&rec, "IPA_RATIONALE", "%s", r->advice->rationale);
		if (r->advice->tokens > 0)
			field(&rec, "IPA_ADVISOR_TOKENS", "%ld", r->advice->tokens);
	}
	if (r->advisor_latency_ms >= 0)
		field(&rec, "IPA_ADVISOR_LATENCY_MS", "%ld", r->advisor_latency_ms);
	if (o) {
		field(&rec, "IPA_READY_REPLICAS", "%d", o->ready_replicas);
		if (!isnan(util))
			field(&rec, "IPA_CPU_UTILIZATION", "%.1f", util);
		if (t->ingress && !isnan(o->request_rate))
			field(&rec, "IPA_REQUEST_RATE", "%.2f", o->request_rate);
		if (o->metrics_missing)
			field(&rec, "IPA_METRICS_MISSING", "%s", o->metrics_missing);
		if (o->metrics_error)
			field(&rec, "IPA_METRICS_ERROR", "%s", o->metrics_error);
	}
	if (r->standby)
		field(&rec, "IPA_REASON", "%s", r->standby);
	if (r->error)
		field(&rec, "IPA_ERROR", "%s", r->error);
	emit(&rec);
	atomic_fetch_add(&decisions, 1);
}
