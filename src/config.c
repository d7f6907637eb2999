/* config — ipad.conf, read with inih.
 *
 * Debian's inih gives the handler no line number, cuts section names at 50
 * bytes and splits lines longer than 200 bytes into two. We therefore feed
 * inih through our own line reader (ini_parse_stream): it knows the number
 * and the full text of the line inih is working on, so every message can
 * name its line, section headers are read whole, and over-long lines are
 * reported and skipped instead of being split. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "duration.h"
#include "quantity.h"

#define CONFIG_MAX_SIZE (1024 * 1024)
/* After this many problems in one file the rest are not listed. */
#define CONFIG_MAX_PROBLEMS 100

enum section_kind {
	SEC_NONE = 0,  /* before the first section header */
	SEC_IPAD,
	SEC_DEFAULTS,
	SEC_ADVISOR,
	SEC_CLUSTER,
	SEC_IGNORED,   /* unknown or refused: already reported, keys skipped */
};

static const char *const section_names[] = {
	[SEC_IPAD] = "ipad", [SEC_DEFAULTS] = "defaults",
	[SEC_ADVISOR] = "advisor", [SEC_CLUSTER] = "cluster",
};
/* For suggestions: compared with "[" header "]". */
static const char *const section_list[] = { "[ipad]", "[defaults]",
					    "[advisor]", "[cluster]", NULL };

enum value_kind { V_DURATION, V_INT, V_NUMBER, V_BOOL, V_ENUM, V_PATH,
		  V_PATH_LIST, V_STRING, V_URL,
		  V_CPU, V_MEMORY };

static const char *const advisor_names[] = { "builtin", "ipa-agent", "gemini",
					       "openai", NULL };
static const char *const log_target_names[] = { "auto", "journal", "stderr",
						NULL };
static const char *const log_format_names[] = { "logfmt", "json", NULL };

/* Enumerations are stored through an int*. */
_Static_assert(sizeof(enum advisor_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_target) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ipa_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fallback_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum controlled_values) == sizeof(int), "enum size");
_Static_assert(sizeof(enum select_policy) == sizeof(int), "enum size");

struct key {
	enum section_kind section;
	const char *name;
	enum value_kind kind;
	size_t offset;  /* in struct cluster_config for SEC_CLUSTER, else in
			   struct ipad_config */
	double min, max; /* V_INT, V_NUMBER; V_DURATION in ms */
	bool min_open, max_open;
	const char *const *choices; /* V_ENUM */
};

#define IPAD(f) offsetof(struct ipad_config, f)
#define CLUSTER(f) offsetof(struct cluster_config, f)

