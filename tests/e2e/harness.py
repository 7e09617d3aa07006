# harness.py — shared by every end-to-end test of knoop: a tiny test runner, a Daemon that runs the real
# knoopd on a loopback port in a fresh temp dir, and a Client that speaks wire protocol v1 over a ZeroMQ DEALER.
"""End-to-end test harness for knoopd (real binary, real sockets, loopback only).

Run a test file with Debian's python (it has python3-zmq and python3-protobuf)::

    KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_foundation.py [TEST_NAME ...]

Writing a test::

    from harness import test, run, Daemon, Client, pb

    @test                       # or @test(timeout=60)
    def publish_then_receive():
        with Daemon() as d:                      # knoopd on a free 127.0.0.1 port, data in a temp dir
            c = Client(d)                        # DEALER connected to it
            c.hello("99990001")
            acc = c.publish_wait(1, sender="99990001", receiver="99990000", kind="REFERRAL",
                                 message_type="knoop.Referral", identificatie="X1", payload=b"hi")
            check(acc.WhichOneof("body") == "accepted", acc)
            ...
            d.stop()                              # SIGTERM; asserts exit code 0

    if __name__ == "__main__":
        run()

What there is (each documented where it is defined):

* ``@test`` / ``@test(timeout=S)``, ``run()``; ``check(cond, *what)``, ``check_eq(got, want, what)``; ``body(frame)``
  ('accepted', 'deliver', ...), ``code_name(code)``; ``envelope(**fields)`` (kind may be a name); ``pb`` (knoop_pb2).
* ``Daemon(settings=None, network=None, start=True)``: ``endpoint``, ``dir``, ``data_dir``, ``db_path``,
  ``config_path``; ``start()``, ``stop()`` (SIGTERM, asserts exit 0), ``kill9()``, ``restart()``,
  ``start_expect_exit()`` (for start-ups that must fail), ``running()``, ``control(*argv)`` (result dict),
  ``table(*argv)`` (rows as dicts), ``log()``, ``query(sql, *args)`` (the journal, via sqlite3), ``close()``.
* ``Client(daemon, party=None, curve=None, routing_id=None)`` (curve: (server public, public, secret) keys): ``hello``, ``publish`` (send only), ``publish_wait`` (Accepted/Rejected frame),
  ``publish_ok`` (Accepted, else raises), ``publish_window`` (W in flight, {ref: frame}), ``wait_answer``,
  ``subscribe``, ``unsubscribe``, ``ack``, ``nack``, ``credit``, ``heartbeat``, ``deliveries(n, timeout)``,
  ``quiet(seconds)`` (what arrives meanwhile), ``recv``, ``expect(match)``, ``drain``, ``send`` (a Frame, raw bytes,
  or a list of parts as one multi-part message), ``close``.

The runner prints ``ok NAME`` or ``FAIL NAME: reason`` per test and, as the last line, ``N passed, N failed``;
it exits 1 on any failure. Every test has a timeout (SIGALRM). Every Daemon is killed (by its own PID) and its
temp dir removed at the end of its ``with`` block, at the end of each test, and at exit; set KNOOP_KEEP=1 to
keep the temp dirs of failed runs (their paths are printed).
"""

import atexit
import collections
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback

import zmq

BUILD = os.path.abspath(os.environ.get("KNOOP_BUILD", "build"))
KNOOPD = os.path.join(BUILD, "knoopd")
VERBOSE = bool(os.environ.get("KNOOP_VERBOSE"))
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

_pb_dir = os.path.join(BUILD, "gen", "python")
if not os.path.isfile(os.path.join(_pb_dir, "knoop_pb2.py")):
    sys.stderr.write("harness: %s/knoop_pb2.py not found: run `make build/gen/python/knoop_pb2.py` or set "
                     "KNOOP_BUILD\n" % _pb_dir)
    print("0 passed, 1 failed")
    sys.exit(1)
sys.path.insert(0, _pb_dir)
import knoop_pb2 as pb  # noqa: E402  (generated)

