/* scheduler — the cycle: every target through observe → advise → decide →
 * act → record, on a bounded pool of worker threads.
 *
 * Each worker owns one HTTP client (connections shared through the pool),
 * so a slow advisor or cluster for one target occupies one worker, not the
 * cycle. Every target has a deadline inside the interval: each network call
 * gets min(its configured timeout, the time left). A failure in one target
 * is recorded and never stops the others or the next cycle. A stop request
 * is honoured between steps: a decision is applied whole or not at all. */
#ifndef IPAD_SCHEDULER_H
#define IPAD_SCHEDULER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "kube.h"
#include "target.h"

struct scheduler;

struct cycle_stats {
	size_t targets;   /* evaluated */
	size_t changed;   /* scale/resize applied (or would be, in dry-run) */
	size_t failures;  /* records with PRIORITY <= 4 */
	double seconds;   /* wall time of the cycle */
};

/* Create a scheduler over cfg, targets and clusters (all borrowed; they
 * must outlive it). stop is polled between steps. Returns NULL with err set. */
struct scheduler *scheduler_new(const struct ipad_config *cfg,
				const struct target_list *targets,
				struct kube_cluster *clusters, int cluster_count,
				bool dry_run, volatile sig_atomic_t *stop,
				char *err, size_t errlen);

/* Run one cycle; returns when every target is done. */
void scheduler_run_cycle(struct scheduler *s, struct cycle_stats *stats);

void scheduler_free(struct scheduler *s);

#endif
