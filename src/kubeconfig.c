/* kubeconfig — one kubeconfig file, client-go semantics (see kubeconfig.h).
 *
 * The YAML is read with libyaml's event parser into a small tree of our own
 * (scalars keep their 1-based line for messages). Aliases are refused and
 * nesting is bounded while parsing, so a hostile file can neither expand
 * nor recurse without limit. Unknown fields are ignored, as client-go does
 * (kubeconfigs carry preferences and extensions). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "kubeconfig.h"

#define KC_MAX_DEPTH 64             /* nested mappings and lists */
#define KC_MAX_FILE (16u << 20)     /* kubeconfig and every file it names */

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };

/* One YAML node. A mapping keeps keys and values alternating in kids. */
struct ynode {
	enum ynode_kind kind;
	size_t line;            /* 1-based */
	char *text;             /* scalar: NUL-terminated value */
	size_t len;
	bool is_null;           /* plain scalar "", "~" or null */
	bool plain;             /* scalar without quotes (may be a number) */
	struct ynode *kids;
	size_t n, cap;
};

/* One file of a kubeconfig list. */
struct kc_file {
	char *path;
	struct ynode root;      /* YN_MAP, or kind 0 with n 0 when empty */
};

/* State of one kubeconfig_load call. */
struct kc_load {
	const char *path;       /* the file messages name */
	char *err;
	size_t errlen;
	yaml_parser_t parser;
	struct kc_file *files;
	size_t nfiles;
};

/* Put "kubeconfig PATH[:LINE[:COL]]: <message>" into the caller's buffer. */
static int vfail(struct kc_load *L, size_t line, size_t col, int rc,
		 const char *fmt, va_list ap)
{
	if (!L->err || L->errlen == 0)
		return rc;
	int n = col  ? snprintf(L->err, L->errlen, "kubeconfig %s:%zu:%zu: ", L->path, line, col)
		: line ? snprintf(L->err, L->errlen, "kubeconfig %s:%zu: ", L->path, line)
		       : snprintf(L->err, L->errlen, "kubeconfig %s: ", L->path);
	if (n >= 0 && (size_t)n < L->errlen)
		vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
	return rc;
}

