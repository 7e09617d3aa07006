/* journal_keys.c — the journal and its keys. The meta table keeps a check value of the data key and of the
 * pseudonymisation key, so a start with a missing or another key is refused with a clear message instead of sealing
 * new rows under a key the old ones do not open with (or making client references that match nothing). A journal
 * written before payloads were sealed has its envelopes and ledger sets sealed in place when it first gets a key. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "base/log.h"
#include "store/journal_sql.h"
#include "store/sql_errno.h"

#define DATA_CHECK      "data_key_check"
#define PSEUDONYM_CHECK "pseudonym_key_check"
#define SEAL_CHUNK      256 /* envelopes read per statement while sealing an older journal */

static int fail(sqlite3 *db, int rc, const char *path, const char *what, char *errbuf, size_t errlen)
{
    snprintf(errbuf, errlen, "%s: %s: %s", path, what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    int e = knoop_sql_errno(rc);
    return e ? e : -EIO;
}

/* 1 and the value in out, 0 when the key is not in meta, or a SQLite error code (negated). */
static int meta_get(sqlite3 *db, const char *key, char *out, size_t len)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW;
    if (found)
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return found ? 1 : rc == SQLITE_DONE ? 0 : -rc;
}

static int meta_put(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int knoop_journal_inspect(const char *path, knoop_journal_facts_t *out, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat fst;
    if (stat(path, &fst) != 0) {
        if (errno == ENOENT)
            return 0;
        int e = errno;
        snprintf(errbuf, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    out->exists = true;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(db, 10000);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    int version = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK && version > 0) { /* version 0: no tables yet, nothing in it */
        char value[80];
        int got = meta_get(db, DATA_CHECK, value, sizeof value);
        out->data_key_known = got == 1;
        if (got >= 0) {
            got = meta_get(db, PSEUDONYM_CHECK, value, sizeof value);
            out->pseudonym_key_known = got == 1;
        }
        rc = got < 0 ? -got : SQLITE_OK;
        if (rc == SQLITE_OK)
            rc = sqlite3_prepare_v2(db,
                                    "SELECT EXISTS(SELECT 1 FROM messages) OR EXISTS(SELECT 1 FROM ledger) OR "
                                    "EXISTS(SELECT 1 FROM route_state)",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            out->has_data = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
            rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
            sqlite3_finalize(st);
        }
    }
    int e = 0;
    if (rc != SQLITE_OK)
        e = fail(db, rc, path, "reading the journal", errbuf, errlen);
    sqlite3_close(db); /* closes a failed open's handle too */
    return e;
}

/* The value to seal anew: a plain one as it is; with prev (a rotation), a sealed one opened under prev. Copies it to
 * *copy (malloc'ed). 0, 1 (sealed under the current key already: nothing to do), SQLITE_NOMEM, or SQLITE_CORRUPT
 * (sealed, and prev does not open it). */
static int value_to_seal(const uint8_t *prev, knoop_seal_buf_t *open_buf, const void *ad, size_t adlen,
                         const void *value, size_t len, uint8_t **copy, size_t *copy_len)
{
    const uint8_t *plain = value;
    if (knoop_is_sealed(value, len)) {
        if (!prev)
            return 1;
        if (knoop_unseal(open_buf, prev, ad, adlen, value, len, &plain, &len) != 0)
            return SQLITE_CORRUPT;
    }
    if (!(*copy = malloc(len ? len : 1)))
        return SQLITE_NOMEM;
    if (len)
        memcpy(*copy, plain, len);
    *copy_len = len;
    return 0;
}

/* Seals, in place, every envelope stored before sealing existed (a plain packed envelope), or with prev every
 * envelope sealed under the previous key (a rotation). */
static int seal_envelopes(sqlite3 *db, const uint8_t *key, const uint8_t *prev, knoop_seal_buf_t *buf, uint64_t *sealed)
{
    knoop_seal_buf_t open_buf = {0};
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT seq, message_id, envelope FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
                                -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "UPDATE messages SET envelope = ? WHERE seq = ?", -1, &upd, NULL);
    int64_t after = 0;
    bool more = true;
    while (rc == SQLITE_OK && more) {
        /* A chunk at a time: the rows are copied out before any of them is updated under the running SELECT. */
        int64_t seqs[SEAL_CHUNK];
        char ids[SEAL_CHUNK][40];
        uint8_t *plain[SEAL_CHUNK];
        size_t lens[SEAL_CHUNK], n = 0, read = 0;
        sqlite3_bind_int64(sel, 1, after);
        sqlite3_bind_int(sel, 2, SEAL_CHUNK);
        while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
            read++;
            after = sqlite3_column_int64(sel, 0);
            snprintf(ids[n], sizeof ids[n], "%s", (const char *)sqlite3_column_text(sel, 1));
            int v = value_to_seal(prev, &open_buf, ids[n], strlen(ids[n]), sqlite3_column_blob(sel, 2),
                                  (size_t)sqlite3_column_bytes(sel, 2), &plain[n], &lens[n]);
            if (v == 1)
                continue;
            if (v != 0) {
                rc = v;
                break;
            }
            seqs[n++] = after;
        }
        sqlite3_reset(sel);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        more = read == SEAL_CHUNK;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *out;
            size_t outlen;
            if (rc == SQLITE_OK && knoop_seal(buf, key, ids[i], strlen(ids[i]), plain[i], lens[i], &out, &outlen) != 0)
                rc = SQLITE_NOMEM;
            if (rc == SQLITE_OK) {
                sqlite3_bind_blob(upd, 1, out, (int)outlen, SQLITE_STATIC);
                sqlite3_bind_int64(upd, 2, seqs[i]);
                rc = sqlite3_step(upd) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
                sqlite3_reset(upd);
                (*sealed)++;
            }
            free(plain[i]);
        }
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    knoop_seal_buf_free(&open_buf);
    return rc;
}

