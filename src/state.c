/* state — see state.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "state.h"

#define STATE_VERSION 1
#define STATE_MAX_SIZE (4 * 1024 * 1024)

/* Append s to buf (at *len, size cap) with bytes outside [a-z0-9.-] as %XX. */
static void escaped(char *buf, size_t cap, size_t *len, const char *s)
{
	for (; s && *s && *len + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')
			buf[(*len)++] = (char)c;
		else
			*len += (size_t)snprintf(buf + *len, cap - *len, "%%%02X", c);
	}
	buf[*len] = '\0';
}

char *state_path(const char *dir, const struct target *t)
{
	char name[1024];
	size_t len = 0;
	char *path = NULL;

	escaped(name, sizeof(name), &len, t->cluster);
	name[len++] = '_';
	escaped(name, sizeof(name), &len, t->namespace);
	name[len++] = '_';
	escaped(name, sizeof(name), &len, t->deployment);
	if (asprintf(&path, "%s/%s.json", dir, name) < 0)
		return NULL;
	return path;
}

static char *target_id(const struct target *t)
{
	char *id = NULL;

	if (asprintf(&id, "%s/%s/%s", t->cluster, t->namespace, t->deployment) < 0)
		return NULL;
	return id;
}

/* ---- reading ----------------------------------------------------------- */

/* The numbers of a JSON array of n entries into v (null: NAN). */
static bool numbers(const cJSON *a, double *v, int n, bool null_ok)
{
	int i;

	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
		return false;
	for (i = 0; i < n; i++) {
		const cJSON *x = cJSON_GetArrayItem(a, i);
		if (cJSON_IsNumber(x) && isfinite(x->valuedouble))
			v[i] = x->valuedouble;
		else if (null_ok && cJSON_IsNull(x))
			v[i] = NAN;
		else
			return false;
	}
	return true;
}

static bool whole(double v)
{
	return isfinite(v) && v == floor(v) && fabs(v) < 9e15;
}

static bool replicas_ok(double v)
{
	return whole(v) && v >= 0 && v <= INT32_MAX;
}

/* Fill h from root; false with what when a part has the wrong shape. */
static bool from_json(const cJSON *root, const char *id, struct history *h,
		      const char **what)
{
	const cJSON *x, *e;
	double v[5];

	x = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(x) || x->valuedouble != STATE_VERSION)
		return *what = "not a version 1 ipad state file", false;
	x = cJSON_GetObjectItemCaseSensitive(root, "target");
	if (!cJSON_IsString(x) || strcmp(x->valuestring, id) != 0)
		return *what = "the state of another target", false;
	*what = "bad recommendations";
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "recommendations")) {
		if (!numbers(e, v, 2, false) || !whole(v[0]) || !replicas_ok(v[1]))
			return false;
		history_add_recommendation(h, (int64_t)v[0], (int32_t)v[1]);
	}
	*what = "bad events";
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "events")) {
		if (!numbers(e, v, 3, false) || !whole(v[0]) || !replicas_ok(v[1]) ||
		    !replicas_ok(v[2]))
			return false;
		history_add_event(h, (int64_t)v[0], (int32_t)v[1], (int32_t)v[2]);
	}
	*what = "bad samples";
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "samples")) {
		struct history_sample s;
		if (!numbers(e, v, 5, true) || !whole(v[0]) || !replicas_ok(v[1]))
			return false;
		s = (struct history_sample){ (int64_t)v[0], (int32_t)v[1], v[2], v[3], v[4] };
		history_add_sample(h, &s);
	}
	*what = "bad decisions";
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "decisions")) {
		struct history_decision d = { 0 };
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "at");
		const cJSON *action = cJSON_GetObjectItemCaseSensitive(e, "action");
		const cJSON *from = cJSON_GetObjectItemCaseSensitive(e, "from");
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(e, "to");
		const cJSON *note = cJSON_GetObjectItemCaseSensitive(e, "note");
		if (!cJSON_IsNumber(at) || !whole(at->valuedouble) ||
		    !cJSON_IsString(action) || !cJSON_IsNumber(from) ||
		    !replicas_ok(from->valuedouble) || !cJSON_IsNumber(to) ||
		    !replicas_ok(to->valuedouble) || !cJSON_IsString(note))
			return false;
		d.at_ms = (int64_t)at->valuedouble;
		d.from = (int32_t)from->valuedouble;
		d.to = (int32_t)to->valuedouble;
		snprintf(d.action, sizeof(d.action), "%.*s", (int)sizeof(d.action) - 1,
			 action->valuestring);
		snprintf(d.note, sizeof(d.note), "%.*s", (int)sizeof(d.note) - 1,
			 note->valuestring);
		history_add_decision(h, &d);
	}
	*what = "bad last_resize";
	x = cJSON_GetObjectItemCaseSensitive(root, "last_resize");
	if (x && !(cJSON_IsNumber(x) && whole(x->valuedouble) && x->valuedouble >= 0))
		return false;
	h->last_resize_ms = x ? (int64_t)x->valuedouble : 0;
	/* Optional (files written before it have none): [ms, replicas]. */
	*what = "bad written";
	x = cJSON_GetObjectItemCaseSensitive(root, "written");
	if (x && !(numbers(x, v, 2, false) && whole(v[0]) && v[0] > 0 && replicas_ok(v[1])))
		return false;
	h->written_ms = x ? (int64_t)v[0] : 0;
	h->written_replicas = x ? (int32_t)v[1] : 0;
	return true;
}

/* Read path whole (at most STATE_MAX_SIZE). Returns 0, -ENOENT, -EFBIG or
 * -errno. */
