#include "guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "ic_limits.h"

/* 64 buckets: sources are few (a LAN's hosts), and chains stay short at a thousand. */
#define GUARD_HASH_BITS 6

/* A list of links, oldest first, and how many. */
struct guard_list {
	struct guard_link *head, *tail;
	unsigned n;
};

struct guard_src {
	struct hnode node;
	struct addr_src key;
	bool trusted;
	struct guard_list pend, hs; /* not logged in yet; in a TLS handshake */
	unsigned sessions;	    /* logged in (or waiting for the login PONG) */
	struct guard_voice voice;   /* its sessions' shared voice; set while sessions */
	bool refused;		    /* a refusal or an eviction was logged ... */
	uint64_t refused_ms;	    /* ... then */
	/* the times of its last failed logins, a ring (nfail of them, the oldest at
	 * fail_at), and the end of its block (0: none) */
	uint64_t fails[IC_LOGIN_FAILS_MAX];
	unsigned nfail, fail_at;
	uint64_t blocked_until;
	/* the times of its last new nick bindings, the same kind of ring */
	uint64_t binds[IC_BINDS_PER_SOURCE];
	unsigned nbind, bind_at;
};

struct guard {
	struct hmap srcs;
	unsigned max_pending;
	unsigned hs_total;	     /* handshakes counted in all */
	unsigned hs_max, hs_per_src; /* the pool, and one source's share of it */
	struct addr_net trust[IC_TRUSTED_MAX];
	unsigned ntrust;
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
	g->hs_max = IC_TLS_HANDSHAKES_MAX;
	g->hs_per_src = IC_TLS_HANDSHAKES_PER_SOURCE;
	/* a web gateway on the server's host logs in its users from there; the rest of
	 * 127/8 is not trusted (another local account can bind 127.0.0.2) */
	if (guard_trust(g, IC_TRUSTED_DEFAULT, NULL, 0)) {
		guard_free(g);
		return -ENOMEM;
	}
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

/* ---- trusted sources ---- */

int guard_trust(struct guard *g, const char *list, char *err, size_t errlen)
{
	struct addr_net nets[IC_TRUSTED_MAX];
	unsigned n = 0, have = g ? g->ntrust : 0;
	const char *p = list;

	while (*p) {
		char word[INET6_ADDRSTRLEN + 8];
		size_t len = strcspn(p, ", \t");

		if (len && len < sizeof(word)) {
			memcpy(word, p, len);
			word[len] = '\0';
		}
		if (len && have + n >= IC_TRUSTED_MAX) {
			if (err)
				snprintf(err, errlen, "more than %d trusted sources",
					 IC_TRUSTED_MAX);
			return -ENOSPC;
		}
		if (len && (len >= sizeof(word) || addr_net_parse(word, &nets[n]))) {
			if (err)
				snprintf(
				    err, errlen,
				    "'%.*s' is not an IPv4 or IPv6 address or prefix "
				    "(like 10.0.0.5, 10.0.0.0/24, 2001:db8::/48)",
				    (int)(len > 64 ? 64 : len), p);
			return -EINVAL;
		}
		if (len)
			n++;
		p += len;
		p += strspn(p, ", \t");
	}
	if (g) {
		memcpy(&g->trust[g->ntrust], nets, n * sizeof(nets[0]));
		g->ntrust += n;
	}
	return 0;
}

bool guard_trusted(const struct guard *g, const struct addr_src *key)
{
	for (unsigned i = 0; i < g->ntrust; i++) {
		if (addr_net_has(&g->trust[i], key))
			return true;
	}
	return false;
}

/* ---- source entries ---- */

static uint32_t src_hash(const struct addr_src *k)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < sizeof(k->b); i++)
		h = (h ^ k->b[i]) * 16777619u;
	return h;
}

static struct guard_src *src_find(const struct guard *g, const struct addr_src *key)
{
	uint32_t hash = src_hash(key);

	for (struct hnode *n = hmap_bucket(&g->srcs, hash); n; n = n->next) {
		struct guard_src *s = hmap_entry(n, struct guard_src, node);

		if (n->hash == hash && !memcmp(&s->key, key, sizeof(*key)))
			return s;
	}
	return NULL;
}

