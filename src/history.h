/* history — what ipad remembers about one target between cycles (and,
 * through state.c, across restarts): recent replica recommendations (HPA's
 * stabilization windows), applied scale events (HPA's rate limits), the
 * last resize (the resize cooldown), a few minutes of metric samples (the
 * recent memory peak and the prompt's history) and the last decisions.
 *
 * Pure and fixed-size: no allocation, no clock (times are passed in, in
 * Unix milliseconds, wall clock, so that they survive a restart). Entries
 * are kept oldest first; the oldest are dropped when a list is full or
 * older than HISTORY_MAX_AGE_MS. */
#ifndef IPAD_HISTORY_H
#define IPAD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_MAX_RECOMMENDATIONS 512
#define HISTORY_MAX_EVENTS 64
#define HISTORY_MAX_SAMPLES 64
#define HISTORY_MAX_DECISIONS 8
/* Nothing older than the longest stabilization window (1 h) is kept. */
#define HISTORY_MAX_AGE_MS (INT64_C(3600) * 1000)

struct history_recommendation {
	int64_t at_ms;
	int32_t replicas;
};

/* A scale that was applied: replicas from → to. */
struct history_event {
	int64_t at_ms;
	int32_t from, to;
};

/* The advised container and the Deployment at one cycle; NAN: unknown. */
struct history_sample {
	int64_t at_ms;
	int32_t replicas;
	double cpu_cores;        /* mean per pod */
	double memory_bytes;     /* largest working set of any pod */
	double request_rate;     /* requests/s */
};

/* A past decision and its outcome, for the prompt. */
struct history_decision {
	int64_t at_ms;
	char action[16];         /* action_name() or "failed" */
	int32_t from, to;
	char note[120];          /* reason or error, cut */
};

struct history {
	struct history_recommendation recs[HISTORY_MAX_RECOMMENDATIONS];
	size_t rec_count;
	struct history_event events[HISTORY_MAX_EVENTS];
	size_t event_count;
	struct history_sample samples[HISTORY_MAX_SAMPLES];
	size_t sample_count;
	struct history_decision decisions[HISTORY_MAX_DECISIONS];
	size_t decision_count;
	int64_t last_resize_ms;  /* 0: never */
	/* spec.replicas as ipad last wrote it (or accepted it after a change
	 * outside ipad, see policy.h), and when ipad wrote it: Unix ms, 0 when
	 * unknown (never written, or the last write failed). */
	int32_t written_replicas;
	int64_t written_ms;
};

/* Append (dropping the oldest when full, and entries older than
 * HISTORY_MAX_AGE_MS before the new one). */
void history_add_recommendation(struct history *h, int64_t at_ms, int32_t replicas);
void history_add_event(struct history *h, int64_t at_ms, int32_t from, int32_t to);
void history_add_sample(struct history *h, const struct history_sample *s);
void history_add_decision(struct history *h, const struct history_decision *d);

/* Drop entries older than HISTORY_MAX_AGE_MS before now_ms, and entries
 * "from the future" (a clock set back): they would hold windows open. */
void history_prune(struct history *h, int64_t now_ms);

/* Largest memory working set among the samples of the last window_ms;
 * NAN when none. */
double history_memory_peak(const struct history *h, int64_t now_ms, int64_t window_ms);

#endif
