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

struct lease_elector;

/* Leader election (lease.h): per_cluster holds one elector per cluster,
 * in the order of the clusters given to scheduler_new() (borrowed; the
 * array and the electors must outlive s or be replaced by another call;
 * a NULL entry, an elector that could not start, holds that cluster).
 * A target whose cluster this process does not lead is neither observed
 * nor changed: its record is a hold of PRIORITY 6 whose reason says which
 * host holds the Lease ("standby: Lease kube-system/ipad in cluster eu is
 * held by host-b"), one per target per cycle as for every target. Right
 * before applying, the Lease is checked again: a leader past its renew
 * deadline abandons the decision whole. NULL (the default): no election,
 * every target is acted on. Call between cycles. */
void scheduler_set_electors(struct scheduler *s, struct lease_elector **per_cluster);

/* The IPA objects whose spec has an error (borrowed; NULL: none): after
 * each cycle their status says InvalidSpec (status_invalid()), written
 * like the others' (not in dry-run, only where this host leads). */
struct registry_rejections;
void scheduler_set_rejected(struct scheduler *s, const struct registry_rejections *rejected);

/* Before old is freed and s takes its place (a reload, or changed IPA
 * objects): the targets of s that old had too (same cluster, namespace
 * and Deployment) keep their history and the memory of their Events,
 * also in dry-run where no state file holds them, and the memory of the
 * IPA conditions last sent moves to s. old may be NULL. */
void scheduler_carry_over(struct scheduler *s, struct scheduler *old);

/* Run one cycle; returns when every target is done. */
void scheduler_run_cycle(struct scheduler *s, struct cycle_stats *stats);

void scheduler_free(struct scheduler *s);

#endif