static const struct key keys[] = {
	{ SEC_IPAD, "interval", V_DURATION, IPAD(interval_ms), 1000, 86400000,
	  false, false, NULL },
	{ SEC_IPAD, "metrics-window", V_DURATION, IPAD(metrics_window_ms), 1000,
	  3600000, false, false, NULL },
	{ SEC_IPAD, "state-directory", V_PATH, IPAD(state_directory), 0, 0,
	  false, false, NULL },
	{ SEC_IPAD, "dry-run", V_BOOL, IPAD(dry_run), 0, 0, false, false, NULL },
	{ SEC_IPAD, "concurrency", V_INT, IPAD(concurrency), 1, 256,
	  false, false, NULL },
	{ SEC_IPAD, "targets", V_PATH, IPAD(targets), 0, 0, false, false, NULL },
	{ SEC_IPAD, "log-target", V_ENUM, IPAD(log_target), 0, 0, false, false,
	  log_target_names },
	{ SEC_IPAD, "log-format", V_ENUM, IPAD(log_format), 0, 0, false, false,
	  log_format_names },
	{ SEC_IPAD, "leader-election", V_BOOL, IPAD(leader_election), 0, 0, false,
	  false, NULL },
	{ SEC_IPAD, "lease-namespace", V_STRING, IPAD(lease_namespace), 0, 0, false,
	  false, NULL },
	{ SEC_IPAD, "lease-name", V_STRING, IPAD(lease_name), 0, 0, false, false,
	  NULL },
	{ SEC_IPAD, "lease-duration", V_DURATION, IPAD(lease_duration_ms), 5000,
	  300000, false, false, NULL },
	{ SEC_IPAD, "identity", V_STRING, IPAD(identity), 0, 0, false, false, NULL },
	{ SEC_DEFAULTS, "min-replicas", V_INT, IPAD(min_replicas), 0, 100000,
	  false, false, NULL },
	{ SEC_DEFAULTS, "max-replicas", V_INT, IPAD(max_replicas), 1, 100000,
	  false, false, NULL },
	{ SEC_DEFAULTS, "mode", V_ENUM, IPAD(defaults.mode), 0, 0, false, false,
	  ipa_mode_names },
	{ SEC_DEFAULTS, "fallback", V_ENUM, IPAD(defaults.fallback), 0, 0, false,
	  false, fallback_names },
#define SCALING_KEYS(dir, f) \
	{ SEC_DEFAULTS, "scale-" dir "-stabilization", V_DURATION, \
	  IPAD(defaults.f.stabilization_ms), 0, 3600000, false, false, NULL }, \
	{ SEC_DEFAULTS, "scale-" dir "-pods", V_INT, IPAD(defaults.f.pods), \
	  0, 100000, false, false, NULL }, \
	{ SEC_DEFAULTS, "scale-" dir "-pods-period", V_DURATION, \
	  IPAD(defaults.f.pods_period_ms), 1000, 1800000, false, false, NULL }, \
	{ SEC_DEFAULTS, "scale-" dir "-percent", V_INT, IPAD(defaults.f.percent), \
	  0, 100000, false, false, NULL }, \
	{ SEC_DEFAULTS, "scale-" dir "-percent-period", V_DURATION, \
	  IPAD(defaults.f.percent_period_ms), 1000, 1800000, false, false, NULL }, \
	{ SEC_DEFAULTS, "scale-" dir "-select-policy", V_ENUM, \
	  IPAD(defaults.f.select), 0, 0, false, false, select_policy_names }
	SCALING_KEYS("up", up),
	SCALING_KEYS("down", down),
#undef SCALING_KEYS
	{ SEC_DEFAULTS, "min-allowed-cpu", V_CPU, IPAD(defaults.min_cpu_m), 1,
	  1e9, false, false, NULL },
	{ SEC_DEFAULTS, "max-allowed-cpu", V_CPU, IPAD(defaults.max_cpu_m), 1,
	  1e9, false, false, NULL },
	{ SEC_DEFAULTS, "min-allowed-memory", V_MEMORY, IPAD(defaults.min_memory_b),
	  4194304, 1e15, false, false, NULL },
	{ SEC_DEFAULTS, "max-allowed-memory", V_MEMORY, IPAD(defaults.max_memory_b),
	  4194304, 1e15, false, false, NULL },
	{ SEC_DEFAULTS, "controlled-values", V_ENUM, IPAD(defaults.controlled), 0,
	  0, false, false, controlled_values_names },
	{ SEC_DEFAULTS, "memory-margin", V_INT, IPAD(defaults.memory_margin_percent),
	  0, 1000, false, false, NULL },
	{ SEC_DEFAULTS, "resize-threshold", V_INT,
	  IPAD(defaults.resize_threshold_percent), 0, 100, false, false, NULL },
	{ SEC_DEFAULTS, "resize-cooldown", V_DURATION,
	  IPAD(defaults.resize_cooldown_ms), 0, 86400000, false, false, NULL },
	{ SEC_ADVISOR, "type", V_ENUM, IPAD(advisor), 0, 0, false, false,
	  advisor_names },
	{ SEC_ADVISOR, "timeout", V_DURATION, IPAD(advisor_timeout_ms),
	  100, 600000, false, false, NULL },
	{ SEC_ADVISOR, "url", V_URL, IPAD(advisor_url), 0, 0, false, false, NULL },
	{ SEC_ADVISOR, "model", V_STRING, IPAD(advisor_model), 0, 0, false, false,
	  NULL },
	{ SEC_ADVISOR, "api-key-file", V_PATH, IPAD(advisor_key_file), 0, 0, false,
	  false, NULL },
	{ SEC_ADVISOR, "api-key-credential", V_STRING, IPAD(advisor_key_credential),
	  0, 0, false, false, NULL },
	{ SEC_ADVISOR, "target-cpu-utilization", V_NUMBER,
	  IPAD(target_cpu_utilization), 0, 1000, true, false, NULL },
	{ SEC_ADVISOR, "tolerance", V_NUMBER, IPAD(tolerance), 0, 1,
	  false, true, NULL },
	{ SEC_CLUSTER, "kubeconfig", V_PATH_LIST, CLUSTER(kubeconfig), 0, 0,
	  false, false, NULL },
	{ SEC_CLUSTER, "context", V_STRING, CLUSTER(context), 0, 0,
	  false, false, NULL },
	{ SEC_CLUSTER, "prometheus", V_URL, CLUSTER(prometheus), 0, 0,
	  false, false, NULL },
	{ SEC_CLUSTER, "request-timeout", V_DURATION,
	  CLUSTER(request_timeout_ms), 100, 600000, false, false, NULL },
	{ SEC_CLUSTER, "targets", V_PATH, CLUSTER(targets), 0, 0,
	  false, false, NULL },
	{ SEC_CLUSTER, "default", V_BOOL, CLUSTER(is_default), 0, 0,
	  false, false, NULL },
	{ SEC_CLUSTER, "concurrency", V_INT, CLUSTER(concurrency), 1, 256,
	  false, false, NULL },
	{ SEC_CLUSTER, "watch-ipas", V_BOOL, CLUSTER(watch_ipas), 0, 0,
	  false, false, NULL },
	{ SEC_CLUSTER, "ipa-namespaces", V_STRING, CLUSTER(ipa_namespaces), 0, 0,
	  false, false, NULL },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Everything the reader and the handler share while one file is read. */
struct state {
	struct ipad_config *cfg;
	struct diag *d;
	const char *path;
	char *dir;             /* absolute directory of path */
	const char *buf;       /* the whole file */
	size_t len, pos;
	int line;              /* of the line inih is working on */
	enum section_kind section;
	char section_text[256]; /* the current header as written, for messages */
	bool cluster_open;     /* the last cluster section is not checked yet */
	char cluster_text[256]; /* its header ("cluster", "cluster eu") */
	int seen[NKEYS];       /* line where each key was set, 0: not set */
	int problems;
	bool oom;
};

/* Report a problem of the line being read ("PATH:LINE: ..."), or of the
 * whole file with line 0. Stops listing after CONFIG_MAX_PROBLEMS. */
static void problem(struct state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct state *st, int line, const char *fmt, ...)
{
	if (st->problems++ == CONFIG_MAX_PROBLEMS) {
		diag_error(st->d, "%s: too many problems; not listing more",
			   st->path);
		return;
	}
	if (st->problems > CONFIG_MAX_PROBLEMS)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		diag_error(st->d, "%s:%d: %s", st->path, line, msg);
	else
		diag_error(st->d, "%s: %s", st->path, msg);
}

/* A name as it can appear in a message: as is when it is plain, quoted
 * when it holds anything else. */
static const char *shown(const char *name, char *buf, size_t len)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._- ");
	if (*name && !name[n])
		return name;
	return diag_quote(name, buf, len);
}

