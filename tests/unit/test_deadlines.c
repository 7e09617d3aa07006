/* test_deadlines.c — unit tests for daemon/deadlines.c: every rule of DESIGN §4 rule 5, each across a
 * holiday, in both standards, and the agreement between what a message opens and what closes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legacy/deadlines.h"

static knoop_date_t D(const char *s)
{
    knoop_date_t d = {0};
    assert_int_equal(knoop_date_parse(s, &d), 0);
    return d;
}

static void assert_date(knoop_date_t got, const char *want)
{
    char buf[KNOOP_DATE_STR_SIZE];
    assert_int_equal(knoop_date_format(got, buf, sizeof buf), 0);
    assert_string_equal(buf, want);
}

/* The expectation of `kind` among out[0..n), which must be there exactly once. */
static const knoop_expectation_t *find(const knoop_expectation_t *out, int n, knoop_expect_kind_t kind)
{
    const knoop_expectation_t *found = NULL;
    for (int i = 0; i < n; i++)
        if (out[i].kind == kind) {
            assert_null(found);
            found = &out[i];
        }
    assert_non_null(found);
    return found;
}

static void assert_expect(const knoop_expectation_t *e, knoop_expect_party_t from, const char *due, const char *type0,
                          const char *type1)
{
    assert_int_equal(e->from, from);
    assert_date(e->due, due);
    assert_int_equal(e->n_types, type1 ? 2 : 1);
    assert_string_equal(e->types[0], type0);
    if (type1)
        assert_string_equal(e->types[1], type1);
}

/* Each heen message expects its retour from the receiver within 3 working days, in both standards.
 * Received Wednesday 23 December 2026: Thursday 24 (1), Christmas and the weekend, Mon 28 (2), Tue 29 (3). */
static void retour_in_three_working_days(void **state)
{
    (void)state;
    const char *pairs[][2] = {
        {"WMO301", "WMO302"}, {"WMO305", "WMO306"}, {"WMO307", "WMO308"}, {"WMO315", "WMO316"},
        {"WMO317", "WMO318"}, {"WMO319", "WMO320"}, {"JW301", "JW302"},   {"JW305", "JW306"},
        {"JW307", "JW308"},   {"JW315", "JW316"},   {"JW317", "JW318"},   {"JW319", "JW320"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        knoop_expectation_t out[KNOOP_EXPECT_MAX];
        const int n = knoop_deadlines_for(pairs[i][0], D("2026-12-23"), NULL, out);
        assert_true(n >= 1);
        const knoop_expectation_t *e = find(out, n, KNOOP_EXPECT_RETOUR);
        assert_expect(e, KNOOP_FROM_RECEIVER, "2026-12-29", pairs[i][1], NULL);
        assert_false(e->fulfilled);
    }
}

/* After a 315 the receiver owes a 301 or a 319 within 5 working days; received Wednesday 1 April 2026,
 * Good Friday and Easter Monday fall in between. */
static void answer_after_assignment_request(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    const int n = knoop_deadlines_for("WMO315", D("2026-04-01"), NULL, out);
    assert_int_equal(n, 2);
    assert_expect(find(out, n, KNOOP_EXPECT_RETOUR), KNOOP_FROM_RECEIVER, "2026-04-08", "WMO316", NULL);
    assert_expect(find(out, n, KNOOP_EXPECT_ANSWER), KNOOP_FROM_RECEIVER, "2026-04-10", "WMO301", "WMO319");
}

/* After a 317 the same, across Koningsdag (Monday 27 April 2026). */
static void answer_after_change_request(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    const int n = knoop_deadlines_for("JW317", D("2026-04-23"), NULL, out);
    assert_int_equal(n, 2);
    assert_expect(find(out, n, KNOOP_EXPECT_RETOUR), KNOOP_FROM_RECEIVER, "2026-04-29", "JW318", NULL);
    assert_expect(find(out, n, KNOOP_EXPECT_ANSWER), KNOOP_FROM_RECEIVER, "2026-05-01", "JW301", "JW319");
}

/* A 305 is due 5 working days after the start date it reports. Start Monday 4 May 2026: 5 May is
 * Bevrijdingsdag, so the fifth working day is Tuesday 12 May. */
static void start_within_five_after_start_date(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    const knoop_date_t start = D("2026-05-04");

    int n = knoop_deadlines_for("WMO305", D("2026-05-12"), &start, out);
    assert_int_equal(n, 2);
    const knoop_expectation_t *e = find(out, n, KNOOP_EXPECT_START_REPORTED);
    assert_expect(e, KNOOP_FROM_SENDER, "2026-05-12", "WMO305", NULL);
    assert_true(e->fulfilled);
    assert_false(e->late);
    /* Its retour runs from receipt: Wed 13 (1), Hemelvaartsdag, Fri 15 (2), Mon 18 (3). */
    assert_expect(find(out, n, KNOOP_EXPECT_RETOUR), KNOOP_FROM_RECEIVER, "2026-05-18", "WMO306", NULL);

    n = knoop_deadlines_for("WMO305", D("2026-05-13"), &start, out);
    e = find(out, n, KNOOP_EXPECT_START_REPORTED);
    assert_true(e->fulfilled);
    assert_true(e->late);
}

/* A 307 is due 5 working days after the stop date: stop Tuesday 22 December 2026 -> Wednesday 30 December. */
static void stop_within_five_after_stop_date(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    const knoop_date_t stop = D("2026-12-22");

    int n = knoop_deadlines_for("JW307", D("2026-12-30"), &stop, out);
    assert_int_equal(n, 2);
    const knoop_expectation_t *e = find(out, n, KNOOP_EXPECT_STOP_REPORTED);
    assert_expect(e, KNOOP_FROM_SENDER, "2026-12-30", "JW307", NULL);
    assert_false(e->late);

    n = knoop_deadlines_for("JW307", D("2026-12-31"), &stop, out);
    assert_true(find(out, n, KNOOP_EXPECT_STOP_REPORTED)->late);
}

/* Without an event date a 305/307 still expects its retour, and nothing else. */
static void start_without_event_date(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    const int n = knoop_deadlines_for("WMO305", D("2026-05-12"), NULL, out);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, KNOOP_EXPECT_RETOUR);
}

