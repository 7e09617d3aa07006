/* test_settings.c — the settings table: defaults, bounds, reload rules, and docs/configuration.md matching the
 * Markdown the table generates (so the documentation cannot drift from the code). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/settings.h"

static void defaults_apply_when_absent(void **state)
{
    (void)state;
    knoop_settings_t s;
    knoop_cfg_error_t err;
    assert_int_equal(knoop_settings_from_doc(NULL, &s, &err), 0);
    assert_string_equal(s.listen, "tcp://127.0.0.1:5570");
    assert_string_equal(s.data_dir, "./var");
    assert_string_equal(s.control_socket, "./var/knoopd.sock");
    assert_int_equal(s.max_message_bytes, 4u * 1024 * 1024);
    assert_int_equal(s.control_socket_mode, 0660);
    knoop_settings_free(&s);
}

static void out_of_range_names_the_setting(void **state)
{
    (void)state;
    size_t n = knoop_settings_count();
    void **slots = calloc(n, sizeof *slots);
    int64_t tiny = 5;
    for (size_t i = 0; i < n; i++)
        if (strcmp(knoop_settings_def(i)->name, "max_message_bytes") == 0)
            slots[i] = &tiny;
    knoop_settings_t s;
    knoop_cfg_error_t err;
    assert_int_not_equal(knoop_settings_from_doc(slots, &s, &err), 0);
    assert_string_equal(err.path, "daemon.max_message_bytes");
    assert_non_null(strstr(err.message, "out of range"));
    free(slots);
}

static void bad_log_level_is_refused(void **state)
{
    (void)state;
    size_t n = knoop_settings_count();
    void **slots = calloc(n, sizeof *slots);
    char level[] = "loud";
    for (size_t i = 0; i < n; i++)
        if (strcmp(knoop_settings_def(i)->name, "log_level") == 0)
            slots[i] = level;
    knoop_settings_t s;
    knoop_cfg_error_t err;
    assert_int_not_equal(knoop_settings_from_doc(slots, &s, &err), 0);
    assert_string_equal(err.path, "daemon.log_level");
    free(slots);
}

static void reload_keeps_fixed_settings(void **state)
{
    (void)state;
    knoop_settings_t running, next;
    knoop_cfg_error_t err;
    assert_int_equal(knoop_settings_from_doc(NULL, &running, &err), 0);
    assert_int_equal(knoop_settings_from_doc(NULL, &next, &err), 0);
    free(next.listen);
    next.listen = strdup("tcp://127.0.0.1:6000"); /* not reloadable */
    next.heartbeat_ms = 1234;                     /* reloadable */
    char names[256];
    assert_int_equal(knoop_settings_restart_needed(&running, &next, names, sizeof names), 1);
    assert_string_equal(names, "listen");
    assert_int_equal(knoop_settings_keep_fixed(&running, &next), 0);
    assert_string_equal(next.listen, "tcp://127.0.0.1:5570");
    assert_int_equal(next.heartbeat_ms, 1234);
    knoop_settings_free(&running);
    knoop_settings_free(&next);
}

/* Sets the named string settings (NULL-terminated name, value pairs) and parses. */
static int parse_with(knoop_settings_t *s, knoop_cfg_error_t *err, const char *const *pairs)
{
    size_t n = knoop_settings_count();
    void **slots = calloc(n, sizeof *slots);
    for (const char *const *p = pairs; *p; p += 2)
        for (size_t i = 0; i < n; i++)
            if (strcmp(knoop_settings_def(i)->name, p[0]) == 0)
                slots[i] = (void *)p[1];
    int rc = knoop_settings_from_doc(slots, s, err);
    free(slots);
    return rc;
}

static void admin_ids_and_durations_are_parsed(void **state)
{
    (void)state;
    knoop_settings_t s;
    knoop_cfg_error_t err;
    assert_int_equal(knoop_settings_from_doc(NULL, &s, &err), 0);
    assert_int_equal(s.n_admin_uids, 0);
    assert_int_equal(s.n_admin_gids, 0);
    assert_int_equal(s.audit_retention_s, 1825 * 86400);
    assert_int_equal(s.subscriber_idle_expiry_s, 90 * 86400);
    assert_int_equal(s.subscriber_max_per_party, 64);
    knoop_settings_free(&s);

    assert_int_equal(parse_with(&s, &err,
                                (const char *[]){"control_admin_uids", "1000, 1001,65534", "control_admin_gids", "27",
                                                 "audit_retention", "12h", "subscriber_idle_expiry", "0", NULL}),
                     0);
    assert_int_equal(s.n_admin_uids, 3);
    assert_int_equal(s.admin_uids[0], 1000);
    assert_int_equal(s.admin_uids[2], 65534);
    assert_int_equal(s.n_admin_gids, 1);
    assert_int_equal(s.admin_gids[0], 27);
    assert_int_equal(s.audit_retention_s, 12 * 3600);
    assert_int_equal(s.subscriber_idle_expiry_s, 0);
    knoop_settings_free(&s);

    assert_int_not_equal(parse_with(&s, &err, (const char *[]){"control_admin_uids", "1000, root", NULL}), 0);
    assert_string_equal(err.path, "daemon.control_admin_uids");
    assert_non_null(strstr(err.message, "'root'"));
    assert_int_not_equal(parse_with(&s, &err, (const char *[]){"subscriber_idle_expiry", "90w", NULL}), 0);
    assert_string_equal(err.path, "daemon.subscriber_idle_expiry");
    assert_non_null(strstr(err.message, "unit"));
    assert_int_not_equal(parse_with(&s, &err, (const char *[]){"audit_retention", "0", NULL}), 0);
    assert_string_equal(err.path, "daemon.audit_retention");
}

static void docs_match_the_table(void **state)
{
    (void)state;
    FILE *f = fopen("docs/configuration.md", "r");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *md = knoop_settings_markdown();
    assert_non_null(md);
    const char *table = strstr(doc, "| setting |");
    assert_non_null(table);
    assert_string_equal(table, md); /* regenerate with: build/knoopd --settings-markdown */
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_apply_when_absent),         cmocka_unit_test(out_of_range_names_the_setting),
        cmocka_unit_test(bad_log_level_is_refused),           cmocka_unit_test(reload_keeps_fixed_settings),
        cmocka_unit_test(admin_ids_and_durations_are_parsed), cmocka_unit_test(docs_match_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