/* "[section] key: " for messages. */
static char *where(const struct state *st, const char *name, char *buf,
		   size_t len)
{
	char q[DIAG_QUOTE_BUFSZ];
	if (st->section == SEC_NONE)
		snprintf(buf, len, "%s", shown(name, q, sizeof(q)));
	else
		snprintf(buf, len, "[%s] %s", st->section_text,
			 shown(name, q, sizeof(q)));
	return buf;
}

static const struct key *find_key(enum section_kind section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == section && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* The names of the keys of section, NULL-terminated, into list. */
static void key_names(enum section_kind section, const char **list)
{
	size_t n = 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == section)
			list[n++] = keys[i].name;
	list[n] = NULL;
}

static char *path_resolve(const char *dir, const char *value)
{
	if (value[0] == '/')
		return strdup(value);
	while (value[0] == '.' && value[1] == '/')
		for (value += 2; *value == '/'; value++)
			;
	if (!*value || strcmp(value, ".") == 0) /* "." or "./": dir itself */
		return strdup(dir);
	char *out = NULL;
	if (asprintf(&out, "%s/%s", strcmp(dir, "/") ? dir : "", value) < 0)
		return NULL;
	return out;
}

/* Whether the ':'-separated list holds item. */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ":");
		if (len == n && strncmp(p, item, n) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

/* A ':'-separated list of paths ($KUBECONFIG style) with every entry
 * resolved against dir, empty and repeated entries dropped (client-go).
 * NULL on allocation failure. */
static char *path_list_resolve(const char *dir, const char *value)
{
	size_t cap = 1, len = 0;
	char *out = NULL, *copy = strdup(value), *save = NULL;
	for (const char *p = value; copy && *p; p++)
		cap += *p == ':';
	cap = (cap + 1) * (strlen(dir) + 2) + strlen(value) + 1;
	if (copy)
		out = calloc(1, cap);
	for (char *e = out ? strtok_r(copy, ":", &save) : NULL; e;
	     e = strtok_r(NULL, ":", &save)) {
		char *abs = path_resolve(dir, e);
		if (!abs) {
			free(out);
			out = NULL;
			break;
		}
		if (!list_has(out, abs))
			len += (size_t)snprintf(out + len, cap - len, "%s%s",
						len ? ":" : "", abs);
		free(abs);
	}
	free(copy);
	return out;
}

/* Absolute directory of path, malloc'd. */
static char *config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : strdup(".");
	if (!dir || dir[0] == '/')
		return dir;
	char cwd[4096];
	char *abs = getcwd(cwd, sizeof(cwd)) ? path_resolve(cwd, dir) : NULL;
	free(dir);
	return abs;
}

