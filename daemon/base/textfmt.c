/* textfmt.c — the formatter behind log lines and wire reasons (textfmt.h): printf's conversions, each written with
 * snprintf one at a time, except %s and %c, whose values go through safe_value(): digit runs withheld, UTF-8 checked
 * (wire) or escaped and quoted (log). Output is appended in whole units (a character, an escape), never split. */
#include "base/textfmt.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#define DIGIT_RUN_WITHHELD 9 /* a BSN has nine digits */

typedef struct sink {
    char *out;
    size_t cap, len;
    bool truncated;
    bool count_only; /* measure, do not write (a dry run for %Ns) */
} sink_t;

/* Appends n bytes as one unit, or nothing (and marks the sink truncated) when they do not fit with the NUL. */
static bool put(sink_t *s, const char *p, size_t n)
{
    if (s->truncated)
        return false;
    if (s->count_only) {
        s->len += n;
        return true;
    }
    if (s->len + n + 1 > s->cap) {
        s->truncated = true;
        return false;
    }
    memcpy(s->out + s->len, p, n);
    s->len += n;
    s->out[s->len] = '\0';
    return true;
}

/* Length of the valid UTF-8 sequence at s (1..4) with its code point, or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

bool knoop_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(u + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t knoop_utf8_whole(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = len, cont = 0;
    while (k > 0 && cont < 3 && (u[k - 1] & 0xc0) == 0x80)
        k--, cont++;
    if (k == 0)
        return len;
    unsigned lead = u[k - 1];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return want > cont + 1 ? k - 1 : len; /* a lead byte whose character is cut: drop it and what follows */
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

bool knoop_text_may_hold_bsn(const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        run = is_digit((unsigned char)s[i]) ? run + 1 : 0;
        if (run >= DIGIT_RUN_WITHHELD)
            return true;
    }
    return false;
}

/* The daemon's own ids, shown whole: sessions and message ids (32 lowercase hex digits) and key fingerprints (16).
 * A value of digits only is not one of them (it could be a BSN with padding): it needs a letter a-f. */
static bool is_hex_id(const char *s, size_t n)
{
    if (n != 32 && n != 16)
        return false;
    bool letter = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 'a' && s[i] <= 'f')
            letter = true;
        else if (!is_digit((unsigned char)s[i]))
            return false;
    }
    return letter;
}

/* A byte that may stand in an unquoted log value. */
static bool bare(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || strchr("._-:/@+,*#()[]", c) != NULL;
}

/* One character of a log value, escaped where it could break the line or the key=value form. Returns the bytes of
 * the input it took. */
static size_t log_char(sink_t *s, const unsigned char *v, size_t n, size_t *written)
{
    char esc[8];
    uint32_t cp;
    size_t len = utf8_seq(v, n, &cp), k;
    if (len == 0) { /* not UTF-8: the byte as \xHH */
        k = (size_t)snprintf(esc, sizeof esc, "\\x%02X", v[0]);
        len = 1;
    } else if (cp == '"' || cp == '\\') {
        esc[0] = '\\', esc[1] = (char)cp, k = 2;
    } else if (cp == '\n' || cp == '\r' || cp == '\t') {
        esc[0] = '\\', esc[1] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't', k = 2;
    } else if (cp < 0x20 || cp == 0x7f) {
        k = (size_t)snprintf(esc, sizeof esc, "\\x%02X", (unsigned)cp);
    } else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) { /* C1 controls, Unicode line breaks */
        k = (size_t)snprintf(esc, sizeof esc, "\\u%04X", (unsigned)cp);
    } else {
        if (*written + len > KNOOP_TEXT_LOG_VALUE_MAX)
            return 0;
        *written += len;
        return put(s, (const char *)v, len) ? len : 0;
    }
    if (*written + k > KNOOP_TEXT_LOG_VALUE_MAX)
        return 0;
    *written += k;
    return put(s, esc, k) ? len : 0;
}

/* Does this log value need quotes? (Before escaping: anything but bare bytes does.) */
static bool needs_quotes(const char *v, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (!bare((unsigned char)v[i]))
            return true;
    return false;
}

