# test_delivery.py — delivery that users can rely on, end to end: consumers killed mid-stream, knoopd killed mid-
# delivery, nack storms into dead letters and the operator's dlq commands (with audit rows), a slow consumer that
# costs no memory and does not slow a fast one, competing consumers, replay and rewind, retention purge.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_delivery.py [TEST ...]
import calendar
import os
import re
import threading
import time

from harness import (COOP, MEMBER, VALID_BSNS, Client, ControlError, Daemon, body, check, check_eq, envelope, pb,
                     run, test, REPO)

INBOX = "inbox." + COOP


def referral(ident, payload=None, **over):
    """A valid envelope from MEMBER to COOP."""
    fields = dict(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral",
                  identificatie=ident, content_type="application/json",
                  payload=payload if payload is not None else b'{"n": "%s"}' % ident.encode())
    fields.update(over)
    return envelope(**fields)


def publish_all(client, envs, first_ref=1, window=64):
    """Publishes [Envelope] and requires every one Accepted; returns the seqs in order."""
    answers = client.publish_window([(first_ref + i, e) for i, e in enumerate(envs)], window=window)
    seqs = []
    for i in range(len(envs)):
        f = answers.get(first_ref + i)
        check(body(f) == "accepted", "publish %d:" % i, f)
        seqs.append(f.accepted.seq)
    return seqs


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def audit_rows(d):
    return d.query("SELECT actor, action, detail FROM audit ORDER BY id")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# ---- consumers that go away --------------------------------------------------------------------------------

@test(timeout=30)
def killed_subscriber_gets_its_unacked_back_with_next_attempt():
    with Daemon(peer_timeout_ms=1000, heartbeat_ms=200) as d:
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("K%02d" % i) for i in range(20)])
        a = Client(d, COOP, client_name="will-die")
        a.subscribe(INBOX, "w", credit=10)
        got = a.deliveries(10, 3)
        check_eq([g.seq for g in got], seqs[:10], "first member's window")
        for g in got[:4]:
            a.ack(INBOX, g.seq)
        a.heartbeat()
        time.sleep(0.2)
        a.close()                                  # killed: no Unsubscribe, just silence
        b = Client(d, COOP, client_name="survivor")
        b.subscribe(INBOX, "w", credit=100)
        got_b = b.deliveries(16, 6)
        by_seq = {g.seq: g for g in got_b}
        check_eq(sorted(by_seq), seqs[4:], "what the survivor received")
        # Its 4 acks made room for 4 more before it died: seqs[4:14] were out to it.
        for q in seqs[4:14]:
            check(by_seq[q].attempt >= 2, "seq %d was unacked by the dead member; attempt %d" % (q, by_seq[q].attempt))
        for q in seqs[14:]:
            check_eq(by_seq[q].attempt, 1, "attempt of seq %d (never sent before)" % q)
        for g in got_b:
            b.ack(INBOX, g.seq)
        time.sleep(0.2)
        rows = {r["subscriber"]: r for r in d.table("subscribers")}
        check_eq(rows["w"]["cursor"], seqs[-1], "cursor after the survivor acked everything")
        check_eq(rows["w"]["members"], 1, "members after the drop")


@test(timeout=30)
def disconnect_with_unacked_returns_them_at_once():
    with Daemon() as d:
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("U%02d" % i) for i in range(6)])
        a = Client(d, COOP)
        b = Client(d, COOP)
        a.subscribe(INBOX, "pair", credit=6)
        got_a = a.deliveries(6, 3)
        check_eq(len(got_a), 6, "deliveries to the first member")
        b.subscribe(INBOX, "pair", credit=6)
        check(b.quiet(0.3) == [], "second member got messages the first one holds")
        a.unsubscribe(INBOX)                    # leaving with 6 unacked: they go to b now, not after a timeout
        t0 = time.monotonic()
        got_b = b.deliveries(6, 3)
        check_eq(sorted(g.seq for g in got_b), seqs, "returned to the other member")
        check(time.monotonic() - t0 < 1.5, "took %.1fs to come back" % (time.monotonic() - t0))
        check(all(g.attempt == 2 for g in got_b), "attempts", [g.attempt for g in got_b])


