/* journal — ipad's records: one per target per cycle (a decision), plus
 * lifecycle messages, to journald with structured IPA_* fields, or to
 * stderr as logfmt or JSON lines when there is no journal.
 * Field names and values are specified in docs/contracts.md and the
 * journal catalog. Thread-safe. */
#ifndef IPAD_JOURNAL_H
#define IPAD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "advice.h"
#include "config.h"
#include "observe.h"
#include "policy.h"
#include "target.h"

/* Record ids (MESSAGE_ID), each explained in systemd/ipad.catalog. */
#define IPAD_MESSAGE_DECISION  "c1166194fd7a4538b12ea45c58fa659e"
#define IPAD_MESSAGE_LIFECYCLE "a6b97f6a62354b0da168fbece8b40327"
#define IPAD_MESSAGE_RELOADED  "95452230bc0c43fea0270ec9cd149f06"
#define IPAD_MESSAGE_RELOAD_FAILED "594cd9fc2f6a428880737b891cd9def5"
#define IPAD_MESSAGE_STALLED   "38a159b6a6ce497fac9c502b3e30a628"

/* Choose where records go. LOG_AUTO picks the journal when $JOURNAL_STREAM
 * is set or /run/systemd/journal/socket exists (libsystemd silently drops
 * messages when journald is absent), else stderr. Returns the target used. */
enum log_target journal_open(enum log_target target, enum log_format format);

/* With several clusters, the MESSAGE of a decision record starts with the
 * cluster's name ("eu: shop/web: replicas 3 → 5 ..."), so that
 * `journalctl -u ipad` tells the clusters apart; with one it does not. */
void journal_name_clusters(bool on);

/* A lifecycle message (printf-style), MESSAGE_ID lifecycle. */
void journal_lifecycle(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A message (printf-style) with one of the MESSAGE_IDs above. */
void journal_message(int priority, const char *message_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct decision_record {
	const struct target *target;
	const char *advisor;                   /* advisor name */
	const struct observation *observation; /* NULL: observing failed */
	const struct advice *advice;           /* NULL: no valid advice */
	long advisor_latency_ms;               /* -1: advisor not asked */
	const struct decision *decision;       /* NULL: observing failed */
	const char *error;                     /* failure text, or NULL */
	bool apply_failed;                     /* error came from act */
	const char *fallback;                  /* "builtin" when the advice came
						  from the fallback, else NULL */
	bool dry_run;
	const char *standby;                   /* or the sentence why another
						  ipad acts on the target's
						  cluster (lease.h): a hold
						  that is no failure,
						  PRIORITY 6, IPA_REASON */
};

/* Emit one decision record. */
void journal_decision(const struct decision_record *r);

/* The PRIORITY journal_decision gives r (for exit codes and tests). */
int journal_decision_priority(const struct decision_record *r);

/* How many decision records have been emitted since the start: a target's
 * work ends with its record, so this measures the progress of a cycle. */
unsigned long journal_decision_count(void);

/* The MESSAGE of the latest decision record with PRIORITY <= 4 (a failure)
 * into buf ("" when there was none); for the service's status line. */
void journal_last_failure(char *buf, size_t len);

#endif
