/* test_route.c — ingest's routing step on the embedded demo network (deploy/knoopd.yaml): a referral to the
 * white-label cooperative is dispatched to the member offering the product, as stream NAMES that ingest resolves to
 * stream objects; a message no rule routes is a dead letter with its reason; a native payload that fails its
 * contract's checks (or does not decode) is refused with a reason; without a network a message goes to its
 * receiver's inbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/config.h"
#include "core/broker.h"
#include "deliver/streams.h"
#include "domain.pb-c.h"
#include "ingest/route_step.h"
#include "route/route.h"
#include "route/route_state.h"

#define TEAM_HEERLEN "99980001"
#define COOP         "99990000"
#define HEERLEN      "0917"
#define KERKRADE     "0928"

typedef struct world {
    knoop_broker_t b;
    uint8_t client[32];
    uint8_t buf[4096];
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    char err[512];
    if (!w || knoop_config_load_demo(&w->b.config, err, sizeof err) != 0) {
        print_error("demo config: %s\n", w ? err : "out of memory");
        free(w);
        return -1;
    }
    if (knoop_route_state_new(w->b.config->network, 16, &w->b.route_state) != 0)
        return -1;
    w->b.streams = knoop_strmap_new();
    for (size_t i = 0; i < sizeof w->client; i++)
        w->client[i] = (uint8_t)(0xA0 + i); /* an opaque client reference (a keyed BSN hash in the daemon) */
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    knoop_streams_free(&w->b);
    knoop_route_state_destroy(&w->b.route_state);
    knoop_config_destroy(&w->b.config);
    free(w);
    return 0;
}

static Knoop__Envelope native(world_t *w, const char *sender, const char *receiver, Knoop__Kind kind,
                              const char *message, size_t len)
{
    static char ct[96];
    snprintf(ct, sizeof ct, "application/x-protobuf; %s", message);
    Knoop__Envelope e = KNOOP__ENVELOPE__INIT;
    e.sender = (char *)sender;
    e.receiver = (char *)receiver;
    e.kind = kind;
    e.message_type = (char *)message;
    e.identificatie = (char *)"T1";
    e.content_type = ct;
    e.payload.data = w->buf;
    e.payload.len = len;
    return e;
}

static Knoop__Envelope referral(world_t *w, const char *product)
{
    Knoop__Domain__Referral r = KNOOP__DOMAIN__REFERRAL__INIT;
    char *domains[] = {(char *)"financien", (char *)"huisvesting"};
    r.schema_version = 1;
    r.referral_id = (char *)"BT1";
    r.product = (char *)product;
    r.need = (char *)"support at home";
    r.urgency = KNOOP__DOMAIN__URGENCY__ROUTINE;
    r.start_date = (char *)"2026-12-01";
    r.n_domains = 2;
    r.domains = domains;
    size_t len = knoop__domain__referral__pack(&r, w->buf);
    return native(w, TEAM_HEERLEN, COOP, KNOOP__KIND__REFERRAL, "knoop.domain.Referral", len);
}

static const char *const ZRM13[] = {"financien",
                                    "werk-opleiding",
                                    "tijdsbesteding",
                                    "huisvesting",
                                    "huiselijke-relaties",
                                    "geestelijke-gezondheid",
                                    "lichamelijke-gezondheid",
                                    "middelengebruik",
                                    "basale-adl",
                                    "instrumentele-adl",
                                    "sociaal-netwerk",
                                    "maatschappelijke-participatie",
                                    "justitie"};

