/* state — each target's history (history.h) kept across restarts in the
 * state directory ([ipad] state-directory, systemd's StateDirectory): one
 * JSON file per target, "<cluster>_<namespace>_<deployment>.json" (bytes
 * other than [a-z0-9.-] written %XX), holding {"version": 1, "target":
 * "cluster/namespace/deployment", "recommendations": [[ms, replicas]...],
 * "events": [[ms, from, to]...], "samples": [[ms, replicas, cpu_cores,
 * memory_bytes, request_rate]...] (null for unknown), "decisions":
 * [{"at", "action", "from", "to", "note"}...], "last_resize": ms,
 * "written": [ms, replicas]}. Times are Unix milliseconds. "written" (the
 * replicas ipad last wrote, history.h) is optional: absent when unknown,
 * and files of earlier versions without it load as they are.
 *
 * Writes are atomic: a temporary file in the same directory, fsync,
 * rename over the old file, fsync of the directory; a crash (kill -9)
 * leaves the old or the new file, never a mix. */
#ifndef IPAD_STATE_H
#define IPAD_STATE_H

#include <stddef.h>

#include "history.h"
#include "target.h"

/* The state file of t in dir, malloc'd; NULL when out of memory. */
char *state_path(const char *dir, const struct target *t);

/* Load t's history from dir into h (which is cleared first). A missing
 * file is an empty history (returns 0). A file that cannot be read as
 * this target's state (not JSON, another version or target, wrong
 * shapes) is renamed aside to "<file>.corrupt-<unix seconds>" and h is
 * left empty: returns -EBADMSG with err saying what was wrong and where
 * the file went, for a warning. Other errors: -errno with err. */
int state_load(const char *dir, const struct target *t, struct history *h,
	       char *err, size_t errlen);

/* Write h as t's state in dir, atomically (see above); the directory is
 * created (0750) when missing. Returns 0 or -errno with err. */
int state_save(const char *dir, const struct target *t, const struct history *h,
	       char *err, size_t errlen);

#endif
