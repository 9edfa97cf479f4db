/* ic_limits.h: every fixed-size limit of the protocol and the server, each with its
 * reason. (Not limits.h: OpenSSL's headers include the system's under that name.) */
#ifndef IC_LIMITS_H
#define IC_LIMITS_H

/* Client-to-server line, terminator (CR LF or LF) included: the contract's bound, so one
 * client can never make the server buffer more than this per connection for input. */
#define IC_LINE_MAX 512

/* Server-to-client line, terminator included: a USERLIST of 1000 members of 32-byte nicks
 * is about 34 KiB; 64 KiB leaves room and stays a single bounded allocation. */
#define IC_OUT_LINE_MAX 65536

#define IC_NICK_MAX	       32 /* bytes of [A-Za-z0-9_.-] */
#define IC_ROOM_MAX	       33 /* '#' and up to 32 name bytes */
#define IC_REALNAME_MAX	       64 /* bytes of UTF-8 */
#define IC_PASSWORD_MAX	       64 /* bytes of UTF-8: the server password (1.1) */
#define IC_VERSION_PART_DIGITS 9  /* each of MAJOR.MINOR.PATCH fits an int32 */
#define IC_PROTO_MAJOR	       1  /* the only major version this server serves */

/* Rooms one client may be in at once (#Lobby included): bounds per-client state and the
 * cost of a disconnect, which tells every room it was in. */
#define IC_ROOMS_PER_CLIENT 16

/* Members one ring group call rings at once (protocol 1.2, `TALK #Room: Request`): the
 * first this many free members of the room, in join order. A household's boxes and
 * phones are a handful; without a bound one Request to a full #Lobby would ring a
 * thousand sessions and keep a thousand-entry call alive for the ring timeout. With it
 * one ring costs at most this many Request lines, as many End lines, and a call of
 * fixed size, whatever the room holds. */
#define IC_RING_GROUP_MAX 32

/* Rings of a room one session may start (protocol 1.2): IC_RING_GROUP_BURST at once, then
 * one every IC_RING_GROUP_EVERY_S seconds; a Request over it is answered ERROR FLOOD.
 * The line rate alone would let one session ring IC_RING_GROUP_MAX boxes five times a
 * second (Request, End, Request ...), and a household's boxes would ring and stop all
 * day; a door pressed again, or a visitor giving up and ringing once more, fits. */
#define IC_RING_GROUP_BURST   3
#define IC_RING_GROUP_EVERY_S 2

/* Token bucket per client: a burst of 20 lines, refilled at 10 a second: a person typing
 * or a script chatting fits; a flood does not. */
#define IC_RATE_BURST	   20
#define IC_RATE_PER_SEC	   10
#define IC_FLOOD_ERR_MS	   1000	 /* at most one ERROR FLOOD a second */
#define IC_FLOOD_DROP_MAX  100	 /* more dropped lines than this ... */
#define IC_FLOOD_WINDOW_MS 10000 /* ... within this window: disconnect */

/* Unsent output per client: past this the client is not reading and is dropped, so it
 * never costs the server unbounded memory nor slows anybody else. */
#define IC_OUTQ_MAX (256 * 1024)

/* Kernel send buffer asked for each client socket: bounds kernel memory per client and
 * makes a stalled reader show up in our own queue quickly. */
#define IC_SOCK_SNDBUF (64 * 1024)

/* Clients: select() watches at most FD_SETSIZE (1024) descriptors; 1000 sessions plus 16
 * spare raw connections plus listener, UDP socket, stdio and signal pipe fit. */
#define IC_CLIENTS_DEFAULT 256
#define IC_CLIENTS_MAX	   1000
#define IC_RAW_SPARE	   16

/* Connections not logged in yet (no CONNECT accepted, or waiting for the login PONG) per
 * source address (IPv4 address, IPv6 /64): the contract's default. One host can then hold
 * at most 32 of the max-clients + 16 slots while idling, so it cannot lock others out;
 * a box logs in with one connection, and even a room of boxes behind one NAT reconnecting
 * at once after a restart fits. --max-pending-per-source (0 = no limit). */
#define IC_PENDING_PER_SOURCE_DEFAULT 32
/* A refused source is logged at most once in this many ms: a flood of refusals must not
 * become a flood of log lines. */
#define IC_GUARD_LOG_MS 60000
/* failed logins per source over TLS (the contract, section 3): the failure that takes
 * the count past IC_LOGIN_FAILS_MAX within IC_LOGIN_FAILS_MS blocks the source for
 * IC_LOGIN_BLOCK_MS; guessing a password or a registered nick costs minutes, a room of
 * boxes reconnecting after a restart (successful logins) costs nothing */