/* key's entry, made empty when there is none (NULL when out of memory). */
static struct guard_src *src_get(struct guard *g, const struct addr_src *key)
{
	struct guard_src *s = src_find(g, key);

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (s) {
		s->key = *key;
		s->trusted = guard_trusted(g, key);
		hmap_add(&g->srcs, &s->node, src_hash(key));
	}
	return s;
}

/* Whether s must stay: anything counted, a refusal log silence, a block, failed logins
 * or bindings still counting (those three until guard_tick says they are over). */
static bool src_held(const struct guard_src *s)
{
	return s->pend.n || s->hs.n || s->sessions || s->refused || s->blocked_until ||
	       s->nfail || s->nbind;
}

static void src_drop_if_idle(struct guard *g, struct guard_src *s)
{
	if (!src_held(s))
		src_free(g, s, 0);
}

/* True (and the silence starts) when s was not logged within IC_GUARD_LOG_MS. */
static bool log_due(struct guard_src *s, uint64_t now)
{
	if (s->refused && now < s->refused_ms + IC_GUARD_LOG_MS)
		return false;
	s->refused = true;
	s->refused_ms = now;
	return true;
}

static void list_add(struct guard_list *L, struct guard_link *l, struct guard_src *s)
{
	l->src = s;
	l->next = NULL;
	l->prev = L->tail;
	if (L->tail)
		L->tail->next = l;
	else
		L->head = l;
	L->tail = l;
	L->n++;
}

static void list_del(struct guard_list *L, struct guard_link *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		L->head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	else
		L->tail = l->prev;
	L->n--;
	l->prev = l->next = NULL;
	l->src = NULL;
}

/* The list of kind `off` (pend or hs) in s. */
static struct guard_list *list_of(struct guard_src *s, size_t off)
{
	return (struct guard_list *)(void *)((char *)s + off);
}

/* The oldest link of the source whose list `off` is longest, when that one holds at
 * least two more than key's; else NULL. A walk of every source: only when a pool is
 * full. */
static struct guard_link *victim(struct guard *g, const struct addr_src *key, size_t off,
				 uint64_t now, bool *log_it)
{
	struct guard_src *own = src_find(g, key), *big = NULL;
	unsigned mine = own ? list_of(own, off)->n : 0;

	*log_it = false;
	for (uint32_t b = 0; b <= g->srcs.mask; b++) {
		for (struct hnode *n = g->srcs.buckets[b]; n; n = n->next) {
			struct guard_src *s = hmap_entry(n, struct guard_src, node);

			if (!big || list_of(s, off)->n > list_of(big, off)->n)
				big = s;
		}
	}
	if (!big || list_of(big, off)->n < mine + 2)
		return NULL;
	*log_it = log_due(big, now);
	return list_of(big, off)->head;
}

/* ---- connections not logged in ---- */

int guard_pending_open(struct guard *g, const struct addr_src *key, uint64_t now,
		       struct guard_link *l, bool *log_it)
{
	struct guard_src *s = src_find(g, key);

	*log_it = false;
	if (s && g->max_pending && s->pend.n >= g->max_pending) {
		*log_it = log_due(s, now);
		return -EUSERS;
	}
	if (!s && !(s = src_get(g, key)))
		return -ENOMEM;
	list_add(&s->pend, l, s);
	return 0;
}

void guard_pending_done(struct guard *g, struct guard_link *l)
{
	struct guard_src *s = l->src;

	if (!s)
		return;
	list_del(&s->pend, l);
	src_drop_if_idle(g, s);
}

unsigned guard_pending(const struct guard *g, const struct addr_src *key)
{
	const struct guard_src *s = src_find(g, key);

	return s ? s->pend.n : 0;
}

struct guard_link *guard_pending_victim(struct guard *g, const struct addr_src *key,
					uint64_t now, bool *log_it)
{
	return victim(g, key, offsetof(struct guard_src, pend), now, log_it);
}

/* ---- TLS handshakes ---- */

