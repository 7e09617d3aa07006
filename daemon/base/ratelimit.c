/* ratelimit.c — the token bucket of ratelimit.h. */
#include "base/ratelimit.h"

bool knoop_ratelimit_take(knoop_ratelimit_t *r, uint64_t now_ms, unsigned burst, unsigned per_s, uint64_t *suppressed)
{
    if (!r->started) {
        r->started = true;
        r->tokens = burst;
        r->last_ms = now_ms;
    }
    r->tokens += (double)(now_ms - r->last_ms) * per_s / 1000.0;
    if (r->tokens > burst)
        r->tokens = burst;
    r->last_ms = now_ms;
    if (r->tokens < 1.0) {
        r->suppressed++;
        return false;
    }
    r->tokens -= 1.0;
    *suppressed = r->suppressed;
    r->suppressed = 0;
    return true;
}
