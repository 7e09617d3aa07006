/* test_finance.c — the finance layer against a real journal: the reporting calendar's periods, what the financing model
 * allows (Heerlen: no 301, no 323), the Goeree band (+6 % one signal, -9 % none, -11 % one), tariff x units for a
 * hand-made month, 80 % and 100 % of a budget used, the year-end recalculation against a golden file worked out by
 * hand below, Brunssum's reach falling and a report overdue, and the renderings printing the JSON's numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"
#include "config/config.h"
#include "config/network.h"
#include "domain.pb-c.h"
#include "finance/budget_ledger.h"
#include "finance/calendar.h"
#include "finance/figures.h"
#include "finance/render.h"
#include "finance/signals.h"
#include "finance/terms.h"
#include "store/finance.h"
#include "journal_test_util.h"
#include "store/journal.h"
#include "journal_test_util.h"

static const char *src_dir(void)
{
    const char *d = getenv("KNOOP_SRC");
    return d ? d : ".";
}

static int32_t day(const char *s)
{
    int32_t d = 0;
    assert_int_equal(knoop_civil_parse(s, &d), 0);
    return d;
}

/* A network alone, on a loopback daemon without CURVE (the default auth needs a server key this test has no use for). */
static knoop_config_t *load_text(const char *text)
{
    knoop_config_t *cfg = NULL;
    char err[512];
    static const char daemon[] = "daemon:\n  auth: none\n";
    size_t len = strlen(daemon) + strlen(text) + 1;
    char *full = malloc(len);
    assert_non_null(full);
    snprintf(full, len, "%s%s", daemon, text);
    int rc = knoop_config_load_text("test", full, strlen(full), &cfg, err, sizeof err);
    free(full);
    if (rc != 0)
        fail_msg("config: %s", err);
    return cfg;
}

/* A Goeree-style contract made by hand: 11 clients contracted, EUR 52,000 a year, band +5 % / -10 %, 4-weekly periods
 * from Monday 6 January 2025. */
static const char goeree[] =
    "network:\n"
    "  parties:\n"
    "    - {code: \"1924\", kind: gemeente}\n"
    "    - {code: \"99991304\", kind: provider, products: [ao-licht, ao-midden, vervoer-zittend]}\n"
    "  products:\n"
    "    - {code: ao-licht, group: ambulante-ondersteuning, level: light, istd_code: \"02A11\"}\n"
    "    - {code: ao-midden, group: ambulante-ondersteuning, level: medium, istd_code: \"02A12\"}\n"
    "    - {code: vervoer-zittend, group: vervoer, istd_code: \"08A02\"}\n"
    "  indicator_sets:\n"
    "    - name: g4w\n"
    "      indicators: [{name: clients, type: count}, {name: units, type: count}]\n"
    "  contracts:\n"
    "    - name: g\n"
    "      financier: \"1924\"\n"
    "      provider: \"99991304\"\n"
    "      identity: legacy\n"
    "      financing: outputgericht\n"
    "      protocol: iwmo-3.2\n"
    "      law: [wmo]\n"
    "      outcomes: {indicator_set: g4w, cadence: 4-weekly}\n"
    "      period: {start: \"2025-01-06\", end: \"2027-12-31\"}\n"
    "      budget: {model: volume-price, amount: 52000, period: year, volume: 11,"
    " band_above_pct: 5, band_below_pct: 10}\n"
    "      tariffs:\n"
    "        - {product: ao-licht, price: 210.00, unit: 4-weeks}\n"
    "        - {product: ao-midden, price: 395.00, unit: 4-weeks}\n"
    "        - {product: vervoer-zittend, price: 14.75, unit: ride}\n";

/* ---- the calendar ---- */

