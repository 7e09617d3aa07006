/* test_metrics.c — the metric table and its engine: docs/metrics.md matches the Markdown the table generates, every
 * row is a valid and unique Prometheus name (counters end in _total), counters by label count and render with escaped
 * labels, histograms render cumulative buckets, the kind is read from packed envelope bytes; and the metrics_listen
 * address rules (HOST:PORT, loopback unless metrics_allow_remote). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/metrics_table.h"
#include "base/hostport.h"
#include "config/settings.h"
#include "core/broker.h"
#include "core/metrics.h"

static void docs_match_the_table(void **state)
{
    (void)state;
    FILE *f = fopen("docs/metrics.md", "r");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *md = knoop_metrics_markdown(knoop_metric_table, knoop_metric_table_len);
    assert_non_null(md);
    const char *table = strstr(doc, "| metric |");
    assert_non_null(table);
    assert_string_equal(table, md); /* regenerate with: build/knoopd --metrics-markdown */
    free(md);
}

static void names_are_valid_and_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < knoop_metric_table_len; i++) {
        const knoop_metric_def_t *d = &knoop_metric_table[i];
        assert_int_equal(strncmp(d->name, "knoop_", 6), 0);
        assert_int_equal(strspn(d->name, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(d->name));
        size_t len = strlen(d->name);
        bool total = len > 6 && strcmp(d->name + len - 6, "_total") == 0;
        assert_true(total == (d->type == KNOOP_METRIC_COUNTER));
        assert_true(d->help[0] && d->reading[0] && d->emit);
        assert_null(strchr(d->help, '\n'));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(knoop_metric_table[j].name, d->name);
    }
}

static void emit_in(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    size_t pos = 0;
    void *v;
    char labels[128];
    while (knoop_strmap_next(b->metrics.in, &pos, NULL, &v)) {
        const knoop_metric_pk_t *e = v;
        char kind[8];
        snprintf(kind, sizeof kind, "%d", e->kind);
        knoop_metric_labels(labels, sizeof labels, "party", e->party, "kind", kind, NULL);
        knoop_metric_sample_u(o, d->name, labels, e->n);
    }
}

static void emit_odd(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    (void)b;
    char labels[128];
    knoop_metric_labels(labels, sizeof labels, "stream", "a\"b\\c\nd", NULL);
    knoop_metric_sample(o, d->name, labels, 0.25);
}

static void counters_render_with_escaped_labels(void **state)
{
    (void)state;
    static const knoop_metric_def_t table[] = {
        {"t_in_total", KNOOP_METRIC_COUNTER, "party, kind", "in", "read", emit_in},
        {"t_odd", KNOOP_METRIC_GAUGE, "stream", "odd", "read", emit_odd},
    };
    knoop_broker_t *b = calloc(1, sizeof *b);
    assert_non_null(b);
    knoop_metrics_count_in(&b->metrics, "0917", 1); /* before init: ignored, no crash */
    assert_int_equal(knoop_metrics_init(&b->metrics), 0);
    b->metric_table = table;
    b->n_metrics = 2;
    knoop_metrics_count_in(&b->metrics, "0917", 1);
    knoop_metrics_count_in(&b->metrics, "0917", 1);
    knoop_metrics_count_in(&b->metrics, "99990001", 7);
    knoop_metrics_count_rejected(&b->metrics, 9);
    knoop_metrics_count_rejected(&b->metrics, 5000); /* an unknown code shares the last slot */
    assert_int_equal(b->metrics.rejected[9], 1);
    assert_int_equal(b->metrics.rejected[KNOOP_METRICS_CODES - 1], 1);
    size_t len;
    char *text = knoop_metrics_render(b, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "# HELP t_in_total in\n# TYPE t_in_total counter\n"));
    assert_non_null(strstr(text, "t_in_total{party=\"0917\",kind=\"1\"} 2\n"));
    assert_non_null(strstr(text, "t_in_total{party=\"99990001\",kind=\"7\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE t_odd gauge\nt_odd{stream=\"a\\\"b\\\\c\\nd\"} 0.25\n"));
    free(text);
    knoop_metrics_free(&b->metrics);
    free(b);
}

static void emit_stage(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_metric_histogram(o, d->name, "stage=\"commit\"", &b->metrics.stage[KNOOP_STAGE_COMMIT]);
}

/* A histogram row: cumulative buckets at powers of two of microseconds (in seconds), +Inf, _sum and _count; a value
 * of exactly 2^k us is above le=2^k (the buckets hold [lower, upper) microseconds). */
