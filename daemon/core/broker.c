/* broker.c — the context object's life in core: the ROUTER socket (options, bind), the loop handles (dispatch.c's
 * poll/check/idle, the tick, the signals), the graceful stop and the entry to reload. What the layers above core do
 * at start-up, reload and stop is app/lifecycle.c's, reached through b->hooks. */
#include "core/broker.h"
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>
#include "base/clock.h"
#include "base/log.h"
#include "config/clients.h"
#include "core/auth.h"
#include "core/conns.h"
#include "core/dispatch.h"
#include "core/jobs.h"
#include "core/peers.h"
#include "core/zap.h"
#include "core/peer_limits.h"

#define STOP_LINGER_MS 2000 /* how long the last frames (Accepted) may take to leave at the stop */

int knoop_broker_init(knoop_broker_t *b, uv_loop_t *loop, knoop_config_t *config, const char *config_path)
{
    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->config = config;
    snprintf(b->config_path, sizeof b->config_path, "%s", config_path ? config_path : "");
    b->started_us = knoop_now_us();
    randombytes_buf(&b->instance_id, sizeof b->instance_id);
    knoop_log_set_level(KNOOP_LOG_INFO);
    knoop_log_level_t lvl;
    if (knoop_log_level_parse(config->settings.log_level, &lvl) == 0)
        knoop_log_set_level(lvl);
    b->peers = knoop_strmap_new();
    return b->peers ? 0 : -ENOMEM;
}

/* ---- the tick, signals, stop ------------------------------------------------------------------------------- */

static void close_handle(uv_handle_t *h)
{
    /* h->loop is set by a successful uv_*_init: a handle start-up never reached is left alone. */
    if (h->loop && !uv_is_closing(h))
        uv_close(h, NULL);
}

void knoop_broker_close_handles(knoop_broker_t *b)
{
    if (b->tick.loop)
        uv_timer_stop(&b->tick);
    close_handle((uv_handle_t *)&b->tick);
    close_handle((uv_handle_t *)&b->zpoll);
    close_handle((uv_handle_t *)&b->zap_poll);
    close_handle((uv_handle_t *)&b->zcheck);
    close_handle((uv_handle_t *)&b->zidle);
    close_handle((uv_handle_t *)&b->sigterm);
    close_handle((uv_handle_t *)&b->sigint);
    close_handle((uv_handle_t *)&b->sighup);
}

void knoop_broker_close_router(knoop_broker_t *b)
{
    if (b->router) {
        int linger = STOP_LINGER_MS;
        if (zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger) != 0)
            knoop_log_warn("daemon.close", "step=zmq_setsockopt(ZMQ_LINGER) error=\"%s\"", zmq_strerror(zmq_errno()));
        if (zmq_close(b->router) != 0)
            knoop_log_warn("daemon.close", "step=zmq_close error=\"%s\"", zmq_strerror(zmq_errno()));
    }
    knoop_zap_close(b); /* after the ROUTER: no handshake finds it without its handler */
    knoop_conns_close(b);
    knoop_clients_destroy(&b->clients);
    if (b->zctx && zmq_ctx_term(b->zctx) != 0)
        knoop_log_warn("daemon.close", "step=zmq_ctx_term error=\"%s\"", zmq_strerror(zmq_errno()));
    b->router = b->zctx = NULL;
    knoop_peer_limits_free(b);
}

/* The journal queue is empty: nothing is owed to anyone any more. Core closes its handles, the layers above release
 * their state (hooks.stopped, the journal included), and the ROUTER goes last so the final answers can leave. */
static void finish_stop(knoop_broker_t *b)
{
    knoop_jobs_run_final(b); /* e.g. the last cursor updates */
    if (knoop_journal_pending(b->journal) != 0)
        return; /* the next tick tries again */
    knoop_log_info("daemon.stopped", "last_seq=%" PRIu64, knoop_journal_last_seq(b->journal));
    knoop_broker_close_handles(b);
    if (b->hooks.stopped)
        b->hooks.stopped(b);
    knoop_peers_free_all(b); /* whatever hooks.stopped left (it frees them where its order needs) */
    knoop_broker_close_router(b);
}

static void on_tick(uv_timer_t *t)
{
    knoop_broker_t *b = t->data;
    uint64_t now = knoop_now_ms();
    knoop_peers_expire(b, now);
    knoop_memory_tick(b, now);
    knoop_jobs_run_due(b, now);
    if (b->stopping && knoop_journal_pending(b->journal) == 0)
        finish_stop(b);
}

int knoop_broker_reload(knoop_broker_t *b, char *msg, size_t len)
{
    if (!b->hooks.reload) {
        snprintf(msg, len, "this knoopd cannot reload its configuration");
        return -ENOTSUP;
    }
    /* The client keys are read first and swapped in only when the configuration reloads too. */
    struct knoop_clients *clients = NULL;
    int rc = knoop_auth_reload_read(b, &clients, msg, len);
    if (rc == 0 && (rc = b->hooks.reload(b, msg, len)) != 0)
        knoop_clients_destroy(&clients);
    if (rc == 0)
        knoop_auth_reload_swap(b, clients, msg, len);
    return rc;
}