@test(timeout=90)
def kill9_mid_delivery_loses_nothing_and_flags_every_duplicate():
    with Daemon() as d:
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("D%04d" % i) for i in range(400)])
        s = Client(d, COOP)
        s.subscribe(INBOX, "durable", credit=40)
        before = []
        while len(before) < 170:
            got = s.deliveries(40, 3)
            check(got, "no deliveries before the crash")
            for g in got:
                before.append(g)
                s.ack(INBOX, g.seq)
        d.kill9()                                # no pause: acks and the cursor may not have reached the journal
        s.close()
        p.close()
        d.start()
        s2 = Client(d, COOP)
        sub = s2.subscribe(INBOX, "durable", credit=100)
        after = []
        while True:
            got = s2.deliveries(100, 3)
            if not got:
                break
            for g in got:
                after.append(g)
                s2.ack(INBOX, g.seq)
        seen_before = {g.seq for g in before}
        got_after = [g.seq for g in after]
        check_eq(sorted(seen_before | set(got_after)), seqs, "every message delivered across the crash")
        check_eq(got_after, sorted(got_after), "order after the restart (one subscriber)")
        check_eq(len(got_after), len(set(got_after)), "duplicates within the second life")
        check(sub.position <= before[-1].seq, "position %d beyond what was acked" % sub.position)
        dups = [g for g in after if g.seq in seen_before]
        for g in dups:
            check(g.attempt > 1, "seq %d delivered before kill -9 came again with attempt %d" % (g.seq, g.attempt))


# ---- nack storm, dead letters and the operator ---------------------------------------------------------------

@test(timeout=60)
def nack_storm_backs_off_dead_letters_then_retry_and_discard_are_audited():
    settings = {"redelivery_max_attempts": 4, "redelivery_backoff_ms": 80}
    with Daemon(settings=settings) as d:
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("N%d" % i) for i in range(5)])
        s = Client(d, COOP)
        s.subscribe(INBOX, "picky", credit=10)
        first_seen = {}
        gaps = {}                                  # seq -> [time between deliveries]
        deadline = time.monotonic() + 20
        last = {}
        while time.monotonic() < deadline:
            got = s.deliveries(1, 1.0)
            if not got:
                if d.control("status")["dead_lettered"] >= 5:
                    break
                continue
            g = got[0]
            now = time.monotonic()
            if g.seq in last:
                gaps.setdefault(g.seq, []).append(now - last[g.seq])
            last[g.seq] = now
            first_seen.setdefault(g.seq, g.attempt)
            s.nack(INBOX, g.seq, delay_ms=0, reason="cannot parse")
        check_eq(d.control("status")["dead_lettered"], 5, "dead letters after the storm")
        for q in seqs:
            check_eq(len(gaps.get(q, [])), 3, "redeliveries of seq %d" % q)
            g = gaps[q]
            # backoff 80 ms doubling with jitter in [d/2, d]: ~40-80, ~80-160, ~160-320 ms
            check(g[0] >= 0.03 and g[2] >= 0.12 and g[2] > g[0], "backoff of seq %d: %s" % (q, g))
        rows = d.table("dlq", "list", "--stream", INBOX)
        check_eq(sorted(r["seq"] for r in rows), seqs, "dlq list")
        rows.sort(key=lambda r: r["seq"])
        for r in rows:
            check_eq((r["source"], r["subscriber"], r["attempts"], r["state"], r["reason"]),
                     ("delivery", "picky", 4, "open", "cannot parse"), "dlq row %d" % r["id"])
        check_eq(d.table("dlq", "list", "--reason", "nothing like it"), [], "dlq list --reason filter")
        shown = d.control("dlq", "show", str(rows[0]["id"]))
        check_eq(shown["envelope"]["identificatie"], "N0", "dlq show: envelope")
        check_eq(shown["envelope"]["sender"], MEMBER, "dlq show: sender")
        check("payload" not in shown["envelope"] and "client_bsn" not in shown["envelope"], "dlq show leaks", shown)
        check(shown["route"].startswith("addressed"), "dlq show: routing decision", shown)
        # retry one: the same subscriber gets it again, with a fresh round of attempts
        r = d.table("dlq", "retry", str(rows[0]["id"]))
        check_eq(len(r), 1, "dlq retry answer")
        got = s.deliveries(1, 3)
        check(got and got[0].seq == seqs[0], "retried message not redelivered", got)
        check(got[0].attempt > 4, "a retried dead letter counts its attempts on: %d" % got[0].attempt)
        s.ack(INBOX, got[0].seq)
        # discard the rest by filter
        r = d.table("dlq", "discard", "--all-matching", "--stream", INBOX, "--reason", "parse")
        check_eq(len(r), 4, "discarded rows")
        time.sleep(0.3)
        states = {x["seq"]: x["state"] for x in d.table("dlq", "list")}
        check_eq(states, {seqs[0]: "retried", **{q: "discarded" for q in seqs[1:]}}, "states after retry/discard")
        check(s.quiet(0.5) == [], "discarded dead letters were delivered")
        with_actor = [a for a in audit_rows(d) if a[1] in ("dlq retry", "dlq discard")]
        check_eq(len(with_actor), 5, "audit rows of dlq retry/discard")
        check(all(re.match(r"control uid=%d gid=\d+ pid=\d+$" % os.getuid(), a[0]) for a in with_actor),
              "audit actor", with_actor)
        check(any("id=%d" % rows[0]["id"] in a[2] for a in with_actor if a[1] == "dlq retry"), "audit detail",
              with_actor)
        # a retry of something not open is refused and changes nothing
        try:
            d.control("dlq", "retry", str(rows[1]["id"]))
            check(False, "retry of a discarded dead letter was accepted")
        except ControlError as e:
            check("not open" in str(e), e)


