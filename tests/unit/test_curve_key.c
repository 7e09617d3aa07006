/* test_curve_key.c — CURVE key files (base/curve_key.h) and the client key directory (config/clients.h): the
 * certificate format as ZeroMQ's tools write it, the mode a secret key needs, the fingerprint, and every way a key
 * directory can be wrong. Works in a fresh directory under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/curve_key.h"
#include "config/clients.h"

/* From ZeroMQ's RFC 26 example (a public key, so fine in a test). */
#define RFC_KEY    "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define RFC_KEY_FP "a04e20ef963461f8" /* BLAKE2b-256 of its 32 bytes, first 8 bytes: as Python's hashlib says */

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/knoop-test-keys-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, mode_t mode, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* A path in the test directory (two may be used in one call: the buffers alternate). */
static const char *at(const char *name)
{
    static char paths[2][256];
    static int next;
    char *path = paths[next++ % 2];
    snprintf(path, 256, "%s/%s", dir, name);
    return path;
}

static void fingerprint_and_shape(void **state)
{
    (void)state;
    char fp[KNOOP_CURVE_FINGERPRINT_LEN + 1];
    assert_true(knoop_curve_key_valid(RFC_KEY));
    assert_int_equal(knoop_curve_fingerprint(RFC_KEY, fp), 0);
    assert_string_equal(fp, RFC_KEY_FP);
    assert_false(knoop_curve_key_valid("short"));
    assert_false(knoop_curve_key_valid("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\"")); /* '"' is not Z85 */
    assert_int_equal(knoop_curve_fingerprint("short", fp), -EINVAL);
}

