#!/usr/bin/python3
# test_client_live.py — tests knoop_client.py against the real knoopd binary: starts its own daemon (demo network,
# random loopback port, temporary data directory), checks what docs/protocol.md promises, kills it with -9 and back.
"""Live tests of the Python client against knoopd. Needs a built daemon:

    make && /usr/bin/python3 clients/python/test_client_live.py        # or KNOOP_BUILD=/path/to/build

Prints one line per test and ends with "N passed, N failed"; exits non-zero on a failure.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testkit  # noqa: E402
from knoop_client import (Client, ConnectionLost, HandshakeRefused, KnoopError, PublishRejected,  # noqa: E402
                          knoop_pb2, load_curve)
from testkit import expect, raises  # noqa: E402

pb = knoop_pb2
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("KNOOP_BUILD") or os.path.join(ROOT, "build")
# A legacy contract routes addressed messages unchanged: Sittard-Geleen (1883) to member 99990001's inbox.
# (Referrals to the cooperative from white-label Heerlen would be dispatched to some member instead.)
FINANCIER, MEMBER = "1883", "99990001"
GOOD_BSN, BAD_BSN = "999990007", "999990008"
HEARTBEAT_MS, PEER_TIMEOUT_MS = 300, 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keys_generate(base):
    """knoopctl keys generate BASE: BASE.key and BASE.pub; returns the public key."""
    out = subprocess.run([os.path.join(BUILD, "knoopctl"), "--json", "keys", "generate", base], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["public_key"]


class Daemon:
    """knoopd with the demo network of deploy/knoopd.yaml, on its own port and data directory; with curve, with
    auth: curve and a server key made by knoopctl (DIR/server.key, DIR/server.pub) instead of the demo's auth: none."""

    def __init__(self, curve=False):
        self.dir = tempfile.mkdtemp(prefix="knoop-live-")
        self.endpoint = "tcp://127.0.0.1:%d" % free_port()
        with open(os.path.join(ROOT, "deploy", "knoopd.yaml")) as f:
            text = f.read()
        own = ("  listen: %s\n  data_dir: %s/var\n  control_socket: %s/var/knoopd.sock\n"
               "  heartbeat_ms: %d\n  peer_timeout_ms: %d\n" % (self.endpoint, self.dir, self.dir, HEARTBEAT_MS,
                                                                PEER_TIMEOUT_MS))
        text = re.sub(r"(?m)^  (listen|data_dir|control_socket|heartbeat_ms|peer_timeout_ms):.*\n", "", text)
        text = text.replace("daemon:\n", "daemon:\n" + own, 1)
        if curve:
            keys_generate(os.path.join(self.dir, "server"))
            text = text.replace("  auth: none\n", "  auth: curve\n  server_key_file: %s/server.key\n" % self.dir, 1)
        self.config = os.path.join(self.dir, "knoopd.yaml")
        with open(self.config, "w") as f:
            f.write(text)
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "knoopd.log"), "a")
        self.proc = subprocess.Popen([os.path.join(BUILD, "knoopd"), "-c", self.config], cwd=self.dir,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if "daemon.ready" in open(os.path.join(self.dir, "knoopd.log")).read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("knoopd did not start:\n" + open(os.path.join(self.dir, "knoopd.log")).read())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def referral(ident, **extra):
    fields = dict(receiver=MEMBER, kind="ASSIGNMENT", message_type="knoop.Test", identificatie=ident,
                  client_bsn=GOOD_BSN, content_type="application/json", payload='{"product": "begeleiding"}')
    fields.update(extra)
    return fields


def test_hello(d):
    with Client(d.endpoint, timeout=5) as c:
        raises(KnoopError, lambda: c.hello("12345", "live"), pb.INVALID_PARTY)
        raises(KnoopError, lambda: c.hello("4321", "live"), pb.INVALID_PARTY)  # well-formed, not in the network
        raises(KnoopError, lambda: c.hello(FINANCIER, "live", protocol_version=7), pb.PROTOCOL_VERSION)
        w = c.hello(FINANCIER, "live")
        expect(w.protocol_version == 1 and w.heartbeat_ms == HEARTBEAT_MS and len(w.session) == 32, str(w))
        expect(c.hello(FINANCIER, "live").session == w.session, "a second Hello keeps the session")
        raises(KnoopError, lambda: c.hello(MEMBER, "live"), pb.NOT_AUTHORISED)


def test_publish_outcomes(d):
    with Client(d.endpoint, timeout=5) as c:
        c.hello(FINANCIER, "live")
        a = c.publish(**referral("L-1"))
        expect(a.seq > 0 and len(a.message_id) == 32 and not a.duplicate, str(a))
        again = c.publish(**referral("L-1", payload="other"))
        expect(again.duplicate and again.seq == a.seq and again.message_id == a.message_id, str(again))
        raises(PublishRejected, lambda: c.publish(**referral("L-2", client_bsn=BAD_BSN)), pb.INVALID_BSN)
        raises(PublishRejected, lambda: c.publish(**referral("L-3", sender=MEMBER)), pb.NOT_AUTHORISED)
        raises(PublishRejected, lambda: c.publish(**referral("L-4", kind=None)), pb.MISSING_FIELD)
        raises(PublishRejected, lambda: c.publish(**referral("L-TOO-LONG-ID")), pb.INVALID_FIELD)


def test_publish_many(d):
    with Client(d.endpoint, timeout=10) as c:
        c.hello(FINANCIER, "live")
        res = c.publish_many((referral("P-%d" % i) for i in range(2000)), window=64)
        seqs = [r.seq for r in res.values()]
        expect(all(isinstance(r, pb.Accepted) for r in res.values()), "all accepted")
        expect(seqs == sorted(seqs) and len(set(seqs)) == 2000, "distinct seqs in publish order")


def test_window_and_nack(d):
    with Client(d.endpoint, timeout=5) as pub:
        pub.hello(FINANCIER, "live")
        first = pub.publish(**referral("W-0")).seq
        for i in range(1, 8):
            pub.publish(**referral("W-%d" % i))
    with Client(d.endpoint, timeout=5) as c:
        c.hello(MEMBER, "live")
        s = c.subscribe("inbox." + MEMBER, "live-window", start="seq", start_seq=first, credit=3)
        expect(s.position == first - 1, "position is the seq before the first delivery: %s" % s)
        got = [c.receive(2) for _ in range(3)]
        expect(all(isinstance(g, pb.Deliver) and g.attempt == 1 for g in got), str(got))
        expect(c.receive(0.5) is None, "a window of 3 holds 3")
        c.ack(got[0].stream, got[0].seq)
        nxt = c.receive(2)
        expect(nxt is not None and nxt.seq > got[2].seq, "an ack frees a place")
        c.credit(got[0].stream, 10)
        c.nack(got[1].stream, got[1].seq, delay_ms=50, reason="busy")
        seen = {}
        while True:
            m = c.receive(1.0)
            if m is None:
                break
            seen[m.seq] = m.attempt
            c.ack(m.stream, m.seq)
        expect(seen.get(got[1].seq) == 2, "the nacked message comes back with attempt 2: %s" % seen)


def test_not_authorised_and_bad_stream(d):
    with Client(d.endpoint, timeout=5) as c:
        c.hello(FINANCIER, "live")
        raises(KnoopError, lambda: c.subscribe("inbox." + MEMBER, "peek"), pb.NOT_AUTHORISED)
        c.subscribe("inbox." + FINANCIER, "own", start="latest")
        raises(KnoopError, lambda: c.subscribe("inbox." + FINANCIER, "own2"), pb.INVALID_FIELD)


def test_heartbeats_keep_session(d):
    with Client(d.endpoint, timeout=5) as c:
        c.hello(FINANCIER, "live")
        expect(c.receive(timeout=3 * PEER_TIMEOUT_MS / 1000.0) is None, "quiet, but not dropped")
        c.publish(**referral("H-1"))  # still the same session: no NO_HELLO


def test_silent_client_dropped(d):
    with Client(d.endpoint, timeout=5, auto_resume=False) as c:
        c.hello(FINANCIER, "live")
        time.sleep(2.5 * PEER_TIMEOUT_MS / 1000.0)  # sends nothing: the broker drops the session
        raises(PublishRejected, lambda: c.publish(**referral("S-1")), pb.NO_HELLO)
        c.hello(FINANCIER, "live")  # the documented recovery
        c.publish(**referral("S-1"))
    with Client(d.endpoint, timeout=5) as c:
        first = c.hello(FINANCIER, "live").session
        time.sleep(2.5 * PEER_TIMEOUT_MS / 1000.0)
        c.publish(**referral("S-2"))  # auto_resume: Hello again before publishing
        expect(c.welcome.session != first, "a new session")


def test_accepted_survives_kill9(d):
    with Client(d.endpoint, timeout=10) as c:
        c.hello(FINANCIER, "live")
        res = c.publish_many((referral("K-%d" % i) for i in range(300)), window=64)
        seqs = sorted(r.seq for r in res.values())
        d.kill9()
        d.start()
        # The same DEALER reconnects by itself; the broker does not know it any more: NO_HELLO, and the
        # client resumes and publishes again by itself.
        first = c.welcome.session
        c.publish(**referral("K-after"))
        expect(c.welcome.session != first, "a new session after the restart")
        again = c.publish(**referral("K-7"))
        expect(again.duplicate and again.seq == seqs[7], "dedup survives the crash too: %s" % again)
    with Client(d.endpoint, timeout=5) as s:
        s.hello(MEMBER, "live")
        s.subscribe("inbox." + MEMBER, "", start="seq", start_seq=seqs[0], credit=1000)
        got = set()
        for m in s.deliveries(timeout=1.0):
            got.add(m.seq)
            s.ack(m.stream, m.seq)
        expect(set(seqs) <= got, "all %d accepted messages are there after kill -9 (missing %s)"
               % (len(seqs), sorted(set(seqs) - got)[:5]))


def test_subscriber_survives_kill9(d):
    with Client(d.endpoint, timeout=5) as pub, Client(d.endpoint, timeout=5) as sub:
        pub.hello(FINANCIER, "live")
        sub.hello(MEMBER, "live")
        sub.subscribe("inbox." + MEMBER, "live-survivor", start="latest", credit=10)
        a = pub.publish(**referral("V-1"))
        m = sub.receive(2)
        expect(m is not None and m.seq == a.seq, "delivered before the crash")
        sub.ack(m.stream, m.seq)
        time.sleep(0.3)  # the cursor is flushed by the broker's tick
        d.kill9()
        d.start()
        b = pub.publish(**referral("V-2"))  # NO_HELLO, resumed, published
        m = sub.receive(5)  # no delivery: the session check finds the new broker and subscribes again
        # attempt may be 2: after a crash knoopd counts everything it may have sent as sent (delivery lease).
        expect(m is not None and m.seq == b.seq, "continued after the crash: %s" % m)


def test_protocol_doc_example_runs(d):
    """The worked example of docs/protocol.md §12, executed as written (against this daemon's endpoint)."""
    with open(os.path.join(ROOT, "docs", "protocol.md")) as f:
        code = re.search(r"## 12\. A worked example.*?```python\n(.*?)```", f.read(), re.S).group(1)
    scope = {}
    fresh = Daemon()  # the example reads an inbox from its beginning, as on a new `make run`
    try:
        exec(code.replace("tcp://127.0.0.1:5570", fresh.endpoint), scope)  # noqa: S102  (our own document)
    finally:
        fresh.stop()
    expect(scope["d"].envelope.identificatie == "BT-2026-0042" and scope["d"].stream == "inbox.99990001",
           "the referral reached member 99990001: %s" % scope["d"])
    expect(not scope["d"].envelope.client_bsn and len(scope["d"].envelope.client_ref) == 32, "pseudonymised")


def test_curve(d):
    """Against a knoopd with auth: curve: keys from files, Hello as the key's party, refusals said at once."""
    del d  # a daemon of its own
    fresh = Daemon(curve=True)
    try:
        public = keys_generate(os.path.join(fresh.dir, "member"))
        subprocess.run([os.path.join(BUILD, "knoopctl"), "-s", os.path.join(fresh.dir, "var", "knoopd.sock"),
                        "clients", "add", MEMBER, public], check=True, capture_output=True)
        keys = load_curve(os.path.join(fresh.dir, "server.pub"), os.path.join(fresh.dir, "member.key"))
        with Client(fresh.endpoint, timeout=5, curve=keys) as c:
            raises(KnoopError, lambda: c.hello(FINANCIER, "live"), pb.NOT_AUTHORISED)  # not the key's party
            c.hello(MEMBER, "live")
            acc = c.publish(**referral("C-1", sender=MEMBER, receiver=FINANCIER, kind="ANSWER"))
            expect(acc.seq > 0, str(acc))
        stranger = keys_generate(os.path.join(fresh.dir, "stranger"))
        unknown = load_curve(os.path.join(fresh.dir, "server.pub"), os.path.join(fresh.dir, "stranger.key"))
        expect(unknown[1].decode() == stranger, "load_curve reads the key pair")
        other_server = keys_generate(os.path.join(fresh.dir, "other-server")).encode()
        for curve, words in ((unknown, "refused this client's key"), (None, "wants CURVE"),
                             ((other_server,) + keys[1:], "server public key")):
            with Client(fresh.endpoint, timeout=5, curve=curve) as c:
                t0 = time.monotonic()
                e = raises(HandshakeRefused, lambda: c.hello(MEMBER, "live"), pb.NOT_AUTHORISED)
                expect(words in str(e) and time.monotonic() - t0 < 2, "said at once: %s" % e)
        os.chmod(os.path.join(fresh.dir, "member.key"), 0o644)
        raises(PermissionError, lambda: load_curve(os.path.join(fresh.dir, "server.pub"),
                                                   os.path.join(fresh.dir, "member.key")))
    finally:
        fresh.stop()


def test_broker_gone(d):
    with Client(d.endpoint, timeout=10) as c:
        c.hello(FINANCIER, "live")
        d.proc.send_signal(signal.SIGSTOP)  # hung, not dead: TCP stays up, nothing answers
        try:
            t0 = time.monotonic()
            raises(ConnectionLost, lambda: c.receive(timeout=5))
            took = time.monotonic() - t0
            expect(took < 3 * HEARTBEAT_MS / 1000.0 + 1.0, "noticed within 3 x heartbeat_ms: %.2f s" % took)
        finally:
            d.proc.send_signal(signal.SIGCONT)


def main():
    if not os.access(os.path.join(BUILD, "knoopd"), os.X_OK):
        print("no knoopd in %s: run make first (or set KNOOP_BUILD)" % BUILD)
        print("0 passed, 1 failed")
        return 1
    return testkit.run(testkit.tests_in(globals()), Daemon(), lambda d: d.stop())


if __name__ == "__main__":
    sys.exit(main())
