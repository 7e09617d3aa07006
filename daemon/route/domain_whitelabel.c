/* domain_whitelabel.c — the white-label rewrite of native payloads (proto/domain.proto): a generic walk over the
 * decoded message by its descriptor, so a field added to domain.proto later is checked too; only the free-text and
 * provider-code fields listed below are rewritten, a member code in any other string makes the rewrite fail. */
#include "route/domain_check.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/codes.h"

/* Words and provider codes, where "the cooperative" may stand for "the member" without changing what is said. */
static const char *const rewritable_fields[] = {
    "knoop.domain.Referral.need",           "knoop.domain.Referral.preferred_provider",
    "knoop.domain.Goal.description",        "knoop.domain.PlanUpdate.reason",
    "knoop.domain.PlanUpdate.new_provider", "knoop.domain.IndicatorValue.text",
    "knoop.domain.RetourCode.message",      "knoop.domain.Retour.reason",
};

typedef struct wl {
    const char *const *members;
    size_t n;
    const char *to;
    size_t count;
    char *where;
    size_t wherelen;
} wl_t;

static bool rewritable(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
    size_t dl = strlen(d->name);
    for (size_t i = 0; i < sizeof rewritable_fields / sizeof rewritable_fields[0]; i++) {
        const char *r = rewritable_fields[i];
        if (strncmp(r, d->name, dl) == 0 && r[dl] == '.' && strcmp(r + dl + 1, f->name) == 0)
            return true;
    }
    return false;
}

static int one_string(wl_t *w, const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f, char *s)
{
    if (!s)
        return 0;
    size_t len = strlen(s), from = 0;
    long at;
    while ((at = knoop_agb_find(s + from, len - from, w->members, w->n, NULL)) >= 0) {
        if (!rewritable(d, f)) {
            snprintf(w->where, w->wherelen, "%s.%s", d->name, f->name);
            return -EPERM;
        }
        memcpy(s + from + (size_t)at, w->to, 8); /* 8 digits for 8 digits: the string keeps its length */
        from += (size_t)at + 8;
        w->count++;
    }
    return 0;
}

static int walk(wl_t *w, ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        /* A oneof member's storage is shared: it holds this field only when the case says so. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(uint32_t *)((char *)m + f->quantifier_offset) != f->id)
            continue;
        void *slot = (char *)m + f->offset;
        size_t count = 1;
        void **items = slot;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(size_t *)((char *)m + f->quantifier_offset);
            items = *(void ***)slot;
        }
        for (size_t k = 0; k < count; k++) {
            int rc = f->type == PROTOBUF_C_TYPE_STRING ? one_string(w, d, f, items[k])
                     : items[k]                        ? walk(w, items[k])
                                                       : 0;
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int knoop_domain_whitelabel(const char *content_type, const uint8_t *payload, size_t len, const char *const *members,
                            size_t n, const char *to, uint8_t **out, size_t *out_len, char *where, size_t wherelen)
{
    *out = NULL;
    *out_len = 0;
    if (where && wherelen)
        where[0] = '\0';
    const ProtobufCMessageDescriptor *desc = knoop_domain_descriptor(content_type);
    if (!desc)
        return -ENOTSUP;
    if (!knoop_code_is_agb(to))
        return -EINVAL;
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, payload);
    if (!m)
        return -EBADMSG;
    char none[1];
    wl_t w = {.members = members,
              .n = n,
              .to = to,
              .where = where && wherelen ? where : none,
              .wherelen = where && wherelen ? wherelen : sizeof none};
    int rc = walk(&w, m);
    if (rc == 0 && w.count > 0) {
        size_t size = protobuf_c_message_get_packed_size(m);
        *out = malloc(size ? size : 1);
        if (*out)
            *out_len = protobuf_c_message_pack(m, *out);
        else
            rc = -ENOMEM;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}