static void test_calendar(void **state)
{
    (void)state;
    knoop_config_t *cfg = load_text(goeree);
    const knoop_contract_t *g = knoop_network_contract(cfg->network, "g");
    knoop_period_t p = knoop_calendar_period_of(g, day("2025-02-10"));
    assert_int_equal(p.start, day("2025-02-03"));
    assert_int_equal(p.end, day("2025-03-02"));
    assert_int_equal(knoop_calendar_period_of(g, day("2025-01-05")).start, day("2024-12-09")); /* before the start */
    knoop_period_t bp = knoop_calendar_budget_period_of(g, day("2025-12-31"));
    assert_int_equal(bp.start, day("2025-01-06"));
    assert_int_equal(bp.end, day("2026-01-05"));
    char label[40];
    knoop_calendar_label(g, p, label, sizeof label);
    assert_string_equal(label, "2025-02-03..2025-03-02");
    assert_int_equal(knoop_calendar_parse(g, "2025-02-20", &p), 0);
    assert_int_equal(p.start, day("2025-02-03"));
    assert_int_equal(knoop_calendar_parse(g, "2025-13", &p), -EINVAL);
    knoop_config_destroy(&cfg);

    /* The demo: Heerlen reports quarterly, Brunssum yearly, Sittard-Geleen monthly, all from 1 January. */
    char err[512];
    assert_int_equal(knoop_config_load_demo(&cfg, err, sizeof err), 0);
    const knoop_contract_t *h = knoop_network_contract(cfg->network, "heerlen");
    p = knoop_calendar_period_of(h, day("2026-05-20"));
    knoop_calendar_label(h, p, label, sizeof label);
    assert_string_equal(label, "2026-Q2");
    assert_int_equal(p.end, day("2026-06-30"));
    assert_int_equal(knoop_calendar_parse(h, "2026-Q3", &p), 0);
    assert_int_equal(p.start, day("2026-07-01"));
    p = knoop_calendar_prev(h, knoop_calendar_period_of(h, day("2026-01-15")));
    knoop_calendar_label(h, p, label, sizeof label);
    assert_string_equal(label, "2025-Q4");
    const knoop_contract_t *b = knoop_network_contract(cfg->network, "brunssum");
    knoop_calendar_label(b, knoop_calendar_period_of(b, day("2026-05-20")), label, sizeof label);
    assert_string_equal(label, "2026");
    const knoop_contract_t *s = knoop_network_contract(cfg->network, "sittard-geleen");
    knoop_calendar_label(s, knoop_calendar_period_of(s, day("2024-02-29")), label, sizeof label);
    assert_string_equal(label, "2024-02");
    knoop_config_destroy(&cfg);
}

/* ---- what the financing allows ---- */

static void test_terms(void **state)
{
    (void)state;
    knoop_config_t *cfg = NULL;
    char err[512], reason[400];
    assert_int_equal(knoop_config_load_demo(&cfg, err, sizeof err), 0);
    const knoop_network_t *net = cfg->network;
    /* A member's 323 to Heerlen travels under the white-label contract, which pays no declarations. */
    const knoop_contract_t *c = knoop_terms_contract_of(net, "99990001", "0917");
    assert_non_null(c);
    assert_string_equal(c->name, "heerlen");
    assert_int_equal(knoop_terms_check_istd(c, 323, "WMO323", reason, sizeof reason), -EPERM);
    assert_non_null(strstr(reason, "WMO323 is not part of contract 'heerlen'"));
    assert_non_null(strstr(reason, "declarations"));
    c = knoop_terms_contract_of(net, "0917", "99990000");
    assert_int_equal(knoop_terms_check_istd(c, 301, "WMO301", reason, sizeof reason), -EPERM);
    assert_non_null(strstr(reason, "contract 'heerlen': the contract has no assignments"));
    assert_int_equal(knoop_terms_check_istd(c, 305, "WMO305", reason, sizeof reason), 0);
    /* Sittard-Geleen pays per arrangement: 301 and 323 belong there. */
    c = knoop_terms_contract_of(net, "1883", "99990001");
    assert_string_equal(c->name, "sittard-geleen");
    assert_int_equal(knoop_terms_check_istd(c, 301, "WMO301", reason, sizeof reason), 0);
    assert_int_equal(knoop_terms_check_istd(c, 323, "WMO323", reason, sizeof reason), 0);
    assert_null(knoop_terms_contract_of(net, "0935", "99990001")); /* Maastricht does not contract that member */
    assert_int_equal(knoop_terms_check_istd(NULL, 323, "WMO323", reason, sizeof reason), 0);
    knoop_config_destroy(&cfg);
}

/* ---- the band: +6 % one signal, -9 % none, -11 % one ---- */

