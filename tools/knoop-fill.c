/* knoop-fill — publishes COUNT messages of SIZE bytes to a knoopd with WINDOW publishes in flight and waits for every
 * answer: the journal `make bench` restarts knoopd on ("restart with 1,000,000 messages journaled", docs/bench.md).
 * Exits 1 on any Rejected or on an answer that does not come within 10 s. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "knoop/client.h"
#include "knoop/names.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *endpoint = "tcp://127.0.0.1:5570";
    long count = 1000000, size = 256, window = 1024;
    int o;
    while ((o = getopt(argc, argv, "e:n:s:w:")) != -1) {
        switch (o) {
        case 'e':
            endpoint = optarg;
            break;
        case 'n':
            count = atol(optarg);
            break;
        case 's':
            size = atol(optarg);
            break;
        case 'w':
            window = atol(optarg);
            break;
        default:
            fprintf(stderr, "usage: knoop-fill [-e ENDPOINT] [-n COUNT] [-s SIZE] [-w WINDOW]\n");
            return 2;
        }
    }
    if (count < 1 || size < 1 || size > (1 << 20) || window < 1) {
        fprintf(stderr, "knoop-fill: COUNT and WINDOW >= 1, 1 <= SIZE <= 1 MiB\n");
        return 2;
    }
    char err[512];
    knoop_client_t *c;
    if (knoop_client_connect(endpoint, "0917", "knoop-fill", 5000, &c, err, sizeof err) != 0) {
        fprintf(stderr, "knoop-fill: %s\n", err);
        return 1;
    }
    char *body = malloc((size_t)size), ident[16];
    if (!body)
        return 1;
    memset(body, 'f', (size_t)size);
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = (char *)"0917";
    env.receiver = (char *)"99990000";
    env.kind = (Knoop__Kind)knoop_kind_parse("referral");
    env.message_type = (char *)"knoop.Referral";
    env.payload.data = (uint8_t *)body;
    env.payload.len = (size_t)size;
    env.identificatie = ident;
    long sent = 0, answered = 0, rc = 0;
    double t0 = now_s();
    while (answered < count) {
        while (sent < count && sent - answered < window) {
            snprintf(ident, sizeof ident, "F%lx", (unsigned long)sent + 1); /* unique: nothing deduplicated */
            knoop_client_publish(c, (uint64_t)++sent, &env);
        }
        Knoop__Frame *f;
        if (knoop_client_recv(c, 10000, &f) != 0) {
            fprintf(stderr, "knoop-fill: no answer for 10 s after %ld of %ld\n", answered, count);
            rc = 1;
            break;
        }
        if (f->body_case == KNOOP__FRAME__BODY_REJECTED) {
            fprintf(stderr, "knoop-fill: rejected: %s\n", f->rejected->reason);
            rc = 1;
        }
        if (f->body_case == KNOOP__FRAME__BODY_ACCEPTED || f->body_case == KNOOP__FRAME__BODY_REJECTED)
            answered++;
        knoop_client_frame_free(f);
        if (rc)
            break;
    }
    double dt = now_s() - t0;
    printf("filled %ld messages of %ld bytes in %.1f s (%.0f msgs/s)\n", answered, size, dt, (double)answered / dt);
    free(body);
    knoop_client_destroy(&c);
    return (int)rc;
}