static void generated_pair_reads_back(void **state)
{
    (void)state;
    char pub[KNOOP_CURVE_KEY_LEN + 1], err[512];
    assert_int_equal(knoop_curve_keypair_generate(at("a"), pub, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(at("a.key"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(at("a.pub"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    knoop_curve_keyfile_t k;
    assert_int_equal(knoop_curve_keyfile_read(at("a.key"), true, &k, err, sizeof err), 0);
    assert_string_equal(k.public_key, pub);
    assert_true(knoop_curve_key_valid(k.secret_key));
    assert_int_equal(knoop_curve_keyfile_read(at("a.key"), false, &k, err, sizeof err), 0);
    assert_true(k.had_secret);
    assert_string_equal(k.secret_key, ""); /* not asked for: not kept */
    assert_int_equal(knoop_curve_keyfile_read(at("a.pub"), false, &k, err, sizeof err), 0);
    assert_false(k.had_secret);
    assert_int_equal(knoop_curve_keyfile_read(at("a.pub"), true, &k, err, sizeof err), -EACCES); /* 0644 */
    chmod(at("a.pub"), 0600);
    assert_int_equal(knoop_curve_keyfile_read(at("a.pub"), true, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "no valid secret-key"));
    /* never over an existing pair */
    assert_int_equal(knoop_curve_keypair_generate(at("a"), pub, err, sizeof err), -EEXIST);
}

static void secret_key_must_be_private(void **state)
{
    (void)state;
    char pub[KNOOP_CURVE_KEY_LEN + 1], err[512];
    assert_int_equal(knoop_curve_keypair_generate(at("b"), pub, err, sizeof err), 0);
    knoop_curve_keyfile_t k;
    chmod(at("b.key"), 0640);
    assert_int_equal(knoop_curve_keyfile_read(at("b.key"), true, &k, err, sizeof err), -EACCES);
    assert_non_null(strstr(err, "mode 0640"));
    chmod(at("b.key"), 0400);
    assert_int_equal(knoop_curve_keyfile_read(at("b.key"), true, &k, err, sizeof err), 0);
    assert_int_equal(knoop_curve_keyfile_read(at("missing.key"), true, &k, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "missing.key: cannot open"));
    assert_int_equal(knoop_curve_keyfile_read(dir, false, &k, err, sizeof err), -EINVAL); /* a directory */
}

static void zcert_format_and_mismatch(void **state)
{
    (void)state;
    /* As CZMQ's zcert_save_public writes it, with metadata we do not know. */
    write_file("zcert.pub", 0644,
               "#   ****  Generated on 2024-01-01 by CZMQ  ****\n"
               "#   ZeroMQ CURVE Public Certificate\n\n"
               "metadata\n    name = \"heerlen\"\n    party = \"0917\"\ncurve\n    public-key = \"" RFC_KEY "\"\n");
    knoop_curve_keyfile_t k;
    char err[512];
    assert_int_equal(knoop_curve_keyfile_read(at("zcert.pub"), false, &k, err, sizeof err), 0);
    assert_string_equal(k.public_key, RFC_KEY);
    assert_string_equal(k.party, "0917");
    /* a secret key with another key's public key */
    char pub[KNOOP_CURVE_KEY_LEN + 1];
    assert_int_equal(knoop_curve_keypair_generate(at("c"), pub, err, sizeof err), 0);
    assert_int_equal(knoop_curve_keyfile_read(at("c.key"), true, &k, err, sizeof err), 0);
    char text[512];
    snprintf(text, sizeof text, "curve\n public-key = \"%s\"\n secret-key = \"%s\"\n", RFC_KEY, k.secret_key);
    write_file("mixed.key", 0600, text);
    assert_int_equal(knoop_curve_keyfile_read(at("mixed.key"), true, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "not the one of its secret-key"));
}

static void client_tool_options(void **state)
{
    (void)state;
    knoop_curve_client_keys_t keys;
    char err[512], pub[KNOOP_CURVE_KEY_LEN + 1];
    assert_int_equal(knoop_curve_client_keys(NULL, NULL, NULL, "0917", &keys, err, sizeof err), 0);
    assert_false(keys.enabled);
    assert_int_equal(knoop_curve_client_keys(at("x.pub"), NULL, NULL, "0917", &keys, err, sizeof err), -EINVAL);
    assert_int_equal(knoop_curve_keypair_generate(at("srv"), pub, err, sizeof err), 0);
    assert_int_equal(knoop_curve_keypair_generate(at("0917"), pub, err, sizeof err), 0);
    assert_int_equal(knoop_curve_client_keys(at("srv.pub"), NULL, dir, "0917", &keys, err, sizeof err), 0);
    assert_true(keys.enabled);
    assert_string_equal(keys.public_key, pub);
    assert_int_equal(knoop_curve_client_keys(at("srv.pub"), NULL, dir, "0918", &keys, err, sizeof err), -ENOENT);
}

/* ---- the client key directory ------------------------------------------------------------------------------ */

static void clients_dir_add_load_remove(void **state)
{
    (void)state;
    char clients[128], err[512], pub[KNOOP_CURVE_KEY_LEN + 1];
    snprintf(clients, sizeof clients, "%s/clients", dir);
    knoop_clients_t *c = NULL;
    assert_int_equal(knoop_clients_load(clients, false, &c, err, sizeof err), 0); /* missing: empty, not made */
    assert_int_equal(knoop_clients_count(c), 0);
    struct stat st;
    assert_int_not_equal(stat(clients, &st), 0);
    assert_int_equal(knoop_clients_add(c, "0917", RFC_KEY, err, sizeof err), 0);
    assert_int_equal(knoop_clients_add(c, "0918", RFC_KEY, err, sizeof err), -EEXIST);
    assert_int_equal(knoop_clients_add(c, "09", RFC_KEY, err, sizeof err), -EINVAL);
    assert_int_equal(knoop_curve_keypair_generate(at("d"), pub, err, sizeof err), 0);
    assert_int_equal(knoop_clients_add(c, "99990001", pub, err, sizeof err), 0);
    knoop_clients_destroy(&c);

    assert_int_equal(knoop_clients_load(clients, false, &c, err, sizeof err), 0);
    assert_int_equal(knoop_clients_count(c), 2);
    assert_string_equal(knoop_clients_at(c, 0)->party, "0917"); /* sorted by party */
    assert_string_equal(knoop_clients_at(c, 0)->fingerprint, RFC_KEY_FP);
    assert_string_equal(knoop_clients_at(c, 0)->file, "0917-" RFC_KEY_FP ".pub");
    assert_string_equal(knoop_clients_find(c, pub)->party, "99990001");
    assert_null(knoop_clients_find(c, "unknown"));
    assert_int_equal(knoop_clients_remove(c, RFC_KEY, err, sizeof err), 0);
    assert_int_equal(knoop_clients_remove(c, RFC_KEY, err, sizeof err), -ENOENT);
    assert_null(knoop_clients_find(c, RFC_KEY));
    knoop_clients_destroy(&c);
    assert_int_equal(knoop_clients_load(clients, false, &c, err, sizeof err), 0);
    assert_int_equal(knoop_clients_count(c), 1);
    knoop_clients_destroy(&c);
}

static void clients_dir_refuses_what_is_not_a_client_key(void **state)
{
    (void)state;
    char err[512], pub[KNOOP_CURVE_KEY_LEN + 1];
    knoop_clients_t *c = NULL;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/bad", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file("bad/notes.txt", 0644, "not a key, not read\n");
    write_file("bad/a.pub", 0644, "metadata\n party = \"0917\"\ncurve\n public-key = \"" RFC_KEY "\"\n");
    assert_int_equal(knoop_clients_load(sub, false, &c, err, sizeof err), 0);
    assert_int_equal(knoop_clients_count(c), 1);
    knoop_clients_destroy(&c);
    /* the same key twice */
    write_file("bad/b.pub", 0644, "metadata\n party = \"0918\"\ncurve\n public-key = \"" RFC_KEY "\"\n");
    assert_int_equal(knoop_clients_load(sub, false, &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "the same key as"));
    assert_null(c);
    unlink(at("bad/b.pub"));
    /* no party */
    assert_int_equal(knoop_curve_keypair_generate(at("e"), pub, err, sizeof err), 0);
    char text[256];
    snprintf(text, sizeof text, "curve\n public-key = \"%s\"\n", pub);
    write_file("bad/c.pub", 0644, text);
    assert_int_equal(knoop_clients_load(sub, false, &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "c.pub: metadata party"));
    unlink(at("bad/c.pub"));
    /* a secret key */
    assert_int_equal(knoop_curve_keyfile_read(at("e.key"), true, &(knoop_curve_keyfile_t){0}, err, sizeof err), 0);
    write_file("bad/d.pub", 0644, "metadata\n party = \"0917\"\n");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -- '-key' '%s' >> '%s'", at("e.key"), at("bad/d.pub"));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(knoop_clients_load(sub, false, &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "holds a secret key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fingerprint_and_shape),
        cmocka_unit_test(generated_pair_reads_back),
        cmocka_unit_test(secret_key_must_be_private),
        cmocka_unit_test(zcert_format_and_mismatch),
        cmocka_unit_test(client_tool_options),
        cmocka_unit_test(clients_dir_add_load_remove),
        cmocka_unit_test(clients_dir_refuses_what_is_not_a_client_key),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
