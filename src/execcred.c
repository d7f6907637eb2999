/* execcred — exec credential plugins (see execcred.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "execcred.h"
#include "http.h"
#include "journal.h"

#define STDERR_LINE_MAX 512     /* bytes of one logged stderr line */
#define POLL_SLICE_MS 200       /* how often the stop flag is looked at */
#define EXPIRY_SKEW_S 10        /* a timestamp in the past by less is not an error */

extern char **environ;

static void wipe_free(char *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

void execcred_free(struct execcred *e)
{
	if (!e)
		return;
	if (e->token)
		wipe_free(e->token, strlen(e->token));
	wipe_free(e->client_cert_pem, e->client_cert_pem_len);
	wipe_free(e->client_key_pem, e->client_key_pem_len);
	memset(e, 0, sizeof *e);
}

static char *dup_mem(const char *p, size_t len)
{
	char *d = malloc(len + 1);
	if (d) {
		memcpy(d, p, len);
		d[len] = '\0';
	}
	return d;
}

int execcred_copy(struct execcred *dst, const struct execcred *src)
{
	memset(dst, 0, sizeof *dst);
	dst->expiry = src->expiry;
	if ((src->token && !(dst->token = strdup(src->token))) ||
	    (src->client_cert_pem &&
	     !(dst->client_cert_pem = dup_mem(src->client_cert_pem,
					      src->client_cert_pem_len))) ||
	    (src->client_key_pem &&
	     !(dst->client_key_pem = dup_mem(src->client_key_pem,
					     src->client_key_pem_len)))) {
		execcred_free(dst);
		return -ENOMEM;
	}
	dst->client_cert_pem_len = src->client_cert_pem_len;
	dst->client_key_pem_len = src->client_key_pem_len;
	return 0;
}

/* ---- KUBERNETES_EXEC_INFO --------------------------------------------- */

char *execcred_exec_info(const struct kube_credentials *c)
{
	const struct kube_exec *x = c->exec;
	cJSON *root = cJSON_CreateObject(), *spec = NULL, *cl = NULL, *config = NULL;
	char *ca = NULL, *text = NULL;
	bool ok = root &&
		  cJSON_AddStringToObject(root, "apiVersion", x->api_version) &&
		  cJSON_AddStringToObject(root, "kind", "ExecCredential") &&
		  (spec = cJSON_AddObjectToObject(root, "spec")) &&
		  cJSON_AddBoolToObject(spec, "interactive", false);
	if (ok && x->provide_cluster_info) {
		ok = (cl = cJSON_AddObjectToObject(spec, "cluster")) &&
		     cJSON_AddStringToObject(cl, "server", c->server);
		if (ok && c->tls_server_name)
			ok = cJSON_AddStringToObject(cl, "tls-server-name", c->tls_server_name);
		if (ok && c->insecure_skip_tls_verify)
			ok = cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true);
		if (ok && c->ca_pem)
			ok = (ca = base64_encode(c->ca_pem, c->ca_pem_len)) &&
			     cJSON_AddStringToObject(cl, "certificate-authority-data", ca);
		if (ok && c->proxy_url)
			ok = cJSON_AddStringToObject(cl, "proxy-url", c->proxy_url);
		if (ok && c->disable_compression)
			ok = cJSON_AddBoolToObject(cl, "disable-compression", true);
		if (ok && c->exec_cluster_config) {
			config = cJSON_Parse(c->exec_cluster_config);
			ok = config && cJSON_AddItemToObject(cl, "config", config);
			if (!ok)
				cJSON_Delete(config);
		}
	}
	if (ok)
		text = cJSON_PrintUnformatted(root);
	free(ca);
	cJSON_Delete(root);
	return text;
}

/* ---- output ------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* RFC 3339 ("2026-11-30T01:04:09Z", "...09.5+01:00") into seconds since
 * the epoch, or -1. */
static time_t parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	const char *p = s + n;
	if (*p == '.') {
		size_t digits = strspn(p + 1, "0123456789");
		if (digits == 0)
			return -1;
		p += 1 + digits;
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm, m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &m) != 2 || m != 5 ||
		    hh > 23 || mm > 59)
			return -1;
		offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	return t == (time_t)-1 ? -1 : t - offset;
}

/* A status field that must be a non-empty string when present: *out is
 * NULL when absent or null. */
