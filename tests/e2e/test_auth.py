# test_auth.py — client authentication (docs/protocol.md, Transport security; docs/operations.md, Keys and clients):
# CURVE keys mapped to parties, what auth: none is allowed on, sessions that end with their connection, revocation.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_auth.py [TEST ...]
import hashlib
import json
import os
import stat
import subprocess
import time

import zmq
import zmq.auth
from zmq.utils import z85

from harness import (BUILD, COOP, MEMBER, MEMBER2, KNOOPD, REPO, Client, Daemon, KnoopError, body, check, check_eq,
                     code_name, envelope, pb, run, test)

KNOOPCTL = os.path.join(BUILD, "knoopctl")


def fingerprint(public_key):
    """What knoopd logs for a key: hex of the first 8 bytes of BLAKE2b-256 of the 32-byte key."""
    return hashlib.blake2b(z85.decode(public_key), digest_size=32).digest()[:8].hex()


def keys_generate(base):
    """knoopctl keys generate BASE -> (public, secret) read back from BASE.key."""
    p = subprocess.run([KNOOPCTL, "--json", "keys", "generate", base], capture_output=True, text=True, timeout=10)
    check_eq(p.returncode, 0, "knoopctl keys generate %s (stderr %r)" % (base, p.stderr))
    public, secret = zmq.auth.load_certificate(base + ".key")
    check_eq(json.loads(p.stdout)["public_key"], public.decode(), "the printed public key")
    return public.decode(), secret.decode()


class Curve:
    """A knoopd with auth: curve in a fresh temp dir: its server key made by knoopctl, client keys on demand."""

    def __init__(self, network=None, start=True, **settings):
        settings.update({"auth": "curve", "server_key_file": "server.key"})  # relative: knoopd runs in d.dir
        self.d = Daemon(settings=settings, network=network, start=False)
        self.server_public, _ = keys_generate(os.path.join(self.d.dir, "server"))
        if start:
            self.d.start()

    def key(self, name):
        """A new client key pair (knoopctl keys generate), not yet a client key of anyone."""
        return keys_generate(os.path.join(self.d.dir, name))

    def client_key(self, party, name=None):
        """A new key pair made a client key of party (knoopctl clients add over the control socket)."""
        public, secret = self.key(name or "client-%s-%d" % (party, time.monotonic_ns()))
        self.d.control("clients", "add", party, public)
        return public, secret

    def client(self, keys, **kw):
        return Client(self.d, curve=(self.server_public,) + tuple(keys), **kw)


def expect_error(c, code, timeout=3.0):
    f = c.expect(lambda f: body(f) == "error", timeout)
    check(f is not None, "no Error frame (wanted %s)" % code_name(code))
    check_eq(code_name(f.error.code), code_name(code), "Error code (%s)" % f.error.reason)
    return f.error


def referral(ident, sender=MEMBER, receiver=COOP):
    return envelope(sender=sender, receiver=receiver, kind="REFERRAL", message_type="knoop.Referral",
                    identificatie=ident, content_type="application/json", payload=b'{"n": 1}')


def audit(d, action, n, timeout=5.0):
    """The details of the audit rows of action once there are n (they commit shortly after the command answers)."""
    deadline = time.monotonic() + timeout
    while True:
        details = [r[0] for r in d.query("SELECT detail FROM audit WHERE action = ? ORDER BY id", action)]
        if len(details) >= n or time.monotonic() > deadline:
            return details
        time.sleep(0.05)


def silent(c, seconds=1.5):
    """Nothing at all comes back to c (not even an answer to a Heartbeat): its handshake was refused."""
    c.sock.setsockopt(zmq.SNDTIMEO, 200)   # a DEALER whose handshake failed may have no pipe to queue on
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            c.heartbeat()
        except zmq.Again:
            pass
        if c.sock.poll(100) & zmq.POLLIN:
            return False
    return True


def knoop_send(d, *args, server_key=None, key=None):
    cmd = [os.path.join(BUILD, "knoop-send"), "-e", d.endpoint, "--from", MEMBER, "--to", COOP, "--kind", "referral",
           "--type", "knoop.Referral"] + list(args)
    if server_key:
        cmd += ["--server-key", server_key]
    if key:
        cmd += ["--key", key]
    return subprocess.run(cmd, input=b'{"n": 1}', capture_output=True, timeout=20)


