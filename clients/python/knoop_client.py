# knoop_client.py — a small Python client for knoopd's wire protocol v1 (proto/knoop.proto, docs/protocol.md):
# one ZeroMQ DEALER socket, one protobuf Frame per message, with the handshake, windowed publish and credit.
"""A client library for the knoop message broker.

Usage::

    from knoop_client import Client

    with Client("tcp://127.0.0.1:5570") as c:
        welcome = c.hello("99980001", "buurtteam-heerlen")
        acc = c.publish(receiver="99990000", kind="REFERRAL", message_type="knoop.Referral",
                        identificatie="BT-2026-0001", client_bsn="999990007",
                        content_type="application/json", payload=b'{"product": "begeleiding"}')
        print(acc.seq, acc.message_id, acc.duplicate)

    with Client("tcp://127.0.0.1:5570") as c:
        c.hello("99990000", "coop-backoffice")
        c.subscribe("inbox.99990000", "backoffice", start="durable", credit=64)
        while True:
            d = c.receive(timeout=5.0)          # a knoop_pb2.Deliver, another frame, or None
            if isinstance(d, knoop_pb2.Deliver):
                handle(d.envelope)
                c.ack(d.stream, d.seq)

Against a knoopd with CURVE (auth: curve, the default outside development), give the keys::

    keys = load_curve("/etc/knoop/server.pub", "/etc/knoop/heerlen.key")   # files of knoopctl keys generate
    with Client("tcp://knoop.example:5570", curve=keys) as c:
        c.hello("0917", "heerlen-backoffice")       # the party the key belongs to (knoopctl clients add)

A refused handshake (a key knoopd does not know, or CURVE on one side only) raises HandshakeRefused at once.

The generated protobuf module ``knoop_pb2`` is built by ``make`` into ``build/gen/python`` (or
``$KNOOP_BUILD/gen/python``); it is never committed. The client is not thread-safe: use one Client per thread.
While a call waits for the broker it sends a Heartbeat every ``heartbeat_ms / 2``; between calls it sends
nothing, so call ``receive()`` (or ``heartbeat()``) at least that often to stay connected.
"""

import os
import stat
import sys
import time

import zmq
import zmq.auth
from zmq.utils.monitor import recv_monitor_message


