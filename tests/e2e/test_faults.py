# test_faults.py — knoopd under faults: kill -9 during a windowed publish (every Accepted survives exactly once,
# retries are deduplicated), kill -9 during consumption (at-least-once, nothing lost), and malformed input
# (each gets its error; the same connection goes on working and earlier messages are untouched).
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_faults.py [TEST ...]
import os
import socket
import subprocess
import time

from harness import (COOP, KNOOPD, MEMBER, Client, Daemon, body, check, check_eq, code_name, envelope, pb, run, test)

INBOX = "inbox." + COOP
VERBOSE = bool(os.environ.get("KNOOP_VERBOSE"))


def referral(ident, payload=None, **over):
    fields = dict(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral", identificatie=ident,
                  content_type="application/octet-stream",
                  payload=payload if payload is not None else ("payload of %s " % ident).encode() * 8)
    fields.update(over)
    return envelope(**fields)


def journal(d):
    """{identificatie: [(seq, message_id), ...]} of every journaled message."""
    out = {}
    for seq, mid, ident in d.query("SELECT seq, message_id, identificatie FROM messages ORDER BY seq"):
        out.setdefault(ident, []).append((seq, mid))
    return out


# ---- kill -9 during publish -----------------------------------------------------------------------------

@test(timeout=120)
def kill9_during_windowed_publish_loses_and_duplicates_nothing():
    """A producer keeps 64 publishes in flight; knoopd is killed -9 after ~1000 answers. Every Accepted message
    must be in the journal exactly once; the producer then publishes everything again (its retries) and knoopd is
    killed once more half-way; a last full retry round completes. Every Accepted ever received for a message
    names the same seq and message_id, a retry of a committed message is a duplicate, and at the end each
    identificatie is journaled exactly once."""
    total, window = 3000, 64
    idents = ["F%06d" % i for i in range(total)]
    envs = [(i + 1, referral(idents[i])) for i in range(total)]       # ref i+1 carries idents[i]
    known = {}          # identificatie -> (seq, message_id) from any Accepted
    with Daemon() as d:
        for rnd, kill_after in enumerate((1000, 1500, None)):
            before = journal(d)
            last_seq_before = d.control("status")["last_seq"]
            producer = Client(d, MEMBER, client_name="producer-%d" % rnd)
            killed = []

            def on_answer(ref, frame, answers, kill_after=kill_after, killed=killed):
                if kill_after and not killed and len(answers) >= kill_after:
                    d.kill9()
                    killed.append(len(answers))
                return False    # keep collecting what is already on its way

            answers = producer.publish_window([(rnd * total + r, env) for r, env in envs], window=window,
                                              idle_timeout=1.5 if kill_after else 10, on_answer=on_answer)
            producer.close()
            if kill_after:
                check(killed, "round %d: knoopd was never killed (%d answers)" % (rnd, len(answers)))
                check(kill_after <= len(answers) < total, "round %d: %d answers around the kill" % (rnd, len(answers)))
            else:
                check_eq(len(answers), total, "answers in the last round")
            new_seqs = []
            for ref, f in answers.items():
                check(body(f) == "accepted", "round %d ref %d:" % (rnd, ref), f)
                a = f.accepted
                ident = idents[ref - rnd * total - 1]
                if ident in known:
                    check_eq((a.seq, a.message_id, a.duplicate), known[ident] + (True,),
                             "round %d: repeat of %s, Accepted before" % (rnd, ident))
                elif ident in before:
                    check_eq((a.seq, a.message_id, a.duplicate), before[ident][0] + (True,),
                             "round %d: repeat of %s, committed before but unanswered" % (rnd, ident))
                else:
                    check(not a.duplicate, "round %d: first commit of %s flagged duplicate" % (rnd, ident), a)
                    check(a.seq > last_seq_before, "round %d: new seq %d not after %d" % (rnd, a.seq, last_seq_before))
                    new_seqs.append(a.seq)
                known[ident] = (a.seq, a.message_id)
            check_eq(len(set(new_seqs)), len(new_seqs), "round %d: distinct new seqs" % rnd)

            # After the crash (or at the end), read the journal: every Accepted message exactly once, with the
            # seq and id it was given; nothing twice; nothing nobody sent.
            if d.running():
                d.stop()
            d.start()
            j = journal(d)
            missing = sorted(i for i in known if i not in j)
            check(not missing, "round %d: %d Accepted messages missing after restart, e.g." % (rnd, len(missing)),
                  missing[:10])
            twice = {k: v for k, v in j.items() if len(v) != 1}
            check(not twice, "round %d: journaled more than once:" % rnd, list(twice.items())[:5])
            wrong = [(i, known[i], j[i][0]) for i in known if j[i][0] != known[i]]
            check(not wrong, "round %d: journal rows differ from their Accepted (ident, accepted, row):" % rnd,
                  wrong[:5])
            unknown = set(j) - set(idents)
            check(not unknown, "journal holds messages nobody sent:", sorted(unknown)[:5])
            check_eq(d.control("status")["last_seq"], max(v[0][0] for v in j.values()), "status.last_seq")
            if VERBOSE:
                print("    round %d: %d answers, %d journaled (%d committed but unanswered)"
                      % (rnd, len(answers), len(j), len(set(j) - set(known))))

        check_eq(sorted(j), idents, "identificaties in the journal at the end")
        # Every journaled message is in the stream, in seq order, once.
        s = Client(d, COOP)
        s.subscribe(INBOX, "verify", credit=5000, start=pb.EARLIEST)
        got = s.deliveries(total, 10) + s.quiet(0.3)
        check_eq([g.seq for g in got], sorted(v[0][0] for v in j.values()), "stream seqs")
        check_eq([g.envelope.identificatie for g in got], [i for i in sorted(j, key=lambda i: j[i][0])],
                 "stream identificaties")
        d.stop()


