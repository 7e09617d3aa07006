#!/usr/bin/python3
# example_pubsub.py — a neighbourhood team publishing referrals to the cooperative and a subscriber printing its
# inbox, over knoop_client.py; runs against `make run`'s knoopd on tcp://127.0.0.1:5570.
"""Example publisher and subscriber for knoopd.

    # both in one process: team 99980001 refers 5 clients to the cooperative 99990000; the subscriber follows
    # the inboxes of the cooperative and its members and prints where each referral was dispatched
    /usr/bin/python3 clients/python/example_pubsub.py

    # or separately (two terminals)
    /usr/bin/python3 clients/python/example_pubsub.py --role subscriber --idle 0
    /usr/bin/python3 clients/python/example_pubsub.py --role publisher --party 0917 --to 99990000 --count 100

The subscriber reads inbox.<party> under a durable subscriber name, so a restart continues where it stopped.
Under a white-label contract (Heerlen: 0917 and its neighbourhood team) knoopd dispatches a referral to the
cooperative to one member: the one already serving the client, else one offering the product, else the least
loaded; that is why the subscriber follows every member.
Client BSNs are test numbers (99999xxxx, passing the 11-test); knoopd pseudonymises them: subscribers see
client_ref, a keyed hash, never the BSN.
"""

import argparse
import json
import sys
import time

from knoop_client import Client, KnoopError, knoop_pb2

try:
    import domain_pb2  # noqa: E402  (generated next to knoop_pb2, which knoop_client put on the path)
except ImportError as e:
    raise ImportError("domain_pb2 (proto/domain.proto) is not generated next to knoop_pb2: run `make`, or "
                      "`protoc --proto_path=proto --python_out=build/gen/python proto/*.proto`") from e

TEST_BSNS = ["999990007", "999990019", "999990020", "999990032"]
COOPERATIVE = "99990000"
MEMBERS = ["9999000%d" % i for i in range(1, 9)]
PRODUCTS = ["begeleiding", "huishoudelijke-hulp", "dagbesteding", "schuldhulpverlening", "welzijn"]


REFERRAL = "knoop.domain.Referral"


def referrals(party, receiver, count):
    """Envelope fields for `count` native referrals (proto/domain.proto). Identificatie: 12 characters, unique
    per run (the deduplication key). The client is named only by client_bsn in the envelope, never in the
    payload; knoopd pseudonymises it."""
    run = int(time.time()) % 1000000
    for i in range(count):
        ident = "BT%06d%04d" % (run, i % 10000)
        body = domain_pb2.Referral(schema_version=1, referral_id=ident, product=PRODUCTS[i % len(PRODUCTS)],
                                   need="support at home after intake by the neighbourhood team",
                                   urgency=domain_pb2.ROUTINE, law="wmo")
        yield dict(receiver=receiver, kind="REFERRAL", message_type=REFERRAL, identificatie=ident,
                   client_bsn=TEST_BSNS[i % len(TEST_BSNS)], content_type="application/x-protobuf; " + REFERRAL,
                   payload=body.SerializeToString())


def publish(args):
    with Client(args.endpoint, timeout=args.timeout) as c:
        w = c.hello(args.party, "example-team")
        print("publisher: party %s, session %s, broker %s, heartbeat %d ms"
              % (args.party, w.session, w.broker_version, w.heartbeat_ms))
        t0 = time.monotonic()
        results = c.publish_many(referrals(args.party, args.to, args.count), window=args.window)
        took = time.monotonic() - t0
        accepted = 0
        for ref, r in results.items():
            if isinstance(r, knoop_pb2.Accepted):
                accepted += 1
                if args.count <= 20:
                    print("  ref %d accepted: seq %d, message_id %s%s"
                          % (ref, r.seq, r.message_id, " (duplicate)" if r.duplicate else ""))
            else:
                print("  ref %d rejected: %s: %s" % (ref, knoop_pb2.ErrorCode.Name(r.code), r.reason))
        print("publisher: %d of %d accepted in %.3f s (window %d)" % (accepted, len(results), took, args.window))
        return 0 if accepted == len(results) else 1


