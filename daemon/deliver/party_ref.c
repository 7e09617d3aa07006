/* party_ref.c — rewriting a stored envelope's client reference for the party it is delivered to (party_ref.h). Done
 * per delivery, on the bytes as stored, since one stored message (and the fan-out cache's copy) serves every party
 * that reads its stream. */
#include "deliver/party_ref.h"
#include <string.h>
#include "base/pseudonym.h"

#define CLIENT_REF_FIELD 10

static int varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t b = p[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

long knoop_envelope_client_ref_at(const uint8_t *env, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        uint64_t key, n;
        if (varint(env, len, &pos, &key) != 0)
            return -1;
        switch (key & 7) {
        case 0:
            if (varint(env, len, &pos, &n) != 0)
                return -1;
            break;
        case 1:
            if (len - pos < 8) /* a cut fixed64: not an envelope knoopd wrote */
                return -1;
            pos += 8;
            break;
        case 5:
            if (len - pos < 4)
                return -1;
            pos += 4;
            break;
        case 2:
            if (varint(env, len, &pos, &n) != 0 || n > len - pos)
                return -1;
            if (key >> 3 == CLIENT_REF_FIELD && n == KNOOP_CLIENT_REF_BYTES)
                return (long)pos;
            pos += (size_t)n;
            break;
        default: /* groups: never in an envelope */
            return -1;
        }
    }
    return -1;
}

void knoop_envelope_for_party(const uint8_t key[32], const char *party, const uint8_t *env, size_t len, long at,
                              uint8_t *out)
{
    memcpy(out, env, len);
    knoop_client_ref_for_party(key, env + at, party, out + at);
}
