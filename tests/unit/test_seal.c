/* test_seal.c — the pieces of client data at rest and in delivery: a sealed value opens only with its key and for its
 * row; key check values tell keys apart; key files are read only when private and made 0600 whatever the umask; the
 * client reference a party is shown differs per party and is stable; the delivered envelope's reference is rewritten
 * in place and nothing else of it changes. */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/keyfile.h"
#include "base/pseudonym.h"
#include "base/seal.h"
#include "deliver/party_ref.h"
#include "knoop.pb-c.h"

static const uint8_t key_a[32] = {1}, key_b[32] = {2};

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

static void sealed_value_opens_only_with_its_key_and_row(void **state)
{
    (void)state;
    knoop_seal_buf_t sb = {0}, ob = {0};
    static const char plain[] = "<Bsn>123456782</Bsn>";
    const uint8_t *sealed, *opened;
    size_t slen, olen;
    assert_int_equal(knoop_seal(&sb, key_a, "row-1", 5, plain, sizeof plain, &sealed, &slen), 0);
    assert_int_equal(slen, sizeof plain + KNOOP_SEAL_OVERHEAD);
    assert_true(knoop_is_sealed(sealed, slen));
    assert_false(contains(sealed, slen, "123456782")); /* nothing of the plain text shows */
    uint8_t copy[256];
    memcpy(copy, sealed, slen);
    assert_int_equal(knoop_unseal(&ob, key_a, "row-1", 5, copy, slen, &opened, &olen), 0);
    assert_int_equal(olen, sizeof plain);
    assert_memory_equal(opened, plain, olen);
    assert_int_equal(knoop_unseal(&ob, key_b, "row-1", 5, copy, slen, &opened, &olen), -EBADMSG); /* another key */
    assert_int_equal(knoop_unseal(&ob, key_a, "row-2", 5, copy, slen, &opened, &olen), -EBADMSG); /* another row */
    copy[slen - 1] ^= 1;
    assert_int_equal(knoop_unseal(&ob, key_a, "row-1", 5, copy, slen, &opened, &olen), -EBADMSG); /* tampered */
    /* A plain packed envelope is not taken for a sealed one. */
    static const uint8_t envelope[] = {0x0a, 0x03, 'a', 'b', 'c'};
    assert_false(knoop_is_sealed(envelope, sizeof envelope));
    assert_int_equal(knoop_unseal(&ob, key_a, "row-1", 5, envelope, sizeof envelope, &opened, &olen), -EBADMSG);
    /* Two seals of the same value differ (a fresh nonce each). */
    uint8_t first[256];
    memcpy(first, sealed, slen);
    assert_int_equal(knoop_seal(&sb, key_a, "row-1", 5, plain, sizeof plain, &sealed, &slen), 0);
    assert_memory_not_equal(first, sealed, slen);
    knoop_seal_buf_free(&sb);
    knoop_seal_buf_free(&ob);
}

static void check_values_tell_keys_and_purposes_apart(void **state)
{
    (void)state;
    char a[65], a2[65], b[65], p[65];
    knoop_key_check_value(key_a, "data", a);
    knoop_key_check_value(key_a, "data", a2);
    knoop_key_check_value(key_b, "data", b);
    knoop_key_check_value(key_a, "pseudonym", p);
    assert_int_equal(strlen(a), 64);
    assert_string_equal(a, a2);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, p);
}

