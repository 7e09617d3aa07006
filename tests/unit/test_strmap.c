/* test_strmap.c — the loop's hash map: put/get/replace/remove, growth past many entries, removal keeping every
 * other key reachable (backward-shift deletion), iteration visiting each entry once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdint.h>
#include "base/strmap.h"

static void put_get_remove(void **state)
{
    (void)state;
    knoop_strmap_t *m = knoop_strmap_new();
    int a = 1, b = 2;
    assert_int_equal(knoop_strmap_put(m, "inbox.0917", &a), 0);
    assert_ptr_equal(knoop_strmap_get(m, "inbox.0917"), &a);
    assert_int_equal(knoop_strmap_put(m, "inbox.0917", &b), 0);
    assert_ptr_equal(knoop_strmap_get(m, "inbox.0917"), &b);
    assert_int_equal(knoop_strmap_size(m), 1);
    assert_null(knoop_strmap_get(m, "inbox.0918"));
    assert_ptr_equal(knoop_strmap_remove(m, "inbox.0917"), &b);
    assert_null(knoop_strmap_get(m, "inbox.0917"));
    assert_int_equal(knoop_strmap_size(m), 0);
    knoop_strmap_destroy(&m);
    assert_null(m);
}

static void many_keys_survive_growth_and_removal(void **state)
{
    (void)state;
    knoop_strmap_t *m = knoop_strmap_new();
    char key[32];
    for (intptr_t i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        assert_int_equal(knoop_strmap_put(m, key, (void *)(i + 1)), 0);
    }
    for (intptr_t i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        assert_ptr_equal(knoop_strmap_remove(m, key), (void *)(i + 1));
    }
    assert_int_equal(knoop_strmap_size(m), 10000);
    for (intptr_t i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        if (i % 2)
            assert_ptr_equal(knoop_strmap_get(m, key), (void *)(i + 1));
        else
            assert_null(knoop_strmap_get(m, key));
    }
    size_t pos = 0, seen = 0;
    const char *k;
    void *v;
    while (knoop_strmap_next(m, &pos, &k, &v))
        seen++;
    assert_int_equal(seen, 10000);
    knoop_strmap_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_remove),
        cmocka_unit_test(many_keys_survive_growth_and_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
