/* history — see history.h. */
#include <math.h>
#include <string.h>

#include "history.h"

/* Make room for one entry in an array of count elements of size bytes
 * holding at most max: drop the oldest when full. Returns the index of
 * the free slot. */
static size_t slot(void *array, size_t *count, size_t max, size_t size)
{
	if (*count == max) {
		memmove(array, (char *)array + size, (max - 1) * size);
		(*count)--;
	}
	return (*count)++;
}

#define APPEND(arr, count, value) \
	((arr)[slot((arr), &(count), sizeof(arr) / sizeof((arr)[0]), sizeof((arr)[0]))] = (value))

/* Keep the entries of arr whose at_ms is in [oldest, newest]. */
#define PRUNE(arr, count, oldest, newest) do { \
	size_t i_, k_ = 0; \
	for (i_ = 0; i_ < (count); i_++) \
		if ((arr)[i_].at_ms >= (oldest) && (arr)[i_].at_ms <= (newest)) \
			(arr)[k_++] = (arr)[i_]; \
	(count) = k_; \
} while (0)

static void prune(struct history *h, int64_t oldest, int64_t newest)
{
	PRUNE(h->recs, h->rec_count, oldest, newest);
	PRUNE(h->events, h->event_count, oldest, newest);
	PRUNE(h->samples, h->sample_count, oldest, newest);
}

void history_prune(struct history *h, int64_t now_ms)
{
	prune(h, now_ms - HISTORY_MAX_AGE_MS, now_ms);
	if (h->last_resize_ms > now_ms)
		h->last_resize_ms = now_ms;
}

void history_add_recommendation(struct history *h, int64_t at_ms, int32_t replicas)
{
	struct history_recommendation r = { at_ms, replicas };

	prune(h, at_ms - HISTORY_MAX_AGE_MS, INT64_MAX);
	APPEND(h->recs, h->rec_count, r);
}

void history_add_event(struct history *h, int64_t at_ms, int32_t from, int32_t to)
{
	struct history_event e = { at_ms, from, to };

	prune(h, at_ms - HISTORY_MAX_AGE_MS, INT64_MAX);
	APPEND(h->events, h->event_count, e);
}

void history_add_sample(struct history *h, const struct history_sample *s)
{
	prune(h, s->at_ms - HISTORY_MAX_AGE_MS, INT64_MAX);
	APPEND(h->samples, h->sample_count, *s);
}

void history_add_decision(struct history *h, const struct history_decision *d)
{
	APPEND(h->decisions, h->decision_count, *d);
}

double history_memory_peak(const struct history *h, int64_t now_ms, int64_t window_ms)
{
	double peak = NAN;
	size_t i;

	for (i = 0; i < h->sample_count; i++) {
		const struct history_sample *s = &h->samples[i];
		if (s->at_ms < now_ms - window_ms || s->at_ms > now_ms ||
		    isnan(s->memory_bytes))
			continue;
		if (isnan(peak) || s->memory_bytes > peak)
			peak = s->memory_bytes;
	}
	return peak;
}
