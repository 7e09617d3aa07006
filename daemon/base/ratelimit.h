/* ratelimit.h — a token bucket for log lines that strangers can cause (refused handshakes): a burst, then a steady
 * rate, and a count of what was left out so the next line can say so. A flood costs a few lines, not the disk. */
#ifndef KNOOP_BASE_RATELIMIT_H
#define KNOOP_BASE_RATELIMIT_H
#include <stdbool.h>
#include <stdint.h>

typedef struct knoop_ratelimit {
    double tokens;       /* starts full: zero-initialise, the first take fills it */
    uint64_t last_ms;    /* of the last refill */
    uint64_t suppressed; /* refused since the last allowed event */
    bool started;
} knoop_ratelimit_t;

/* True when one more event may be logged now (up to burst at once, per_s a second after that). When true,
 * *suppressed is how many were refused since the previous true (then reset). */
bool knoop_ratelimit_take(knoop_ratelimit_t *r, uint64_t now_ms, unsigned burst, unsigned per_s, uint64_t *suppressed);
#endif
