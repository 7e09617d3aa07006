# test_wire_text.py — what a client sends as text, and what knoopd says and logs about it, with the real knoopd on
# loopback: every string field of every incoming frame is UTF-8 text or the frame is refused (BAD_FRAME naming the
# field); every answer decodes with Python's protobuf, which refuses strings that are not UTF-8, also after a loop of
# malformed frames; a BSN sent where it does not belong is repeated in no reason and no log line; Publish{ref:0} is
# refused; errors about a subscription name the stream as sent, whole (NO_HELLO included); and a newline or quote in
# a client name, a stream name or a nack reason gives one escaped log line, never a forged one.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_wire_text.py [TEST ...]
import random
import re
import time

import zmq

from harness import Client, Daemon, body, check, check_eq, code_name, envelope, pb, run, test

MARK = b"ZqMARKqZ"                    # placed in one string field, then its bytes are replaced on the wire
BAD_UTF8 = b"Zq\xff\xfeRKqZ"          # the same length: the frame's framing stays valid
WITH_NUL = b"Zq\x00MARKZ"[:len(MARK)]
BSNS = ("999990007", "999990019", "999990020", "999990032")


def good_envelope(**over):
    f = dict(sender="99990001", receiver="99990000", kind="REFERRAL", message_type="knoop.Note",
             identificatie="WT%06d" % random.randrange(10 ** 6), content_type="application/json",
             payload=b'{"n": 1}')
    f.update(over)
    return envelope(**f)


def string_fields(msg_type, prefix=""):
    """(path, setter) for every string field of msg_type, nested messages included (Envelope)."""
    out = []
    for fd in msg_type.DESCRIPTOR.fields:
        if fd.type == fd.TYPE_STRING:
            out.append((prefix + fd.name, fd.name, None))
        elif fd.type == fd.TYPE_MESSAGE and fd.message_type.name == "Envelope":
            for path, name, _ in string_fields(pb.Envelope, fd.name + "."):
                out.append((path, name, fd.name))
    return out


def frame_with_mark(body_name, field, nested):
    """A Frame of body `body_name` whose string `field` (inside `nested`, if given) holds MARK; other fields sane."""
    if body_name == "hello":
        m = pb.Hello(party="99990001", client_name="wt", protocol_version=1)
    elif body_name == "publish":
        m = pb.Publish(ref=77, envelope=good_envelope())
    elif body_name == "subscribe":
        m = pb.Subscribe(stream="inbox.99990001", subscriber="wt", credit=1)
    elif body_name == "nack":
        m = pb.Nack(stream="inbox.99990001", seq=1, reason="r")
    else:
        m = getattr(pb, body_name.capitalize())(stream="inbox.99990001")
    target = getattr(m, nested) if nested else m
    setattr(target, field, MARK.decode())
    return pb.Frame(**{body_name: m})


BODIES = ("hello", "publish", "subscribe", "unsubscribe", "credit", "ack", "nack")


def cases():
    """(body, path in the reason, field, nested) for every string field of every frame a client sends."""
    out = []
    for b in BODIES:
        msg_type = getattr(pb, b.capitalize())
        for path, field, nested in string_fields(msg_type):
            out.append((b, path if b == "publish" else b + "." + path, field, nested))
    return out


def raw_socket(d):
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(d.endpoint)
    return s


def answers(sock, timeout=0.5):
    """Every raw message that arrives within `timeout` of the previous one."""
    out = []
    while sock.poll(int(timeout * 1000)) & zmq.POLLIN:
        out.append(sock.recv())
    return out


def strict_parse(raw):
    f = pb.Frame()
    f.ParseFromString(raw)         # the cpp/upb backend refuses a string that is not UTF-8
    return f


def log_lines(d):
    return d.log().splitlines()


