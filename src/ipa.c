/* ipa — IPA objects from YAML files (libyaml), turned into targets.
 *
 * Each document is first read into a small tree of nodes that keep their
 * position (the event parser; aliases, anchors and nesting deeper than
 * IPA_MAX_DEPTH are refused while reading), then the tree is checked
 * against the IPA schema. A document's targets are kept only when the
 * document had no error. */
#include "ipa.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <cjson/cJSON.h>

#include "quantity.h"

#define IPA_MAX_DEPTH 64
/* Real IPA objects have tens of values: this bounds the memory a wrong
 * file can take (some 50 bytes per value) and the messages it causes. */
#define IPA_MAX_NODES 100000
#define IPA_MAX_PROBLEMS 100
#define IPA_MAX_FILE_SIZE (16 * 1024 * 1024)
#define IPA_API_VERSION "ipa.shafinhasnat.me/v1alpha1"
#define REPLICAS_MAX 100000

/* ---- the document tree ------------------------------------------------ */

enum node_type { N_SCALAR, N_MAP, N_SEQ };

struct node {
	enum node_type type;
	int line, col;        /* 1-based */
	char *value;          /* N_SCALAR: owned, NUL-terminated */
	size_t len;           /* N_SCALAR: bytes, may hold NULs ("\0") */
	bool plain;           /* N_SCALAR: unquoted and untagged (or !!int) */
	struct node *kids;    /* N_MAP: key, value, key, value...; N_SEQ: items */
	size_t count;
};

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->count; i++)
		node_free(&n->kids[i]);
	free(n->kids);
	free(n->value);
	memset(n, 0, sizeof(*n));
}

/* Reading one file. */
struct loader {
	yaml_parser_t parser;
	const char *path;
	const struct cluster_config *cluster; /* the targets' cluster */
	const unsigned char *buf;
	size_t len;
	struct diag *d;
	size_t nodes;          /* of the current document */
	bool object;           /* an object from the API (JSON), not a file */
};

/* "PATH:LINE:COL" into buf; "PATH" alone for an object from the API
 * (line 0: JSON has no positions worth showing). */
static const char *position(char *buf, size_t len, const char *path, int line, int col)
{
	if (line > 0)
		snprintf(buf, len, "%s:%d:%d", path, line, col);
	else
		snprintf(buf, len, "%s", path);
	return buf;
}

static void located(struct diag *d, bool warning, const char *path, int line,
		    int col, const char *field, const char *fmt, va_list ap)
{
	char msg[1024], where[1100];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	position(where, sizeof(where), path, line, col);
	if (warning)
		diag_warning(d, "%s: %s%s%s", where, field, *field ? ": " : "", msg);
	else
		diag_error(d, "%s: %s%s%s", where, field, *field ? ": " : "", msg);
}

static void load_error(struct loader *ld, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void load_error(struct loader *ld, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	located(ld->d, false, ld->path, line, col, "", fmt, ap);
	va_end(ap);
}

/* Report the parser's error. Returns -ENOMEM or -EINVAL. */
static int parser_error(struct loader *ld)
{
	yaml_parser_t *p = &ld->parser;
	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		/* Only a byte offset is known: count lines up to it. */
		size_t off = p->problem_offset < ld->len ? p->problem_offset : ld->len;
		int line = 1, col = 1;
		for (size_t i = 0; i < off; i++, col++) {
			if (ld->buf[i] == '\n') {
				line++;
				col = 0;
			}
		}
		load_error(ld, line, col, "this is not YAML text: %s (byte 0x%02x)",
			   p->problem ? p->problem : "unreadable input",
			   (unsigned)(p->problem_value & 0xff));
		return -EINVAL;
	}
	char context[128] = "";
	if (p->context)
		snprintf(context, sizeof(context), " (%s at line %zu)", p->context,
			 p->context_mark.line + 1);
	load_error(ld, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
		   "YAML syntax error: %s%s", p->problem ? p->problem : "unknown",
		   context);
	return -EINVAL;
}

/* Next event into ev. Returns 0 or a parser_error(). */
static int next_event(struct loader *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev))
		return parser_error(ld);
	return 0;
}

static bool anchored(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor != NULL;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor != NULL;
	default:
		return false;
	}
}

/* Build the node that starts with ev (deleted here) into n.
 * Returns 0; -EINVAL after reporting a problem of the document (the rest
 * of the document is still to be read); -EIO after reporting a problem
 * that ends the reading of the file (a syntax error, deep nesting);
 * -ENOMEM. */
static int build(struct loader *ld, yaml_event_t *ev, int depth, struct node *n)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	*n = (struct node){ .line = line, .col = col };

	if (++ld->nodes > IPA_MAX_NODES) {
		yaml_event_delete(ev);
		load_error(ld, line, col, "a document with more than %d values is "
			   "not an IPA object; the rest of the file is not read",
			   IPA_MAX_NODES);
		return -EIO;
	}
	if (ev->type == YAML_ALIAS_EVENT || anchored(ev)) {
		yaml_event_delete(ev);
		load_error(ld, line, col, "YAML anchors and aliases (& and *) are "
			   "not accepted; write the value out");
		return -EINVAL;
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		const char *tag = (const char *)ev->data.scalar.tag;
		n->type = N_SCALAR;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   (!tag || strcmp(tag, YAML_INT_TAG) == 0);
		n->len = ev->data.scalar.length;
		n->value = malloc(n->len + 1);
		if (n->value) {
			memcpy(n->value, ev->data.scalar.value, n->len);
			n->value[n->len] = '\0';
		}
		yaml_event_delete(ev);
		return n->value ? 0 : -ENOMEM;
	}
	yaml_event_type_t end = ev->type == YAML_MAPPING_START_EVENT
		? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	n->type = ev->type == YAML_MAPPING_START_EVENT ? N_MAP : N_SEQ;
	yaml_event_delete(ev);
	if (depth > IPA_MAX_DEPTH) {
		/* Stop reading the file: libyaml's time per token grows with
		 * the nesting, so skipping a deep rest could take hours. */
		load_error(ld, line, col, "nesting deeper than %d levels is not "
			   "accepted; the rest of the file is not read",
			   IPA_MAX_DEPTH);
		return -EIO;
	}
	size_t cap = 0;
	for (;;) {
		yaml_event_t child;
		int rc = next_event(ld, &child);
		if (rc < 0)
			return rc == -ENOMEM ? rc : -EIO;
		if (child.type == end) {
			yaml_event_delete(&child);
			return 0;
		}
		if (n->count == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct node *kids = realloc(n->kids, ncap * sizeof(*kids));
			if (!kids) {
				yaml_event_delete(&child);
				return -ENOMEM;
			}
			n->kids = kids;
			cap = ncap;
		}
		rc = build(ld, &child, depth + 1, &n->kids[n->count]);
		n->count++; /* the child is the parent's even when incomplete */
		if (rc < 0)
			return rc;
	}
}

