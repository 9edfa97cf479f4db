/* room.h: the room registry. Rooms exist while they have members; #Lobby always. A room
 * keeps its members in join order (the USERLIST order) and its name as first created. */
#ifndef IC_ROOM_H
#define IC_ROOM_H

#include <stdbool.h>
#include <stddef.h>

#include "hmap.h"
#include "ic_limits.h"

struct sess;

struct room {
	struct hnode node;
	char name[IC_ROOM_MAX + 1];
	struct sess **members; /* join order */
	size_t n, cap;
	bool permanent;
	/* who hears the room's voice, built from the members when the hub's generation
	 * has moved on (not per packet); the same capacity as members, so building it
	 * never allocates */
	struct sess **hear;
	size_t nhear;
	uint64_t hear_gen;
	/* the member list's version, and its coalesced sending (roster.c): due_ms is when
	 * the members still without the current list get it (0: nothing scheduled);
	 * last_ms when lists last went out; due_prev/due_next link the hub's due rooms */
	uint32_t list_gen; /* compared for equality only: wrapping is harmless */
	uint64_t list_due_ms, list_last_ms;
	struct room *due_prev, *due_next;
};

struct rooms {
	struct hmap map;
	struct room *lobby;
};

#define ROOM_LOBBY "#Lobby"

/* Create the registry with #Lobby in it. Returns 0 or -ENOMEM. */
int rooms_init(struct rooms *rs);
/* Free every room (members are not the registry's to free). */
void rooms_deinit(struct rooms *rs);

/* The room of that name (any case), or NULL. */
struct room *rooms_find(const struct rooms *rs, const char *name);

/* Add m to the room `name`, creating it. Sets *out. Returns 0, -EALREADY if m is in it
 * already (*out still set), or -ENOMEM (nothing changed). */
int rooms_join(struct rooms *rs, const char *name, struct sess *m, struct room **out);

/* Remove m from r; frees r when it empties, unless permanent. Returns 0 or -ENOENT. */
int rooms_part(struct rooms *rs, struct room *r, struct sess *m);

/* Number of rooms in the registry. */
size_t rooms_count(const struct rooms *rs);

#endif
