/* pb_budget.h — a protobuf-c allocator with a byte budget, for decoding what a client sent: protobuf-c keeps every
 * field it scans (and copies every unknown one), so a frame of tiny fields costs many times its size to decode. */
#ifndef KNOOP_BASE_PB_BUDGET_H
#define KNOOP_BASE_PB_BUDGET_H
#include <stdbool.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* What decoding a message of `len` bytes may allocate: room for every string and bytes field copied once over,
 * with slack for the structs of a well-formed message. A frame of thousands of tiny or unknown fields needs more and
 * is refused instead of decoded. */
#define KNOOP_PB_BUDGET(len) (4 * (size_t)(len) + 65536)

typedef struct knoop_pb_budget {
    ProtobufCAllocator allocator; /* pass &budget.allocator to *_unpack and *_free_unpacked */
    size_t limit, used, peak;
    bool exceeded; /* an allocation was refused: the unpack failed for the budget, not for the bytes */
} knoop_pb_budget_t;

/* Prepares a budget of `limit` bytes; nothing is allocated until the unpack. */
void knoop_pb_budget_init(knoop_pb_budget_t *b, size_t limit);
#endif