/* The node of a JSON value (an object from the API). Numbers, booleans
 * and null become plain scalars, strings quoted ones, as YAML would read
 * the same text. Positions are 0 (none). Returns 0, -EINVAL (reported:
 * too deep or too many values) or -ENOMEM. */
static int from_json(struct loader *ld, const cJSON *j, int depth, struct node *n)
{
	*n = (struct node){ 0 };
	if (++ld->nodes > IPA_MAX_NODES || depth > IPA_MAX_DEPTH) {
		load_error(ld, 0, 0, "an object with more than %d values or deeper "
			   "than %d levels is not an IPA object", IPA_MAX_NODES,
			   IPA_MAX_DEPTH);
		return -EINVAL;
	}
	if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
		size_t count = 0, k = 0;
		const cJSON *c;
		n->type = cJSON_IsObject(j) ? N_MAP : N_SEQ;
		cJSON_ArrayForEach(c, j)
			count += n->type == N_MAP ? 2 : 1;
		if (count && !(n->kids = calloc(count, sizeof(*n->kids))))
			return -ENOMEM;
		cJSON_ArrayForEach(c, j) {
			int rc;
			if (n->type == N_MAP) {
				struct node *key = &n->kids[k++];
				n->count = k;
				key->type = N_SCALAR;
				if (!(key->value = strdup(c->string ? c->string : "")))
					return -ENOMEM;
				key->len = strlen(key->value);
			}
			rc = from_json(ld, c, depth + 1, &n->kids[k++]);
			n->count = k;
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	char num[64];
	const char *text = num;
	n->type = N_SCALAR;
	n->plain = !cJSON_IsString(j);
	if (cJSON_IsString(j))
		text = j->valuestring;
	else if (cJSON_IsNumber(j))
		snprintf(num, sizeof(num), "%.17g", j->valuedouble);
	else
		text = cJSON_IsTrue(j) ? "true" : cJSON_IsFalse(j) ? "false" : "null";
	n->len = strlen(text);
	return (n->value = strdup(text)) ? 0 : -ENOMEM;
}

/* ---- checking a document against the IPA schema ----------------------- */

/* One document being checked. */
struct doc {
	struct loader *ld;
	const struct ipad_config *cfg;
	struct target_list *out;     /* targets of earlier documents and files */
	struct target_list targets;  /* this document's */
	int problems;
	bool oom;
};

static void doc_report(struct doc *doc, bool warning, const struct node *at,
		       const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void doc_report(struct doc *doc, bool warning, const struct node *at,
		       const char *field, const char *fmt, ...)
{
	char where[1100];
	if (doc->problems++ == IPA_MAX_PROBLEMS)
		diag_error(doc->ld->d, "%s: too many problems in this document; "
			   "not listing more", position(where, sizeof(where),
							doc->ld->path, at->line, at->col));
	if (doc->problems > IPA_MAX_PROBLEMS)
		return;
	va_list ap;
	va_start(ap, fmt);
	located(doc->ld->d, warning, doc->ld->path, at->line, at->col, field, fmt, ap);
	va_end(ap);
}

#define doc_error(doc, at, field, ...) doc_report(doc, false, at, field, __VA_ARGS__)
#define doc_warning(doc, at, field, ...) doc_report(doc, true, at, field, __VA_ARGS__)

/* A field path into buf, printf-style, ending in "..." when cut. */
static char *path_printf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static char *path_printf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n >= (int)len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/* "parent.key" (or "key" at the top) into buf. */
static char *field_path(char *buf, size_t len, const char *parent, const char *key)
{
	return path_printf(buf, len, "%s%s%s", parent, *parent ? "." : "", key);
}

static const char *type_name(const struct node *n)
{
	return n->type == N_MAP ? "a mapping" : n->type == N_SEQ ? "a list"
								  : "a scalar";
}

static bool is_null(const struct node *n)
{
	return n->type == N_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->value, "~") == 0 ||
		strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
		strcmp(n->value, "NULL") == 0);
}

/* Check that map is a mapping whose keys are all in valid (at most 31
 * names) and unique.
 * Returns false (after reporting) when map is not a mapping. */
