/* control_table.h — the shape of tabular control results, {"columns": [...], "rows": [[...], ...]}, which
 * knoopctl prints as an aligned table (or raw with --json). */
#ifndef KNOOP_CONTROL_TABLE_H
#define KNOOP_CONTROL_TABLE_H
#include <jansson.h>

json_t *knoop_table_new(const char *const *columns); /* NULL-terminated */
void knoop_table_add(json_t *table, json_t *row);    /* steals row (an array) */
void knoop_table_sort(json_t *table, size_t column); /* by a string column */
#endif
