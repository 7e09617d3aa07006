/* frame_text.c — walks the wire bytes of an incoming frame with the message descriptors (so every string field of
 * every message, nested and repeated ones included, is seen, and one added to knoop.proto later is too) and checks each
 * string's bytes as sent: protobuf-c copies strings up to their first NUL and checks no UTF-8, and a subscriber's
 * protobuf library refuses a frame holding a string that is not UTF-8. The walk only runs on bytes that protobuf-c
 * already decoded, so it trusts their framing but still bounds every read. */
#include "core/frame_text.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/log.h"
#include "base/textfmt.h"
#include "core/frames.h"

#define MAX_DEPTH 8 /* Frame > Publish > Envelope is 3; anything deeper is not ours */

typedef struct walk {
    const char *names[MAX_DEPTH];
    int depth;
    char *path;
    size_t pathlen;
} walk_t;

static int read_varint(const uint8_t *d, size_t len, size_t *i, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *i < len && shift < 64; shift += 7) {
        uint8_t c = d[(*i)++];
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 0;
    }
    return -EBADMSG;
}

/* The path of the field at fault; a Publish's fields are named from the envelope on, as every envelope reason is. */
static void fail_path(walk_t *w)
{
    size_t used = 0;
    w->path[0] = '\0';
    int first = w->depth > 1 && strcmp(w->names[0], "publish") == 0 ? 1 : 0;
    for (int i = first; i < w->depth; i++)
        used += (size_t)snprintf(w->path + used, used < w->pathlen ? w->pathlen - used : 0, "%s%s",
                                 i > first ? "." : "", w->names[i]);
}

static int walk_message(walk_t *w, const ProtobufCMessageDescriptor *desc, const uint8_t *d, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint64_t tag, n;
        if (read_varint(d, len, &i, &tag) != 0)
            return -EBADMSG;
        unsigned wire = (unsigned)(tag & 7);
        const ProtobufCFieldDescriptor *fd =
            tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3)) : NULL;
        switch (wire) {
        case 0:
            if (read_varint(d, len, &i, &n) != 0)
                return -EBADMSG;
            break;
        case 1:
        case 5:
            i += wire == 1 ? 8 : 4;
            break;
        case 2:
            if (read_varint(d, len, &i, &n) != 0 || n > len - i)
                return -EBADMSG;
            if (fd && (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE) &&
                w->depth < MAX_DEPTH) {
                w->names[w->depth++] = fd->name;
                int rc = 0;
                if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
                    rc = walk_message(w, fd->descriptor, d + i, (size_t)n);
                else if (memchr(d + i, '\0', (size_t)n))
                    rc = -EINVAL;
                else if (!knoop_utf8_valid((const char *)d + i, (size_t)n))
                    rc = -EILSEQ;
                if (rc != 0 && rc != -EBADMSG && w->path[0] == '\0')
                    fail_path(w);
                w->depth--;
                if (rc != 0)
                    return rc;
            }
            i += (size_t)n;
            break;
        default:
            return 0; /* groups: not in our schema; protobuf-c decoded the frame without them */
        }
    }
    return 0;
}

int knoop_frame_text_check(const uint8_t *data, size_t len, char *path, size_t pathlen)
{
    walk_t w = {.path = path, .pathlen = pathlen};
    if (pathlen)
        path[0] = '\0';
    int rc = walk_message(&w, &knoop__frame__descriptor, data, len);
    return rc == -EBADMSG ? 0 : rc; /* framing is protobuf-c's verdict, given before this runs */
}

/* Reads only the first bytes the frame's layout puts the ref in (Frame field 3, then Publish field 1), each read
 * bounded by len: the frame has not been decoded, and may be cut anywhere. */
uint64_t knoop_frame_peek_publish_ref(const uint8_t *d, size_t len)
{
    size_t i = 0;
    uint64_t v = 0;
    int shift = 0;
    if (len < 2 || d[i++] != ((3 << 3) | 2))
        return 0;
    while (i < len && (d[i] & 0x80)) /* skip the Publish length */
        i++;
    i++;
    if (i >= len || d[i++] != ((1 << 3) | 0))
        return 0;
    while (i < len && shift < 64) {
        v |= (uint64_t)(d[i] & 0x7f) << shift;
        if (!(d[i++] & 0x80))
            return v;
        shift += 7;
    }
    return 0;
}

bool knoop_frame_text_refused(knoop_broker_t *b, knoop_peer_t *p, const Knoop__Frame *f, const uint8_t *data,
                              size_t len)
{
    char path[128];
    int rc = knoop_frame_text_check(data, len, path, sizeof path);
    if (rc == 0)
        return false;
    b->stats.bad_frames++;
    const char *what = rc == -EINVAL ? "contains a NUL character" : "is not valid UTF-8";
    knoop_log_info("frame.refused", "party=%s field=%s code=BAD_FRAME reason=\"%s\"", p->party[0] ? p->party : "-",
                   path, what);
    if (f->body_case == KNOOP__FRAME__BODY_PUBLISH) {
        knoop_send_rejected(b, p, f->publish->ref, KNOOP__ERROR_CODE__BAD_FRAME,
                            "%s %s: every string field must be UTF-8 text", path, what);
        return true;
    }
    /* The stream names the subscription, unless the stream is the field at fault. */
    const char *stream = knoop_frame_stream(f);
    const char *dot = strchr(path, '.');
    if (dot && strcmp(dot, ".stream") == 0)
        stream = NULL;
    knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__BAD_FRAME, stream, "%s %s: every string field must be UTF-8 text",
                            path, what);
    return true;
}
