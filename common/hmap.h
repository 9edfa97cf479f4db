/* hmap.h: an intrusive chained hash map with a fixed bucket count. The caller embeds a
 * struct hnode in its object, computes the hash and compares keys itself. */
#ifndef IC_HMAP_H
#define IC_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode *next;
	uint32_t hash;
};

struct hmap {
	struct hnode **buckets;
	uint32_t mask;
	size_t count;
};

/* 2^bits buckets. Returns 0 or -ENOMEM. */
int hmap_init(struct hmap *m, unsigned bits);
void hmap_deinit(struct hmap *m);

void hmap_add(struct hmap *m, struct hnode *n, uint32_t hash);
void hmap_del(struct hmap *m, struct hnode *n);

/* First node of hash's bucket; walk ->next and compare n->hash and the key. */
struct hnode *hmap_bucket(const struct hmap *m, uint32_t hash);

/* FNV-1a over ASCII-lower-cased bytes: names compare without regard to case. */
uint32_t hmap_hash_icase(const char *s);
uint32_t hmap_hash_u32(uint32_t v);

#define hmap_entry(ptr, type, member)                                                    \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
