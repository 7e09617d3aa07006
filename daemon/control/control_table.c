/* control_table.c — building tabular control results. */
#include "control/control_table.h"
#include <stdlib.h>
#include <string.h>

json_t *knoop_table_new(const char *const *columns)
{
    json_t *cols = json_array();
    for (; *columns; columns++)
        json_array_append_new(cols, json_string(*columns));
    return json_pack("{s:o, s:o}", "columns", cols, "rows", json_array());
}

void knoop_table_add(json_t *table, json_t *row)
{
    if (row)
        json_array_append_new(json_object_get(table, "rows"), row);
}

static const char *cell(json_t *row, size_t column)
{
    const char *s = json_string_value(json_array_get(row, column));
    return s ? s : "";
}

/* Insertion sort: control tables are small, and this keeps the comparison free of hidden state. */
void knoop_table_sort(json_t *table, size_t column)
{
    json_t *rows = json_object_get(table, "rows");
    size_t n = json_array_size(rows);
    json_t **tmp = malloc(n * sizeof *tmp + 1);
    if (!tmp)
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_incref(json_array_get(rows, i));
        size_t j = i;
        while (j > 0 && strcmp(cell(tmp[j - 1], column), cell(row, column)) > 0) {
            tmp[j] = tmp[j - 1];
            j--;
        }
        tmp[j] = row;
    }
    json_array_clear(rows);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, tmp[i]);
    free(tmp);
}