@test(timeout=60)
def invalid_utf8_in_every_string_field_is_refused_naming_it():
    """For each string field of Hello, Publish/Envelope, Subscribe, Unsubscribe, Credit, Ack and Nack: bytes that are
    not UTF-8 (and, separately, a NUL) get BAD_FRAME naming the field — Rejected with the ref for a Publish, else an
    Error that names the stream unless the stream is the field at fault; nothing is journaled or subscribed."""
    with Daemon() as d:
        all_cases = cases()
        check(len(all_cases) >= 17, "string fields found in the schema", all_cases)
        for hello_first in (True, False):
            for b, path, field, nested in all_cases:
                for bad, words in ((BAD_UTF8, "is not valid UTF-8"), (WITH_NUL, "contains a NUL character")):
                    c = Client(d)
                    if hello_first:
                        c.hello("99990001")
                    data = frame_with_mark(b, field, nested).SerializeToString()
                    check(data.count(MARK) == 1, "marker placed once", path)
                    c.send(data.replace(MARK, bad))
                    f = c.recv(3)
                    what = "%s with %r (hello first: %s)" % (path, bad, hello_first)
                    check(f is not None, "no answer to", what)
                    if b == "publish":
                        check_eq(body(f), "rejected", what)
                        check_eq(f.rejected.ref, 77, "ref of the Rejected for " + what)
                        got_code, reason = f.rejected.code, f.rejected.reason
                    else:
                        check_eq(body(f), "error", what)
                        got_code, reason = f.error.code, f.error.reason
                        want_stream = "" if (b == "hello" or field == "stream") else "inbox.99990001"
                        check_eq(f.error.stream, want_stream, "Error.stream for " + what)
                    check_eq(code_name(got_code), "BAD_FRAME", what)
                    check(reason.startswith(path + " " + words), "reason for %s: %s" % (what, reason))
                    c.close()
        check_eq(d.query("SELECT count(*) FROM messages")[0][0], 0, "messages journaled")
        # The same frames with the marker left as it is are fine (the check is about the bytes, not the frame).
        c = Client(d, "99990001")
        acc = c.publish_ok(5, good_envelope(correlation_id=MARK.decode()))
        check(acc.seq > 0, "a clean publish is accepted")
        d.stop()