static bool check_map(struct doc *doc, const struct node *map, const char *path,
		      const char *const *valid)
{
	int first[32] = { 0 }; /* line of each valid key, 0: not seen */
	if (map->type != N_MAP) {
		doc_error(doc, map, path, "must be a mapping, not %s", type_name(map));
		return false;
	}
	for (size_t i = 0; i < map->count; i += 2) {
		const struct node *key = &map->kids[i];
		char field[512], q[DIAG_QUOTE_BUFSZ], hint[128], list[512];
		if (key->type != N_SCALAR || strlen(key->value) != key->len) {
			doc_error(doc, key, path, "keys must be plain names, not %s",
				  key->type == N_SCALAR ? "text with a NUL character"
							: type_name(key));
			continue;
		}
		size_t k = 0;
		while (valid[k] && strcmp(valid[k], key->value) != 0)
			k++;
		bool known = valid[k] != NULL;
		bool plain = key->len > 0 && key->len < 128 &&
			     strspn(key->value, "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") == key->len;
		field_path(field, sizeof(field), path,
			   plain ? key->value : diag_quote(key->value, q, sizeof(q)));
		if (!known) {
			doc_error(doc, key, field, "unknown field%s (valid%s%s: %s)",
				  diag_suggest(key->value, valid, hint, sizeof(hint)),
				  *path ? " in " : " at the top level",
				  path, diag_join(valid, list, sizeof(list)));
			continue;
		}
		if (first[k])
			doc_error(doc, key, field, "is given twice (also at line %d); "
				  "keep one", first[k]);
		else
			first[k] = key->line;
	}
	return true;
}

/* The value of key in map, or NULL. */
static const struct node *get(const struct node *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->count; i += 2)
		if (map->kids[i].type == N_SCALAR &&
		    strcmp(map->kids[i].value, key) == 0)
			return &map->kids[i + 1];
	return NULL;
}

/* Whether map.key is given: present, not null and not "". */
static bool present(const struct node *map, const char *key)
{
	const struct node *n = get(map, key);
	return n && !is_null(n) && !(n->type == N_SCALAR && n->len == 0);
}

/* The text of map.key, or NULL when it is absent, null or empty (then an
 * error when required; position: the mapping) or not text (an error). */
static const char *get_string(struct doc *doc, const struct node *map,
			      const char *path, const char *key, bool required)
{
	char field[512];
	const struct node *n = get(map, key);
	field_path(field, sizeof(field), path, key);
	if (!present(map, key)) {
		if (required)
			doc_error(doc, n ? n : map, field, n ? "is empty" : "is required");
		return NULL;
	}
	if (n->type != N_SCALAR) {
		doc_error(doc, n, field, "must be text, not %s", type_name(n));
		return NULL;
	}
	if (strlen(n->value) != n->len) {
		doc_error(doc, n, field, "contains a NUL character");
		return NULL;
	}
	return n->value;
}

/* map.key as an integer in [lo, hi] (hi < 10^7); false when absent or
 * wrong (reported). */
static bool get_int(struct doc *doc, const struct node *map, const char *path,
		    const char *key, int lo, int hi, int *value)
{
	char field[512], q[DIAG_QUOTE_BUFSZ];
	const struct node *n = get(map, key);
	if (!n || is_null(n))
		return false;
	field_path(field, sizeof(field), path, key);
	if (n->type != N_SCALAR) {
		doc_error(doc, n, field, "must be a whole number, not %s", type_name(n));
		return false;
	}
	diag_quote(n->value, q, sizeof(q));
	const char *p = n->value + (n->value[0] == '+' || n->value[0] == '-');
	size_t digits = strspn(p, "0123456789");
	if (!n->plain || digits == 0 || p[digits] || strlen(n->value) != n->len) {
		doc_error(doc, n, field, "%s is not a whole number%s", q,
			  n->plain ? "" : " (it is quoted: write it without quotes)");
		return false;
	}
	long v = digits > 7 ? (long)hi + 1 : strtol(n->value, NULL, 10);
	if (v < lo || v > hi) {
		doc_error(doc, n, field, "%s is out of range; use a value from %d to %d",
			  q, lo, hi);
		return false;
	}
	*value = (int)v;
	return true;
}

/* map.key as an integer in [0, REPLICAS_MAX]. */
static bool get_replicas(struct doc *doc, const struct node *map,
			 const char *path, const char *key, int *value)
{
	return get_int(doc, map, path, key, 0, REPLICAS_MAX, value);
}

/* Kubernetes names: a DNS-1123 label (namespaces, containers: at most 63
 * of [a-z0-9-], alphanumeric at both ends) or subdomain (Deployments,
 * Ingresses, IPAs: labels joined by '.', at most 253). */
static bool dns1123(const char *s, bool subdomain)
{
	size_t n = strlen(s);
	if (n == 0 || n > (subdomain ? 253u : 63u))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		bool edge = i == 0 || i == n - 1 || (subdomain &&
			    (s[i - 1] == '.' || s[i + 1] == '.'));
		if (alnum)
			continue;
		if ((c == '-' || (c == '.' && subdomain)) && !edge)
			continue;
		return false;
	}
	return true;
}

/* Warn when name (of field, at n) is not a valid Kubernetes name: at load
 * time it may be a placeholder, as in the README's example. */
static void check_name(struct doc *doc, const struct node *map,
		       const char *path, const char *key, const char *name,
		       bool subdomain)
{
	if (!name || dns1123(name, subdomain))
		return;
	char field[512], q[DIAG_QUOTE_BUFSZ];
	doc_warning(doc, get(map, key), field_path(field, sizeof(field), path, key),
		    "%s is not a valid Kubernetes name (at most %d lower-case "
		    "letters, digits%s and '-'); is it a placeholder?",
		    diag_quote(name, q, sizeof(q)), subdomain ? 253 : 63,
		    subdomain ? ", '.'" : "");
}

/* A service URL of field key in map: normalized copy into *url (NULL when
 * absent or wrong); placeholders are warnings. */
static void get_url(struct doc *doc, const struct node *map, const char *path,
		    const char *key, char **url)
{
	char field[512], err[512];
	*url = NULL;
	const char *text = get_string(doc, map, path, key, false);
	if (!text)
		return;
	int rc = config_base_url(text, url, err, sizeof(err));
	field_path(field, sizeof(field), path, key);
	if (rc == -ENOMEM)
		doc->oom = true;
	else if (rc < 0)
		doc_error(doc, get(map, key), field, "%s", err);
	else if (*err)
		doc_warning(doc, get(map, key), field, "%s", err);
}

