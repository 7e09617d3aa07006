/* broker.h — the daemon's single context object and the loop-side state it owns: peers (connected clients),
 * streams, consumer groups and their subscriptions. Everything here is touched only by the libuv loop thread.
 *
 * Core (this folder) runs the ROUTER socket, the peers, frame dispatch and the tick; it knows the layers above it
 * only through what app/ puts in the context before knoop_broker_listen: the frame-handler table
 * (app/frame_table.c), the periodic-job table (app/jobs.c) and the hooks below (app/lifecycle.c). */
#ifndef KNOOP_BROKER_H
#define KNOOP_BROKER_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "config/config.h"
#include "store/journal.h"
#include "knoop.pb-c.h"
#include "base/clock.h"
#include "base/pseudonym.h"
#include "base/strmap.h"
#include "core/health.h"
#include "core/metrics.h"

#define KNOOP_VERSION          "0.1.0"
#define KNOOP_PROTOCOL_VERSION 1
#define KNOOP_ROUTING_ID_MAX   256
#define KNOOP_TICK_MS          50 /* the tick: peer liveness and the periodic jobs */
#define KNOOP_JOBS_MAX         16 /* rows of the periodic-job table */
/* ZMQ_MAXMSGSIZE is max_message_bytes plus this: a frame a little over the limit is answered TOO_LARGE, a larger one
 * makes ZeroMQ drop the connection before it is buffered (docs/protocol.md section 11). */
#define KNOOP_FRAME_GUARD_BYTES 65536

typedef struct knoop_broker knoop_broker_t;
typedef struct knoop_peer knoop_peer_t;
typedef struct knoop_stream knoop_stream_t;
typedef struct knoop_group knoop_group_t;
typedef struct knoop_sub knoop_sub_t;

struct knoop_peer {
    uint8_t routing_id[KNOOP_ROUTING_ID_MAX];
    size_t routing_id_len;
    char key[2 * KNOOP_ROUTING_ID_MAX + 1]; /* hex of routing_id: the peers map key */
    char party[16];                         /* "" until Hello */
    char client_name[64];
    char session[33];
    /* The connection the session belongs to (core/conns.c) and who it authenticated as (core/auth.c): a frame from
     * another connection or identity on this routing id ends the session (peers.c). */
    uint64_t conn;       /* connection generation, never 0 */
    char user_id[16];    /* ZAP User-Id: the key's party; "" with auth: none */
    char client_key[41]; /* the client's CURVE public key (Z85); "" with auth: none */
    uint64_t last_seen_ms;
    uint64_t connected_us;
    uint64_t publishes_in_flight; /* queued to the journal, not yet answered */
    knoop_sub_t *subs;            /* owned list (next_on_peer) */
    bool gone;                    /* timed out; freed when publishes_in_flight drops to 0 */

    /* What it holds, against the limits (docs/protocol.md section 11) */
    uint64_t publish_bytes_in_flight; /* the envelopes of publishes_in_flight (max_publish_bytes_in_flight) */
    uint64_t deliveries_out;          /* unacked deliveries over its subscriptions (connection_max_unacked) */
    uint64_t delivery_bytes_out;      /* their envelopes (connection_max_unacked_bytes) */
    bool send_full;                   /* an answer found its ZeroMQ queue full: its session ends on the next tick */
    bool party_counted;               /* counted in b->party_sessions (core/peer_limits.c) */
};

struct knoop_stream {
    char *name; /* owned */
    int64_t id;
    uint64_t last_seq;      /* last committed seq appended to this stream */
    uint64_t appended;      /* messages appended since start */
    knoop_strmap_t *groups; /* subscriber name -> knoop_group_t (owned) */
    bool persisted;         /* its streams row is committed (or queued) */
    bool dirty;             /* appended to since its groups were last pumped */
    knoop_stream_t *next_dirty;
    struct knoop_env_cache *cache; /* owned (delivery_cache.h): latest envelopes of a fan-out stream, or NULL */
};

