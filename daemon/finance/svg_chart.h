/* svg_chart.h — one line chart as inline SVG (no script, no external font): a title, the periods along the x axis,
 * one polyline per series with a circle per point; each point carries its value and the JSON pointer of the figure it
 * draws (data-value, data-json), and a <title> for people who hover it. */
#ifndef KNOOP_FINANCE_SVG_CHART_H
#define KNOOP_FINANCE_SVG_CHART_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct knoop_svg_series {
    const char *name;        /* legend */
    const char *css;         /* class: "used", "budget", "band", "clients", "volume", "value" */
    const double *values;    /* n values */
    const bool *present;     /* n flags: false leaves the point out (nothing reported) */
    const char *pointer_fmt; /* the JSON pointer of point i: a format with one %zu, e.g. "/series/%zu/used" */
    bool dashed;
} knoop_svg_series_t;

/* Writes <svg ...>...</svg> for n periods (labels) and ns series. */
void knoop_svg_chart(FILE *out, const char *title, const char *const *labels, size_t n,
                     const knoop_svg_series_t *series, size_t ns);
/* Writes s with &, <, > and " escaped (HTML/SVG text and attribute values). */
void knoop_svg_escape(FILE *out, const char *s);
#endif