/* One %s (or %c) value. quoted: the format already has a '"' just before the conversion. */
static void safe_value(sink_t *s, knoop_text_mode_t mode, const char *v, size_t n, bool quoted)
{
    const unsigned char *u = (const unsigned char *)v;
    /* In the log the daemon's own ids are shown whole (operators match them); a reason goes back to a client, who
     * can put a BSN inside something shaped like an id, so there every run of nine digits is withheld. */
    bool withhold = mode == KNOOP_TEXT_WIRE || !is_hex_id(v, n);
    if (mode == KNOOP_TEXT_WIRE) {
        if (!knoop_utf8_valid(v, n)) {
            put(s, KNOOP_TEXT_NOT_UTF8, strlen(KNOOP_TEXT_NOT_UTF8));
            return;
        }
        for (size_t i = 0; i < n;) {
            size_t run = 0;
            while (withhold && i + run < n && is_digit(u[i + run]))
                run++;
            if (run >= DIGIT_RUN_WITHHELD) {
                put(s, KNOOP_TEXT_WITHHELD, strlen(KNOOP_TEXT_WITHHELD));
                i += run;
                continue;
            }
            size_t len = run ? run : utf8_seq(u + i, n - i, &(uint32_t){0});
            if (!put(s, v + i, len))
                return;
            i += len;
        }
        return;
    }
    bool quote = !quoted && needs_quotes(v, n);
    size_t written = 0;
    if (quote)
        put(s, "\"", 1);
    for (size_t i = 0; i < n;) {
        size_t run = 0;
        while (withhold && i + run < n && is_digit(u[i + run]))
            run++;
        if (run >= DIGIT_RUN_WITHHELD) {
            size_t k = strlen(KNOOP_TEXT_WITHHELD);
            if (written + k > KNOOP_TEXT_LOG_VALUE_MAX || !put(s, KNOOP_TEXT_WITHHELD, k))
                break;
            written += k;
            i += run;
            continue;
        }
        size_t took = log_char(s, u + i, n - i, &written);
        if (took == 0) {
            put(s, "...", 3);
            break;
        }
        i += took;
    }
    if (quote)
        put(s, "\"", 1);
}

/* Literal format text, cut (when it does not fit) at a character boundary. */
static void put_text(sink_t *s, const char *p, size_t n)
{
    if (s->count_only || s->len + n + 1 <= s->cap) {
        put(s, p, n);
        return;
    }
    if (!s->truncated && s->len + 1 < s->cap)
        put(s, p, knoop_utf8_whole(p, s->cap - 1 - s->len));
    s->truncated = true;
}

typedef struct spec {
    char flags[8];
    int width, precision; /* -1: not given */
    char length[3];
    char conv;
} spec_t;

/* Parses the conversion after '%' at *pp (advancing it); '*' arguments are taken from ap. */
static void parse_spec(const char **pp, va_list *ap, spec_t *sp)
{
    const char *p = *pp;
    size_t nf = 0;
    memset(sp, 0, sizeof *sp);
    sp->width = sp->precision = -1;
    while (*p && strchr("-+ #0", *p)) {
        if (nf + 1 < sizeof sp->flags)
            sp->flags[nf++] = *p;
        p++;
    }
    if (*p == '*') {
        sp->width = va_arg(*ap, int);
        if (sp->width < 0) {
            if (nf + 1 < sizeof sp->flags)
                sp->flags[nf++] = '-';
            sp->width = -sp->width;
        }
        p++;
    } else {
        for (; is_digit((unsigned char)*p); p++)
            sp->width = (sp->width < 0 ? 0 : sp->width) * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        sp->precision = 0;
        if (*p == '*') {
            sp->precision = va_arg(*ap, int);
            p++;
        } else {
            for (; is_digit((unsigned char)*p); p++)
                sp->precision = sp->precision * 10 + (*p - '0');
        }
    }
    size_t nl = 0;
    while (*p && strchr("hljztL", *p) && nl + 1 < sizeof sp->length)
        sp->length[nl++] = *p++;
    sp->conv = *p ? *p++ : '\0';
    *pp = p;
}

