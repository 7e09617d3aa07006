# test_limits.py — bounded memory per client: consumers that never read, hostile clients (floods, oversized and
# over-dense frames, thousands of connections, half-open and never-reading peers), the caps on publishes in flight
# and on connections, a session whose send queue is full, and `knoopctl status` beside a loaded publisher.
# Each test reads knoopd's RSS from /proc/PID/status and prints its peak; docs/reliability.md has the figures.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_limits.py [TEST ...]
import subprocess
import sys
import time

import zmq

from harness import (COOP, KNOOPD, MEMBER, Client, Daemon, KnoopError, body, check, check_eq, envelope, pb, run,
                     test)
from legacy_messages import demo_network

INBOX = "inbox." + COOP
MiB = 1024 * 1024
LIMIT = 4 * MiB                     # max_message_bytes' default
GUARD = LIMIT + 64 * 1024           # ZMQ_MAXMSGSIZE: beyond it ZeroMQ drops the connection
# docs/delivery.md: what knoopd holds for one consumer that does not read: connection_max_unacked_bytes (8 MiB) of its
# deliveries, plus one delivery, plus the ring entries (connection_max_unacked x ~130 B): under 10 MiB.
PER_IDLE_CONSUMER_MB = 10


# ---- measuring ------------------------------------------------------------------------------------------------