@test(timeout=60)
def attempts_count_on_across_a_restart_up_to_the_dead_letter():
    settings = {"redelivery_max_attempts": 4, "redelivery_backoff_ms": 10}
    with Daemon(settings=settings) as d:
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("T%d" % i) for i in range(2)])
        s = Client(d, COOP)
        s.subscribe(INBOX, "poison", credit=10)
        got = s.deliveries(2, 3)
        check_eq([(g.seq, g.attempt) for g in got], [(seqs[0], 1), (seqs[1], 1)], "first deliveries")
        s.nack(INBOX, seqs[0], reason="crashes the consumer")
        s.ack(INBOX, seqs[1])
        got = s.deliveries(1, 3)
        check_eq([(g.seq, g.attempt) for g in got], [(seqs[0], 2)], "redelivery before the restart")
        s.nack(INBOX, seqs[0], delay_ms=600000, reason="crashes the consumer")   # not again before the restart
        time.sleep(0.3)
        s.close()
        d.restart()
        check_eq(d.query("SELECT seq, attempts, last_reason FROM delivery_attempts"),
                 [(seqs[0], 2, "crashes the consumer")], "journaled attempts")
        s = Client(d, COOP)
        s.subscribe(INBOX, "poison", credit=10)
        for want in (3, 4):
            got = s.deliveries(1, 3)
            if got and got[0].seq == seqs[1]:     # acked, but behind the unsettled seqs[0]: it comes again
                check(got[0].attempt > 1, "seq %d came again with attempt 1" % got[0].seq)
                s.ack(INBOX, got[0].seq)
                got = s.deliveries(1, 3)
            check(got and got[0].seq == seqs[0], "redelivery after the restart", got)
            check_eq(got[0].attempt, want, "attempt after the restart")
            s.nack(INBOX, got[0].seq, reason="crashes the consumer")
        time.sleep(0.3)
        rows = d.table("dlq", "list")
        check_eq([(r["seq"], r["attempts"]) for r in rows], [(seqs[0], 4)], "dead letter at the limit, restart or not")
        check_eq(d.query("SELECT count(*) FROM delivery_attempts")[0][0], 0, "attempt rows left")


@test(timeout=60)
def retried_dead_letter_survives_a_restart_until_settled():
    settings = {"redelivery_max_attempts": 1}
    with Daemon(settings=settings) as d:
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("R%d" % i) for i in range(3)])
        s = Client(d, COOP)
        s.subscribe(INBOX, "once", credit=10)
        got = s.deliveries(3, 3)
        s.nack(INBOX, got[0].seq, reason="bad")
        for g in got[1:]:
            s.ack(INBOX, g.seq)
        time.sleep(0.3)
        rows = d.table("dlq", "list")
        check_eq([r["seq"] for r in rows], seqs[:1], "one dead letter")
        s.close()
        d.control("dlq", "retry", str(rows[0]["id"]))   # nobody subscribed right now
        time.sleep(0.2)
        check_eq(d.table("dlq", "list")[0]["state"], "retrying", "state while waiting for the group")
        d.restart()
        s = Client(d, COOP)
        s.subscribe(INBOX, "once", credit=10)
        got = s.deliveries(1, 3) + s.quiet(0.3)
        check_eq([g.seq for g in got], seqs[:1], "after restart the group delivers only the retried one")
        s.ack(INBOX, got[0].seq)
        time.sleep(0.3)
        check_eq(d.table("dlq", "list")[0]["state"], "retried", "state after the ack")