static int status_str(const cJSON *status, const char *key, const char **out,
		      char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(status, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return bad(err, errlen, "status.%s must be a string", key);
	if (*v->valuestring)
		*out = v->valuestring;
	return 0;
}

static bool is_pem(const char *s)
{
	return strstr(s, "-----BEGIN ") && strstr(s, "-----END ");
}

int execcred_parse(const char *api_version, const char *text, size_t len,
		   struct execcred *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = '\0';
	cJSON *root = cJSON_ParseWithLength(text, len);
	int rc = 0;
	const char *token = NULL, *cert = NULL, *key = NULL, *exp = NULL;
	if (!cJSON_IsObject(root)) {
		rc = bad(err, errlen, len == 0 ? "printed nothing; an ExecCredential "
			 "was expected on its standard output"
			 : "printed no valid ExecCredential: its standard output "
			 "(%zu bytes) is not a JSON object", len);
		goto out;
	}
	const char *api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "apiVersion"));
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "kind"));
	if (!api || strcmp(api, api_version) != 0) {
		rc = bad(err, errlen, "invalid apiVersion \"%.80s\" in its ExecCredential "
			 "(the kubeconfig asks for %s)", api ? api : "", api_version);
		goto out;
	}
	if (!kind || strcmp(kind, "ExecCredential") != 0) {
		rc = bad(err, errlen, "invalid kind \"%.80s\"; ExecCredential was "
			 "expected", kind ? kind : "");
		goto out;
	}
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsObject(status)) {
		rc = bad(err, errlen, "returned an ExecCredential without status");
		goto out;
	}
	if ((rc = status_str(status, "token", &token, err, errlen)) < 0 ||
	    (rc = status_str(status, "clientCertificateData", &cert, err, errlen)) < 0 ||
	    (rc = status_str(status, "clientKeyData", &key, err, errlen)) < 0 ||
	    (rc = status_str(status, "expirationTimestamp", &exp, err, errlen)) < 0)
		goto out;
	if (!token && !cert && !key) {
		rc = bad(err, errlen, "returned an ExecCredential with neither token "
			 "nor client certificate");
		goto out;
	}
	if (!cert != !key) {
		rc = bad(err, errlen, "returned %s without %s", cert ? "clientCertificateData"
			 : "clientKeyData", cert ? "clientKeyData" : "clientCertificateData");
		goto out;
	}
	if (cert && (!is_pem(cert) || !is_pem(key))) {
		rc = bad(err, errlen, "returned %s that is not PEM text (\"-----BEGIN ...\")",
			 !is_pem(cert) ? "clientCertificateData" : "clientKeyData");
		goto out;
	}
	if (exp && (out->expiry = parse_rfc3339(exp)) < 0) {
		rc = bad(err, errlen, "status.expirationTimestamp \"%.40s\" is not an "
			 "RFC 3339 time", exp);
		goto out;
	}
	if (token && !(out->token = strdup(token)))
		rc = -ENOMEM;
	if (rc == 0 && cert) {
		out->client_cert_pem_len = strlen(cert);
		out->client_key_pem_len = strlen(key);
		if (!(out->client_cert_pem = dup_mem(cert, out->client_cert_pem_len)) ||
		    !(out->client_key_pem = dup_mem(key, out->client_key_pem_len)))
			rc = -ENOMEM;
	}
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "out of memory");
out:
	/* the tree holds the token or key: wipe every string in it */
	if (root) {
		if (token || key) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
			const cJSON *item;
			cJSON_ArrayForEach(item, st) {
				if (cJSON_IsString(item))
					explicit_bzero(item->valuestring, strlen(item->valuestring));
			}
		}
		cJSON_Delete(root);
	}
	if (rc < 0)
		execcred_free(out);
	return rc;
}

/* ---- running ------------------------------------------------------------ */

/* The stderr of a run, logged line by line. */
struct errlog {
	const struct kube_credentials *c;
	char line[STDERR_LINE_MAX + 1];
	size_t len;
	bool cut;               /* the current line was longer than the buffer */
	unsigned lines;         /* logged */
	unsigned dropped;       /* lines over the limit */
};