static char *dup_or_null(struct doc *doc, const char *s)
{
	char *copy = s ? strdup(s) : NULL;
	if (s && !copy)
		doc->oom = true;
	return copy;
}

/* Where t is defined already, among the loaded targets and this
 * document's; NULL when it is new. */
static const struct target *duplicate(const struct doc *doc, const struct target *t)
{
	const struct target_list *lists[] = { &doc->targets, doc->out };
	/* Objects from the API are checked against other claimants by the
	 * registry, not here. */
	for (size_t l = 0; l < (doc->ld->object ? 1u : 2u); l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			const struct target *o = &lists[l]->items[i];
			if (strcmp(o->cluster, t->cluster) == 0 &&
			    strcmp(o->namespace, t->namespace) == 0 &&
			    strcmp(o->deployment, t->deployment) == 0)
				return o;
		}
	}
	return NULL;
}

/* map.key, one of names (NULL-terminated), as its index into *value. */
static void get_enum(struct doc *doc, const struct node *map, const char *path,
		     const char *key, const char *const *names, int *value)
{
	char field[512], q[DIAG_QUOTE_BUFSZ], list[256], hint[128];
	const char *text = get_string(doc, map, path, key, false);
	if (!text)
		return;
	for (int i = 0; names[i]; i++) {
		if (strcmp(text, names[i]) == 0) {
			*value = i;
			return;
		}
	}
	doc_error(doc, get(map, key), field_path(field, sizeof(field), path, key),
		  "%s is not one of %s%s", diag_quote(text, q, sizeof(q)),
		  diag_join(names, list, sizeof(list)),
		  diag_suggest(text, names, hint, sizeof(hint)));
}

/* minAllowed / maxAllowed: {cpu: QUANTITY, memory: QUANTITY}. */
static void get_allowed(struct doc *doc, const struct node *item, const char *path,
			const char *key, int64_t *cpu_m, int64_t *memory_b)
{
	static const char *const keys[] = { "cpu", "memory", NULL };
	const struct node *map = get(item, key);
	char mpath[512], field[512], err[256];
	if (!map || is_null(map))
		return;
	field_path(mpath, sizeof(mpath), path, key);
	if (!check_map(doc, map, mpath, keys))
		return;
	for (int i = 0; keys[i]; i++) {
		const char *text = get_string(doc, map, mpath, keys[i], false);
		int64_t v;
		int rc;
		if (!text)
			continue;
		rc = i == 0 ? quantity_parse_millicores(text, &v, err, sizeof(err))
			    : quantity_parse_bytes(text, &v, err, sizeof(err));
		field_path(field, sizeof(field), mpath, keys[i]);
		if (rc == 0 && (i == 0 ? v < 1 : v < 4 * 1024 * 1024))
			doc_error(doc, get(map, keys[i]), field, "%s is too small; use "
				  "at least %s", text, i == 0 ? "1m" : "4Mi");
		else if (rc < 0)
			doc_error(doc, get(map, keys[i]), field, "%s", err);
		else
			*(i == 0 ? cpu_m : memory_b) = v;
	}
}

/* One direction of behavior (HPA's HPAScalingRules): given policies
 * replace the defaults. */
static void get_scaling_rules(struct doc *doc, const struct node *behavior,
			      const char *path, const char *key,
			      struct scaling_rules *r)
{
	static const char *const keys[] = { "stabilizationWindowSeconds",
		"selectPolicy", "policies", NULL };
	static const char *const policy_keys[] = { "type", "value",
		"periodSeconds", NULL };
	static const char *const types[] = { "Pods", "Percent", NULL };
	const struct node *rules = get(behavior, key), *policies;
	char rpath[512], ppath[512], ipath[512];
	int v;
	if (!rules || is_null(rules))
		return;
	field_path(rpath, sizeof(rpath), path, key);
	if (!check_map(doc, rules, rpath, keys))
		return;
	if (get_int(doc, rules, rpath, "stabilizationWindowSeconds", 0, 3600, &v))
		r->stabilization_ms = (int64_t)v * 1000;
	get_enum(doc, rules, rpath, "selectPolicy", select_policy_names,
		 (int *)&r->select);
	policies = get(rules, "policies");
	if (!policies || is_null(policies))
		return;
	field_path(ppath, sizeof(ppath), rpath, "policies");
	if (policies->type != N_SEQ) {
		doc_error(doc, policies, ppath, "must be a list, not %s",
			  type_name(policies));
		return;
	}
	r->pods = r->percent = 0;
	for (size_t i = 0; i < policies->count; i++) {
		const struct node *p = &policies->kids[i];
		int type = -1, value = 0, period = 15;
		path_printf(ipath, sizeof(ipath), "%s[%zu]", ppath, i);
		if (!check_map(doc, p, ipath, policy_keys))
			continue;
		get_enum(doc, p, ipath, "type", types, &type);
		if (!get_int(doc, p, ipath, "value", 1, 100000, &value) && !present(p, "value"))
			doc_error(doc, p, ipath, "value is required");
		get_int(doc, p, ipath, "periodSeconds", 1, 1800, &period);
		if (type < 0 && !present(p, "type"))
			doc_error(doc, p, ipath, "type is required (Pods or Percent)");
		if (type < 0 || value < 1)
			continue;
		if ((type == 0 ? r->pods : r->percent) != 0) {
			doc_error(doc, p, ipath, "a second %s policy; give one of each "
				  "type", types[type]);
			continue;
		}
		*(type == 0 ? &r->pods : &r->percent) = value;
		*(type == 0 ? &r->pods_period_ms : &r->percent_period_ms) =
			(int64_t)period * 1000;
	}
}

