/* deadlines.c — one table of deadline rules for iWmo ("WMO3nn") and iJw ("JW3nn") messages; the functions
 * only read it: a message type opens the rows it triggers and closes the rows whose expected types name it. */
#include "legacy/deadlines.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The message standards that share the numbering; a rule applies within one standard only, so a JW302
 * never closes a WMO301's retour. */
static const char *const standards[] = {"WMO", "JW"};

/* DESIGN §4 rule 5. Working days as workdays.h counts them; "n working days after" is the n-th. */
static const knoop_deadline_rule_t rules[] = {
    {301, KNOOP_EXPECT_RETOUR, KNOOP_FROM_RECEIVER, {302, 0}, KNOOP_DUE_AFTER_RECEIPT, 3},
    {305, KNOOP_EXPECT_RETOUR, KNOOP_FROM_RECEIVER, {306, 0}, KNOOP_DUE_AFTER_RECEIPT, 3},
    {307, KNOOP_EXPECT_RETOUR, KNOOP_FROM_RECEIVER, {308, 0}, KNOOP_DUE_AFTER_RECEIPT, 3},
    {315, KNOOP_EXPECT_RETOUR, KNOOP_FROM_RECEIVER, {316, 0}, KNOOP_DUE_AFTER_RECEIPT, 3},
    {317, KNOOP_EXPECT_RETOUR, KNOOP_FROM_RECEIVER, {318, 0}, KNOOP_DUE_AFTER_RECEIPT, 3},
    {319, KNOOP_EXPECT_RETOUR, KNOOP_FROM_RECEIVER, {320, 0}, KNOOP_DUE_AFTER_RECEIPT, 3},
    {315, KNOOP_EXPECT_ANSWER, KNOOP_FROM_RECEIVER, {301, 319}, KNOOP_DUE_AFTER_RECEIPT, 5},
    {317, KNOOP_EXPECT_ANSWER, KNOOP_FROM_RECEIVER, {301, 319}, KNOOP_DUE_AFTER_RECEIPT, 5},
    {323, KNOOP_EXPECT_DECLARATION_ANSWER, KNOOP_FROM_RECEIVER, {325, 0}, KNOOP_DUE_AFTER_RECEIPT, 10},
    {305, KNOOP_EXPECT_START_REPORTED, KNOOP_FROM_SENDER, {305, 0}, KNOOP_DUE_AFTER_EVENT, 5},
    {307, KNOOP_EXPECT_STOP_REPORTED, KNOOP_FROM_SENDER, {307, 0}, KNOOP_DUE_AFTER_EVENT, 5},
};
#define N_RULES (sizeof rules / sizeof rules[0])

static const char *const kind_names[] = {
    [KNOOP_EXPECT_RETOUR] = "retour",
    [KNOOP_EXPECT_ANSWER] = "answer",
    [KNOOP_EXPECT_DECLARATION_ANSWER] = "declaration-answer",
    [KNOOP_EXPECT_START_REPORTED] = "start-reported",
    [KNOOP_EXPECT_STOP_REPORTED] = "stop-reported",
};

/* "WMO301" -> standard "WMO", number 301. Exactly a known prefix and three digits, else -1. */
static int parse_type(const char *type, const char **standard)
{
    for (size_t i = 0; i < sizeof standards / sizeof standards[0]; i++) {
        const size_t n = strlen(standards[i]);
        if (strncmp(type, standards[i], n) != 0)
            continue;
        const char *d = type + n;
        if (strlen(d) != 3 || d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9')
            return -1;
        *standard = standards[i];
        return (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    }
    return -1;
}

static void type_name(char out[KNOOP_MSGTYPE_SIZE], const char *standard, int number)
{
    snprintf(out, KNOOP_MSGTYPE_SIZE, "%s%03u", standard, (unsigned)number % 1000u);
}

int knoop_deadlines_for(const char *message_type, knoop_date_t received, const knoop_date_t *event_date,
                        knoop_expectation_t out[KNOOP_EXPECT_MAX])
{
    if (message_type == NULL || out == NULL)
        return -EINVAL;
    const char *standard = NULL;
    const int number = parse_type(message_type, &standard);
    if (number < 0)
        return 0;
    int n = 0;
    for (size_t i = 0; i < N_RULES && n < KNOOP_EXPECT_MAX; i++) {
        const knoop_deadline_rule_t *r = &rules[i];
        if (r->trigger != number || (r->base == KNOOP_DUE_AFTER_EVENT && event_date == NULL))
            continue;
        knoop_expectation_t *e = &out[n];
        memset(e, 0, sizeof *e);
        e->kind = r->kind;
        e->from = r->from;
        const knoop_date_t from_day = r->base == KNOOP_DUE_AFTER_EVENT ? *event_date : received;
        const int rc = knoop_add_working_days(from_day, r->working_days, &e->due);
        if (rc < 0)
            return rc;
        for (size_t t = 0; t < KNOOP_EXPECT_TYPES_MAX && r->expected[t] != 0; t++)
            type_name(e->types[e->n_types++], standard, r->expected[t]);
        if (r->from == KNOOP_FROM_SENDER) {
            e->fulfilled = true;
            e->late = received.days > e->due.days;
        }
        n++;
    }
    return n;
}

int knoop_deadlines_fulfilled_by(const char *message_type, knoop_fulfilment_t out[KNOOP_FULFIL_MAX])
{
    if (message_type == NULL || out == NULL)
        return -EINVAL;
    const char *standard = NULL;
    const int number = parse_type(message_type, &standard);
    if (number < 0)
        return 0;
    int n = 0;
    for (size_t i = 0; i < N_RULES && n < KNOOP_FULFIL_MAX; i++) {
        const knoop_deadline_rule_t *r = &rules[i];
        /* A sender's own deadline is met (or missed) by the trigger itself; nothing stays open to close. */
        if (r->from == KNOOP_FROM_SENDER)
            continue;
        for (size_t t = 0; t < KNOOP_EXPECT_TYPES_MAX && r->expected[t] != 0; t++) {
            if (r->expected[t] != number)
                continue;
            out[n].kind = r->kind;
            type_name(out[n].trigger_type, standard, r->trigger);
            n++;
            break;
        }
    }
    return n;
}

size_t knoop_deadline_rule_count(void)
{
    return N_RULES;
}

const knoop_deadline_rule_t *knoop_deadline_rule(size_t i)
{
    return i < N_RULES ? &rules[i] : NULL;
}

const char *knoop_expect_kind_name(knoop_expect_kind_t kind)
{
    if ((int)kind < 0 || (size_t)kind >= sizeof kind_names / sizeof kind_names[0])
        return NULL;
    return kind_names[kind];
}

bool knoop_expectation_overdue(const knoop_expectation_t *e, knoop_date_t today)
{
    return e != NULL && !e->fulfilled && today.days > e->due.days;
}