static void errlog_flush(struct errlog *l)
{
	if (l->len == 0 && !l->cut)
		return;
	if (l->lines < EXECCRED_MAX_STDERR_LINES) {
		l->line[l->len] = '\0';
		for (size_t i = 0; i < l->len; i++)
			if ((unsigned char)l->line[i] < 0x20 || l->line[i] == 0x7f)
				l->line[i] = ' ';
		journal_lifecycle(5, "exec plugin %s (user \"%s\"): %s%s", l->c->exec->command,
				  l->c->exec->user, l->line, l->cut ? " [...]" : "");
		l->lines++;
	} else {
		l->dropped++;
	}
	l->len = 0;
	l->cut = false;
}

static void errlog_add(struct errlog *l, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			errlog_flush(l);
		else if (l->len < STDERR_LINE_MAX)
			l->line[l->len++] = p[i];
		else
			l->cut = true;
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The environment of the plugin: ipad's own without the names the
 * kubeconfig sets, then the kubeconfig's env list, then info
 * ("KUBERNETES_EXEC_INFO=..."). The strings
 * are borrowed; the vector is malloc'ed. */
static char **plugin_env(const struct kube_exec *x, char *info)
{
	size_t n = 0, m = 0, k = 0;
	while (environ && environ[n])
		n++;
	while (x->env && x->env[m])
		m++;
	char **v = calloc(n + m + 2, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(environ[i], "=");
		bool replaced = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;
		for (size_t j = 0; j < m && !replaced; j++)
			replaced = strncmp(environ[i], x->env[j], len + 1) == 0;
		if (!replaced)
			v[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		v[k++] = x->env[j];
	v[k] = info;
	return v;
}

/* State of one run. */
struct run {
	pid_t pid;
	int out_fd, err_fd;
	char *out;              /* stdout so far */
	size_t len, cap;
	bool too_big;
	struct errlog log;
};

/* Read what is there on fd; false at its end (or on an error). */
static bool drain(struct run *r, int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (fd == r->err_fd) {
		errlog_add(&r->log, buf, (size_t)n);
	} else if (r->len + (size_t)n > EXECCRED_MAX_OUTPUT) {
		r->too_big = true;
	} else {
		if (r->len + (size_t)n + 1 > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 8192;
			while (cap < r->len + (size_t)n + 1)
				cap *= 2;
			char *bigger = malloc(cap);
			if (!bigger) {
				r->too_big = true;
				explicit_bzero(buf, sizeof buf);
				return true;
			}
			if (r->out)
				memcpy(bigger, r->out, r->len);
			wipe_free(r->out, r->cap);
			r->out = bigger;
			r->cap = cap;
		}
		memcpy(r->out + r->len, buf, (size_t)n);
		r->len += (size_t)n;
	}
	explicit_bzero(buf, sizeof buf);
	return true;
}

/* Start the plugin with its stdout and stderr on pipes. */
static int spawn(struct run *r, const struct kube_credentials *c, char **envp)
{
	const struct kube_exec *x = c->exec;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (outp[i] >= 0)
				close(outp[i]);
		}
		return -e;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	int rc = strchr(x->command, '/')
		 ? posix_spawn(&r->pid, x->command, &fa, &attr, x->argv, envp)
		 : posix_spawnp(&r->pid, x->command, &fa, &attr, x->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(outp[1]);
	close(errp[1]);
	if (rc != 0) {
		close(outp[0]);
		close(errp[0]);
		return -rc;
	}
	r->out_fd = outp[0];
	r->err_fd = errp[0];
	return 0;
}

/* Wait for the plugin's end (both pipes closed, process exited) until
 * deadline; kill its process group when it is over or ipad stops.
 * Returns 0 with *status, -ETIMEDOUT or -ECANCELED. */
static int wait_plugin(struct run *r, double deadline, int *status)
{
	int rc = 0;
	bool out_open = true, err_open = true;
	while (out_open || err_open) {
		double left = deadline - now_ms();
		if (http_cancelled()) {
			rc = -ECANCELED;
			break;
		}
		if (left <= 0 || r->too_big) {
			rc = r->too_big ? 0 : -ETIMEDOUT;
			break;
		}
		struct pollfd p[2] = {
			{ .fd = out_open ? r->out_fd : -1, .events = POLLIN },
			{ .fd = err_open ? r->err_fd : -1, .events = POLLIN },
		};
		int n = poll(p, 2, left < POLL_SLICE_MS ? (int)left + 1 : POLL_SLICE_MS);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (out_open && p[0].revents)
			out_open = drain(r, r->out_fd);
		if (err_open && p[1].revents)
			err_open = drain(r, r->err_fd);
	}
	/* the pipes are closed: the process ends about now */
	while (rc == 0) {
		pid_t w = waitpid(r->pid, status, WNOHANG);
		if (w == r->pid)
			return 0;
		if (w < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (now_ms() >= deadline)
			rc = -ETIMEDOUT;
		else if (http_cancelled())
			rc = -ECANCELED;
		else
			usleep(10000);
	}
	kill(-r->pid, SIGKILL);
	while (waitpid(r->pid, status, 0) < 0 && errno == EINTR)
		;
	return rc;
}

/* "kubeconfig P: context "C": user "U": exec plugin CMD: " */
static size_t prefix(const struct kube_credentials *c, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "kubeconfig %s: context \"%s\": user \"%s\": "
			 "exec plugin %s: ", c->path, c->context, c->exec->user,
			 c->exec->command);
	return n < 0 ? 0 : (size_t)n >= errlen ? errlen - 1 : (size_t)n;
}

int execcred_run(const struct kube_credentials *c, long timeout_ms,
		 struct execcred *out, char *err, size_t errlen)
{
	const struct kube_exec *x = c->exec;
	struct run r = { .pid = -1, .out_fd = -1, .err_fd = -1, .log = { .c = c } };
	char tmp[1024] = "";
	int status = 0, rc;
	memset(out, 0, sizeof *out);
	if (!err || errlen == 0) {
		err = tmp;
		errlen = sizeof tmp;
	}
	size_t off = prefix(c, err, errlen);
	if (timeout_ms < EXECCRED_MIN_TIMEOUT_MS)
		timeout_ms = EXECCRED_MIN_TIMEOUT_MS;
	if (timeout_ms > EXECCRED_MAX_TIMEOUT_MS)
		timeout_ms = EXECCRED_MAX_TIMEOUT_MS;
	char *json = execcred_exec_info(c), *info = NULL;
	if (json && asprintf(&info, "KUBERNETES_EXEC_INFO=%s", json) < 0)
		info = NULL;
	char **envp = info ? plugin_env(x, info) : NULL;
	rc = envp ? spawn(&r, c, envp) : -ENOMEM;
	free(envp);
	free(info);
	free(json);
	if (rc == -ENOENT) {
		snprintf(err + off, errlen - off, "executable %s not found%s%s", x->command,
			 x->install_hint ? "; " : "", x->install_hint ? x->install_hint : "");
		for (char *p = err; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		return rc;
	}
	if (rc < 0) {
		snprintf(err + off, errlen - off, "cannot start it: %s", strerror(-rc));
		return rc;
	}
	rc = wait_plugin(&r, now_ms() + (double)timeout_ms, &status);
	close(r.out_fd);
	close(r.err_fd);
	errlog_flush(&r.log);
	if (r.log.dropped > 0)
		journal_lifecycle(5, "exec plugin %s (user \"%s\"): %u more lines of "
				  "stderr not logged", x->command, x->user, r.log.dropped);
	if (rc == -ETIMEDOUT) {
		snprintf(err + off, errlen - off, "timed out after %lds (killed)",
			 timeout_ms / 1000);
	} else if (rc == -ECANCELED) {
		snprintf(err + off, errlen - off, "killed: ipad is stopping");
	} else if (rc < 0) {
		snprintf(err + off, errlen - off, "waiting for it: %s", strerror(-rc));
	} else if (r.too_big) {
		snprintf(err + off, errlen - off, "printed more than %u bytes",
			 EXECCRED_MAX_OUTPUT);
		rc = -EBADMSG;
	} else if (WIFSIGNALED(status)) {
		snprintf(err + off, errlen - off, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		rc = -EIO;
	} else if (WEXITSTATUS(status) != 0) {
		snprintf(err + off, errlen - off, "exited with status %d%s",
			 WEXITSTATUS(status), r.log.lines ? " (its stderr is in the log)" : "");
		rc = -EIO;
	} else {
		rc = execcred_parse(x->api_version, r.out ? r.out : "", r.len, out,
				    err + off, errlen - off);
	}
	wipe_free(r.out, r.cap);
	return rc;
}