/* A number (or pointer) conversion through snprintf, with the argument of the type its length modifier names. */
static void put_number(sink_t *s, const spec_t *sp, va_list *ap)
{
    char f[40], tmp[512];
    int n = snprintf(f, sizeof f, "%%%s", sp->flags);
    if (sp->width >= 0)
        n += snprintf(f + n, sizeof f - (size_t)n, "%d", sp->width);
    if (sp->precision >= 0)
        n += snprintf(f + n, sizeof f - (size_t)n, ".%d", sp->precision);
    snprintf(f + n, sizeof f - (size_t)n, "%s%c", sp->length, sp->conv);
    const char *l = sp->length;
    int w = -1;
#define NUM(type) (w = snprintf(tmp, sizeof tmp, f, va_arg(*ap, type)))
    switch (sp->conv) {
    case 'd':
    case 'i':
        if (!strcmp(l, "l"))
            NUM(long);
        else if (!strcmp(l, "ll"))
            NUM(long long);
        else if (!strcmp(l, "j"))
            NUM(intmax_t);
        else if (!strcmp(l, "z"))
            NUM(ssize_t);
        else if (!strcmp(l, "t"))
            NUM(ptrdiff_t);
        else
            NUM(int);
        break;
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        if (!strcmp(l, "l"))
            NUM(unsigned long);
        else if (!strcmp(l, "ll"))
            NUM(unsigned long long);
        else if (!strcmp(l, "j"))
            NUM(uintmax_t);
        else if (!strcmp(l, "z"))
            NUM(size_t);
        else if (!strcmp(l, "t"))
            NUM(ptrdiff_t);
        else
            NUM(unsigned);
        break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
        if (!strcmp(l, "L"))
            NUM(long double);
        else
            NUM(double);
        break;
    case 'p':
        NUM(void *);
        break;
    default:
        break;
    }
#undef NUM
    if (w > 0)
        put_text(s, tmp, (size_t)w < sizeof tmp ? (size_t)w : sizeof tmp - 1);
}

static void put_string(sink_t *s, knoop_text_mode_t mode, const spec_t *sp, const char *v, size_t n, bool quoted)
{
    if (sp->width <= 0) {
        safe_value(s, mode, v, n, quoted);
        return;
    }
    sink_t dry = {.count_only = true};
    safe_value(&dry, mode, v, n, quoted);
    size_t pad = dry.len < (size_t)sp->width ? (size_t)sp->width - dry.len : 0;
    bool left = strchr(sp->flags, '-') != NULL;
    for (size_t i = 0; !left && i < pad; i++)
        put(s, " ", 1);
    safe_value(s, mode, v, n, quoted);
    for (size_t i = 0; left && i < pad; i++)
        put(s, " ", 1);
}

size_t knoop_textfmt(char *out, size_t cap, knoop_text_mode_t mode, bool *truncated, const char *fmt, va_list ap_in)
{
    sink_t s = {.out = out, .cap = cap};
    if (cap > 0)
        out[0] = '\0';
    va_list ap;
    va_copy(ap, ap_in);
    for (const char *p = fmt; *p;) {
        const char *pct = strchr(p, '%');
        size_t lit = pct ? (size_t)(pct - p) : strlen(p);
        put_text(&s, p, lit);
        if (!pct)
            break;
        bool quoted = pct > fmt && pct[-1] == '"';
        p = pct + 1;
        spec_t sp;
        parse_spec(&p, &ap, &sp);
        if (sp.conv == 's') {
            const char *v = va_arg(ap, const char *);
            if (!v)
                v = "(null)";
            size_t n = sp.precision >= 0 ? strnlen(v, (size_t)sp.precision) : strlen(v);
            if (sp.precision >= 0 && v[n] != '\0')
                n = knoop_utf8_whole(v, n); /* cut by the precision: not inside a character */
            put_string(&s, mode, &sp, v, n, quoted);
        } else if (sp.conv == 'c') {
            char c = (char)va_arg(ap, int);
            put_string(&s, mode, &sp, &c, 1, quoted);
        } else if (sp.conv == '%') {
            put_text(&s, "%", 1);
        } else if (sp.conv == 'n') {
            (void)va_arg(ap, void *); /* not supported: nothing is stored */
        } else if (sp.conv == '\0') {
            break;
        } else {
            put_number(&s, &sp, &ap);
        }
    }
    va_end(ap);
    if (truncated)
        *truncated = s.truncated;
    return s.len;
}

size_t knoop_textfmtf(char *out, size_t cap, knoop_text_mode_t mode, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = knoop_textfmt(out, cap, mode, NULL, fmt, ap);
    va_end(ap);
    return n;
}