#: Test data: BSNs passing / failing the 11-test; party codes (AGB 8 digits, CBS 4 digits).
VALID_BSNS = ("999990007", "999990019", "999990020", "999990032")
INVALID_BSNS = ("999990000", "999990001")
COOP, MEMBER, MEMBER2, GEMEENTE = "99990000", "99990001", "99990002", "0917"


# ---- assertions ------------------------------------------------------------------------------------------

class TestFailure(AssertionError):
    pass


def check(cond, *what):
    """assert with a message built from `what` (frames are printed compactly)."""
    if not cond:
        raise TestFailure(" ".join(_short(w) for w in what) if what else "check failed")


def check_eq(got, want, what=""):
    if got != want:
        raise TestFailure("%s%sgot %s, want %s" % (what, ": " if what else "", _short(got), _short(want)))


def _short(x):
    if isinstance(x, pb.Frame) or hasattr(x, "ListFields"):
        s = "%s{%s}" % (type(x).__name__, " ".join(str(x).split()))
        return s if len(s) < 600 else s[:600] + "..."
    s = str(x)
    return s if len(s) < 4000 else s[:4000] + "..."


def body(frame):
    """'accepted', 'rejected', 'deliver', ... or None."""
    return frame.WhichOneof("body") if frame is not None else None


def code_name(code):
    try:
        return pb.ErrorCode.Name(code)
    except ValueError:
        return str(code)


# ---- runner ------------------------------------------------------------------------------------------------

_TESTS = []


class _Timeout(BaseException):
    """Raised by SIGALRM; a BaseException so `except Exception` in a test does not swallow it."""


def test(fn=None, timeout=30):
    """Registers a test function (run in definition order). Use as @test or @test(timeout=SECONDS)."""
    def register(f):
        _TESTS.append((f.__name__, f, timeout))
        return f
    return register(fn) if fn is not None else register


def _on_alarm(signum, frame):
    raise _Timeout()


def run(argv=None):
    """Runs the registered tests (or those named in argv), prints the summary line, exits 0 or 1."""
    argv = sys.argv[1:] if argv is None else argv
    selected = [t for t in _TESTS if not argv or t[0] in argv]
    unknown = [a for a in argv if a not in {t[0] for t in _TESTS}]
    passed = failed = 0
    for name in unknown:
        print("FAIL %s: no such test" % name, flush=True)
        failed += 1
    signal.signal(signal.SIGALRM, _on_alarm)
    # SIGTERM (e.g. from `timeout`) ends the run through SystemExit, so the daemons are stopped and removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    for name, fn, timeout in selected:
        started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            fn()
            signal.setitimer(signal.ITIMER_REAL, 0)
            print("ok %s" % name + (" (%.1fs)" % (time.monotonic() - started) if VERBOSE else ""), flush=True)
            passed += 1
        except _Timeout:
            print("FAIL %s: timed out after %ss" % (name, timeout), flush=True)
            failed += 1
            _dump_logs()
        except (KeyboardInterrupt, SystemExit):
            signal.setitimer(signal.ITIMER_REAL, 0)
            print("FAIL %s: interrupted" % name, flush=True)
            raise
        except BaseException as e:  # noqa: B902  (report everything, go on with the next test)
            signal.setitimer(signal.ITIMER_REAL, 0)
            reason = str(e) if isinstance(e, TestFailure) else "%s: %s" % (type(e).__name__, e)
            print("FAIL %s: %s" % (name, reason.replace("\n", " | ")), flush=True)
            tb = traceback.extract_tb(e.__traceback__)
            here = [f for f in tb if f.filename.endswith(".py") and "/tests/e2e/" in f.filename]
            for f in here[-3:]:
                print("    at %s:%d in %s: %s" % (os.path.basename(f.filename), f.lineno, f.name, f.line))
            failed += 1
            _dump_logs()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            Client.close_all()
            Daemon.cleanup_all()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


def _dump_logs():
    """Prints the tail of the log of each daemon still registered (the failed test's)."""
    for d in list(Daemon._all):
        text = d.log()
        if text:
            tail = text.splitlines()[-15:]
            print("    knoopd log (%s), last %d lines:" % (d.dir, len(tail)))
            for line in tail:
                print("      " + line)
        if os.environ.get("KNOOP_KEEP"):
            d.keep = True
            print("    kept %s" % d.dir)