__attribute__((format(printf, 4, 5)))
static int fail(struct kc_load *L, size_t line, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(L, line, 0, rc, fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((format(printf, 3, 4)))
static int fail_at(struct kc_load *L, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(L, m->line + 1, m->column + 1, -EINVAL, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void wipe_free(char *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* Read a whole file (at most KC_MAX_FILE bytes) into a NUL-terminated
 * malloc'ed buffer. Returns 0 or -errno (-EFBIG when too large). Buffers
 * that grow are wiped before they are released: the file may hold keys. */
static int read_file(const char *path, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	/* room for the whole file, its NUL and one more byte to see EOF */
	size_t cap = S_ISREG(st.st_mode) && st.st_size < (off_t)KC_MAX_FILE
		     ? (size_t)st.st_size + 2 : 4096;
	size_t len = 0;
	char *buf = malloc(cap);
	rc = buf ? 0 : -ENOMEM;
	while (rc == 0) {
		if (len + 1 == cap) {
			if (cap > KC_MAX_FILE) {
				rc = -EFBIG;
				break;
			}
			char *bigger = malloc(cap * 2);
			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			memcpy(bigger, buf, len);
			wipe_free(buf, cap);
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		else if (r == 0)
			break;
		else
			len += (size_t)r;
	}
	close(fd);
	if (rc == 0 && len > KC_MAX_FILE)
		rc = -EFBIG;
	if (rc < 0) {
		wipe_free(buf, cap);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* ---- YAML → tree ---------------------------------------------------- */

static void ynode_free(struct ynode *n)
{
	for (size_t i = 0; i < n->n; i++)
		ynode_free(&n->kids[i]);
	free(n->kids);
	wipe_free(n->text, n->len);
	memset(n, 0, sizeof *n);
}

static int syntax_error(struct kc_load *L)
{
	const yaml_parser_t *p = &L->parser;
	if (p->error == YAML_MEMORY_ERROR)
		return fail(L, 0, -ENOMEM, "out of memory");
	if (p->error == YAML_READER_ERROR)
		return fail(L, 0, -EINVAL, "invalid YAML: %s at byte %zu",
			    p->problem, p->problem_offset);
	if (!p->context)
		return fail_at(L, &p->problem_mark, "invalid YAML: %s", p->problem);
	return fail_at(L, &p->problem_mark, "invalid YAML: %s (%s at line %zu)",
		       p->problem, p->context, p->context_mark.line + 1);
}

static int next_event(struct kc_load *L, yaml_event_t *ev)
{
	return yaml_parser_parse(&L->parser, ev) ? 0 : syntax_error(L);
}

static bool is_null_scalar(const yaml_event_t *ev)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		if (strcmp((const char *)ev->data.scalar.value, nulls[i]) == 0)
			return true;
	return false;
}

/* Build node n from ev (a node event, still owned by the caller) and, for a
 * collection, the events up to its end. depth counts the collections
 * enclosing n, n included. */
static int build(struct kc_load *L, const yaml_event_t *ev, struct ynode *n,
		 int depth)
{
	n->line = ev->start_mark.line + 1;
	yaml_event_type_t end;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(L, n->line, -EINVAL,
			    "YAML aliases (*%s) are not supported",
			    (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		n->kind = YN_SCALAR;
		n->len = ev->data.scalar.length;
		n->text = malloc(n->len + 1);
		if (!n->text)
			return fail(L, 0, -ENOMEM, "out of memory");
		memcpy(n->text, ev->data.scalar.value, n->len + 1);
		n->is_null = is_null_scalar(ev);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = YN_SEQ;
		end = YAML_SEQUENCE_END_EVENT;
		break;
	case YAML_MAPPING_START_EVENT:
		n->kind = YN_MAP;
		end = YAML_MAPPING_END_EVENT;
		break;
	default:
		return fail(L, n->line, -EINVAL, "invalid YAML: unexpected event");
	}
	if (depth > KC_MAX_DEPTH)
		return fail(L, n->line, -EINVAL,
			    "nesting deeper than %d levels is not supported",
			    KC_MAX_DEPTH);
	for (;;) {
		yaml_event_t e;
		int rc = next_event(L, &e);
		if (rc < 0)
			return rc;
		if (e.type == end) {
			yaml_event_delete(&e);
			return 0;
		}
		if (n->kind == YN_MAP && n->n % 2 == 0 &&
		    e.type != YAML_SCALAR_EVENT && e.type != YAML_ALIAS_EVENT)
			rc = fail(L, e.start_mark.line + 1, -EINVAL,
				  "mapping keys must be strings");
		else if (n->n == n->cap) {
			size_t cap = n->cap ? n->cap * 2 : 8;
			struct ynode *k = realloc(n->kids, cap * sizeof *k);
			if (k) {
				n->kids = k;
				n->cap = cap;
			} else {
				rc = fail(L, 0, -ENOMEM, "out of memory");
			}
		}
		if (rc == 0) {
			struct ynode *kid = &n->kids[n->n++];
			memset(kid, 0, sizeof *kid);
			rc = build(L, &e, kid, depth + 1);
		}
		yaml_event_delete(&e);
		if (rc < 0)
			return rc;
	}
}

/* Parse the first YAML document of buf into root. *empty is set when the
 * stream holds no document or a null one (client-go: an empty config). */
static int parse_yaml(struct kc_load *L, const char *buf, size_t len,
		      struct ynode *root, bool *empty)
{
	*empty = true;
	if (!yaml_parser_initialize(&L->parser))
		return fail(L, 0, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&L->parser, (const unsigned char *)buf, len);
	int rc = 0;
	/* stream start, document start (or stream end), node */
	for (int i = 0; rc == 0 && i < 3; i++) {
		yaml_event_t ev;
		rc = next_event(L, &ev);
		if (rc < 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (i == 2) {
			rc = build(L, &ev, root, 1);
			*empty = rc == 0 && root->kind == YN_SCALAR && root->is_null;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&L->parser);
	return rc;
}

/* ---- typed access ----------------------------------------------------- */

/* The value of key in map (the last one when repeated, as with client-go),
 * or NULL when absent or null. */
static const struct ynode *map_get(const struct ynode *map, const char *key)
{
	if (!map)
		return NULL;
	for (size_t i = map->n; i >= 2; i -= 2) {
		const struct ynode *k = &map->kids[i - 2], *v = &map->kids[i - 1];
		if (strcmp(k->text, key) == 0)
			return v->kind == YN_SCALAR && v->is_null ? NULL : v;
	}
	return NULL;
}

static const char *kind_name(enum ynode_kind k)
{
	return k == YN_MAP ? "a mapping" : k == YN_SEQ ? "a list" : "a scalar";
}

/* A string field: *out is NULL when absent, null or empty. */
static int get_str(struct kc_load *L, const struct ynode *map, const char *key,
		   const char **out)
{
	const struct ynode *v = map_get(map, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->kind != YN_SCALAR)
		return fail(L, v->line, -EINVAL, "%s must be a string, not %s",
			    key, kind_name(v->kind));
	if (v->len > 0)
		*out = v->text;
	return 0;
}

/* A mapping or list field: *out is NULL when absent or null. */
static int get_kind(struct kc_load *L, const struct ynode *map, const char *key,
		    enum ynode_kind kind, const struct ynode **out)
{
	const struct ynode *v = map_get(map, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->kind != kind)
		return fail(L, v->line, -EINVAL, "%s must be %s, not %s",
			    key, kind_name(kind), kind_name(v->kind));
	*out = v;
	return 0;
}

/* A YAML 1.1 boolean as client-go reads it; false when absent. */
static int get_bool(struct kc_load *L, const struct ynode *map, const char *key,
		    bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes",
					   "YES", "on", "On", "ON", "y", "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No",
					  "NO", "off", "Off", "OFF", "n", "N" };
	const struct ynode *v = map_get(map, key);
	*out = false;
	if (!v)
		return 0;
	for (size_t i = 0; v->kind == YN_SCALAR && i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(v->text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v->text, no[i]) == 0)
			return 0;
	}
	return fail(L, v->line, -EINVAL, "%s must be true or false", key);
}

/* Find the entry called name in the list `list` of the files (client-go's
 * NamedCluster, NamedAuthInfo, NamedContext: {name, <field>}); the first
 * file that defines it wins, and L->path becomes that file. *entry is its
 * <field> mapping (NULL when empty), *file its file, NULL when the name is
 * not defined. */
static int find_named(struct kc_load *L, const char *list, const char *field,
		      const char *name, const struct ynode **entry,
		      const struct kc_file **file)
{
	*entry = NULL;
	*file = NULL;
	for (size_t f = 0; f < L->nfiles && !*file; f++) {
		const struct ynode *seq;
		L->path = L->files[f].path;
		int rc = get_kind(L, &L->files[f].root, list, YN_SEQ, &seq);
		for (size_t i = 0; rc == 0 && seq && i < seq->n; i++) {
			const struct ynode *item = &seq->kids[i];
			const char *item_name;
			if (item->kind != YN_MAP)
				return fail(L, item->line, -EINVAL, "%s: each entry must "
					    "be a mapping with name and %s", list, field);
			rc = get_str(L, item, "name", &item_name);
			if (rc < 0 || !item_name || strcmp(item_name, name) != 0)
				continue;
			if (*file)
				return fail(L, item->line, -EINVAL,
					    "%s: duplicate name \"%s\"", list, name);
			*file = &L->files[f];
			rc = get_kind(L, item, field, YN_MAP, entry);
		}
		if (rc < 0)
			return rc;
	}
	if (*file)
		L->path = (*file)->path;
	return 0;
}

/* ---- credentials ------------------------------------------------------ */

static int dup_str(struct kc_load *L, const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : fail(L, 0, -ENOMEM, "out of memory");
}

/* A path of a kubeconfig resolved against the directory of the file that
 * defined it (L->path). */
static char *resolve_path(struct kc_load *L, const char *p)
{
	const char *slash = strrchr(L->path, '/');
	char *out;
	if (p[0] == '/' || !slash)
		return strdup(p);
	if (asprintf(&out, "%.*s/%s", (int)(slash - L->path), L->path, p) < 0)
		return NULL;
	return out;
}

/* PEM material given inline (base64 data_key, which wins) or as a file
 * (file_key). owner names the entry in messages ("cluster \"c\"").
 * *pem stays NULL when neither is set. */
static int load_pem(struct kc_load *L, const char *context, const char *owner,
		    const struct ynode *map, const char *data_key,
		    const char *file_key, char **pem, size_t *len)
{
	const char *data, *file;
	int rc = get_str(L, map, data_key, &data);
	if (rc == 0)
		rc = get_str(L, map, file_key, &file);
	if (rc < 0)
		return rc;
	if (data) {
		rc = base64_decode(data, strlen(data), pem, len);
		if (rc < 0)
			return rc == -ENOMEM ? fail(L, 0, rc, "out of memory")
			       : fail(L, 0, rc, "context \"%s\": %s: %s is not valid base64",
				      context, owner, data_key);
	} else if (file) {
		char *resolved = resolve_path(L, file);
		if (!resolved)
			return fail(L, 0, -ENOMEM, "out of memory");
		rc = read_file(resolved, pem, len);
		if (rc < 0)
			fail(L, 0, rc, "context \"%s\": unable to read %s %s for %s: %s",
			     context, file_key, resolved, owner, strerror(-rc));
		free(resolved);
		if (rc < 0)
			return rc;
	} else {
		return 0;
	}
	if (*len > 0 && memmem(*pem, *len, "-----BEGIN ", 11))
		return 0;
	return fail(L, 0, -EINVAL, "context \"%s\": %s: %s holds no PEM data "
		    "(\"-----BEGIN ...\")", context, owner, data ? data_key : file_key);
}

/* A YAML node as JSON: plain scalars true/false/null and numbers keep
 * their type, every other scalar is a string. NULL when out of memory. */
static cJSON *to_json(const struct ynode *n)
{
	if (n->kind == YN_SCALAR) {
		char *end;
		if (n->is_null)
			return cJSON_CreateNull();
		if (n->plain && (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0))
			return cJSON_CreateBool(n->text[0] == 't');
		if (n->plain && n->len > 0 && strspn(n->text, "+-0123456789.eE") == n->len) {
			double d = strtod(n->text, &end);
			if (*end == '\0')
				return cJSON_CreateNumber(d);
		}
		return cJSON_CreateString(n->text);
	}
	cJSON *o = n->kind == YN_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
	for (size_t i = 0; o && i < n->n; i += n->kind == YN_MAP ? 2 : 1) {
		cJSON *v = to_json(&n->kids[n->kind == YN_MAP ? i + 1 : i]);
		if (!v || !(n->kind == YN_MAP ? cJSON_AddItemToObject(o, n->kids[i].text, v)
			    : cJSON_AddItemToArray(o, v))) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			o = NULL;
		}
	}
	return o;
}

/* The cluster's extension client.authentication.k8s.io/exec (client-go
 * passes it to exec plugins as spec.cluster.config) as JSON text. */
static int exec_extension(struct kc_load *L, const struct ynode *cl,
			  struct kube_credentials *out)
{
	const struct ynode *list;
	int rc = get_kind(L, cl, "extensions", YN_SEQ, &list);
	for (size_t i = 0; rc == 0 && list && i < list->n; i++) {
		const struct ynode *item = &list->kids[i], *ext;
		const char *name;
		if (item->kind != YN_MAP)
			return fail(L, item->line, -EINVAL, "extensions: each entry must "
				    "be a mapping with name and extension");
		rc = get_str(L, item, "name", &name);
		if (rc < 0 || !name || strcmp(name, "client.authentication.k8s.io/exec") != 0)
			continue;
		if (!(ext = map_get(item, "extension")))
			return 0;
		cJSON *json = to_json(ext);
		out->exec_cluster_config = json ? cJSON_PrintUnformatted(json) : NULL;
		cJSON_Delete(json);
		return out->exec_cluster_config ? 0 : fail(L, 0, -ENOMEM, "out of memory");
	}
	return rc;
}

static int fill_cluster(struct kc_load *L, const struct ynode *cl,
			struct kube_credentials *out)
{
	char owner[300];
	snprintf(owner, sizeof owner, "cluster \"%s\"", out->cluster);
	const char *server, *sni, *proxy;
	int rc = get_str(L, cl, "server", &server);
	if (rc == 0)
		rc = get_str(L, cl, "tls-server-name", &sni);
	if (rc == 0)
		rc = get_str(L, cl, "proxy-url", &proxy);
	if (rc == 0)
		rc = get_bool(L, cl, "disable-compression", &out->disable_compression);
	if (rc < 0)
		return rc;
	if (!server)
		return fail(L, 0, -EINVAL, "context \"%s\": no server found for %s",
			    out->context, owner);
	if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
		return fail(L, 0, -EINVAL, "context \"%s\": %s: server \"%s\" must "
			    "start with https:// or http://", out->context, owner, server);
	if (proxy && strncmp(proxy, "http://", 7) != 0 &&
	    strncmp(proxy, "https://", 8) != 0 && strncmp(proxy, "socks5://", 9) != 0)
		return fail(L, 0, -EINVAL, "context \"%s\": %s: proxy-url: unsupported "
			    "scheme in \"%s\", must be http, https, or socks5",
			    out->context, owner, proxy);
	if ((rc = dup_str(L, server, &out->server)) < 0 ||
	    (sni && (rc = dup_str(L, sni, &out->tls_server_name)) < 0) ||
	    (proxy && (rc = dup_str(L, proxy, &out->proxy_url)) < 0))
		return rc;
	for (size_t n = strlen(out->server); n > 0 && out->server[n - 1] == '/'; n--)
		out->server[n - 1] = '\0';
	rc = get_bool(L, cl, "insecure-skip-tls-verify", &out->insecure_skip_tls_verify);
	if (rc == 0)
		rc = load_pem(L, out->context, owner, cl, "certificate-authority-data",
			      "certificate-authority", &out->ca_pem, &out->ca_pem_len);
	if (rc == 0 && out->ca_pem && out->insecure_skip_tls_verify)
		rc = fail(L, 0, -EINVAL, "context \"%s\": %s: specifying a root "
			  "certificates file with the insecure flag is not allowed",
			  out->context, owner);
	if (rc == 0)
		rc = exec_extension(L, cl, out);
	return rc;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A list of strings (null: empty) into a NULL-terminated vector with
 * room for `before` entries in front; each item is passed through fmt
 * ("%s", or "%s=%s" for {name, value} mappings when pairs). */
static int get_strv(struct kc_load *L, const struct ynode *map, const char *key,
		    size_t before, bool pairs, char ***out)
{
	const struct ynode *seq;
	int rc = get_kind(L, map, key, YN_SEQ, &seq);
	size_t n = seq ? seq->n : 0;
	*out = NULL;
	if (rc < 0)
		return rc;
	char **v = calloc(before + n + 1, sizeof *v);
	if (!v)
		return fail(L, 0, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct ynode *item = &seq->kids[i];
		const char *name = NULL, *value = NULL;
		if (pairs && item->kind == YN_MAP) {
			rc = get_str(L, item, "name", &name);
			if (rc == 0)
				rc = get_str(L, item, "value", &value);
			if (rc == 0 && !name)
				rc = fail(L, item->line, -EINVAL, "%s[%zu]: name is "
					  "required", key, i);
			if (rc == 0 && asprintf(&v[before + i], "%s=%s", name,
						value ? value : "") < 0)
				rc = fail(L, 0, -ENOMEM, "out of memory");
		} else if (!pairs && item->kind == YN_SCALAR) {
			v[before + i] = strdup(item->text);
			if (!v[before + i])
				rc = fail(L, 0, -ENOMEM, "out of memory");
		} else {
			rc = fail(L, item->line, -EINVAL, "%s[%zu] must be %s", key, i,
				  pairs ? "a mapping with name and value" : "a string");
		}
		if (rc < 0) {
			free_strv(v);
			return rc;
		}
	}
	*out = v;
	return 0;
}

static void exec_free(struct kube_exec *x)
{
	if (!x)
		return;
	free(x->api_version);
	free(x->command);
	free_strv(x->argv);
	free_strv(x->env);
	free(x->install_hint);
	free(x->user);
	free(x);
}

/* users[].user.exec (client-go's ExecConfig). */
static int fill_exec(struct kc_load *L, const struct ynode *ex,
		     struct kube_credentials *out)
{
	static const char *const versions[] = {
		"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
	};
	const char *api, *command, *mode, *hint;
	int rc = get_str(L, ex, "apiVersion", &api);
	if (rc == 0)
		rc = get_str(L, ex, "command", &command);
	if (rc == 0)
		rc = get_str(L, ex, "interactiveMode", &mode);
	if (rc == 0)
		rc = get_str(L, ex, "installHint", &hint);
	if (rc < 0)
		return rc;
	const char *ctx = out->context, *user = out->user;
	if (!api || (strcmp(api, versions[0]) != 0 && strcmp(api, versions[1]) != 0))
		return fail(L, ex->line, -EINVAL, "context \"%s\": user \"%s\": exec "
			    "plugin: invalid apiVersion \"%s\"; use %s or %s", ctx, user,
			    api ? api : "", versions[0], versions[1]);
	if (!command)
		return fail(L, ex->line, -EINVAL, "context \"%s\": user \"%s\": exec "
			    "plugin: command must be specified", ctx, user);
	bool v1 = strcmp(api, versions[0]) == 0;
	if (!mode && v1)
		return fail(L, ex->line, -EINVAL, "context \"%s\": user \"%s\": exec "
			    "plugin: interactiveMode must be specified for %s to use "
			    "exec authentication plugin", ctx, user, user);
	if (mode && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0 &&
	    strcmp(mode, "Always") != 0)
		return fail(L, ex->line, -EINVAL, "context \"%s\": user \"%s\": exec "
			    "plugin: invalid interactiveMode \"%s\"; use Never, "
			    "IfAvailable or Always", ctx, user, mode);
	if (mode && strcmp(mode, "Always") == 0)
		return fail(L, ex->line, -EINVAL, "context \"%s\": user \"%s\": exec "
			    "plugin: interactiveMode Always needs a terminal, and ipad "
			    "is a daemon; use a plugin that can run non-interactively",
			    ctx, user);
	struct kube_exec *x = calloc(1, sizeof *x);
	if (!x)
		return fail(L, 0, -ENOMEM, "out of memory");
	out->exec = x;
	x->command = strchr(command, '/') ? resolve_path(L, command) : strdup(command);
	if (!x->command || (rc = dup_str(L, api, &x->api_version)) < 0 ||
	    (rc = dup_str(L, user, &x->user)) < 0 ||
	    (hint && (rc = dup_str(L, hint, &x->install_hint)) < 0))
		return rc < 0 ? rc : fail(L, 0, -ENOMEM, "out of memory");
	rc = get_strv(L, ex, "args", 1, false, &x->argv);
	if (rc == 0)
		rc = get_strv(L, ex, "env", 0, true, &x->env);
	if (rc == 0)
		rc = get_bool(L, ex, "provideClusterInfo", &x->provide_cluster_info);
	if (rc == 0 && !(x->argv[0] = strdup(x->command)))
		rc = fail(L, 0, -ENOMEM, "out of memory");
	return rc;
}

/* The "exp" claim of a JWT (seconds since the epoch), or -1. */
static long long jwt_expiry(const char *jwt)
{
	const char *p = strchr(jwt, '.'), *q = p ? strchr(p + 1, '.') : NULL;
	if (!q)
		return -1;
	/* base64url without padding → standard base64 with padding */
	size_t n = (size_t)(q - p - 1);
	char *b = malloc(n + 4), *json = NULL;
	size_t len;
	long long exp = -1;
	if (!b)
		return -1;
	for (size_t i = 0; i < n; i++)
		b[i] = p[1 + i] == '-' ? '+' : p[1 + i] == '_' ? '/' : p[1 + i];
	while (n % 4)
		b[n++] = '=';
	if (base64_decode(b, n, &json, &len) == 0) {
		const char *e = strstr(json, "\"exp\"");
		if (e && (e = strchr(e + 5, ':')))
			exp = strtoll(e + 1, NULL, 10);
		wipe_free(json, len);
	}
	free(b);
	return exp;
}

/* users[].user.auth-provider: oidc with an id-token that is still valid is
 * a bearer token; gcp and azure were removed from client-go. */
static int fill_auth_provider(struct kc_load *L, const struct ynode *ap,
			      struct kube_credentials *out)
{
	const char *name, *token = NULL;
	const struct ynode *config;
	int rc = get_str(L, ap, "name", &name);
	if (rc == 0)
		rc = get_kind(L, ap, "config", YN_MAP, &config);
	if (rc < 0)
		return rc;
	if (name && strcmp(name, "gcp") == 0)
		return fail(L, ap->line, -ENOTSUP, "context \"%s\": user \"%s\": The gcp "
			    "auth plugin has been removed. Please use the "
			    "\"gke-gcloud-auth-plugin\" kubectl/client-go credential "
			    "plugin instead. See https://cloud.google.com/kubernetes-engine/"
			    "docs/how-to/cluster-access-for-kubectl#install_plugin for "
			    "further details", out->context, out->user);
	if (name && strcmp(name, "azure") == 0)
		return fail(L, ap->line, -ENOTSUP, "context \"%s\": user \"%s\": The azure "
			    "auth plugin has been removed. Please use the "
			    "https://github.com/Azure/kubelogin kubectl/client-go credential "
			    "plugin instead. See https://kubernetes.io/docs/reference/"
			    "access-authn-authz/authentication/#client-go-credential-plugins "
			    "for further details", out->context, out->user);
	if (!name || strcmp(name, "oidc") != 0)
		return fail(L, ap->line, -ENOTSUP, "context \"%s\": user \"%s\": no Auth "
			    "Provider found for name \"%s\"", out->context, out->user,
			    name ? name : "");
	rc = get_str(L, config, "id-token", &token);
	if (rc < 0)
		return rc;
	long long exp = token ? jwt_expiry(token) : -1;
	if (!token || exp < 0 || exp <= (long long)time(NULL))
		return fail(L, ap->line, -EKEYEXPIRED, "context \"%s\": user \"%s\": "
			    "auth-provider oidc: %s; ipad does not refresh OIDC tokens: "
			    "use an exec plugin such as kubelogin (\"kubectl oidc-login "
			    "get-token\")", out->context, out->user,
			    !token ? "there is no id-token" : exp < 0
			    ? "the id-token is not a JWT with an exp claim"
			    : "the id-token has expired");
	return dup_str(L, token, &out->token);
}

int kubeconfig_read_token_file(const char *path, char **token, char *err,
			       size_t errlen)
{
	char *buf;
	size_t len;
	*token = NULL;
	int rc = read_file(path, &buf, &len);
	if (rc < 0) {
		snprintf(err, errlen, "tokenFile %s: %s", path, strerror(-rc));
		return rc;
	}
	size_t start = strspn(buf, " \t\r\n"), end = len;
	while (end > start && strchr(" \t\r\n", buf[end - 1]))
		end--;
	if (end == start) {
		wipe_free(buf, len);
		snprintf(err, errlen, "tokenFile %s: the file is empty; it must hold "
			 "a bearer token", path);
		return -EINVAL;
	}
	*token = strndup(buf + start, end - start);
	wipe_free(buf, len);
	if (!*token) {
		snprintf(err, errlen, "tokenFile %s: out of memory", path);
		return -ENOMEM;
	}
	return 0;
}

static int fill_user(struct kc_load *L, const struct ynode *user,
		     struct kube_credentials *out)
{
	char owner[300];
	snprintf(owner, sizeof owner, "user \"%s\"", out->user);
	const char *token, *token_file, *cert_data, *cert_file, *key_data, *key_file;
	const char *username, *password, *as, *as_uid;
	const struct ynode *exec, *provider;
	int rc = get_str(L, user, "token", &token);
	if (rc == 0)
		rc = get_str(L, user, "tokenFile", &token_file);
	if (rc == 0)
		rc = get_str(L, user, "client-certificate-data", &cert_data);
	if (rc == 0)
		rc = get_str(L, user, "client-certificate", &cert_file);
	if (rc == 0)
		rc = get_str(L, user, "client-key-data", &key_data);
	if (rc == 0)
		rc = get_str(L, user, "client-key", &key_file);
	if (rc == 0)
		rc = get_str(L, user, "username", &username);
	if (rc == 0)
		rc = get_str(L, user, "password", &password);
	if (rc == 0)
		rc = get_str(L, user, "as", &as);
	if (rc == 0)
		rc = get_str(L, user, "as-uid", &as_uid);
	if (rc == 0)
		rc = get_kind(L, user, "exec", YN_MAP, &exec);
	if (rc == 0)
		rc = get_kind(L, user, "auth-provider", YN_MAP, &provider);
	if (rc < 0)
		return rc;
	bool cert = cert_data || cert_file, key = key_data || key_file;
	if (cert && !key)
		return fail(L, 0, -EINVAL, "context \"%s\": client-key-data or "
			    "client-key must be specified for \"%s\" to use the "
			    "clientCert authentication method.", out->context, out->user);
	if (key && !cert)
		return fail(L, 0, -EINVAL, "context \"%s\": client-certificate-data "
			    "or client-certificate must be specified for \"%s\" to "
			    "use the clientCert authentication method.",
			    out->context, out->user);
	if ((username || password) && (token || token_file))
		return fail(L, 0, -EINVAL, "context \"%s\": %s: username/password or "
			    "bearer token may be set, but not both", out->context, owner);
	if (token)
		rc = dup_str(L, token, &out->token);
	else if (token_file) {
		char err[1024];
		out->token_file = resolve_path(L, token_file);
		if (!out->token_file)
			return fail(L, 0, -ENOMEM, "out of memory");
		rc = kubeconfig_read_token_file(out->token_file, &out->token, err,
						sizeof err);
		if (rc < 0)
			return fail(L, 0, rc, "context \"%s\": %s: %s", out->context,
				    owner, err);
	}
	if (rc == 0 && username)
		rc = dup_str(L, username, &out->username);
	if (rc == 0 && (username || password))
		rc = dup_str(L, password ? password : "", &out->password);
	if (rc == 0 && as)
		rc = dup_str(L, as, &out->impersonate_user);
	if (rc == 0 && as_uid)
		rc = dup_str(L, as_uid, &out->impersonate_uid);
	if (rc == 0)
		rc = get_strv(L, user, "as-groups", 0, false, &out->impersonate_groups);
	if (rc == 0)
		rc = load_pem(L, out->context, owner, user, "client-certificate-data",
			      "client-certificate", &out->client_cert_pem,
			      &out->client_cert_pem_len);
	if (rc == 0)
		rc = load_pem(L, out->context, owner, user, "client-key-data",
			      "client-key", &out->client_key_pem,
			      &out->client_key_pem_len);
	/* client-go: a token, basic auth or a client certificate makes the
	 * exec plugin and the auth provider unused */
	if (rc < 0 || token || token_file || username || cert)
		return rc;
	if (exec)
		return fill_exec(L, exec, out);
	if (provider)
		return fill_auth_provider(L, provider, out);
	return 0;
}

/* A DNS-1123 label, as client-go requires of a context namespace. */
static bool is_dns_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-'))
			return false;
	return true;
}

static int resolve(struct kc_load *L, const char *list, const char *context,
		   struct kube_credentials *out)
{
	const char *current = NULL, *cluster, *user, *ns;
	const struct ynode *ctx, *cl, *us = NULL;
	const struct kc_file *f;
	int rc;
	for (size_t i = 0; i < L->nfiles && !current; i++) {
		L->path = L->files[i].path;
		if ((rc = get_str(L, &L->files[i].root, "current-context", &current)) < 0)
			return rc;
	}
	L->path = list;
	const char *name = context && *context ? context : current;
	if (!name)
		return fail(L, 0, -EINVAL, "no context chosen: current-context is "
			    "not set and no context was named");
	rc = find_named(L, "contexts", "context", name, &ctx, &f);
	if (rc < 0)
		return rc;
	if (!f) {
		L->path = list;
		return fail(L, 0, -ENOENT, "context was not found for specified "
			    "context: %s", name);
	}
	if ((rc = get_str(L, ctx, "cluster", &cluster)) < 0 ||
	    (rc = get_str(L, ctx, "user", &user)) < 0 ||
	    (rc = get_str(L, ctx, "namespace", &ns)) < 0)
		return rc;
	if (!cluster)
		return fail(L, 0, -EINVAL, "cluster was not specified for context "
			    "\"%s\"", name);
	if (ns && !is_dns_label(ns))
		return fail(L, 0, -EINVAL, "namespace \"%s\" for context \"%s\" does "
			    "not conform to the kubernetes DNS_LABEL rules", ns, name);
	const char *ctx_path = L->path;
	if ((rc = dup_str(L, list, &out->path)) < 0 ||
	    (rc = dup_str(L, name, &out->context)) < 0 ||
	    (rc = dup_str(L, cluster, &out->cluster)) < 0 ||
	    (user && (rc = dup_str(L, user, &out->user)) < 0) ||
	    (rc = dup_str(L, ns ? ns : "default", &out->namespace)) < 0)
		return rc;
	rc = find_named(L, "clusters", "cluster", cluster, &cl, &f);
	if (rc < 0)
		return rc;
	if (!f) {
		L->path = ctx_path;
		return fail(L, 0, -ENOENT, "cluster \"%s\" was not found for context "
			    "\"%s\"", cluster, name);
	}
	if ((rc = fill_cluster(L, cl, out)) < 0 || !user)
		return rc;
	rc = find_named(L, "users", "user", user, &us, &f);
	if (rc < 0)
		return rc;
	if (!f) {
		L->path = ctx_path;
		return fail(L, 0, -ENOENT, "user \"%s\" was not found for "
			    "context \"%s\"", user, name);
	}
	return fill_user(L, us, out);
}

/* Read and parse one file of the list into L->files (an empty file is an
 * empty config). Returns 0, -ENOENT for a missing file (not reported),
 * or another -errno reported in err. */
static int load_one(struct kc_load *L, const char *path)
{
	struct kc_file *f = &L->files[L->nfiles];
	char *buf = NULL;
	size_t len = 0;
	bool empty;
	L->path = path;
	memset(f, 0, sizeof *f);
	int rc = read_file(path, &buf, &len);
	if (rc < 0)
		return rc == -ENOENT ? rc : fail(L, 0, rc, "cannot read the file: %s",
						 strerror(-rc));
	f->path = strdup(path);
	if (!f->path) {
		wipe_free(buf, len);
		return fail(L, 0, -ENOMEM, "out of memory");
	}
	L->nfiles++;
	/* libyaml skips a UTF-8 or UTF-16 byte-order mark itself */
	rc = parse_yaml(L, buf, len, &f->root, &empty);
	wipe_free(buf, len);
	if (rc == 0 && empty)
		ynode_free(&f->root);
	else if (rc == 0 && f->root.kind != YN_MAP)
		rc = fail(L, f->root.line, -EINVAL, "the top level must be a mapping "
			  "(clusters, users, contexts, current-context), not %s",
			  kind_name(f->root.kind));
	return rc;
}

int kubeconfig_load(const char *path, const char *context,
		    struct kube_credentials *out, char *err, size_t errlen)
{
	struct kc_load L = { .path = path ? path : "", .err = err, .errlen = errlen };
	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path)
		return fail(&L, 0, -EINVAL, "no file name given");
	size_t n = 1;
	for (const char *p = path; *p; p++)
		n += *p == ':';
	char *list = strdup(path), *save = NULL;
	L.files = calloc(n, sizeof *L.files);
	int rc = list && L.files ? 0 : fail(&L, 0, -ENOMEM, "out of memory");
	bool several = n > 1;
	for (char *p = rc == 0 ? strtok_r(list, ":", &save) : NULL; p && rc == 0;
	     p = strtok_r(NULL, ":", &save)) {
		rc = load_one(&L, p);
		if (rc == -ENOENT && several)
			rc = 0;  /* client-go skips the missing files of a list */
		else if (rc == -ENOENT)
			fail(&L, 0, rc, "cannot read the file: %s", strerror(-rc));
	}
	if (rc == 0) {
		bool empty = true;
		for (size_t i = 0; i < L.nfiles; i++)
			empty &= L.files[i].root.n == 0;
		L.path = path;
		if (L.nfiles == 0)
			rc = fail(&L, 0, -ENOENT, "none of these files exists");
		else if (empty)
			rc = fail(&L, 0, -EINVAL, "invalid configuration: no "
				  "configuration has been provided");
		else
			rc = resolve(&L, path, context, out);
	}
	for (size_t i = 0; L.files && i < L.nfiles; i++) {
		free(L.files[i].path);
		ynode_free(&L.files[i].root);
	}
	free(L.files);
	free(list);
	if (rc < 0)
		kubeconfig_free(out);
	return rc;
}

static void wipe_str(char *s)
{
	if (s)
		wipe_free(s, strlen(s));
}

void kubeconfig_free(struct kube_credentials *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->context);
	free(c->cluster);
	free(c->user);
	free(c->namespace);
	free(c->server);
	free(c->ca_pem);
	free(c->client_cert_pem);
	wipe_free(c->client_key_pem, c->client_key_pem_len);
	wipe_str(c->token);
	free(c->token_file);
	free(c->username);
	wipe_str(c->password);
	free(c->tls_server_name);
	free(c->proxy_url);
	free(c->impersonate_user);
	free(c->impersonate_uid);
	free_strv(c->impersonate_groups);
	exec_free(c->exec);
	free(c->exec_cluster_config);
	memset(c, 0, sizeof *c);
}