static int slurp(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	*out = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size > STATE_MAX_SIZE)
		rc = -EFBIG;
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		rc = -ENOMEM;
	while (rc == 0 && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
}

int state_load(const char *dir, const struct target *t, struct history *h,
	       char *err, size_t errlen)
{
	char *path = state_path(dir, t), *id = target_id(t), *text = NULL, *aside = NULL;
	const char *what = "not JSON";
	cJSON *root = NULL;
	int rc;

	memset(h, 0, sizeof(*h));
	if (!path || !id) {
		rc = -ENOMEM;
		goto out;
	}
	rc = slurp(path, &text);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc < 0 && rc != -EFBIG) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	if (rc == 0 && (root = cJSON_Parse(text)) && from_json(root, id, h, &what)) {
		history_prune(h, (int64_t)time(NULL) * 1000);
		goto out;
	}
	if (rc == -EFBIG)
		what = "not a regular file of at most 4 MiB";
	memset(h, 0, sizeof(*h));
	rc = -EBADMSG;
	if (asprintf(&aside, "%s.corrupt-%lld", path, (long long)time(NULL)) < 0) {
		aside = NULL;
		rc = -ENOMEM;
	} else if (rename(path, aside) < 0) {
		snprintf(err, errlen, "%s: %s, and it cannot be set aside (%s); "
			 "starting with an empty history", path, what, strerror(errno));
	} else {
		snprintf(err, errlen, "%s: %s; set aside as %s, starting with an "
			 "empty history", path, what, aside);
	}
out:
	cJSON_Delete(root);
	free(text);
	free(aside);
	free(path);
	free(id);
	return rc;
}

/* ---- writing ----------------------------------------------------------- */

static cJSON *array_of(const double *v, int n)
{
	cJSON *a = cJSON_CreateArray();
	int i;

	for (i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, isnan(v[i]) ? cJSON_CreateNull()
						       : cJSON_CreateNumber(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* Add item (may be NULL after a failed allocation) to array a. */
static bool put(cJSON *a, cJSON *item)
{
	if (!a || !item || !cJSON_AddItemToArray(a, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static char *to_json(const struct history *h, const char *id)
{
	cJSON *root = cJSON_CreateObject(), *recs, *events, *samples, *decisions;
	cJSON *written = NULL;
	bool ok = root && cJSON_AddNumberToObject(root, "version", STATE_VERSION) &&
		  cJSON_AddStringToObject(root, "target", id);
	char *text = NULL;
	size_t i;

	recs = ok ? cJSON_AddArrayToObject(root, "recommendations") : NULL;
	events = ok ? cJSON_AddArrayToObject(root, "events") : NULL;
	samples = ok ? cJSON_AddArrayToObject(root, "samples") : NULL;
	decisions = ok ? cJSON_AddArrayToObject(root, "decisions") : NULL;
	ok = ok && recs && events && samples && decisions &&
	     cJSON_AddNumberToObject(root, "last_resize", (double)h->last_resize_ms);
	if (ok && h->written_ms > 0) {
		double v[2] = { (double)h->written_ms, h->written_replicas };
		ok = (written = array_of(v, 2)) && cJSON_AddItemToObject(root, "written", written);
		if (!ok)
			cJSON_Delete(written);
	}
	for (i = 0; ok && i < h->rec_count; i++) {
		double v[2] = { (double)h->recs[i].at_ms, h->recs[i].replicas };
		ok = put(recs, array_of(v, 2));
	}
	for (i = 0; ok && i < h->event_count; i++) {
		double v[3] = { (double)h->events[i].at_ms, h->events[i].from, h->events[i].to };
		ok = put(events, array_of(v, 3));
	}
	for (i = 0; ok && i < h->sample_count; i++) {
		const struct history_sample *s = &h->samples[i];
		double v[5] = { (double)s->at_ms, s->replicas, s->cpu_cores,
				s->memory_bytes, s->request_rate };
		ok = put(samples, array_of(v, 5));
	}
	for (i = 0; ok && i < h->decision_count; i++) {
		const struct history_decision *d = &h->decisions[i];
		cJSON *o = cJSON_CreateObject();
		ok = put(decisions, o) &&
		     cJSON_AddNumberToObject(o, "at", (double)d->at_ms) &&
		     cJSON_AddStringToObject(o, "action", d->action) &&
		     cJSON_AddNumberToObject(o, "from", d->from) &&
		     cJSON_AddNumberToObject(o, "to", d->to) &&
		     cJSON_AddStringToObject(o, "note", d->note);
	}
	if (ok)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_save(const char *dir, const struct target *t, const struct history *h,
	       char *err, size_t errlen)
{
	char *path = state_path(dir, t), *id = target_id(t), *text = NULL, *tmp = NULL;
	const char *step = "write";
	int fd = -1, dfd = -1, rc = 0;

	if (!path || !id || !(text = to_json(h, id)) ||
	    asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0) {
		tmp = NULL;
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory writing the state of %s", id ? id : "a target");
		goto out;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "state directory %s: cannot create it: %s", dir,
			 strerror(errno));
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create a temporary file: %s", tmp,
			 strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if ((rc = write_all(fd, text, strlen(text))) == 0 && fsync(fd) < 0) {
		rc = -errno;
		step = "fsync";
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
		step = "close";
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = -errno;
		step = "rename";
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s failed: %s", path, step, strerror(-rc));
		unlink(tmp);
		goto out;
	}
	/* The rename itself must reach the disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "state directory %s: fsync failed: %s", dir,
			 strerror(errno));
	}
	if (dfd >= 0)
		close(dfd);
out:
	free(path);
	free(id);
	free(text);
	free(tmp);
	return rc;
}
