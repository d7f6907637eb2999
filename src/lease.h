/* lease — leader election per cluster with a coordination.k8s.io/v1 Lease,
 * so that of several ipad hosts managing the same cluster one acts.
 *
 * Follows client-go's tools/leaderelection (LeaseLock):
 *   - GET the Lease [lease-namespace]/[lease-name]; create it (POST) with
 *     this process as holder when it is missing;
 *   - the record is "seen changing" when its spec differs from the one seen
 *     before; the LOCAL monotonic time of that observation is what ages it:
 *     it is expired once leaseDurationSeconds have passed on this host's
 *     clock since then. renewTime and acquireTime, written by another
 *     host's clock, are never compared with ours (clock skew is harmless);
 *   - unheld (holderIdentity "") or expired: take it over — PUT with this
 *     identity, acquireTime = renewTime = now, leaseTransitions + 1;
 *   - held by this identity: renew — PUT renewTime = now, acquireTime and
 *     leaseTransitions kept (so a process restarted or reloaded with the
 *     same identity keeps leading at once, as client-go does);
 *   - held by another and seen changing within its duration: standby;
 *   - every PUT carries the resourceVersion read: a 409 Conflict means
 *     another host wrote first; the Lease is read again at once;
 *   - a leader whose last successful write was SENT more than the renew
 *     deadline ago stops leading, before the Lease can expire for the
 *     others (they count from when they saw the write, which is later);
 *   - on stop (not on reload) the holder releases the Lease: PUT
 *     holderIdentity "" and leaseDurationSeconds 1, acquireTime and
 *     renewTime kept (client-go's ReleaseOnCancel), so a standby host takes
 *     over at its next try instead of after the duration.
 *
 * Timing, from lease-duration D (LEASE_DURATION_MIN_MS .. 5 min): renew
 * deadline 2/3 D, retry period max(2/15 D, 1 s) — client-go's defaults
 * 15 s / 10 s / 2 s scaled; each request takes at most min(the cluster's
 * request-timeout, D/3). A standby host therefore takes over at most about
 * D + 2 retry periods after the last renewal of a dead leader.
 *
 * Identity: [ipad] identity, else HOSTNAME_XXXXXXXX with 8 hex digits
 * drawn once per process (client-go's hostname_UUID): cloned hosts with
 * the same name, or two processes on one host, are never both leaders; a
 * reload keeps the identity. A process restarted after a crash therefore
 * waits until its predecessor's Lease expires (a clean stop releases it).
 * A configured identity is used as it is: then a restart resumes at once,
 * and it must differ between hosts. */
#ifndef IPAD_LEASE_H
#define IPAD_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "kube.h"

#define LEASE_DURATION_MIN_MS 5000

/* The spec fields of a Lease that the election reads. */
struct lease_record {
	bool exists;              /* false: 404, the Lease is to be created */
	char holder[254];         /* holderIdentity, "" when unheld */
	long duration_s;          /* leaseDurationSeconds, 0 when unset */
	long transitions;         /* leaseTransitions */
};

/* What the election does next with a record it has read. */
enum lease_verdict {
	LEASE_CREATE,   /* no Lease: POST one with this identity as holder */
	LEASE_ACQUIRE,  /* unheld or expired: PUT this identity, transitions + 1 */
	LEASE_RENEW,    /* held by this identity: PUT renewTime */
	LEASE_STANDBY,  /* held by another, seen changing within its duration */
};

/* The timing derived from the configured duration (milliseconds). */
struct lease_timing {
	int64_t duration_ms;
	int64_t renew_deadline_ms;  /* 2/3 duration */
	int64_t retry_ms;           /* max(2/15 duration, 1000) */
};

/* The timing above for duration_ms (values below LEASE_DURATION_MIN_MS
 * are taken as that minimum). Pure. */
struct lease_timing lease_timing_for(int64_t duration_ms);

/* The election's decision, client-go's tryAcquireOrRenew. r is the record
 * just read; observed_s the local monotonic time (s) at which r's spec was
 * last seen changing (it is the time it was first seen, for a record seen
 * once); now_s the local monotonic time; default_duration_s counts when the
 * record has no leaseDurationSeconds. The remote renewTime is not an input:
 * another host's clock never decides. Pure. */