@test(timeout=60)
def routing_dead_letter_is_routed_again_after_the_configuration_is_fixed():
    with Daemon() as d:
        p = Client(d, "0917")
        env = envelope(sender="0917", receiver="", kind="REFERRAL", message_type="knoop.domain.Referral",
                       identificatie="RT1", client_bsn=VALID_BSNS[0], payload=b"x")
        acc = p.publish_ok(1, env)
        rows = d.table("dlq", "list")
        check_eq([(r["seq"], r["source"], r["state"]) for r in rows], [(acc.seq, "routing", "open")], "dlq list")
        try:
            d.control("dlq", "retry", str(rows[0]["id"]))
            check(False, "retry without a route was accepted")
        except ControlError as e:
            check("still no route" in str(e), e)
        # The operator fixes the configuration: the demo network routes Heerlen's referrals to a member.
        with open(os.path.join(REPO, "deploy", "knoopd.yaml")) as f:
            demo = f.read()
        net = demo[demo.index("\nnetwork:") + 1:]
        with open(d.config_path, "a") as f:
            f.write(net)
        d.control("reload")
        r = d.table("dlq", "retry", str(rows[0]["id"]))
        check(r[0]["result"].startswith("routed to inbox."), "retry result", r)
        stream = r[0]["result"].split("routed to ")[1].split(",")[0]
        member = stream.split(".")[1]
        time.sleep(0.3)
        row = d.table("dlq", "list")[0]
        check_eq(row["state"], "retried", "state")
        check(row["seq"] > acc.seq, "the re-routed message was appended after every cursor: seq %d" % row["seq"])
        m = Client(d, member)
        m.subscribe(stream, "m", credit=5, start=pb.EARLIEST)
        got = m.deliveries(1, 3)
        check(got and got[0].envelope.identificatie == "RT1", "the member did not receive it", got)
        check_eq(got[0].envelope.client_bsn, "", "BSN delivered")
        shown = d.control("dlq", "show", str(row["id"]))
        check("dlq retry" in shown["route"], "journaled decision", shown["route"])
        check([a for a in audit_rows(d) if a[1] == "dlq retry (failed)"], "failed retry not audited")
        check([a for a in audit_rows(d) if a[1] == "dlq retry" and "routed_to=" + stream in a[2]],
              "retry not audited", audit_rows(d))


# ---- flow control ------------------------------------------------------------------------------------------------

@test(timeout=150)
def slow_consumer_costs_no_memory_and_does_not_slow_a_fast_one():
    n, payload = 20000, b"s" * 4096
    with Daemon(peer_timeout_ms=120000) as d:
        slow = Client(d, COOP, client_name="slow")
        slow.subscribe(INBOX, "slow", credit=10)    # then never reads again
        fast = Client(d, COOP, client_name="fast")
        fast.subscribe(INBOX, "fast", credit=500)
        got = []
        stop = threading.Event()

        def consume():
            while not stop.is_set() and len(got) < 2 * n:
                for g in fast.deliveries(500, 0.5):
                    got.append((g.seq, time.monotonic()))
                    fast.ack(INBOX, g.seq)

        t = threading.Thread(target=consume)
        t.start()
        p = Client(d, MEMBER)
        # The first round fills SQLite's page caches (64 MiB writer, 32 MiB reader: more than 78 MiB of data is
        # larger than either), so what the second round adds is what the broker keeps per message.
        t0 = time.monotonic()
        publish_all(p, [referral("W%05d" % i, payload) for i in range(n)], window=128)
        rss0 = rss_kib(d.pid)
        t1 = time.monotonic()
        seqs = publish_all(p, [referral("F%05d" % i, payload) for i in range(n)], first_ref=10 ** 6, window=128)
        published = time.monotonic()
        t.join(30)
        stop.set()
        rss1 = rss_kib(d.pid)
        check_eq(len(got), 2 * n, "fast consumer received")
        lag = got[-1][1] - published
        check(lag < 3.0, "fast consumer finished %.1fs after the producer (published %d in %.1fs)"
              % (lag, n, published - t1))
        row = {r["subscriber"]: r for r in d.table("subscribers")}
        check_eq(row["slow"]["in_flight"], 10, "slow consumer holds its window, no more")
        check_eq(row["slow"]["lag"], seqs[-1] - row["slow"]["cursor"], "slow lag")
        grown_mib = (rss1 - rss0) / 1024.0
        data_mib = n * len(payload) / 1048576.0
        check(grown_mib < 20, "RSS grew %.1f MiB while %.0f MiB were published (before %d KiB)"
              % (grown_mib, data_mib, rss0))
        if os.environ.get("KNOOP_VERBOSE"):
            print("    rss %d KiB after round 1 (%.1fs), %d KiB after round 2 (%.1fs, +%.1f MiB for %.0f MiB); "
                  "fast consumer done %.2fs after the producer" % (rss0, t1 - t0, rss1, published - t1, grown_mib,
                                                                   data_mib, lag))
        slow.close()


