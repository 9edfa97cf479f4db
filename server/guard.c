#include "guard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "ic_limits.h"

/* 64 buckets: sources are few (a LAN's hosts), and chains stay short at a thousand. */
#define GUARD_HASH_BITS 6

struct guard_src {
	struct hnode node;
	struct addr_src key;
	unsigned pending;
	bool refused;	     /* a refusal was logged ... */
	uint64_t refused_ms; /* ... then */
	/* the times of its last failed logins, a ring (nfail of them, the oldest at
	 * fail_at), and the end of its block (0: none) */
	uint64_t fails[IC_LOGIN_FAILS_MAX];
	unsigned nfail, fail_at;
	uint64_t blocked_until;
};

struct guard {
	struct hmap srcs;
	unsigned max_pending;
};

int guard_new(struct guard **gp, unsigned max_pending)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	if (hmap_init(&g->srcs, GUARD_HASH_BITS)) {
		free(g);
		return -ENOMEM;
	}
	g->max_pending = max_pending;
	*gp = g;
	return 0;
}

/* Walk every entry; fn may free the one it is given. */
static void each_src(struct guard *g,
		     void (*fn)(struct guard *, struct guard_src *, uint64_t),
		     uint64_t now)
{
	for (uint32_t b = 0; b <= g->srcs.mask; b++) {
		struct hnode *n = g->srcs.buckets[b];

		while (n) {
			struct hnode *next = n->next;

			fn(g, hmap_entry(n, struct guard_src, node), now);
			n = next;
		}
	}
}

static void src_free(struct guard *g, struct guard_src *s, uint64_t now)
{
	(void)now;
	hmap_del(&g->srcs, &s->node);
	free(s);
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	each_src(g, src_free, 0);
	hmap_deinit(&g->srcs);
	free(g);
}

static uint32_t src_hash(const struct addr_src *k)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < sizeof(k->b); i++)
		h = (h ^ k->b[i]) * 16777619u;
	return h;
}

static struct guard_src *src_find(const struct guard *g, const struct addr_src *key,
				  uint32_t hash)
{
	for (struct hnode *n = hmap_bucket(&g->srcs, hash); n; n = n->next) {
		struct guard_src *s = hmap_entry(n, struct guard_src, node);

		if (n->hash == hash && !memcmp(&s->key, key, sizeof(*key)))
			return s;
	}
	return NULL;
}

/* A new, empty entry for key (NULL when out of memory). */
static struct guard_src *src_add(struct guard *g, const struct addr_src *key,
				 uint32_t hash)
{
	struct guard_src *s = calloc(1, sizeof(*s));

	if (s) {
		s->key = *key;
		hmap_add(&g->srcs, &s->node, hash);
	}
	return s;
}

int guard_pending_open(struct guard *g, const struct addr_src *key, uint64_t now,
		       struct guard_src **srcp, bool *log_it)
{
	uint32_t hash = src_hash(key);
	struct guard_src *s = src_find(g, key, hash);

	*srcp = NULL;
	*log_it = false;
	if (s && g->max_pending && s->pending >= g->max_pending) {
		if (!s->refused || now >= s->refused_ms + IC_GUARD_LOG_MS) {
			s->refused = true;
			s->refused_ms = now;
			*log_it = true;
		}
		return -EUSERS;
	}
	if (!s && !(s = src_add(g, key, hash)))
		return -ENOMEM;
	s->pending++;
	*srcp = s;
	return 0;
}

/* Whether s must stay: pending connections, a refusal log silence, a block or failed
 * logins still counting (those two until guard_tick says they are over). */
static bool src_held(const struct guard_src *s)
{
	return s->pending || s->refused || s->blocked_until || s->nfail;
}

void guard_pending_done(struct guard *g, struct guard_src *s)
{
	if (!s)
		return;
	if (s->pending)
		s->pending--;
	if (!src_held(s))
		src_free(g, s, 0);
}

unsigned guard_pending(const struct guard *g, const struct addr_src *key)
{
	const struct guard_src *s = src_find(g, key, src_hash(key));

	return s ? s->pending : 0;
}