/* The item's guardrail overrides into *g (which holds the defaults). */
static void check_guardrails(struct doc *doc, const struct node *item,
			     const char *path, struct guardrails *g)
{
	static const char *const behavior_keys[] = { "scaleUp", "scaleDown", NULL };
	const struct node *behavior = get(item, "behavior");
	char field[512];
	int v;
	if (item->type != N_MAP)
		return;
	get_enum(doc, item, path, "mode", ipa_mode_names, (int *)&g->mode);
	get_enum(doc, item, path, "fallback", fallback_names, (int *)&g->fallback);
	get_enum(doc, item, path, "controlledValues", controlled_values_names,
		 (int *)&g->controlled);
	get_int(doc, item, path, "memoryMarginPercent", 0, 1000, &g->memory_margin_percent);
	get_int(doc, item, path, "resizeThresholdPercent", 0, 100,
		&g->resize_threshold_percent);
	if (get_int(doc, item, path, "resizeCooldownSeconds", 0, 86400, &v))
		g->resize_cooldown_ms = (int64_t)v * 1000;
	get_allowed(doc, item, path, "minAllowed", &g->min_cpu_m, &g->min_memory_b);
	get_allowed(doc, item, path, "maxAllowed", &g->max_cpu_m, &g->max_memory_b);
	if ((g->min_cpu_m != RESOURCE_UNSET && g->max_cpu_m != RESOURCE_UNSET &&
	     g->min_cpu_m > g->max_cpu_m) ||
	    (g->min_memory_b != RESOURCE_UNSET && g->max_memory_b != RESOURCE_UNSET &&
	     g->min_memory_b > g->max_memory_b))
		doc_error(doc, get(item, "maxAllowed") ? get(item, "maxAllowed") : item,
			  field_path(field, sizeof(field), path, "maxAllowed"),
			  "is below minAllowed");
	if (behavior && !is_null(behavior)) {
		char bpath[512];
		field_path(bpath, sizeof(bpath), path, "behavior");
		if (check_map(doc, behavior, bpath, behavior_keys)) {
			get_scaling_rules(doc, behavior, bpath, "scaleUp", &g->up);
			get_scaling_rules(doc, behavior, bpath, "scaleDown", &g->down);
		}
	}
}

/* What every item of one IPA object shares. */
struct shared {
	const char *ipa_name;
	const char *prometheus;
	const char *llm_agent;
	const char *ipa_namespace;   /* objects from the API only */
	const char *ipa_uid;
	long long ipa_generation;
	bool paused;
};

static void check_item(struct doc *doc, const struct node *item, const char *path,
		       int index, const struct shared *sh)
{
	static const char *const item_keys[] = { "deployment", "namespace",
		"ingress", "container", "minReplicas", "maxReplicas", "mode",
		"fallback", "behavior", "minAllowed", "maxAllowed", "controlledValues",
		"memoryMarginPercent", "resizeThresholdPercent",
		"resizeCooldownSeconds", NULL };
	const struct ipad_config *cfg = doc->cfg;
	const struct cluster_config *cluster = doc->ld->cluster;

	if (!check_map(doc, item, path, item_keys))
		return;
	const char *deployment = get_string(doc, item, path, "deployment", true);
	const char *namespace = get_string(doc, item, path, "namespace", true);
	const char *ingress = get_string(doc, item, path, "ingress", false);
	const char *container = get_string(doc, item, path, "container", false);
	check_name(doc, item, path, "deployment", deployment, true);
	check_name(doc, item, path, "namespace", namespace, false);
	check_name(doc, item, path, "ingress", ingress, true);
	check_name(doc, item, path, "container", container, false);

	int min = cfg->min_replicas, max = cfg->max_replicas;
	get_replicas(doc, item, path, "minReplicas", &min);
	bool has_max = get_replicas(doc, item, path, "maxReplicas", &max);
	char field[512];
	if (has_max && max < 1)
		doc_error(doc, get(item, "maxReplicas"),
			  field_path(field, sizeof(field), path, "maxReplicas"),
			  "must be at least 1");
	else if (min > max)
		doc_error(doc, get(item, has_max ? "maxReplicas" : "minReplicas"),
			  field_path(field, sizeof(field), path,
				     has_max ? "maxReplicas" : "minReplicas"),
			  has_max ? "%d is less than minReplicas (%d)"
				  : "%d is more than maxReplicas (%d, from [defaults] "
				    "max-replicas); set maxReplicas too",
			  has_max ? max : min, has_max ? min : max);
	struct guardrails guard = cfg->defaults;
	check_guardrails(doc, item, path, &guard);
	if (!deployment || !namespace)
		return;

	char source[4096];
	if (item->line > 0)
		snprintf(source, sizeof(source), "%s:%d:%d", doc->ld->path, item->line,
			 item->col);
	else
		snprintf(source, sizeof(source), "%s: %s", doc->ld->path, path);
	struct target t = {
		.source = dup_or_null(doc, source),
		.cluster = dup_or_null(doc, cluster->name),
		.ipa_name = dup_or_null(doc, sh->ipa_name),
		.namespace = dup_or_null(doc, namespace),
		.deployment = dup_or_null(doc, deployment),
		.ingress = dup_or_null(doc, ingress),
		.container = dup_or_null(doc, container),
		.prometheus_uri = dup_or_null(doc, sh->prometheus),
		.llm_agent = dup_or_null(doc, sh->llm_agent),
		.min_replicas = min,
		.max_replicas = max,
		.guard = guard,
		.ipa_namespace = dup_or_null(doc, sh->ipa_namespace),
		.ipa_uid = dup_or_null(doc, sh->ipa_uid),
		.ipa_generation = sh->ipa_generation,
		.ipa_item = index,
		.paused = sh->paused,
	};
	if (doc->oom) {
		target_free(&t);
		return;
	}
	const struct target *other = duplicate(doc, &t);
	if (other)
		doc_error(doc, item, path, "%s/%s is already a target (%s); one "
			  "Deployment can have only one autoscaler", namespace,
			  deployment, other->source);
	else if (target_list_append(&doc->targets, &t) < 0)
		doc->oom = true;
	target_free(&t); /* nothing left to free when it was appended */
}