static char *range_text(const struct key *k, char *buf, size_t len)
{
	char lo[32], hi[32];
	if (k->kind == V_DURATION) {
		duration_format((int64_t)k->min, lo, sizeof(lo));
		duration_format((int64_t)k->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%g", k->min);
		snprintf(hi, sizeof(hi), "%g", k->max);
	}
	if (k->min_open)
		snprintf(buf, len, "more than %s and at most %s", lo, hi);
	else if (k->max_open)
		snprintf(buf, len, "at least %s and less than %s", lo, hi);
	else
		snprintf(buf, len, "from %s to %s", lo, hi);
	return buf;
}

static bool in_range(const struct key *k, double v)
{
	return (k->min_open ? v > k->min : v >= k->min) &&
	       (k->max_open ? v < k->max : v <= k->max);
}

static bool parse_int(const char *s, long long *v)
{
	const char *p = s + (*s == '-' || *s == '+');
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return false;
	errno = 0;
	char *end;
	*v = strtoll(s, &end, 10);
	return errno == 0 && !*end;
}

static bool parse_number(const char *s, double *v)
{
	const char *p = s + (*s == '-' || *s == '+');
	size_t whole = strspn(p, "0123456789");
	size_t frac = p[whole] == '.' ? strspn(p + whole + 1, "0123456789") : 0;
	size_t n = whole + (p[whole] == '.' ? 1 + frac : 0);
	if (whole + frac == 0 || p[n])
		return false;
	char *end;
	*v = strtod(s, &end);
	return !*end;
}

static bool parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*v = strcasecmp(s, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

/* Replace *field by value (owned, from an allocation that may have
 * failed: NULL then means out of memory). */
static void set_string(struct state *st, char **field, char *value)
{
	if (!value)
		st->oom = true;
	free(*field);
	*field = value;
}

/* Clear an optional string: an empty value means "not set". */
static void clear_string(char **field)
{
	free(*field);
	*field = NULL;
}

/* Parse value for k and store it; report what is wrong otherwise. */
static void set_value(struct state *st, const struct key *k, const char *name,
		      const char *value)
{
	char *base = k->section == SEC_CLUSTER
		     ? (char *)&st->cfg->clusters[st->cfg->cluster_count - 1]
		     : (char *)st->cfg;
	void *field = base + k->offset;
	char at[512], q[DIAG_QUOTE_BUFSZ], range[96], err[512];
	where(st, name, at, sizeof(at));
	diag_quote(value, q, sizeof(q));

	switch (k->kind) {
	case V_DURATION: {
		int64_t ms;
		if (duration_parse_ms(value, &ms, err, sizeof(err)) < 0)
			problem(st, st->line, "%s: %s", at, err);
		else if (!in_range(k, (double)ms))
			problem(st, st->line, "%s: %s is out of range; use a value %s",
				at, q, range_text(k, range, sizeof(range)));
		else
			*(int64_t *)field = ms;
		break;
	}
	case V_INT: {
		long long v;
		if (!parse_int(value, &v))
			problem(st, st->line, "%s: %s is not a whole number; use one %s",
				at, q, range_text(k, range, sizeof(range)));
		else if (!in_range(k, (double)v))
			problem(st, st->line, "%s: %s is out of range; use a value %s",
				at, q, range_text(k, range, sizeof(range)));
		else
			*(int *)field = (int)v;
		break;
	}
	case V_NUMBER: {
		double v;
		if (!parse_number(value, &v))
			problem(st, st->line, "%s: %s is not a number; use one %s",
				at, q, range_text(k, range, sizeof(range)));
		else if (!in_range(k, v))
			problem(st, st->line, "%s: %s is out of range; use a value %s",
				at, q, range_text(k, range, sizeof(range)));
		else
			*(double *)field = v;
		break;
	}
	case V_BOOL:
		if (!parse_bool(value, (bool *)field))
			problem(st, st->line, "%s: %s is not a boolean; use true or "
				"false (or yes/no, on/off, 1/0)", at, q);
		break;
	case V_ENUM: {
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(value, k->choices[i]) == 0) {
				*(int *)field = i;
				return;
			}
		}
		char list[256], hint[128];
		problem(st, st->line, "%s: %s is not one of %s%s", at, q,
			diag_join((const char *const *)k->choices, list, sizeof(list)),
			diag_suggest(value, k->choices, hint, sizeof(hint)));
		break;
	}
	case V_PATH:
		if (!*value)
			problem(st, st->line, "%s: is empty; give a path", at);
		else
			set_string(st, field, path_resolve(st->dir, value));
		break;
	case V_PATH_LIST:
		if (!*value || strspn(value, ":") == strlen(value))
			problem(st, st->line, "%s: is empty; give a path, or paths "
				"separated by ':'", at);
		else
			set_string(st, field, path_list_resolve(st->dir, value));
		break;
	case V_STRING:
		if (*value)
			set_string(st, field, strdup(value));
		else
			clear_string(field);
		break;
	case V_CPU:
	case V_MEMORY: {
		int64_t v;
		int rc = k->kind == V_CPU
			? quantity_parse_millicores(value, &v, err, sizeof(err))
			: quantity_parse_bytes(value, &v, err, sizeof(err));
		if (rc < 0)
			problem(st, st->line, "%s: %s", at, err);
		else if (!in_range(k, (double)v))
			problem(st, st->line, "%s: %s is out of range; use a %s "
				"quantity from %s", at, q, k->kind == V_CPU ? "CPU" : "memory",
				k->kind == V_CPU ? "1m" : "4Mi");
		else
			*(int64_t *)field = v;
		break;
	}
	case V_URL: {
		char *url = NULL;
		if (!*value) {
			clear_string(field);
			break;
		}
		int rc = config_base_url(value, &url, err, sizeof(err));
		if (rc == -ENOMEM)
			st->oom = true;
		else if (rc < 0 || *err)
			problem(st, st->line, "%s: %s", at, err);
		if (rc == 0 && !*err)
			set_string(st, field, url);
		else
			free(url);
		break;
	}
	}
}

/* An unknown key: say which keys the section has, or where the key
 * belongs when it is another section's. */
