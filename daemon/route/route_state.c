/* route_state.c — one open-addressing hash table (linear probing, grown at 70 % load) keyed by (kind, scope, client ref);
 * routing only ever makes entries inactive, never deletes them, so there are no tombstones and decisions allocate
 * nothing. Forgetting a client (rare: an operator's request, or its last message purged) rebuilds the table. */
#include "route/route_state.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t hash;   /* 0 = empty (a real hash of 0 is mapped to 1) */
    uint64_t former; /* sticky: former member slots */
    uint8_t ref[KNOOP_CLIENT_REF_MAX];
    uint8_t ref_len;
    uint8_t kind; /* knoop_route_row_kind_t */
    uint8_t active;
    int8_t member_slot; /* sticky: current member */
    uint32_t scope;     /* sticky: contract index; passed: subcontractor party index */
} slot_t;

struct knoop_route_state {
    const knoop_network_t *net;            /* borrowed */
    slot_t *slots;                         /* owned */
    size_t cap, count;                     /* cap is a power of two */
    uint32_t load[KNOOP_MAX_COOP_MEMBERS]; /* active sticky entries per member slot */
};

static uint64_t hash_key(uint8_t kind, uint32_t scope, const uint8_t *ref, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ ((uint64_t)kind << 32 | scope); /* FNV-1a, seeded by kind/scope */
    for (size_t i = 0; i < len; i++) {
        h ^= ref[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 29; /* FNV's low bits are weak for short keys; mix before masking */
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h ? h : 1;
}

static slot_t *find(const knoop_route_state_t *st, uint8_t kind, uint32_t scope, const uint8_t *ref, size_t len,
                    uint64_t h)
{
    for (size_t i = h & (st->cap - 1);; i = (i + 1) & (st->cap - 1)) {
        slot_t *s = &st->slots[i];
        if (s->hash == 0 || (s->hash == h && s->kind == kind && s->scope == scope && s->ref_len == len &&
                             memcmp(s->ref, ref, len) == 0))
            return s;
    }
}

static int grow(knoop_route_state_t *st)
{
    size_t ncap = st->cap * 2;
    slot_t *ns = calloc(ncap, sizeof *ns); /* owned by st once swapped in */
    if (ns == NULL)
        return -ENOMEM;
    slot_t *old = st->slots;
    size_t ocap = st->cap;
    st->slots = ns;
    st->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].hash) {
            size_t j = old[i].hash & (ncap - 1);
            while (ns[j].hash)
                j = (j + 1) & (ncap - 1);
            ns[j] = old[i];
        }
    free(old);
    return 0;
}

/* Finds or creates; *created tells which. */
static int upsert(knoop_route_state_t *st, uint8_t kind, uint32_t scope, const uint8_t *ref, size_t len, slot_t **out,
                  bool *created)
{
    if (ref == NULL || len == 0 || len > KNOOP_CLIENT_REF_MAX)
        return -EINVAL;
    uint64_t h = hash_key(kind, scope, ref, len);
    slot_t *s = find(st, kind, scope, ref, len, h);
    *created = s->hash == 0;
    if (*created) {
        if ((st->count + 1) * 10 > st->cap * 7) {
            int rc = grow(st);
            if (rc != 0)
                return rc;
            s = find(st, kind, scope, ref, len, h);
        }
        memset(s, 0, sizeof *s);
        s->hash = h;
        s->kind = kind;
        s->scope = scope;
        s->ref_len = (uint8_t)len;
        memcpy(s->ref, ref, len);
        s->member_slot = -1;
        st->count++;
    }
    *out = s;
    return 0;
}

static const slot_t *lookup(const knoop_route_state_t *st, uint8_t kind, uint32_t scope, const uint8_t *ref, size_t len)
{
    if (ref == NULL || len == 0 || len > KNOOP_CLIENT_REF_MAX)
        return NULL;
    const slot_t *s = find(st, kind, scope, ref, len, hash_key(kind, scope, ref, len));
    return s->hash ? s : NULL;
}

int knoop_route_state_new(const knoop_network_t *net, size_t expected_clients, knoop_route_state_t **out)
{
    if (net == NULL || out == NULL)
        return -EINVAL;
    knoop_route_state_t *st = calloc(1, sizeof *st); /* owned by the caller through *out */
    if (st == NULL)
        return -ENOMEM;
    st->net = net;
    st->cap = 64;
    while (st->cap * 7 < expected_clients * 10)
        st->cap *= 2;
    if (!(st->slots = calloc(st->cap, sizeof *st->slots))) {
        free(st);
        return -ENOMEM;
    }
    *out = st;
    return 0;
}

