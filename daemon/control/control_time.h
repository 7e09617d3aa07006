/* control_time.h — times on the control socket: shown as ISO-8601 UTC ("2026-11-23T10:00:00Z"), accepted as that
 * or as unix seconds. Plain arithmetic on the civil calendar, so it needs neither timegm nor the TZ setting. */
#ifndef KNOOP_CONTROL_TIME_H
#define KNOOP_CONTROL_TIME_H
#include <stddef.h>
#include <stdint.h>

/* Microseconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (seconds precision). */
void knoop_time_format_us(int64_t us, char *out, size_t len);
/* "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5Z", "2026-11-23" or unix seconds "1795428000": microseconds since
 * the epoch. Returns 0 or -EINVAL. */
int knoop_time_parse_us(const char *text, int64_t *out_us);
#endif
