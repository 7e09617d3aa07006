/* frame_table.h — the frame-handler table: which function each frame body dispatches to (core/dispatch.c reads
 * it from the context; app/lifecycle.c puts it there). */
#ifndef KNOOP_APP_FRAME_TABLE_H
#define KNOOP_APP_FRAME_TABLE_H
#include "core/broker.h"

extern const knoop_frame_handler_t knoop_frame_table[];
extern const size_t knoop_frame_table_len;
#endif