# ---- the configuration -----------------------------------------------------------------------------------------

def knoopd_t(d):
    p = subprocess.run([KNOOPD, "-t", "-c", d.config_path], capture_output=True, text=True, cwd=d.dir, timeout=20)
    return p.returncode, p.stdout + p.stderr


@test
def null_only_on_a_loopback_listen():
    # auth: none on anything but loopback: knoopd -t exits 1 and names the setting (never bound: -t only).
    for listen in ("tcp://0.0.0.0:5570", "tcp://192.0.2.1:5570", "tcp://*:5570", "tcp://eth0:5570",
                   "tcp://127.0.0.1.example:5570"):
        d = Daemon(settings={"listen": listen}, start=False)
        rc, out = knoopd_t(d)
        check_eq(rc, 1, "knoopd -t with auth: none on %s (%s)" % (listen, out))
        check("daemon.auth" in out and "loopback" in out, "the error names the setting:", out)
        d.close()
    for listen in ("tcp://127.0.0.1:5570", "tcp://127.1.2.3:5570", "tcp://[::1]:5570", "tcp://localhost:5570",
                   "ipc:///tmp/knoop-test.ipc"):
        d = Daemon(settings={"listen": listen}, start=False)
        rc, out = knoopd_t(d)
        check_eq(rc, 0, "knoopd -t with auth: none on %s (%s)" % (listen, out))
        d.close()
    # No auth setting at all means CURVE, which needs the server's key; an unknown value is refused too.
    d = Daemon(settings={"auth": "curve"}, start=False)
    rc, out = knoopd_t(d)
    check(rc == 1 and "daemon.server_key_file" in out and "knoopctl keys generate" in out, "curve without a key:", out)
    d.close()
    d = Daemon(settings={"auth": "plain"}, start=False)
    rc, out = knoopd_t(d)
    check(rc == 1 and "daemon.auth" in out and "'plain'" in out, "auth: plain:", out)
    d.close()
    with Daemon() as d:                                      # the harness's own: auth: none on 127.0.0.1
        check("level=warn event=auth.none" in d.log(), "auth: none is a warning at start-up:", d.log()[-800:])
    # CURVE is fine on any address (-t only: nothing is bound).
    c = Curve(start=False, listen="tcp://0.0.0.0:5570")
    rc, out = knoopd_t(c.d)
    check_eq(rc, 0, "knoopd -t with auth: curve on 0.0.0.0 (%s)" % out)


@test
def the_server_key_file_must_exist_and_be_private():
    c = Curve(start=False)
    path = os.path.join(c.d.dir, "server.key")
    check_eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "knoopctl keys generate writes the secret key 0600")
    check_eq(stat.S_IMODE(os.stat(path[:-4] + ".pub").st_mode), 0o644, "and the public key 0644")
    os.chmod(path, 0o644)
    rc, out = knoopd_t(c.d)
    check(rc == 1 and "server_key_file" in out and "mode 0644" in out and "chmod 600" in out, "-t, mode 0644:", out)
    rc, out = c.d.start_expect_exit()
    check(rc == 1 and "mode 0644" in out, "start-up with a key readable by others fails, saying why:", out[-800:])
    os.chmod(path, 0o400)
    check_eq(knoopd_t(c.d)[0], 0, "mode 0400 is private too")
    os.remove(path)
    rc, out = knoopd_t(c.d)
    check(rc == 1 and "server.key: cannot open" in out, "-t, missing key:", out)
    with open(path, "w") as f:     # a public key where the secret one belongs
        f.write(open(path[:-4] + ".pub").read())
    os.chmod(path, 0o600)
    rc, out = knoopd_t(c.d)
    check(rc == 1 and "no valid secret-key" in out, "-t, a public key as the server key:", out)


# ---- CURVE ------------------------------------------------------------------------------------------------------