/* Whether metadata has the annotation IPA_PAUSED_ANNOTATION: "true". */
static bool paused_annotation(const struct node *metadata)
{
	const struct node *a = metadata && metadata->type == N_MAP
		? get(metadata, "annotations") : NULL;
	const struct node *v = a && a->type == N_MAP ? get(a, IPA_PAUSED_ANNOTATION) : NULL;
	return v && v->type == N_SCALAR && strcmp(v->value, "true") == 0;
}

/* One IPA object (a whole document, or an item of a List). */
static void check_ipa(struct doc *doc, const struct node *obj, const char *path)
{
	static const char *const top_keys[] = { "apiVersion", "kind", "metadata",
		"spec", "status", NULL };
	static const char *const metadata_keys[] = { "name", "namespace", "labels",
		"annotations", "uid", "resourceVersion", "generation",
		"creationTimestamp", "deletionTimestamp",
		"deletionGracePeriodSeconds", "managedFields", "finalizers",
		"ownerReferences", "generateName", "selfLink", NULL };
	static const char *const spec_keys[] = { "metadata", NULL };
	static const char *const spec_metadata_keys[] = { "prometheusUri",
		"llmAgent", "ipaGroup", NULL };
	const struct ipad_config *cfg = doc->cfg;
	char field[512], q[DIAG_QUOTE_BUFSZ];

	if (obj->type != N_MAP) {
		doc_error(doc, obj, path, "an IPA object must be a mapping with "
			  "apiVersion, kind, metadata and spec, not %s",
			  type_name(obj));
		return;
	}
	const char *api = get_string(doc, obj, path, "apiVersion", false);
	if (!api || strcmp(api, IPA_API_VERSION) != 0) {
		doc_error(doc, api ? get(obj, "apiVersion") : obj,
			  field_path(field, sizeof(field), path, "apiVersion"),
			  "%s%s; an IPA object needs apiVersion: " IPA_API_VERSION,
			  api ? "is " : "is missing", api ? diag_quote(api, q, sizeof(q)) : "");
		return;
	}
	const char *kind = get_string(doc, obj, path, "kind", false);
	if (!kind || strcmp(kind, "IPA") != 0) {
		doc_error(doc, kind ? get(obj, "kind") : obj,
			  field_path(field, sizeof(field), path, "kind"),
			  "%s%s; an IPA object needs kind: IPA",
			  kind ? "is " : "is missing", kind ? diag_quote(kind, q, sizeof(q)) : "");
		return;
	}
	check_map(doc, obj, path, top_keys);

	char mpath[512], spath[512], smpath[512], gpath[512];
	field_path(mpath, sizeof(mpath), path, "metadata");
	field_path(spath, sizeof(spath), path, "spec");
	field_path(smpath, sizeof(smpath), spath, "metadata");
	field_path(gpath, sizeof(gpath), smpath, "ipaGroup");

	const struct node *metadata = get(obj, "metadata");
	const char *name = NULL;
	if (!metadata)
		doc_error(doc, obj, mpath, "is required (with a name)");
	else if (check_map(doc, metadata, mpath, metadata_keys))
		name = get_string(doc, metadata, mpath, "name", true);
	if (name)
		check_name(doc, metadata, mpath, "name", name, true);

	const struct node *spec = get(obj, "spec");
	if (!spec) {
		doc_error(doc, obj, spath, "is required");
		return;
	}
	if (!check_map(doc, spec, spath, spec_keys))
		return;
	const struct node *sm = get(spec, "metadata");
	if (!sm) {
		doc_error(doc, spec, smpath, "is required (with an ipaGroup)");
		return;
	}
	if (!check_map(doc, sm, smpath, spec_metadata_keys))
		return;

	char *prometheus = NULL, *agent = NULL;
	get_url(doc, sm, smpath, "prometheusUri", &prometheus);
	get_url(doc, sm, smpath, "llmAgent", &agent);
	const struct cluster_config *cluster = doc->ld->cluster;
	/* (A given but wrong URL has been reported already.) */
	if (!present(sm, "prometheusUri") && !cluster->prometheus)
		doc_error(doc, sm, field_path(field, sizeof(field), smpath, "prometheusUri"),
			  "is required, because [cluster %s] in %s sets no prometheus",
			  cluster->name, cfg->path ? cfg->path : "the configuration");
	if (!present(sm, "llmAgent") && cfg->advisor == ADVISOR_IPA_AGENT &&
	    !cfg->advisor_url)
		doc_error(doc, sm, field_path(field, sizeof(field), smpath, "llmAgent"),
			  "is required with [advisor] type = ipa-agent, unless "
			  "[advisor] url is set");

	struct shared sh = {
		.ipa_name = name,
		.prometheus = prometheus ? prometheus : cluster->prometheus,
		.llm_agent = cfg->advisor_url ? cfg->advisor_url : agent,
		.paused = paused_annotation(metadata),
	};
	if (doc->ld->object && metadata) {
		const struct node *n;
		sh.ipa_namespace = (n = get(metadata, "namespace")) && n->type == N_SCALAR
			? n->value : "default";
		sh.ipa_uid = (n = get(metadata, "uid")) && n->type == N_SCALAR ? n->value : NULL;
		sh.ipa_generation = (n = get(metadata, "generation")) && n->type == N_SCALAR
			? strtoll(n->value, NULL, 10) : 1;
		if (sh.ipa_generation < 1)
			sh.ipa_generation = 1;
	}
	const struct node *group = get(sm, "ipaGroup");
	if (!group || is_null(group))
		doc_error(doc, group ? group : sm, gpath, "is required: a list of "
			  "items with deployment and namespace");
	else if (group->type != N_SEQ)
		doc_error(doc, group, gpath, "must be a list, not %s", type_name(group));
	else if (group->count == 0)
		doc_error(doc, group, gpath, "is empty; list at least one item "
			  "with deployment and namespace");
	else {
		for (size_t i = 0; i < group->count; i++) {
			char ipath[512];
			path_printf(ipath, sizeof(ipath), "%s[%zu]", gpath, i);
			check_item(doc, &group->kids[i], ipath, (int)i, &sh);
		}
	}
	free(prometheus);
	free(agent);
}

