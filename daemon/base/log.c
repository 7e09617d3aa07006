/* log.c — writes one line per event: `ts=... level=... event=... key=value...` to stderr, one write(2) per
 * line so lines from the writer thread and the loop thread never interleave. The values are formatted by
 * base/textfmt.c in log mode: escaped and quoted there, so no value can end the line or forge a key. */
#include "base/log.h"
#include "base/textfmt.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The one piece of process-wide state outside the daemon context: the threshold, written at start and on
 * reload from the loop thread, read by every thread (a torn read of an int cannot happen on our targets). */
static volatile knoop_log_level_t log_threshold = KNOOP_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void knoop_log_set_level(knoop_log_level_t level)
{
    log_threshold = level;
}

const char *knoop_log_level_name(knoop_log_level_t level)
{
    return (unsigned)level < 4 ? level_names[level] : "?";
}

int knoop_log_level_parse(const char *name, knoop_log_level_t *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0) {
            *out = (knoop_log_level_t)i;
            return 0;
        }
    return -1;
}

void knoop_log(knoop_log_level_t level, const char *event, const char *fmt, ...)
{
    if (level > log_threshold)
        return;
    char line[4096];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_names[level], event);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_list ap;
    va_start(ap, fmt);
    bool truncated = false;
    size_t len = (size_t)n + knoop_textfmt(line + n, sizeof line - (size_t)n - 16, KNOOP_TEXT_LOG, &truncated, fmt, ap);
    va_end(ap);
    if (truncated) {
        memcpy(line + len, " truncated=1", 12);
        len += 12;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