enum lease_verdict lease_decide(const struct lease_record *r, const char *identity,
				double observed_s, double now_s, long default_duration_s);

/* Whether a leader may still act: its last successful write was sent at
 * renewed_s (local monotonic s, < 0: never) and the renew deadline has
 * not passed at now_s. Pure. */
bool lease_still_valid(double renewed_s, double renew_deadline_s, double now_s);

/* The record of a Lease object (its spec; missing fields are empty).
 * Returns 0, or -EBADMSG with err set when obj is not a Lease with a spec
 * object or holderIdentity is not a string of at most 253 characters. */
int lease_record_parse(const cJSON *obj, struct lease_record *out, char *err, size_t errlen);

/* Unix microseconds as a Kubernetes MicroTime, RFC 3339 UTC with six
 * fractional digits: 1795834800000000 → "2026-11-30T03:00:00.000000Z".
 * buf needs 28 bytes. Returns buf. */
char *lease_micro_time(int64_t unix_us, char *buf, size_t len);

/* Write the verdict v into obj's spec (obj is the Lease as read, or for
 * LEASE_CREATE an empty object that gets apiVersion, kind and metadata
 * namespace/name): holderIdentity = identity, leaseDurationSeconds =
 * duration_s, renewTime = now; LEASE_CREATE and LEASE_ACQUIRE also set
 * acquireTime = now, LEASE_ACQUIRE leaseTransitions = old + 1 (CREATE 0);
 * LEASE_RENEW keeps both. metadata.resourceVersion is left as read (the
 * optimistic concurrency of the PUT). Returns 0 or -ENOMEM. */
int lease_record_write(cJSON *obj, enum lease_verdict v, const char *ns, const char *name,
		       const char *identity, long duration_s, const char *now);

/* Turn obj's spec into a released Lease: holderIdentity "",
 * leaseDurationSeconds 1, the rest kept. Returns 0 or -ENOMEM. */
int lease_record_release(cJSON *obj);

struct lease_elector;

/* Start electing for the cluster cc with cfg's lease-namespace,
 * lease-name, lease-duration and identity (all copied): a thread of its
 * own, with its own Kubernetes client of cc (credentials loaded when first
 * needed, kube.h) and its own HTTP client, tries every retry period; the
 * elector does not depend on the configuration it came from, so it can
 * outlive a reload. Transitions are logged once each as lifecycle
 * records ("cluster eu: leading (Lease kube-system/ipad)", "cluster eu:
 * standby, Lease kube-system/ipad is held by host-b", "cluster eu: lost
 * the Lease kube-system/ipad: ...", errors with what to fix, a 403 naming
 * the RBAC rule). Returns the elector, or NULL with err set (no memory,
 * no thread, no host name). */
struct lease_elector *lease_elector_start(const struct cluster_config *cc,
					  const struct ipad_config *cfg,
					  char *err, size_t errlen);

/* Whether e elects with exactly the settings of cc and cfg (cluster name,
 * kubeconfig, context, request timeout, lease namespace, name, duration,
 * identity): a reload that changed none of them keeps e running. */
bool lease_elector_same(const struct lease_elector *e, const struct cluster_config *cc,
			const struct ipad_config *cfg);

/* Whether this process leads e's cluster right now: its last successful
 * acquisition or renewal was sent within the renew deadline. Until the
 * elector's first try has ended, waits for it at most wait_ms. When not
 * leading, why (may be NULL) gets the sentence for a hold: "standby:
 * Lease kube-system/ipad in cluster eu is held by host-b", or "... is not
 * acquired yet: <error>". Thread-safe. */
bool lease_elector_leading(struct lease_elector *e, long wait_ms, char *why, size_t len);

/* Stop e's thread (a request in flight ends with its timeout or ipad's
 * cancel flag) and free e. With release, a Lease this process holds is
 * released first (one PUT, not cancelled by the stop flag, at most
 * 2 s): for a real stop. Without: for a reload, whose new elector
 * finds its own identity as holder and keeps leading. NULL is ignored. */
void lease_elector_stop(struct lease_elector *e, bool release);

#endif
