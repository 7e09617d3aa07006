#!/usr/bin/python3
# example_pubsub.py — a neighbourhood team publishing referrals to the cooperative and a subscriber printing its
# inbox, over knoop_client.py; runs against `make run`'s knoopd on tcp://127.0.0.1:5570.
"""Example publisher and subscriber for knoopd.

    # both in one process: team 99980001 refers 5 clients to the cooperative 99990000, which prints them
    /usr/bin/python3 clients/python/example_pubsub.py

    # or separately (two terminals)
    /usr/bin/python3 clients/python/example_pubsub.py --role subscriber --party 99990000 --idle 0
    /usr/bin/python3 clients/python/example_pubsub.py --role publisher --party 0917 --to 99990000 --count 100

The subscriber reads inbox.<party> under a durable subscriber name, so a restart continues where it stopped.
Client BSNs are test numbers (99999xxxx, passing the 11-test); knoopd pseudonymises them: subscribers see
client_ref, a keyed hash, never the BSN.
"""

import argparse
import json
import sys
import time

from knoop_client import Client, KnoopError, knoop_pb2

TEST_BSNS = ["999990007", "999990019", "999990020", "999990032"]
PRODUCTS = ["begeleiding", "huishoudelijke-hulp", "dagbesteding", "schuldhulpverlening", "welzijn"]


def referrals(party, receiver, count):
    """Envelope fields for `count` referrals. Identificatie: 12 characters, unique per run (dedup key)."""
    run = int(time.time()) % 1000000
    for i in range(count):
        body = {"product": PRODUCTS[i % len(PRODUCTS)], "from": party, "regie": "client",
                "note": "intake done by the neighbourhood team; client chose this provider"}
        yield dict(receiver=receiver, kind="REFERRAL", message_type="knoop.Referral",
                   identificatie="BT%06d%04d" % (run, i % 10000), client_bsn=TEST_BSNS[i % len(TEST_BSNS)],
                   content_type="application/json; knoop.Referral", payload=json.dumps(body))


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
    try:
        body = json.loads(e.payload) if e.payload else None
    except ValueError:
        body = "%d bytes" % len(e.payload)
    print("  %s seq %d attempt %d: %s -> %s %s %s id=%s client_ref=%s… %s"
          % (d.stream, d.seq, d.attempt, e.sender, e.receiver or "(routed)", knoop_pb2.Kind.Name(e.kind),
             e.message_type, e.identificatie, e.client_ref.hex()[:12], body))


def subscribe(args):
    stream = args.stream or "inbox." + args.party
    with Client(args.endpoint, timeout=args.timeout) as c:
        c.hello(args.party, "example-subscriber")
        s = c.subscribe(stream, args.subscriber, start=args.start, credit=args.credit)
        print("subscriber: %s as %s from position %d" % (s.stream, s.subscriber, s.position))
        # --idle 0: run until interrupted; receive() heartbeats while it waits.
        idle = args.idle if args.idle > 0 else float("inf")
        n = 0
        try:
            for d in c.deliveries(timeout=idle):
                show(d)
                c.ack(d.stream, d.seq)
                n += 1
        except KeyboardInterrupt:
            pass
        print("subscriber: %d messages received and acked" % n)
        return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", default="tcp://127.0.0.1:5570")
    p.add_argument("--role", choices=["publisher", "subscriber", "both"], default="both")
    p.add_argument("--party", help="who this client is (publisher: default 99980001, the Heerlen neighbourhood "
                   "team; subscriber: default 99990000, the cooperative)")
    p.add_argument("--to", default="99990000", help="receiver of the referrals (default: the cooperative)")
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
        if args.role == "subscriber":
            args.party = args.party or args.to
            return subscribe(args)
        pub = argparse.Namespace(**vars(args))
        pub.party = args.party or "99980001"
        rc = publish(pub)
        sub = argparse.Namespace(**vars(args))
        sub.party, sub.stream = args.to, args.stream
        return subscribe(sub) or rc
    except KnoopError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