static void unknown_key(struct state *st, const char *name)
{
	char at[512], hint[128], list[512];
	const char *names[NKEYS + 1];
	where(st, name, at, sizeof(at));
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) == 0) {
			problem(st, st->line, "%s: belongs in the [%s] section%s",
				at, section_names[keys[i].section],
				st->section == SEC_NONE ? ", but comes before any section header" : "");
			return;
		}
	}
	if (st->section == SEC_NONE) {
		problem(st, st->line, "%s: unknown key before any section header "
			"(valid sections: [ipad], [defaults], [advisor], [cluster NAME])",
			at);
		return;
	}
	key_names(st->section, names);
	problem(st, st->line, "%s: unknown key%s (valid in [%s]: %s)", at,
		diag_suggest(name, names, hint, sizeof(hint)),
		section_names[st->section], diag_join(names, list, sizeof(list)));
}

/* The text of line number line of the file, for messages. */
static void line_text(const struct state *st, int line, char *buf, size_t len)
{
	const char *p = st->buf, *end = st->buf + st->len;
	for (int i = 1; i < line && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (nl ? nl : end) - p;
	if (n && p[n - 1] == '\r')
		n--;
	char text[128];
	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	memcpy(text, p, n);
	text[n] = '\0';
	diag_quote(text + strspn(text, " \t"), buf, len);
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct state *st = user;
	(void)section; /* cut at 50 bytes by inih: we track our own */

	if (st->section == SEC_IGNORED)
		return 1;
	if (!*name) {
		char text[DIAG_QUOTE_BUFSZ];
		line_text(st, st->line, text, sizeof(text));
		problem(st, st->line, "%s has no key before the '='", text);
		return 1;
	}
	const struct key *k = st->section == SEC_NONE ? NULL
						       : find_key(st->section, name);
	if (!k) {
		unknown_key(st, name);
		return 1;
	}
	size_t i = (size_t)(k - keys);
	if (st->seen[i]) {
		char at[512];
		problem(st, st->line, "%s: is set twice (also on line %d); keep one",
			where(st, name, at, sizeof(at)), st->seen[i]);
		return 1;
	}
	st->seen[i] = st->line;
	set_value(st, k, name, value);
	return 1;
}

static bool valid_cluster_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	return n > 0 && n <= 63 && !s[n];
}

/* A DNS-1123 label, what a namespace name must be. */
static bool dns_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]) ||
	    s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-", s[i]))
			return false;
	return true;
}

/* ipa-namespaces: namespaces separated by blanks or commas. */
static void check_ipa_namespaces(struct state *st, const struct cluster_config *c)
{
	int line = st->seen[find_key(SEC_CLUSTER, "ipa-namespaces") - keys];
	const char *seps = " \t,", *p = c->ipa_namespaces;
	bool any = false;
	if (!p)
		return;
	for (p += strspn(p, seps); *p; p += strspn(p, seps)) {
		size_t n = strcspn(p, seps);
		any = true;
		if (!dns_label(p, n))
			problem(st, line, "[%s] ipa-namespaces: \"%.*s\" is not a "
				"namespace name (a DNS-1123 label: at most 63 "
				"lowercase letters, digits and '-', starting and "
				"ending with a letter or digit)", st->cluster_text,
				(int)(n > 100 ? 100 : n), p);
		p += n;
	}
	if (!any)
		problem(st, line, "[%s] ipa-namespaces: names no namespace; give "
			"namespaces separated by blanks or commas, or leave it out "
			"for all namespaces", st->cluster_text);
	if (!c->watch_ipas)
		problem(st, line, "[%s] ipa-namespaces: is only used with "
			"watch-ipas = true", st->cluster_text);
}

/* Checks of the cluster section just read (at the next header or the end
 * of the file). */
static void cluster_end(struct state *st)
{
	if (!st->cluster_open)
		return;
	st->cluster_open = false;
	const struct cluster_config *c = &st->cfg->clusters[st->cfg->cluster_count - 1];
	if (!c->kubeconfig)
		problem(st, c->line, "[%s] kubeconfig: is required; give the "
			"kubeconfig file for this cluster, e.g. \"kubeconfig = "
			"/etc/ipad/kubeconfig\"", st->cluster_text);
	for (int i = 0; c->is_default && i < st->cfg->cluster_count - 1; i++)
		if (st->cfg->clusters[i].is_default)
			problem(st, st->seen[find_key(SEC_CLUSTER, "default") - keys],
				"[%s] default: cluster %s is the default already "
				"(line %d); only one cluster can be", st->cluster_text,
				st->cfg->clusters[i].name, st->cfg->clusters[i].line);
	check_ipa_namespaces(st, c);
}

