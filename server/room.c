#include "room.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* Rooms are looked up on every JOIN/PART/PRIVMSG; 1024 buckets keep chains short up to
 * the 16000 rooms 1000 clients could hold. */
#define ROOM_HASH_BITS 10

static struct room *room_new(const char *name)
{
	struct room *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	strncpy(r->name, name, IC_ROOM_MAX);
	return r;
}

static void room_free(struct room *r)
{
	free(r->members);
	free(r->hear);
	free(r);
}

int rooms_init(struct rooms *rs)
{
	int err = hmap_init(&rs->map, ROOM_HASH_BITS);

	if (err)
		return err;
	rs->lobby = room_new(ROOM_LOBBY);
	if (!rs->lobby) {
		hmap_deinit(&rs->map);
		return -ENOMEM;
	}
	rs->lobby->permanent = true;
	hmap_add(&rs->map, &rs->lobby->node, hmap_hash_icase(ROOM_LOBBY));
	return 0;
}

void rooms_deinit(struct rooms *rs)
{
	for (uint32_t b = 0; b <= rs->map.mask; b++) {
		struct hnode *n = rs->map.buckets[b];

		while (n) {
			struct hnode *next = n->next;

			room_free(hmap_entry(n, struct room, node));
			n = next;
		}
	}
	hmap_deinit(&rs->map);
	rs->lobby = NULL;
}

struct room *rooms_find(const struct rooms *rs, const char *name)
{
	uint32_t h = hmap_hash_icase(name);

	for (struct hnode *n = hmap_bucket(&rs->map, h); n; n = n->next) {
		struct room *r = hmap_entry(n, struct room, node);

		if (n->hash == h && names_equal(r->name, name))
			return r;
	}
	return NULL;
}

int rooms_join(struct rooms *rs, const char *name, struct sess *m, struct room **out)
{
	struct room *r = rooms_find(rs, name);
	bool created = false;

	if (r) {
		for (size_t i = 0; i < r->n; i++) {
			if (r->members[i] == m) {
				*out = r;
				return -EALREADY;
			}
		}
	} else {
		r = room_new(name);
		if (!r)
			return -ENOMEM;
		created = true;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		struct sess **mem = realloc(r->members, cap * sizeof(*mem));
		struct sess **hear;

		if (mem)
			r->members = mem;
		hear = mem ? realloc(r->hear, cap * sizeof(*hear)) : NULL;
		if (!hear) {
			if (created)
				room_free(r);
			return -ENOMEM;
		}
		r->hear = hear;
		r->cap = cap;
	}
	r->members[r->n++] = m;
	if (created)
		hmap_add(&rs->map, &r->node, hmap_hash_icase(r->name));
	*out = r;
	return 0;
}

int rooms_part(struct rooms *rs, struct room *r, struct sess *m)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->members[i] != m)
			continue;
		memmove(&r->members[i], &r->members[i + 1],
			(r->n - i - 1) * sizeof(*r->members));
		r->n--;
		if (r->n == 0 && !r->permanent) {
			hmap_del(&rs->map, &r->node);
			room_free(r);
		}
		return 0;
	}
	return -ENOENT;
}

size_t rooms_count(const struct rooms *rs)
{
	return rs->map.count;
}
