/* test_textfmt.c — the formatter behind log lines and wire reasons (base/textfmt.h): printf's conversions as printf
 * writes them, %s values escaped and quoted (log), kept valid UTF-8 (wire), digit runs that could be a BSN withheld. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "base/textfmt.h"

static char out[512];

#define LOG(...)  knoop_textfmtf(out, sizeof out, KNOOP_TEXT_LOG, __VA_ARGS__)
#define WIRE(...) knoop_textfmtf(out, sizeof out, KNOOP_TEXT_WIRE, __VA_ARGS__)

static void numbers_as_printf(void **state)
{
    (void)state;
    char want[256];
    LOG("a=%d b=%5u c=%-4x| d=%llu e=%zu f=%.2f g=%lld h=%ld %% i=%08.3f j=%+d k=%*d l=%.*f", -42, 7u, 255u,
        18446744073709551615ull, (size_t)12, 3.14159, -9000000000ll, -5l, 2.5, 3, 6, 9, 2, 1.005);
    snprintf(want, sizeof want, "a=%d b=%5u c=%-4x| d=%llu e=%zu f=%.2f g=%lld h=%ld %% i=%08.3f j=%+d k=%*d l=%.*f",
             -42, 7u, 255u, 18446744073709551615ull, (size_t)12, 3.14159, -9000000000ll, -5l, 2.5, 3, 6, 9, 2, 1.005);
    assert_string_equal(out, want);
    WIRE("seq=%"
         "llu"
         " n=%c%c",
         12ull, 'o', 'k');
    assert_string_equal(out, "seq=12 n=ok");
}

static void log_values_are_escaped_and_quoted(void **state)
{
    (void)state;
    LOG("client=%s stream=%s", "backoffice", "inbox.0917");
    assert_string_equal(out, "client=backoffice stream=inbox.0917");
    LOG("client=%s x=1", "evil\nts=0 level=error event=forged");
    assert_string_equal(out, "client=\"evil\\nts=0 level=error event=forged\" x=1");
    LOG("reason=%s", "say \"hi\" \\ back");
    assert_string_equal(out, "reason=\"say \\\"hi\\\" \\\\ back\"");
    LOG("reason=\"%s\"", "a\"b c"); /* the format quotes: escaped only */
    assert_string_equal(out, "reason=\"a\\\"b c\"");
    LOG("v=%s", "");
    assert_string_equal(out, "v=\"\"");
    LOG("v=%s", "tab\there\r\x01\x7f");
    assert_string_equal(out, "v=\"tab\\there\\r\\x01\\x7F\"");
    LOG("v=%s", "bad\xff\xfe utf8");
    assert_string_equal(out, "v=\"bad\\xFF\\xFE utf8\"");
    LOG("v=%s", "line\xe2\x80\xa8sep \xc2\x85nel Co\xc3\xb6peratie");
    assert_string_equal(out, "v=\"line\\u2028sep \\u0085nel Co\xc3\xb6peratie\"");
    LOG("v=%s", "a=b");
    assert_string_equal(out, "v=\"a=b\"");
    assert_null(strchr(out, '\n'));
}

static void long_log_values_are_cut(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    LOG("v=%s end=1", big);
    assert_int_equal(strlen(out), strlen("v=") + KNOOP_TEXT_LOG_VALUE_MAX + 3 + strlen(" end=1"));
    assert_non_null(strstr(out, "... end=1"));
}

static void digit_runs_are_withheld(void **state)
{
    (void)state;
    WIRE("party '%s' is not a party code", "999990007");
    assert_string_equal(out, "party '[withheld]' is not a party code");
    WIRE("stream '%s'", "inbox.999990007x12345678");
    assert_string_equal(out, "stream 'inbox.[withheld]x12345678'");
    LOG("stream=%s", "inbox.1234567890123");
    assert_string_equal(out, "stream=inbox.[withheld]");
    WIRE("party %s", "99990001"); /* an AGB code (8 digits) is not withheld */
    assert_string_equal(out, "party 99990001");
    /* the daemon's own ids, 32 lowercase hex digits (sessions, message ids) or 16 (key fingerprints), are shown
     * whole; one of digits only is not taken for an id (it could be a padded BSN) */
    LOG("session=%s", "0000000000000000000000000000000a");
    assert_string_equal(out, "session=0000000000000000000000000000000a");
    LOG("fingerprint=%s", "422d3ef123456789");
    assert_string_equal(out, "fingerprint=422d3ef123456789");
    WIRE("value %s", "112223111222333e"); /* in a reason to a client, an id-shaped value may hide a BSN */
    assert_string_equal(out, "value [withheld]e");
    LOG("session=%s", "00000000000000000000000999990007");
    assert_string_equal(out, "session=[withheld]");
    WIRE("size %d", 268435456); /* numbers the daemon formats itself are not values */
    assert_string_equal(out, "size 268435456");
    assert_true(knoop_text_may_hold_bsn("x999990007", 10));
    assert_false(knoop_text_may_hold_bsn("x99999000y7", 11));
}

static void wire_text_is_utf8(void **state)
{
    (void)state;
    WIRE("value %s here", "a\xff");
    assert_string_equal(out, "value " KNOOP_TEXT_NOT_UTF8 " here");
    WIRE("value %.3s|", "ab\xc3\xb6"); /* the precision cuts inside a character: the character goes */
    assert_string_equal(out, "value ab|");
    char small[7];
    knoop_textfmtf(small, sizeof small, KNOOP_TEXT_WIRE, "%s", "abcde\xc3\xb6xyz"); /* cut at the buffer */
    assert_string_equal(small, "abcde");
    assert_true(knoop_utf8_valid("Co\xc3\xb6p", 5));
    assert_false(knoop_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(knoop_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(knoop_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(knoop_utf8_valid("\xe2\x82", 2));         /* cut */
    assert_int_equal(knoop_utf8_whole("ab\xe2\x82", 4), 2);
    assert_int_equal(knoop_utf8_whole("ab\xe2\x82\xac", 5), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_as_printf),       cmocka_unit_test(log_values_are_escaped_and_quoted),
        cmocka_unit_test(long_log_values_are_cut), cmocka_unit_test(digit_runs_are_withheld),
        cmocka_unit_test(wire_text_is_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