static json_t *two_periods(double before, double now)
{
    return json_pack("{s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}", "series", "start", "2025-02-03", "end", "2025-03-02",
                     "clients", (int)before, "start", "2025-03-03", "end", "2025-03-30", "clients", (int)now);
}

static size_t band(const knoop_contract_t *c, double before, double now, int32_t since, knoop_signal_t *s)
{
    json_t *f = two_periods(before, now);
    size_t n = knoop_signal_band(c, f, since, s);
    json_decref(f);
    return n;
}

static void test_band(void **state)
{
    (void)state;
    knoop_config_t *cfg = load_text(goeree);
    knoop_contract_t c100 = *knoop_network_contract(cfg->network, "g");
    c100.budget.volume = 100; /* Goeree's band: +5 % / -10 % of 100 contracted clients */
    knoop_signal_t s;
    int32_t since = day("2025-01-06");
    assert_int_equal(band(&c100, 100, 106, since, &s), 1);
    assert_string_equal(s.kind, "budget-band-above");
    assert_string_equal(s.period, "2025-03-03");
    assert_non_null(strstr(s.text, "106 clients in care on 2025-03-30, +6.00 % against the 100 contracted"));
    assert_non_null(strstr(s.text, "the budget moves up"));
    assert_int_equal(band(&c100, 100, 91, since, &s), 0);
    assert_int_equal(band(&c100, 100, 89, since, &s), 1);
    assert_string_equal(s.kind, "budget-band-below");
    assert_non_null(strstr(s.text, "-11.00 %"));
    assert_non_null(strstr(s.text, "moves down"));
    /* the edges are inside; staying outside is one crossing, not one a period */
    assert_int_equal(band(&c100, 100, 105, since, &s), 0);
    assert_int_equal(band(&c100, 100, 90, since, &s), 0);
    assert_int_equal(band(&c100, 106, 107, since, &s), 0);
    assert_int_equal(band(&c100, 106, 89, since, &s), 1); /* from above to below is a crossing */
    /* a period before knoopd saw the contract counts as within */
    assert_int_equal(band(&c100, 106, 106, day("2025-03-03"), &s), 1);
    knoop_config_destroy(&cfg);
}

/* ---- the ledger, a hand-made month, the recalculation ---- */

typedef struct rows_at {
    knoop_budget_rows_t *rows;
    uint64_t seq;
} rows_at_t;

static int apply_rows(knoop_jtx_t *tx, void *arg)
{
    rows_at_t *r = arg;
    return knoop_budget_apply(tx, r->rows, r->seq);
}

static void write_rows(uv_loop_t *loop, knoop_journal_t *j, knoop_budget_rows_t *rows, uint64_t seq)
{
    assert_non_null(rows);
    assert_int_equal(in_tx(loop, j, apply_rows, &(rows_at_t){rows, seq}), 0);
    free(rows);
}

static uint8_t refs[12][32];
static const uint8_t test_data_key[32] = {7, 1, 4}; /* the journal seals ledger sets (journal.md) */

/* A new journal in a new directory made from the template dir (removed by the test), on loop. */
static knoop_journal_t *open_journal(char *dir, uv_loop_t *loop)
{
    char path[512], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/knoop.db", dir);
    uv_loop_init(loop);
    knoop_journal_options_t opt = {.path = path, .batch_max = 64, .checkpoint_pages = 1000, .data_key = test_data_key};
    knoop_journal_t *j = NULL;
    if (knoop_journal_open(&opt, loop, NULL, &j, err, sizeof err) != 0)
        fail_msg("open: %s", err);
    return j;
}

static knoop_budget_line_t line(int number, int client, const char *code, const char *begin, const char *end,
                                long long volume, long long bedrag)
{
    return (knoop_budget_line_t){.number = number,
                                 .client_ref = refs[client],
                                 .client_ref_len = 32,
                                 .code = code,
                                 .begin = begin,
                                 .end = end,
                                 .volume = volume,
                                 .bedrag = bedrag};
}

