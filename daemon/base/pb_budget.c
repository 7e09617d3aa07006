/* pb_budget.c — protobuf-c's allocator with a ceiling: every block carries its size in a small header, so frees give
 * the budget back and an unpack that would pass the ceiling fails (protobuf-c then frees what it had and returns
 * NULL). */
#include "base/pb_budget.h"
#include <stdlib.h>

/* The header keeps the block's size and the alignment malloc gives. */
typedef union block_header {
    size_t size;
    max_align_t align;
} block_header_t;

static void *budget_alloc(void *data, size_t size)
{
    knoop_pb_budget_t *b = data;
    size_t total = size + sizeof(block_header_t);
    if (total < size || size > b->limit || b->used + total > b->limit) {
        b->exceeded = true;
        return NULL;
    }
    block_header_t *h = malloc(total);
    if (!h)
        return NULL;
    h->size = total;
    b->used += total;
    if (b->used > b->peak)
        b->peak = b->used;
    return h + 1;
}

static void budget_free(void *data, void *ptr)
{
    if (!ptr)
        return;
    knoop_pb_budget_t *b = data;
    block_header_t *h = (block_header_t *)ptr - 1;
    b->used -= h->size;
    free(h);
}

void knoop_pb_budget_init(knoop_pb_budget_t *b, size_t limit)
{
    b->allocator.alloc = budget_alloc;
    b->allocator.free = budget_free;
    b->allocator.allocator_data = b;
    b->limit = limit;
    b->used = b->peak = 0;
    b->exceeded = false;
}