def show(d):
    e = d.envelope
    if e.content_type.endswith(REFERRAL):
        r = domain_pb2.Referral.FromString(e.payload)
        body = "product=%s urgency=%s" % (r.product or "-", domain_pb2.Urgency.Name(r.urgency))
    else:
        try:
            body = json.loads(e.payload) if e.payload else None
        except ValueError:
            body = "%d bytes" % len(e.payload)
    print("  %s seq %d attempt %d: %s -> %s %s %s id=%s client_ref=%s… %s"
          % (d.stream, d.seq, d.attempt, e.sender, e.receiver or "(routed)", knoop_pb2.Kind.Name(e.kind),
             e.message_type, e.identificatie, e.client_ref.hex()[:12], body))


def subscribe(args):
    """Follows inbox.<party> for each party in args.follow (one connection per party: a connection is one
    party) and prints every delivery, so you see where routing put each message."""
    clients = []
    try:
        for party in args.follow:
            c = Client(args.endpoint, timeout=args.timeout)
            clients.append(c)
            c.hello(party, "example-subscriber")
            s = c.subscribe(args.stream or "inbox." + party, args.subscriber, start=args.start, credit=args.credit)
            print("subscriber: %s as %s from position %d" % (s.stream, s.subscriber, s.position))
        # --idle 0: run until interrupted. Each receive() heartbeats (and checks its session) while it waits.
        idle = args.idle if args.idle > 0 else float("inf")
        n, quiet_since = 0, time.monotonic()
        try:
            while time.monotonic() - quiet_since < idle:
                for c in clients:
                    d = c.receive(timeout=0.05)
                    if isinstance(d, knoop_pb2.Deliver):
                        show(d)
                        c.ack(d.stream, d.seq)
                        n += 1
                        quiet_since = time.monotonic()
                    elif isinstance(d, knoop_pb2.Error):
                        raise KnoopError(d.code, d.reason)
        except KeyboardInterrupt:
            pass
        print("subscriber: %d messages received and acked" % n)
        return 0
    finally:
        for c in clients:
            c.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", default="tcp://127.0.0.1:5570")
    p.add_argument("--role", choices=["publisher", "subscriber", "both"], default="both")
    p.add_argument("--party", help="who the publisher is (default 99980001, the Heerlen neighbourhood team); "
                   "with --role subscriber: whose inbox to follow")
    p.add_argument("--to", default="99990000", help="receiver of the referrals (default: the cooperative)")
    p.add_argument("--follow", default=",".join([COOPERATIVE] + MEMBERS),
                   help="subscriber: the parties whose inboxes to follow, comma-separated (default: the cooperative "
                   "and its eight members, where white-label dispatch puts referrals to the cooperative)")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--window", type=int, default=64, help="publishes in flight")
    p.add_argument("--stream", help="stream to read (default inbox.<party>)")
    p.add_argument("--subscriber", default="example", help="durable subscriber name")
    p.add_argument("--start", default="durable", choices=["durable", "earliest", "latest"])
    p.add_argument("--credit", type=int, default=64)
    p.add_argument("--idle", type=float, default=2.0, help="subscriber stops after this many quiet seconds "
                   "(0: never)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer")
    args = p.parse_args(argv)
    try:
        if args.role == "publisher":
            args.party = args.party or "99980001"
            return publish(args)
        args.follow = [args.party] if args.role == "subscriber" and args.party else args.follow.split(",")
        if args.stream and len(args.follow) != 1:
            p.error("--stream needs a single party to read it as (--party or --follow)")
        if args.role == "subscriber":
            return subscribe(args)
        pub = argparse.Namespace(**vars(args))
        pub.party = args.party or "99980001"
        rc = publish(pub)
        return subscribe(args) or rc
    except KnoopError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
