#!/usr/bin/python3
# test_client_offline.py — tests knoop_client.py against a tiny fake broker (a ROUTER socket on 127.0.0.1, random
# port, in a thread) that answers Hello/Publish/Subscribe/Credit/Ack/Nack/Heartbeat as docs/protocol.md says.
"""Offline tests for the Python client: no knoopd needed. Run with Debian's python3:

    /usr/bin/python3 clients/python/test_client_offline.py

Prints one line per test and ends with "N passed, N failed"; exits non-zero on a failure.
"""

import hashlib
import os
import secrets
import sys
import threading
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testkit  # noqa: E402
from knoop_client import Client, ConnectionLost, KnoopError, PublishRejected, knoop_pb2  # noqa: E402
from testkit import eventually, expect, raises  # noqa: E402
import knoop_client  # noqa: E402

pb = knoop_pb2


def bsn_ok(s):
    if len(s) != 9 or not s.isdigit():
        return False
    total = sum(int(s[i]) * (9 - i) for i in range(8)) - int(s[8])
    return total % 11 == 0


class _Sub:
    """A subscription with a window (credit) of unacked deliveries, as knoopd keeps it."""

    def __init__(self, stream, subscriber, window, next_index):
        self.stream, self.subscriber, self.window, self.next_index = stream, subscriber, window, next_index
        self.unacked = {}        # seq -> attempt
        self.redeliver = []      # (due, seq, attempt)
        self.max_unacked = 0

    def room(self):
        return self.window - len(self.unacked)