void knoop_route_state_destroy(knoop_route_state_t **pst)
{
    if (pst == NULL || *pst == NULL)
        return;
    free((*pst)->slots);
    free(*pst);
    *pst = NULL;
}

size_t knoop_route_state_count(const knoop_route_state_t *st)
{
    return st->count;
}

uint32_t knoop_route_state_load(const knoop_route_state_t *st, int member_slot)
{
    return member_slot >= 0 && member_slot < KNOOP_MAX_COOP_MEMBERS ? st->load[member_slot] : 0;
}

int knoop_route_state_sticky(const knoop_route_state_t *st, const knoop_contract_t *c, const uint8_t *ref, size_t len,
                             knoop_sticky_t *out)
{
    if (ref == NULL || len == 0 || len > KNOOP_CLIENT_REF_MAX)
        return -EINVAL;
    const slot_t *s = lookup(st, KNOOP_ROW_STICKY, (uint32_t)c->index, ref, len);
    if (s == NULL)
        return -ENOENT;
    *out = (knoop_sticky_t){s->member_slot, s->active != 0, s->former};
    return 0;
}

int knoop_route_state_assign(knoop_route_state_t *st, const knoop_contract_t *c, const uint8_t *ref, size_t len,
                             int member_slot)
{
    if (member_slot < 0 || member_slot >= KNOOP_MAX_COOP_MEMBERS)
        return -EINVAL;
    slot_t *s;
    bool created;
    int rc = upsert(st, KNOOP_ROW_STICKY, (uint32_t)c->index, ref, len, &s, &created);
    if (rc != 0)
        return rc;
    if (!created && s->active && s->member_slot >= 0)
        st->load[s->member_slot]--;
    if (!created && s->member_slot >= 0 && s->member_slot != member_slot)
        s->former |= UINT64_C(1) << s->member_slot;
    s->former &= ~(UINT64_C(1) << member_slot);
    s->member_slot = (int8_t)member_slot;
    s->active = 1;
    st->load[member_slot]++;
    return 0;
}

int knoop_route_state_release(knoop_route_state_t *st, const knoop_contract_t *c, const uint8_t *ref, size_t len)
{
    slot_t *s = (slot_t *)lookup(st, KNOOP_ROW_STICKY, (uint32_t)c->index, ref, len);
    if (s == NULL)
        return -ENOENT;
    if (s->active && s->member_slot >= 0)
        st->load[s->member_slot]--;
    s->active = 0;
    return 0;
}

bool knoop_route_state_is_passed(const knoop_route_state_t *st, const knoop_party_t *sub, const uint8_t *ref,
                                 size_t len)
{
    const slot_t *s = lookup(st, KNOOP_ROW_PASSED, (uint32_t)sub->index, ref, len);
    return s != NULL && s->active;
}

int knoop_route_state_pass(knoop_route_state_t *st, const knoop_party_t *sub, const uint8_t *ref, size_t len)
{
    slot_t *s;
    bool created;
    int rc = upsert(st, KNOOP_ROW_PASSED, (uint32_t)sub->index, ref, len, &s, &created);
    if (rc == 0)
        s->active = 1;
    return rc;
}

int knoop_route_state_unpass(knoop_route_state_t *st, const knoop_party_t *sub, const uint8_t *ref, size_t len)
{
    slot_t *s = (slot_t *)lookup(st, KNOOP_ROW_PASSED, (uint32_t)sub->index, ref, len);
    if (s == NULL)
        return -ENOENT;
    s->active = 0;
    return 0;
}

/* ---- rows ---- */
static void fill_row(const knoop_route_state_t *st, const slot_t *s, knoop_route_row_t *row)
{
    memset(row, 0, sizeof *row);
    row->kind = s->kind;
    row->client_ref_len = s->ref_len;
    memcpy(row->client_ref, s->ref, s->ref_len);
    row->active = s->active != 0;
    if (s->kind == KNOOP_ROW_STICKY) {
        snprintf(row->scope, sizeof row->scope, "%s", knoop_network_contract_at(st->net, s->scope)->name);
        const knoop_party_t *m = knoop_network_member_by_slot(st->net, s->member_slot);
        snprintf(row->party, sizeof row->party, "%s", m ? m->code : "");
        size_t n = 0;
        for (int b = 0; b < KNOOP_MAX_COOP_MEMBERS; b++)
            if (s->former >> b & 1) {
                const knoop_party_t *f = knoop_network_member_by_slot(st->net, b);
                if (f != NULL)
                    n += (size_t)snprintf(row->former + n, sizeof row->former - n, "%s%s", n ? "," : "", f->code);
            }
    } else {
        const knoop_party_t *sub = knoop_network_party_at(st->net, s->scope);
        snprintf(row->scope, sizeof row->scope, "%s", sub->code);
        snprintf(row->party, sizeof row->party, "%s", sub->main_contractor ? sub->main_contractor->code : "");
    }
}

