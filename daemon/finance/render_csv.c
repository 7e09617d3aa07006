/* render_csv.c — a report as CSV (RFC 4180): one figure a line, `section,item,period,measure,value`, so a spreadsheet
 * can pivot it and a script can read it without knowing the report's shape. Every number comes from the figures'
 * JSON through knoop_render_number, as the HTML prints it. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "finance/render.h"

knoop_report_format_t knoop_report_format(const char *name)
{
    static const struct {
        const char *name;
        knoop_report_format_t f;
    } formats[] = {{"json", KNOOP_REPORT_JSON}, {"csv", KNOOP_REPORT_CSV}, {"html", KNOOP_REPORT_HTML}};
    for (size_t i = 0; name && i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(name, formats[i].name) == 0)
            return formats[i].f;
    return 0;
}

char *knoop_render(const json_t *figures, knoop_report_format_t format)
{
    switch (format) {
    case KNOOP_REPORT_JSON:
        return json_dumps(figures, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    case KNOOP_REPORT_CSV:
        return knoop_render_csv(figures);
    case KNOOP_REPORT_HTML:
        return knoop_render_html(figures);
    }
    return NULL;
}

void knoop_render_number(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.2f", json_real_value(v));
    else if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(buf, len, "%s", "");
}

static void field(FILE *f, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote) {
        fputc('"', f);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ",", f);
}

static void line(FILE *f, const char *section, const char *item, const char *period, const char *measure,
                 const json_t *v)
{
    char value[128];
    knoop_render_number(v, value, sizeof value);
    field(f, section, false);
    field(f, item ? item : "", false);
    field(f, period ? period : "", false);
    field(f, measure, false);
    field(f, value, true);
}

/* Every scalar member of obj, one line each. */
static void object_lines(FILE *f, const char *section, const char *item, const char *period, const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (!json_is_object(v) && !json_is_array(v))
            line(f, section, item, period, k, v);
    }
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

char *knoop_render_csv(const json_t *fig)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const json_t *c = json_object_get(fig, "contract");
    const char *period = str(json_object_get(fig, "period"), "label");
    field(f, "section", false);
    field(f, "item", false);
    field(f, "period", false);
    field(f, "measure", false);
    field(f, "value", true);
    object_lines(f, "contract", str(c, "name"), period, c);
    object_lines(f, "terms", str(c, "name"), period, json_object_get(c, "terms"));
    object_lines(f, "period", NULL, period, json_object_get(fig, "period"));
    object_lines(f, "budget", NULL, period, json_object_get(fig, "budget"));
    object_lines(f, "clients", NULL, period, json_object_get(fig, "clients"));
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(fig, "products"), i, row)
        object_lines(f, "product", str(row, "product"), period, row);
    json_array_foreach(json_object_get(fig, "members"), i, row)
        object_lines(f, "member", str(row, "party"), period, row);
    json_array_foreach(json_object_get(fig, "clients_use"), i, row)
    {
        char item[96];
        snprintf(item, sizeof item, "%s/%s", str(row, "client"), str(row, "product"));
        object_lines(f, "client", item, period, row);
    }
    json_array_foreach(json_object_get(fig, "changes"), i, row)
    {
        char item[96];
        snprintf(item, sizeof item, "%s/%s", str(row, "client"), str(row, "day"));
        object_lines(f, "change", item, period, row);
    }
    json_array_foreach(json_object_get(fig, "series"), i, row) object_lines(f, "series", NULL, str(row, "label"), row);
    json_t *ind;
    json_array_foreach(json_object_get(fig, "indicators"), i, ind)
    {
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(ind, "values"), k, v)
            line(f, "indicator", str(ind, "indicator"), str(v, "period"), "value", json_object_get(v, "value"));
    }
    const json_t *rc = json_object_get(fig, "recalculation");
    const char *bp = str(json_object_get(rc, "budget_period"), "label");
    object_lines(f, "recalculation", NULL, bp, rc);
    json_array_foreach(json_object_get(rc, "counts"), i, row)
        line(f, "recalculation", str(row, "on"), bp, "clients", json_object_get(row, "clients"));
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
