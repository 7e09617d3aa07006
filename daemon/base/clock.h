/* clock.h — the two clocks every layer reads: a monotonic one for timeouts and the wall clock for what is
 * journaled and shown. */
#ifndef KNOOP_BASE_CLOCK_H
#define KNOOP_BASE_CLOCK_H
#include <stdint.h>

uint64_t knoop_now_ms(void);  /* monotonic, milliseconds */
uint64_t knoop_mono_us(void); /* monotonic, microseconds (the journal's op times, store/journal.h) */
uint64_t knoop_now_us(void);  /* wall clock, microseconds since the epoch */
#endif