/* A section header "[text]" (text without the brackets, trimmed). */
static void section_begin(struct state *st, char *text)
{
	struct ipad_config *cfg = st->cfg;
	char q[DIAG_QUOTE_BUFSZ], hint[128];

	cluster_end(st);
	snprintf(st->section_text, sizeof(st->section_text), "%s",
		 shown(text, q, sizeof(q)));
	for (enum section_kind s = SEC_IPAD; s < SEC_CLUSTER; s++) {
		if (strcmp(text, section_names[s]) == 0) {
			st->section = s;
			return;
		}
	}
	if (strncmp(text, "cluster", 7) != 0 || (text[7] && text[7] != ' ' &&
						  text[7] != '\t')) {
		char bracketed[260];
		snprintf(bracketed, sizeof(bracketed), "[%s]", text);
		st->section = SEC_IGNORED;
		problem(st, st->line, "[%s]: unknown section%s (valid: [ipad], "
			"[defaults], [advisor], [cluster NAME])",
			shown(text, q, sizeof(q)),
			diag_suggest(bracketed, section_list, hint, sizeof(hint)));
		return;
	}
	const char *name = text + 7 + strspn(text + 7, " \t");
	if (!*name)
		name = "default";
	for (int i = 0; i < cfg->cluster_count; i++) {
		if (strcmp(cfg->clusters[i].name, name) == 0) {
			st->section = SEC_IGNORED;
			problem(st, st->line, "[%s]: cluster %s is defined twice (also "
				"on line %d); keep one section per cluster",
				shown(text, q, sizeof(q)), cfg->clusters[i].name,
				cfg->clusters[i].line);
			return;
		}
	}
	if (!valid_cluster_name(name))
		problem(st, st->line, "[%s]: %s is not a valid cluster name; use up to "
			"63 letters, digits, '.', '_' and '-'",
			shown(text, q, sizeof(q)), diag_quote(name, q, sizeof(q)));
	struct cluster_config *grown = realloc(cfg->clusters,
		(size_t)(cfg->cluster_count + 1) * sizeof(*cfg->clusters));
	if (!grown) {
		st->oom = true;
		st->section = SEC_IGNORED;
		return;
	}
	cfg->clusters = grown;
	struct cluster_config *c = &cfg->clusters[cfg->cluster_count++];
	*c = (struct cluster_config){ .request_timeout_ms = 10000, .line = st->line };
	set_string(st, &c->name, strdup(name));
	/* the keys of a cluster section may be set again in the next one */
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == SEC_CLUSTER)
			st->seen[i] = 0;
	st->section = SEC_CLUSTER;
	st->cluster_open = true;
	memcpy(st->cluster_text, st->section_text, sizeof(st->cluster_text));
}

/* inih's fgets: hand it one line of the file at a time. */
static char *reader(char *str, int num, void *stream)
{
	struct state *st = stream;
	if (st->pos >= st->len || num < 2)
		return NULL;
	const char *line = st->buf + st->pos;
	const char *nl = memchr(line, '\n', st->len - st->pos);
	size_t n = nl ? (size_t)(nl - line) : st->len - st->pos;
	st->pos += n + (nl != NULL);
	st->line++;
	if (n && line[n - 1] == '\r')
		n--;
	size_t raw = n;
	if (st->line == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		n -= 3;
	}
	/* Leading blanks would make inih read the line as the continuation
	 * of the previous value. ipad has no multi-line values. */
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	str[0] = '\n';
	str[1] = '\0';
	if (n == 0 || *line == ';' || *line == '#')
		return str; /* comments are free to be long */
	if (raw > (size_t)num - 2) {
		problem(st, st->line, "the line is %zu bytes long; lines of ipad.conf "
			"can be at most %d bytes (a limit of the inih library)",
			raw, num - 2);
		if (*line == '[')
			st->section = SEC_IGNORED;
		return str;
	}
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	if (*line == '[') {
		char *end = memchr(str, ']', n);
		if (!end) {
			st->section = SEC_IGNORED; /* inih reports the line */
			return str;
		}
		char text[256];
		size_t len = (size_t)(end - str - 1);
		memcpy(text, str + 1, len);
		text[len] = '\0';
		while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
			text[--len] = '\0';
		section_begin(st, text + strspn(text, " \t"));
	}
	return str;
}