int knoop_route_state_export(const knoop_route_state_t *st, knoop_route_row_cb cb, void *arg)
{
    knoop_route_row_t row;
    for (size_t i = 0; i < st->cap; i++)
        if (st->slots[i].hash) {
            fill_row(st, &st->slots[i], &row);
            int rc = cb(&row, arg);
            if (rc != 0)
                return rc;
        }
    return 0;
}

int knoop_route_state_row(const knoop_route_state_t *st, knoop_route_row_kind_t kind, const void *scope,
                          const uint8_t *ref, size_t len, knoop_route_row_t *row)
{
    uint32_t idx = kind == KNOOP_ROW_STICKY ? (uint32_t)((const knoop_contract_t *)scope)->index
                                            : (uint32_t)((const knoop_party_t *)scope)->index;
    const slot_t *s = lookup(st, kind, idx, ref, len);
    if (s == NULL)
        return -ENOENT;
    fill_row(st, s, row);
    return 0;
}

int knoop_route_state_import(knoop_route_state_t *st, const knoop_route_row_t *row)
{
    if (row->kind == KNOOP_ROW_PASSED) {
        const knoop_party_t *sub = knoop_network_party(st->net, row->scope);
        if (sub == NULL || sub->kind != KNOOP_PARTY_SUBCONTRACTOR)
            return -ENOENT;
        int rc = knoop_route_state_pass(st, sub, row->client_ref, row->client_ref_len);
        return rc == 0 && !row->active ? knoop_route_state_unpass(st, sub, row->client_ref, row->client_ref_len) : rc;
    }
    if (row->kind != KNOOP_ROW_STICKY)
        return -EINVAL;
    const knoop_contract_t *c = knoop_network_contract(st->net, row->scope);
    const knoop_party_t *m = knoop_network_party(st->net, row->party);
    if (c == NULL || m == NULL || m->member_slot < 0)
        return -ENOENT;
    int rc = knoop_route_state_assign(st, c, row->client_ref, row->client_ref_len, m->member_slot);
    if (rc != 0)
        return rc;
    slot_t *s = (slot_t *)lookup(st, KNOOP_ROW_STICKY, (uint32_t)c->index, row->client_ref, row->client_ref_len);
    /* Former members the new network still knows; the ones it lost are history it can no longer name. */
    char former[sizeof row->former];
    snprintf(former, sizeof former, "%s", row->former);
    for (char *save = NULL, *tok = strtok_r(former, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const knoop_party_t *f = knoop_network_party(st->net, tok);
        if (f != NULL && f->member_slot >= 0 && f->member_slot != m->member_slot)
            s->former |= UINT64_C(1) << f->member_slot;
    }
    return row->active ? 0 : knoop_route_state_release(st, c, row->client_ref, row->client_ref_len);
}

int knoop_route_state_forget(knoop_route_state_t *st, const uint8_t *ref, size_t len, knoop_route_row_cb removed,
                             void *arg)
{
    if (ref == NULL || len == 0 || len > KNOOP_CLIENT_REF_MAX)
        return -EINVAL;
    slot_t *ns = calloc(st->cap, sizeof *ns); /* owned by st once swapped in */
    if (ns == NULL)
        return -ENOMEM;
    int gone = 0;
    knoop_route_row_t row;
    for (size_t i = 0; i < st->cap; i++) {
        const slot_t *s = &st->slots[i];
        if (!s->hash)
            continue;
        if (s->ref_len == len && memcmp(s->ref, ref, len) == 0) {
            if (removed) {
                fill_row(st, s, &row);
                removed(&row, arg);
            }
            if (s->kind == KNOOP_ROW_STICKY && s->active && s->member_slot >= 0)
                st->load[s->member_slot]--;
            gone++;
            continue;
        }
        size_t j = s->hash & (st->cap - 1); /* without tombstones, a delete is a re-insert of the rest */
        while (ns[j].hash)
            j = (j + 1) & (st->cap - 1);
        ns[j] = *s;
    }
    free(st->slots);
    st->slots = ns;
    st->count -= (size_t)gone;
    return gone;
}
