#!/usr/bin/env python3
"""test_groups.py — consumer groups belong to their party (docs/delivery.md): another party is refused a group it did
not create, even on a stream both may read (a main contractor and its subcontractor share the subcontractor's
inbox), also after a restart; only the connection that holds a delivery may Ack or Nack it (another member's Ack is
ignored and counted, the delivery stays with its holder); a party owns at most subscriber_max_per_party groups (a name on a stream); a
group with no member and nothing to deliver expires after subscriber_idle_expiry, a busy or connected one stays."""
import os
import time

from harness import REPO, Client, Daemon, KnoopError, check, check_eq, code_name, pb, run, test

SUB, SUB_MAIN = "99990101", "99990003"  # the demo's subcontractor and its main contractor
SHARED = "inbox." + SUB                 # both may read it


def demo_network():
    """The `network:` section of deploy/knoopd.yaml."""
    with open(os.path.join(REPO, "deploy", "knoopd.yaml"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("network:"))
    return "\n".join(lines[start:]) + "\n"


def refused(c, stream, name, code):
    try:
        c.subscribe(stream, name)
    except KnoopError as e:
        check_eq(code_name(e.code), code, "the refusal's code (%s)" % e.reason)
        check_eq(e.frame.error.stream, stream, "Error.stream names the stream")
        return e.reason
    raise AssertionError("Subscribe(%s, %s) was not refused" % (stream, name))


def owners(d):
    return {(r["stream"], r["subscriber"]): r["owner"] for r in d.table("subscribers")}


@test
def another_partys_group_is_refused_even_on_a_stream_both_may_read():
    with Daemon(network=demo_network(), heartbeat_ms=5000, peer_timeout_ms=120000) as d:
        main, sub = Client(d, SUB_MAIN), Client(d, SUB)
        main.subscribe(SHARED, "intake")
        why = refused(sub, SHARED, "intake", "NOT_AUTHORISED")
        check("'intake'" in why and SHARED in why and "another party" in why, "the reason", why)
        check(SUB_MAIN not in why, "the reason does not name the owner", why)
        sub.subscribe(SHARED, "own")            # its own name on the same stream
        Client(d, SUB).subscribe(SHARED)        # and an ephemeral subscription
        check_eq(owners(d)[(SHARED, "intake")], SUB_MAIN, "owner of intake")
        check_eq(owners(d)[(SHARED, "own")], SUB, "owner of own")
        check("event=subscribe.refused" in d.log(), "the refusal is logged")
        d.restart()                             # the owner is stored with the cursor
        main, sub = Client(d, SUB_MAIN), Client(d, SUB)
        refused(sub, SHARED, "intake", "NOT_AUTHORISED")
        refused(main, SHARED, "own", "NOT_AUTHORISED")
        main.subscribe(SHARED, "intake")
        check_eq(d.query("SELECT owner FROM subscribers WHERE name = 'intake'"), [(SUB_MAIN,)], "journaled owner")
        d.stop()


@test
def a_group_journaled_without_an_owner_is_claimed_by_the_first_party_to_subscribe():
    with Daemon(network=demo_network(), heartbeat_ms=5000, peer_timeout_ms=120000) as d:
        Client(d, SUB_MAIN).subscribe(SHARED, "old")
        d.stop()
        con = d.db()                            # as a journal from before owners were recorded has it
        con.execute("UPDATE subscribers SET owner = '' WHERE name = 'old'")
        con.commit()
        con.close()
        d.start()
        Client(d, SUB).subscribe(SHARED, "old")
        check("event=subscriber.claimed stream=%s subscriber=old owner=%s" % (SHARED, SUB) in d.log(), "logged")
        refused(Client(d, SUB_MAIN), SHARED, "old", "NOT_AUTHORISED")
        deadline = time.monotonic() + 5
        while d.query("SELECT owner FROM subscribers WHERE name = 'old'") != [(SUB,)] and time.monotonic() < deadline:
            time.sleep(0.05)
        check_eq(d.query("SELECT owner FROM subscribers WHERE name = 'old'"), [(SUB,)], "the claim is journaled")
        d.stop()


@test
def an_ack_or_nack_from_a_connection_that_does_not_hold_the_delivery_is_ignored():
    party, stream = "99990001", "inbox.99990001"
    with Daemon(settings={"visibility_timeout_ms": 60000, "log_level": "debug"}) as d:
        a, b = Client(d, party), Client(d, party)
        a.subscribe(stream, "workers", credit=1)
        b.subscribe(stream, "workers", credit=1)
        pub = Client(d, "99990002")
        for i in (1, 2):
            pub.publish_ok(i, sender="99990002", receiver=party, kind="OTHER", message_type="t", payload=b"x")
        da, db = a.deliveries(1), b.deliveries(1)
        check(len(da) == 1 and len(db) == 1, "one delivery each", da, db)
        b.ack(stream, da[0].seq)                # b acks what a holds
        b.nack(stream, da[0].seq, reason="not mine")
        b.ack(stream, db[0].seq)                # its own: settled
        deadline = time.monotonic() + 5
        while d.control("status")["settles_ignored"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        st = d.control("status")
        check_eq(st["settles_ignored"], 2, "ignored settles counted")
        check_eq(st["acked"], 1, "only b's own ack counted")
        check_eq(st["nacked"], 0, "the foreign nack did nothing")
        row = [r for r in d.table("subscribers") if r["subscriber"] == "workers"][0]
        check_eq(row["in_flight"], 1, "a still holds its delivery")
        check(row["cursor"] < da[0].seq, "the cursor did not pass a's delivery", row)
        check_eq(b.quiet(0.3), [], "the delivery did not move to b")
        check("event=delivery.settle_ignored frame=Ack party=%s stream=%s subscriber=workers seq=%d"
              % (party, stream, da[0].seq) in d.log(), "logged at debug level")
        a.ack(stream, da[0].seq)                # the holder settles it
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            row = [r for r in d.table("subscribers") if r["subscriber"] == "workers"][0]
            if row["cursor"] == 2:
                break
            time.sleep(0.05)
        check_eq(row["cursor"], 2, "cursor after the holder's ack")
        check_eq(row["in_flight"], 0, "nothing out")
        d.stop()


@test
def a_party_owns_at_most_subscriber_max_per_party_group_names():
    party, stream = "99990001", "inbox.99990001"
    with Daemon(settings={"subscriber_max_per_party": 3}) as d:
        for name in ("g1", "g2", "g3"):
            Client(d, party).subscribe(stream, name)
        why = refused(Client(d, party), stream, "g4", "INVALID_FIELD")
        check("owns 3 durable" in why and "subscriber_max_per_party allows 3" in why, "the reason names the count and the cap", why)
        Client(d, party).subscribe(stream, "g1")                  # joining a name it owns
        refused(Client(d, party), "outcomes." + party, "g2", "INVALID_FIELD")  # another stream: another group
        Client(d, party).subscribe(stream)                        # ephemeral: no name, no cap
        Client(d, "99990002").subscribe("inbox.99990002", "g4")   # another party has its own budget
        d.restart()
        refused(Client(d, party), stream, "g4", "INVALID_FIELD")  # counted from the journal
        Client(d, party).subscribe(stream, "g3")
        check("subscriber_max_per_party" in d.log(), "the refusal is logged")
        d.stop()


@test(timeout=60)
def idle_groups_expire_and_busy_or_connected_ones_stay():
    party, stream = "99990001", "inbox.99990001"
    with Daemon(settings={"subscriber_idle_expiry": "2s", "purge_interval_ms": 200}) as d:
        pub = Client(d, "99990002")
        for i in (1, 2):
            pub.publish_ok(i, sender="99990002", receiver=party, kind="OTHER", message_type="t", payload=b"x")
        done, behind, connected = Client(d, party), Client(d, party), Client(d, party)
        done.subscribe(stream, "done")
        behind.subscribe(stream, "behind", credit=1)
        connected.subscribe(stream, "connected")
        for c, n in ((done, 2), (behind, 1), (connected, 2)):
            for dv in c.deliveries(n):
                c.ack(stream, dv.seq)
        behind.quiet(0.3)
        done.unsubscribe(stream)
        behind.close()                          # gone with one message still to deliver
        deadline = time.monotonic() + 20
        names = None
        while time.monotonic() < deadline:
            connected.quiet(0.2)                # keeps it alive (heartbeats)
            names = {r[0] for r in d.query("SELECT name FROM subscribers")}
            if "done" not in names:
                break
        check("done" not in names, "the idle group expired", names)
        time.sleep(1)                           # another pass or more
        connected.quiet(0.2)
        names = {r[0] for r in d.query("SELECT name FROM subscribers")}
        check("behind" in names, "a group with something to deliver stays", names)
        check("connected" in names, "a group with a member stays", names)
        rows = d.query("SELECT actor, detail FROM audit WHERE action = 'subscriber expired'")
        check_eq(len(rows), 1, "the expiry is audited once")
        check(rows[0][0] == "knoopd" and "subscriber=done" in rows[0][1] and "owner=" + party in rows[0][1],
              "audit row", rows)
        check("event=subscriber.expired" in d.log(), "and logged")
        # the name is free again: a new group starts at the beginning
        again = Client(d, party)
        again.subscribe(stream, "done", start=pb.DURABLE)
        check_eq(len(again.deliveries(2)), 2, "a new 'done' starts at the beginning")
        d.stop()


if __name__ == "__main__":
    run()