@test(timeout=90)
def fan_out_groups_each_get_everything_in_order():
    # Three names on one stream: the broker keeps the latest envelopes of such a stream in memory (8,192 entries);
    # a group inside that window is served from it, one behind it (C starts at the beginning afterwards) from the
    # journal, and both must see exactly the stream, in order.
    n = 10000
    with Daemon() as d:
        a, b = Client(d, COOP, client_name="a"), Client(d, COOP, client_name="b")
        a.subscribe(INBOX, "A", credit=300)
        b.subscribe(INBOX, "B", credit=40)
        got = {"A": [], "B": [], "C": []}

        def drain(client, name, want, credit):
            while len(got[name]) < want:
                batch = client.deliveries(min(credit, want - len(got[name])), 2.0)
                if not batch:
                    return
                for g in batch:
                    got[name].append(g.seq)
                    client.ack(INBOX, g.seq)

        threads = [threading.Thread(target=drain, args=(a, "A", n, 300)),
                   threading.Thread(target=drain, args=(b, "B", n, 40))]
        for t in threads:
            t.start()
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("G%05d" % i) for i in range(n)], window=128)
        for t in threads:
            t.join(60)
        c = Client(d, COOP, client_name="c")
        c.subscribe(INBOX, "C", credit=300, start=pb.EARLIEST)
        drain(c, "C", n, 300)
        for name in "ABC":
            check_eq(len(got[name]), n, "deliveries to %s" % name)
            check(got[name] == seqs, "group %s: not the stream in order" % name)


@test(timeout=40)
def competing_consumers_share_the_work():
    with Daemon() as d:
        p = Client(d, MEMBER)
        seqs = publish_all(p, [referral("C%03d" % i) for i in range(60)])
        members = [Client(d, COOP, client_name="m%d" % i) for i in range(3)]
        for m in members:
            m.subscribe(INBOX, "workers", credit=4)
        seen = {}
        deadline = time.monotonic() + 10
        while len(seen) < 60 and time.monotonic() < deadline:
            for i, m in enumerate(members):
                for g in m.deliveries(4, 0.05):
                    check(g.seq not in seen, "seq %d delivered to member %d and %s" % (g.seq, i, seen.get(g.seq)))
                    seen[g.seq] = i
                    m.ack(INBOX, g.seq)
        check_eq(sorted(seen), seqs, "every message to exactly one member")
        counts = [list(seen.values()).count(i) for i in range(3)]
        check(min(counts) >= 10, "work not shared: %s" % counts)


# ---- replay and rewind -------------------------------------------------------------------------------------------