void guard_hs_limits(struct guard *g, unsigned max, unsigned per_source)
{
	g->hs_max = max;
	g->hs_per_src = per_source;
}

int guard_hs_room(struct guard *g, const struct addr_src *key, uint64_t now,
		  struct guard_link **vp, bool *log_it)
{
	*vp = NULL;
	*log_it = false;
	if (guard_hs(g, key) >= g->hs_per_src)
		return -EUSERS;
	if (g->hs_total < g->hs_max)
		return 0;
	*vp = victim(g, key, offsetof(struct guard_src, hs), now, log_it);
	return *vp ? 1 : -EUSERS;
}

int guard_hs_open(struct guard *g, const struct addr_src *key, struct guard_link *l)
{
	struct guard_src *s = src_get(g, key);

	if (!s)
		return -ENOMEM;
	list_add(&s->hs, l, s);
	g->hs_total++;
	return 0;
}

void guard_hs_done(struct guard *g, struct guard_link *l)
{
	struct guard_src *s = l->src;

	if (!s)
		return;
	list_del(&s->hs, l);
	g->hs_total--;
	src_drop_if_idle(g, s);
}

unsigned guard_hs(const struct guard *g, const struct addr_src *key)
{
	const struct guard_src *s;

	if (!key)
		return g->hs_total;
	s = src_find(g, key);
	return s ? s->hs.n : 0;
}

size_t guard_sources(const struct guard *g)
{
	return g->srcs.count;
}

/* Whether the newest of a ring of times (n of them, the oldest at `at`) is older than
 * window at now: the whole ring then counts for nothing. */
static bool ring_over(const uint64_t *ring, unsigned cap, unsigned at, unsigned n,
		      uint64_t window, uint64_t now)
{
	return n && now >= ring[(at + n - 1) % cap] + window;
}

static void src_expire(struct guard *g, struct guard_src *s, uint64_t now)
{
	if (s->refused && now >= s->refused_ms + IC_GUARD_LOG_MS)
		s->refused = false;
	if (s->blocked_until && now >= s->blocked_until)
		s->blocked_until = 0;
	if (ring_over(s->fails, IC_LOGIN_FAILS_MAX, s->fail_at, s->nfail,
		      IC_LOGIN_FAILS_MS, now))
		s->nfail = 0;
	if (ring_over(s->binds, IC_BINDS_PER_SOURCE, s->bind_at, s->nbind,
		      IC_BINDS_WINDOW_MS, now))
		s->nbind = 0;
	if (!src_held(s))
		src_free(g, s, now);
}

/* ---- failed logins ---- */

bool guard_blocked(const struct guard *g, const struct addr_src *key, uint64_t now)
{
	const struct guard_src *s = src_find(g, key);

	return s && s->blocked_until > now;
}

/* Note now in a ring of cap times; true when the ring was full and its oldest within
 * window (this one is past the bound: nothing noted). */
static bool ring_push(uint64_t *ring, unsigned cap, unsigned *at, unsigned *n,
		      uint64_t window, uint64_t now)
{
	if (*n == cap && now < ring[*at] + window)
		return true;
	if (*n == cap) { /* drop the oldest */
		*at = (*at + 1) % cap;
		(*n)--;
	}
	ring[(*at + (*n)++) % cap] = now;
	return false;
}

int guard_login_failed(struct guard *g, const struct addr_src *key, uint64_t now)
{
	struct guard_src *s = src_get(g, key);

	if (!s)
		return -ENOMEM;
	if (s->blocked_until > now)
		return 0; /* neither counts nor extends */
	if (ring_push(s->fails, IC_LOGIN_FAILS_MAX, &s->fail_at, &s->nfail,
		      IC_LOGIN_FAILS_MS, now)) {
		s->blocked_until = now + IC_LOGIN_BLOCK_MS;
		s->nfail = s->fail_at = 0;
		return 1;
	}
	return 0;
}

void guard_tick(struct guard *g, uint64_t now)
{
	each_src(g, src_expire, now);
}

/* ---- what a host's sessions may cost ---- */