def mem(d):
    """{'rss': MiB, 'peak': MiB} of knoopd now (VmRSS, VmHWM)."""
    out = {}
    with open("/proc/%d/status" % d.pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "VmRSS":
                out["rss"] = int(value.split()[0]) / 1024.0
            elif key == "VmHWM":
                out["peak"] = int(value.split()[0]) / 1024.0
    return out


def reset_peak(d):
    """VmHWM starts again from the current RSS (clear_refs 5: a scenario's peak is its own)."""
    with open("/proc/%d/clear_refs" % d.pid, "w") as f:
        f.write("5")


def _sanitized():
    """A knoopd built with AddressSanitizer (make asan) keeps freed memory in quarantine: its RSS says nothing."""
    with open(KNOOPD, "rb") as f:
        return b"__asan_init" in f.read()


SANITIZED = _sanitized()


def report(what, base, peak, bound):
    print("    rss %-52s base %6.1f MiB  peak %6.1f MiB  (+%5.1f, bound +%d)%s" % (
        what, base, peak, peak - base, bound, " [ASan: not checked]" if SANITIZED else ""), flush=True)
    check(SANITIZED or peak - base <= bound, "%s: knoopd's peak RSS grew by %.1f MiB, more than %d MiB"
          % (what, peak - base, bound))


# ---- raw clients ------------------------------------------------------------------------------------------------

def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def publish_bytes(ref, env_bytes):
    """Frame{publish{ref, envelope}} from an envelope already serialized (fast: no protobuf per message)."""
    inner = b"\x08" + varint(ref) + b"\x12" + varint(len(env_bytes)) + env_bytes
    return b"\x1a" + varint(len(inner)) + inner


class Raw:
    """A bare DEALER that sends what it is told and reads only when asked: a hostile or careless client."""

    def __init__(self, d, rcvhwm=None, rcvbuf=None):
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if rcvhwm is not None:
            self.sock.setsockopt(zmq.RCVHWM, rcvhwm)
        if rcvbuf is not None:                  # the kernel's buffer for it: before connect, or it does not apply
            self.sock.setsockopt(zmq.RCVBUF, rcvbuf)
        self.sock.connect(d.endpoint)

    def send(self, data):
        self.sock.send(data if isinstance(data, bytes) else data.SerializeToString())

    def hello(self, party, name="raw"):
        self.send(pb.Frame(hello=pb.Hello(party=party, client_name=name, protocol_version=1)))

    def recv(self, timeout=5.0):
        """The next frame, or None after `timeout` seconds."""
        if not self.sock.poll(int(timeout * 1000)):
            return None
        f = pb.Frame()
        f.ParseFromString(self.sock.recv())
        return f

    def frames(self, timeout=0.5):
        """Every frame readable now (waiting at most `timeout` for each)."""
        out = []
        while self.sock.poll(int(timeout * 1000)):
            f = pb.Frame()
            f.ParseFromString(self.sock.recv())
            out.append(f)
        return out

    def close(self):
        self.sock.close(0)


def referral(ident, payload=b"r" * 100, **over):
    fields = dict(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral", identificatie=ident,
                  content_type="application/octet-stream", payload=payload)
    fields.update(over)
    return envelope(**fields)


class Served:
    """A normal publisher and subscriber beside the hostile ones: each round trip must go through at once, and every
    message they got Accepted must be in the journal at the end."""

    def __init__(self, d):
        self.d = d
        self.pub = Client(d, MEMBER, client_name="normal-pub")
        self.sub = Client(d, COOP, client_name="normal-sub")
        self.sub.subscribe(INBOX, "normal", credit=100, start=pb.LATEST)
        self.accepted = []
        self.n = 0

    def beat(self):
        """Heartbeats from both, so the hostile scenarios' waits do not make them silent."""
        self.pub.heartbeat()
        self.sub.heartbeat()

    def round_trip(self, what):
        self.n += 1
        ident = "OK%d" % self.n
        t0 = time.monotonic()
        acc = self.pub.publish_ok(1000000 + self.n, referral(ident), timeout=10)
        self.accepted.append(ident)
        deadline = time.monotonic() + 10
        while True:                             # what the hostile clients got accepted on the inbox comes too
            got = self.sub.deliveries(1, max(0.1, deadline - time.monotonic()), stream=INBOX)
            check(got, "%s: the normal subscriber did not get %s" % (what, ident))
            self.sub.ack(INBOX, got[0].seq)
            if got[0].envelope.identificatie == ident:
                break
        dt = time.monotonic() - t0
        check(dt < 5, "%s: a normal round trip took %.1f s" % (what, dt))
        return acc

    def check_journal(self):
        stored = {r[0] for r in self.d.query("SELECT identificatie FROM messages WHERE identificatie LIKE 'OK%'")}
        check_eq(sorted(set(self.accepted) - stored), [], "accepted normal messages missing from the journal")


def flood_publish(d, n, size=1024, window=256, party=MEMBER, receiver=COOP, prefix=None):
    """Publishes n messages of `size` bytes keeping `window` in flight; returns the seconds it took."""
    c = Raw(d)
    c.hello(party, "flood")
    check(body(c.recv()) == "welcome", "flood publisher: no Welcome")
    env = envelope(sender=party, receiver=receiver, kind="REFERRAL", message_type="knoop.test",
                   payload=b"x" * size).SerializeToString()
    sent = accepted = out = 0
    t0 = time.monotonic()
    while accepted < n:
        while out < window and sent < n:
            sent += 1
            out += 1
            c.sock.send(publish_bytes(sent, env))
        check(c.sock.poll(10000), "flood publisher: no answer within 10 s")
        f = pb.Frame()
        f.ParseFromString(c.sock.recv())
        check(body(f) == "accepted", "flood publisher:", f)
        accepted += 1
        out -= 1
    c.close()
    return time.monotonic() - t0


# ---- 2. consumers that do not read -----------------------------------------------------------------------------

@test(timeout=240)
def consumers_that_do_not_read_cost_a_bounded_amount():
    """Nine subscribers with credit 65536 that never read their socket (they only send heartbeats) beside a normal
    one, on a stream of 1 KiB messages: knoopd holds at most connection_max_unacked_bytes for each, the rest waits
    in the journal; the normal subscriber gets everything meanwhile; after the nine close, RSS falls back."""
    with Daemon(settings={"peer_timeout_ms": 4000, "heartbeat_ms": 1000}) as d:
        total = 100000
        dt = flood_publish(d, total)
        print("    published %d x 1 KiB in %.1f s" % (total, dt), flush=True)
        normal = Client(d, COOP, client_name="normal")
        normal.subscribe(INBOX, "normal", credit=1000, start=pb.EARLIEST)
        got = 0
        while got < total:
            f = normal.recv(10)
            check(f is not None, "normal subscriber stalled at %d of %d" % (got, total))
            if body(f) == "deliver":
                got += 1
                normal.ack(INBOX, f.deliver.seq)
        time.sleep(1)
        base = mem(d)["rss"]
        reset_peak(d)
        lazies = []
        for i in range(9):
            r = Raw(d)
            r.hello(COOP, "lazy%d" % i)
            r.send(pb.Frame(subscribe=pb.Subscribe(stream=INBOX, subscriber="lazy%d" % i, start=pb.EARLIEST,
                                                   credit=65536)))
            lazies.append(r)

        def heartbeats():
            for r in lazies:
                r.send(pb.Frame(heartbeat=pb.Heartbeat()))

        # While the nine hold what they were sent, 10,000 more messages reach the normal subscriber.
        more = 10000
        pub = Raw(d)
        pub.hello(MEMBER, "more")
        check(body(pub.recv()) == "welcome", "no Welcome")
        env = envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.test",
                       payload=b"y" * 1024).SerializeToString()
        sent = got = 0
        last_hb = time.monotonic()
        deadline = time.monotonic() + 60
        while got < more and time.monotonic() < deadline:
            while sent < more and sent - got < 200:
                sent += 1
                pub.sock.send(publish_bytes(sent, env))
            for f in pub.frames(0):
                check(body(f) == "accepted", "publish beside the idle consumers:", f)
            f = normal.recv(5)
            if f is not None and body(f) == "deliver":
                got += 1
                normal.ack(INBOX, f.deliver.seq)
            if time.monotonic() - last_hb > 0.5:
                heartbeats()
                last_hb = time.monotonic()
        check_eq(got, more, "deliveries to the normal subscriber while nine others do not read")
        # Each idle consumer was sent what its connection may hold, not its window of 65536.
        for _ in range(20):
            heartbeats()
            held = {r["subscriber"]: r["in_flight"] for r in d.table("subscribers")}
            if all(held.get("lazy%d" % i, 0) > 1000 for i in range(9)):
                break
            time.sleep(0.5)
        lazy_held = [held.get("lazy%d" % i, 0) for i in range(9)]
        check(all(1000 < h < 8192 for h in lazy_held),
              "unacked deliveries per idle consumer (connection_max_unacked_bytes 8 MiB of ~1.1 KiB envelopes):",
              lazy_held)
        time.sleep(1)
        heartbeats()
        peak = mem(d)["peak"]
        report("9 consumers that never read (credit 65536, 1 KiB)", base, peak, 9 * PER_IDLE_CONSUMER_MB)
        for r in lazies:
            r.close()
        # They are dropped after peer_timeout_ms; their deliveries go back to the journal, the heap is trimmed.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            normal.heartbeat()
            time.sleep(0.5)
            if d.control("status")["clients_connected"] == 1 and (SANITIZED or mem(d)["rss"] < base + 16):
                break
        after = mem(d)["rss"]
        print("    rss after the nine closed: %.1f MiB (base %.1f MiB)" % (after, base), flush=True)
        check(SANITIZED or after < base + 16, "RSS after the idle consumers left: %.1f MiB, base %.1f MiB"
              % (after, base))
        d.stop()