static void key_files_must_be_private(void **state)
{
    (void)state;
    char dir[] = "/tmp/knoop-seal-XXXXXX", path[128], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/keys/sub/data.key", dir);
    uint8_t key[32], again[32];
    assert_int_equal(knoop_keyfile_read(path, key, err, sizeof err), -ENOENT);
    mode_t old = umask(022); /* a careless umask: the key and its directories are private all the same */
    assert_int_equal(knoop_keyfile_create(path, key, err, sizeof err), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char keys[128];
    snprintf(keys, sizeof keys, "%s/keys", dir);
    assert_int_equal(stat(keys, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(knoop_keyfile_read(path, again, err, sizeof err), 0);
    assert_memory_equal(key, again, 32);
    assert_int_equal(knoop_keyfile_create(path, again, err, sizeof err), -EEXIST); /* never over a key */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(knoop_keyfile_read(path, again, err, sizeof err), -EPERM);
    assert_non_null(strstr(err, "0640"));
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(knoop_keyfile_read(path, again, err, sizeof err), -EPERM);
    assert_int_equal(chmod(path, 0600), 0);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputc(0, f);
    fclose(f);
    assert_int_equal(knoop_keyfile_read(path, again, err, sizeof err), -EINVAL); /* 33 bytes */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(keys), -1); /* not empty: sub */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/keys/sub", dir);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(keys), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void party_refs_differ_per_party_and_are_stable(void **state)
{
    (void)state;
    uint8_t internal[32], a1[32], a2[32], b[32], other_key[32];
    knoop_client_ref_of_bsn(key_a, "123456782", 9, internal);
    knoop_client_ref_for_party(key_a, internal, "99990001", a1);
    knoop_client_ref_for_party(key_a, internal, "99990001", a2);
    knoop_client_ref_for_party(key_a, internal, "0917", b);
    knoop_client_ref_for_party(key_b, internal, "99990001", other_key);
    assert_memory_equal(a1, a2, 32);
    assert_memory_not_equal(a1, b, 32);
    assert_memory_not_equal(a1, internal, 32);
    assert_memory_not_equal(a1, other_key, 32);
}

static void delivered_envelope_has_only_its_client_ref_rewritten(void **state)
{
    (void)state;
    uint8_t ref[32], seen[32];
    knoop_client_ref_of_bsn(key_a, "123456782", 9, ref);
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = "99990001";
    env.receiver = "0917";
    env.kind = KNOOP__KIND__REFERRAL;
    env.message_id = "0123456789abcdef0123456789abcdef";
    env.client_ref.data = ref;
    env.client_ref.len = sizeof ref;
    static uint8_t payload[3000]; /* a long payload: its length is a multi-byte varint */
    memset(payload, 'x', sizeof payload);
    env.payload.data = payload;
    env.payload.len = sizeof payload;
    env.accepted_at_us = 1700000000000000;
    size_t len = knoop__envelope__get_packed_size(&env);
    uint8_t *packed = malloc(len), *out = malloc(len);
    assert_non_null(packed);
    assert_non_null(out);
    knoop__envelope__pack(&env, packed);
    long at = knoop_envelope_client_ref_at(packed, len);
    assert_true(at > 0);
    assert_memory_equal(packed + at, ref, 32);
    knoop_envelope_for_party(key_a, "0917", packed, len, at, out);
    Knoop__Envelope *got = knoop__envelope__unpack(NULL, len, out);
    assert_non_null(got);
    knoop_client_ref_for_party(key_a, ref, "0917", seen);
    assert_int_equal(got->client_ref.len, 32);
    assert_memory_equal(got->client_ref.data, seen, 32);
    assert_string_equal(got->message_id, env.message_id);
    assert_int_equal(got->payload.len, sizeof payload);
    assert_int_equal(got->accepted_at_us, env.accepted_at_us);
    knoop__envelope__free_unpacked(got, NULL);
    /* No client: nothing to rewrite; a truncated envelope: not parsed. */
    env.client_ref.len = 0;
    size_t n = knoop__envelope__pack(&env, packed);
    assert_int_equal(knoop_envelope_client_ref_at(packed, n), -1);
    assert_int_equal(knoop_envelope_client_ref_at(packed, 20), -1);
    free(packed);
    free(out);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sealed_value_opens_only_with_its_key_and_row),
        cmocka_unit_test(check_values_tell_keys_and_purposes_apart),
        cmocka_unit_test(key_files_must_be_private),
        cmocka_unit_test(party_refs_differ_per_party_and_are_stable),
        cmocka_unit_test(delivered_envelope_has_only_its_client_ref_rewritten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
