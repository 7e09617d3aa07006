/* textfmt.h — printf for text that leaves the daemon: log lines and the reasons of Error and Rejected frames. Every
 * %s value is made safe by the formatter itself, so no call site can forget it:
 *   - a run of nine or more digits (it could be a BSN) is replaced by "[withheld]" — except in a value that is
 *     exactly 32 lowercase hex digits, the shape of the daemon's own session and message ids;
 *   - KNOOP_TEXT_WIRE: the result is valid UTF-8 (a protobuf string); a value that is not valid UTF-8 is not
 *     repeated ("(not valid UTF-8)");
 *   - KNOOP_TEXT_LOG: quotes, backslashes, control characters, Unicode line breaks and bytes that are not UTF-8 are
 *     escaped (\" \\ \n \xHH \u2028), so a value can never end the line or start a forged key=value; a value that
 *     needs them gets quotes (an empty one, one with a space, '=', '"', ...) unless the format already puts it between
 *     quotes ("key=\"%s\""); a value is cut at KNOOP_TEXT_LOG_VALUE_MAX bytes ("...").
 * Numbers and the format's own text are written as printf would. The output never ends inside a character. */
#ifndef KNOOP_TEXTFMT_H
#define KNOOP_TEXTFMT_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define KNOOP_TEXT_WITHHELD      "[withheld]"
#define KNOOP_TEXT_NOT_UTF8      "(not valid UTF-8)"
#define KNOOP_TEXT_LOG_VALUE_MAX 300

typedef enum knoop_text_mode {
    KNOOP_TEXT_WIRE = 0, /* a reason in a frame: valid UTF-8, nothing that could be a BSN */
    KNOOP_TEXT_LOG = 1,  /* a key=value log line: as WIRE, and escaped and quoted so it stays one line */
} knoop_text_mode_t;

/* Formats into out (cap >= 1; always NUL-terminated). Returns the length written; *truncated (may be NULL) says
 * whether something did not fit. Supports the printf conversions with their flags, width, precision (also '*') and
 * length modifiers; %n is not supported. */
size_t knoop_textfmt(char *out, size_t cap, knoop_text_mode_t mode, bool *truncated, const char *fmt, va_list ap);
size_t knoop_textfmtf(char *out, size_t cap, knoop_text_mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as protobuf requires of a string. */
bool knoop_utf8_valid(const char *s, size_t len);
/* The longest prefix of s[0..len) that does not end inside a multi-byte character. */
size_t knoop_utf8_whole(const char *s, size_t len);
/* A run of nine or more ASCII digits: what might be a BSN (never repeated in a reason or a log line). */
bool knoop_text_may_hold_bsn(const char *s, size_t len);
#endif