@test
def hello_must_name_the_party_of_the_key():
    c = Curve()
    keys = c.client_key(MEMBER)
    a = c.client(keys)
    with_other = [MEMBER2, COOP, "0917", "1234567"]          # another party, and not a party at all
    for party in with_other:
        a.send(pb.Frame(hello=pb.Hello(party=party, client_name="e2e", protocol_version=1)))
        e = expect_error(a, pb.NOT_AUTHORISED)
        check(MEMBER in e.reason, "the reason names the key's party:", e.reason)
    a.send(pb.Frame(subscribe=pb.Subscribe(stream="inbox." + MEMBER2, credit=1)))
    expect_error(a, pb.NO_HELLO)                            # a refused Hello made no session
    check_eq(a.hello(MEMBER).protocol_version, 1, "Hello as the key's party")
    acc = a.publish_ok(1, referral("A1"))
    check(acc.seq > 0, "publishes as its party", acc)
    f = a.publish_wait(2, referral("A2", sender=MEMBER2))
    check_eq(body(f), "rejected", "a publish in another party's name")
    check("peer.refused" in c.d.log() and "hello_party=%s" % MEMBER2 in c.d.log(), "the refusal is logged")


@test
def a_client_without_curve_cannot_publish_or_read():
    c = Curve()
    reader = c.client(c.client_key(COOP))
    reader.hello(COOP)
    reader.subscribe("inbox." + COOP, "backoffice")
    plain = Client(c.d)                                      # ZeroMQ NULL against a CURVE endpoint
    plain.sock.setsockopt(zmq.SNDTIMEO, 200)
    try:
        plain.send(pb.Frame(hello=pb.Hello(party=MEMBER, client_name="null", protocol_version=1)))
        plain.publish(1, referral("N1"))
        plain.send(pb.Frame(subscribe=pb.Subscribe(stream="inbox." + COOP, subscriber="backoffice", credit=5)))
    except zmq.Again:
        pass
    check(silent(plain), "a NULL client got an answer from a CURVE endpoint")
    check_eq(reader.quiet(0.5), [], "deliveries after the NULL client's publish")
    check_eq(c.d.query("SELECT count(*) FROM messages")[0][0], 0, "messages journaled")
    p = knoop_send(c.d, "--id", "N2")                        # the C tools say why
    check(p.returncode == 1 and b"knoopd wants CURVE" in p.stderr, "knoop-send without keys:", p.stderr)
    # ZeroMQ reports the refused NULL handshake as a mechanism mismatch or, when the peer hangs up first, as a lost
    # connection: either way it is logged as a failed handshake
    check("event=auth.handshake_failed" in c.d.log(), "knoopd logs the failed handshake:", c.d.log()[-1000:])


@test
def an_unknown_key_is_refused_and_logged_by_fingerprint():
    c = Curve()
    public, secret = c.key("stranger")
    s = c.client((public, secret))
    check(silent(s), "an unknown key got an answer")
    log = c.d.log()
    check("event=auth.refused reason=unknown_key fingerprint=%s" % fingerprint(public) in log, "the refusal with the "
          "key's fingerprint:", log[-1500:])
    check('peer="127.0.0.1"' in log, "and the peer's address")
    check(public not in log and public[:20] not in log and secret[:20] not in log, "the key itself is logged")
    p = knoop_send(c.d, "--id", "U1", server_key=os.path.join(c.d.dir, "server.pub"),
                   key=os.path.join(c.d.dir, "stranger.key"))
    check(p.returncode == 1 and b"refused this client's key" in p.stderr, "knoop-send with an unknown key:", p.stderr)


@test
def another_server_key_is_said_at_once_and_logged():
    c = Curve()
    c.d.control("clients", "add", MEMBER, c.key(MEMBER)[0])
    c.key("other-server")                                    # a client configured with the wrong server key
    t0 = time.monotonic()
    p = knoop_send(c.d, "--id", "W1", server_key=os.path.join(c.d.dir, "other-server.pub"),
                   key=os.path.join(c.d.dir, MEMBER + ".key"))
    check(p.returncode == 1 and b"is the server public key the one of this knoopd" in p.stderr, p.stderr)
    check(time.monotonic() - t0 < 4, "said at once, not after the 5 s Hello timeout")
    check('reason="cryptographic' in c.d.log(), "knoopd logs why:", c.d.log()[-1000:])


@test
def refusals_cannot_flood_the_log():
    c = Curve()
    socks = []
    for _ in range(60):                                      # 60 handshakes with unknown keys, as fast as it goes
        public, secret = zmq.curve_keypair()
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.linger = 0
        s.curve_serverkey, s.curve_publickey, s.curve_secretkey = c.server_public.encode(), public, secret
        s.connect(c.d.endpoint)
        socks.append(s)
    deadline = time.monotonic() + 10
    while c.d.log().count("event=auth.refused") < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    lines = c.d.log().count("event=auth.refused")
    for s in socks:
        s.close()
    check(20 <= lines < 30, "auth.refused lines for 60 refused handshakes within a second or so: %d" % lines)
    time.sleep(1.0)
    public, secret = zmq.curve_keypair()
    check(silent(c.client((public.decode(), secret.decode()))), "an unknown key is refused")
    tail = c.d.log().split("event=auth.refused")[-1]
    check(fingerprint(public.decode()) in tail and "suppressed=0" not in tail.split("\n")[0],
          "the next line says how many were left out:", tail[:300])


