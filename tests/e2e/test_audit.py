#!/usr/bin/env python3
"""test_audit.py — the audit of reads (docs/operations.md): every delivery leaves a row (who received which message,
when, which attempt), written in batches; every control command that reads client data (route explain, dlq show,
reload, audit client) leaves one naming the client by its reference; `knoopctl audit client BSN` lists every access to
that client's messages, newest first, bounded by --limit; the BSN itself is stored nowhere; a batch the journal cannot
write is logged and delivery goes on; rows older than audit_retention are deleted."""
import os
import subprocess
import time

from harness import BUILD, REPO, Client, Daemon, check, check_eq, pb, run, test

CTL = os.path.join(BUILD, "knoopctl")
B1, B2 = "999990019", "999990020"
PARTY, STREAM = "99990001", "inbox.99990001"
SENDER = "99990002"


def wait_rows(d, sql, want, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        n = d.query(sql)[0][0]
        if n >= want or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def send(pub, ref, bsn="", receiver=PARTY):
    return pub.publish_ok(ref, sender=SENDER, receiver=receiver, kind="OTHER", message_type="t",
                          identificatie="A%d" % ref, client_bsn=bsn, payload=b"{}")


@test
def every_delivery_and_every_read_about_a_client_is_audited_and_listed_by_bsn():
    with Daemon() as d:
        pub = Client(d, SENDER)
        m1, m2, m3 = send(pub, 1, B1), send(pub, 2, B2), send(pub, 3)
        dead = send(pub, 4, B1, receiver="")          # no receiver, no network: a routing dead letter
        a, b = Client(d, PARTY), Client(d, PARTY)
        a.subscribe(STREAM, "intake", start=pb.EARLIEST)
        b.subscribe(STREAM, "archive", start=pb.EARLIEST)
        for c in (a, b):
            got = c.deliveries(3)
            check_eq(len(got), 3, "deliveries")
            for dv in got:
                c.ack(STREAM, dv.seq)
        check_eq(wait_rows(d, "SELECT count(*) FROM audit_reads", 6), 6, "a row per delivery")
        rows = d.query("SELECT p.party, p.stream, p.subscriber, r.seq, r.attempt, r.client_ref IS NOT NULL "
                       "FROM audit_reads r JOIN audit_readers p ON p.id = r.reader ORDER BY r.id")
        check_eq(sorted((r[2], r[3]) for r in rows),
                 sorted((g, s) for g in ("intake", "archive") for s in (m1.seq, m2.seq, m3.seq)), "who got which")
        check(all(r[0] == PARTY and r[1] == STREAM and r[4] == 1 for r in rows), "party, stream, attempt", rows)
        check_eq(sorted((r[3], r[5]) for r in rows if r[2] == "intake"),
                 [(m1.seq, 1), (m2.seq, 1), (m3.seq, 0)], "the client reference of each message")
        # operator reads about B1: the journaled decision of m1, the dead letter about B1; and a reload
        d.control("route", "explain", str(m1.seq))
        dl = d.table("dlq", "list")
        check_eq([r["seq"] for r in dl], [dead.seq], "the dead letter")
        d.control("dlq", "show", str(dl[0]["id"]))
        d.control("reload")
        check_eq(wait_rows(d, "SELECT count(*) FROM audit WHERE action IN ('route explain', 'dlq show', 'reload')",
                           3), 3, "each audited")
        listed = d.table("audit", "client", B1)
        seen = [(r["source"], r["action"], r["seq"] if r["source"] == "delivery" else None) for r in listed]
        check_eq(seen[:2], [("control", "dlq show", None), ("control", "route explain", None)], "newest first")
        check_eq(sorted(s for s in seen[2:]), sorted([("delivery", "delivered", m1.seq)] * 2), "m1's deliveries")
        check(all(r["who"] == PARTY for r in listed if r["source"] == "delivery"), "who received", listed)
        check(all(r["who"].startswith("control uid=") for r in listed if r["source"] == "control"), "who read",
              listed)
        check("subscriber=intake" in " ".join(r["detail"] for r in listed), "the detail names the subscriber")
        check_eq(len(d.table("audit", "client", B1, "--limit", "2")), 2, "--limit")
        r = d.control_raw("audit", "client", B1, "--limit", "10001")
        check(not r["ok"] and "--limit wants a number from 1 to 10000" in r["error"], "at most 10,000", r)
        # the lookup itself is audited: the second listing of B1 starts with the first
        check_eq(wait_rows(d, "SELECT count(*) FROM audit WHERE action = 'audit client'", 2), 2, "lookups audited")
        again = d.table("audit", "client", B1, "--limit", "1")
        check_eq(again[0]["action"], "audit client", "the latest access is the previous lookup")
        b2 = [(r["source"], r["seq"]) for r in d.table("audit", "client", B2)]
        check_eq(sorted(b2), [("delivery", m2.seq)] * 2, "B2: only its message's deliveries")
        # knoopctl prints it
        p = subprocess.run([CTL, "-s", d.socket_path, "audit", "client", B2], capture_output=True, text=True,
                           timeout=10)
        check(p.returncode == 0 and "delivered" in p.stdout and "subscriber=archive" in p.stdout, "knoopctl", p)
        p = subprocess.run([CTL, "-s", d.socket_path, "audit", "client", "123456789"], capture_output=True,
                           text=True, timeout=10)
        check(p.returncode == 1 and "not a valid BSN" in p.stderr, "an invalid BSN is refused", p.stderr)
        d.stop()
        # the BSN is in no file of the data directory: only its keyed hash is
        for top, _, files in os.walk(d.data_dir):
            for name in files:
                with open(os.path.join(top, name), "rb") as f:
                    data = f.read()
                check(B1.encode() not in data and B2.encode() not in data, "a BSN in %s" % name)


NETWORK_LINES = None


def demo_network():
    with open(os.path.join(REPO, "deploy", "knoopd.yaml"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("network:"))
    return "\n".join(lines[start:]) + "\n"


@test
def a_route_explain_with_a_bsn_is_audited_under_that_client():
    with Daemon(network=demo_network(), heartbeat_ms=5000, peer_timeout_ms=120000) as d:
        r = d.control("route", "explain", "--from", "99980001", "--to", "99990000", "--kind", "referral",
                      "--bsn", B1)
        check("rule" in r, "the router answered", r)
        check_eq(wait_rows(d, "SELECT count(*) FROM audit WHERE action = 'route explain' AND client_ref IS NOT NULL",
                           1), 1, "audited with the client reference")
        detail = d.query("SELECT detail FROM audit WHERE action = 'route explain'")[0][0]
        check(B1 not in detail and "bsn=yes" in detail, "no BSN in the audit row", detail)
        listed = d.table("audit", "client", B1)
        check_eq([(x["source"], x["action"]) for x in listed], [("control", "route explain")], "listed under B1")
        check_eq(d.table("audit", "client", B2), [], "not under another client")
        d.stop()


@test
def a_batch_the_journal_cannot_write_is_logged_and_delivery_goes_on():
    with Daemon() as d:
        d.stop()
        con = d.db()                            # every insert into audit_reads now fails, as on a full disk
        con.execute("CREATE TRIGGER no_reads BEFORE INSERT ON audit_reads BEGIN SELECT RAISE(ABORT, 'full'); END")
        con.commit()
        con.close()
        d.start()
        pub = Client(d, SENDER)
        c = Client(d, PARTY)
        c.subscribe(STREAM, "intake", start=pb.EARLIEST)
        for i in (1, 2):
            m = send(pub, i, B1)
            dv = c.deliveries(1)
            check(len(dv) == 1 and dv[0].seq == m.seq, "delivered although its audit row cannot be written", dv)
            c.ack(STREAM, dv[0].seq)
        deadline = time.monotonic() + 5
        while "event=audit.reads_failed" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        check("event=audit.reads_failed deliveries=" in d.log(), "the lost rows are logged", d.log()[-1500:])
        check_eq(d.query("SELECT count(*) FROM audit_reads")[0][0], 0, "no rows")
        d.stop()


@test(timeout=60)
def audit_rows_older_than_audit_retention_are_deleted():
    with Daemon(settings={"audit_retention": "2s", "purge_interval_ms": 200}) as d:
        pub = Client(d, SENDER)
        send(pub, 1, B1)
        c = Client(d, PARTY)
        c.subscribe(STREAM, "intake", start=pb.EARLIEST)
        dv = c.deliveries(1)
        c.ack(STREAM, dv[0].seq)
        d.control("reload")
        check_eq(wait_rows(d, "SELECT count(*) FROM audit_reads", 1), 1, "the delivery's row")
        check_eq(wait_rows(d, "SELECT count(*) FROM audit", 1), 1, "the reload's row")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            c.quiet(0.2)
            left = d.query("SELECT (SELECT count(*) FROM audit) + (SELECT count(*) FROM audit_reads)")[0][0]
            if left == 0:
                break
        check_eq(left, 0, "audit rows after audit_retention")
        check("event=audit.expired" in d.log(), "logged")
        d.stop()


if __name__ == "__main__":
    run()