@test(timeout=40)
def replay_from_earliest_seq_time_and_rewind():
    with Daemon() as d:
        p = Client(d, MEMBER)
        early = publish_all(p, [referral("E%d" % i) for i in range(3)])
        boundary = int(time.time()) + 1
        while time.time() < boundary + 0.05:
            time.sleep(0.02)
        late = publish_all(p, [referral("L%d" % i) for i in range(3)], first_ref=100)
        c = Client(d, COOP)
        for name, start, kw, want in (("e", pb.EARLIEST, {}, early + late),
                                      ("s", pb.SEQ, {"start_seq": early[2]}, early[2:] + late),
                                      ("t", pb.TIME, {"start_time_us": boundary * 10 ** 6}, late)):
            c.subscribe(INBOX, name, credit=20, start=start, **kw)
            got = c.deliveries(len(want), 3) + c.quiet(0.2)
            check_eq([g.seq for g in got], want, "replay %s" % name)
            for g in got:
                c.ack(INBOX, g.seq)
            c.unsubscribe(INBOX)
        time.sleep(0.2)
        # rewind the durable subscriber 'e' (no member connected now) by seq, then by time
        r = d.control("subscriber", "rewind", "e", "--stream", INBOX, "--seq", str(early[1]))
        check_eq(r["cursor"], early[1] - 1, "rewind --seq cursor")
        c.subscribe(INBOX, "e", credit=20)
        got = c.deliveries(5, 3) + c.quiet(0.2)
        check_eq([g.seq for g in got], early[1:] + late, "after rewind --seq")
        check(all(g.attempt > 1 for g in got), "a replayed delivery says it was delivered before",
              [g.attempt for g in got])
        for g in got:
            c.ack(INBOX, g.seq)
        time.sleep(0.2)
        r = d.control("subscriber", "rewind", "e", "--stream", INBOX, "--to", iso(boundary))
        check_eq(r["cursor"], late[0] - 1, "rewind --to ISO cursor")
        got = c.deliveries(3, 3) + c.quiet(0.2)
        check_eq([g.seq for g in got], late, "after rewind --to (member connected)")
        for g in got:
            c.ack(INBOX, g.seq)
        r = d.control("subscriber", "rewind", "e", "--stream", INBOX, "--to", str(boundary))
        check_eq(r["cursor"], late[0] - 1, "rewind --to unix seconds")
        for bad in (["e", "--stream", INBOX], ["nobody", "--stream", INBOX, "--seq", "1"],
                    ["e", "--stream", INBOX, "--to", "yesterday"]):
            try:
                d.control("subscriber", "rewind", *bad)
                check(False, "rewind %s accepted" % bad)
            except ControlError:
                pass
        time.sleep(0.2)
        audits = [a for a in audit_rows(d) if a[1] == "subscriber rewind"]
        check_eq(len(audits), 3, "audit rows of rewinds")
        check("subscriber=e" in audits[0][2] and "to_cursor=%d" % (early[1] - 1) in audits[0][2], audits[0])


# ---- retention -----------------------------------------------------------------------------------------------------

@test(timeout=40)
def retention_purges_old_messages_by_kind_with_their_dedup_keys():
    settings = {"retention_per_kind": '"referral=1s"', "purge_interval_ms": 200, "purge_batch": 7}
    with Daemon(settings=settings) as d:
        p = Client(d, MEMBER)
        refs = publish_all(p, [referral("P%02d" % i) for i in range(20)])
        kept = publish_all(p, [referral("Q%d" % i, kind="PLAN_UPDATE", message_type="knoop.PlanUpdate")
                               for i in range(2)], first_ref=100)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = d.query("SELECT count(*) FROM messages WHERE kind = 1")[0][0]
            if left == 0:
                break
            time.sleep(0.2)
        check_eq(left, 0, "referrals left after their 1 s retention")
        check_eq([r[0] for r in d.query("SELECT seq FROM messages ORDER BY seq")], kept, "kept (another kind)")
        entries = [r[0] for r in d.query("SELECT seq FROM stream_entries ORDER BY seq")]
        check_eq(entries, kept, "stream entries left")
        check("event=retention.purged" in d.log(), "no purge in the log")
        # the dedup key went with its message: the same identificatie is a new message now
        again = p.publish_ok(500, referral("P00"))
        check(not again.duplicate and again.seq > kept[-1], "republished after purge", again)
        dup = p.publish_ok(501, referral("Q0", kind="PLAN_UPDATE", message_type="knoop.PlanUpdate"))
        check(dup.duplicate and dup.seq == kept[0], "dedup of a kept message", dup)
        # a subscriber that had not read them simply finds them gone (purged by age, not by acks)
        c = Client(d, COOP)
        c.subscribe(INBOX, "late", credit=50, start=pb.EARLIEST)
        got = c.deliveries(10, 2) + c.quiet(0.2)
        check(set(kept) <= {g.seq for g in got} and not set(refs) & {g.seq for g in got}, "late reader got",
              [g.seq for g in got])
        r = d.control("purge", "now")
        check("purging" in r, r)
        time.sleep(0.3)
        check([a for a in audit_rows(d) if a[1] == "purge now"], "purge now not audited")


@test(timeout=20)
def retention_setting_is_checked():
    d = Daemon(settings={"retention_per_kind": '"referal=3d"'}, start=False)
    import subprocess
    from harness import KNOOPD
    r = subprocess.run([KNOOPD, "-t", "-c", d.config_path], capture_output=True, text=True)
    check_eq(r.returncode, 1, "exit code of -t")
    check("retention_per_kind" in r.stderr and "referal" in r.stderr, r.stderr)
    d.close()


if __name__ == "__main__":
    run()
