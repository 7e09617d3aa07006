/* svg_chart.c — the line chart of the HTML report (svg_chart.h): a plot area scaled to the series' range (zero
 * included), labels every period, a legend; all geometry computed here, nothing left to a browser's script. */
#include "finance/svg_chart.h"
#include <math.h>
#include <string.h>

#define W      640.0
#define H      290.0
#define LEFT   70.0
#define RIGHT  20.0
#define TOP    30.0
#define BOTTOM 90.0

void knoop_svg_escape(FILE *out, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
}

void knoop_svg_chart(FILE *out, const char *title, const char *const *labels, size_t n,
                     const knoop_svg_series_t *series, size_t ns)
{
    double lo = 0, hi = 0;
    for (size_t s = 0; s < ns; s++)
        for (size_t i = 0; i < n; i++)
            if (series[s].present[i]) {
                lo = fmin(lo, series[s].values[i]);
                hi = fmax(hi, series[s].values[i]);
            }
    if (hi <= lo)
        hi = lo + 1;
    hi += (hi - lo) * 0.05;
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define X(i) (LEFT + (n > 1 ? pw * (double)(i) / (double)(n - 1) : pw / 2))
#define Y(v) (TOP + ph * (1 - ((v)-lo) / (hi - lo)))
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n<title>",
            W, H, W, H);
    knoop_svg_escape(out, title);
    fprintf(out, "</title>\n<text class=\"caption\" x=\"%.0f\" y=\"18\">", LEFT);
    knoop_svg_escape(out, title);
    fputs("</text>\n", out);
    /* axes and the y range */
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT, TOP, LEFT, TOP + ph);
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT, Y(lo), LEFT + pw,
            Y(lo));
    fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", LEFT - 6, TOP + 4, hi);
    fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", LEFT - 6, TOP + ph + 4,
            lo);
    for (size_t i = 0; i < n; i++) {
        fprintf(out,
                "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-35 %.1f %.1f)\">",
                X(i), TOP + ph + 16, X(i), TOP + ph + 16);
        /* a 4-weekly period is named by its first day along the axis; the point's title gives both */
        const char *dots = strstr(labels[i], "..");
        if (dots)
            fprintf(out, "%.*s", (int)(dots - labels[i]), labels[i]);
        else
            knoop_svg_escape(out, labels[i]);
        fputs("</text>\n", out);
    }
    for (size_t s = 0; s < ns; s++) {
        const knoop_svg_series_t *sr = &series[s];
        fprintf(out, "<g class=\"series %s\" data-series=\"", sr->css);
        knoop_svg_escape(out, sr->name);
        fputs("\">\n<polyline fill=\"none\"", out);
        if (sr->dashed)
            fputs(" stroke-dasharray=\"6 4\"", out);
        fputs(" points=\"", out);
        for (size_t i = 0; i < n; i++)
            if (sr->present[i])
                fprintf(out, "%.1f,%.1f ", X(i), Y(sr->values[i]));
        fputs("\"/>\n", out);
        for (size_t i = 0; i < n; i++) {
            if (!sr->present[i])
                continue;
            char pointer[128];
            snprintf(pointer, sizeof pointer, sr->pointer_fmt, i);
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" data-json=\"", X(i), Y(sr->values[i]));
            knoop_svg_escape(out, pointer);
            fprintf(out, "\" data-value=\"%.2f\"><title>", sr->values[i]);
            knoop_svg_escape(out, sr->name);
            fputs(" ", out);
            knoop_svg_escape(out, labels[i]);
            fprintf(out, ": %.2f</title></circle>\n", sr->values[i]);
        }
        fprintf(out, "<text class=\"legend %s\" x=\"%.1f\" y=\"%.1f\">", sr->css, LEFT + 10 + 150.0 * (double)(s % 4),
                H - 6);
        knoop_svg_escape(out, sr->name);
        fputs("</text>\n</g>\n", out);
    }
    fputs("</svg>\n", out);
#undef X
#undef Y
}