/* A document: one IPA object, or a List of them (kubectl get -o yaml). */
static void check_document(struct doc *doc, const struct node *root)
{
	static const char *const list_keys[] = { "apiVersion", "kind", "items",
		"metadata", NULL };
	const char *api = NULL, *kind = NULL;
	if (root->type == N_MAP) {
		const struct node *a = get(root, "apiVersion"), *k = get(root, "kind");
		api = a && a->type == N_SCALAR ? a->value : NULL;
		kind = k && k->type == N_SCALAR ? k->value : NULL;
	}
	if (!api || !kind || strcmp(api, "v1") != 0 || strcmp(kind, "List") != 0) {
		check_ipa(doc, root, "");
		return;
	}
	if (!check_map(doc, root, "", list_keys))
		return;
	const struct node *items = get(root, "items");
	if (!items || items->type != N_SEQ) {
		doc_error(doc, items ? items : root, "items", "must be a list of IPA objects");
		return;
	}
	for (size_t i = 0; i < items->count; i++) {
		char path[64];
		check_ipa(doc, &items->kids[i],
			  path_printf(path, sizeof(path), "items[%zu]", i));
	}
}

/* ---- files and directories -------------------------------------------- */

/* Read path into *buf (malloc'd). Returns 0 or -errno, reported. */
static int read_whole(const char *path, unsigned char **buf, size_t *len,
		      struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = 0;
	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		diag_error(d, "%s: cannot open: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		diag_error(d, "%s: is a directory, not an IPA file", path);
	} else if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		diag_error(d, "%s: is not a regular file", path);
	} else if (st.st_size > IPA_MAX_FILE_SIZE) {
		rc = -EFBIG;
		diag_error(d, "%s: is larger than 16 MiB; is it the right file?", path);
	} else if (!(*buf = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
	} else {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = n < 0 ? -errno : 0;
				break;
			}
			got += (size_t)n;
		}
		if (rc < 0)
			diag_error(d, "%s: cannot read: %s", path, strerror(-rc));
		*len = got;
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* Read and check the next document (its DOCUMENT_START has been read).
 * Returns 0 (whether or not it had problems), -EIO when the file cannot
 * be read further, -ENOMEM. */
static int load_document(struct loader *ld, const struct ipad_config *cfg,
			 struct target_list *out)
{
	yaml_event_t ev;
	struct node root = { 0 };
	size_t errors = diag_errors(ld->d);
	ld->nodes = 0;
	int rc = next_event(ld, &ev);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EIO;
	rc = build(ld, &ev, 1, &root);
	bool problem = rc == -EINVAL;
	/* Read up to the end of the document: after a problem, its rest. */
	while (rc == 0 || rc == -EINVAL) {
		rc = next_event(ld, &ev);
		if (rc < 0) {
			rc = rc == -ENOMEM ? rc : -EIO;
			break;
		}
		bool done = ev.type == YAML_DOCUMENT_END_EVENT;
		yaml_event_delete(&ev);
		if (done) {
			rc = problem ? -EINVAL : 0;
			break;
		}
	}
	if (rc == 0 && !is_null(&root)) {
		struct doc doc = { .ld = ld, .cfg = cfg, .out = out };
		check_document(&doc, &root);
		if (doc.oom)
			rc = -ENOMEM;
		else if (diag_errors(ld->d) == errors &&
			 target_list_splice(out, &doc.targets) < 0)
			rc = -ENOMEM;
		target_list_free(&doc.targets);
	}
	node_free(&root);
	return rc == -EINVAL ? 0 : rc;
}

/* ipa_load_file() into cluster. */
static int load_file(const char *path, const struct ipad_config *cfg,
		     const struct cluster_config *cluster,
		     struct target_list *out, struct diag *d)
{
	struct loader ld = { .path = path, .cluster = cluster, .d = d };
	size_t errors = diag_errors(d);
	unsigned char *buf;
	int rc = read_whole(path, &buf, &ld.len, d);
	if (rc < 0)
		return rc;
	ld.buf = buf;
	if (!yaml_parser_initialize(&ld.parser)) {
		free(buf);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&ld.parser, buf, ld.len);

	int documents = 0;
	for (bool done = false; !done && rc == 0;) {
		yaml_event_t ev;
		rc = next_event(&ld, &ev);
		if (rc < 0)
			break;
		done = ev.type == YAML_STREAM_END_EVENT;
		bool start = ev.type == YAML_DOCUMENT_START_EVENT;
		yaml_event_delete(&ev);
		if (start) {
			documents++;
			rc = load_document(&ld, cfg, out);
		}
	}
	yaml_parser_delete(&ld.parser);
	free(buf);
	if (rc == -ENOMEM)
		return rc;
	if (documents == 0 && rc == 0)
		diag_warning(d, "%s: holds no YAML document", path);
	return diag_errors(d) > errors ? -EINVAL : 0;
}

