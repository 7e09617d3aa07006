/* knoop-tail — subscribe to a stream and print each delivery (and ack it), like tail -f for a knoop stream.
 * Stops after --count deliveries or --idle seconds without one; keeps the connection alive with heartbeats. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include "base/curve_key.h"
#include "knoop/client.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: knoop-tail --party PARTY --stream STREAM [options]\n"
                 "  -e, --endpoint URL    knoopd (default tcp://127.0.0.1:5570)\n"
                 "      --party PARTY     who reads (Hello)\n"
                 "      --stream STREAM   e.g. inbox.99990000, outcomes.0917\n"
                 "      --name NAME       durable subscriber name (default: none, nothing remembered)\n"
                 "      --from WHERE      durable (default), earliest, latest, seq:N, time:UNIX_SECONDS\n"
                 "      --credit N        unacked deliveries in flight (default 100)\n"
                 "      --count N         exit after N deliveries\n"
                 "      --idle SECONDS    exit after this long without a delivery\n"
                 "      --no-ack          do not ack (deliveries return after the visibility timeout)\n"
                 "      --payload         print the payload as text after each line\n"
                 "      --server-key FILE CURVE: knoopd's public key (its .pub file); with --key\n"
                 "      --key FILE        CURVE: this client's key pair (knoopctl keys generate; mode 0600), a key of "
                 "--party\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *endpoint = "tcp://127.0.0.1:5570", *party = NULL, *stream = NULL, *name = "", *from = "durable";
    const char *server_key = NULL, *key = NULL;
    long credit = 100, count = -1;
    double idle = -1;
    int ack = 1, show_payload = 0;
    static const struct option opts[] = {{"endpoint", required_argument, 0, 'e'},
                                         {"party", required_argument, 0, 'p'},
                                         {"stream", required_argument, 0, 's'},
                                         {"name", required_argument, 0, 'n'},
                                         {"from", required_argument, 0, 'F'},
                                         {"credit", required_argument, 0, 'c'},
                                         {"count", required_argument, 0, 'N'},
                                         {"idle", required_argument, 0, 'I'},
                                         {"no-ack", no_argument, 0, 'A'},
                                         {"payload", no_argument, 0, 'P'},
                                         {"server-key", required_argument, 0, 'S'},
                                         {"key", required_argument, 0, 'K'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "e:h", opts, NULL)) != -1) {
        switch (o) {
        case 'e':
            endpoint = optarg;
            break;
        case 'p':
            party = optarg;
            break;
        case 's':
            stream = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'F':
            from = optarg;
            break;
        case 'c':
            credit = atol(optarg);
            break;
        case 'N':
            count = atol(optarg);
            break;
        case 'I':
            idle = atof(optarg);
            break;
        case 'A':
            ack = 0;
            break;
        case 'P':
            show_payload = 1;
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
    if (!party || !stream || credit <= 0) {
        usage(stderr);
        return 2;
    }
    Knoop__StartAt start = KNOOP__START_AT__DURABLE;
    uint64_t start_seq = 0;
    int64_t start_time = 0;
    if (strcmp(from, "earliest") == 0) {
        start = KNOOP__START_AT__EARLIEST;
    } else if (strcmp(from, "latest") == 0) {
        start = KNOOP__START_AT__LATEST;
    } else if (strncmp(from, "seq:", 4) == 0) {
        start = KNOOP__START_AT__SEQ;
        start_seq = strtoull(from + 4, NULL, 10);
    } else if (strncmp(from, "time:", 5) == 0) {
        start = KNOOP__START_AT__TIME;
        start_time = (int64_t)(atof(from + 5) * 1e6);
    } else if (strcmp(from, "durable") != 0) {
        fprintf(stderr, "knoop-tail: --from %s: use durable, earliest, latest, seq:N or time:UNIX_SECONDS\n", from);
        return 2;
    }
    char err[512];
    knoop_curve_client_keys_t keys;
    if (knoop_curve_client_keys(server_key, key, NULL, party, &keys, err, sizeof err) != 0) {
        fprintf(stderr, "knoop-tail: %s\n", err);
        return !server_key != !key ? 2 : 1;
    }
    knoop_client_t *c;
    knoop_client_curve_t curve = {keys.server_public, keys.public_key, keys.secret_key};
    int rc = knoop_client_connect_curve(endpoint, keys.enabled ? &curve : NULL, party, "knoop-tail", 5000, &c, err,
                                        sizeof err);
    sodium_memzero(&keys, sizeof keys);
    if (rc != 0) {
        fprintf(stderr, "knoop-tail: %s\n", err);
        return 1;
    }
    uint32_t hb_ms = knoop_client_welcome(c)->heartbeat_ms;
    knoop_client_subscribe(c, stream, name, start, start_seq, start_time, (uint32_t)credit);
    double last_delivery = now_s(), last_hb = now_s();
    long seen = 0;
    int code = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (count < 0 || seen < count) {
        if (now_s() - last_hb > hb_ms / 2000.0) {
            knoop_client_heartbeat(c);
            last_hb = now_s();
        }
        if (idle >= 0 && now_s() - last_delivery > idle)
            break;
        Knoop__Frame *f;
        if (knoop_client_recv(c, (int)(hb_ms / 2 > 0 ? hb_ms / 2 : 100), &f) != 0)
            continue;
        if (f->body_case == KNOOP__FRAME__BODY_DELIVER) {
            Knoop__Deliver *d = f->deliver;
            Knoop__Envelope *e = d->envelope;
            printf("seq=%llu attempt=%u stream=%s sender=%s receiver=%s kind=%s type=%s id=%s bytes=%zu\n",
                   (unsigned long long)d->seq, d->attempt, d->stream, e ? e->sender : "", e ? e->receiver : "",
                   knoop_kind_name(e ? (int)e->kind : 0), e ? e->message_type : "", e ? e->identificatie : "",
                   e ? e->payload.len : 0);
            if (show_payload && e)
                printf("%.*s\n", (int)e->payload.len, (const char *)e->payload.data);
            if (ack)
                knoop_client_ack(c, d->stream, d->seq);
            seen++;
            last_delivery = now_s();
        } else if (f->body_case == KNOOP__FRAME__BODY_SUBSCRIBED) {
            fprintf(stderr, "knoop-tail: subscribed to %s as '%s' at position %llu\n", f->subscribed->stream,
                    f->subscribed->subscriber, (unsigned long long)f->subscribed->position);
        } else if (f->body_case == KNOOP__FRAME__BODY_ERROR) {
            fprintf(stderr, "knoop-tail: %s: %s\n", knoop_error_code_name(f->error->code), f->error->reason);
            code = 1;
            knoop_client_frame_free(f);
            break;
        }
        knoop_client_frame_free(f);
    }
    knoop_client_destroy(&c);
    return code;
}
