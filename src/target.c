/* target — one autoscaling target and lists of them. */
#include "target.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *target_key(const struct target *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", t->namespace ? t->namespace : "",
		 t->deployment ? t->deployment : "");
	return buf;
}

/* The strings a target owns. */
static const size_t string_fields[] = {
	offsetof(struct target, source), offsetof(struct target, cluster),
	offsetof(struct target, ipa_name), offsetof(struct target, namespace),
	offsetof(struct target, deployment), offsetof(struct target, ingress),
	offsetof(struct target, container), offsetof(struct target, prometheus_uri),
	offsetof(struct target, llm_agent), offsetof(struct target, ipa_namespace),
	offsetof(struct target, ipa_uid), offsetof(struct target, refused),
};
#define NFIELDS (sizeof(string_fields) / sizeof(string_fields[0]))

static char **field(struct target *t, size_t i)
{
	return (char **)(void *)((char *)t + string_fields[i]);
}

void target_free(struct target *t)
{
	for (size_t i = 0; i < NFIELDS; i++)
		free(*field(t, i));
	memset(t, 0, sizeof(*t));
}

int target_copy(struct target *dst, const struct target *src)
{
	*dst = *src;
	for (size_t i = 0; i < NFIELDS; i++)
		*field(dst, i) = NULL;
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *s = *field((struct target *)src, i);
		if (s && !(*field(dst, i) = strdup(s))) {
			target_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

void target_list_free(struct target_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		target_free(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* Make room for extra more targets. */
static int reserve(struct target_list *l, size_t extra)
{
	if (extra == 0)
		return 0;
	if (l->count > SIZE_MAX / sizeof(*l->items) - extra)
		return -ENOMEM;
	struct target *items = realloc(l->items,
				       (l->count + extra) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	l->items = items;
	return 0;
}

int target_list_append(struct target_list *l, struct target *t)
{
	if (reserve(l, 1) < 0)
		return -ENOMEM;
	l->items[l->count++] = *t;
	memset(t, 0, sizeof(*t));
	return 0;
}

int target_list_splice(struct target_list *dst, struct target_list *src)
{
	if (reserve(dst, src->count) < 0)
		return -ENOMEM;
	if (src->count)
		memcpy(dst->items + dst->count, src->items,
		       src->count * sizeof(*src->items));
	dst->count += src->count;
	free(src->items);
	src->items = NULL;
	src->count = 0;
	return 0;
}