static bool is_ipa_file(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.')
		return false;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ipa_load_directory() into cluster. */
static int load_directory(const char *dir, const struct ipad_config *cfg,
			  const struct cluster_config *cluster,
			  struct target_list *out, struct diag *d)
{
	DIR *dp = opendir(dir);
	if (!dp) {
		int rc = -errno;
		diag_error(d, "%s: cannot open the directory of IPA files: %s", dir,
			   strerror(errno));
		return rc;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (!is_ipa_file(e->d_name))
			continue;
		if (count == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char **grown = realloc(names, ncap * sizeof(*names));
			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			names = grown;
			cap = ncap;
		}
		if (!(names[count] = strdup(e->d_name))) {
			rc = -ENOMEM;
			break;
		}
		count++;
	}
	closedir(dp);
	if (count)
		qsort(names, count, sizeof(*names), compare_names);

	bool failed = false;
	for (size_t i = 0; i < count && rc != -ENOMEM; i++) {
		char *path = NULL;
		size_t n = strlen(dir);
		if (asprintf(&path, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/",
			     names[i]) < 0) {
			rc = -ENOMEM;
			break;
		}
		int frc = load_file(path, cfg, cluster, out, d);
		free(path);
		if (frc == -ENOMEM)
			rc = frc;
		failed |= frc < 0;
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (rc < 0)
		return rc;
	return failed ? -EINVAL : 0;
}

/* The default cluster of cfg, or NULL after reporting that path has no
 * cluster to go to. */
static const struct cluster_config *default_cluster(const char *path,
						    const struct ipad_config *cfg,
						    struct diag *d)
{
	const struct cluster_config *c = config_default_cluster(cfg);
	const char *conf = cfg->path ? cfg->path : "the configuration";
	if (!c && cfg->cluster_count == 0)
		diag_error(d, "%s: not loaded: there is no cluster in %s to put its "
			   "targets in", path, conf);
	else if (!c)
		diag_error(d, "%s: not loaded: there is no default cluster in %s to "
			   "put its targets in (set default = true in one [cluster] "
			   "section)", path, conf);
	return c;
}

int ipa_load_file(const char *path, const struct ipad_config *cfg,
		  struct target_list *out, struct diag *d)
{
	const struct cluster_config *c = default_cluster(path, cfg, d);
	return c ? load_file(path, cfg, c, out, d) : -EINVAL;
}

int ipa_load_directory(const char *dir, const struct ipad_config *cfg,
		       struct target_list *out, struct diag *d)
{
	const struct cluster_config *c = default_cluster(dir, cfg, d);
	return c ? load_directory(dir, cfg, c, out, d) : -EINVAL;
}

/* The IPA files of one cluster's targets: a directory, a glob pattern or
 * one file. */
static int load_cluster_targets(const struct ipad_config *cfg,
				const struct cluster_config *c,
				struct target_list *out, struct diag *d)
{
	struct stat st;
	if (strpbrk(c->targets, "*?[")) {
		/* unreadable directories are skipped: they match nothing */
		glob_t g;
		int grc = glob(c->targets, 0, NULL, &g);
		if (grc != 0 && grc != GLOB_NOMATCH)
			return -ENOMEM;
		if (grc == GLOB_NOMATCH)
			diag_warning(d, "%s: [cluster %s] targets: %s matches no file",
				     cfg->path, c->name, c->targets);
		int rc = 0;
		for (size_t i = 0; grc == 0 && i < g.gl_pathc && rc != -ENOMEM; i++) {
			/* a pattern may match directories: they are not IPA files */
			if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode))
				continue;
			int frc = load_file(g.gl_pathv[i], cfg, c, out, d);
			if (frc < 0)
				rc = frc == -ENOMEM ? frc : -EINVAL;
		}
		if (grc == 0)
			globfree(&g);
		return rc;
	}
	if (stat(c->targets, &st) == 0 && !S_ISDIR(st.st_mode))
		return load_file(c->targets, cfg, c, out, d);
	return load_directory(c->targets, cfg, c, out, d);
}

int ipa_load_targets(const struct ipad_config *cfg, struct target_list *out,
		     struct diag *d)
{
	const struct cluster_config *def = config_default_cluster(cfg);
	int rc = 0;
	if (def && !def->targets)
		rc = load_directory(cfg->targets, cfg, def, out, d);
	for (int i = 0; i < cfg->cluster_count && rc != -ENOMEM; i++) {
		if (!cfg->clusters[i].targets)
			continue;
		int crc = load_cluster_targets(cfg, &cfg->clusters[i], out, d);
		if (crc < 0 && (rc == 0 || crc == -ENOMEM))
			rc = crc;
	}
	return rc;
}

int ipa_load_object(const char *json, const struct ipad_config *cfg,
		    const struct cluster_config *cluster, struct target_list *out,
		    struct diag *d)
{
	size_t errors = diag_errors(d);
	cJSON *obj = cJSON_Parse(json);
	char where[1024];
	int rc;

	if (!obj) {
		diag_error(d, "cluster %s: an IPA object from the API server is not JSON",
			   cluster->name);
		return -EINVAL;
	}
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "namespace"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name"));
	snprintf(where, sizeof(where), "cluster %s: IPA %s/%s", cluster->name,
		 ns ? ns : "?", name ? name : "?");
	struct loader ld = { .path = where, .cluster = cluster, .d = d, .object = true };
	struct node root;
	rc = from_json(&ld, obj, 1, &root);
	cJSON_Delete(obj);
	if (rc == 0) {
		struct doc doc = { .ld = &ld, .cfg = cfg, .out = out };
		check_ipa(&doc, &root, "");
		if (doc.oom)
			rc = -ENOMEM;
		else if (diag_errors(d) == errors &&
			 target_list_splice(out, &doc.targets) < 0)
			rc = -ENOMEM;
		target_list_free(&doc.targets);
	}
	node_free(&root);
	if (rc == -ENOMEM)
		return rc;
	return diag_errors(d) > errors ? -EINVAL : 0;
}
