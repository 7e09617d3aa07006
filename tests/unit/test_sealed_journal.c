/* test_sealed_journal.c — the journal with its keys: a message's envelope is sealed on disk and opens on every read
 * path (delivery's range and single reads, the operator's decision read); an envelope copied to another row does
 * not open; a journal refuses another data or pseudonymisation key; a journal written before sealing existed is
 * sealed in place when it first gets a key; the writer deletes with secure_delete on. */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/decisions.h"
#include "store/entries.h"
#include "store/journal.h"
#include "journal_test_util.h"
#include "store/journal_sql.h"
#include "store/ledger.h"
#include "store/messages.h"

static const uint8_t data_key[32] = {7, 7, 7}, other_key[32] = {8}, pseudonym_key[32] = {9};
static const char secret[] = "<Bsn>123456782</Bsn><Achternaam>Vandermeulenbroek</Achternaam>";

typedef struct fixture {
    char dir[64], path[128];
    uv_loop_t loop;
    knoop_journal_t *j;
} fixture_t;

static int open_rotating(fixture_t *fx, const uint8_t *dkey, const uint8_t *previous, const uint8_t *pkey, char *err,
                         size_t errlen)
{
    knoop_journal_options_t opt = {.path = fx->path,
                                   .batch_max = 64,
                                   .checkpoint_pages = 1000,
                                   .data_key = dkey,
                                   .data_key_previous = previous,
                                   .pseudonym_key = pkey};
    return knoop_journal_open(&opt, &fx->loop, fx, &fx->j, err, errlen);
}

static int open_with(fixture_t *fx, const uint8_t *dkey, const uint8_t *pkey, char *err, size_t errlen)
{
    return open_rotating(fx, dkey, NULL, pkey, err, errlen);
}

static void close_journal(fixture_t *fx)
{
    knoop_journal_close(&fx->j);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/knoop-sealed-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/knoop.db", fx->dir);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    char err[512];
    if (open_with(fx, data_key, pseudonym_key, err, sizeof err) != 0)
        fail_msg("open: %s", err);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    if (fx->j)
        close_journal(fx);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* Two messages with the secret in their envelope, on stream 1. */
static int insert_two(knoop_jtx_t *tx, void *arg)
{
    (void)arg;
    static const char *const ids[] = {"0000000000000000000000000000000a", "0000000000000000000000000000000b"};
    for (int i = 0; i < 2; i++) {
        knoop_store_message_t m = {.message_id = ids[i],
                                   .sender = "99990001",
                                   .publisher = "99990001",
                                   .receiver = "1883",
                                   .kind = 2,
                                   .message_type = "WMO301",
                                   .identificatie = i ? "B" : "A",
                                   .accepted_us = 1,
                                   .route = "test",
                                   .envelope = (const uint8_t *)secret,
                                   .envelope_len = sizeof secret};
        uint64_t seq;
        int rc = knoop_store_message_insert(tx, &m, &seq);
        if (rc != 1 || knoop_store_entry_add(tx, 1, seq) != 0)
            return -EIO;
    }
    return 0;
}

static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f), m = strlen(needle);
    fclose(f);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(buf + i, needle, m) == 0)
            return true;
    return false;
}

typedef struct seen {
    int rows;
    bool all_plain;
} seen_t;

static int see(void *ctx, uint64_t seq, const void *env, size_t len)
{
    (void)seq;
    seen_t *s = ctx;
    s->rows++;
    s->all_plain &= len == sizeof secret && memcmp(env, secret, len) == 0;
    return 0;
}

static void see_decision(void *ctx, const knoop_store_decision_t *d)
{
    seen_t *s = ctx;
    s->rows++;
    s->all_plain &= d->envelope_len == sizeof secret && memcmp(d->envelope, secret, sizeof secret) == 0;
}