@test
def the_tools_speak_curve():
    c = Curve()
    c.d.control("clients", "add", MEMBER, c.key(MEMBER)[0])
    c.d.control("clients", "add", COOP, c.key(COOP)[0])
    server = os.path.join(c.d.dir, "server.pub")
    p = knoop_send(c.d, "--id", "T1", server_key=server, key=os.path.join(c.d.dir, MEMBER + ".key"))
    check(p.returncode == 0 and p.stdout.startswith(b"accepted seq=1"), "knoop-send over CURVE:", p.stdout, p.stderr)
    tail = [os.path.join(BUILD, "knoop-tail"), "-e", c.d.endpoint, "--party", COOP, "--stream", "inbox." + COOP,
            "--from", "earliest", "--count", "1", "--server-key", server]
    p = subprocess.run(tail + ["--key", os.path.join(c.d.dir, COOP + ".key")], capture_output=True, timeout=20)
    check(p.returncode == 0 and b"seq=1 " in p.stdout, "knoop-tail over CURVE:", p.stdout, p.stderr)
    p = subprocess.run(tail + ["--key", os.path.join(c.d.dir, MEMBER + ".key")], capture_output=True, timeout=20)
    check(p.returncode == 1 and b"NOT_AUTHORISED" in p.stderr, "knoop-tail with another party's key:", p.stderr)
    os.chmod(os.path.join(c.d.dir, COOP + ".key"), 0o640)
    p = subprocess.run(tail + ["--key", os.path.join(c.d.dir, COOP + ".key")], capture_output=True, timeout=20)
    check(p.returncode == 1 and b"chmod 600" in p.stderr, "a client key readable by others is refused:", p.stderr)
    p = subprocess.run(tail, capture_output=True, timeout=20)                # --server-key without --key
    check(p.returncode == 2 and b"--key" in p.stderr, "half the CURVE options:", p.stderr)
    # knoop-files serves several parties: DIR/PARTY.key each. One delivery waits in the cooperative's inbox.
    os.chmod(os.path.join(c.d.dir, COOP + ".key"), 0o600)
    files = [os.path.join(BUILD, "knoop-files"), "-e", c.d.endpoint, "--root", os.path.join(c.d.dir, "files"),
             "--once", "--idle", "300", "--interval", "100", "--server-key", server, "--key-dir", c.d.dir]
    p = subprocess.run(files + [COOP], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "connected party=%s" % COOP in p.stderr, "knoop-files over CURVE:", p.stderr[-800:])
    check(os.listdir(os.path.join(c.d.dir, "files", COOP, "outbox")), "the delivery was written to the outbox")
    p = subprocess.run(files + [MEMBER2], capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and MEMBER2 + ".key: cannot open" in p.stderr, "knoop-files without the party's key:",
          p.stderr[-800:])


@test(timeout=90)
def knoop_bench_speaks_curve():
    c = Curve()
    c.d.control("clients", "add", "0917", c.key("0917")[0])    # the publish cases publish as Heerlen
    baseline = os.path.join(c.d.dir, "baseline.json")         # ceilings given: none measured (this is no bench)
    with open(baseline, "w") as f:
        json.dump({"ceilings": {}, "cases": []}, f)
    p = subprocess.run([os.path.join(BUILD, "knoop-bench"), "-e", c.d.endpoint, "-d", c.d.dir, "-o",
                        os.path.join(c.d.dir, "out.json"), "-s", "0.2", "-c", "publish", "--baseline", baseline,
                        "--server-key", os.path.join(c.d.dir, "server.pub"), "--key-dir", c.d.dir],
                       capture_output=True, text=True, timeout=80)
    check_eq(p.returncode, 0, "knoop-bench over CURVE (%s)" % p.stderr[-800:])
    check(c.d.query("SELECT count(*) FROM messages")[0][0] > 0, "it published")


# ---- sessions and connections ---------------------------------------------------------------------------------