# ---- 3. hostile clients ----------------------------------------------------------------------------------------

def scenario(d, served, what, bound, fn):
    """Runs fn with the peak reset before; the normal clients must be served right after; returns fn's result."""
    base = mem(d)["rss"]
    reset_peak(d)
    out = fn()
    served.round_trip(what)
    report(what, base, mem(d)["peak"], bound)
    return out


@test(timeout=300)
def hostile_clients_keep_memory_bounded():
    with Daemon(settings={"peer_timeout_ms": 6000, "heartbeat_ms": 2000}) as d:
        served = Served(d)
        for i in range(200):                        # warm the journal's caches first: they are not the clients' cost
            served.pub.publish(i + 1, referral("W%d" % i, payload=b"w" * 1024, receiver="99990002"))
        for i in range(200):
            check(served.pub.wait_answer(i + 1) is not None, "warm-up")
        served.round_trip("warm-up")

        def small_frames_and_unread_errors():
            # A million frames that are not knoop frames, from a stranger that never reads: each is answered
            # BAD_FRAME until its queue (send_hwm) is full, the rest of the answers are lost with nothing kept.
            r = Raw(d, rcvhwm=100)
            for i in range(1000000):
                r.send(b"\x00")
                if i % 100000 == 0:
                    served.beat()
            # The same from a session: its queue fills, the session ends (logged once), its later frames are a
            # stranger's.
            s = Raw(d, rcvhwm=100)
            s.hello(MEMBER, "unread-errors")
            for _ in range(200000):
                s.send(b"\x00")
            served.beat()
            deadline = time.monotonic() + 30
            while "reason=send_queue_full" not in d.log() and time.monotonic() < deadline:
                time.sleep(0.2)
            check_eq(d.log().count("event=peer.send_queue_full"), 1, "peer.send_queue_full lines")
            check("client=\"unread-errors\" reason=send_queue_full" in d.log(), "the unread session was dropped")
            r.close()
            s.close()
        scenario(d, served, "1,200,000 small frames, answers never read", 48, small_frames_and_unread_errors)

        def frames_at_and_over_the_limit():
            c = Client(d, MEMBER, client_name="big")
            room = LIMIT - 4096
            check(body(c.publish_wait(1, referral("AT", payload=b"a" * room), timeout=20)) == "accepted", "at limit")
            f = c.publish_wait(2, referral("OVER", payload=b"o" * (LIMIT + 1024)), timeout=20)
            check(body(f) == "rejected" and f.rejected.code == pb.TOO_LARGE, "just over the limit:", f)
            for i in range(5):                      # beyond the guard: the connection is dropped, nothing buffered
                c.publish(10 + i, referral("HUGE", payload=b"h" * (8 * MiB)))
                check(c.wait_answer(10 + i, 1) is None, "an 8 MiB frame was answered")
                served.beat()
            c.close()
        scenario(d, served, "frames at, over and twice the size limit", 64, frames_at_and_over_the_limit)

        def unknown_fields_before_hello():
            r = Raw(d)
            tiny = b"\xa0\x06\x01"                  # field 100, varint 1: unknown to knoop.Frame
            for _ in range(3):                      # 8 MiB: beyond the guard, dropped unread
                r.send(tiny * (8 * MiB // 3))
            r.close()
            r = Raw(d)
            r.send(tiny * ((LIMIT - 1024) // 3))    # within the limit: refused by the decoding budget
            f = r.recv(10)
            check(body(f) == "error" and f.error.code == pb.BAD_FRAME and "too many fields" in f.error.reason,
                  "4 MiB of unknown fields:", f)
            r.close()
        scenario(d, served, "8 MiB and 4 MiB frames of unknown fields before Hello", 64, unknown_fields_before_hello)

        def xml_of_tiny_nodes():
            c = Client(d, "1883", client_name="xml")
            xml = (b'<?xml version="1.0" encoding="UTF-8"?><wmo301:Bericht xmlns:wmo301="http://www.istandaarden.nl/'
                   b'iwmo/3_2/wmo301/schema">' + b"<a/>" * ((LIMIT - 8192) // 4) + b"</wmo301:Bericht>")
            env = envelope(sender="1883", receiver=MEMBER, kind="ASSIGNMENT", message_type="WMO301",
                           identificatie="X1", content_type="application/xml; iwmo-3.2; WMO301", payload=xml)
            f = c.publish_wait(1, env, timeout=20)
            check(body(f) == "rejected" and "XML nodes" in f.rejected.reason, "4 MiB of <a/>:", f)
            env.payload = xml + b"<!--" + b"p" * (4 * MiB) + b"-->"
            c.publish(2, env)                        # 8 MiB: beyond the guard
            check(c.wait_answer(2, 1) is None, "an 8 MiB XML frame was answered")
            c.close()
        scenario(d, served, "4 MiB and 8 MiB XML of tiny nodes", 96, xml_of_tiny_nodes)

        def open_and_close_5000():
            ctx = zmq.Context.instance()
            hello = pb.Frame(hello=pb.Hello(party=MEMBER, client_name="churn", protocol_version=1)).SerializeToString()
            for i in range(5000):
                s = ctx.socket(zmq.DEALER)
                s.setsockopt(zmq.LINGER, 100)
                s.connect(d.endpoint)
                s.send(hello)
                if i % 50 == 0:                      # now and then wait for the answer: the broker keeps up
                    check(s.poll(5000), "no answer to the Hello of connection %d" % i)
                    served.beat()
                s.close()
        scenario(d, served, "5000 connections opened and closed", 48, open_and_close_5000)

        def half_open_peers():
            peers = [Raw(d) for _ in range(1000)]
            for i, p in enumerate(peers):
                p.hello("9%07d" % i, "half-open")
            deadline = time.monotonic() + 5       # (before the first of them times out)
            while d.control("status")["clients_connected"] < 1002 and time.monotonic() < deadline:
                served.beat()
                time.sleep(0.2)
            known = d.control("status")["clients_connected"]
            served.round_trip("half-open peers connected")
            check(known >= 900, "half-open peers known: %d of 1000" % (known - 2))
            deadline = time.monotonic() + 20       # silent for peer_timeout_ms: dropped
            while d.control("status")["clients_connected"] > 2 and time.monotonic() < deadline:
                served.pub.heartbeat()
                served.sub.heartbeat()
                time.sleep(0.5)
            check_eq(d.control("status")["clients_connected"], 2, "clients after the half-open ones timed out")
            for p in peers:
                p.close()
        scenario(d, served, "1000 half-open peers (Hello, then silence)", 48, half_open_peers)

        def client_that_never_reads():
            # Publishes 20,000 without reading an answer: beyond max_publishes_in_flight they are Rejected, the
            # answers fill its queue, its session ends. Whatever it was told was Accepted is in the journal.
            r = Raw(d, rcvhwm=100)
            r.hello(MEMBER, "never-reads")
            env = envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.unread",
                           payload=b"u" * 1024)
            for i in range(20000):
                env.identificatie = "U%d" % i
                r.send(publish_bytes(i + 1, env.SerializeToString()))
            served.beat()
            time.sleep(2)
            served.beat()
            told = [f for f in r.frames(1) if body(f) == "accepted"]
            stored = d.query("SELECT count(*) FROM messages WHERE message_type = 'knoop.unread'")[0][0]
            check(len(told) <= stored, "Accepted answers %d, journaled %d" % (len(told), stored))
            seqs = {s for (s,) in d.query("SELECT seq FROM messages WHERE message_type = 'knoop.unread'")}
            check(all(f.accepted.seq in seqs for f in told), "an Accepted message is missing from the journal")
            r.close()
        scenario(d, served, "a publisher that never reads its answers", 64, client_that_never_reads)

        served.check_journal()
        lines = len(d.log().splitlines())
        check(lines < 20000, "log lines after all of it: %d" % lines)
        d.stop()


@test(timeout=90)
def referral_of_a_million_list_items_is_refused_without_expanding():
    """A 4 MiB Referral whose `domains` list holds 1.3 million one-letter items is Rejected INVALID_FIELD by the
    decoding budget; one with more than max_list_items real items by the list limit; an 8 MiB one never arrives."""
    with Daemon(network=demo_network(), heartbeat_ms=1000, peer_timeout_ms=5000) as d:
        c = Client(d, "99980001", client_name="team")
        base = mem(d)["rss"]
        reset_peak(d)
        items = (LIMIT - 4096) // 3
        payload = b"\x08\x01" + b"\x42\x01x" * items        # schema_version 1, then field 8 (domains) "x" ...
        env = envelope(sender="99980001", receiver=COOP, kind="REFERRAL", message_type="knoop.domain.Referral",
                       identificatie="BIG1", client_bsn="999990007",
                       content_type="application/x-protobuf; knoop.domain.Referral", payload=payload)
        f = c.publish_wait(1, env, timeout=20)
        check(body(f) == "rejected" and f.rejected.code == pb.INVALID_FIELD and
              "too many fields or list items" in f.rejected.reason, "1.3 million list items:", f)
        env.identificatie = "BIG2"
        env.payload = b"\x08\x01" + b"\x42\x09financien" * 1001
        f = c.publish_wait(2, env, timeout=20)
        check(body(f) == "rejected" and "Referral.domains has 1001 items" in f.rejected.reason, "1001 domains:", f)
        env.identificatie = "BIG3"
        env.payload = b"\x08\x01" + b"\x42\x01x" * (8 * MiB // 3)
        c.publish(3, env)
        check(c.wait_answer(3, 1) is None, "an 8 MiB Referral was answered")
        report("4 MiB and 8 MiB Referral lists", base, mem(d)["peak"], 64)
        d.stop()


# ---- caps ------------------------------------------------------------------------------------------------------

@test(timeout=90)
def publishes_beyond_the_cap_are_rejected_and_nothing_accepted_is_lost():
    """3000 publishes sent at once, with max_publishes_in_flight 100 and one message per commit (so the journal is
    surely behind): the excess is Rejected INTERNAL saying to wait for answers; every Accepted one is in the journal;
    publishing the rejected ones again stores all 3000 once."""
    with Daemon(settings={"commit_batch_max": 1, "max_publishes_in_flight": 100}) as d:
        c = Client(d, MEMBER)
        n = 3000
        for i in range(n):
            c.publish(i + 1, referral("C%d" % i))
        answers = {}
        while len(answers) < n:
            f = c.recv(10)
            check(f is not None, "answers stopped at %d of %d" % (len(answers), n))
            if body(f) in ("accepted", "rejected"):
                answers[getattr(f, body(f)).ref] = f
        refused = [r for r, f in answers.items() if body(f) == "rejected"]
        check(refused, "3000 publishes at once: none was refused by max_publishes_in_flight")
        f = answers[refused[0]]
        check(f.rejected.code == pb.INTERNAL and "too many publishes in flight" in f.rejected.reason and
              "max_publishes_in_flight" in f.rejected.reason, "refusal:", f)
        accepted = {answers[r].accepted.seq for r in answers if body(answers[r]) == "accepted"}
        stored = {s for (s,) in d.query("SELECT seq FROM messages")}
        check_eq(accepted - stored, set(), "accepted but not journaled")
        check_eq(len(stored), n - len(refused), "journaled")
        again = c.publish_window([(r, referral("C%d" % (r - 1))) for r in refused], window=64)
        check(all(body(f) == "accepted" for f in again.values()), "published again")
        check_eq(d.query("SELECT count(DISTINCT identificatie), count(*) FROM messages")[0], (n, n), "journal")
        d.stop()


@test(timeout=60)
def connections_in_all_and_per_party_are_capped():
    with Daemon(settings={"max_connections": 20, "max_connections_per_party": 3, "peer_timeout_ms": 1000,
                          "heartbeat_ms": 400}) as d:
        same = [Client(d, MEMBER, client_name="p%d" % i, heartbeat_s=0.1) for i in range(3)]
        extra = Client(d)
        try:
            extra.hello(MEMBER, "fourth")
            check(False, "a fourth session of one party was welcomed")
        except KnoopError as e:
            check(e.code == pb.INTERNAL and "max_connections_per_party" in e.reason, "fourth session:", e.frame)
        others = [Client(d, "9%07d" % i, heartbeat_s=0.1) for i in range(16)]      # 3 + 1 + 16 = 20 known
        late = Raw(d)
        late.hello(COOP, "twenty-first")
        f = late.recv(3)
        check(body(f) == "error" and f.error.code == pb.INTERNAL and "max_connections" in f.error.reason,
              "the 21st client:", f)
        refusals = d.log().count("event=peer.refused")
        check(1 <= refusals <= 2, "refusals are logged at most once a second: %d lines" % refusals)
        # One session of the party goes; after the peer timeout the party may open another.
        same[0].close()
        late.close()
        deadline = time.monotonic() + 5
        while True:
            for c in same[1:] + others:
                c.heartbeat()
            try:
                extra.hello(MEMBER, "fourth-again")
                break
            except KnoopError:
                check(time.monotonic() < deadline, "no room for the party after one session left")
                time.sleep(0.3)
        d.stop()


@test(timeout=90)
def a_session_whose_queue_is_full_ends_and_says_so():
    """send_hwm 1000: a client that sends 200,000 bad frames without reading fills its queue; its session ends with
    one log line, it keeps what fit in the queues, and after a new Hello it is served again."""
    with Daemon(settings={"send_hwm": 1000, "connection_max_unacked": 100, "max_publishes_in_flight": 100}) as d:
        r = Raw(d, rcvhwm=10, rcvbuf=4096)      # the kernel holds little for it either
        r.hello(MEMBER, "slow-reader")
        for _ in range(200000):
            r.send(b"\x00")
        deadline = time.monotonic() + 30
        while "reason=send_queue_full" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = d.log()
        check_eq(log.count("event=peer.send_queue_full"), 1, "send_queue_full lines")
        check('client="slow-reader" reason=send_queue_full' in log, "peer.dropped line")
        got = r.frames(0.5)
        check(1000 <= len(got) < 200000, "frames the slow reader finds when it reads at last: %d" % len(got))
        check(body(got[0]) == "welcome" and all(body(f) == "error" for f in got[1:]), "what it finds")
        r.hello(MEMBER, "slow-reader")
        again = r.frames(2)
        check(again and body(again[-1]) == "welcome" and again[-1].welcome.session != got[0].welcome.session,
              "a new session after the drop:", again[-1:])
        d.stop()


# ---- 5. status beside a loaded publisher -------------------------------------------------------------------------

# knoopctl status in a loop, in its own process (not competing for this one's GIL): STATUS_HZ calls a second until
# stdin closes, then prints "calls max_ms median_ms" (and "ready" after its first call).
STATUS_POLLER = r"""
import json, socket, sys, threading, time
path, hz = sys.argv[1], float(sys.argv[2])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
took = []
first = True
while not stop.is_set():
    t = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"argv": ["status"]}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    assert json.loads(buf)["ok"]
    took.append(time.monotonic() - t)
    if first:
        print("ready", flush=True)
        first = False
    time.sleep(max(0.0, 1.0 / hz - (time.monotonic() - t)))
took.sort()
print(len(took), took[-1] * 1000, took[len(took) // 2] * 1000)
"""


@test(timeout=240)
def status_does_not_disturb_a_publisher():
    """`knoopctl status` answers in the same time on an empty journal and on one of 200,000 messages (it reads indexed
    spans, never the table), and polling it 100 times a second does not raise a publisher's latency."""
    with Daemon() as d:
        def status_ms(n):
            out = []
            for _ in range(n):
                t = time.monotonic()
                d.control("status")
                out.append((time.monotonic() - t) * 1000)
            return sorted(out)[n // 2]

        empty = status_ms(200)
        dt = flood_publish(d, 200000, size=256, window=512)
        full = status_ms(200)
        print("    journaled 200,000 messages in %.1f s; status median %.2f ms empty, %.2f ms at 200k"
              % (dt, empty, full), flush=True)
        check(full < 3 * empty + 1, "status on 200k messages %.2f ms, on none %.2f ms" % (full, empty))
        c = Client(d, MEMBER)
        sent = [0]

        def latencies(seconds):
            out = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                sent[0] += 1
                t0 = time.monotonic()
                c.publish_ok(5000000 + sent[0], referral("L%d" % sent[0]))
                out.append((time.monotonic() - t0) * 1000)
            return out

        # Quiet and polled phases alternate, so that whatever else the machine does falls on both alike.
        quiet, busy, calls, status_max = [], [], 0, 0.0
        for _ in range(3):
            quiet += latencies(1.0)
            poller = subprocess.Popen([sys.executable, "-c", STATUS_POLLER, d.socket_path, "100"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                check_eq(poller.stdout.readline().strip(), "ready", "status poller")
                busy += latencies(1.0)
            finally:
                out, _ = poller.communicate("", timeout=30)
            n, mx, _median = out.split()
            calls, status_max = calls + int(n), max(status_max, float(mx))
        quiet.sort()
        busy.sort()
        q99, b99 = quiet[len(quiet) * 99 // 100], busy[len(busy) * 99 // 100]
        print("    publish latency quiet p99 %.2f max %.2f ms; with status polled 100/s (%d calls, max %.2f ms) p99 "
              "%.2f max %.2f ms" % (q99, quiet[-1], calls, status_max, b99, busy[-1]), flush=True)
        check(calls > 200, "status calls during the polled phases: %d" % calls)
        check(b99 < 2 * q99 + 20, "publish p99 %.1f ms with status polled, %.1f ms without" % (b99, q99))
        # The max: a status that scanned the journal (the old span query: 112 ms on 200k rows) would hold the loop for
        # most of every 10 ms and make many publishes slow. A shared machine stalls now and then in either phase, so
        # what is checked is how many publishes took over 100 ms, not the single slowest.
        slow_quiet, slow_busy = sum(1 for x in quiet if x > 100), sum(1 for x in busy if x > 100)
        check(slow_busy <= slow_quiet + 2, "publishes over 100 ms: %d with status polled, %d without (max %.1f ms, "
              "%.1f ms)" % (slow_busy, slow_quiet, busy[-1], quiet[-1]))
        d.stop()


if __name__ == "__main__":
    run()