#define IC_LOGIN_FAILS_MAX 10
#define IC_LOGIN_FAILS_MS  120000
#define IC_LOGIN_BLOCK_MS  300000

/* Voice per session (the contract's bound, keepalives included): Opus at 10 ms frames is
 * 100 packets a second, at its highest useful rate for speech about 10 kB a second; the
 * buckets are one second deep. A session over it has the rest dropped before any
 * fan-out, so it can never multiply a flood by the size of its room. */
#define IC_VOICE_PKTS_PER_SEC  120
#define IC_VOICE_BYTES_PER_SEC 24000

/* What one host may cost once its sessions are in (per source: IPv4 address, IPv6 /64).
 * Keys are free under open registration, so per-key bounds alone bound nothing: without
 * these, one address could log in every slot, talk on each at a session's full rate
 * (each packet sealed once per hearer) and fill the nick registry in seconds.
 *  - sessions logged in (or waiting for their login PONG): a box is one session, a box
 *    with every persona it may register 4; 16 leaves room for a few boxes behind one
 *    NAT and stays far from the 256 slots of a default server;
 *  - voice shared by a host's sessions: four sessions talking at once at their own
 *    full rate (IC_VOICE_*), one second deep; a host's 16 sessions cannot send 16 times
 *    a session's flood;
 *  - new nick bindings: 16 an hour. A building's boxes each bind once in their life; a
 *    thief filling the 4096-nick registry from one address would need 256 hours. Past
 *    the bound the login goes on unbound (no REGISTERED), as with a full registry:
 *    the box works, and binds at a later login.
 * Trusted sources are exempt from these three: 127.0.0.1 and ::1 (a web gateway on the
 * server's host logs in all its users from there), and the `trusted` setting's. */
#define IC_SESSIONS_PER_SOURCE	    16
#define IC_HOST_VOICE_PKTS_PER_SEC  (4 * IC_VOICE_PKTS_PER_SEC)
#define IC_HOST_VOICE_BYTES_PER_SEC (4 * IC_VOICE_BYTES_PER_SEC)
#define IC_BINDS_PER_SOURCE	    16
#define IC_BINDS_WINDOW_MS	    3600000
#define IC_TRUSTED_DEFAULT	    "127.0.0.1 ::1"
/* trusted addresses or prefixes: a gateway or two and a management network, not a list
 * of every box (that would trust the building) */
#define IC_TRUSTED_MAX 32

/* Login and leave lines in the log: 200 at once (a server restart's reconnecting boxes
 * all show), then 20 a second; past that they are counted and the count logged once a
 * minute. A host logging in and out thousands of times a second would otherwise fill
 * the journal and trip journald's own rate limit, which drops every line, ours too. */
#define IC_EVENT_LOG_BURST   200
#define IC_EVENT_LOG_PER_SEC 20

/* Lists sent to members on a room change go out at most this often per room (the first
 * change at once, later ones coalesced into one list at the end of the window): a host
 * logging in and out in a loop costs each member at most 1000 / 100 lists a second per
 * room, while the contract's 250 ms bound on a stale list holds with room to spare. */
#define IC_LIST_COALESCE_MS 100

/* Voice: an RTP packet over this many bytes is dropped (fits a 1280-byte IPv6 MTU with
 * IP/UDP headers; Opus at our rates is far below). */
#define IC_RTP_MAX	   1200
#define IC_RTP_PT_OPUS	   111
#define IC_RTP_EXT_PROFILE 0xBEDE
#define IC_RTP_EXT_WORDS   3 /* one-byte element: ID 1, 8 token bytes, 3 padding bytes */
#define IC_TOKEN_LEN	   8
#define IC_SEQ_WINDOW	   64 /* replay window: sequence numbers remembered */
/* encrypted voice (section 3): counters accepted below the highest, the contract's */
#define IC_CTR_WINDOW 64

/* TLS signalling (section 3). A handshake must finish within IC_TLS_HANDSHAKE_MS of the
 * accept (a connection that sends nothing is closed then too); at most
 * IC_TLS_HANDSHAKES_MAX at once and IC_TLS_HANDSHAKES_PER_SOURCE from one source: each
 * costs the server a signature and a key exchange, and a storm must not delay voice.
 * A connection counts from its first byte (0x16), not from the accept, so silence holds
 * no slot; when the pool is full the newcomer takes the place of the oldest handshake of
 * the source holding the most (two more than its own at least), so 8 addresses of one
 * host holding 4 slow handshakes each cannot keep a box out (guard.h). */