/* A client-level ZRM report from member to Heerlen; financien gets the score given. */
static Knoop__Envelope zrm_report(world_t *w, const char *member, double financien)
{
    Knoop__Domain__IndicatorValue v[13], *pv[13];
    for (int i = 0; i < 13; i++) {
        knoop__domain__indicator_value__init(&v[i]);
        v[i].indicator = (char *)ZRM13[i];
        v[i].value_case = KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER;
        v[i].number = i == 0 ? financien : 1 + i % 5;
        pv[i] = &v[i];
    }
    Knoop__Domain__OutcomeReport r = KNOOP__DOMAIN__OUTCOME_REPORT__INIT;
    r.schema_version = 1;
    r.report_id = (char *)"R1";
    r.level = KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT;
    r.period_start = (char *)"2026-07-01";
    r.period_end = (char *)"2026-09-30";
    r.n_values = 13;
    r.values = pv;
    size_t len = knoop__domain__outcome_report__pack(&r, w->buf);
    return native(w, member, HEERLEN, KNOOP__KIND__OUTCOME_REPORT, "knoop.domain.OutcomeReport", len);
}

static bool has_stream(const knoop_route_plan_t *p, const char *name)
{
    for (int i = 0; i < p->nstreams; i++)
        if (strcmp(p->streams[i], name) == 0)
            return true;
    return false;
}

static void referral_to_the_cooperative_is_dispatched_to_a_member(void **state)
{
    world_t *w = *state;
    Knoop__Envelope e = referral(w, "schuldhulpverlening");
    knoop_route_plan_t plan;
    char reason[400] = "";
    assert_int_equal(knoop_route_plan(&w->b, &e, w->client, &plan, reason, sizeof reason), KNOOP__ERROR_CODE__OK);
    assert_false(plan.dead_letter);
    /* 99990007 is the only member offering schuldhulpverlening */
    assert_int_equal(plan.nstreams, 1);
    assert_string_equal(plan.streams[0], "inbox.99990007");
    assert_string_equal(plan.sender_as_seen, ""); /* the team's own code: it is not a white-label member */
    assert_non_null(strstr(plan.explain, "white-label-in"));
    /* the choice is remembered (sticky) and must be journaled with the message */
    assert_true(plan.has_row);
    assert_int_equal(plan.row.kind, KNOOP_ROW_STICKY);
    assert_string_equal(plan.row.party, "99990007");
    assert_memory_equal(plan.row.client_ref, w->client, 32);
    /* route/ names streams; it creates no stream objects */
    assert_null(knoop_stream_get(&w->b, "inbox.99990007", false));

    /* ingest resolves the names to the loop's stream objects, created on first use */
    knoop_route_result_t r;
    knoop_route_resolve(&w->b, &plan, &r);
    assert_int_equal(r.nstreams, 1);
    assert_non_null(r.streams[0]);
    assert_string_equal(r.streams[0]->name, "inbox.99990007");
    assert_ptr_equal(knoop_stream_get(&w->b, "inbox.99990007", false), r.streams[0]);
    assert_true(r.has_row);
    assert_string_equal(r.explain, plan.explain);

    /* the client's next referral goes to the same member (the sticky map), in one call through ingest */
    e = referral(w, "");
    assert_int_equal(knoop_route_message(&w->b, &e, w->client, &r, reason, sizeof reason), KNOOP__ERROR_CODE__OK);
    assert_int_equal(r.nstreams, 1);
    assert_string_equal(r.streams[0]->name, "inbox.99990007");
}

static void message_no_rule_routes_is_a_dead_letter(void **state)
{
    world_t *w = *state;
    /* financier -> financier: no contract joins them */
    Knoop__Envelope e = KNOOP__ENVELOPE__INIT;
    e.sender = (char *)HEERLEN;
    e.receiver = (char *)KERKRADE;
    e.kind = KNOOP__KIND__OTHER;
    e.message_type = (char *)"knoop.Note";
    e.content_type = (char *)"application/json";
    e.payload.data = (uint8_t *)"{}";
    e.payload.len = 2;
    knoop_route_plan_t plan;
    char reason[400] = "";
    assert_int_equal(knoop_route_plan(&w->b, &e, NULL, &plan, reason, sizeof reason), KNOOP__ERROR_CODE__OK);
    assert_true(plan.dead_letter);
    assert_true(strlen(plan.reason) > 0);
    assert_int_equal(plan.nstreams, 1);
    assert_string_equal(plan.streams[0], "deadletters");
    assert_int_equal(strncmp(plan.explain, "dead-letter: ", 13), 0);
    assert_non_null(strstr(plan.explain, plan.reason));
    assert_false(plan.has_row);
}