size_t knoop_ledger_seal_ad(const uint8_t *client_ref, size_t client_ref_len, const char *provider, uint8_t *out)
{
    size_t n = 0, plen = strnlen(provider, 63);
    memcpy(out, "ledger", 6);
    n += 6;
    if (client_ref_len > 32)
        client_ref_len = 32;
    out[n++] = (uint8_t)client_ref_len;
    memcpy(out + n, client_ref, client_ref_len);
    n += client_ref_len;
    memcpy(out + n, provider, plen);
    return n + plen;
}

/* Seals, in place, every ledger set stored before sealing existed, or with prev every set sealed under the previous
 * key. The table holds one row per client x provider: read whole, then rewritten. */
static int seal_ledger(sqlite3 *db, const uint8_t *key, const uint8_t *prev, knoop_seal_buf_t *buf, uint64_t *sealed)
{
    knoop_seal_buf_t open_buf = {0};
    typedef struct row {
        uint8_t ref[32];
        size_t ref_len;
        char provider[64];
        uint8_t *blob;
        size_t len;
    } row_t;
    row_t *rows = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT client_ref, provider, assignments FROM ledger", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t ref_len = (size_t)sqlite3_column_bytes(st, 0);
        if (ref_len > 32) {
            rc = SQLITE_OK;
            continue;
        }
        if (n == cap) {
            row_t *more = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof *rows);
            if (!more) {
                rc = SQLITE_NOMEM;
                break;
            }
            rows = more;
        }
        row_t *r = &rows[n];
        r->ref_len = ref_len;
        memcpy(r->ref, sqlite3_column_blob(st, 0), ref_len);
        snprintf(r->provider, sizeof r->provider, "%s", (const char *)sqlite3_column_text(st, 1));
        uint8_t ad[128];
        size_t adlen = knoop_ledger_seal_ad(r->ref, r->ref_len, r->provider, ad);
        int v = value_to_seal(prev, &open_buf, ad, adlen, sqlite3_column_blob(st, 2),
                              (size_t)sqlite3_column_bytes(st, 2), &r->blob, &r->len);
        rc = SQLITE_OK;
        if (v == 1)
            continue;
        if (v != 0) {
            rc = v;
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    if (rc == SQLITE_OK && n)
        rc = sqlite3_prepare_v2(db, "UPDATE ledger SET assignments = ? WHERE client_ref = ? AND provider = ?", -1, &st,
                                NULL);
    for (size_t i = 0; i < n; i++) {
        uint8_t ad[128];
        size_t adlen = knoop_ledger_seal_ad(rows[i].ref, rows[i].ref_len, rows[i].provider, ad);
        const uint8_t *out;
        size_t outlen;
        if (rc == SQLITE_OK && knoop_seal(buf, key, ad, adlen, rows[i].blob, rows[i].len, &out, &outlen) != 0)
            rc = SQLITE_NOMEM;
        if (rc == SQLITE_OK) {
            sqlite3_bind_blob(st, 1, out, (int)outlen, SQLITE_STATIC);
            sqlite3_bind_blob(st, 2, rows[i].ref, (int)rows[i].ref_len, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, rows[i].provider, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
            sqlite3_reset(st);
            (*sealed)++;
        }
        free(rows[i].blob);
    }
    sqlite3_finalize(st);
    free(rows);
    knoop_seal_buf_free(&open_buf);
    return rc;
}

/* Compares key's check value with the stored one, or stores it. 0, 1 (stored now: the key is new to this journal),
 * or -EKEYREJECTED / a negated SQLite code. */
static int check_key(sqlite3 *db, const char *name, const uint8_t *key, const char *purpose)
{
    char want[65], have[80];
    knoop_key_check_value(key, purpose, want);
    int got = meta_get(db, name, have, sizeof have);
    if (got < 0)
        return got;
    if (got == 1)
        return strcmp(have, want) == 0 ? 0 : -EKEYREJECTED;
    int rc = meta_put(db, name, want);
    return rc == SQLITE_OK ? 1 : -rc;
}

/* Is key the one whose check value meta holds for name? */
static bool is_stored_key(sqlite3 *db, const char *name, const uint8_t *key, const char *purpose)
{
    char want[65], have[80];
    knoop_key_check_value(key, purpose, want);
    return meta_get(db, name, have, sizeof have) == 1 && strcmp(have, want) == 0;
}

int knoop_journal_bind_keys(sqlite3 *db, const char *path, const uint8_t *data_key, const uint8_t *previous_key,
                            const uint8_t *pseudonym_key, char *errbuf, size_t errlen)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(db, rc, path, "binding the keys", errbuf, errlen);
    knoop_seal_buf_t buf = {0};
    uint64_t envelopes = 0, ledger = 0;
    bool rekeyed = false;
    int e = check_key(db, DATA_CHECK, data_key, "data");
    if (e == -EKEYREJECTED && previous_key && is_stored_key(db, DATA_CHECK, previous_key, "data")) {
        /* A rotation: every value sealed under the previous key is sealed anew under the current one, and the
         * journal takes the current key's check value, all in this one transaction. */
        rc = seal_envelopes(db, data_key, previous_key, &buf, &envelopes);
        if (rc == SQLITE_OK)
            rc = seal_ledger(db, data_key, previous_key, &buf, &ledger);
        if (rc == SQLITE_OK) {
            char cv[65];
            knoop_key_check_value(data_key, "data", cv);
            rc = meta_put(db, DATA_CHECK, cv);
        }
        e = rc == SQLITE_OK ? 0
            : rc == SQLITE_CORRUPT
                ? (snprintf(errbuf, errlen,
                            "%s: a stored value does not open under data_key_previous_file: nothing "
                            "was changed",
                            path),
                   -EBADMSG)
                : fail(db, rc, path, "sealing the stored payloads under the new data key", errbuf, errlen);
        rekeyed = e == 0;
    } else if (e == -EKEYREJECTED) {
        snprintf(errbuf, errlen,
                 "%s: the data key (data_key_file) is not the key this journal's payloads were sealed with; start "
                 "with that key (see docs/operations.md: keys and their backups)",
                 path);
    } else if (e == 1) { /* first key of this journal: what it holds from before sealing existed is sealed now */
        rc = seal_envelopes(db, data_key, NULL, &buf, &envelopes);
        if (rc == SQLITE_OK)
            rc = seal_ledger(db, data_key, NULL, &buf, &ledger);
        e = rc == SQLITE_OK ? 0 : fail(db, rc, path, "sealing the stored payloads", errbuf, errlen);
    } else if (e < 0) {
        e = fail(db, -e, path, "the data key's check value", errbuf, errlen);
    } else if (previous_key) { /* e == 0: the current key is the journal's; the rotation is done already */
        knoop_log_warn("journal.previous_key_unused",
                       "advice=\"the journal is sealed under data_key_file already: remove data_key_previous_file "
                       "from the configuration and destroy that key once no backup needs it\"");
    }
    if (e == 0 && pseudonym_key) {
        e = check_key(db, PSEUDONYM_CHECK, pseudonym_key, "pseudonym");
        if (e == -EKEYREJECTED)
            snprintf(errbuf, errlen,
                     "%s: the pseudonymisation key (pseudonym_key_file) is not the key this journal's client "
                     "references were made with: with it, no client would match its ledger, route state or "
                     "expectations; start with that key (see docs/operations.md)",
                     path);
        else if (e < 0)
            e = fail(db, -e, path, "the pseudonymisation key's check value", errbuf, errlen);
        else
            e = 0;
    }
    knoop_seal_buf_free(&buf);
    if (e == 0 && (rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        e = fail(db, rc, path, "binding the keys", errbuf, errlen);
    if (e != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* nothing to undo when COMMIT already ended it */
        return e;
    }
    if (rekeyed)
        knoop_log_warn("journal.rekeyed",
                       "envelopes=%llu ledger_sets=%llu advice=\"sealed under the new data key; remove "
                       "data_key_previous_file from the configuration and destroy that key once no backup needs it\"",
                       (unsigned long long)envelopes, (unsigned long long)ledger);
    else if (envelopes || ledger)
        knoop_log_info("journal.sealed_in_place", "envelopes=%llu ledger_sets=%llu", (unsigned long long)envelopes,
                       (unsigned long long)ledger);
    return 0;
}
