/* render_html.c — a report as one self-contained, well-formed HTML file: inline CSS, tables of the figures and inline
 * SVG charts (svg_chart.c) — budget use against the band, clients against the agreed volume, one chart per indicator
 * over the periods. No script, no font, no image from elsewhere: it opens the same mailed, archived or offline. Every
 * number is a cell or a chart point carrying the JSON pointer of the figure it prints (data-json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "finance/render.h"
#include "finance/svg_chart.h"

#define SERIES_MAX 64

static const char style[] =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:60em}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .7em;border-bottom:1px solid #eee;"
    "text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "figure{margin:1em 0}svg.chart{background:#fafafa;border:1px solid #ddd}"
    ".axis{stroke:#888}.tick{font-size:10px;fill:#555}.caption{font-size:13px;fill:#222}.legend{font-size:11px}"
    ".series polyline{stroke-width:2}.series circle{stroke:none}"
    ".used polyline,.clients polyline,.value polyline{stroke:#1f6fb4}.used circle,.clients circle,"
    ".value circle,.used.legend,.clients.legend,.value.legend{fill:#1f6fb4}"
    ".budget polyline,.volume polyline{stroke:#2e8b57}.budget circle,.volume circle,.budget.legend,"
    ".volume.legend{fill:#2e8b57}.band polyline{stroke:#c0392b}.band circle,.band.legend{fill:#c0392b}"
    ".above{color:#c0392b}.below{color:#c0392b}.within{color:#2e8b57}";

static void esc(FILE *f, const char *s)
{
    knoop_svg_escape(f, s ? s : "");
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void cell(FILE *f, const json_t *v, const char *pointer)
{
    char text[256];
    knoop_render_number(v, text, sizeof text);
    bool num = json_is_number(v);
    fputs(num ? "<td class=\"n\"" : "<td", f);
    if (pointer && (num || json_is_string(v) || json_is_boolean(v))) {
        fputs(" data-json=\"", f);
        esc(f, pointer);
        fputc('"', f);
    }
    if (json_is_string(v) && (!strcmp(text, "above") || !strcmp(text, "below") || !strcmp(text, "within")))
        fprintf(f, " class=\"%s\"", text);
    fputc('>', f);
    esc(f, text);
    fputs("</td>", f);
}

/* The scalar members of obj as a two-column table. */
static void kv_table(FILE *f, const char *id, const json_t *obj, const char *base)
{
    fprintf(f, "<table id=\"%s\">\n", id);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (json_is_object(v) || json_is_array(v))
            continue;
        char pointer[160];
        snprintf(pointer, sizeof pointer, "%s/%s", base, k);
        fputs("<tr><th>", f);
        esc(f, k);
        fputs("</th>", f);
        cell(f, v, pointer);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* An array of objects as a table with the given columns. */
static void rows_table(FILE *f, const char *id, const json_t *rows, const char *base, const char *const *cols)
{
    if (json_array_size(rows) == 0) {
        fprintf(f, "<p id=\"%s\">(none)</p>\n", id);
        return;
    }
    fprintf(f, "<table id=\"%s\">\n<tr>", id);
    for (const char *const *c = cols; *c; c++) {
        fputs("<th>", f);
        esc(f, *c);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        fputs("<tr>", f);
        for (const char *const *c = cols; *c; c++) {
            char pointer[160];
            snprintf(pointer, sizeof pointer, "%s/%zu/%s", base, i, *c);
            cell(f, json_object_get(row, *c), pointer);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* One chart of named members of the series array. */
static void series_chart(FILE *f, const char *id, const char *title, const json_t *series, const char *const *keys,
                         const char *const *names, const char *const *css, const bool *dashed, size_t nk)
{
    size_t n = json_array_size(series);
    if (n == 0 || n > SERIES_MAX)
        return;
    const char *labels[SERIES_MAX];
    double values[4][SERIES_MAX];
    bool present[4][SERIES_MAX];
    char fmt[4][64];
    knoop_svg_series_t ss[4];
    for (size_t i = 0; i < n; i++)
        labels[i] = str(json_array_get(series, i), "label");
    for (size_t k = 0; k < nk && k < 4; k++) {
        for (size_t i = 0; i < n; i++) {
            const json_t *v = json_object_get(json_array_get(series, i), keys[k]);
            present[k][i] = json_is_number(v);
            values[k][i] = json_number_value(v);
        }
        snprintf(fmt[k], sizeof fmt[k], "/series/%%zu/%s", keys[k]);
        ss[k] = (knoop_svg_series_t){names[k], css[k], values[k], present[k], fmt[k], dashed[k]};
    }
    fprintf(f, "<figure class=\"chart\" id=\"%s\">\n", id);
    knoop_svg_chart(f, title, labels, n, ss, nk);
    fputs("</figure>\n", f);
}

static void indicator_chart(FILE *f, const json_t *ind, size_t index)
{
    const json_t *vals = json_object_get(ind, "values");
    size_t n = json_array_size(vals);
    if (n == 0 || n > SERIES_MAX)
        return;
    const char *labels[SERIES_MAX];
    double values[SERIES_MAX];
    bool present[SERIES_MAX];
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(vals, i);
        labels[i] = str(v, "period");
        present[i] = json_is_number(json_object_get(v, "value"));
        values[i] = json_number_value(json_object_get(v, "value"));
    }
    char fmt[64], title[300];
    snprintf(fmt, sizeof fmt, "/indicators/%zu/values/%%zu/value", index);
    const char *label = str(ind, "label");
    snprintf(title, sizeof title, "%s%s%s%s", str(ind, "indicator"), label[0] ? " — " : "", label,
             json_is_true(json_object_get(ind, "required")) ? " (required)" : "");
    knoop_svg_series_t s = {str(ind, "indicator"), "value", values, present, fmt, false};
    fputs("<figure class=\"chart indicator\" data-indicator=\"", f);
    esc(f, str(ind, "indicator"));
    fputs("\">\n", f);
    knoop_svg_chart(f, title, labels, n, &s, 1);
    fputs("</figure>\n", f);
}

char *knoop_render_html(const json_t *fig)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const json_t *c = json_object_get(fig, "contract"), *p = json_object_get(fig, "period");
    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n<title>",
          f);
    esc(f, str(c, "name"));
    fputs(" — ", f);
    esc(f, str(p, "label"));
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Contract ", style);
    esc(f, str(c, "name"));
    fputs(" — ", f);
    esc(f, str(p, "label"));
    fputs("</h1>\n", f);
    if (!json_is_true(json_object_get(p, "complete")))
        fputs("<p class=\"provisional\">The period is not over: these figures are provisional.</p>\n", f);
    fputs("<h2>Contract</h2>\n", f);
    kv_table(f, "contract", c, "/contract");
    kv_table(f, "terms", json_object_get(c, "terms"), "/contract/terms");
    kv_table(f, "period", p, "/period");
    if (json_object_get(fig, "budget")) {
        fputs("<h2>Budget</h2>\n", f);
        kv_table(f, "budget", json_object_get(fig, "budget"), "/budget");
    }
    fputs("<h2>Clients</h2>\n", f);
    kv_table(f, "clients", json_object_get(fig, "clients"), "/clients");
    fputs("<h2>Products</h2>\n", f);
    static const char *const pcols[] = {"product", "name",  "group",  "level",    "tariff", "unit",
                                        "clients", "units", "amount", "declared", NULL};
    rows_table(f, "products", json_object_get(fig, "products"), "/products", pcols);
    if (json_object_get(fig, "members")) {
        fputs("<h2>Members</h2>\n", f);
        static const char *const mcols[] = {"party", "name", "share", "clients", "units", "amount", NULL};
        rows_table(f, "members", json_object_get(fig, "members"), "/members", mcols);
    }
    if (json_object_get(fig, "clients_use")) {
        fputs("<h2>Use per client and arrangement</h2>\n", f);
        static const char *const ccols[] = {"client", "product", "units", "amount", "declared", NULL};
        rows_table(f, "clients_use", json_object_get(fig, "clients_use"), "/clients_use", ccols);
    }
    fputs("<h2>Changes of intensity</h2>\n", f);
    static const char *const chcols[] = {"day", "client", "from", "to", NULL};
    rows_table(f, "changes", json_object_get(fig, "changes"), "/changes", chcols);

    fputs("<h2>Over the periods</h2>\n", f);
    const json_t *series = json_object_get(fig, "series");
    if (json_object_get(fig, "budget")) {
        static const char *const k[] = {"used", "period_budget", "budget_high", "budget_low"};
        static const char *const nm[] = {"used", "budget", "band high", "band low"};
        static const char *const css[] = {"used", "budget", "band", "band"};
        static const bool dash[] = {false, false, true, true};
        series_chart(f, "chart-budget", "Budget use against the band (EUR per period)", series, k, nm, css, dash, 4);
    }
    if (json_object_get(json_array_get(series, 0), "volume")) {
        static const char *const k[] = {"clients", "volume", "clients_high", "clients_low"};
        static const char *const nm[] = {"clients in care", "agreed volume", "band high", "band low"};
        static const char *const css[] = {"clients", "volume", "band", "band"};
        static const bool dash[] = {false, false, true, true};
        series_chart(f, "chart-clients", "Clients against the agreed volume", series, k, nm, css, dash, 4);
    } else {
        static const char *const k[] = {"clients"};
        static const char *const nm[] = {"clients in care"};
        static const char *const css[] = {"clients"};
        static const bool dash[] = {false};
        series_chart(f, "chart-clients", "Clients in care", series, k, nm, css, dash, 1);
    }
    static const char *const scols[] = {"label",       "clients", "used",        "period_budget", "budget_low",
                                        "budget_high", "volume",  "clients_low", "clients_high",  NULL};
    rows_table(f, "series", series, "/series", scols);
    const json_t *inds = json_object_get(fig, "indicators");
    if (json_array_size(inds)) {
        fputs("<h2>Indicators</h2>\n", f);
        size_t i;
        json_t *ind;
        json_array_foreach(inds, i, ind) indicator_chart(f, ind, i);
    }
    const json_t *rc = json_object_get(fig, "recalculation");
    if (rc) {
        fputs("<h2>Recalculation (nacalculatie)</h2>\n", f);
        kv_table(f, "recalculation", rc, "/recalculation");
        static const char *const rcols[] = {"on", "clients", NULL};
        rows_table(f, "counts", json_object_get(rc, "counts"), "/recalculation/counts", rcols);
    }
    fputs("</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
