/* runtime — ipad as a service: the loop that starts a cycle every
 * interval, the systemd notifications (READY, STATUS, RELOADING, STOPPING,
 * WATCHDOG, see sd_notify(3)), reload on SIGHUP and stop on SIGTERM/SIGINT.
 *
 * The main thread handles every signal synchronously (sigtimedwait) and
 * runs each cycle on a thread of its own, so that it can notify systemd
 * while a cycle runs:
 *   - READY=1 once the first configuration has loaded, again after each
 *     reload (whatever its outcome);
 *   - STATUS=: targets, clusters, the last cycle's duration and counts, the
 *     last error (a failed target or a failed reload);
 *   - WATCHDOG=1 every half WatchdogSec (sd_watchdog_enabled(3)) while the
 *     work progresses: between cycles, during the first two intervals of a
 *     cycle, and after that only while targets keep being recorded; a wedged
 *     cycle stops the pings and systemd restarts ipad;
 *   - SIGHUP: RELOADING=1 (with MONOTONIC_USEC) at once; the reload itself
 *     waits for the cycle in progress to end (no cycle is cut in half), then
 *     loads and validates the whole new configuration (INI, IPA files,
 *     kubeconfigs) before replacing the running one; a bad one is reported
 *     (journal, STATUS) and the running one stays;
 *   - SIGTERM/SIGINT: STOPPING=1; the cycle in progress gives up between
 *     steps and its network calls are cancelled (http_set_cancel_flag()),
 *     so no decision is half applied; exit status 0.
 * With [ipad] leader-election, an elector per cluster (lease.h) starts
 * before the first cycle; a reload keeps those whose settings it left
 * unchanged and replaces the others without releasing their Lease; on
 * SIGTERM/SIGINT (and after --once) every held Lease is released after
 * the last cycle, so another host takes over at once. STATUS= then says
 * "leading N/M clusters". */
#ifndef IPAD_RUNTIME_H
#define IPAD_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "kube.h"
#include "target.h"

/* Everything one configuration file leads to, validated: the INI, every
 * target of the IPA files, a Kubernetes client per cluster. */
struct ipad_setup {
	struct ipad_config cfg;
	struct target_list targets;
	struct kube_cluster *clusters;  /* cfg.cluster_count of them */
};

/* Load path and everything it names. Every problem (and warning) is
 * appended to d. A kubeconfig that does not load is an error when strict
 * (--check-config, reload: there is a configuration that works), else a
 * warning (start-up: its cluster's targets are held until it loads).
 * Returns 0 with *out allocated (free it with setup_free()), or -EINVAL
 * (errors in d) or -ENOMEM with *out NULL. Nothing is contacted over the
 * network and no exec credential plugin runs. */
int setup_load(const char *path, bool strict, struct ipad_setup **out,
	       struct diag *d);

void setup_free(struct ipad_setup *su);

/* "2 targets, 1 cluster, advisor ipa-agent" into buf ("..., 2 clusters
 * (IPA objects watched in 1), ..." when some cluster has watch-ipas);
 * the count is of targets, or of su's files when targets is NULL (then
 * "2 targets in files, ..." when some cluster has watch-ipas).
 * Returns buf. */
char *setup_summary(const struct ipad_setup *su, const struct target_list *targets,
		    char *buf, size_t len);

struct runtime_options {
	const char *config;  /* path reloaded on SIGHUP */
	bool once;           /* one cycle, then exit */
	bool dry_run;        /* --dry-run (ORed with the INI's dry-run) */
};

/* Run ipad on su (owned from now on: replaced on reload, freed at the end)
 * until SIGTERM/SIGINT, or for one cycle with opt->once. Call before any
 * other thread exists. Returns the exit status: 0; with once 75 when a
 * target failed; 71 when the workers cannot be set up. */
int runtime_run(const struct runtime_options *opt, struct ipad_setup *su);

#endif
