/* knoop-send — publish one message to knoopd and print the Accepted seq (exit 0) or the rejection (exit 1).
 * The payload comes from a file (-f) or standard input; the envelope fields come from flags. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include "base/curve_key.h"
#include "knoop/client.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: knoop-send --from PARTY [--to PARTY] --kind KIND --type MESSAGE_TYPE [options] [-f FILE]\n"
            "  -e, --endpoint URL     knoopd (default tcp://127.0.0.1:5570)\n"
            "      --from PARTY       sender party code (the connection says Hello as this party)\n"
            "      --to PARTY         receiver party code (omit: routed by rule)\n"
            "      --kind KIND        referral, assignment, start, stop, assignment-request, change-request, answer,\n"
            "                         declaration, declaration-answer, retour, plan-update, outcome-report, other\n"
            "      --type TYPE        message type, e.g. WMO301 or knoop.domain.Referral\n"
            "      --id ID            Identificatie (<= 12 chars): a resend with the same id is deduplicated\n"
            "      --bsn BSN          the client's BSN (validated, pseudonymised, never stored)\n"
            "      --correlation ID   the message this one answers\n"
            "      --content-type CT  e.g. 'application/xml; iwmo-3.2; WMO301'\n"
            "  -f, --file FILE        payload (default: standard input)\n"
            "      --server-key FILE  CURVE: knoopd's public key (its .pub file); with --key\n"
            "      --key FILE         CURVE: this client's key pair (knoopctl keys generate; mode 0600), a key of "
            "--from\n");
}

static unsigned char *read_all(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *endpoint = "tcp://127.0.0.1:5570", *file = NULL, *server_key = NULL, *key = NULL;
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    static const struct option opts[] = {{"endpoint", required_argument, 0, 'e'},
                                         {"from", required_argument, 0, 'F'},
                                         {"to", required_argument, 0, 'T'},
                                         {"kind", required_argument, 0, 'k'},
                                         {"type", required_argument, 0, 't'},
                                         {"id", required_argument, 0, 'i'},
                                         {"bsn", required_argument, 0, 'b'},
                                         {"correlation", required_argument, 0, 'c'},
                                         {"content-type", required_argument, 0, 'C'},
                                         {"file", required_argument, 0, 'f'},
                                         {"server-key", required_argument, 0, 'S'},
                                         {"key", required_argument, 0, 'K'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "e:f:h", opts, NULL)) != -1) {
        switch (o) {
        case 'e':
            endpoint = optarg;
            break;
        case 'F':
            env.sender = optarg;
            break;
        case 'T':
            env.receiver = optarg;
            break;
        case 'k': {
            int k = knoop_kind_parse(optarg);
            if (k < 0) {
                fprintf(stderr, "knoop-send: unknown kind '%s'\n", optarg);
                return 2;
            }
            env.kind = (Knoop__Kind)k;
            break;
        }
        case 't':
            env.message_type = optarg;
            break;
        case 'i':
            env.identificatie = optarg;
            break;
        case 'b':
            env.client_bsn = optarg;
            break;
        case 'c':
            env.correlation_id = optarg;
            break;
        case 'C':
            env.content_type = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'S':
            server_key = optarg;
            break;
        case 'K':
            key = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!env.sender[0]) {
        usage(stderr);
        return 2;
    }
    char err[512];
    knoop_curve_client_keys_t keys;
    if (knoop_curve_client_keys(server_key, key, NULL, env.sender, &keys, err, sizeof err) != 0) {
        fprintf(stderr, "knoop-send: %s\n", err);
        return !server_key != !key ? 2 : 1;
    }
    FILE *in = file ? fopen(file, "rb") : stdin;
    if (!in) {
        perror(file);
        return 2;
    }
    size_t len = 0;
    unsigned char *payload = read_all(in, &len);
    if (file)
        fclose(in);
    env.payload.data = payload;
    env.payload.len = len;
    knoop_client_t *c;
    knoop_client_curve_t curve = {keys.server_public, keys.public_key, keys.secret_key};
    int rc = knoop_client_connect_curve(endpoint, keys.enabled ? &curve : NULL, env.sender, "knoop-send", 5000, &c, err,
                                        sizeof err);
    sodium_memzero(&keys, sizeof keys);
    if (rc != 0) {
        fprintf(stderr, "knoop-send: %s\n", err);
        free(payload);
        return 1;
    }
    knoop_client_publish(c, 1, &env);
    int code = 1;
    for (;;) {
        Knoop__Frame *f;
        int rc = knoop_client_recv(c, 30000, &f);
        if (rc != 0) {
            fprintf(stderr, "knoop-send: no answer within 30 s; the message may or may not be stored: send it "
                            "again with the same --id and it is deduplicated\n");
            break;
        }
        if (f->body_case == KNOOP__FRAME__BODY_ACCEPTED) {
            printf("accepted seq=%llu message_id=%s%s\n", (unsigned long long)f->accepted->seq, f->accepted->message_id,
                   f->accepted->duplicate ? " duplicate" : "");
            code = 0;
        } else if (f->body_case == KNOOP__FRAME__BODY_REJECTED) {
            fprintf(stderr, "rejected: %s: %s\n", knoop_error_code_name(f->rejected->code), f->rejected->reason);
        } else if (f->body_case == KNOOP__FRAME__BODY_ERROR) {
            fprintf(stderr, "error: %s: %s\n", knoop_error_code_name(f->error->code), f->error->reason);
        } else {
            knoop_client_frame_free(f);
            continue;
        }
        knoop_client_frame_free(f);
        break;
    }
    knoop_client_destroy(&c);
    free(payload);
    return code;
}