static void native_payload_failing_its_contract_is_refused(void **state)
{
    world_t *w = *state;
    char reason[400] = "";
    knoop_route_plan_t plan;
    /* The client is served by 99990007 (dispatched by a referral) ... */
    Knoop__Envelope e = referral(w, "schuldhulpverlening");
    assert_int_equal(knoop_route_plan(&w->b, &e, w->client, &plan, reason, sizeof reason), KNOOP__ERROR_CODE__OK);
    assert_string_equal(plan.streams[0], "inbox.99990007");
    /* ... whose ZRM score of 6 does not fit heerlen's zrm-13 scale (1..5): refused, with a reason naming it */
    e = zrm_report(w, "99990007", 6);
    reason[0] = '\0';
    assert_int_equal(knoop_route_plan(&w->b, &e, w->client, &plan, reason, sizeof reason),
                     KNOOP__ERROR_CODE__INVALID_FIELD);
    assert_non_null(strstr(reason, "financien"));
    assert_non_null(strstr(reason, "1..5"));
    /* a payload that does not decode is refused as well */
    e = native(w, "99990007", HEERLEN, KNOOP__KIND__OUTCOME_REPORT, "knoop.domain.OutcomeReport", 0);
    memcpy(w->buf, "\xff\xff\xff", 3);
    e.payload.len = 3;
    reason[0] = '\0';
    assert_int_equal(knoop_route_plan(&w->b, &e, w->client, &plan, reason, sizeof reason),
                     KNOOP__ERROR_CODE__INVALID_FIELD);
    assert_true(strlen(reason) > 0);
    /* the same report with a score in range is routed to Heerlen's outcomes and its co-financier's, as the
     * cooperative */
    e = zrm_report(w, "99990007", 3);
    assert_int_equal(knoop_route_plan(&w->b, &e, w->client, &plan, reason, sizeof reason), KNOOP__ERROR_CODE__OK);
    assert_false(plan.dead_letter);
    assert_true(has_stream(&plan, "outcomes.0917"));
    assert_true(has_stream(&plan, "outcomes.9001"));
    assert_string_equal(plan.sender_as_seen, COOP);
}

static void without_a_network_a_message_goes_to_its_receiver(void **state)
{
    world_t *w = *state;
    knoop_route_state_t *st = w->b.route_state;
    w->b.route_state = NULL; /* as a daemon whose configuration has no network */
    Knoop__Envelope e = KNOOP__ENVELOPE__INIT;
    e.sender = (char *)HEERLEN;
    e.receiver = (char *)KERKRADE;
    e.kind = KNOOP__KIND__OTHER;
    e.message_type = (char *)"knoop.Note";
    knoop_route_plan_t plan;
    char reason[400];
    assert_int_equal(knoop_route_plan(&w->b, &e, NULL, &plan, reason, sizeof reason), KNOOP__ERROR_CODE__OK);
    assert_false(plan.dead_letter);
    assert_int_equal(plan.nstreams, 1);
    assert_string_equal(plan.streams[0], "inbox.0928");
    e.receiver = (char *)"";
    assert_int_equal(knoop_route_plan(&w->b, &e, NULL, &plan, reason, sizeof reason), KNOOP__ERROR_CODE__OK);
    assert_true(plan.dead_letter);
    assert_string_equal(plan.streams[0], "deadletters");
    w->b.route_state = st;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(referral_to_the_cooperative_is_dispatched_to_a_member, setup, teardown),
        cmocka_unit_test_setup_teardown(message_no_rule_routes_is_a_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(native_payload_failing_its_contract_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(without_a_network_a_message_goes_to_its_receiver, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