static void envelopes_are_sealed_on_disk_and_open_on_every_read(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(in_tx(&fx->loop, fx->j, insert_two, NULL), 0);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", fx->path);
    assert_false(file_contains(wal, "123456782"));
    assert_false(file_contains(wal, "Vandermeulenbroek"));
    knoop_store_entries_t *r;
    assert_int_equal(knoop_store_entries_open(fx->j, &r), 0);
    seen_t s = {0, true};
    assert_int_equal(knoop_store_entries_read(r, 1, 1, 10, see, &s), 0);
    assert_int_equal(s.rows, 2);
    assert_int_equal(knoop_store_entries_envelope(r, 2, see, &s), 0);
    assert_int_equal(s.rows, 3);
    char err[256];
    assert_int_equal(knoop_store_decision_get(fx->j, 1, see_decision, &s, err, sizeof err), 0);
    assert_int_equal(s.rows, 4);
    assert_true(s.all_plain);
    knoop_store_entries_close(&r);
    close_journal(fx); /* the final checkpoint writes the pages into knoop.db itself */
    assert_false(file_contains(fx->path, "123456782"));
    assert_false(file_contains(fx->path, "Vandermeulenbroek"));
}

static int copy_envelope(knoop_jtx_t *tx, void *arg)
{
    (void)arg;
    return sqlite3_exec(knoop_jtx_db(tx),
                        "UPDATE messages SET envelope = (SELECT envelope FROM messages WHERE seq = 2) WHERE seq = 1",
                        NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -EIO;
}

static void an_envelope_moved_to_another_row_does_not_open(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(in_tx(&fx->loop, fx->j, insert_two, NULL), 0);
    assert_int_equal(in_tx(&fx->loop, fx->j, copy_envelope, NULL), 0);
    knoop_store_entries_t *r;
    assert_int_equal(knoop_store_entries_open(fx->j, &r), 0);
    seen_t s = {0, true};
    assert_int_equal(knoop_store_entries_envelope(r, 1, see, &s), -EIO);
    assert_int_equal(knoop_store_entries_envelope(r, 2, see, &s), 0);
    knoop_store_entries_close(&r);
    char err[256];
    assert_int_equal(knoop_store_decision_get(fx->j, 1, see_decision, &s, err, sizeof err), -EIO);
    assert_non_null(strstr(err, "does not open"));
}

static void another_key_is_refused(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(in_tx(&fx->loop, fx->j, insert_two, NULL), 0);
    close_journal(fx);
    char err[512];
    knoop_journal_facts_t facts;
    assert_int_equal(knoop_journal_inspect(fx->path, &facts, err, sizeof err), 0);
    assert_true(facts.exists && facts.has_data && facts.data_key_known && facts.pseudonym_key_known);
    assert_int_equal(open_with(fx, other_key, pseudonym_key, err, sizeof err), -EKEYREJECTED);
    assert_non_null(strstr(err, "data key"));
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(open_with(fx, data_key, other_key, err, sizeof err), -EKEYREJECTED);
    assert_non_null(strstr(err, "pseudonymisation key"));
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(open_with(fx, data_key, pseudonym_key, err, sizeof err), 0);
    /* No file at all: nothing depends on any key. */
    char none[160];
    snprintf(none, sizeof none, "%s/none.db", fx->dir);
    assert_int_equal(knoop_journal_inspect(none, &facts, err, sizeof err), 0);
    assert_false(facts.exists || facts.has_data || facts.data_key_known);
}

/* What a journal of before sealing holds: a plain envelope and a plain ledger set, and no key check values. */
static int write_plain(knoop_jtx_t *tx, void *arg)
{
    (void)arg;
    sqlite3_stmt *st;
    sqlite3 *db = knoop_jtx_db(tx);
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO messages(seq, message_id, sender, publisher, receiver, kind, message_type, "
            "identificatie, accepted_us, envelope) VALUES(1, 'm1', 'a', 'a', 'b', 2, 'WMO301', 'P', 1, ?)",
            -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_blob(st, 1, secret, sizeof secret, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(st);
    if (rc == 0)
        rc = sqlite3_exec(db,
                          "INSERT INTO stream_entries VALUES(1, 1);"
                          "INSERT INTO ledger VALUES(x'01', '99990001', 'KL1\n101\t01\t01A01', 1);"
                          "DELETE FROM meta WHERE key IN ('data_key_check', 'pseudonym_key_check');",
                          NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -EIO;
    return rc;
}

/* One ledger set, sealed through the store as a 301 writes it. */
static int write_ledger(knoop_jtx_t *tx, void *arg)
{
    (void)arg;
    static const uint8_t ref[32] = {5};
    return knoop_store_ledger_put(tx, ref, sizeof ref, "99990001", (const uint8_t *)"KL1\n101\t01\t01A01", 16, 1);
}

static int see_ledger(void *arg, const uint8_t *ref, size_t ref_len, const char *provider, const uint8_t *blob,
                      size_t len)
{
    (void)ref, (void)ref_len, (void)provider;
    seen_t *s = arg;
    s->rows++;
    s->all_plain &= len == 16 && memcmp(blob, "KL1\n101\t01\t01A01", 16) == 0;
    return 0;
}

static void a_journal_from_before_sealing_is_sealed_in_place(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(in_tx(&fx->loop, fx->j, write_plain, NULL), 0);
    close_journal(fx);
    char err[512];
    knoop_journal_facts_t facts;
    assert_int_equal(knoop_journal_inspect(fx->path, &facts, err, sizeof err), 0);
    assert_true(facts.has_data && !facts.data_key_known && !facts.pseudonym_key_known);
    assert_int_equal(open_with(fx, data_key, pseudonym_key, err, sizeof err), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(knoop_journal_reader(fx->j),
                                        "SELECT envelope FROM messages UNION ALL SELECT assignments FROM ledger", -1,
                                        &st, NULL),
                     SQLITE_OK);
    int sealed = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        sealed += knoop_is_sealed(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    assert_int_equal(sealed, 2);
    knoop_store_entries_t *r;
    assert_int_equal(knoop_store_entries_open(fx->j, &r), 0);
    seen_t s = {0, true};
    assert_int_equal(knoop_store_entries_envelope(r, 1, see, &s), 0);
    knoop_store_entries_close(&r);
    assert_int_equal(knoop_store_ledger_each(fx->j, see_ledger, &s, err, sizeof err), 0);
    assert_int_equal(s.rows, 2);
    assert_true(s.all_plain);
}

static void the_data_key_rotates_under_the_previous_one(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(in_tx(&fx->loop, fx->j, insert_two, NULL), 0);
    assert_int_equal(in_tx(&fx->loop, fx->j, write_ledger, NULL), 0);
    close_journal(fx);
    char err[512];
    /* A previous key that is not the journal's changes nothing. */
    assert_int_equal(open_rotating(fx, other_key, pseudonym_key, pseudonym_key, err, sizeof err), -EKEYREJECTED);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(open_rotating(fx, other_key, data_key, pseudonym_key, err, sizeof err), 0);
    knoop_store_entries_t *r;
    assert_int_equal(knoop_store_entries_open(fx->j, &r), 0);
    seen_t s = {0, true};
    assert_int_equal(knoop_store_entries_read(r, 1, 1, 10, see, &s), 0);
    knoop_store_entries_close(&r);
    assert_int_equal(s.rows, 2);
    assert_true(s.all_plain);
    seen_t l = {0, true};
    assert_int_equal(knoop_store_ledger_each(fx->j, see_ledger, &l, err, sizeof err), 0);
    assert_int_equal(l.rows, 1);
    assert_true(l.all_plain);
    close_journal(fx);
    assert_int_equal(open_with(fx, data_key, pseudonym_key, err, sizeof err), -EKEYREJECTED); /* the old key: no more */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(open_with(fx, other_key, pseudonym_key, err, sizeof err), 0);
}

static int read_secure_delete(knoop_jtx_t *tx, void *arg)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_jtx_db(tx), "PRAGMA secure_delete", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    *(int *)arg = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return 0;
}

static void the_writer_deletes_securely(void **state)
{
    fixture_t *fx = *state;
    int on = -1;
    assert_int_equal(in_tx(&fx->loop, fx->j, read_secure_delete, &on), 0);
    assert_int_equal(on, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(envelopes_are_sealed_on_disk_and_open_on_every_read, setup, teardown),
        cmocka_unit_test_setup_teardown(an_envelope_moved_to_another_row_does_not_open, setup, teardown),
        cmocka_unit_test_setup_teardown(another_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_journal_from_before_sealing_is_sealed_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(the_data_key_rotates_under_the_previous_one, setup, teardown),
        cmocka_unit_test_setup_teardown(the_writer_deletes_securely, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
