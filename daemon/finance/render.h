/* render.h — a report's figures (figures.h) as people read them: JSON as composed, CSV with one figure a line, and one
 * self-contained HTML file (inline CSS, inline SVG charts: each indicator over the periods, budget use against the
 * band, clients against the agreed volume; no script, no font or image from elsewhere). CSV and HTML print every
 * number the JSON holds the same way (two decimals for reals), and each HTML figure names its JSON pointer
 * (data-json), so a reader — or a test — can check one against the other. */
#ifndef KNOOP_FINANCE_RENDER_H
#define KNOOP_FINANCE_RENDER_H
#include <jansson.h>

typedef enum knoop_report_format { KNOOP_REPORT_JSON = 1, KNOOP_REPORT_CSV, KNOOP_REPORT_HTML } knoop_report_format_t;

/* "json", "csv", "html" -> the format; 0 for anything else. */
knoop_report_format_t knoop_report_format(const char *name);
/* The document (malloc'ed, NUL-terminated; the caller frees it), or NULL when out of memory. */
char *knoop_render(const json_t *figures, knoop_report_format_t format);
char *knoop_render_csv(const json_t *figures);
char *knoop_render_html(const json_t *figures);
/* A number as every format prints it: an integer as is, a real with two decimals; "" for null. */
void knoop_render_number(const json_t *v, char *buf, size_t len);
#endif
