/* deadlines.h — the iWmo / iJw deadlines of DESIGN §4 rule 5 as pure functions over one rule table: which
 * expectations a message opens (what, from whom, due when) and which open expectations an arriving message closes. */
#ifndef KNOOP_DEADLINES_H
#define KNOOP_DEADLINES_H
#include <stdbool.h>
#include <stddef.h>

#include "legacy/workdays.h"

typedef enum knoop_expect_kind {
    KNOOP_EXPECT_RETOUR = 1,         /* the technical retour: 302 for a 301, 306 for a 305, ... */
    KNOOP_EXPECT_ANSWER,             /* a 301 assignment or a 319 refusal after a 315 or 317 request */
    KNOOP_EXPECT_DECLARATION_ANSWER, /* a 325 after a 323 declaration */
    KNOOP_EXPECT_START_REPORTED,     /* the 305 itself: due 5 working days after the start date */
    KNOOP_EXPECT_STOP_REPORTED,      /* the 307 itself: due 5 working days after the stop date */
} knoop_expect_kind_t;

typedef enum knoop_expect_party {
    KNOOP_FROM_RECEIVER = 1, /* the receiver of the triggering message owes it */
    KNOOP_FROM_SENDER,       /* the sender owed the triggering message itself (start/stop reporting) */
} knoop_expect_party_t;

#define KNOOP_MSGTYPE_SIZE     8 /* "WMO301", "JW301" and a NUL */
#define KNOOP_EXPECT_TYPES_MAX 2 /* message types that can fulfil one expectation */
#define KNOOP_EXPECT_MAX       4 /* expectations one message can open */
#define KNOOP_FULFIL_MAX       4 /* expectation kinds one message can close */

typedef struct knoop_expectation {
    knoop_expect_kind_t kind;
    knoop_expect_party_t from;
    knoop_date_t due; /* the last (Amsterdam) day on which it is on time */
    size_t n_types;
    char types[KNOOP_EXPECT_TYPES_MAX][KNOOP_MSGTYPE_SIZE]; /* any one of these fulfils it, same standard */
    /* Only for KNOOP_FROM_SENDER: the triggering message is what was due, so it arrives fulfilled;
     * late tells whether it came after due (the daemon raises an alert for that at once). */
    bool fulfilled;
    bool late;
} knoop_expectation_t;

/* The expectations a message of message_type ("WMO301", "JW315", ...) opens when it is received on the
 * Amsterdam day `received`. event_date is the start or stop date a 305 / 307 carries, or NULL when the
 * message has none (then no start/stop expectation is produced). Fills out[0..n) and returns n (0 for a
 * message type no rule names, such as "knoop.Referral"); -EINVAL for NULL message_type or out; -ERANGE when
 * a due date falls outside years 1..9999. */
int knoop_deadlines_for(const char *message_type, knoop_date_t received, const knoop_date_t *event_date,
                        knoop_expectation_t out[KNOOP_EXPECT_MAX]);

/* What an arriving message can close: each entry names an expectation kind and the message type that
 * opened it ("WMO301" closes {ANSWER, "WMO315"} and {ANSWER, "WMO317"}). The daemon closes the open
 * expectation of that kind whose trigger the arriving message correlates to, from the party it was due from.
 * Returns the number of entries (0 when none), -EINVAL for NULL arguments. */
typedef struct knoop_fulfilment {
    knoop_expect_kind_t kind;
    char trigger_type[KNOOP_MSGTYPE_SIZE];
} knoop_fulfilment_t;
int knoop_deadlines_fulfilled_by(const char *message_type, knoop_fulfilment_t out[KNOOP_FULFIL_MAX]);

/* The rule table itself, read-only: for documentation checks and for showing operators what is tracked. */
typedef enum knoop_due_base {
    KNOOP_DUE_AFTER_RECEIPT = 1, /* counted from the Amsterdam day the broker received the trigger */
    KNOOP_DUE_AFTER_EVENT,       /* counted from the start/stop date the trigger carries */
} knoop_due_base_t;

typedef struct knoop_deadline_rule {
    int trigger; /* the message number that opens the expectation: 301 */
    knoop_expect_kind_t kind;
    knoop_expect_party_t from;
    int expected[KNOOP_EXPECT_TYPES_MAX]; /* message numbers that fulfil it; 0 ends the list */
    knoop_due_base_t base;
    int working_days;
} knoop_deadline_rule_t;

size_t knoop_deadline_rule_count(void);
const knoop_deadline_rule_t *knoop_deadline_rule(size_t i); /* NULL past the end */

/* "retour", "answer", "declaration-answer", "start-reported", "stop-reported"; NULL for an unknown kind. */
const char *knoop_expect_kind_name(knoop_expect_kind_t kind);

/* An open (unfulfilled) expectation is overdue on every day after its due day. */
bool knoop_expectation_overdue(const knoop_expectation_t *e, knoop_date_t today);
#endif