def _load_pb2():
    """Finds the generated knoop_pb2: $KNOOP_BUILD/gen/python, then build/gen/python of this checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = []
    if os.environ.get("KNOOP_BUILD"):
        candidates.append(os.path.join(os.environ["KNOOP_BUILD"], "gen", "python"))
    candidates.append(os.path.join(here, "..", "..", "build", "gen", "python"))
    for path in candidates:
        if os.path.isfile(os.path.join(path, "knoop_pb2.py")):
            path = os.path.abspath(path)
            if path not in sys.path:
                sys.path.insert(0, path)
            import knoop_pb2  # noqa: E402  (generated code)
            return knoop_pb2
    raise ImportError(
        "knoop_pb2 not found in %s: run `make` (or `protoc --proto_path=proto --python_out=build/gen/python "
        "proto/*.proto`) or set KNOOP_BUILD to the build directory" % " or ".join(candidates))


knoop_pb2 = _load_pb2()

PROTOCOL_VERSION = 1

#: Envelope fields a publisher may set; the broker sets seq, message_id, client_ref and accepted_at_us.
ENVELOPE_FIELDS = ("sender", "receiver", "kind", "message_type", "identificatie", "correlation_id",
                   "client_bsn", "content_type", "payload", "created_at_us")

_START_AT = {"durable": knoop_pb2.DURABLE, "earliest": knoop_pb2.EARLIEST, "latest": knoop_pb2.LATEST,
             "seq": knoop_pb2.SEQ, "time": knoop_pb2.TIME}


def error_name(code):
    """'INVALID_BSN' for 6; the number as text for a code this module does not know."""
    try:
        return knoop_pb2.ErrorCode.Name(code)
    except ValueError:
        return str(code)


class KnoopError(Exception):
    """The broker said no (an Error frame, or a Rejected for publish) or the connection failed."""

    def __init__(self, code, reason):
        super().__init__("%s: %s" % (error_name(code), reason))
        self.code = code
        self.reason = reason

    @property
    def code_name(self):
        return error_name(self.code)


class PublishRejected(KnoopError):
    """A Rejected{ref, code, reason}: this message was not accepted (the connection is fine)."""

    def __init__(self, ref, code, reason):
        super().__init__(code, reason)
        self.ref = ref


class KnoopTimeout(KnoopError, TimeoutError):
    """No answer within the timeout. For a publish, the outcome is unknown: publish again with the same
    identificatie and deduplication makes the repeat harmless."""

    def __init__(self, what):
        super().__init__(knoop_pb2.INTERNAL, "timed out waiting for " + what)


class ConnectionLost(KnoopError):
    """The broker has been silent for longer than dead_after_ms (it answers every Heartbeat)."""

    def __init__(self, silent_ms):
        super().__init__(knoop_pb2.INTERNAL, "broker silent for %d ms" % silent_ms)


class HandshakeRefused(KnoopError):
    """The ZeroMQ handshake failed: knoopd refused this client's CURVE key (not a client key there, or revoked),
    or one side speaks CURVE and the other does not. Nothing reaches the broker on this connection."""

    def __init__(self, reason):
        super().__init__(knoop_pb2.NOT_AUTHORISED, reason)


def load_curve(server_key_file, key_file):
    """(server_public, client_public, client_secret) for Client(curve=...), read from the files knoopctl keys
    generate writes (ZeroMQ certificate format): knoopd's public key (its .pub, or .key) and this client's key
    pair, which must not be readable by others (mode 0600), as knoopd and the C tools require too."""
    server_public, _ = zmq.auth.load_certificate(server_key_file)
    mode = stat.S_IMODE(os.stat(key_file).st_mode)
    if mode & 0o077:
        raise PermissionError("%s: mode %04o lets others read the secret key: chmod 600 it" % (key_file, mode))
    public, secret = zmq.auth.load_certificate(key_file)
    if not secret:
        raise ValueError("%s holds no secret-key: give this client's .key file, not a .pub" % key_file)
    return server_public, public, secret


def make_envelope(**fields):
    """An Envelope from keyword fields. kind may be a Kind number or name ("REFERRAL"); a str payload is
    UTF-8 encoded; created_at_us defaults to now."""
    unknown = set(fields) - set(ENVELOPE_FIELDS)
    if unknown:
        raise TypeError("not envelope fields a publisher sets: %s" % ", ".join(sorted(unknown)))
    env = knoop_pb2.Envelope()
    for name, value in fields.items():
        if value is None:
            continue
        if name == "kind" and isinstance(value, str):
            value = knoop_pb2.Kind.Value(value)
        elif name == "payload" and isinstance(value, str):
            value = value.encode("utf-8")
        setattr(env, name, value)
    if not env.created_at_us:
        env.created_at_us = time.time_ns() // 1000
    return env


class Client:
    """One connection to knoopd. Opening connects the socket; hello() performs the handshake.

    endpoint      -- e.g. "tcp://127.0.0.1:5570"
    timeout       -- default seconds to wait for an answer (per call; None waits forever)
    dead_after_ms -- raise ConnectionLost after this much broker silence while waiting; default
                     3 x heartbeat_ms from Welcome; 0 disables the check
    curve         -- (server_public, client_public, client_secret), Z85 keys, for a knoopd with auth: curve
                     (see load_curve); None: ZeroMQ's NULL mechanism, for a knoopd with auth: none
    auto_resume   -- before a call that follows more than heartbeat_ms of silence, say Hello again; when
                     the broker had dropped the session meanwhile, subscribe again as before (see resume())
    """

    def __init__(self, endpoint="tcp://127.0.0.1:5570", timeout=10.0, dead_after_ms=None, curve=None,
                 context=None, auto_resume=True):
        self.endpoint = endpoint
        self.timeout = timeout
        self.auto_resume = auto_resume
        self._own_context = context is None
        self._ctx = context or zmq.Context()
        self._sock = self._ctx.socket(zmq.DEALER)
        # Replies and deliveries must never be dropped at a high-water mark: the broker bounds them already
        # (one answer per publish, credit for deliveries).
        self._sock.setsockopt(zmq.RCVHWM, 0)
        self._sock.setsockopt(zmq.LINGER, 2000)
        self._curve = bool(curve)
        if curve:
            server_public, public, secret = curve
            self._sock.curve_serverkey = _bytes(server_public)
            self._sock.curve_publickey = _bytes(public)
            self._sock.curve_secretkey = _bytes(secret)
        # A refused handshake is silent on the socket itself: the monitor says so, and _wait raises at once.
        # Under CURVE, knoopd closing the handshake means it could not decrypt it: another server public key.
        self._monitor = self._sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH |
                                                      zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                                      (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL if curve else 0))
        self._sock.connect(endpoint)
        self._poller = zmq.Poller()
        self._poller.register(self._sock, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        self.party = None
        self.welcome = None
        self._dead_after_ms = dead_after_ms
        self._next_ref = 1
        self._inbox = []          # frames for receive(), in arrival order
        self._outcomes = {}       # ref -> Accepted/Rejected that arrived while waiting for something else
        self._subs = {}           # stream -> the Subscribe frame, for resume() and close()
        self._hello = None        # the last Hello that was welcomed, for resume()
        self._last_send = time.monotonic()
        self._last_recv = time.monotonic()
        self.closed = False

    # ---- context manager ---------------------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- the handshake -----------------------------------------------------------------------------------

    def hello(self, party, client_name="knoop-python", protocol_version=PROTOCOL_VERSION, timeout=None):
        """Hello{party, client_name, protocol_version} -> Welcome. Raises KnoopError on an Error frame."""
        hello = knoop_pb2.Frame(hello=knoop_pb2.Hello(party=party, client_name=client_name,
                                                      protocol_version=protocol_version))
        self._send(hello)
        frame = self._wait(lambda f: f.WhichOneof("body") in ("welcome", "error"), "Welcome", timeout,
                           heartbeats=False)
        if frame.WhichOneof("body") == "error":
            raise KnoopError(frame.error.code, frame.error.reason)
        self.party = party
        self.welcome = frame.welcome
        self._hello = hello
        return frame.welcome

    def resume(self, timeout=None):
        """Says the last Hello again. The broker answers a known session with the same session id; when it
        had dropped this one (silent longer than its peer timeout, or restarted), the session id is new and
        every subscription is sent again, so durable subscribers continue at their acked cursor (what was
        delivered but not acked comes again, attempt > 1). Returns True when the session was new."""
        if self._hello is None:
            raise KnoopError(knoop_pb2.NO_HELLO, "resume() before hello()")
        old = self.welcome.session
        h = self._hello.hello
        welcome = self.hello(h.party, h.client_name, h.protocol_version, timeout=timeout)
        if welcome.session == old:
            return False
        for request in list(self._subs.values()):
            if request.subscribe.subscriber:
                # Continue at the stored cursor whatever the first Subscribe asked for ("latest" would skip
                # what arrived while we were away).
                request.subscribe.start = knoop_pb2.DURABLE
            self._subscribe(request, timeout)
        return True

    def _resume_if_idle(self):
        # The broker drops a session after peer_timeout_ms >= 2 x heartbeat_ms of silence: after one interval
        # a Hello round trip is cheap insurance against a NO_HELLO.
        if (self.auto_resume and self._hello is not None and self.heartbeat_ms
                and time.monotonic() - self._last_send > self.heartbeat_ms / 1000.0):
            self.resume()

    @property
    def heartbeat_ms(self):
        return self.welcome.heartbeat_ms if self.welcome and self.welcome.heartbeat_ms else 0

    @property
    def max_message_bytes(self):
        return self.welcome.max_message_bytes if self.welcome and self.welcome.max_message_bytes else 0

    # ---- publishing --------------------------------------------------------------------------------------

    def new_ref(self):
        """A fresh correlation number for a Publish (never 0)."""
        ref = self._next_ref
        self._next_ref += 1
        return ref

    def publish(self, envelope=None, ref=None, timeout=None, **fields):
        """Publishes one message and waits for its outcome.

        Give a knoop_pb2.Envelope or the envelope fields as keywords (see make_envelope); sender defaults to
        the party of hello(). Returns the Accepted (accepted.duplicate is True when the broker had it
        already); raises PublishRejected on a Rejected.
        """
        ref, frame = self._publish_frame(envelope, ref, fields)
        if isinstance(frame, knoop_pb2.Rejected):
            raise PublishRejected(ref, frame.code, frame.reason)
        self._resume_if_idle()
        self._send(frame)
        outcome = self._wait_outcome({ref}, timeout)
        if self._lost_session(outcome):
            self._send(frame)  # resumed: the broker had forgotten us (restart, drop); once more
            outcome = self._wait_outcome({ref}, timeout)
        if isinstance(outcome, knoop_pb2.Rejected):
            raise PublishRejected(ref, outcome.code, outcome.reason)
        return outcome

    def _lost_session(self, outcome):
        """True after a Rejected{NO_HELLO} for a client that had a session, once resume() restored it."""
        if not (self.auto_resume and self._hello is not None and isinstance(outcome, knoop_pb2.Rejected)
                and outcome.code == knoop_pb2.NO_HELLO):
            return False
        self.resume()
        return True

    def publish_many(self, items, window=64, timeout=None):
        """Publishes many messages keeping up to `window` unanswered Publish frames in flight.

        items: Envelopes, dicts of envelope fields, or (ref, Envelope-or-dict) pairs.
        Returns {ref: Accepted or Rejected} in the order of items. `timeout` bounds the wait for each next
        answer, not the whole run. A message larger than max_message_bytes is not sent and gets a
        Rejected{code: TOO_LARGE} made here. When it raises (KnoopTimeout, ConnectionLost, an Error frame), the
        exception's .results holds the same dict so far, None for each ref whose outcome is unknown.
        """
        if window < 1:
            raise ValueError("window must be at least 1")
        self._resume_if_idle()
        results = {}
        in_flight = {}   # ref -> (Publish frame, session it was sent in)
        retried = set()
        it = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < window:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                ref, envelope = item if isinstance(item, tuple) else (None, item)
                fields = envelope if isinstance(envelope, dict) else {}
                ref, frame = self._publish_frame(None if isinstance(envelope, dict) else envelope, ref, fields)
                if ref in results:
                    raise ValueError("ref %d used twice" % ref)
                results[ref] = None
                if isinstance(frame, knoop_pb2.Rejected):
                    results[ref] = frame
                    continue
                self._send(frame)
                in_flight[ref] = (frame, self.welcome.session if self.welcome else "")
            if not in_flight:
                return results
            try:
                outcome = self._wait_outcome(in_flight, timeout)
            except KnoopError as e:
                # Say what is known: the refs still None have an unknown outcome (publish them again).
                e.results = results
                raise
            frame, session = in_flight[outcome.ref]
            if (isinstance(outcome, knoop_pb2.Rejected) and outcome.code == knoop_pb2.NO_HELLO
                    and outcome.ref not in retried and self.auto_resume and self._hello is not None):
                # Sent before the broker forgot us: resume once for the whole window, then send it again.
                if session == self.welcome.session:
                    self.resume()
                retried.add(outcome.ref)
                self._send(frame)
                in_flight[outcome.ref] = (frame, self.welcome.session)
                continue
            results[outcome.ref] = outcome
            del in_flight[outcome.ref]

    def _publish_frame(self, envelope, ref, fields):
        if envelope is None:
            fields = dict(fields)
            if self.party is not None:
                fields.setdefault("sender", self.party)
            envelope = make_envelope(**fields)
        elif fields:
            raise TypeError("give an envelope or envelope fields, not both")
        if ref is None:
            ref = self.new_ref()
        elif ref == 0:
            raise ValueError("ref 0 is reserved: the broker cannot correlate it")
        frame = knoop_pb2.Frame(publish=knoop_pb2.Publish(ref=ref, envelope=envelope))
        size = frame.ByteSize()
        if self.max_message_bytes and size > self.max_message_bytes:
            return ref, knoop_pb2.Rejected(ref=ref, code=knoop_pb2.TOO_LARGE, reason="not sent: frame of %d bytes "
                                           "exceeds max_message_bytes (%d)" % (size, self.max_message_bytes))
        return ref, frame

    def _wait_outcome(self, refs, timeout):
        for ref in refs:
            if ref in self._outcomes:
                return self._outcomes.pop(ref)

        def wanted(f):
            body = f.WhichOneof("body")
            if body in ("accepted", "rejected"):
                return getattr(f, body).ref in refs
            return body == "error"
        frame = self._wait(wanted, "Accepted/Rejected for ref %s" % sorted(refs)[:8], timeout)
        if frame.WhichOneof("body") == "error":
            raise KnoopError(frame.error.code, frame.error.reason)
        return getattr(frame, frame.WhichOneof("body"))

    # ---- subscribing -------------------------------------------------------------------------------------

    def subscribe(self, stream, subscriber, start="durable", start_seq=0, start_time_us=0, credit=64,
                  timeout=None):
        """Subscribe{stream, subscriber, start, ...} -> Subscribed. Raises KnoopError on an Error frame.

        subscriber: the durable name whose acked cursor the broker keeps ("" for a throw-away subscription);
        connections using the same name share its messages (competing consumers).
        start: "durable" (the subscriber's acked cursor; earliest for a new one), "earliest", "latest",
        "seq" (from start_seq, inclusive) or "time" (from start_time_us), or a StartAt number. Only a new
        subscriber name starts there; an existing one continues at its cursor.
        credit: the window: at most this many unacked deliveries at a time. Each Ack or Nack frees a place;
        credit() widens the window for good.
        """
        start_at = _START_AT[start] if isinstance(start, str) else int(start)
        request = knoop_pb2.Frame(subscribe=knoop_pb2.Subscribe(
            stream=stream, subscriber=subscriber, start=start_at, start_seq=start_seq, start_time_us=start_time_us,
            credit=credit))
        self._resume_if_idle()
        try:
            return self._subscribe(request, timeout)
        except KnoopError as e:
            if not (e.code == knoop_pb2.NO_HELLO and self.auto_resume and self._hello is not None):
                raise
            self.resume()
            return self._subscribe(request, timeout)

    def _subscribe(self, request, timeout):
        stream = request.subscribe.stream
        self._send(request)

        def wanted(f):
            body = f.WhichOneof("body")
            return (body == "subscribed" and f.subscribed.stream == stream) or body == "error"
        frame = self._wait(wanted, "Subscribed to %s" % stream, timeout)
        if frame.WhichOneof("body") == "error":
            raise KnoopError(frame.error.code, frame.error.reason)
        self._subs[stream] = request  # for resume(); a throw-away subscriber ("") starts afresh there
        return frame.subscribed

    def unsubscribe(self, stream):
        """Unsubscribe{stream}: the broker stops delivering; unacked deliveries return to the stream."""
        self._subs.pop(stream, None)
        self._send(knoop_pb2.Frame(unsubscribe=knoop_pb2.Unsubscribe(stream=stream)))

    def credit(self, stream, n):
        """Credit{stream, n}: widens this subscription's window by n unacked deliveries (the broker caps it at its
        max_credit setting)."""
        if n <= 0:
            return
        self._resume_if_idle()
        self._send(knoop_pb2.Frame(credit=knoop_pb2.Credit(stream=stream, n=n)))
        if stream in self._subs:
            self._subs[stream].subscribe.credit += n  # a resumed subscription gets the wider window too

    def receive(self, timeout=None):
        """The next frame the broker sent on its own: normally a knoop_pb2.Deliver, else the inner message
        of the frame (Error, a late Accepted, ...). None when nothing arrived within timeout seconds
        (timeout None: the client's default; heartbeats are sent and answered meanwhile)."""
        if self._inbox:
            return self._unwrap(self._inbox.pop(0))
        self._resume_if_idle()
        if timeout is None:
            timeout = self.timeout
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._inbox:  # arrived while resume() waited for its Welcome or Subscribed
                return self._unwrap(self._inbox.pop(0))
            # Heartbeats are answered even for a session the broker no longer knows, so a subscriber that
            # hears nothing checks every few intervals that its session (and so its subscriptions) still exist.
            check = 3 * self.heartbeat_ms / 1000.0 if (self.auto_resume and self._subs and self.heartbeat_ms) else None
            left = None if end is None else max(0.0, end - time.monotonic())
            final = check is None or (left is not None and left <= check)
            try:
                return self._unwrap(self._wait(lambda f: True, "a delivery", left if final else check))
            except KnoopTimeout:
                if final:
                    return None
                self.resume()

    def deliveries(self, timeout=None):
        """Yields Deliver messages until none arrives within timeout seconds; raises KnoopError on an Error."""
        while True:
            m = self.receive(timeout)
            if m is None:
                return
            if isinstance(m, knoop_pb2.Error):
                raise KnoopError(m.code, m.reason)
            if isinstance(m, knoop_pb2.Deliver):
                yield m

    def ack(self, stream, seq):
        """Ack{stream, seq}: settled; the broker will not deliver it to this subscriber again."""
        self._resume_if_idle()
        self._send(knoop_pb2.Frame(ack=knoop_pb2.Ack(stream=stream, seq=seq)))

    def nack(self, stream, seq, delay_ms=0, reason=""):
        """Nack{stream, seq, delay_ms, reason}: deliver again after delay_ms (0: the broker's backoff); after the
        broker's maximum number of attempts the message goes to the deadletters stream."""
        self._resume_if_idle()
        self._send(knoop_pb2.Frame(nack=knoop_pb2.Nack(stream=stream, seq=seq, delay_ms=delay_ms, reason=reason)))

    def heartbeat(self):
        """Sends a Heartbeat now (calls that wait send them by themselves)."""
        self._send(knoop_pb2.Frame(heartbeat=knoop_pb2.Heartbeat()))

    def close(self):
        """Unsubscribes every stream (so unacked deliveries return at once), lets queued frames leave, closes."""
        if self.closed:
            return
        for stream in list(self._subs):
            try:
                self.unsubscribe(stream)
            except zmq.ZMQError:
                break
        self._sock.disable_monitor()
        self._monitor.close(0)
        self._sock.close()
        if self._own_context:
            self._ctx.term()
        self.closed = True

    # ---- internals ---------------------------------------------------------------------------------------

    def _unwrap(self, frame):
        return getattr(frame, frame.WhichOneof("body"))

    def _send(self, frame):
        if self.closed:
            raise KnoopError(knoop_pb2.INTERNAL, "client is closed")
        data = frame.SerializeToString()
        try:
            self._sock.send(data, zmq.NOBLOCK)
        except zmq.Again:
            # The outgoing queue is at its high-water mark: wait for room, heartbeats do not help here.
            if not self._sock.poll(int((self.timeout or 3600) * 1000), zmq.POLLOUT):
                raise KnoopTimeout("room to send")
            self._sock.send(data)
        self._last_send = time.monotonic()

    def _recv_frame(self):
        parts = self._sock.recv_multipart(zmq.NOBLOCK)
        self._last_recv = time.monotonic()
        frame = knoop_pb2.Frame()
        if len(parts) != 1:
            return None  # not the protocol: one Frame per message
        try:
            frame.ParseFromString(parts[0])
        except Exception:  # noqa: BLE001  (protobuf raises DecodeError, a subclass of Exception)
            return None
        if frame.WhichOneof("body") is None:
            return None
        return frame

    def _wait(self, wanted, what, timeout, heartbeats=True):
        """Receives until a frame satisfies wanted(frame) and returns it. Other frames are kept: outcomes by
        ref, everything else for receive(). Sends Heartbeats every heartbeat_ms/2 and watches liveness."""
        if timeout is None:
            timeout = self.timeout
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        hb = self.heartbeat_ms / 1000.0 if heartbeats else 0.0
        dead_after = 0.0
        if heartbeats:
            dead_after = (self._dead_after_ms if self._dead_after_ms is not None else 3 * self.heartbeat_ms) / 1000.0
        while True:
            now = time.monotonic()
            if hb and now - self._last_send >= hb / 2:
                self.heartbeat()
                now = time.monotonic()
            # Silence counts from the start of this wait: between calls the client sends nothing, so
            # nothing is owed to it either.
            heard = max(self._last_recv, start)
            if dead_after and now - heard > dead_after:
                raise ConnectionLost(int((now - heard) * 1000))
            waits = [1.0]
            if deadline is not None:
                if now >= deadline:
                    raise KnoopTimeout(what)
                waits.append(deadline - now)
            if hb:
                waits.append(max(0.0, self._last_send + hb / 2 - now))
            if dead_after:
                waits.append(max(0.0, heard + dead_after - now) + 0.001)
            if not self._poller.poll(max(0, int(min(waits) * 1000))):
                continue
            if self._monitor.poll(0):
                self._handshake_failed(recv_monitor_message(self._monitor))
            while self._sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                frame = self._recv_frame()
                if frame is None:
                    continue
                body = frame.WhichOneof("body")
                if body == "heartbeat":
                    continue
                if wanted(frame):
                    return frame
                if body in ("accepted", "rejected"):
                    self._outcomes[getattr(frame, body).ref] = getattr(frame, body)
                else:
                    self._inbox.append(frame)


    def _handshake_failed(self, event):
        if event["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            raise HandshakeRefused("knoopd refused this client's key (ZAP status %d): it is not a client key there, "
                                   "or it was revoked (knoopctl clients add PARTY KEY)" % event["value"])
        if event["event"] == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            raise HandshakeRefused("knoopd closed the connection during the CURVE handshake: is the server public "
                                   "key the one of this knoopd?")
        if event["value"] == 0x11000002:  # ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
            raise HandshakeRefused("knoopd does not speak CURVE (auth: none): connect without curve=" if self._curve
                                   else "knoopd wants CURVE (auth: curve): give curve=load_curve(...)")
        raise HandshakeRefused("the %s handshake failed (ZeroMQ protocol error 0x%x)%s"
                               % ("CURVE" if self._curve else "NULL", event["value"],
                                  ": is the server public key the right one?" if self._curve else ""))


def _bytes(key):
    return key.encode("ascii") if isinstance(key, str) else key
