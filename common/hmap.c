#include "hmap.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int hmap_init(struct hmap *m, unsigned bits)
{
	m->buckets = calloc((size_t)1 << bits, sizeof(*m->buckets));
	if (!m->buckets)
		return -ENOMEM;
	m->mask = (1u << bits) - 1;
	m->count = 0;
	return 0;
}

void hmap_deinit(struct hmap *m)
{
	free(m->buckets);
	m->buckets = NULL;
}

void hmap_add(struct hmap *m, struct hnode *n, uint32_t hash)
{
	struct hnode **b = &m->buckets[hash & m->mask];

	n->hash = hash;
	n->next = *b;
	*b = n;
	m->count++;
}

void hmap_del(struct hmap *m, struct hnode *n)
{
	for (struct hnode **pp = &m->buckets[n->hash & m->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			m->count--;
			return;
		}
	}
}

struct hnode *hmap_bucket(const struct hmap *m, uint32_t hash)
{
	return m->buckets[hash & m->mask];
}

uint32_t hmap_hash_icase(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint32_t)tolower((unsigned char)*s);
		h *= 16777619u;
	}
	return h;
}

uint32_t hmap_hash_u32(uint32_t v)
{
	/* a 32-bit mix (lowbias32): ssrcs are random, but the map must not rely on it */
	v ^= v >> 16;
	v *= 0x7feb352du;
	v ^= v >> 15;
	v *= 0x846ca68bu;
	v ^= v >> 16;
	return v;
}