int guard_session_open(struct guard *g, const struct addr_src *key, uint64_t now,
		       struct guard_src **srcp, bool *log_it)
{
	struct guard_src *s = src_get(g, key);

	*srcp = NULL;
	*log_it = false;
	if (!s)
		return -ENOMEM;
	if (!s->trusted && s->sessions >= IC_SESSIONS_PER_SOURCE) {
		*log_it = log_due(s, now);
		return -EUSERS;
	}
	if (!s->sessions++) {
		guard_bucket_init(&s->voice.pkts, IC_HOST_VOICE_PKTS_PER_SEC, now);
		guard_bucket_init(&s->voice.bytes, IC_HOST_VOICE_BYTES_PER_SEC, now);
	}
	*srcp = s;
	return 0;
}

void guard_session_done(struct guard *g, struct guard_src *s)
{
	if (!s)
		return;
	if (s->sessions)
		s->sessions--;
	src_drop_if_idle(g, s);
}

unsigned guard_sessions(const struct guard *g, const struct addr_src *key)
{
	const struct guard_src *s = src_find(g, key);

	return s ? s->sessions : 0;
}

bool guard_bind_ok(struct guard_src *s, uint64_t now, bool *log_it)
{
	*log_it = false;
	if (!s || s->trusted || s->nbind < IC_BINDS_PER_SOURCE ||
	    now >= s->binds[s->bind_at] + IC_BINDS_WINDOW_MS)
		return true;
	*log_it = log_due(s, now);
	return false;
}

void guard_bind_note(struct guard_src *s, uint64_t now)
{
	if (s && !s->trusted)
		(void)ring_push(s->binds, IC_BINDS_PER_SOURCE, &s->bind_at, &s->nbind, 0,
				now); /* window 0: the oldest makes room */
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

void guard_overhead_init(struct guard_bucket *b, uint64_t now)
{
	guard_bucket_init(b, IC_TLS_OVERHEAD_BURST, now);
}

bool guard_overhead_spend(struct guard_bucket *b, uint64_t wire, uint64_t data,
			  uint64_t now)
{
	uint64_t full = (uint64_t)IC_TLS_OVERHEAD_BURST * 1000;

	refill(b, IC_TLS_OVERHEAD_PER_SEC, IC_TLS_OVERHEAD_BURST, now);
	if (data > wire) { /* lines of records read on an earlier pass */
		b->milli += (data - wire) * 1000;
		if (b->milli > full)
			b->milli = full;
		return true;
	}
	if (b->milli < (wire - data) * 1000)
		return false;
	b->milli -= (wire - data) * 1000;
	return true;
}

/* Take one packet of `bytes` from v at the given rates (a second deep). */
static bool voice_take(struct guard_voice *v, unsigned pkts_per_s, unsigned bytes_per_s,
		       size_t bytes, uint64_t now)
{
	refill(&v->pkts, pkts_per_s, pkts_per_s, now);
	refill(&v->bytes, bytes_per_s, bytes_per_s, now);
	/* a packet over either bucket takes from neither */
	if (v->pkts.milli < 1000 || v->bytes.milli < (uint64_t)bytes * 1000)
		return false;
	v->pkts.milli -= 1000;
	v->bytes.milli -= (uint64_t)bytes * 1000;
	return true;
}

void guard_voice_init(struct guard_voice *v, uint64_t now)
{
	guard_bucket_init(&v->pkts, IC_VOICE_PKTS_PER_SEC, now);
	guard_bucket_init(&v->bytes, IC_VOICE_BYTES_PER_SEC, now);
}

bool guard_voice_take(struct guard_voice *v, size_t bytes, uint64_t now)
{
	return voice_take(v, IC_VOICE_PKTS_PER_SEC, IC_VOICE_BYTES_PER_SEC, bytes, now);
}

bool guard_host_voice_take(struct guard_src *s, size_t bytes, uint64_t now)
{
	return !s || s->trusted ||
	       voice_take(&s->voice, IC_HOST_VOICE_PKTS_PER_SEC,
			  IC_HOST_VOICE_BYTES_PER_SEC, bytes, now);
}
