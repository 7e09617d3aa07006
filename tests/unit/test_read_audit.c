/* test_read_audit.c — the client reference that a delivery's audit row keeps is read from the packed envelope in
 * place (deliver/read_audit.c): found wherever protobuf-c puts it, absent when the envelope has none, and never read
 * past the bytes of a truncated or malformed envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "deliver/read_audit.h"
#include "knoop.pb-c.h"

static size_t pack(Knoop__Envelope *e, uint8_t **out)
{
    size_t n = knoop__envelope__get_packed_size(e);
    *out = malloc(n ? n : 1);
    assert_non_null(*out);
    assert_int_equal(knoop__envelope__pack(e, *out), n);
    return n;
}

static void the_reference_is_found_in_a_full_envelope(void **state)
{
    (void)state;
    /* the scanner's field number is the proto's */
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field_by_name(&knoop__envelope__descriptor, "client_ref");
    assert_non_null(fd);
    assert_int_equal(fd->id, 10);
    uint8_t ref[32], payload[3000], got[32];
    for (int i = 0; i < 32; i++)
        ref[i] = (uint8_t)(0xa0 + i);
    memset(payload, 0x0a, sizeof payload); /* bytes that look like field keys must be skipped as data */
    Knoop__Envelope e = KNOOP__ENVELOPE__INIT;
    e.seq = 123456789;
    e.message_id = "0123456789abcdef0123456789abcdef";
    e.sender = "99990001";
    e.receiver = "0917";
    e.kind = KNOOP__KIND__REFERRAL;
    e.message_type = "knoop.Referral";
    e.identificatie = "R1";
    e.client_ref.data = ref;
    e.client_ref.len = 32;
    e.payload.data = payload;
    e.payload.len = sizeof payload;
    e.created_at_us = -5;
    e.accepted_at_us = 1800000000000000;
    uint8_t *buf;
    size_t n = pack(&e, &buf);
    assert_true(knoop_envelope_client_ref(buf, n, got));
    assert_memory_equal(got, ref, 32);
    /* every truncation either still finds it or says none, within the bytes given */
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, buf, cut);
        if (knoop_envelope_client_ref(part, cut, got))
            assert_memory_equal(got, ref, 32);
        free(part);
    }
    free(buf);
}

static void an_envelope_without_a_reference_has_none(void **state)
{
    (void)state;
    uint8_t payload[] = {10, 32, 1, 2, 3}, got[32];
    Knoop__Envelope e = KNOOP__ENVELOPE__INIT;
    e.message_id = "m1";
    e.payload.data = payload;
    e.payload.len = sizeof payload;
    uint8_t *buf;
    size_t n = pack(&e, &buf);
    assert_false(knoop_envelope_client_ref(buf, n, got));
    free(buf);
    assert_false(knoop_envelope_client_ref("", 0, got));
    const uint8_t bad[] = {0x57, 0xff, 0xff}; /* wire type 7 does not exist */
    assert_false(knoop_envelope_client_ref(bad, sizeof bad, got));
    const uint8_t huge[] = {0x52, 0xff, 0xff, 0xff, 0xff, 0x0f}; /* field 10, a length beyond the bytes */
    assert_false(knoop_envelope_client_ref(huge, sizeof huge, got));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_reference_is_found_in_a_full_envelope),
        cmocka_unit_test(an_envelope_without_a_reference_has_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