def takeover(d, routing_id, curve=None, attempts=20):
    """A new DEALER with routing_id sends Subscribe without Hello; returns the Error it gets. ZeroMQ ignores a second
    connection with a routing id still in use, so this retries until the first connection is gone on its side."""
    for _ in range(attempts):
        b = Client(d, curve=curve, routing_id=routing_id)
        b.send(pb.Frame(subscribe=pb.Subscribe(stream="inbox." + COOP, subscriber="pool", credit=10)))
        f = b.expect(lambda f: body(f) in ("error", "subscribed", "deliver"), 0.5)
        if f is not None:
            return b, f
        b.close()
    raise AssertionError("the new connection with the reused routing id was never heard")


def reused_routing_id(d, connect):
    """A subscriber on a routing id disconnects with a delivery unacked; a new connection with its routing id
    gets NO_HELLO for everything but Hello, and the delivery goes to another member of the group at once (not
    at the peer or visibility timeout)."""
    pub = connect(MEMBER)
    pub.hello(MEMBER)
    a = connect(COOP, routing_id=b"victim")
    a.hello(COOP)
    a.subscribe("inbox." + COOP, "pool", credit=10)
    other = connect(COOP)
    other.hello(COOP)
    other.subscribe("inbox." + COOP, "pool", credit=0)       # no credit yet: everything goes to a
    seq = pub.publish_ok(1, referral("R1")).seq
    got = a.deliveries(1)
    check(got and got[0].seq == seq, "a got the delivery", got)
    a.close()                                                  # the connection ends, the delivery is unacked
    other.credit("inbox." + COOP, 10)
    t0 = time.monotonic()
    again = other.deliveries(1, timeout=5)
    check(again and again[0].seq == seq and again[0].attempt == 2, "redelivered to the other member", again)
    check(time.monotonic() - t0 < 3, "the disconnect ended the session well before peer_timeout_ms")
    b, f = takeover(d, b"victim", curve=connect.curve(COOP) if connect.curve else None)
    check_eq(body(f), "error", "the reused routing id's Subscribe")
    check_eq(code_name(f.error.code), "NO_HELLO", "error code (%s)" % f.error.reason)
    b.ack("inbox." + COOP, seq)
    expect_error(b, pb.NO_HELLO)
    b.publish(7, referral("R7", sender=COOP, receiver=MEMBER))
    r = b.expect(lambda f: body(f) in ("rejected", "accepted"), 2)
    check(r is not None and body(r) == "rejected" and code_name(r.rejected.code) == "NO_HELLO", "publish:", r)
    check_eq(b.quiet(0.5), [], "deliveries to the reused routing id")
    check_eq(b.hello(COOP).protocol_version, 1, "after Hello, the new connection has its own session")
    check("reason=disconnected" in d.log(), "the end of the session is logged")


@test
def a_reused_routing_id_must_say_hello_again():
    with Daemon(peer_timeout_ms=60000, heartbeat_ms=5000, settings={"visibility_timeout_ms": 60000}) as d:
        def connect(party, routing_id=None):
            return Client(d, routing_id=routing_id)
        connect.curve = None
        reused_routing_id(d, connect)


@test
def a_reused_routing_id_must_say_hello_again_over_curve():
    c = Curve(peer_timeout_ms=60000, heartbeat_ms=5000, visibility_timeout_ms=60000)
    keys = {MEMBER: c.client_key(MEMBER), COOP: c.client_key(COOP)}

    def connect(party, routing_id=None):
        return c.client(keys[party], routing_id=routing_id)
    connect.curve = lambda party: (c.server_public,) + tuple(keys[party])
    reused_routing_id(c.d, connect)


# ---- the client keys ------------------------------------------------------------------------------------------