/* Read path into a NUL-terminated buffer. Returns 0 or -errno. */
static int read_file(struct state *st, char **out)
{
	FILE *f = fopen(st->path, "re");
	if (!f) {
		int rc = -errno;
		problem(st, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	char *buf = malloc(CONFIG_MAX_SIZE + 1);
	size_t n = buf ? fread(buf, 1, CONFIG_MAX_SIZE + 1, f) : 0;
	int rc = 0;
	if (!buf)
		rc = -ENOMEM;
	else if (ferror(f)) {
		rc = -errno;
		problem(st, 0, "cannot read: %s", strerror(errno));
	} else if (n > CONFIG_MAX_SIZE) {
		rc = -EFBIG;
		problem(st, 0, "is larger than 1 MiB; is it the right file?");
	} else if (memchr(buf, '\0', n)) {
		rc = -EINVAL;
		problem(st, 0, "contains NUL bytes; ipad.conf must be a text file");
	}
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	st->len = n;
	return 0;
}

/* The line of [advisor] KEY, or 0 when it is not set. */
static int advisor_line(const struct state *st, const char *key)
{
	return st->seen[find_key(SEC_ADVISOR, key) - keys];
}

/* The [advisor] keys that depend on the type: model and url for the LLMs,
 * at most one key source, a credential name that is a plain file name. */
static void check_advisor(struct state *st)
{
	const struct ipad_config *cfg = st->cfg;
	const char *type = advisor_type_name(cfg->advisor);
	int type_line = advisor_line(st, "type");
	bool llm = cfg->advisor == ADVISOR_GEMINI || cfg->advisor == ADVISOR_OPENAI;
	const char *cred = cfg->advisor_key_credential;

	if (llm && !cfg->advisor_model)
		problem(st, type_line, "[advisor] model: is required with type = %s; "
			"for example \"model = %s\"", type,
			cfg->advisor == ADVISOR_GEMINI ? "gemini-2.5-flash"
						       : "qwen2.5-7b-instruct");
	if (cfg->advisor == ADVISOR_OPENAI && !cfg->advisor_url)
		problem(st, type_line, "[advisor] url: is required with type = openai; "
			"give the server's base URL, for example "
			"\"url = http://127.0.0.1:8000\" (vLLM, llama-server) or "
			"\"url = http://localhost:11434\" (Ollama)");
	if (cfg->advisor == ADVISOR_GEMINI && !cfg->advisor_key_file && !cred)
		problem(st, type_line, "[advisor] type = gemini needs an API key: set "
			"api-key-file = PATH (mode 0600 or 0400) or api-key-credential "
			"= NAME (systemd LoadCredential=NAME:PATH)");
	if (cfg->advisor_key_file && cred)
		problem(st, advisor_line(st, "api-key-credential"), "[advisor] "
			"api-key-credential: api-key-file is set too (line %d); keep "
			"one of them", advisor_line(st, "api-key-file"));
	if (cred && (strchr(cred, '/') || strcmp(cred, ".") == 0 ||
		     strcmp(cred, "..") == 0))
		problem(st, advisor_line(st, "api-key-credential"), "[advisor] "
			"api-key-credential: is a credential name (a file name in "
			"$CREDENTIALS_DIRECTORY), not a path; for a path use "
			"api-key-file");
	if (!llm) {
		static const char *const llm_only[] = { "model", "api-key-file",
							"api-key-credential" };
		for (size_t i = 0; i < sizeof(llm_only) / sizeof(llm_only[0]); i++)
			if (advisor_line(st, llm_only[i]))
				problem(st, advisor_line(st, llm_only[i]), "[advisor] "
					"%s: is only used with type = gemini or openai "
					"(type is %s)", llm_only[i], type);
	}
}

/* [defaults] min-allowed-RESOURCE must not be above max-allowed-RESOURCE. */
static void check_allowed(struct state *st, const char *resource, int64_t min, int64_t max)
{
	char key[32];

	if (min == RESOURCE_UNSET || max == RESOURCE_UNSET || min <= max)
		return;
	snprintf(key, sizeof(key), "max-allowed-%s", resource);
	problem(st, st->seen[find_key(SEC_DEFAULTS, key) - keys], "[defaults] %s: is below "
		"min-allowed-%s; every target would be refused", key, resource);
}

/* Checks of the whole file, once it has been read. */
static void check_whole(struct state *st)
{
	struct ipad_config *cfg = st->cfg;
	size_t min = (size_t)(find_key(SEC_DEFAULTS, "min-replicas") - keys);
	size_t max = (size_t)(find_key(SEC_DEFAULTS, "max-replicas") - keys);

	cluster_end(st);
	if (cfg->cluster_count == 0 && !st->oom)
		problem(st, 0, "there is no [cluster] section; add one, for example "
			"\"[cluster]\" with \"kubeconfig = /etc/ipad/kubeconfig\" and "
			"\"prometheus = http://127.0.0.1:9090\" below it");
	const struct cluster_config *def = config_default_cluster(cfg);
	for (int i = 0; i < cfg->cluster_count; i++) {
		struct cluster_config *c = &cfg->clusters[i];
		if (!c->targets && c != def && !c->watch_ipas)
			problem(st, c->line, "[cluster %s] targets: is required: with "
				"several clusters, give each its IPA files (a directory, "
				"file or glob) or watch-ipas = true, or make it the one "
				"with default = true, which reads [ipad] targets", c->name);
		if (c->concurrency == 0)
			c->concurrency = (cfg->concurrency + cfg->cluster_count - 1) /
					 cfg->cluster_count;
	}
	check_advisor(st);
	check_allowed(st, "cpu", cfg->defaults.min_cpu_m, cfg->defaults.max_cpu_m);
	check_allowed(st, "memory", cfg->defaults.min_memory_b, cfg->defaults.max_memory_b);
	if (cfg->min_replicas > cfg->max_replicas) {
		if (st->seen[max])
			problem(st, st->seen[max], "[defaults] max-replicas: %d is less "
				"than min-replicas (%d)", cfg->max_replicas,
				cfg->min_replicas);
		else
			problem(st, st->seen[min], "[defaults] min-replicas: %d is more "
				"than max-replicas (%d, the default); set max-replicas too",
				cfg->min_replicas, cfg->max_replicas);
	}
}

int config_load(const char *path, struct ipad_config *cfg, struct diag *d)
{
	struct state st = { .cfg = cfg, .d = d, .path = path };
	size_t errors = diag_errors(d);
	char *buf = NULL;

	int rc = config_defaults(cfg);
	if (rc < 0)
		return rc;
	cfg->path = strdup(path);
	st.dir = config_dir(path);
	if (!cfg->path || !st.dir) {
		free(st.dir);
		return -ENOMEM;
	}
	rc = read_file(&st, &buf);
	if (rc < 0) {
		free(st.dir);
		return rc;
	}
	st.buf = buf;

	int line = ini_parse_stream(reader, &st, handler, &st);
	if (line == -2)
		st.oom = true;
	else if (line > 0) {
		char text[DIAG_QUOTE_BUFSZ];
		line_text(&st, line, text, sizeof(text));
		problem(&st, line, "%s is neither \"[section]\" nor \"key = value\"",
			text);
	}
	if (!st.oom)
		check_whole(&st);
	free(buf);
	free(st.dir);
	if (st.oom)
		return -ENOMEM;
	return diag_errors(d) > errors ? -EINVAL : 0;
}

int config_defaults(struct ipad_config *cfg)
{
	*cfg = (struct ipad_config){
		.interval_ms = 60000,
		.metrics_window_ms = 120000,
		.state_directory = strdup(LOCALSTATEDIR "/lib/ipad"),
		.concurrency = 4,
		.targets = strdup(SYSCONFDIR "/ipad/ipa.d"),
		.min_replicas = 1,
		.max_replicas = 10,
		.defaults = guardrails_defaults(),
		.advisor_timeout_ms = 20000,
		.target_cpu_utilization = 70,
		.tolerance = 0.1,
		.lease_namespace = strdup("kube-system"),
		.lease_name = strdup("ipad"),
		.lease_duration_ms = 15000,
	};
	return cfg->state_directory && cfg->targets && cfg->lease_namespace &&
	       cfg->lease_name ? 0 : -ENOMEM;
}

const struct cluster_config *config_default_cluster(const struct ipad_config *cfg)
{
	for (int i = 0; i < cfg->cluster_count; i++)
		if (cfg->clusters[i].is_default)
			return &cfg->clusters[i];
	return cfg->cluster_count == 1 ? &cfg->clusters[0] : NULL;
}

void config_free(struct ipad_config *cfg)
{
	for (int i = 0; i < cfg->cluster_count; i++) {
		free(cfg->clusters[i].targets);
		free(cfg->clusters[i].name);
		free(cfg->clusters[i].kubeconfig);
		free(cfg->clusters[i].context);
		free(cfg->clusters[i].prometheus);
		free(cfg->clusters[i].ipa_namespaces);
	}
	free(cfg->clusters);
	free(cfg->path);
	free(cfg->state_directory);
	free(cfg->targets);
	free(cfg->advisor_url);
	free(cfg->advisor_model);
	free(cfg->advisor_key_file);
	free(cfg->advisor_key_credential);
	free(cfg->lease_namespace);
	free(cfg->lease_name);
	free(cfg->identity);
	memset(cfg, 0, sizeof(*cfg));
}

const char *advisor_type_name(enum advisor_type t)
{
	return (unsigned)t < sizeof(advisor_names) / sizeof(advisor_names[0]) - 1
		? advisor_names[t] : "unknown";
}

int config_base_url(const char *text, char **url, char *err, size_t errlen)
{
	char q[DIAG_QUOTE_BUFSZ];
	*url = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!text || !*text) {
		snprintf(err, errlen, "the URL is empty");
		return -EINVAL;
	}
	diag_quote(text, q, sizeof(q));
	const char *sep = strstr(text, "://");
	size_t scheme = sep ? (size_t)(sep - text) : 0;
	if (sep && strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789+.-") != scheme)
		sep = NULL; /* "://" later in the text is not a scheme */
	if (sep && !((scheme == 4 && strncasecmp(text, "http", 4) == 0) ||
		     (scheme == 5 && strncasecmp(text, "https", 5) == 0))) {
		snprintf(err, errlen, "%s: the scheme \"%.*s\" is not supported; "
			 "use http:// or https://", q, (int)scheme, text);
		return -EINVAL;
	}
	const char *host = sep ? sep + 3 : text;
	if (!*host || strchr("/?#", *host)) {
		snprintf(err, errlen, "%s has no host name", q);
		return -EINVAL;
	}
	if (asprintf(url, "%s%s", sep ? "" : "http://", text) < 0) {
		*url = NULL;
		return -ENOMEM;
	}
	size_t n = strlen(*url);
	while (n && (*url)[n - 1] == '/')
		(*url)[--n] = '\0';
	for (const unsigned char *p = (const unsigned char *)*url; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || strchr("<>\"{}|\\^`", *p)) {
			snprintf(err, errlen, "%s is not a usable URL (it contains "
				 "blanks or one of <>\"{}|\\^`); is it a placeholder?",
				 q);
			break;
		}
	}
	return 0;
}
