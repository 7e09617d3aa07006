# test_torture.py — knoopd killed again and again under load, and copied while frozen mid-write.
#
#   crash loop: a producer keeps 64 publishes in flight and two durable subscribers (two groups on one stream) ack
#     what they get, while knoopd is killed with SIGKILL at random moments and restarted. After every restart each
#     Accepted message is in the journal exactly once; at the end every subscriber has received every message of
#     the stream at least once and in order (first deliveries strictly ascending), and nothing became a dead letter.
#   torn snapshots: knoopd is frozen (SIGSTOP) at random moments during a windowed publish, its data directory is
#     copied as it lies on disk, and it is thawed; a fresh knoopd on each copy holds every message acknowledged
#     before the freeze (a power cut at that instant would leave the same bytes).
#
# make check runs a bounded version (KNOOP_TORTURE_CYCLES=5, KNOOP_TORTURE_SNAPSHOTS=4 by default);
# make torture runs the long one (25 cycles, 10 snapshots) and prints the counts.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_torture.py [TEST ...]
import os
import random
import shutil
import signal
import time

import zmq

from harness import COOP, MEMBER, Client, Daemon, body, check, check_eq, envelope, pb, run, test

CYCLES = int(os.environ.get("KNOOP_TORTURE_CYCLES", "5"))
SNAPSHOTS = int(os.environ.get("KNOOP_TORTURE_SNAPSHOTS", "4"))
WINDOW = 64
STREAM = "inbox." + COOP
GROUPS = ("audit-copy", "backoffice")
rng = random.Random(int(os.environ.get("KNOOP_TORTURE_SEED", str(int(time.time())))))


def referral(ident):
    return envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral",
                    identificatie=ident, content_type="application/octet-stream",
                    payload=("torture %s " % ident).encode() * 16)


def journaled(d):
    """{identificatie: [seq, ...]} of the journal (knoopd stopped or running)."""
    out = {}
    for seq, ident in d.query("SELECT seq, identificatie FROM messages"):
        out.setdefault(ident, []).append(seq)
    return out


class Subscriber:
    """One durable group member: acks every delivery, remembers the order of first deliveries."""

    def __init__(self, name):
        self.name = name
        self.first = []          # seqs in the order first received
        self.seen = set()
        self.redelivered = 0
        self.client = None

    def connect(self, d):
        self.client = Client(d, COOP, client_name="torture-" + self.name)
        self.client.subscribe(STREAM, self.name, credit=512)

    def on_frame(self, f):
        if body(f) != "deliver":
            return
        seq = f.deliver.seq
        if seq in self.seen:
            self.redelivered += 1
        else:
            self.seen.add(seq)
            self.first.append(seq)
        self.client.ack(STREAM, seq)


class Producer:
    """Keeps WINDOW publishes in flight; a publish unanswered at a crash is sent again (same identificatie)."""

    def __init__(self):
        self.next = 0
        self.ref = 0
        self.outstanding = {}    # ref -> identificatie
        self.retry = []          # identificaties unanswered when knoopd died
        self.accepted = {}       # identificatie -> seq (every Accepted ever received must name the same seq)
        self.duplicates = 0
        self.client = None

    def connect(self, d):
        self.client = Client(d, MEMBER, client_name="torture-producer")
        self.outstanding.clear()

    def fill(self, produce=True):
        while len(self.outstanding) < WINDOW and (self.retry or produce):
            if self.retry:
                ident = self.retry.pop()
            else:
                ident = "T%07d" % self.next
                self.next += 1
            self.ref += 1
            self.outstanding[self.ref] = ident
            self.client.publish(self.ref, referral(ident))

    def on_frame(self, f):
        kind = body(f)
        if kind == "rejected":
            raise AssertionError("publish rejected: %s" % f.rejected)
        if kind != "accepted" or f.accepted.ref not in self.outstanding:
            return
        ident = self.outstanding.pop(f.accepted.ref)
        if f.accepted.duplicate:
            self.duplicates += 1
        seq = self.accepted.setdefault(ident, f.accepted.seq)
        check_eq(f.accepted.seq, seq, "Accepted seq of %s (again)" % ident)

    def crashed(self):
        self.retry.extend(self.outstanding.values())
        self.outstanding.clear()


def pump(parties, seconds, produce=True, until=None):
    """Drives the producer and subscribers over their sockets for `seconds` (or until until() holds)."""
    poller = zmq.Poller()
    owner = {}
    for p in parties:
        poller.register(p.client.sock, zmq.POLLIN)
        owner[p.client.sock] = p
    producer = next((p for p in parties if isinstance(p, Producer)), None)
    deadline = time.monotonic() + seconds
    last_beat = 0.0
    while time.monotonic() < deadline and not (until and until()):
        if producer:
            producer.fill(produce)
        now = time.monotonic()
        if now - last_beat > 0.2:
            for p in parties:
                p.client.heartbeat()
            last_beat = now
        for sock, _ in poller.poll(50):
            p = owner[sock]
            for _ in range(256):
                try:
                    data = sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                f = pb.Frame()
                f.ParseFromString(data)
                p.on_frame(f)