# ---- the daemon --------------------------------------------------------------------------------------------

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _die_with_parent():
    """In the child before exec: SIGKILL it if the test process dies without cleaning up (Linux prctl)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)     # PR_SET_PDEATHSIG
    except Exception:
        pass


class ControlError(Exception):
    """The control socket answered ok:false."""


class Daemon:
    """knoopd on a free loopback port with its data in a fresh temp dir.

    settings: extra `daemon:` settings, a dict ({"max_message_bytes": 65536}) or YAML text lines.
    network:  the `network:` section as YAML text (with or without the leading `network:` line); None: no network,
              so the broker routes by receiver only (inbox.<receiver>, or `deadletters` without a receiver).
    """

    _all = []

    def __init__(self, settings=None, network=None, start=True, heartbeat_ms=500, peer_timeout_ms=2000):
        self.dir = tempfile.mkdtemp(prefix="knoop-e2e-")
        self.data_dir = os.path.join(self.dir, "var")
        self.socket_path = os.path.join(self.data_dir, "knoopd.sock")
        self.db_path = os.path.join(self.data_dir, "knoop.db")
        self.config_path = os.path.join(self.dir, "knoopd.yaml")
        self.log_path = os.path.join(self.dir, "knoopd.log")
        self.port = free_port()
        self.endpoint = "tcp://127.0.0.1:%d" % self.port
        self.proc = None
        self.keep = False
        # auth: none (ZeroMQ NULL, loopback only) unless a test asks for CURVE: settings={"auth": "curve",
        # "server_key_file": ...} (see test_auth.py and curve_keys() below).
        base = {"listen": self.endpoint, "data_dir": self.data_dir, "heartbeat_ms": heartbeat_ms,
                "peer_timeout_ms": peer_timeout_ms, "auth": "none"}
        if isinstance(settings, dict):      # a dict may override the defaults above
            base.update(settings)
            settings = None
        self.heartbeat_ms, self.peer_timeout_ms = int(base["heartbeat_ms"]), int(base["peer_timeout_ms"])
        lines = ["daemon:"] + ["  %s: %s" % (k, v) for k, v in base.items()]
        if settings:                          # YAML text: appended as is (do not repeat the keys above)
            lines += textwrap.indent(textwrap.dedent(settings).strip("\n"), "  ").splitlines()
        text = "\n".join(lines) + "\n"
        if network:
            net = textwrap.dedent(network).strip("\n")
            if not net.lstrip().startswith("network:"):
                net = "network:\n" + textwrap.indent(net, "  ")
            text += net + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)
        Daemon._all.append(self)
        if start:
            self.start()

    # -- life cycle --

    def start(self, timeout=15):
        """Starts knoopd and waits until its control socket answers `status`."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([KNOOPD, "-c", self.config_path], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, cwd=self.dir, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise TestFailure("knoopd exited with %s during start-up; log: %s"
                                  % (self.proc.returncode, self.log()[-2000:]))
            try:
                self.control("status", timeout=1)
                return self
            except (OSError, ControlError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TestFailure("knoopd did not answer on %s within %ss; log: %s"
                                  % (self.socket_path, timeout, self.log()[-2000:]))
            time.sleep(0.02)

    def start_expect_exit(self, timeout=10):
        """Starts knoopd for a start-up that must fail: waits for it to exit; returns (exit code, its output).
        A negative code is the signal that killed it (-11: SIGSEGV)."""
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen([KNOOPD, "-c", self.config_path], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=out, cwd=self.dir, preexec_fn=_die_with_parent)
            try:
                rc = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise TestFailure("knoopd still running %ss after a start that should fail" % timeout)
            out.seek(0)
            return rc, out.read().decode("utf-8", "replace")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15, expect_code=0):
        """SIGTERM, wait for the exit and assert its code (0 unless told otherwise). Returns the code."""
        check(self.running(), "stop(): knoopd is not running")
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("knoopd did not exit within %ss of SIGTERM" % timeout)
        if expect_code is not None:
            check_eq(rc, expect_code, "knoopd exit code after SIGTERM (log: %s)" % self.log()[-800:])
        return rc

    def kill9(self):
        """SIGKILL, as a crash or power loss would stop it (no chance to clean up)."""
        if self.running():
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def restart(self, timeout=15):
        """Stops (SIGTERM, exit 0) if running, then starts again on the same data dir and port."""
        if self.running():
            self.stop()
        return self.start(timeout)

    def close(self):
        """Kills the process if it still runs and removes the temp dir (unless kept)."""
        if self.running():
            self.proc.kill()
            self.proc.wait()
        if self in Daemon._all:
            Daemon._all.remove(self)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    @classmethod
    def cleanup_all(cls):
        for d in list(cls._all):
            d.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None and os.environ.get("KNOOP_KEEP"):
            self.keep = True
        self.close()
        return False

    # -- inspection --

    def control_raw(self, *argv, timeout=5):
        """Sends {"argv": [...]} to the control socket; returns the whole response object."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.socket_path)
            s.sendall((json.dumps({"argv": list(argv)}) + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        return json.loads(buf.decode())

    def control(self, *argv, timeout=5):
        """The result of a control command; raises ControlError when the daemon answers ok:false."""
        r = self.control_raw(*argv, timeout=timeout)
        if not r.get("ok"):
            raise ControlError("%s: %s" % (" ".join(argv), r.get("error")))
        return r["result"]

    def table(self, *argv):
        """A table result as a list of dicts keyed by column name."""
        t = self.control(*argv)
        return [dict(zip(t["columns"], row)) for row in t["rows"]]

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def db(self):
        """A sqlite3 connection to the journal (read it while knoopd runs or after it stopped)."""
        con = sqlite3.connect(self.db_path, timeout=10)
        return con

    def query(self, sql, *args):
        con = self.db()
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()


atexit.register(Daemon.cleanup_all)


# ---- the client --------------------------------------------------------------------------------------------

class KnoopError(Exception):
    """An Error frame (or an unexpected answer) where the call expected success."""

    def __init__(self, frame, what=""):
        self.frame = frame
        err = frame.error if body(frame) == "error" else None
        self.code = err.code if err is not None else None
        self.reason = err.reason if err is not None else ""
        super().__init__("%s%s" % (what + ": " if what else "", _short(frame)))


def _kind(k):
    return pb.Kind.Value(k) if isinstance(k, str) else k


def envelope(**fields):
    """A pb.Envelope from keyword fields; kind may be a name ("REFERRAL"); payload str is UTF-8 encoded."""
    env = pb.Envelope()
    for k, v in fields.items():
        if k == "kind":
            v = _kind(v)
        elif k == "payload" and isinstance(v, str):
            v = v.encode()
        setattr(env, k, v)
    return env


class Client:
    """A knoop client over one ZeroMQ DEALER (linger 0). Not thread-safe.

    Frames that arrive while a call waits for something else are kept (in order) for later recv() calls;
    Heartbeat frames from the broker are dropped. While it waits, it sends a Heartbeat every `heartbeat_s`
    seconds so knoopd does not drop it; a client nobody calls sends nothing (that is how a test goes silent).
    """

    _all = []

    def __init__(self, daemon_or_endpoint, party=None, client_name="e2e", heartbeat_s=0.25, curve=None,
                 routing_id=None):
        endpoint = daemon_or_endpoint.endpoint if isinstance(daemon_or_endpoint, Daemon) else daemon_or_endpoint
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve:                           # (server public key, client public key, client secret key), Z85
            self.sock.curve_serverkey, self.sock.curve_publickey, self.sock.curve_secretkey = \
                [k.encode() if isinstance(k, str) else k for k in curve]
        if routing_id is not None:
            self.sock.setsockopt(zmq.ROUTING_ID, routing_id)
        self.sock.connect(endpoint)
        self.pending = collections.deque()
        self.heartbeat_s = heartbeat_s
        self.last_send = time.monotonic()
        self.party = None
        Client._all.append(self)
        if party:
            self.hello(party, client_name)

    def close(self):
        if self.sock is not None:
            self.sock.close(0)
            self.sock = None
        if self in Client._all:
            Client._all.remove(self)

    @classmethod
    def close_all(cls):
        for c in list(cls._all):
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- raw I/O --

    def send(self, frame):
        """Sends one Frame (or raw bytes, or a list of byte strings as one multi-part message)."""
        if isinstance(frame, (bytes, bytearray)):
            self.sock.send(bytes(frame))
        elif isinstance(frame, list):
            self.sock.send_multipart(frame)
        else:
            self.sock.send(frame.SerializeToString())
        self.last_send = time.monotonic()

    def recv(self, timeout=2.0):
        """The next Frame (not a Heartbeat), or None after `timeout` seconds."""
        if self.pending:
            return self.pending.popleft()
        return self._recv_wire(timeout)

    def _recv_wire(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if now - self.last_send >= self.heartbeat_s:
                self.heartbeat()
            wait = min(deadline - now, self.heartbeat_s)
            if wait <= 0:
                wait = 0
            if self.sock.poll(int(wait * 1000)) & zmq.POLLIN:
                data = self.sock.recv()
                f = pb.Frame()
                f.ParseFromString(data)
                if body(f) == "heartbeat":
                    continue
                return f
            if time.monotonic() >= deadline:
                return None

    def expect(self, match, timeout=5.0, what="frame"):
        """Waits for the first frame for which match(frame) is true; other frames are kept for later."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            for i, f in enumerate(list(self.pending)):
                if match(f):
                    del self.pending[i]
                    return f
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                f = self._recv_wire(left)
                if f is None:
                    return None
                if match(f):
                    return f
                skipped.append(f)
        finally:
            self.pending.extend(skipped)

    def drain(self, timeout=0.2):
        """Every frame that arrives within `timeout` seconds of the previous one (and the kept ones)."""
        out = list(self.pending)
        self.pending.clear()
        while True:
            f = self._recv_wire(timeout)
            if f is None:
                return out
            out.append(f)

    # -- handshake, publish --

    def hello(self, party, client_name="e2e", protocol_version=1, timeout=5.0):
        """Sends Hello; returns the Welcome, raises KnoopError with the Error frame otherwise."""
        self.send(pb.Frame(hello=pb.Hello(party=party, client_name=client_name, protocol_version=protocol_version)))
        f = self.expect(lambda f: body(f) in ("welcome", "error"), timeout)
        if f is None:
            raise TestFailure("no answer to Hello within %ss" % timeout)
        if body(f) != "welcome":
            raise KnoopError(f, "Hello(%s)" % party)
        self.party = party
        return f.welcome

    def publish(self, ref, env=None, **fields):
        """Sends Publish{ref, envelope} (an Envelope, or keyword fields); does not wait."""
        self.send(pb.Frame(publish=pb.Publish(ref=ref, envelope=env if env is not None else envelope(**fields))))

    @staticmethod
    def _answers(ref):
        return lambda f: (body(f) == "accepted" and f.accepted.ref == ref) or \
                         (body(f) == "rejected" and f.rejected.ref == ref)

    def wait_answer(self, ref, timeout=5.0):
        """The Accepted or Rejected frame for `ref`, or None."""
        return self.expect(self._answers(ref), timeout)

    def publish_wait(self, ref, env=None, timeout=5.0, **fields):
        """Publish and wait: the Frame (accepted or rejected) answering `ref`; fails the test on no answer."""
        self.publish(ref, env, **fields)
        f = self.wait_answer(ref, timeout)
        if f is None:
            raise TestFailure("no Accepted/Rejected for ref %d within %ss" % (ref, timeout))
        return f

    def publish_ok(self, ref, env=None, timeout=5.0, **fields):
        """Publish, wait and require Accepted; returns the Accepted message."""
        f = self.publish_wait(ref, env, timeout, **fields)
        if body(f) != "accepted":
            raise KnoopError(f, "publish ref %d" % ref)
        return f.accepted

    def _numbered(self, envelopes):
        """[(ref, Envelope)] from items that are (ref, Envelope or dict) or a bare Envelope or dict (ref 1, 2, ...)."""
        out = []
        for i, item in enumerate(envelopes):
            ref, env = item if isinstance(item, tuple) else (i + 1, item)
            out.append((ref, envelope(**env) if isinstance(env, dict) else env))
        return out

    def publish_window(self, envelopes, window=64, idle_timeout=5.0, on_answer=None):
        """Publishes [(ref, Envelope)] keeping at most `window` unanswered; returns {ref: Frame} of the answers.
        Items may also be (ref, dict of fields), or bare Envelopes / dicts, numbered 1, 2, ... as refs.

        Stops when everything is answered or nothing arrived for `idle_timeout` seconds (unanswered refs are
        absent from the result). on_answer(ref, frame, answers) is called after each answer; if it returns
        True, no further publishes are sent (answers already on their way are still collected)."""
        answers = {}
        todo = collections.deque(self._numbered(envelopes))
        outstanding = set()
        stop_sending = False
        kept = collections.deque(self.pending)   # frames received earlier: answers among them count too
        self.pending.clear()
        skipped = []
        try:
            while True:
                while not stop_sending and todo and len(outstanding) < window:
                    ref, env = todo.popleft()
                    self.publish(ref, env)
                    outstanding.add(ref)
                if not outstanding:
                    return answers
                f = kept.popleft() if kept else self._recv_wire(idle_timeout)
                if f is None:
                    return answers
                kind = body(f)
                if kind == "error":
                    raise KnoopError(f, "during publish_window")
                if kind not in ("accepted", "rejected") or getattr(f, kind).ref not in outstanding:
                    skipped.append(f)
                    continue
                ref = getattr(f, kind).ref
                outstanding.discard(ref)
                answers[ref] = f
                if on_answer is not None and on_answer(ref, f, answers):
                    stop_sending = True
        finally:
            self.pending.extend(kept)
            self.pending.extend(skipped)

    # -- subscribe, settle --

    def subscribe(self, stream, subscriber="", credit=64, start=pb.DURABLE, start_seq=0, start_time_us=0,
                  timeout=5.0):
        """Subscribe; returns the Subscribed message, raises KnoopError with the Error frame otherwise.
        start: pb.DURABLE (default), pb.EARLIEST, pb.LATEST, pb.SEQ, pb.TIME (or their names)."""
        if isinstance(start, str):
            start = pb.StartAt.Value(start)
        self.send(pb.Frame(subscribe=pb.Subscribe(stream=stream, subscriber=subscriber, start=start,
                                                  start_seq=start_seq, start_time_us=start_time_us,
                                                  credit=credit)))
        f = self.expect(lambda f: body(f) in ("subscribed", "error"), timeout)
        if f is None:
            raise TestFailure("no answer to Subscribe(%s) within %ss" % (stream, timeout))
        if body(f) != "subscribed":
            raise KnoopError(f, "Subscribe(%s)" % stream)
        return f.subscribed

    def unsubscribe(self, stream):
        self.send(pb.Frame(unsubscribe=pb.Unsubscribe(stream=stream)))

    def ack(self, stream, seq):
        self.send(pb.Frame(ack=pb.Ack(stream=stream, seq=seq)))

    def nack(self, stream, seq, delay_ms=0, reason=""):
        self.send(pb.Frame(nack=pb.Nack(stream=stream, seq=seq, delay_ms=delay_ms, reason=reason)))

    def credit(self, stream, n):
        self.send(pb.Frame(credit=pb.Credit(stream=stream, n=n)))

    def heartbeat(self):
        self.send(pb.Frame(heartbeat=pb.Heartbeat()))

    def deliveries(self, n, timeout=5.0, stream=None):
        """Up to n Deliver messages (waits at most `timeout` seconds in all); other frames are kept."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            f = self.expect(lambda f: body(f) == "deliver" and (stream is None or f.deliver.stream == stream),
                            left)
            if f is None:
                break
            out.append(f.deliver)
        return out

    def quiet(self, seconds, stream=None):
        """Deliver messages that arrive within `seconds` (for 'nothing more arrives' checks)."""
        return self.deliveries(10 ** 9, seconds, stream)