/* One delivery of one message to a group, kept in seq order until settled. */
typedef enum knoop_inflight_state { INFLIGHT_SENT, INFLIGHT_WAITING, INFLIGHT_ACKED } knoop_inflight_state_t;
typedef struct knoop_inflight {
    uint64_t seq;
    uint32_t attempt; /* deliveries so far */
    knoop_inflight_state_t state;
    knoop_sub_t *member;    /* SENT: the subscription holding it */
    uint32_t bytes;         /* SENT: the envelope's size, counted in its connection's delivery_bytes_out */
    uint64_t due_ms;        /* SENT: visibility deadline; WAITING: when to resend */
    char reason[64];        /* last nack reason */
    int64_t dl_id;          /* > 0: a dead letter put back by `dlq retry` (its row settles with it) */
    uint32_t attempt_floor; /* attempts before that retry: the maximum counts from here */
    bool attempts_row;      /* its attempt count is journaled (delivery_attempts.c) */
} knoop_inflight_t;

typedef struct knoop_stored_attempt {
    uint64_t seq;
    uint32_t attempts;
} knoop_stored_attempt_t;

/* A durable subscriber name on a stream: one cursor shared by its members (competing consumers). */
struct knoop_group {
    knoop_stream_t *stream;
    char *name;               /* owned */
    uint64_t acked_seq;       /* everything <= is settled (the durable cursor) */
    uint64_t persisted_acked; /* what the journal holds */
    uint64_t delivered_seq;   /* highest seq ever sent (persisted with the cursor: attempt > 1 after a restart) */
    uint64_t persisted_delivered;
    uint64_t next_seq;      /* next seq to read from the stream */
    knoop_inflight_t *ring; /* owned; ascending seq, head..head+len */
    size_t ring_cap, ring_head, ring_len;
    size_t waiting;       /* entries in INFLIGHT_WAITING */
    knoop_sub_t *members; /* borrowed list (next_in_group) */
    knoop_sub_t *rr;      /* round-robin position */
    bool cursor_op_pending;
    uint64_t lease_seq; /* durable groups send only seq <= lease (persisted as delivered_seq first) */
    bool lease_wait;    /* pumping stopped until a lease write commits */
    /* A failed cursor/lease write is tried again after a backoff, never at once (deliver/delivery.c) */
    uint32_t cursor_failures; /* in a row; > 0: deliveries go on past the lease (docs/reliability.md) */
    uint64_t cursor_retry_ms; /* not before this */
    bool cursor_given_up;     /* failed while the broker stops: not tried again */
    bool attempts_stale;      /* it forgot its returned deliveries (no member left): reload their counts first */
    uint64_t redeliveries, dead_letters, delivered, last_ack_us;
    uint64_t acks, acks_at_tick;             /* last_ack_us is set on the tick after acks changed (50 ms resolution) */
    knoop_stored_attempt_t *stored_attempts; /* owned: attempts journaled before the restart, ascending seq */
    size_t stored_attempts_len;
    char owner[16]; /* the party that created it; only its connections may join ("": not known yet) */
    bool touch;     /* the cursor row is written at the next flush even if unchanged (owner, idle clock) */
};

struct knoop_sub {
    knoop_peer_t *peer;
    knoop_group_t *group;
    knoop_sub_t *next_on_peer, *next_in_group;
    uint64_t window;    /* credit: most unacked deliveries it may hold (Subscribe.credit + Credit.n) */
    uint64_t in_flight; /* SENT entries it holds */
    uint64_t bytes_out; /* their envelopes' bytes */
};

typedef struct knoop_broker_stats {
    uint64_t published, accepted, duplicates, rejected, delivered, acked, nacked, dead_lettered, bad_frames;
    uint64_t settles_ignored; /* Acks and Nacks from a connection that did not hold the delivery */
} knoop_broker_stats_t;

/* One row of the frame-handler table: what a frame body dispatches to (core/dispatch.c reads it). */
typedef struct knoop_frame_handler {
    Knoop__Frame__BodyCase body;
    const char *name; /* for errors: "Ack before Hello: send Hello first" */
    bool needs_hello; /* refused (NO_HELLO) before the peer said Hello */
    void (*fn)(knoop_broker_t *b, knoop_peer_t *p, Knoop__Frame *f);
} knoop_frame_handler_t;

/* One row of the periodic-job table: core's tick (core/jobs.c) runs fn when it is due. */
typedef struct knoop_job {
    const char *name;
    uint64_t interval_ms; /* 0: every tick (KNOOP_TICK_MS) */
    /* Non-NULL: the interval is this setting instead, read at every run so that a reload applies. */
    uint64_t (*interval_setting)(const knoop_settings_t *s);
    uint64_t first_ms;   /* first run this long after start-up; 0: one interval after it */
    bool while_stopping; /* keeps running while the broker stops, and runs once more right before it closes */
    void (*fn)(knoop_broker_t *b);
} knoop_job_t;