@test(timeout=90)
def every_answer_to_malformed_frames_decodes_strictly():
    """A loop of malformed frames — random bytes, truncated and bit-flipped good frames, strings that are not UTF-8
    or hold a BSN, huge and empty fields, unknown field numbers, wrong wire types — from a connection with and one
    without Hello: every answer knoopd sends parses with Python's protobuf (strict UTF-8), no reason repeats a BSN,
    and afterwards the broker still publishes and delivers."""
    with Daemon() as d:
        rnd = random.Random(20260)
        goods = []
        for b, path, field, nested in cases():
            goods.append(frame_with_mark(b, field, nested).SerializeToString())
        goods.append(pb.Frame(publish=pb.Publish(ref=9, envelope=good_envelope(receiver=BSNS[0]))).SerializeToString())
        goods.append(pb.Frame(subscribe=pb.Subscribe(stream="inbox." + BSNS[1], credit=1)).SerializeToString())
        goods.append(pb.Frame(hello=pb.Hello(party=BSNS[2], client_name="x")).SerializeToString())
        goods.append(pb.Frame(ack=pb.Ack(stream="a" * 5000, seq=1)).SerializeToString())
        goods.append(pb.Frame(publish=pb.Publish(ref=0, envelope=good_envelope())).SerializeToString())
        socks = [raw_socket(d), raw_socket(d)]
        socks[0].send(pb.Frame(hello=pb.Hello(party="99990001", client_name="fuzz")).SerializeToString())
        got = answers(socks[0], 1.0)
        check(len(got) == 1 and body(strict_parse(got[0])) == "welcome", "hello answered", got)
        sent = received = 0
        for i in range(1500):
            g = bytearray(rnd.choice(goods))
            how = rnd.randrange(8)
            if how == 0:
                data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64)))
            elif how == 1:
                data = bytes(g[:rnd.randrange(1, len(g))])
            elif how == 2:
                for _ in range(rnd.randrange(1, 4)):
                    g[rnd.randrange(len(g))] ^= 1 << rnd.randrange(8)
                data = bytes(g)
            elif how == 3:
                data = bytes(g).replace(MARK, bytes(rnd.randrange(128, 256) for _ in range(len(MARK))))
            elif how == 4:
                data = bytes(g).replace(MARK, rnd.choice(BSNS).encode()[:len(MARK)])
            elif how == 5:
                data = bytes(g) + bytes([(rnd.randrange(15, 2000) << 3 | rnd.choice((0, 2))) & 0x7f]) + b"\x01\x41"
            elif how == 6:
                data = b""
            else:
                data = bytes(g)
            s = socks[i % 2]
            s.send(data)
            sent += 1
            if i % 50 == 49:
                for s2 in socks:
                    for raw in answers(s2, 0.05):
                        f = strict_parse(raw)
                        received += 1
                        text = f.error.reason if body(f) == "error" else \
                            f.rejected.reason if body(f) == "rejected" else ""
                        for bsn in BSNS:
                            check(bsn not in text and bsn not in (f.error.stream if body(f) == "error" else ""),
                                  "an answer repeats a BSN:", f)
        for s2 in socks:
            for raw in answers(s2, 0.5):
                strict_parse(raw)
                received += 1
        check(received > sent // 2, "answers received", received, "of", sent)
        check(d.running(), "knoopd died during the loop")
        # Still a broker: publish and deliver, and the delivery decodes too.
        c = Client(d, "99990000")
        c.subscribe("inbox.99990000", credit=60000, start=pb.EARLIEST)
        p = Client(d, "99990001")
        acc = p.publish_ok(1, good_envelope(correlation_id="after-the-loop"))
        dv = [x for x in c.deliveries(10 ** 6, 3) if x.envelope.correlation_id == "after-the-loop"]
        check(len(dv) == 1 and dv[0].seq == acc.seq, "delivery after the loop", dv)
        for s2 in socks:
            s2.close(0)
        d.stop()


@test(timeout=30)
def a_bsn_in_the_wrong_field_is_in_no_reason_and_no_log_line():
    """A BSN sent as envelope.receiver, Hello.party, Subscribe.stream, an Ack's stream, Hello.client_name or a nack
    reason is refused (or logged) without being repeated: not in the reason, not in Error.stream, not in the log."""
    with Daemon(settings={"redelivery_max_attempts": 1}) as d:
        c = Client(d)
        c.send(pb.Frame(hello=pb.Hello(party=BSNS[0], client_name="x")))
        f = c.recv(3)
        check_eq(code_name(f.error.code), "INVALID_PARTY", "Hello with a BSN as party")
        check(BSNS[0] not in f.error.reason and f.error.reason, "reason", f.error.reason)
        c.hello("99990001", "desk " + BSNS[3])
        r = c.publish_wait(3, good_envelope(receiver=BSNS[1]))
        check_eq(code_name(r.rejected.code), "INVALID_PARTY", "receiver that is a BSN")
        check(BSNS[1] not in r.rejected.reason and "envelope.receiver" in r.rejected.reason, "reason",
              r.rejected.reason)
        for frame in (pb.Frame(subscribe=pb.Subscribe(stream="inbox." + BSNS[2], credit=1)),
                      pb.Frame(subscribe=pb.Subscribe(stream=BSNS[2], credit=1)),
                      pb.Frame(ack=pb.Ack(stream="inbox." + BSNS[2], seq=1))):
            c.send(frame)
            f = c.recv(3)
            check_eq(body(f), "error", "answer to %s" % frame)
            check(BSNS[2] not in f.error.reason and f.error.reason, "reason", f.error.reason)
            check_eq(f.error.stream, "", "Error.stream of a stream holding a BSN")
        # A nack reason holding a BSN, made a dead letter (one attempt): the log line does not repeat it.
        c.subscribe("inbox.99990001", credit=4, start=pb.EARLIEST)
        p = Client(d, "99990000")
        acc = p.publish_ok(1, good_envelope(sender="99990000", receiver="99990001"))
        dv = c.deliveries(1, 3)
        check(dv and dv[0].seq == acc.seq, "delivery to nack", dv)
        c.nack(dv[0].stream, dv[0].seq, reason="client " + BSNS[3] + " unknown")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "delivery.dead_letter" not in d.log():
            time.sleep(0.05)
        check("delivery.dead_letter" in d.log(), "the nack made a dead letter")
        d.stop()
        log = d.log()
        for bsn in BSNS:
            check(bsn not in log, "the log repeats a BSN:", [x for x in log.splitlines() if bsn in x])
        check("[withheld]" in log, "the log shows where a value was withheld")


@test(timeout=20)
def publish_with_ref_0_is_refused():
    with Daemon() as d:
        c = Client(d, "99990001")
        c.publish(0, good_envelope())
        f = c.expect(lambda f: body(f) in ("accepted", "rejected"), 3)
        check_eq(body(f), "rejected", "answer to ref 0")
        check_eq((f.rejected.ref, code_name(f.rejected.code)), (0, "MISSING_FIELD"), "Rejected")
        check("publish.ref" in f.rejected.reason, "reason", f.rejected.reason)
        check_eq(d.query("SELECT count(*) FROM messages")[0][0], 0, "messages journaled")
        d.stop()


@test(timeout=20)
def errors_about_a_subscription_name_the_stream_whole():
    """NO_HELLO to Subscribe, Unsubscribe, Credit, Ack and Nack names the stream; a 200-character stream name comes
    back whole in Error.stream (NO_HELLO, NOT_AUTHORISED, UNKNOWN_STREAM), and in the reason."""
    long_name = "inbox." + "x" * 194
    check_eq(len(long_name), 200, "test stream length")
    with Daemon() as d:
        c = Client(d)
        for name in ("inbox.99990001", long_name):
            for frame in (pb.Frame(subscribe=pb.Subscribe(stream=name, credit=1)),
                          pb.Frame(unsubscribe=pb.Unsubscribe(stream=name)),
                          pb.Frame(credit=pb.Credit(stream=name, n=1)),
                          pb.Frame(ack=pb.Ack(stream=name, seq=1)),
                          pb.Frame(nack=pb.Nack(stream=name, seq=1))):
                c.send(frame)
                f = c.recv(3)
                what = "%s before Hello (%d chars)" % (frame.WhichOneof("body"), len(name))
                check_eq(code_name(f.error.code), "NO_HELLO", what)
                check_eq(f.error.stream, name, "Error.stream of " + what)
        c.hello("99990001")
        c.send(pb.Frame(subscribe=pb.Subscribe(stream=long_name, credit=1)))
        f = c.recv(3)
        check_eq(code_name(f.error.code), "NOT_AUTHORISED", "subscribe to another party's long stream")
        check_eq(f.error.stream, long_name, "Error.stream (NOT_AUTHORISED)")
        check(long_name in f.error.reason, "the reason names the stream whole", f.error.reason)
        c.send(pb.Frame(ack=pb.Ack(stream=long_name, seq=1)))
        f = c.recv(3)
        check_eq(code_name(f.error.code), "UNKNOWN_STREAM", "ack without a subscription")
        check_eq(f.error.stream, long_name, "Error.stream (UNKNOWN_STREAM)")
        d.stop()


# A value that would end the line and start a forged one (fits Hello.client_name, which is kept to 63 bytes).
FORGED = 'x" a=1\nts=0 level=error event=forged'
FORGED_ESCAPED = 'x\\" a=1\\nts=0 level=error event=forged'


@test(timeout=30)
def log_values_are_escaped_one_line_each():
    """A newline, quote or backslash in a client name, a stream name or a nack reason gives exactly one log line,
    with the value escaped; no line the client wrote appears in the log."""
    with Daemon(settings={"redelivery_max_attempts": 1}) as d:
        c = Client(d)
        c.hello("99990001", FORGED + "\\")
        c.send(pb.Frame(subscribe=pb.Subscribe(stream="inbox.0917\n" + FORGED, credit=1)))
        f = c.recv(3)
        check_eq(code_name(f.error.code), "NOT_AUTHORISED", "subscribe to a forged stream name")
        c.subscribe("inbox.99990001", credit=4, start=pb.EARLIEST)
        p = Client(d, "99990000")
        acc = p.publish_ok(1, good_envelope(sender="99990000", receiver="99990001"))
        dv = c.deliveries(1, 3)
        check(dv and dv[0].seq == acc.seq, "delivery to nack", dv)
        c.nack(dv[0].stream, dv[0].seq, reason=FORGED)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "delivery.dead_letter" not in d.log():
            time.sleep(0.05)
        d.stop()
        lines = log_lines(d)
        check(all(x.startswith("ts=") for x in lines), "a log line that does not start with ts=:",
              [x for x in lines if not x.startswith("ts=")])
        check(not [x for x in lines if re.match(r"ts=\S+ level=\S+ event=forged", x)], "a forged line")
        escaped = FORGED_ESCAPED
        for event, key in (("peer.hello", "client"), ("subscribe.refused", "stream"),
                           ("delivery.dead_letter", "reason")):
            mine = [x for x in lines if " event=%s " % event in x and "forged" in x]
            check_eq(len(mine), 1, "log lines of %s holding the value" % event)
            check(escaped in mine[0], "%s: the value is not escaped: %s" % (event, mine[0]))
            check(re.search(r' %s="[^"\\]*(\\.[^"\\]*)*"' % key, mine[0]), "%s=... is one quoted value: %s"
                  % (key, mine[0]))
        hello = [x for x in lines if " event=peer.hello " in x and "forged" in x][0]
        check(hello.count("\\\\") >= 1, "the backslash is escaped", hello)


@test(timeout=30)
def a_long_nack_reason_in_utf8_stays_readable():
    """A nack reason of multi-byte characters longer than the broker keeps is cut between characters: the dead
    letter it makes shows in `knoopctl dlq list` with valid text."""
    with Daemon(settings={"redelivery_max_attempts": 1}) as d:
        c = Client(d, "99990001")
        c.subscribe("inbox.99990001", credit=4, start=pb.EARLIEST)
        p = Client(d, "99990000")
        acc = p.publish_ok(1, good_envelope(sender="99990000", receiver="99990001"))
        dv = c.deliveries(1, 3)
        check(dv and dv[0].seq == acc.seq, "delivery to nack", dv)
        c.nack(dv[0].stream, dv[0].seq, reason="\u00f6" * 40)
        rows = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not rows:
            rows = d.table("dlq", "list")
            time.sleep(0.05)
        check_eq(len(rows), 1, "dead letters listed")
        check(rows[0]["reason"] and set(rows[0]["reason"]) == {"\u00f6"}, "reason as listed", rows[0])
        d.stop()


if __name__ == "__main__":
    run()