@test
def clients_add_list_and_survive_a_restart():
    c = Curve()
    public, secret = c.key("k1")
    check(silent(c.client((public, secret))), "before clients add, the key is refused")
    r = c.d.control("clients", "add", MEMBER, public)
    check_eq((r["party"], r["fingerprint"]), (MEMBER, fingerprint(public)), "clients add answers")
    path = os.path.join(c.d.data_dir, "clients", r["file"])
    check(os.path.isfile(path), "the key's file in clients_dir", path)
    a = c.client((public, secret))
    check_eq(a.hello(MEMBER).protocol_version, 1, "after clients add, a new connection is accepted")
    rows = c.d.table("clients")
    check_eq([(x["party"], x["fingerprint"], x["sessions"]) for x in rows], [(MEMBER, fingerprint(public), 1)],
             "knoopctl clients")
    check(rows[0]["added"].endswith("Z"), "added when", rows)
    for bad, why in (((MEMBER, public), "already a client key"), ((MEMBER2, public), "already a client key"),
                     (("12", c.key("k2")[0]), "not a party code"), ((MEMBER, "short"), "not a CURVE public key")):
        r = c.d.control_raw("clients", "add", *bad)
        check(not r["ok"] and why in r["error"], "clients add %s:" % (bad,), r)
    # A Z85 key may start with '-': knoopctl takes it after "--".
    dash = "-" + c.key("k3")[0][1:]
    p = subprocess.run([KNOOPCTL, "-s", c.d.socket_path, "clients", "add", MEMBER2, dash], capture_output=True,
                       text=True, timeout=10)
    check(p.returncode == 2 and "unknown option" in p.stderr, "a key starting with '-' before --:", p.stderr)
    p = subprocess.run([KNOOPCTL, "-s", c.d.socket_path, "clients", "add", "--", MEMBER2, dash], capture_output=True,
                       text=True, timeout=10)
    check(p.returncode == 0 and fingerprint(dash) in p.stdout, "clients add -- PARTY -KEY:", p.stdout, p.stderr)
    c.d.control("clients", "revoke", dash)
    audit(c.d, "clients add", 2)                              # committed shortly after the answer
    rows = c.d.query("SELECT actor, detail FROM audit WHERE action = 'clients add' ORDER BY id")
    check(len(rows) == 2 and fingerprint(public) in rows[0][1] and rows[0][0].startswith("control"), "audit", rows)
    a.close()
    c.d.restart()
    b = c.client((public, secret))
    check_eq(b.hello(MEMBER).protocol_version, 1, "the key is still a client key after a restart")


@test
def clients_add_needs_a_party_of_the_network():
    with open(os.path.join(REPO, "deploy", "knoopd.yaml")) as f:
        network = f.read().split("\nnetwork:\n", 1)[1]
    c = Curve(network="network:\n" + network)
    r = c.d.control_raw("clients", "add", "4321", c.key("k")[0])
    check(not r["ok"] and "not in this broker's network" in r["error"], "a party outside the network:", r)
    check_eq(c.d.control("clients", "add", "0917", c.key("k2")[0])["party"], "0917", "a party of the network")


@test
def a_revoked_key_is_disconnected_and_refused():
    c = Curve(peer_timeout_ms=60000, heartbeat_ms=5000, visibility_timeout_ms=60000)
    keys = c.client_key(COOP, "coop")
    other = c.client_key(COOP, "coop2")
    pub = c.client(c.client_key(MEMBER))
    pub.hello(MEMBER)
    a = c.client(keys)
    a.hello(COOP)
    a.subscribe("inbox." + COOP, "pool", credit=10)
    b = c.client(other)
    b.hello(COOP)
    b.subscribe("inbox." + COOP, "pool", credit=0)
    seq = pub.publish_ok(1, referral("V1")).seq
    check(a.deliveries(1), "a holds the delivery")
    p = subprocess.run([KNOOPCTL, "-s", c.d.socket_path, "--json", "clients", "revoke", fingerprint(keys[0])],
                       capture_output=True, text=True, timeout=10)
    check_eq(p.returncode, 0, "knoopctl clients revoke FINGERPRINT (%s)" % p.stderr)
    r = json.loads(p.stdout)["result"]
    check_eq((r["sessions_ended"], r["revoked"][0]["fingerprint"]), (1, fingerprint(keys[0])), "revoke answers")
    e = expect_error(a, pb.NOT_AUTHORISED)
    check("revoked" in e.reason, "told why:", e.reason)
    b.credit("inbox." + COOP, 10)
    again = b.deliveries(1)
    check(again and again[0].seq == seq, "the revoked session's delivery went to the other member", again)
    a.publish(2, referral("V2", sender=COOP, receiver=MEMBER))  # the old connection: nothing is served any more
    e = expect_error(a, pb.NOT_AUTHORISED)
    check("no longer authorised" in e.reason, e.reason)
    a.send(pb.Frame(hello=pb.Hello(party=COOP, client_name="again", protocol_version=1)))
    expect_error(a, pb.NOT_AUTHORISED)
    check(silent(c.client(keys)), "a new connection with the revoked key was answered")
    check("fingerprint=%s" % fingerprint(keys[0]) in c.d.log().split("auth.key_revoked")[-1], "refused and logged")
    check_eq([x["fingerprint"] for x in c.d.table("clients") if x["party"] == COOP], [fingerprint(other[0])],
             "clients after the revoke")
    # Revoking a party revokes each of its keys; the audit says which.
    c.d.control("clients", "revoke", COOP)
    check_eq([x["party"] for x in c.d.table("clients")], [MEMBER], "clients after revoking the party")
    details = audit(c.d, "clients revoke", 2)
    check_eq(len(details), 2, "two revoke audit rows: %s" % details)
    check(fingerprint(keys[0]) in details[0] and fingerprint(other[0]) in details[1], details)
    r = c.d.control_raw("clients", "revoke", COOP)
    check(not r["ok"] and "no client key" in r["error"], "nothing left to revoke:", r)