/* What core calls upward; app/lifecycle.c sets them. */
typedef struct knoop_broker_hooks {
    /* Once per loop iteration, after the I/O: wake what this iteration made ready (delivery pumps the streams that
     * were appended to). May be NULL. */
    void (*after_io)(knoop_broker_t *b);
    /* A peer leaves (went silent, reconnected, or the broker stops): release what the layers above hold for it
     * (its subscriptions), before core frees it. May be NULL. */
    void (*peer_leaving)(knoop_broker_t *b, knoop_peer_t *p);
    /* SIGHUP and `knoopctl reload`: 0 with a note in msg, or a negative errno with the reason in msg (the running
     * configuration is kept). */
    int (*reload)(knoop_broker_t *b, char *msg, size_t len);
    /* The graceful stop, once the journal queue is empty and core's handles are closing: release everything above
     * core, the journal included (and the peers, through knoop_peers_free_all, at the point the order needs). */
    void (*stopped)(knoop_broker_t *b);
} knoop_broker_hooks_t;

struct knoop_control;
struct knoop_route_state;
struct knoop_istd_schemas;
struct knoop_ledger;

struct knoop_broker {
    uv_loop_t *loop;
    knoop_config_t *config;   /* owned; swapped on reload */
    knoop_journal_t *journal; /* owned */
    void *zctx, *router;      /* ZeroMQ context and ROUTER socket */
    uv_poll_t zpoll;
    /* client authentication and connections (core/auth.c, core/zap.c, core/conns.c) */
    void *zap;                     /* ZAP handler (REP on inproc://zeromq.zap.01); NULL with auth: none */
    void *monitor;                 /* the ROUTER's socket monitor (PAIR): connections accepted and closed */
    uv_poll_t zap_poll;            /* wakes the loop for a ZAP request */
    struct knoop_clients *clients; /* owned: client key -> party (config/clients.h), reread on reload */
    struct knoop_conns *conns;     /* owned: the ROUTER's open connections by descriptor (core/conns.c) */
    uv_check_t zcheck;
    uv_idle_t zidle;
    uv_timer_t tick; /* liveness and the periodic jobs */
    uv_signal_t sigterm, sigint, sighup;
    struct knoop_control *control;         /* owned */
    struct knoop_route_state *route_state; /* owned; NULL without a network */
    struct knoop_istd_schemas *schemas;    /* owned; iWmo/iJw XSDs, loaded once (xml_ingest.c) */
    struct knoop_ledger *ledger;           /* owned; the assignment ledger (xml_ingest.c) */
    const struct knoop_adapter *adapters;  /* protocol adapters (ingest/adapter.h, app/adapter_table.c); set at start */
    uint32_t expectation_alerts_in_flight; /* legacy/expectations.c: overdue alerts queued, not yet stored */
    uint32_t finance_in_flight;            /* legacy/finance_job.c: signals and reports queued, not yet stored */
    /* the wiring app/ provides (tables are static, never freed) */
    const knoop_frame_handler_t *frame_handlers;
    size_t n_frame_handlers;
    const knoop_job_t *jobs;
    size_t n_jobs;
    uint64_t job_due_ms[KNOOP_JOBS_MAX]; /* core/jobs.c: when each job runs next */
    knoop_broker_hooks_t hooks;
    knoop_strmap_t *peers;         /* routing-id hex -> knoop_peer_t (owned) */
    knoop_strmap_t *streams;       /* name -> knoop_stream_t (owned) */
    knoop_stream_t *dirty_streams; /* appended since the last pump (next_dirty list) */
    /* owned: delivery's reads of the journal (store/entries.h), opened on first use, closed before the journal */
    struct knoop_store_entries *entries_reader;
    struct knoop_op_retry *op_retry; /* owned (deliver/op_retry.c): delivery writes waiting to be tried again */
    int64_t next_stream_id;
    uint8_t pseudonym_key[KNOOP_PSEUDONYM_KEY_BYTES];
    uint64_t instance_id, message_counter;
    uint64_t started_us;
    uint64_t frame_received_us; /* monotonic: when the frame being handled was read (core/dispatch.c), for the stages */
    knoop_broker_stats_t stats;
    /* operations (docs/operations.md): counters and readiness (core/metrics.h, core/health.h), the metric table app/
     * puts here (static), the HTTP endpoint and systemd's watchdog (app/), the online backup (store/backup.h) */
    knoop_metrics_t metrics;
    knoop_health_t health;
    const knoop_metric_def_t *metric_table;
    size_t n_metrics;
    struct knoop_metrics_http *metrics_http; /* owned by app/metrics_http.c; NULL when metrics_listen is off */
    struct knoop_backup *backup;             /* owned: the running or last online backup */
    uint64_t watchdog_us, watchdog_due_ms;   /* app/sd_notify.c: WATCHDOG_USEC, when WATCHDOG=1 is next due */
    bool notified_stopping;
    bool draining; /* knoopctl drain: publishes are refused, the rest goes on */
    bool stopping, reading_stopped;
    int exit_code;
    char config_path[4096]; /* "" = embedded demo */
    /* delivery: operator actions and retention (control_dlq.c, control_subscribers.c, retention.c) */
    char control_actor[96]; /* who runs the control command now: "control uid=.. pid=.." (audit) */
    uint64_t purge_scan_seq, purge_last_ms, purged;
    uint32_t purge_in_flight;              /* purge batches queued to the journal */
    uint32_t forget_in_flight;             /* control/control_forget.c: forget ops queued to the journal */
    struct knoop_client_seen *client_seen; /* owned (ingest/client_seen.c): whose last-seen record is fresh */
    uint64_t boot_last_seq;                /* last seq at start-up: later ones were never delivered before it */
    /* the audit of reads and idle groups (deliver/read_audit.c, deliver/group_expiry.c) */
    struct knoop_read_batch *read_batch; /* owned: deliveries not yet handed to the journal (then the op's) */
    uint64_t read_audit_unwritten;       /* deliveries handed to the journal, not yet committed */
    uint64_t audit_expire_ms, group_expire_ms;
    int64_t group_expire_from_us;              /* the idle-expiry scan goes on after this updated_us */
    bool audit_expire_busy, group_expire_busy; /* a pass is in the journal */