@test(timeout=30)
def same_identity_from_two_connections_at_once_is_stored_once():
    with Daemon() as d:
        a, b = Client(d, MEMBER, client_name="a"), Client(d, MEMBER, client_name="b")
        envs = [(i + 1, referral("RACE%03d" % (i // 2))) for i in range(400)]   # each identity twice per client
        for ref, env in envs:
            a.publish(ref, env)
            b.publish(ref, env)
        got = {}
        for c in (a, b):
            for ref, _ in envs:
                f = c.wait_answer(ref, 5)
                check(body(f) == "accepted", "ref %d:" % ref, f)
                got.setdefault(f"RACE{(ref - 1) // 2:03d}", []).append(f.accepted)
        for ident, accs in got.items():
            check_eq(len({(x.seq, x.message_id) for x in accs}), 1, "answers for %s" % ident)
            check_eq(sum(1 for x in accs if not x.duplicate), 1, "non-duplicate answers for %s" % ident)
        j = journal(d)
        check_eq(sorted(j), sorted(got), "journaled identities")
        check(all(len(v) == 1 for v in j.values()), "an identity journaled twice")


@test(timeout=60)
def kill9_during_consumption_loses_nothing():
    with Daemon() as d:
        p = Client(d, MEMBER)
        answers = p.publish_window([(i + 1, referral("C%04d" % i)) for i in range(300)], window=64)
        seqs = sorted(f.accepted.seq for f in answers.values() if body(f) == "accepted")
        check_eq(len(seqs), 300, "accepted")
        s = Client(d, COOP)
        s.subscribe(INBOX, "durable", credit=50)
        acked = []
        while len(acked) < 150:
            got = s.deliveries(50, 3)
            check(got, "no deliveries")
            for g in got:
                if len(acked) < 150:
                    s.ack(INBOX, g.seq)
                    acked.append(g.seq)
        time.sleep(0.3)         # let the cursor reach the journal (it is flushed on the broker's tick)
        d.kill9()
        s.close()
        p.close()
        d.start()
        s2 = Client(d, COOP)
        sub = s2.subscribe(INBOX, "durable", credit=500)
        check(sub.position <= acked[-1], "durable position %d beyond what was acked (%d)" % (sub.position, acked[-1]))
        check(sub.position >= acked[-1], "cursor acked 0.3 s before kill -9 was lost: position %d, acked up to %d"
              % (sub.position, acked[-1]))
        want = [q for q in seqs if q > sub.position]
        got = s2.deliveries(len(want), 5) + s2.quiet(0.3)
        # At-least-once: everything after the cursor comes (again), in order, nothing is skipped.
        check_eq([g.seq for g in got], want, "redelivered after kill -9")
        delivered_before = set(seqs[:200])   # the broker had sent up to 150 acked + a window of 50
        for g in got:
            if g.seq in delivered_before and g.seq > sub.position:
                check(g.attempt >= 2, "seq %d was delivered before the crash; attempt %d" % (g.seq, g.attempt))


@test(timeout=90)
def competing_consumers_with_random_nacks_settle_everything():
    """Three members of one group, credit 20 each, ack 80 % and nack 20 % (0-50 ms delay) of what they get, in
    random order: every message is settled, no member ever holds more than 20, nothing comes twice while it is
    still out, and the cursor ends at the last seq."""
    import random
    rnd = random.Random(7)
    with Daemon(settings={"redelivery_max_attempts": 1000}) as d:
        p = Client(d, MEMBER)
        answers = p.publish_window([(i + 1, referral("Q%d" % i)) for i in range(2000)], window=64)
        seqs = sorted(f.accepted.seq for f in answers.values() if body(f) == "accepted")
        check_eq(len(seqs), 2000, "accepted")
        members = [Client(d, COOP, client_name="m%d" % i) for i in range(3)]
        for m in members:
            m.subscribe(INBOX, "pool", credit=20)
        out = [set() for _ in members]
        acked = set()
        deadline = time.monotonic() + 60
        while len(acked) < len(seqs):
            check(time.monotonic() < deadline, "not settled within 60 s: %d of %d acked" % (len(acked), len(seqs)))
            for i, m in enumerate(members):
                for g in m.deliveries(50, 0.02):
                    check(g.seq not in out[i], "seq %d delivered again to member %d while still out" % (g.seq, i))
                    check(g.seq not in acked, "seq %d delivered after it was acked" % g.seq)
                    out[i].add(g.seq)
                    check(len(out[i]) <= 20, "member %d holds %d unacked deliveries, credit 20" % (i, len(out[i])))
                for q in sorted(out[i], key=lambda _: rnd.random()):
                    if rnd.random() < 0.8:
                        m.ack(INBOX, q)
                        acked.add(q)
                    else:
                        m.nack(INBOX, q, delay_ms=rnd.randint(0, 50))
                out[i].clear()
        check_eq(acked, set(seqs), "acked")
        time.sleep(0.3)
        row = [r for r in d.table("subscribers") if r["subscriber"] == "pool"][0]
        check_eq((row["cursor"], row["in_flight"], row["waiting"]), (seqs[-1], 0, 0), "pool at the end")


@test(timeout=90)
def dropped_peer_that_speaks_again_is_answered():
    """A producer floods the journal (one message per commit), then goes silent until knoopd drops it -- while
    its publishes are still being committed. When it speaks again on the same connection it must be answered
    (Hello -> Welcome, Publish -> Accepted), not ignored until its old publishes are through."""
    # 6000 publishes in flight at once: above the default max_publishes_in_flight (1024), so raised here (and
    # send_hwm with it, which must exceed it plus connection_max_unacked).
    with Daemon(settings={"commit_batch_max": 1, "peer_timeout_ms": 300, "heartbeat_ms": 100,
                          "max_publishes_in_flight": 10000, "send_hwm": 20000}) as d:
        c = Client(d, MEMBER, heartbeat_s=0.05)
        total = 6000   # one commit each: seconds of queue, well past the 300 ms peer timeout
        for i in range(total):
            c.publish(i + 1, referral("D%d" % i, payload=b"d"))
        deadline = time.monotonic() + 10
        while True:                               # silent (no heartbeats) until knoopd has dropped us
            st = d.control("status")
            if st["clients_connected"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        check_eq(st["clients_connected"], 0, "the silent producer was not dropped")
        check(st["journal_queue"] > 0, "test set-up: the journal drained before the drop (disk too fast?)", st)
        c.send(pb.Frame(hello=pb.Hello(party=MEMBER, client_name="back", protocol_version=1)))
        f = c.expect(lambda f: body(f) in ("welcome", "error"), 2)
        queue = d.control("status")["journal_queue"]
        check(f is not None, "no answer to Hello within 2 s from a dropped peer speaking again (journal queue "
              "still %d): its frames reach the 'gone' peer struct, whose answers are discarded" % queue)
        check_eq(body(f), "welcome", "answer to Hello after the drop")
        # Its next publish queues behind the old ones (one per commit), but it is answered.
        f = c.publish_wait(total + 1, referral("D-AFTER"), timeout=60)
        check(body(f) == "accepted", "publish after the drop:", f)
        # Everything it published before the drop is journaled nonetheless.
        deadline = time.monotonic() + 60
        while d.control("status")["journal_queue"] and time.monotonic() < deadline:
            time.sleep(0.1)
        check_eq(d.query("SELECT count(*) FROM messages")[0][0], total + 1, "journaled messages")


# ---- malformed input ------------------------------------------------------------------------------------

@test(timeout=60)
def malformed_input_gets_its_error_and_the_connection_goes_on():
    limit = 65536
    with Daemon(settings={"max_message_bytes": limit}) as d:
        c = Client(d, MEMBER)
        good = []        # identificaties that must end up journaled, in order
        ref = [0]

        def publish_good():
            ref[0] += 1
            ident = "G%d" % ref[0]
            a = c.publish_ok(ref[0], referral(ident))
            good.append((ident, a.seq))

        def expect_error(code, what):
            f = c.expect(lambda f: body(f) in ("error", "rejected"), 3)
            check(f is not None, what, "got no answer")
            check(body(f) == "error", what, "wanted Error %s, got" % code_name(code), f)
            check_eq(code_name(f.error.code), code_name(code), "%s (%s)" % (what, f.error.reason))
            check(f.error.reason != "", what, "Error without reason")

        publish_good()
        cases = [
            (b"\xff\xff\xff\xff\xff", pb.BAD_FRAME, "garbage bytes"),
            (b"\x1a\x05\x08\x01", pb.BAD_FRAME, "truncated Publish"),
            (b"\x0a\xff\xff\xff\xff\x0f", pb.BAD_FRAME, "length beyond the frame"),
            (b"", pb.UNKNOWN_FRAME, "empty message (a Frame with no body)"),
            (b"\x98\x06\x01", pb.UNKNOWN_FRAME, "a Frame with only an unknown field"),
            (pb.Frame(welcome=pb.Welcome(session="x")).SerializeToString(), pb.UNKNOWN_FRAME,
             "a broker-to-client body (Welcome)"),
            (pb.Frame(hello=pb.Hello(party=MEMBER, client_name="x" * (limit + 10))).SerializeToString(),
             pb.TOO_LARGE, "a too large Hello (no ref to answer)"),
            (b"\x00" * (limit + 1), pb.TOO_LARGE, "limit+1 bytes of zeros"),
        ]
        for data, code, what in cases:
            c.send(data)
            expect_error(code, what)
            publish_good()
        # A too large Publish is Rejected with its ref.
        ref[0] += 1
        big_ref = ref[0]
        f = c.publish_wait(big_ref, referral("BIG1", payload=b"z" * limit))
        check(body(f) == "rejected", "too large publish:", f)
        check_eq((f.rejected.ref, code_name(f.rejected.code)), (big_ref, "TOO_LARGE"), "too large publish")
        publish_good()
        # Just under the limit is fine.
        ref[0] += 1
        fits = pb.Frame(publish=pb.Publish(ref=ref[0], envelope=referral("FITS", payload=b"")))
        room = limit - len(fits.SerializeToString()) - 8
        fits.publish.envelope.payload = b"f" * room
        check(len(fits.SerializeToString()) <= limit, "test frame too big")
        c.send(fits)
        f = c.wait_answer(ref[0])
        check(body(f) == "accepted", "publish just under max_message_bytes:", f)
        good.append(("FITS", f.accepted.seq))
        # Multi-part messages are refused whole: the valid Publish in the first part is not taken.
        ref[0] += 1
        mp_ref = ref[0]
        part = pb.Frame(publish=pb.Publish(ref=mp_ref, envelope=referral("MP1"))).SerializeToString()
        c.send([part, part])
        expect_error(pb.BAD_FRAME, "two-part message")
        check(c.wait_answer(mp_ref, 0.3) is None, "the publish inside a multi-part message was answered")
        publish_good()
        c.send([part, b"", b"tail"])
        expect_error(pb.BAD_FRAME, "three-part message")
        publish_good()
        # Nothing else came back (no stray answers), and the broker counted the bad frames.
        stray = [x for x in c.drain(0.3)]
        check(not stray, "stray frames:", stray[:3])
        st = d.control("status")
        check(st["bad_frames"] >= len(cases) + 3, "status.bad_frames %d" % st["bad_frames"])
        # Earlier accepted messages are unaffected: exactly the good ones, in order, with their bytes.
        check_eq(st["messages_journaled"], len(good), "messages_journaled")
        s = Client(d, COOP)
        s.subscribe(INBOX, "check", credit=100, start=pb.EARLIEST)
        got = s.deliveries(len(good) + 1, 3)
        check_eq([(g.envelope.identificatie, g.seq) for g in got], good, "stream content")
        for g in got:
            if g.envelope.identificatie != "FITS":
                check_eq(g.envelope.payload, referral(g.envelope.identificatie).payload, "payload")
        check_eq(len(got[[x[0] for x in good].index("FITS")].envelope.payload), room, "payload of FITS")
        # Another client was never disturbed by any of this.
        other = Client(d, MEMBER)
        check(body(other.publish_wait(1, referral("OTHER"))) == "accepted", "other client")
        d.stop()


@test(timeout=30)
def frame_beyond_the_guard_drops_the_connection():
    # Up to 64 KiB over max_message_bytes a frame still arrives and is answered TOO_LARGE on a session that goes on.
    # Beyond that hard guard (ZMQ_MAXMSGSIZE) ZeroMQ drops the connection when the frame's header announces its size,
    # before buffering it: there is nothing to answer. The DEALER reconnects by itself and is a new client: NO_HELLO
    # until it says Hello again (docs/protocol.md section 11).
    limit = 65536
    with Daemon(settings={"max_message_bytes": limit}) as d:
        c = Client(d, MEMBER)
        c.publish_ok(1, referral("B0"))
        c.publish(2, referral("OVER", payload=b"o" * (limit + 1024)))
        f = c.wait_answer(2, 5)
        check(body(f) == "rejected" and f.rejected.code == pb.TOO_LARGE and f.rejected.ref == 2,
              "a publish 1 KiB over max_message_bytes: wanted Rejected TOO_LARGE ref 2, got", f)
        check(body(c.publish_wait(3, referral("B1"))) == "accepted", "the session goes on after TOO_LARGE")
        c.publish(4, referral("HUGE", payload=b"h" * (4 * 1024 * 1024)))
        check(c.wait_answer(4, 2) is None, "a frame beyond the guard was answered")
        deadline = time.monotonic() + 5
        while True:
            nxt = c.publish_wait(5, referral("B2"))
            if body(nxt) == "rejected" and nxt.rejected.code == pb.NO_HELLO or time.monotonic() > deadline:
                break
        check(body(nxt) == "rejected" and nxt.rejected.code == pb.NO_HELLO,
              "after the dropped connection the client is new (NO_HELLO), got", nxt)
        c.hello(MEMBER)
        check(body(c.publish_wait(6, referral("B3"))) == "accepted", "Hello again, then publish")
        check_eq(d.query("SELECT count(*) FROM messages")[0][0], 3, "journaled messages (B0, B1, B3)")
        d.stop()


@test(timeout=30)
def hello_flood_and_unknown_streams_do_not_hurt():
    with Daemon() as d:
        c = Client(d, MEMBER)
        # Ack / Nack / Credit for a stream without a subscription: UNKNOWN_STREAM, and nothing changes.
        c.ack(INBOX, 1)
        f = c.expect(lambda f: body(f) == "error", 3)
        check(f is not None and code_name(f.error.code) == "UNKNOWN_STREAM", "Ack without subscription:", f)
        c.nack(INBOX, 1)
        f = c.expect(lambda f: body(f) == "error", 3)
        check(f is not None and code_name(f.error.code) == "UNKNOWN_STREAM", "Nack without subscription:", f)
        c.credit(INBOX, 5)
        f = c.expect(lambda f: body(f) == "error", 3)
        check(f is not None and code_name(f.error.code) == "UNKNOWN_STREAM", "Credit without subscription:", f)
        # Many connections say Hello and vanish; the broker stays responsive and drops them.
        ghosts = [Client(d, MEMBER, client_name="ghost%d" % i) for i in range(50)]
        for g in ghosts:
            g.close()
        check(body(c.publish_wait(1, referral("AFTER"))) == "accepted", "publish among ghosts")
        check(c.quiet(2.7) == [], "deliveries without a subscription")    # waits while heartbeating
        check_eq(d.control("status")["clients_connected"], 1, "ghosts dropped after the peer timeout")
        d.stop()


# ---- start-up failures ------------------------------------------------------------------------------------

def expect_startup_failure(d, cause, what):
    """knoopd must refuse to start with exit code 1 (not a crash) and say why."""
    rc, out = d.start_expect_exit()
    check(rc != -11 and rc != 139, "%s: knoopd crashed with SIGSEGV (exit %s) instead of exiting 1; output: %r"
          % (what, rc, out[-400:]))
    check_eq(rc, 1, "%s: exit code (output %r)" % (what, out[-400:]))
    check(cause in out, "%s: the output does not say %r:" % (what, cause), repr(out[-400:]))
    return out


@test(timeout=60)
def startup_failures_exit_1_and_say_why():
    failures = []

    def case(fn):
        try:
            fn()
        except AssertionError as e:
            failures.append(str(e))

    # The listen port is taken by another process.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        with Daemon(start=False) as d:
            text = open(d.config_path).read().replace(d.endpoint, "tcp://127.0.0.1:%d" % holder.getsockname()[1])
            with open(d.config_path, "w") as f:
                f.write(text)
            case(lambda: expect_startup_failure(d, "Address already in use", "port in use"))
    finally:
        holder.close()
    # A listen endpoint ZeroMQ cannot bind: refused by the configuration check, with the reason, not reported as
    # "Address already in use".
    with Daemon(start=False) as d:
        text = open(d.config_path).read().replace(d.endpoint, "bogus://127.0.0.1:1")
        with open(d.config_path, "w") as f:
            f.write(text)

        def bogus():
            out = expect_startup_failure(d, "is not tcp://HOST:PORT", "unsupported transport")
            check("Address already in use" not in out, "unsupported transport reported as 'Address already in use':",
                  repr(out[-300:]))
        case(bogus)
    # A pseudonymisation key of the wrong size.
    with Daemon(start=False) as d:
        os.makedirs(d.data_dir)
        with open(os.path.join(d.data_dir, "pseudonym.key"), "wb") as f:
            f.write(b"short")
        case(lambda: expect_startup_failure(d, "pseudonym.key", "bad pseudonym key"))
    # A journal that is not a database.
    with Daemon(start=False) as d:
        os.makedirs(d.data_dir)
        with open(d.db_path, "wb") as f:
            f.write(os.urandom(65536))
        case(lambda: expect_startup_failure(d, "knoop.db", "corrupt journal"))
    check(not failures, "%d start-up failure(s) handled wrongly:" % len(failures), " || ".join(failures))


@test(timeout=30)
def second_daemon_on_the_same_data_dir_is_refused():
    with Daemon() as d:
        c = Client(d, MEMBER)
        a = c.publish_ok(1, referral("LOCK1"))
        rc, out = _second(d)
        check_eq(rc, 1, "second knoopd on the same data dir (output %r)" % out[-300:])
        check("another knoopd is running" in out, "reason:", repr(out[-300:]))
        # The first one is unharmed: it answers, its journal and control socket are intact.
        check_eq(d.control("status")["last_seq"], a.seq, "first daemon after the refused second one")
        check(body(c.publish_wait(2, referral("LOCK2"))) == "accepted", "publish after the refused second one")
        d.stop()


def _second(d):
    """Runs a second knoopd on d's configuration (same data dir and port) to its exit."""
    p = subprocess.run([KNOOPD, "-c", d.config_path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10, cwd=d.dir)
    return p.returncode, p.stdout.decode("utf-8", "replace")


if __name__ == "__main__":
    run()
