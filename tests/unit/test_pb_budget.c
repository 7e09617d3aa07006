/* test_pb_budget.c — the bounded protobuf-c allocator: a well-formed frame decodes within its budget and gives every
 * byte back when freed; a frame of a million tiny unknown fields is refused, with the budget as the reason, having
 * never held more than the budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "base/pb_budget.h"
#include "knoop.pb-c.h"

static void a_publish_decodes_within_its_budget(void **state)
{
    (void)state;
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = "99990001";
    env.message_type = "knoop.domain.Referral";
    uint8_t payload[100000];
    memset(payload, 'p', sizeof payload);
    env.payload.data = payload;
    env.payload.len = sizeof payload;
    Knoop__Publish pub = KNOOP__PUBLISH__INIT;
    pub.ref = 7;
    pub.envelope = &env;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_PUBLISH;
    f.publish = &pub;
    size_t len = knoop__frame__get_packed_size(&f);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    knoop__frame__pack(&f, buf);
    knoop_pb_budget_t b;
    knoop_pb_budget_init(&b, KNOOP_PB_BUDGET(len));
    Knoop__Frame *got = knoop__frame__unpack(&b.allocator, len, buf);
    assert_non_null(got);
    assert_false(b.exceeded);
    assert_int_equal(got->publish->ref, 7);
    assert_int_equal(got->publish->envelope->payload.len, sizeof payload);
    assert_true(b.peak <= b.limit);
    assert_true(b.used > sizeof payload); /* the payload is copied once */
    knoop__frame__free_unpacked(got, &b.allocator);
    assert_int_equal(b.used, 0);
    free(buf);
}

static void a_frame_of_tiny_unknown_fields_is_refused(void **state)
{
    (void)state;
    /* Frame field 100 (unknown), varint 1: three bytes each, a million times. Decoded whole it would take ~100 MB. */
    size_t n = 1000000, len = 3 * n;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        buf[3 * i] = (uint8_t)(0x80 | ((100 << 3) & 0x7f));
        buf[3 * i + 1] = (uint8_t)((100 << 3) >> 7);
        buf[3 * i + 2] = 1;
    }
    knoop_pb_budget_t b;
    knoop_pb_budget_init(&b, KNOOP_PB_BUDGET(len));
    assert_null(knoop__frame__unpack(&b.allocator, len, buf));
    assert_true(b.exceeded);
    assert_true(b.peak <= b.limit);
    assert_int_equal(b.used, 0); /* protobuf-c gave back what it had */
    /* without the budget the same bytes are a valid Frame: the budget, not the parser, refused it */
    Knoop__Frame *f = knoop__frame__unpack(NULL, len, buf);
    assert_non_null(f);
    knoop__frame__free_unpacked(f, NULL);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_publish_decodes_within_its_budget),
        cmocka_unit_test(a_frame_of_tiny_unknown_fields_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