/* A 325 within 10 working days after the 323: received Wednesday 13 May 2026, Hemelvaartsdag and
 * Tweede Pinksterdag in between -> Friday 29 May. */
static void declaration_answer_in_ten(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    const int n = knoop_deadlines_for("WMO323", D("2026-05-13"), NULL, out);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, KNOOP_EXPECT_DECLARATION_ANSWER);
    assert_expect(&out[0], KNOOP_FROM_RECEIVER, "2026-05-29", "WMO325", NULL);
}

static void messages_without_rules(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    const knoop_date_t day = D("2026-05-13");
    const char *none[] = {"WMO302",  "WMO325", "JW320", "knoop.Referral", "WMO30", "WMO3011", "XYZ301", "wmo301",
                          "WMO 301", "",       "WMO",   "JW30a"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_int_equal(knoop_deadlines_for(none[i], day, &day, out), 0);
    assert_int_equal(knoop_deadlines_for(NULL, day, NULL, out), -EINVAL);
    assert_int_equal(knoop_deadlines_for("WMO301", day, NULL, NULL), -EINVAL);
    assert_int_equal(knoop_deadlines_for("WMO301", D("9999-12-31"), NULL, out), -ERANGE);
}

static void assert_fulfils(const char *type, int n_want, const knoop_fulfilment_t *want)
{
    knoop_fulfilment_t out[KNOOP_FULFIL_MAX];
    const int n = knoop_deadlines_fulfilled_by(type, out);
    assert_int_equal(n, n_want);
    for (int i = 0; i < n_want; i++) {
        bool seen = false;
        for (int j = 0; j < n; j++)
            seen |= out[j].kind == want[i].kind && strcmp(out[j].trigger_type, want[i].trigger_type) == 0;
        if (!seen)
            fail_msg("%s should close %s of %s", type, knoop_expect_kind_name(want[i].kind), want[i].trigger_type);
    }
}

static void what_an_arriving_message_closes(void **state)
{
    (void)state;
    assert_fulfils("WMO302", 1, (knoop_fulfilment_t[]){{KNOOP_EXPECT_RETOUR, "WMO301"}});
    assert_fulfils("JW306", 1, (knoop_fulfilment_t[]){{KNOOP_EXPECT_RETOUR, "JW305"}});
    assert_fulfils("WMO320", 1, (knoop_fulfilment_t[]){{KNOOP_EXPECT_RETOUR, "WMO319"}});
    assert_fulfils("WMO301", 2,
                   (knoop_fulfilment_t[]){{KNOOP_EXPECT_ANSWER, "WMO315"}, {KNOOP_EXPECT_ANSWER, "WMO317"}});
    assert_fulfils("JW319", 2, (knoop_fulfilment_t[]){{KNOOP_EXPECT_ANSWER, "JW315"}, {KNOOP_EXPECT_ANSWER, "JW317"}});
    assert_fulfils("WMO325", 1, (knoop_fulfilment_t[]){{KNOOP_EXPECT_DECLARATION_ANSWER, "WMO323"}});
    /* A start or stop meets its own deadline on arrival; nothing open is closed by it. */
    assert_fulfils("WMO305", 0, NULL);
    assert_fulfils("JW307", 0, NULL);
    assert_fulfils("WMO323", 0, NULL);
    assert_fulfils("knoop.Referral", 0, NULL);
    knoop_fulfilment_t out[KNOOP_FULFIL_MAX];
    assert_int_equal(knoop_deadlines_fulfilled_by(NULL, out), -EINVAL);
}

/* For every message type of both standards: each open expectation is closed by each of its types, the
 * closing type names the kind and the trigger, and no message opens more than the arrays can hold. */
static void open_and_close_agree(void **state)
{
    (void)state;
    const char *standards[] = {"WMO", "JW"};
    const knoop_date_t day = D("2026-06-01");
    int total = 0;
    for (size_t s = 0; s < 2; s++) {
        for (int num = 0; num <= 999; num++) {
            char type[16];
            snprintf(type, sizeof type, "%s%03d", standards[s], num);
            knoop_expectation_t out[KNOOP_EXPECT_MAX];
            const int n = knoop_deadlines_for(type, day, &day, out);
            assert_true(n >= 0 && n < KNOOP_EXPECT_MAX); /* room to spare: nothing was cut off */
            for (int i = 0; i < n; i++) {
                if (out[i].from == KNOOP_FROM_SENDER)
                    continue;
                total++;
                assert_false(out[i].fulfilled);
                for (size_t t = 0; t < out[i].n_types; t++) {
                    assert_memory_equal(out[i].types[t], standards[s], strlen(standards[s]));
                    knoop_fulfilment_t f[KNOOP_FULFIL_MAX];
                    const int nf = knoop_deadlines_fulfilled_by(out[i].types[t], f);
                    assert_true(nf < KNOOP_FULFIL_MAX);
                    bool seen = false;
                    for (int j = 0; j < nf; j++)
                        seen |= f[j].kind == out[i].kind && strcmp(f[j].trigger_type, type) == 0;
                    assert_true(seen);
                }
            }
        }
    }
    assert_int_equal(total, 2 * 9); /* 6 retours, 2 answers, 1 declaration answer per standard */
}

static void overdue_after_the_due_day(void **state)
{
    (void)state;
    knoop_expectation_t out[KNOOP_EXPECT_MAX];
    assert_int_equal(knoop_deadlines_for("WMO301", D("2026-12-23"), NULL, out), 1);
    assert_false(knoop_expectation_overdue(&out[0], D("2026-12-29")));
    assert_true(knoop_expectation_overdue(&out[0], D("2026-12-30")));
    out[0].fulfilled = true;
    assert_false(knoop_expectation_overdue(&out[0], D("2026-12-30")));
}

static void kind_names(void **state)
{
    (void)state;
    assert_string_equal(knoop_expect_kind_name(KNOOP_EXPECT_RETOUR), "retour");
    assert_string_equal(knoop_expect_kind_name(KNOOP_EXPECT_ANSWER), "answer");
    assert_string_equal(knoop_expect_kind_name(KNOOP_EXPECT_DECLARATION_ANSWER), "declaration-answer");
    assert_string_equal(knoop_expect_kind_name(KNOOP_EXPECT_START_REPORTED), "start-reported");
    assert_string_equal(knoop_expect_kind_name(KNOOP_EXPECT_STOP_REPORTED), "stop-reported");
    assert_null(knoop_expect_kind_name((knoop_expect_kind_t)0));
    assert_null(knoop_expect_kind_name((knoop_expect_kind_t)99));
}

/* docs/deadlines.md, found from the repository root (tests/run.sh) or from build/tests/. */
static char *read_doc(void)
{
    const char *paths[] = {"docs/deadlines.md", "../docs/deadlines.md", "../../docs/deadlines.md"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        FILE *f = fopen(paths[i], "r");
        if (!f)
            continue;
        static char buf[64 * 1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        return buf;
    }
    fail_msg("docs/deadlines.md not found from the working directory");
    return NULL;
}

/* The numbers of 3 digits in s, in order ("301 or 319" -> 301, 319). */
static int numbers(const char *s, int *out, int max)
{
    int n = 0;
    for (const char *p = s; *p && n < max; p++)
        if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
            !isdigit((unsigned char)p[3]) && (p == s || !isdigit((unsigned char)p[-1])))
            out[n++] = atoi(p);
    return n;
}

/* House rule 8: the table in docs/deadlines.md says what the rule table does, row for row. Each row of the
 * doc ("| 301 toewijzing | retour | 302 | receiver of the 301 | 3 working days after receipt |") must be
 * one rule, and every rule must have its row. */
static void documented_rules_match_the_table(void **state)
{
    (void)state;
    char *doc = read_doc();
    char *section = strstr(doc, "## The rules");
    assert_non_null(section);
    char *end = strstr(section + 1, "\n## ");
    if (end)
        *end = '\0';
    bool matched[64] = {false};
    assert_true(knoop_deadline_rule_count() < 64);
    int rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(section, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "| 3", 3) != 0)
            continue;
        char *col[6] = {0};
        int ncol = 0;
        char *csave = NULL;
        for (char *c = strtok_r(line, "|", &csave); c && ncol < 6; c = strtok_r(NULL, "|", &csave))
            col[ncol++] = c;
        assert_int_equal(ncol, 5);
        int trigger[1], expected[KNOOP_EXPECT_TYPES_MAX + 1];
        assert_int_equal(numbers(col[0], trigger, 1), 1);
        const int nexp = numbers(col[2], expected, KNOOP_EXPECT_TYPES_MAX + 1);
        char kind[32];
        assert_int_equal(sscanf(col[1], " %31s", kind), 1);
        const knoop_expect_party_t from = strstr(col[3], "receiver") ? KNOOP_FROM_RECEIVER : KNOOP_FROM_SENDER;
        const int days = atoi(col[4]);
        const knoop_due_base_t base = strstr(col[4], "receipt") ? KNOOP_DUE_AFTER_RECEIPT : KNOOP_DUE_AFTER_EVENT;
        bool found = false;
        for (size_t i = 0; i < knoop_deadline_rule_count(); i++) {
            const knoop_deadline_rule_t *r = knoop_deadline_rule(i);
            int rn = 0;
            while (rn < KNOOP_EXPECT_TYPES_MAX && r->expected[rn])
                rn++;
            if (r->trigger != trigger[0] || strcmp(knoop_expect_kind_name(r->kind), kind) != 0 || r->from != from ||
                r->working_days != days || r->base != base || rn != nexp ||
                memcmp(r->expected, expected, (size_t)rn * sizeof(int)) != 0)
                continue;
            assert_false(matched[i]);
            matched[i] = found = true;
        }
        if (!found)
            fail_msg("docs/deadlines.md row for %d %s is not in the rule table", trigger[0], kind);
        rows++;
    }
    assert_int_equal(rows, (int)knoop_deadline_rule_count());
    assert_null(knoop_deadline_rule(knoop_deadline_rule_count()));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retour_in_three_working_days),     cmocka_unit_test(answer_after_assignment_request),
        cmocka_unit_test(answer_after_change_request),      cmocka_unit_test(start_within_five_after_start_date),
        cmocka_unit_test(stop_within_five_after_stop_date), cmocka_unit_test(start_without_event_date),
        cmocka_unit_test(declaration_answer_in_ten),        cmocka_unit_test(messages_without_rules),
        cmocka_unit_test(what_an_arriving_message_closes),  cmocka_unit_test(open_and_close_agree),
        cmocka_unit_test(overdue_after_the_due_day),        cmocka_unit_test(kind_names),
        cmocka_unit_test(documented_rules_match_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