#define IC_TLS_HANDSHAKE_MS	     10000
#define IC_TLS_HANDSHAKES_MAX	     32
#define IC_TLS_HANDSHAKES_PER_SOURCE 4
/* a plaintext client's first line is awaited this long (or up to LF, or IC_LINE_MAX
 * bytes) before the TLS_REQUIRED answer, so that nc shows it after the user's line */
#define IC_TLS_PLAIN_WAIT_MS 1000
/* SSL_read calls on one TLS connection per loop pass, on both ends (common/tlsstep.c):
 * records OpenSSL has already decrypted are invisible to select(), so they are drained
 * here, but in bounded bites, so one peer sending 16 KiB records cannot hold the loop
 * while others wait. A call that consumes a record yielding no line (a KeyUpdate, which
 * OpenSSL also answers, an empty record, an alert) counts the same, so a flood of them
 * costs a pass at most this many records too (auto-retry is off: common/tlsctx.c). */
#define IC_TLS_READS_PER_PASS 4
/* Bytes a logged-in TLS client may send the server beyond the lines they carry (record
 * headers and tags, KeyUpdates, empty records, alerts), a second, with a burst: an
 * honest box's records each carry a line (22 bytes beyond it; at most IC_RATE_BURST
 * lines at once, IC_RATE_PER_SEC a second), so it spends a few hundred bytes a second.
 * Past the bucket the connection is closed as a flood: the decryption and key
 * derivation a flood of records without lines costs is bounded a second, not only per
 * pass. */
#define IC_TLS_OVERHEAD_PER_SEC 4096
#define IC_TLS_OVERHEAD_BURST	(64 * 1024)
/* Handshake steps (each a key exchange or a signature check, about 0.1 ms on x86) per
 * loop pass: voice is read between passes, so a storm of reconnecting boxes adds at most
 * this many steps of delay to relayed voice (the 1 ms bound of section 3). */
#define IC_TLS_STEPS_PER_PASS 4

/* Voice packets read (recvmmsg) and copies sent (sendmmsg) per system call. */
#define IC_RX_BATCH 32
#define IC_TX_BATCH 1024
/* Sealed copies (TLS) per sendmmsg: each has its own buffer of IC_RTP_MAX bytes, so 64
 * of them (77 KB) stay in the cache between sealing and sending. */
#define IC_SEAL_BATCH 64
/* Free heap over which the server hands memory back to the system, checked once a second:
 * after a burst of logins, megabytes of freed output queues would stay resident */
#define IC_TRIM_FREE (1024 * 1024)
/* The server's status line (what its guards refused or dropped) at most this often, and
 * only when something was: visible while an attack goes on, silent otherwise. */
#define IC_STATUS_LOG_MS 60000

/* Timers, seconds: the contract's defaults. */
#define IC_PING_INTERVAL_DEFAULT 15
#define IC_PING_TIMEOUT_DEFAULT	 45
#define IC_RING_TIMEOUT_DEFAULT	 30
#define IC_TIMER_MAX_S		 86400 /* longest accepted timer setting: a day */

/* known_servers on a box: a file larger than this is not ours (a box knows a handful of
 * servers; each line is under 350 bytes) */
#define IC_KNOWN_SERVERS_MAX (256 * 1024)
/* the client's TLS handshake: a LAN server answers in milliseconds; one that stalls is
 * given up like an unanswered connect, within the server's own 10 s bound */
#define IC_TLS_CLIENT_HANDSHAKE_MS 10000

/* The server's nick registry (section 3): a box may own this many nicks (the contract's
 * 4: a box with a second persona, not a host hoarding names) */
#define IC_NICKS_PER_KEY 4
/* nicks in the registry: every box of a full server (IC_CLIENTS_MAX) with all of its
 * nicks, rounded up; bounds the file (each line under 160 bytes: about 650 KB) and the
 * time to write it. A full registry binds no new nick: the login goes on unbound. */
#define IC_REGISTRY_MAX 4096
/* registry changes other than new bindings (last-seen times, removals) are written at
 * most this often: a room of boxes logging in after a restart is one write, not one per
 * box; a crash loses at most this much of them. A new binding is saved at once (its
 * REGISTERED waits for it), by a child process like every save */
#define IC_REGISTRY_SAVE_MS 5000
/* after a failed write, the next try waits this long (or for the next new binding) */
#define IC_REGISTRY_RETRY_MS 60000

#define IC_PORT_DEFAULT	   6060
#define IC_SERVER_NAME_MAX 64 /* --name: printed in ACCEPT */

#endif
