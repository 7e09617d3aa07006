/* test_config.c — loading knoopd.yaml: the demo and the example networks load; every broken file is refused with
 * FILE:LINE, the path of the field and what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "config/config.h"
#include "config/network.h"

static void expect_error(const char *yaml, const char *expected_prefix, const char *expected_text)
{
    knoop_config_t *c = NULL;
    char err[1024];
    assert_int_not_equal(knoop_config_load_text("x.yaml", yaml, strlen(yaml), &c, err, sizeof err), 0);
    assert_null(c);
    if (strncmp(err, expected_prefix, strlen(expected_prefix)) != 0 || !strstr(err, expected_text))
        fail_msg("got \"%s\", expected it to start with \"%s\" and contain \"%s\"", err, expected_prefix,
                 expected_text);
}

static void demo_loads_with_the_whole_network(void **state)
{
    (void)state;
    knoop_config_t *c = NULL;
    char err[1024];
    assert_int_equal(knoop_config_load_demo(&c, err, sizeof err), 0);
    assert_non_null(c->network);
    assert_int_equal(knoop_network_count_kind(c->network, KNOOP_PARTY_GEMEENTE), 16);
    assert_int_equal(knoop_network_count_kind(c->network, KNOOP_PARTY_MEMBER), 8);
    assert_non_null(knoop_network_party(c->network, "9001"));
    knoop_config_destroy(&c);
    assert_null(c);
}

static void example_networks_load(void **state)
{
    (void)state;
    const char *files[] = {"deploy/knoopd.yaml", "deploy/networks/alphen.yaml", "deploy/networks/goeree.yaml"};
    for (size_t i = 0; i < 3; i++) {
        knoop_config_t *c = NULL;
        char err[1024];
        if (knoop_config_load_file(files[i], &c, err, sizeof err) != 0)
            fail_msg("%s", err);
        knoop_config_destroy(&c);
    }
}

static void unknown_key_points_at_its_line(void **state)
{
    (void)state;
    expect_error("daemon:\n  listen: tcp://127.0.0.1:1\n  bogus: 1\n", "x.yaml:3: daemon.bogus:", "Unexpected key");
}

static void wrong_type_points_at_its_line(void **state)
{
    (void)state;
    expect_error("daemon:\n\n  heartbeat_ms: soon\n", "x.yaml:3: daemon.heartbeat_ms:", "soon");
}

static void out_of_range_points_at_its_line(void **state)
{
    (void)state;
    expect_error("# comment\ndaemon:\n  max_message_bytes: 5\n", "x.yaml:3: daemon.max_message_bytes:", "out of range");
}

static void unknown_party_in_contract_names_it(void **state)
{
    (void)state;
    const char *yaml = "network:\n"
                       "  parties:\n"
                       "    - {code: \"0917\", kind: gemeente, name: Heerlen}\n"
                       "    - {code: \"99990000\", kind: cooperative, name: Coop}\n"
                       "  contracts:\n"
                       "    - name: heerlen\n"
                       "      financier: \"0917\"\n"
                       "      provider: \"41000009\"\n"
                       "      law: [wmo]\n"
                       "      identity: legacy\n"
                       "      financing: taakgericht\n"
                       "      protocol: native\n";
    knoop_config_t *c = NULL;
    char err[1024];
    assert_int_not_equal(knoop_config_load_text("x.yaml", yaml, strlen(yaml), &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "x.yaml:"));
    assert_non_null(strstr(err, "41000009"));
    assert_non_null(strstr(err, "network.contracts[0]"));
}

static void not_yaml_is_refused(void **state)
{
    (void)state;
    expect_error("daemon: [unclosed\n", "x.yaml", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(demo_loads_with_the_whole_network),
        cmocka_unit_test(example_networks_load),
        cmocka_unit_test(unknown_key_points_at_its_line),
        cmocka_unit_test(wrong_type_points_at_its_line),
        cmocka_unit_test(out_of_range_points_at_its_line),
        cmocka_unit_test(unknown_party_in_contract_names_it),
        cmocka_unit_test(not_yaml_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