def close_all(parties):
    for p in parties:
        if p.client is not None:
            p.client.close()
            p.client = None


@test(timeout=60 + 30 * CYCLES)
def crash_loop_loses_doubles_and_reorders_nothing():
    producer = Producer()
    subs = [Subscriber(n) for n in GROUPS]
    with Daemon() as d:
        for cycle in range(CYCLES):
            if cycle:
                d.start()
            producer.connect(d)
            for s in subs:
                s.connect(d)
            pump([producer] + subs, rng.uniform(0.3, 1.5))
            d.kill9()
            producer.crashed()
            close_all([producer] + subs)
            stored = journaled(d)
            doubled = {i: s for i, s in stored.items() if len(s) != 1}
            check(not doubled, "cycle %d: journaled more than once: %s" % (cycle, list(doubled.items())[:5]))
            lost = [i for i in producer.accepted if i not in stored]
            check(not lost, "cycle %d: Accepted but not in the journal: %s" % (cycle, lost[:5]))
            for ident, seq in producer.accepted.items():
                check_eq(stored[ident][0], seq, "cycle %d: seq of %s" % (cycle, ident))
        # A last clean run: the producer's unanswered retries are answered, the subscribers catch up.
        d.start()
        producer.connect(d)
        for s in subs:
            s.connect(d)
        pump([producer] + subs, 30, produce=False, until=lambda: not producer.retry and not producer.outstanding)
        check(not producer.retry and not producer.outstanding, "retries left unanswered")
        stream_seqs = sorted(s[0] for s in journaled(d).values())
        pump(subs, 30, until=lambda: all(len(s.seen) >= len(stream_seqs) for s in subs))
        for s in subs:
            missing = sorted(set(stream_seqs) - s.seen)
            check(not missing, "%s never received %d messages, first %s" % (s.name, len(missing), missing[:5]))
            check(s.first == sorted(s.first), "%s: first deliveries out of order" % s.name)
        dead = d.query("SELECT count(*) FROM dead_letters")[0][0]
        check_eq(dead, 0, "dead letters after the crash loop")
        close_all([producer] + subs)
        d.stop()
        print("    crash loop: %d SIGKILLs, %d messages accepted (%d answered as duplicates of a retry), "
              "each journaled once; %s redeliveries after restarts, first deliveries in order"
              % (CYCLES, len(producer.accepted), producer.duplicates,
                 " / ".join("%s %d" % (s.name, s.redelivered) for s in subs)), flush=True)


@test(timeout=60 + 20 * SNAPSHOTS)
def torn_snapshots_hold_every_acknowledged_message():
    producer = Producer()
    snapshots = []   # (copy dir, identificaties acknowledged before the freeze)
    with Daemon() as d:
        producer.connect(d)
        for n in range(SNAPSHOTS):
            pump([producer], rng.uniform(0.2, 0.8))
            acked = set(producer.accepted)
            os.kill(d.pid, signal.SIGSTOP)
            try:
                copy = os.path.join(d.dir, "snapshot-%d" % n)
                os.mkdir(copy)
                for name in os.listdir(d.data_dir):
                    if name.startswith("knoop.db") or name == "pseudonym.key":
                        shutil.copy2(os.path.join(d.data_dir, name), copy)
                # the data key lives beside the data directory (<data_dir>.keys/), as the copy's will
                shutil.copytree(d.data_dir + ".keys", copy + ".keys")
            finally:
                os.kill(d.pid, signal.SIGCONT)
            snapshots.append((copy, acked))
        close_all([producer])
        d.stop()
        for n, (copy, acked) in enumerate(snapshots):
            with Daemon(settings={"data_dir": copy}, start=False) as s:
                s.data_dir, s.db_path = copy, os.path.join(copy, "knoop.db")
                s.socket_path = os.path.join(copy, "knoopd.sock")
                s.start()
                stored = journaled(s)
                lost = sorted(acked - set(stored))
                check(not lost, "snapshot %d: %d acknowledged messages missing, first %s" % (n, len(lost), lost[:5]))
                integrity = s.query("PRAGMA integrity_check")[0][0]
                check_eq(integrity, "ok", "snapshot %d integrity" % n)
                s.stop()
        print("    torn snapshots: %d copies taken mid-write, each reopened with every acknowledged message "
              "(%d acknowledged at the last freeze)" % (len(snapshots), len(snapshots[-1][1])), flush=True)


if __name__ == "__main__":
    run()