class FakeBroker(threading.Thread):
    """Just enough of knoopd to exercise a client: one Frame per ZMQ message, answers per docs/protocol.md.
    Publishes are answered after `answer_delay` seconds or once `batch` are pending, newest first, so a client
    must correlate by ref. Records what it received for the tests to inspect."""

    def __init__(self, heartbeat_ms=0, max_message_bytes=64 * 1024, answer_delay=0.0, batch=1):
        super().__init__(daemon=True)
        self.heartbeat_ms, self.max_message_bytes = heartbeat_ms, max_message_bytes
        self.answer_delay, self.batch = answer_delay, batch
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind("tcp://127.0.0.1:*")
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.parties = {}                # identity -> party
        self.sessions = {}               # identity -> session id (kept across a second Hello)
        self.last_seen = {}              # identity -> monotonic time of its last frame
        self.peer_timeout = None         # seconds of silence after which a session is dropped
        self.cursors = {}                # (stream, subscriber) -> index of the first unsettled message
        self.subs = {}                   # identity -> {stream: _Sub}
        self.streams = {}                # name -> [Envelope]
        self.dedup = {}                  # (sender, message_type, identificatie) -> (seq, message_id)
        self.seq = 0
        self.pending = []                # (identity, Frame, since)
        self.max_in_flight = 0
        self.received = []               # (identity, body name, inner message)
        self.multipart = 0
        self.heartbeats = 0
        self.silent = False              # stop answering anything (a hung broker)
        self._halt = threading.Event()
        self.start()

    def stop(self):
        self._halt.set()
        self.join(5)
        self.sock.close()
        self.ctx.term()

    def names(self, body):
        return [m for (_, b, m) in self.received if b == body]

    def send(self, ident, **body):
        if not self.silent:
            self.sock.send_multipart([ident, pb.Frame(**body).SerializeToString()])

    def run(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while not self._halt.is_set():
            if poller.poll(2):
                while self.sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    parts = self.sock.recv_multipart()
                    if len(parts) != 2:
                        self.multipart += 1
                        continue
                    self.handle(parts[0], parts[1])
            self.flush_answers()
            self.redeliver()
            self.drop_silent()

    def handle(self, ident, data):
        f = pb.Frame()
        try:
            f.ParseFromString(data)
        except Exception:  # noqa: BLE001
            self.send(ident, error=pb.Error(code=pb.BAD_FRAME, reason="not a knoop.Frame"))
            return
        body = f.WhichOneof("body")
        m = getattr(f, body) if body else None
        self.received.append((ident, body, m))
        self.last_seen[ident] = time.monotonic()
        if body == "heartbeat":
            self.heartbeats += 1
            self.send(ident, heartbeat=pb.Heartbeat())
            return
        if body == "hello":
            return self.on_hello(ident, m)
        if ident not in self.parties:
            if body == "publish":
                return self.send(ident, rejected=pb.Rejected(ref=m.ref, code=pb.NO_HELLO, reason="send Hello first"))
            return self.send(ident, error=pb.Error(code=pb.NO_HELLO, reason="%s before Hello" % body))
        getattr(self, "on_" + body)(ident, m)

    def on_hello(self, ident, m):
        if m.protocol_version not in (0, 1):
            return self.send(ident, error=pb.Error(code=pb.PROTOCOL_VERSION, reason="this broker speaks 1"))
        if not (m.party.isdigit() and len(m.party) in (4, 8)):
            return self.send(ident, error=pb.Error(code=pb.INVALID_PARTY, reason="'%s' is no party code" % m.party))
        self.parties[ident] = m.party
        self.subs.setdefault(ident, {})
        session = self.sessions.setdefault(ident, secrets.token_hex(16))
        self.send(ident, welcome=pb.Welcome(session=session, protocol_version=1,
                                            max_message_bytes=self.max_message_bytes,
                                            heartbeat_ms=self.heartbeat_ms, broker_version="fake-0"))

    def on_publish(self, ident, m):
        env = m.envelope
        reject = None
        if not m.HasField("envelope"):
            reject = (pb.MISSING_FIELD, "publish.envelope is required")
        elif env.sender != self.parties[ident]:
            reject = (pb.NOT_AUTHORISED, "publish only as yourself")
        elif env.client_bsn and not bsn_ok(env.client_bsn):
            reject = (pb.INVALID_BSN, "envelope.client_bsn is not a valid BSN")
        if reject:
            out = pb.Frame(rejected=pb.Rejected(ref=m.ref, code=reject[0], reason=reject[1]))
        else:
            key = (env.sender, env.message_type, env.identificatie)
            if env.identificatie and key in self.dedup:
                seq, mid = self.dedup[key]
                out = pb.Frame(accepted=pb.Accepted(ref=m.ref, seq=seq, message_id=mid, duplicate=True))
            else:
                self.seq += 1
                stored = pb.Envelope()
                stored.CopyFrom(env)
                if env.client_bsn:
                    stored.client_ref = hashlib.sha256(b"key" + env.client_bsn.encode()).digest()
                    stored.client_bsn = ""
                stored.seq, stored.message_id = self.seq, secrets.token_hex(16)
                stored.accepted_at_us = time.time_ns() // 1000
                if env.identificatie:
                    self.dedup[key] = (stored.seq, stored.message_id)
                self.streams.setdefault("inbox." + (env.receiver or "unrouted"), []).append(stored)
                out = pb.Frame(accepted=pb.Accepted(ref=m.ref, seq=stored.seq, message_id=stored.message_id))
        self.pending.append((ident, out, time.monotonic()))
        self.max_in_flight = max(self.max_in_flight, sum(1 for p in self.pending if p[0] == ident))

    def flush_answers(self):
        if not self.pending:
            return
        if len(self.pending) < self.batch and time.monotonic() - self.pending[0][2] < self.answer_delay:
            return
        # "Durable commit" done: answer everything pending, newest first, then deliver what it appended.
        answered, self.pending = self.pending, []
        for ident, out, _ in reversed(answered):
            if not self.silent:
                self.sock.send_multipart([ident, out.SerializeToString()])
        self.pump_all()

    def on_subscribe(self, ident, m):
        party = self.parties[ident]
        if m.stream.startswith("inbox."):
            if m.stream != "inbox." + party:
                return self.send(ident, error=pb.Error(code=pb.NOT_AUTHORISED,
                                                       reason="party %s may not read %s" % (party, m.stream)))
        elif m.stream not in ("alerts", "deadletters") and not m.stream.startswith("outcomes."):
            return self.send(ident, error=pb.Error(code=pb.UNKNOWN_STREAM, reason="no stream %s" % m.stream))
        msgs = self.streams.setdefault(m.stream, [])
        start = {pb.DURABLE: 0, pb.EARLIEST: 0, pb.LATEST: len(msgs),
                 pb.SEQ: sum(1 for e in msgs if e.seq < m.start_seq),
                 pb.TIME: sum(1 for e in msgs if e.accepted_at_us < m.start_time_us)}[m.start]
        if m.subscriber and (m.stream, m.subscriber) in self.cursors:
            start = self.cursors[(m.stream, m.subscriber)]  # a known name continues at its cursor
        sub = _Sub(m.stream, m.subscriber, m.credit, start)
        self.subs[ident][m.stream] = sub
        position = msgs[start - 1].seq if start > 0 else 0
        self.send(ident, subscribed=pb.Subscribed(stream=m.stream, subscriber=m.subscriber, position=position))
        self.pump(ident, sub)

    def on_unsubscribe(self, ident, m):
        sub = self.subs[ident].pop(m.stream, None)
        if sub:
            self.keep_cursor(sub)

    def keep_cursor(self, sub):
        """The durable cursor: unsettled deliveries come again to the next subscription of that name."""
        if not sub.subscriber:
            return
        msgs = self.streams.get(sub.stream, [])
        pending = set(sub.unacked) | {r[1] for r in sub.redeliver}
        first = min([i for i, e in enumerate(msgs) if e.seq in pending] or [sub.next_index])
        self.cursors[(sub.stream, sub.subscriber)] = first

    def forget(self, ident):
        """What knoopd does to a silent peer, and what a restart does to every peer."""
        for sub in self.subs.pop(ident, {}).values():
            self.keep_cursor(sub)
        self.parties.pop(ident, None)
        self.sessions.pop(ident, None)

    def forget_all(self):
        for ident in list(self.parties):
            self.forget(ident)

    def drop_silent(self):
        if self.peer_timeout is None:
            return
        now = time.monotonic()
        for ident in [i for i in self.parties if now - self.last_seen.get(i, now) > self.peer_timeout]:
            self.forget(ident)

    def on_credit(self, ident, m):
        sub = self.subs[ident].get(m.stream)
        if sub is None:
            return self.send(ident, error=pb.Error(code=pb.UNKNOWN_STREAM, reason="not subscribed to " + m.stream))
        sub.window += m.n
        self.pump(ident, sub)

    def on_ack(self, ident, m):
        sub = self.subs[ident].get(m.stream)
        if sub:
            sub.unacked.pop(m.seq, None)
            self.pump(ident, sub)

    def on_nack(self, ident, m):
        sub = self.subs[ident].get(m.stream)
        if sub and m.seq in sub.unacked:
            attempt = sub.unacked.pop(m.seq)
            sub.redeliver.append((time.monotonic() + m.delay_ms / 1000.0, m.seq, attempt + 1))
            self.pump(ident, sub)

    def deliver(self, ident, sub, env, attempt):
        sub.unacked[env.seq] = attempt
        sub.max_unacked = max(sub.max_unacked, len(sub.unacked))
        self.send(ident, deliver=pb.Deliver(stream=sub.stream, seq=env.seq, envelope=env, attempt=attempt))

    def pump(self, ident, sub):
        msgs = self.streams.get(sub.stream, [])
        while sub.room() > 0 and sub.next_index < len(msgs):
            self.deliver(ident, sub, msgs[sub.next_index], 1)
            sub.next_index += 1

    def pump_all(self):
        for ident, subs in self.subs.items():
            for sub in subs.values():
                self.pump(ident, sub)

    def redeliver(self):
        now = time.monotonic()
        for ident, subs in self.subs.items():
            for sub in subs.values():
                due = [r for r in sub.redeliver if r[0] <= now]
                for r in due[:max(0, sub.room())]:
                    sub.redeliver.remove(r)
                    env = next(e for e in self.streams[sub.stream] if e.seq == r[1])
                    self.deliver(ident, sub, env, r[2])


# ---- the tests ---------------------------------------------------------------------------------------------

TEAM, COOP = "99980001", "99990000"
GOOD_BSN, BAD_BSN = "999990007", "999990008"


def referral(i, **extra):
    fields = dict(receiver=COOP, kind="REFERRAL", message_type="knoop.Referral", identificatie="BT-%06d" % i,
                  client_bsn=GOOD_BSN, content_type="application/json", payload='{"n": %d}' % i)
    fields.update(extra)
    return fields


def test_hello_welcome(fb):
    with Client(fb.endpoint, timeout=2) as c:
        w = c.hello(TEAM, "test")
        expect(w.protocol_version == 1 and w.broker_version == "fake-0", "Welcome fields: %s" % w)
        expect(len(w.session) == 32 and c.max_message_bytes == 64 * 1024, "session and limits")
        h = fb.names("hello")[-1]
        expect(h.party == TEAM and h.client_name == "test" and h.protocol_version == 1, "Hello fields: %s" % h)


def test_hello_errors(fb):
    with Client(fb.endpoint, timeout=2) as c:
        raises(KnoopError, lambda: c.hello("12345", "test"), pb.INVALID_PARTY)
        raises(KnoopError, lambda: c.hello(TEAM, "test", protocol_version=2), pb.PROTOCOL_VERSION)
        expect(c.party is None, "no party after a failed Hello")


def test_publish_before_hello(fb):
    with Client(fb.endpoint, timeout=2) as c:
        e = raises(PublishRejected, lambda: c.publish(sender=TEAM, **referral(1)), pb.NO_HELLO)
        expect(e.ref >= 1, "the rejection names the ref")


def test_publish_accepted_and_sequenced(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "test")
        a1 = c.publish(**referral(10))
        a2 = c.publish(**referral(11))
        expect(a2.seq == a1.seq + 1 and not a1.duplicate and len(a1.message_id) == 32, "seq and id: %s %s" % (a1, a2))
        sent = fb.names("publish")[-1]
        expect(sent.envelope.sender == TEAM, "sender defaults to the Hello party")
        expect(sent.envelope.kind == pb.REFERRAL and sent.envelope.created_at_us > 0, "kind by name, created_at")
        expect(sent.ref == a2.ref, "the Accepted echoes the ref")


def test_publish_duplicate(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "test")
        first = c.publish(**referral(20))
        again = c.publish(**referral(20, payload="changed"))
        expect(again.duplicate and again.seq == first.seq and again.message_id == first.message_id,
               "a repeat is Accepted with the original seq: %s" % again)


def test_publish_rejected(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "test")
        e = raises(PublishRejected, lambda: c.publish(**referral(30, client_bsn=BAD_BSN)), pb.INVALID_BSN)
        expect("BSN" in e.reason and BAD_BSN not in str(e), "reason without the BSN")
        raises(PublishRejected, lambda: c.publish(**referral(31, sender=COOP)), pb.NOT_AUTHORISED)
        c.publish(**referral(32))  # the connection is still fine


def test_publish_too_large_not_sent(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "test")
        before = len(fb.names("publish"))
        raises(PublishRejected, lambda: c.publish(**referral(40, payload=b"x" * (64 * 1024))), pb.TOO_LARGE)
        time.sleep(0.05)
        expect(len(fb.names("publish")) == before, "an oversized publish is refused before sending")


def test_publish_many_window(fb):
    fb.batch, fb.answer_delay = 1000, 0.003
    with Client(fb.endpoint, timeout=5) as c:
        c.hello(TEAM, "test")
        fb.max_in_flight = 0
        results = c.publish_many((referral(1000 + i) for i in range(500)), window=16)
        expect(len(results) == 500, "one result per item")
        expect(all(isinstance(r, pb.Accepted) and not r.duplicate for r in results.values()), "all accepted")
        refs = list(results)
        expect(refs == sorted(refs), "results in the order of the items")
        expect(all(results[ref].ref == ref for ref in refs), "each result under its own ref")
        expect(fb.max_in_flight == 16, "window kept full and never exceeded: max %d" % fb.max_in_flight)
    fb.batch, fb.answer_delay = 1, 0.0


def test_publish_many_mixed(fb):
    with Client(fb.endpoint, timeout=5) as c:
        c.hello(TEAM, "test")
        items = [(101, referral(2001)), (102, referral(2002, client_bsn=BAD_BSN)),
                 (103, referral(2003, payload=b"y" * 70000)), (104, referral(2001))]
        results = c.publish_many(items, window=4)
        expect(list(results) == [101, 102, 103, 104], "refs as given")
        expect(isinstance(results[101], pb.Accepted), "101 accepted")
        expect(isinstance(results[102], pb.Rejected) and results[102].code == pb.INVALID_BSN, "102 invalid BSN")
        expect(isinstance(results[103], pb.Rejected) and results[103].code == pb.TOO_LARGE, "103 too large")
        expect(results[104].duplicate and results[104].seq == results[101].seq, "104 a duplicate of 101")
        raises(ValueError, lambda: c.publish_many([(7, referral(1)), (7, referral(2))]))


def test_publish_many_timeout_keeps_results(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "test")
        fb.silent = True  # answers nothing from here on
        try:
            e = raises(knoop_client.KnoopTimeout, lambda: c.publish_many([(1, referral(7001)), (2, referral(7002))],
                                                                           timeout=0.3))
        finally:
            fb.silent = False
        expect(e.results == {1: None, 2: None}, "unknown outcomes are None: %s" % e.results)


def publish_to_coop(fb, first, n):
    with Client(fb.endpoint, timeout=5) as c:
        c.hello(TEAM, "team")
        res = c.publish_many(referral(first + i) for i in range(n))
        return [r.seq for r in res.values()]


def test_subscribe_window(fb):
    seqs = publish_to_coop(fb, 3000, 10)
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(COOP, "coop")
        s = c.subscribe("inbox." + COOP, "credit-test", start="seq", start_seq=seqs[0], credit=3)
        expect(s.stream == "inbox." + COOP and s.subscriber == "credit-test", "Subscribed echoes: %s" % s)
        got = [c.receive(timeout=1) for _ in range(3)]
        expect([d.seq for d in got] == seqs[:3], "first three in order")
        expect(c.receive(timeout=0.2) is None, "no fourth while three are unacked")
        c.ack(got[0].stream, got[0].seq)
        d = c.receive(timeout=1)
        expect(d is not None and d.seq == seqs[3], "an ack frees one place")
        expect(c.receive(timeout=0.2) is None, "one place only")
        c.credit("inbox." + COOP, 2)
        more = [c.receive(timeout=1) for _ in range(2)]
        expect([m.seq for m in more] == seqs[4:6], "two more after Credit{2}")
        expect(c.receive(timeout=0.2) is None, "and no more: five unacked in a window of five")
        expect(more[0].envelope.client_bsn == "" and len(more[0].envelope.client_ref) == 32, "pseudonymised")


def test_window_refills_on_ack(fb):
    seqs = publish_to_coop(fb, 4000, 20)
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(COOP, "coop")
        credits_before = len(fb.names("credit"))
        c.subscribe("inbox." + COOP, "window", start="seq", start_seq=seqs[0], credit=4)
        got = []
        for d in c.deliveries(timeout=0.5):
            got.append(d.seq)
            c.ack(d.stream, d.seq)
        expect(got == seqs, "all 20 in order through a window of 4: %s" % got)
        sub = [v for subs in fb.subs.values() for v in subs.values() if v.subscriber == "window"][0]
        expect(sub.max_unacked == 4, "never more than 4 unacked: %d" % sub.max_unacked)
        expect(len(fb.names("credit")) == credits_before, "acks alone keep it flowing: no Credit sent")


def test_nack_redelivers(fb):
    seqs = publish_to_coop(fb, 5000, 1)
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(COOP, "coop")
        c.subscribe("inbox." + COOP, "nack", start="seq", start_seq=seqs[0], credit=2)
        d = c.receive(timeout=1)
        expect(d.attempt == 1, "first attempt")
        c.nack(d.stream, d.seq, delay_ms=50, reason="database busy")
        again = c.receive(timeout=1)
        expect(again is not None and again.seq == d.seq and again.attempt == 2, "redelivered: %s" % again)
        n = fb.names("nack")[-1]
        expect(n.delay_ms == 50 and n.reason == "database busy", "Nack fields")
        c.ack(again.stream, again.seq)


def test_subscribe_refused(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "team")
        raises(KnoopError, lambda: c.subscribe("inbox." + COOP, "peek"), pb.NOT_AUTHORISED)
        raises(KnoopError, lambda: c.subscribe("nonsense", "x"), pb.UNKNOWN_STREAM)


def test_delivery_kept_while_publishing(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(COOP, "coop")
        c.subscribe("inbox." + COOP, "mixed", start="latest", credit=10)
        seqs = publish_to_coop(fb, 6000, 1)
        # A Deliver may arrive while the client waits for its own Accepted; receive() must still see it.
        c.publish(receiver="0917", kind="RETOUR", message_type="knoop.Ack", identificatie="R-6000")
        d = c.receive(timeout=1)
        expect(isinstance(d, pb.Deliver) and d.seq == seqs[0], "delivery kept for receive(): %s" % d)


def test_heartbeats_while_waiting(fb):
    fb.heartbeat_ms = 100
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "hb")
        before = fb.heartbeats
        expect(c.receive(timeout=0.55) is None, "nothing to receive")
        sent = fb.heartbeats - before
        expect(5 <= sent <= 13, "a Heartbeat every heartbeat_ms/2 while waiting: %d in 550 ms" % sent)
    fb.heartbeat_ms = 0


def test_silent_broker(fb):
    fb.heartbeat_ms = 100
    with Client(fb.endpoint, timeout=5) as c:
        c.hello(TEAM, "hb")
        fb.silent = True
        t0 = time.monotonic()
        raises(ConnectionLost, lambda: c.receive(timeout=3))
        took = time.monotonic() - t0
        expect(0.25 <= took <= 1.5, "dropped after 3 x heartbeat_ms of silence, took %.2f s" % took)
    fb.silent = False
    fb.heartbeat_ms = 0


def test_close_unsubscribes(fb):
    c = Client(fb.endpoint, timeout=2)
    c.hello(COOP, "coop")
    c.subscribe("inbox." + COOP, "closer", start="latest", credit=1)
    c.subscribe("alerts", "closer", start="latest", credit=1)
    c.close()
    want = {"inbox." + COOP, "alerts"}
    expect(eventually(lambda: want <= {m.stream for m in fb.names("unsubscribe")}),
           "Unsubscribe for every stream on close: %s" % fb.names("unsubscribe"))
    raises(KnoopError, lambda: c.heartbeat())


def test_resume_after_idle(fb):
    fb.heartbeat_ms, fb.peer_timeout = 100, 0.25
    try:
        with Client(fb.endpoint, timeout=2, auto_resume=False) as c:
            c.hello(TEAM, "idle")
            time.sleep(0.5)
            raises(PublishRejected, lambda: c.publish(**referral(8001)), pb.NO_HELLO)
        with Client(fb.endpoint, timeout=2) as c:
            first = c.hello(TEAM, "idle").session
            time.sleep(0.5)
            c.publish(**referral(8002))  # Hello again first: the broker had dropped the session
            expect(c.welcome.session != first, "a new session after the drop")
            again = c.welcome.session
            time.sleep(0.05)
            c.publish(**referral(8003))  # not idle: no Hello
            expect(c.welcome.session == again, "same session")
    finally:
        fb.heartbeat_ms, fb.peer_timeout = 0, None


def test_publish_after_broker_restart(fb):
    with Client(fb.endpoint, timeout=2) as c:
        c.hello(TEAM, "restart")
        fb.forget_all()
        a = c.publish(**referral(8101))  # NO_HELLO, resume(), once more
        expect(isinstance(a, pb.Accepted), "accepted after resuming")
        fb.forget_all()
        res = c.publish_many((referral(8200 + i) for i in range(40)), window=8)
        expect(all(isinstance(r, pb.Accepted) for r in res.values()), "the window survives a restart: %s"
               % [r for r in res.values() if not isinstance(r, pb.Accepted)][:3])
        hellos = [h for h in fb.names("hello") if h.client_name == "restart"]
        expect(len(hellos) == 3, "one Hello to start and one per forgotten session: %d" % len(hellos))


def test_subscriber_survives_broker_restart(fb):
    fb.heartbeat_ms = 100
    try:
        with Client(fb.endpoint, timeout=2) as c:
            c.hello(COOP, "survivor")
            c.subscribe("inbox." + COOP, "survivor", start="latest", credit=10)
            seqs = publish_to_coop(fb, 8300, 1)
            d = c.receive(1)
            expect(d is not None and d.seq == seqs[0], "first delivery")
            c.ack(d.stream, d.seq)
            eventually(lambda: not [s for subs in fb.subs.values() for s in subs.values()
                                    if s.subscriber == "survivor" and s.unacked])
            fb.forget_all()  # a restart: the subscription is gone, heartbeats are still answered
            seqs = publish_to_coop(fb, 8301, 2)
            got = [c.receive(2) for _ in range(2)]
            expect([g.seq for g in got if g is not None] == seqs, "resumed and continued at the cursor: %s" % got)
    finally:
        fb.heartbeat_ms = 0


def test_example_pubsub(fb):
    import contextlib
    import io
    import example_pubsub
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = example_pubsub.main(["--endpoint", fb.endpoint, "--party", "0917", "--count", "3", "--start", "latest",
                                  "--idle", "0.3", "--subscriber", "example-test"])
    text = out.getvalue()
    # --start latest: the subscriber starts after the three it just published, so it sees none of them.
    expect(rc == 0 and "3 of 3 accepted" in text and "0 messages received" in text, text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = example_pubsub.main(["--endpoint", fb.endpoint, "--role", "subscriber", "--party", COOP,
                                  "--start", "earliest", "--idle", "0.3", "--subscriber", "example-all"])
    text = out.getvalue()
    expect(rc == 0 and "0917 -> 99990000 REFERRAL knoop.domain.Referral" in text and "product=begeleiding" in text,
           text)
    expect(GOOD_BSN not in text, "no BSN in the subscriber's output")


def test_single_part_frames(fb):
    expect(fb.multipart == 0, "every message was one part (no empty delimiter): %d were not" % fb.multipart)


def main():
    return testkit.run(testkit.tests_in(globals()), FakeBroker(), lambda fb: fb.stop())


if __name__ == "__main__":
    sys.exit(main())