size_t guard_sources(const struct guard *g)
{
	return g->srcs.count;
}

static void src_expire(struct guard *g, struct guard_src *s, uint64_t now)
{
	if (s->refused && now >= s->refused_ms + IC_GUARD_LOG_MS)
		s->refused = false;
	if (s->blocked_until && now >= s->blocked_until)
		s->blocked_until = 0;
	if (s->nfail &&
	    now >= s->fails[(s->fail_at + s->nfail - 1) % IC_LOGIN_FAILS_MAX] +
		       IC_LOGIN_FAILS_MS)
		s->nfail = 0; /* even the newest is too old to count */
	if (!src_held(s))
		src_free(g, s, now);
}

bool guard_blocked(const struct guard *g, const struct addr_src *key, uint64_t now)
{
	const struct guard_src *s = src_find(g, key, src_hash(key));

	return s && s->blocked_until > now;
}

int guard_login_failed(struct guard *g, const struct addr_src *key, uint64_t now)
{
	uint32_t hash = src_hash(key);
	struct guard_src *s = src_find(g, key, hash);

	if (!s && !(s = src_add(g, key, hash)))
		return -ENOMEM;
	if (s->blocked_until > now)
		return 0; /* neither counts nor extends */
	/* the ring full and its oldest within the window: this one is past the limit */
	if (s->nfail == IC_LOGIN_FAILS_MAX &&
	    now < s->fails[s->fail_at] + IC_LOGIN_FAILS_MS) {
		s->blocked_until = now + IC_LOGIN_BLOCK_MS;
		s->nfail = s->fail_at = 0;
		return 1;
	}
	if (s->nfail == IC_LOGIN_FAILS_MAX) { /* drop the oldest */
		s->fail_at = (s->fail_at + 1) % IC_LOGIN_FAILS_MAX;
		s->nfail--;
	}
	s->fails[(s->fail_at + s->nfail++) % IC_LOGIN_FAILS_MAX] = now;
	return 0;
}

void guard_tick(struct guard *g, uint64_t now)
{
	each_src(g, src_expire, now);
}

void guard_bucket_init(struct guard_bucket *b, unsigned cap, uint64_t now)
{
	b->milli = (uint64_t)cap * 1000;
	b->last_ms = now;
}

/* Add what the time since the last call earned. A long silence adds no more than a full
 * bucket, so nothing overflows. */
static void refill(struct guard_bucket *b, unsigned per_s, unsigned cap, uint64_t now)
{
	uint64_t ms = now > b->last_ms ? now - b->last_ms : 0;
	uint64_t full = (uint64_t)cap * 1000;

	b->milli += ms * per_s > full ? full : ms * per_s; /* milli-tokens per ms */
	if (b->milli > full)
		b->milli = full;
	if (now > b->last_ms)
		b->last_ms = now;
}

bool guard_bucket_take(struct guard_bucket *b, unsigned per_s, unsigned cap,
		       unsigned cost, uint64_t now)
{
	refill(b, per_s, cap, now);
	if (b->milli < (uint64_t)cost * 1000)
		return false;
	b->milli -= (uint64_t)cost * 1000;
	return true;
}

void guard_voice_init(struct guard_voice *v, uint64_t now)
{
	guard_bucket_init(&v->pkts, IC_VOICE_PKTS_PER_SEC, now);
	guard_bucket_init(&v->bytes, IC_VOICE_BYTES_PER_SEC, now);
}

bool guard_voice_take(struct guard_voice *v, size_t bytes, uint64_t now)
{
	refill(&v->pkts, IC_VOICE_PKTS_PER_SEC, IC_VOICE_PKTS_PER_SEC, now);
	refill(&v->bytes, IC_VOICE_BYTES_PER_SEC, IC_VOICE_BYTES_PER_SEC, now);
	/* a packet over either bucket takes from neither */
	if (v->pkts.milli < 1000 || v->bytes.milli < (uint64_t)bytes * 1000)
		return false;
	v->pkts.milli -= 1000;
	v->bytes.milli -= (uint64_t)bytes * 1000;
	return true;
}