static void histograms_render_cumulative(void **state)
{
    (void)state;
    static const knoop_metric_def_t table[] = {
        {"t_stage_seconds", KNOOP_METRIC_HISTOGRAM, "stage, le", "stages", "read", emit_stage},
    };
    knoop_broker_t *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->metric_table = table;
    b->n_metrics = 1;
    knoop_hist_t *h = &b->metrics.stage[KNOOP_STAGE_COMMIT];
    knoop_hist_record(h, 0);
    knoop_hist_record(h, 3);
    knoop_hist_record(h, 4);
    knoop_hist_record(h, 1000);
    knoop_hist_record(h, 2000000);
    char *text = knoop_metrics_render(b, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE t_stage_seconds histogram\n"));
    assert_non_null(strstr(text, "t_stage_seconds_bucket{stage=\"commit\",le=\"0.000001\"} 1\n"));
    assert_non_null(strstr(text, "t_stage_seconds_bucket{stage=\"commit\",le=\"0.000004\"} 2\n"));
    assert_non_null(strstr(text, "t_stage_seconds_bucket{stage=\"commit\",le=\"0.000008\"} 3\n"));
    assert_non_null(strstr(text, "t_stage_seconds_bucket{stage=\"commit\",le=\"0.001024\"} 4\n"));
    assert_non_null(strstr(text, "t_stage_seconds_bucket{stage=\"commit\",le=\"2.097152\"} 5\n"));
    assert_non_null(strstr(text, "t_stage_seconds_bucket{stage=\"commit\",le=\"134.217728\"} 5\n"));
    assert_non_null(strstr(text, "t_stage_seconds_bucket{stage=\"commit\",le=\"+Inf\"} 5\n"));
    assert_non_null(strstr(text, "t_stage_seconds_sum{stage=\"commit\"} 2.001007\n"));
    assert_non_null(strstr(text, "t_stage_seconds_count{stage=\"commit\"} 5\n"));
    free(text);
    free(b);
}

static void kind_is_read_from_envelope_bytes(void **state)
{
    (void)state;
    Knoop__Envelope e = KNOOP__ENVELOPE__INIT;
    e.seq = 300;
    e.message_id = (char *)"0123456789abcdef0123456789abcdef";
    e.sender = (char *)"0917";
    e.receiver = (char *)"99990001";
    e.kind = KNOOP__KIND__OUTCOME_REPORT;
    e.message_type = (char *)"knoop.OutcomeReport";
    uint8_t payload[300] = {0};
    e.payload.data = payload;
    e.payload.len = sizeof payload;
    uint8_t buf[1024];
    size_t n = knoop__envelope__pack(&e, buf);
    assert_int_equal(knoop_envelope_peek_kind(buf, n), KNOOP__KIND__OUTCOME_REPORT);
    assert_int_equal(knoop_envelope_peek_kind(buf, 5), 0); /* cut short: unknown, never a read past the end */
    e.kind = 0;
    n = knoop__envelope__pack(&e, buf);
    assert_int_equal(knoop_envelope_peek_kind(buf, n), 0);
}

static void hostport_parses_and_tells_loopback(void **state)
{
    (void)state;
    struct sockaddr_storage a;
    socklen_t len;
    bool lo;
    assert_int_equal(knoop_hostport_parse("127.0.0.1:9570", &a, &len, &lo), 0);
    assert_true(lo);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 9570);
    assert_int_equal(knoop_hostport_parse("localhost:1", &a, &len, &lo), 0);
    assert_true(lo);
    assert_int_equal(knoop_hostport_parse("[::1]:9570", &a, &len, &lo), 0);
    assert_true(lo);
    assert_int_equal(a.ss_family, AF_INET6);
    assert_int_equal(knoop_hostport_parse("0.0.0.0:9570", &a, &len, &lo), 0);
    assert_false(lo);
    assert_int_equal(knoop_hostport_parse("10.1.2.3:80", &a, &len, &lo), 0);
    assert_false(lo);
    const char *bad[] = {"127.0.0.1", "127.0.0.1:",     "127.0.0.1:0", "127.0.0.1:65536",
                         ":9570",     "example.org:80", "[::1:9570",   "127.0.0.1:9x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(knoop_hostport_parse(bad[i], &a, &len, &lo), -EINVAL);
}

/* settings with metrics_listen (and metrics_allow_remote) set, the rest defaults */
static int settings_with(const char *listen, int64_t allow, knoop_cfg_error_t *err)
{
    size_t n = knoop_settings_count();
    void **slots = calloc(n, sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(knoop_settings_def(i)->name, "metrics_listen") == 0)
            slots[i] = (void *)listen;
        if (strcmp(knoop_settings_def(i)->name, "metrics_allow_remote") == 0)
            slots[i] = &allow;
    }
    knoop_settings_t s;
    int rc = knoop_settings_from_doc(slots, &s, err);
    if (rc == 0)
        knoop_settings_free(&s);
    free(slots);
    return rc;
}

static void metrics_listen_is_loopback_unless_allowed(void **state)
{
    (void)state;
    knoop_cfg_error_t err;
    assert_int_equal(settings_with("127.0.0.1:9570", 0, &err), 0);
    assert_int_equal(settings_with("", 0, &err), 0);
    assert_int_not_equal(settings_with("0.0.0.0:9570", 0, &err), 0);
    assert_string_equal(err.path, "daemon.metrics_listen");
    assert_non_null(strstr(err.message, "metrics_allow_remote"));
    assert_int_equal(settings_with("0.0.0.0:9570", 1, &err), 0);
    assert_int_not_equal(settings_with("metrics.example:9570", 1, &err), 0);
    assert_non_null(strstr(err.message, "HOST:PORT"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docs_match_the_table),
        cmocka_unit_test(names_are_valid_and_unique),
        cmocka_unit_test(counters_render_with_escaped_labels),
        cmocka_unit_test(histograms_render_cumulative),
        cmocka_unit_test(kind_is_read_from_envelope_bytes),
        cmocka_unit_test(hostport_parses_and_tells_loopback),
        cmocka_unit_test(metrics_listen_is_loopback_unless_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