@test
def reload_rereads_the_client_keys():
    c = Curve(peer_timeout_ms=60000, heartbeat_ms=5000)
    public, secret = c.key("k1")
    clients_dir = os.path.join(c.d.data_dir, "clients")
    with open(os.path.join(clients_dir, "by-hand.pub"), "w") as f:   # what configuration management would write
        f.write('metadata\n    party = "%s"\ncurve\n    public-key = "%s"\n' % (MEMBER, public))
    check(silent(c.client((public, secret))), "a file not yet reloaded is not a client key")
    check("1 client keys" in c.d.control("reload")["result"], "the reload says how many keys")
    a = c.client((public, secret))
    a.hello(MEMBER)
    with open(os.path.join(clients_dir, "broken.pub"), "w") as f:
        f.write('curve\n    public-key = "%s"\n' % c.key("k2")[0])                 # no party
    r = c.d.control_raw("reload")
    check(not r["ok"] and "broken.pub" in r["error"] and "party" in r["error"], "a broken key file fails the reload:", r)
    check_eq(a.publish_ok(1, referral("L1")).seq, 1, "the running keys are kept")
    c.d.stop()
    rc, out = c.d.start_expect_exit()
    check(rc == 1 and "broken.pub" in out and "party" in out, "a broken key file fails the start-up:", out[-800:])
    rc, out = knoopd_t(c.d)
    check(rc == 1 and "daemon.clients_dir" in out and "broken.pub" in out, "and knoopd -t:", out)
    os.remove(os.path.join(clients_dir, "broken.pub"))
    c.d.start()
    a = c.client((public, secret))
    a.hello(MEMBER)
    with open(os.path.join(clients_dir, "by-hand.pub"), "w") as f:   # the key given to another party
        f.write('metadata\n    party = "%s"\ncurve\n    public-key = "%s"\n' % (MEMBER2, public))
    c.d.control("reload")
    expect_error(a, pb.NOT_AUTHORISED)                          # its session as MEMBER ends at the reload
    b = c.client((public, secret))
    check_eq(b.hello(MEMBER2).protocol_version, 1, "a new connection is the key's new party")
    os.remove(os.path.join(clients_dir, "by-hand.pub"))
    c.d.control("reload")
    expect_error(b, pb.NOT_AUTHORISED)                          # the session of a removed key ends at the reload
    check(silent(c.client((public, secret))), "the removed key is refused")


@test
def keys_generate_refuses_to_overwrite():
    d = Daemon(start=False)
    base = os.path.join(d.dir, "k")
    keys_generate(base)
    before = open(base + ".key").read()
    p = subprocess.run([KNOOPCTL, "keys", "generate", base], capture_output=True, text=True, timeout=10)
    check(p.returncode == 1 and "exists" in p.stderr, "a second generate on the same name:", p.stderr)
    check_eq(open(base + ".key").read(), before, "the secret key is untouched")
    p = subprocess.run([KNOOPCTL, "keys", "generate"], capture_output=True, text=True, timeout=10)
    check_eq(p.returncode, 2, "keys generate without BASE")
    p = subprocess.run([KNOOPCTL, "help"], capture_output=True, text=True, timeout=10)
    check("keys generate" in p.stdout and "clients revoke" in p.stdout, "knoopctl help lists them", p.stdout)
    d.close()


if __name__ == "__main__":
    run()