    /* core/peer_limits.c: the caps on clients and giving memory back after they leave */
    knoop_strmap_t *party_sessions; /* party -> its sessions, a count stored as the pointer (owned map) */
    uint64_t publish_bytes_queued;  /* envelopes of all publishes waiting for the journal (max_queued_publish_bytes) */
    size_t peers_at_trim;           /* peers known when the heap was last trimmed */
    uint64_t trim_ms, refused_log_ms, refused_unlogged, answers_lost;
};

/* broker.c — the context's life in core. The order of start-up and stop across the layers is app/lifecycle.c's.
 * init: the context with no I/O yet (config borrowed until the broker owns it: app/main.c hands it over). */
int knoop_broker_init(knoop_broker_t *b, uv_loop_t *loop, knoop_config_t *config, const char *config_path);
/* Binds the ROUTER socket and joins it to the loop, starts the tick and the signal handlers. Needs the tables and
 * hooks set. Logs what failed; on failure the caller releases with knoop_broker_close_handles and
 * knoop_broker_close_router. */
int knoop_broker_listen(knoop_broker_t *b);
void knoop_broker_stop(knoop_broker_t *b); /* graceful: stop reading, finish commits, then hooks.stopped */
int knoop_broker_reload(knoop_broker_t *b, char *msg, size_t len); /* hooks.reload */
/* Closes the loop handles listen started (their closing completes in the loop). */
void knoop_broker_close_handles(knoop_broker_t *b);
void knoop_broker_close_router(knoop_broker_t *b); /* last: lets the final frames leave, then closes ZeroMQ */

/* peers.c: ends every live session for which match(p, ctx) holds, as a peer that went silent is dropped (hooks.
 * peer_leaving returns its deliveries); with reason set, first tells it so in an Error NOT_AUTHORISED. Returns how many
 * ended. */
size_t knoop_peers_end(knoop_broker_t *b, bool (*match)(const knoop_peer_t *p, const void *ctx), const void *ctx,
                       const char *why, const char *reason);
/* peers.c: frees a peer that timed out once nothing in the journal queue still points at it. */
void knoop_peer_release(knoop_broker_t *b, knoop_peer_t *p);
/* Frees every peer (hooks.peer_leaving first) and the peers map: at the stop, after the journal closed. */
void knoop_peers_free_all(knoop_broker_t *b);

/* dispatch.c: the Heartbeat row of the frame-handler table (core answers it itself). */
void knoop_handle_heartbeat(knoop_broker_t *b, knoop_peer_t *p, Knoop__Frame *f);

#endif
