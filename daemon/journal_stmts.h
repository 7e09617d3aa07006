/* journal_stmts.h — the writer's prepared-statement slots, one per statement, so every module's apply callback
 * can cache its statements on the writer connection without colliding with another module's. */
#ifndef KNOOP_JOURNAL_STMTS_H
#define KNOOP_JOURNAL_STMTS_H
enum knoop_jstmt {
    KNOOP_JSTMT_MSG_INSERT,
    KNOOP_JSTMT_DEDUP_LOOKUP,
    KNOOP_JSTMT_ENTRY_INSERT,
    KNOOP_JSTMT_STREAM_INSERT,
    KNOOP_JSTMT_CURSOR_UPSERT,
    KNOOP_JSTMT_DEADLETTER_INSERT,
    KNOOP_JSTMT_AUDIT_INSERT,
    KNOOP_JSTMT_ROUTE_UPSERT,
    KNOOP_JSTMT_ROUTE_DECISION,
    KNOOP_JSTMT_ATTEMPT_UPSERT,
    KNOOP_JSTMT_ATTEMPT_DELETE,
    KNOOP_JSTMT_DEADLETTER_UPDATE,
    KNOOP_JSTMT_DEADLETTER_ENTRY,     /* delivery.c: the dead letter's entry on the deadletters stream */
    KNOOP_JSTMT_DLQ_STATE,            /* control_dlq.c / delivery.c: a dead letter's state */
    KNOOP_JSTMT_DLQ_MOVE_MESSAGE,     /* control_dlq.c: a re-routed message moves to a new seq with its decision */
    KNOOP_JSTMT_DLQ_MOVE_LETTER,      /* control_dlq.c: ... and its dead letter row follows it */
    KNOOP_JSTMT_PURGE_MESSAGE,        /* retention.c */
    KNOOP_JSTMT_PURGE_ENTRIES,
    KNOOP_JSTMT_PURGE_DEADLETTERS,
    KNOOP_JSTMT_GENERIC_1,
    KNOOP_JSTMT_GENERIC_2,
    KNOOP_JSTMT_GENERIC_3,
    KNOOP_JSTMT_GENERIC_4,
    KNOOP_JSTMT_COUNT
};
#endif
