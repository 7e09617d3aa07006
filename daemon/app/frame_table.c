/* frame_table.c — one row per frame body the broker accepts: its name, whether it needs a Hello first, and its
 * handler (one file each in ingest/ and deliver/; Heartbeat is core's own). A body not in the table is answered
 * UNKNOWN_FRAME by core. */
#include "app/frame_table.h"
#include "deliver/handlers.h"
#include "ingest/handlers.h"

/* The handlers take their own message; the table's rows take the frame. */
#define ADAPT(fn, member)                                                                                              \
    static void fn##_frame(knoop_broker_t *b, knoop_peer_t *p, Knoop__Frame *f)                                        \
    {                                                                                                                  \
        fn(b, p, f->member);                                                                                           \
    }
ADAPT(knoop_handle_hello, hello)
ADAPT(knoop_handle_publish, publish)
ADAPT(knoop_handle_subscribe, subscribe)
ADAPT(knoop_handle_unsubscribe, unsubscribe)
ADAPT(knoop_handle_credit, credit)
ADAPT(knoop_handle_ack, ack)
ADAPT(knoop_handle_nack, nack)

const knoop_frame_handler_t knoop_frame_table[] = {
    {KNOOP__FRAME__BODY_HELLO, "Hello", false, knoop_handle_hello_frame},
    {KNOOP__FRAME__BODY_PUBLISH, "Publish", true, knoop_handle_publish_frame},
    {KNOOP__FRAME__BODY_SUBSCRIBE, "Subscribe", true, knoop_handle_subscribe_frame},
    {KNOOP__FRAME__BODY_UNSUBSCRIBE, "Unsubscribe", true, knoop_handle_unsubscribe_frame},
    {KNOOP__FRAME__BODY_CREDIT, "Credit", true, knoop_handle_credit_frame},
    {KNOOP__FRAME__BODY_ACK, "Ack", true, knoop_handle_ack_frame},
    {KNOOP__FRAME__BODY_NACK, "Nack", true, knoop_handle_nack_frame},
    {KNOOP__FRAME__BODY_HEARTBEAT, "Heartbeat", false, knoop_handle_heartbeat},
};
const size_t knoop_frame_table_len = sizeof knoop_frame_table / sizeof knoop_frame_table[0];