static const json_t *find_product(const json_t *fig, const char *code)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(fig, "products"), i,
                       row) if (strcmp(json_string_value(json_object_get(row, "product")), code) == 0) return row;
    return NULL;
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void test_ledger_month_and_recalculation(void **state)
{
    (void)state;
    knoop_config_t *cfg = load_text(goeree);
    const knoop_network_t *net = cfg->network;
    const knoop_contract_t *g = knoop_network_contract(net, "g");
    char dir[] = "/tmp/knoop-finance-XXXXXX", err[256];
    uv_loop_t loop;
    knoop_journal_t *j = open_journal(dir, &loop);
    for (int i = 0; i < 12; i++)
        memset(refs[i], 'a' + i, 32);

    /* Twelve clients start ambulant support, light, on 6 January 2025 (iWmo 305 lines). */
    knoop_budget_line_t l[16];
    for (int i = 0; i < 12; i++)
        l[i] = line(305, i, "02A11", "2025-01-06", "", -1, 0);
    write_rows(&loop, j, knoop_budget_istd(net, "g", "99991304", "1924", l, 12), 1);
    /* On 10 February the provider moves client 0 to medium (its call; a native PlanUpdate CHANGED). */
    Knoop__Domain__PlanUpdate pu = KNOOP__DOMAIN__PLAN_UPDATE__INIT;
    pu.schema_version = 1;
    pu.action = KNOOP__DOMAIN__PLAN_ACTION__CHANGED;
    pu.product = "ao-midden";
    pu.effective_date = "2025-02-10";
    uint8_t packed[256];
    size_t plen = knoop__domain__plan_update__pack(&pu, packed);
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.receiver = "1924";
    env.content_type = "application/x-protobuf; knoop.domain.PlanUpdate";
    env.payload.data = packed;
    env.payload.len = plen;
    write_rows(&loop, j, knoop_budget_native(net, "g", &env, "99991304", refs[0], day("2025-02-10")), 2);
    /* Clients 9, 10 and 11 stop on 5 March (iWmo 307 lines). */
    for (int i = 0; i < 3; i++)
        l[i] = line(307, 9 + i, "02A11", "2025-01-06", "2025-03-05", -1, 0);
    write_rows(&loop, j, knoop_budget_istd(net, "g", "99991304", "1924", l, 3), 3);
    /* The hand-made month (period 2, 3 February .. 2 March): 11 four-week units light (clients 1..11), 1 medium
     * (client 0), 8 rides for client 5 declared at an old price of 14.50. */
    for (int i = 1; i <= 11; i++)
        l[i - 1] = line(323, i, "02A11", "2025-02-03", "2025-03-02", 1, 21000);
    l[11] = line(323, 0, "02A12", "2025-02-03", "2025-03-02", 1, 39500);
    l[12] = line(323, 5, "08A02", "2025-02-03", "2025-03-02", 8, 11600);
    write_rows(&loop, j, knoop_budget_istd(net, "g", "99991304", "1924", l, 13), 4);

    int32_t later = day("2027-01-01");
    knoop_period_t p2 = knoop_calendar_period_of(g, day("2025-02-03"));
    json_t *fig = knoop_figures_compose(j, net, g, p2, later, err, sizeof err);
    if (!fig)
        fail_msg("compose: %s", err);
    /* tariff x units, by hand: 11 x 210.00 + 1 x 395.00 + 8 x 14.75 = 2310.00 + 395.00 + 118.00 = 2823.00 */
    assert_true(num(find_product(fig, "ao-licht"), "units") == 11);
    assert_true(num(find_product(fig, "ao-licht"), "amount") == 2310.00);
    assert_true(num(find_product(fig, "ao-midden"), "amount") == 395.00);
    assert_true(num(find_product(fig, "vervoer-zittend"), "units") == 8);
    assert_true(num(find_product(fig, "vervoer-zittend"), "amount") == 118.00);
    assert_true(num(find_product(fig, "vervoer-zittend"), "declared") == 116.00);
    const json_t *budget = json_object_get(fig, "budget");
    assert_true(num(budget, "used") == 2823.00);
    assert_true(num(budget, "declared") == 2821.00);
    /* 52,000 a year of 365 days, prorated to the period's 28 days: 3989.04 */
    assert_true(num(budget, "period_budget") == 3989.04);
    /* the change is there, neither a start nor a stop; 12 clients in care at the end, 11 light and 1 medium */
    const json_t *clients = json_object_get(fig, "clients");
    assert_true(num(clients, "in_care") == 12);
    assert_true(num(clients, "intensity_changes") == 1);
    assert_true(num(clients, "started") == 0 && num(clients, "stopped") == 0);
    assert_true(num(find_product(fig, "ao-licht"), "clients") == 11);
    assert_true(num(find_product(fig, "ao-midden"), "clients") == 1);
    const json_t *ch = json_array_get(json_object_get(fig, "changes"), 0);
    assert_string_equal(json_string_value(json_object_get(ch, "from")), "ao-licht");
    assert_string_equal(json_string_value(json_object_get(ch, "to")), "ao-midden");
    assert_string_equal(json_string_value(json_object_get(ch, "day")), "2025-02-10");
    assert_string_equal(json_string_value(json_object_get(clients, "band")), "above"); /* 12 of 11: +9.09 % */

    /* The renderings print these numbers: the CSV line of the period's use, the HTML cell of it. */
    char *csv = knoop_render_csv(fig), *html = knoop_render_html(fig);
    assert_non_null(strstr(csv, "budget,,2025-02-03..2025-03-02,used,2823.00\r\n"));
    assert_non_null(strstr(html, "data-json=\"/budget/used\">2823.00</td>"));
    assert_null(strstr(html, "<script"));
    free(csv);
    free(html);
    json_decref(fig);

    /* The year-end recalculation, by hand: the clients in care at the end of the 13 periods of the budget year
     * (6 January 2025 .. 5 January 2026) are 12, 12, then 9 eleven times: mean 123 / 13 = 9.4615; against the 11
     * contracted that is (9.4615 - 11) / 11 = -13.99 %, outside the band (-10 %), so the budget follows the clients:
     * 52,000 x 9.4615 / 11 = 44,727.27. The use (tariff x units) of the year is the one month: 2823.00. The period
     * that holds the budget year's last day (5 January 2026) carries the complete recalculation. */
    knoop_period_t last = knoop_calendar_period_of(g, day("2026-01-05"));
    fig = knoop_figures_compose(j, net, g, last, later, err, sizeof err);
    assert_non_null(fig);
    char golden[512];
    snprintf(golden, sizeof golden, "%s/tests/data/finance/goeree-recalculation.json", src_dir());
    json_error_t jerr;
    json_t *want = json_load_file(golden, 0, &jerr);
    if (!want)
        fail_msg("%s: %s", golden, jerr.text);
    json_t *got = json_object_get(fig, "recalculation");
    if (!json_equal(got, want)) {
        char *g1 = json_dumps(got, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        print_error("recalculation differs from the golden file:\n%s\n", g1);
        free(g1);
    }
    assert_true(json_equal(got, want));
    json_decref(want);
    json_decref(fig);

    /* 80 % and 100 % of the year's 52,000: 2823.00 so far is 5.43 %; 200 more units light (42,000.00) make 86.20 %,
     * 40 more (8,400.00) 102.35 %. */
    knoop_signal_t sig[4];
    int32_t june = day("2025-06-10");
    assert_int_equal(knoop_signal_use(j, g, june, sig, 4, err, sizeof err), 0);
    l[0] = line(323, 1, "02A11", "2025-06-02", "2025-06-29", 200, 4200000);
    write_rows(&loop, j, knoop_budget_istd(net, "g", "99991304", "1924", l, 1), 5);
    assert_int_equal(knoop_signal_use(j, g, june, sig, 4, err, sizeof err), 1);
    assert_string_equal(sig[0].kind, "budget-80");
    assert_string_equal(sig[0].period, "2025-01-06");
    assert_non_null(strstr(sig[0].text, "86.20 % of the budget for 2025-01-06..2026-01-05 used (EUR 44823.00 of EUR "
                                        "52000.00)"));
    l[0] = line(323, 2, "02A11", "2025-06-02", "2025-06-29", 40, 840000);
    write_rows(&loop, j, knoop_budget_istd(net, "g", "99991304", "1924", l, 1), 6);
    assert_int_equal(knoop_signal_use(j, g, june, sig, 4, err, sizeof err), 2);
    assert_string_equal(sig[1].kind, "budget-100");
    /* the next budget year starts from nothing */
    assert_int_equal(knoop_signal_use(j, g, day("2026-02-01"), sig, 4, err, sizeof err), 0);

    knoop_journal_close(&j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    knoop_config_destroy(&cfg);
}

/* ---- Brunssum watches its reach; a report not in is overdue ---- */

typedef struct outcome_arg {
    const char *contract, *indicator;
    const char *start, *end;
    double value;
} outcome_arg_t;

typedef struct outcome_op {
    knoop_jop_t op;
    outcome_arg_t a;
    bool done;
    int status;
} outcome_op_t;

static int put_outcome(knoop_jtx_t *tx, knoop_jop_t *op)
{
    outcome_arg_t *a = &((outcome_op_t *)op)->a;
    knoop_store_outcome_t o = {.contract = a->contract,
                               .start_day = day(a->start),
                               .end_day = day(a->end),
                               .level = 2,
                               .indicator = a->indicator,
                               .grp = "",
                               .total = a->value,
                               .has_number = true,
                               .text = ""};
    return knoop_store_finance_outcome_put(tx, &o, 1);
}

static void outcome_done(void *ctx, knoop_jop_t *op, int status)
{
    (void)ctx;
    ((outcome_op_t *)op)->done = true;
    ((outcome_op_t *)op)->status = status;
}

static void report_value(uv_loop_t *loop, knoop_journal_t *j, const char *start, const char *end, double bereik)
{
    outcome_op_t o = {.op = {.apply = put_outcome, .done = outcome_done},
                      .a = {"brunssum", "bereik", start, end, bereik}};
    knoop_journal_submit(j, &o.op);
    for (int i = 0; i < 100000 && !o.done; i++)
        uv_run(loop, UV_RUN_ONCE);
    assert_true(o.done);
    assert_int_equal(o.status, 0);
}

static void test_reach_falling_and_overdue(void **state)
{
    (void)state;
    knoop_config_t *cfg = NULL;
    char err[512], dir[] = "/tmp/knoop-finance-XXXXXX";
    assert_int_equal(knoop_config_load_demo(&cfg, err, sizeof err), 0);
    const knoop_contract_t *b = knoop_network_contract(cfg->network, "brunssum");
    uv_loop_t loop;
    knoop_journal_t *j = open_journal(dir, &loop);
    knoop_signal_t sig[8];
    int32_t since = day("2024-01-01"), today = day("2026-02-15");
    /* nothing reported for 2024 and 2025, both over for more than due_days (30): two overdue reports */
    assert_int_equal(knoop_signal_outcomes(j, b, since, today, sig, 8, err, sizeof err), 2);
    assert_string_equal(sig[0].kind, "report-overdue");
    assert_string_equal(sig[0].period, "2025-01-01");
    assert_non_null(strstr(sig[0].text, "the yearly report for 2025 was due 2026-01-30 and has not arrived"));
    assert_string_equal(sig[1].period, "2024-01-01");
    /* a report is due 30 days after its year: on 2026-01-30 the 2025 report is not late yet */
    assert_int_equal(knoop_signal_outcomes(j, b, day("2025-01-01"), day("2026-01-30"), sig, 8, err, sizeof err), 0);
    /* reach 412 in 2024, 380 in 2025: one signal, for 2025 */
    report_value(&loop, j, "2024-01-01", "2024-12-31", 412);
    report_value(&loop, j, "2025-01-01", "2025-12-31", 380);
    assert_int_equal(knoop_signal_outcomes(j, b, since, today, sig, 8, err, sizeof err), 1);
    assert_string_equal(sig[0].kind, "falling:bereik");
    assert_string_equal(sig[0].period, "2025-01-01");
    assert_non_null(strstr(sig[0].text, "contract 'brunssum': bereik fell from 412 (2024) to 380 (2025)"));
    /* only periods that ended after knoopd first saw the contract raise signals (the one before may be compared) */
    assert_int_equal(knoop_signal_outcomes(j, b, day("2025-06-01"), today, sig, 8, err, sizeof err), 1);
    assert_int_equal(knoop_signal_outcomes(j, b, day("2026-01-01"), today, sig, 8, err, sizeof err), 0);
    knoop_journal_close(&j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    knoop_config_destroy(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_terms),
        cmocka_unit_test(test_band),
        cmocka_unit_test(test_ledger_month_and_recalculation),
        cmocka_unit_test(test_reach_falling_and_overdue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