static void on_signal(uv_signal_t *s, int signum)
{
    knoop_broker_t *b = s->data;
    if (signum == SIGHUP) {
        char msg[1024];
        int rc = knoop_broker_reload(b, msg, sizeof msg);
        if (rc == 0)
            knoop_log_info("config.reloaded", "source=\"%s\" note=\"%s\"", b->config->source, msg);
        else
            knoop_log_error("config.reload_failed", "error=\"%s\" action=kept_running_config", msg);
        return;
    }
    knoop_log_info("daemon.stopping", "signal=%d", signum);
    knoop_broker_stop(b);
}

void knoop_broker_stop(knoop_broker_t *b)
{
    if (b->stopping)
        return;
    b->stopping = true;
    b->reading_stopped = true; /* stop accepting; what is queued still commits and is answered */
    if (b->zpoll.loop)
        uv_poll_stop(&b->zpoll);
}

/* ---- start-up ------------------------------------------------------------------------------------------------ */

static int zmq_step(int rc, const char *step)
{
    if (rc == 0)
        return 0;
    int e = zmq_errno();
    knoop_log_error("daemon.listen", "step=%s error=\"%s\"", step, zmq_strerror(e));
    return e > 0 && e < 1000 ? -e : -EINVAL; /* ZeroMQ's own errors (wrong transport) are above 1000 */
}

static int open_router(knoop_broker_t *b)
{
    const knoop_settings_t *s = &b->config->settings;
    if (!(b->zctx = zmq_ctx_new()))
        return zmq_step(-1, "zmq_ctx_new");
    if (!(b->router = zmq_socket(b->zctx, ZMQ_ROUTER)))
        return zmq_step(-1, "zmq_socket");
    /* Bounded queues per connection (docs/protocol.md section 11): ZeroMQ holds at most send_hwm frames for a client
     * (a send beyond fails at once: ZMQ_ROUTER_MANDATORY with ZMQ_DONTWAIT, see peer_limits.h for what follows) and
     * reads at most recv_hwm frames ahead of knoopd from one (then that connection waits in TCP). */
    int one = 1, sndhwm = (int)s->send_hwm, rcvhwm = (int)s->recv_hwm, rc;
    /* The hard guard, just above the limit: a frame up to KNOOP_FRAME_GUARD_BYTES beyond it still arrives and is
     * answered TOO_LARGE; ZeroMQ drops a connection that announces a larger one, before buffering it. */
    int64_t maxmsg = (int64_t)s->max_message_bytes + KNOOP_FRAME_GUARD_BYTES;
    if ((rc = zmq_step(zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one),
                       "zmq_setsockopt(ZMQ_ROUTER_MANDATORY)")) != 0 ||
        (rc = zmq_step(zmq_setsockopt(b->router, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm), "zmq_setsockopt(ZMQ_SNDHWM)")) !=
            0 ||
        (rc = zmq_step(zmq_setsockopt(b->router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm), "zmq_setsockopt(ZMQ_RCVHWM)")) !=
            0 ||
        (rc = zmq_step(zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg),
                       "zmq_setsockopt(ZMQ_MAXMSGSIZE)")) != 0)
        return rc;
    /* Both before the bind: the monitor must see every connection, and no handshake may find CURVE unanswered. */
    if ((rc = knoop_conns_start(b)) != 0 || (rc = knoop_auth_start(b)) != 0)
        return rc;
    if (zmq_bind(b->router, s->listen) != 0) {
        int e = zmq_errno();
        knoop_log_error("daemon.listen", "endpoint=\"%s\" error=\"%s\"", s->listen, zmq_strerror(e));
        return e > 0 && e < 1000 ? -e : -EINVAL;
    }
    return 0;
}

static int start_signals(knoop_broker_t *b)
{
    uv_signal_t *sigs[] = {&b->sigterm, &b->sigint, &b->sighup};
    const int signums[] = {SIGTERM, SIGINT, SIGHUP};
    int rc;
    for (int i = 0; i < 3; i++) {
        if ((rc = knoop_listen_step(uv_signal_init(b->loop, sigs[i]), "uv_signal_init")) != 0)
            return rc;
        sigs[i]->data = b;
        if ((rc = knoop_listen_step(uv_signal_start(sigs[i], on_signal, signums[i]), "uv_signal_start")) != 0)
            return rc;
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        int e = errno;
        knoop_log_error("daemon.listen", "step=signal(SIGPIPE) error=\"%s\"", strerror(e));
        return -e;
    }
    return 0;
}

int knoop_broker_listen(knoop_broker_t *b)
{
    if (!b->frame_handlers || !b->n_frame_handlers) {
        knoop_log_error("daemon.listen", "error=\"no frame-handler table\"");
        return -EINVAL;
    }
    uint64_t now = knoop_now_ms();
    int rc;
    if ((rc = knoop_jobs_start(b, now)) != 0 || (rc = open_router(b)) != 0 || (rc = knoop_dispatch_start(b)) != 0)
        return rc;
    if ((rc = knoop_listen_step(uv_timer_init(b->loop, &b->tick), "uv_timer_init")) != 0)
        return rc;
    b->tick.data = b;
    if ((rc = knoop_listen_step(uv_timer_start(&b->tick, on_tick, KNOOP_TICK_MS, KNOOP_TICK_MS), "uv_timer_start")) !=
        0)
        return rc;
    return start_signals(b);
}
