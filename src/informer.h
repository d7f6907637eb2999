/* informer — list+watch of one cluster's IPA custom resources
 * (ipas.ipa.shafinhasnat.me/v1alpha1), kept as an in-memory store.
 *
 * Implements client-go's reflector (k8s.io/client-go/tools/cache): LIST
 * with limit=500 and continue paging, keep the list's resourceVersion,
 * then WATCH from it with allowWatchBookmarks=true and timeoutSeconds
 * random in 300..600. ADDED/MODIFIED/DELETED change the store, BOOKMARK
 * only advances the resourceVersion. A watch that ends normally is
 * started again from the last resourceVersion; "too old" (HTTP 410, or an
 * ERROR event whose Status code is 410) makes a full relist that replaces
 * the store; a dropped connection, 5xx or another failure reconnects from
 * the last resourceVersion after a capped exponential backoff with jitter
 * (0.5 s doubling up to 30 s, back to the start after a watch that
 * delivered events). 403 and 404 are logged with what to do (RBAC
 * manifest, CRD manifest) and retried with the same backoff; a message is
 * logged again only when the error changes. One thread per watched path
 * (all namespaces, or each configured namespace), each with its own
 * struct http_client; all of them fill one store. */
#ifndef IPAD_INFORMER_H
#define IPAD_INFORMER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "kube.h"

struct informer;

/* The informer of cluster k's IPA objects (ipas.ipa.shafinhasnat.me/v1alpha1) in namespaces
 * (blank/comma separated, NULL: all namespaces). k is borrowed and must outlive it. Nothing is
 * contacted until informer_start(). Repeated namespaces count once. NULL with err set on
 * failure: out of memory, a blank list, or a name that cannot be a path segment ("", "..").
 * (config.c checks ipa-namespaces entries as DNS-1123 labels before.) */
struct informer *informer_new(struct kube_cluster *k, const char *namespaces, char *err, size_t errlen);

/* Start the thread that lists, then watches, forever (one per namespace
 * when namespaces were given). 0 or -errno (from pthread_create, or
 * -EALREADY when started already). */
int informer_start(struct informer *inf);

/* Wait until the first complete list has been received, at most timeout_ms. true when synced. */
bool informer_wait_synced(struct informer *inf, long timeout_ms);

/* Increases whenever the set of objects changes (added, modified apart from
 * status, resourceVersion and managedFields — a status write changes no
 * target —, deleted, or a relist that differs). */
unsigned long informer_version(struct informer *inf);

/* A copy of the current objects: each one IPA object as JSON text (malloc'd, NUL-terminated,
 * as the API server sent it, list items get "apiVersion"/"kind" added since list items lack
 * them), sorted by namespace then name; *synced false before the first list completed.
 * 0 or -ENOMEM. Free with informer_objects_free(). */
int informer_objects(struct informer *inf, char ***objects, size_t *count, bool *synced);
void informer_objects_free(char **objects, size_t count);

/* Stop the thread (its network call is cancelled at once: libcurl notices
 * within about a second), join it, free. NULL is fine. */
void informer_free(struct informer *inf);

/* ---- the watch stream, exposed for the unit tests ---------------------- */

/* The longest watch event line accepted (bytes, without the newline). */
#define INFORMER_MAX_LINE ((size_t)4 << 20)

enum informer_event_type {
	INFORMER_ADDED, INFORMER_MODIFIED, INFORMER_DELETED,
	INFORMER_BOOKMARK, INFORMER_ERROR,
};

/* One decoded watch event (metav1.WatchEvent). All pointers point into
 * object, owned by the event (informer_event_clear()). */
struct informer_event {
	enum informer_event_type type;
	cJSON *object;              /* "object" of the event */
	const char *namespace_;     /* metadata.namespace or NULL */
	const char *name;           /* metadata.name (NULL for BOOKMARK, ERROR) */
	const char *resource_version; /* metadata.resourceVersion (NULL for ERROR) */
	long code;                  /* ERROR: the Status code (410: relist), else 0 */
	const char *reason;         /* ERROR: Status reason or NULL */
	const char *message;        /* ERROR: Status message or NULL */
};

/* Decode one line (without its newline; surrounding blanks allowed) into
 * ev. Returns 0, or -EBADMSG with why = what is wrong ("not JSON", "not a
 * watch event: no \"type\"", "unknown event type \"X\"", "ADDED object has
 * no metadata.name", "BOOKMARK has no metadata.resourceVersion"), or
 * -ENOMEM. ev is empty (nothing to clear) on failure. */
int informer_event_decode(const char *line, size_t len, struct informer_event *ev,
			  char *why, size_t whylen);
void informer_event_clear(struct informer_event *ev);

/* Called with each decoded event (borrowed for the call). Return 0 to go
 * on, or a negative errno to stop: informer_stream_feed() returns it. */
typedef int (*informer_event_fn)(void *ctx, const struct informer_event *ev);

/* Called for a line that is skipped: kind is a fixed string naming the
 * kind of problem ("not JSON", "overlong", ...; to log once per kind),
 * text the sentence with a short excerpt of the line. */
typedef void (*informer_problem_fn)(void *ctx, const char *kind, const char *text);

/* The line splitter of a watch body (newline-delimited JSON): a line may
 * arrive split across any number of pieces, several lines may come in one
 * piece, empty lines are ignored, a line longer than max_line is skipped
 * up to its newline (reported once, as "overlong"), a line that does not
 * decode is skipped (reported). Bytes are never parsed twice. */
struct informer_stream {
	informer_event_fn on_event;
	informer_problem_fn on_problem;
	void *ctx;
	size_t max_line;
	char *line;                 /* the partial line so far */
	size_t len, cap;
	bool overlong;              /* skipping the rest of an overlong line */
	unsigned long events;       /* events delivered */
	unsigned long skipped;      /* lines skipped */
};

void informer_stream_init(struct informer_stream *s, size_t max_line,
			  informer_event_fn on_event, informer_problem_fn on_problem,
			  void *ctx);
/* Feed the next len bytes of the body. Returns 0, -ENOMEM, or the
 * negative value an on_event returned (the rest of data is not read). */
int informer_stream_feed(struct informer_stream *s, const char *data, size_t len);
/* Whether a partial line is pending (a body that ends here was cut). */
bool informer_stream_pending(const struct informer_stream *s);
void informer_stream_free(struct informer_stream *s);

#endif
