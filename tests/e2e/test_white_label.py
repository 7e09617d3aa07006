# test_white_label.py — white label without leaks, with the real knoopd and the demo network (deploy/knoopd.yaml):
# Heerlen (0917) contracts the cooperative 99990000 white-label, so no member's AGB code may reach any byte Heerlen
# receives. Each way a member code could travel is tried — an XML comment, a processing instruction, Commentaar,
# ReferentieAanbieder, a `dlq retry` of a message first dead-lettered, a rewrite that must fail (a member code in a
# field that is neither a provider code nor free text), a native message with the code in free text and in other
# fields, an opaque payload, an envelope field — and every byte Heerlen's connection received is searched. Also: a
# refused native payload's values reach the sender but not the log.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_white_label.py [TEST ...]
import itertools
import time

from harness import Client, Daemon, body, check, check_eq, code_name, envelope, pb, run, test
import domain_pb2 as dpb  # noqa: E402  (generated next to knoop_pb2; the harness put its directory on sys.path)
import legacy_messages as L

NETWORK = L.demo_network()
COOP, HEERLEN, TEAM_HEERLEN = "99990000", "0917", "99980001"
MEMBERS = ["9999000%d" % i for i in range(1, 9)]
SUB = "99990101"
PROVIDER_CODES = MEMBERS + [SUB]
SCHULD = "99990007"          # the only member offering schuldhulpverlening
WELZIJN = "99990003"         # the only member offering welzijn
BSN_A = L.BSN                # the iWmo examples' client (999900006)
BSN_B = "999990019"

_refs = itertools.count(1)


class _RecordingSocket:
    """The DEALER socket of a harness Client, keeping the raw bytes of every ZeroMQ message received."""

    def __init__(self, sock):
        self._sock = sock
        self.raw = []

    def recv(self, *a, **kw):
        data = self._sock.recv(*a, **kw)
        self.raw.append(bytes(data))
        return data

    def __getattr__(self, name):
        return getattr(self._sock, name)


def party(d, code, *streams):
    c = Client(d)
    c.sock = _RecordingSocket(c.sock)
    c.hello(code, "white-label")
    for s in streams:
        c.subscribe(s, credit=1000, start=pb.EARLIEST)
    return c


def start():
    return Daemon(network=NETWORK, heartbeat_ms=5000, peer_timeout_ms=120000)


def refer(team, bsn, product):
    msg = dpb.Referral(schema_version=1, referral_id="BT%d" % next(_refs), product=product, need="support",
                       urgency=dpb.ROUTINE)
    f = team.publish_wait(next(_refs), sender=TEAM_HEERLEN, receiver=COOP, kind="REFERRAL",
                          message_type="knoop.domain.Referral", identificatie="BT%d" % next(_refs), client_bsn=bsn,
                          content_type="application/x-protobuf; knoop.domain.Referral",
                          payload=msg.SerializeToString())
    check_eq(body(f), "accepted", "referral of a client")


def send_xml(c, member, xml):
    f = c.publish_wait(next(_refs), sender=member, content_type="application/xml; iwmo-3.2; WMO315", payload=xml)
    check(body(f) == "accepted", "%s's 315 was not accepted:" % member, f)
    return f.accepted.seq


def native(c, member, msg, kind, bsn=BSN_A, ident=None, receiver=HEERLEN):
    name = msg.DESCRIPTOR.full_name
    f = c.publish_wait(next(_refs), sender=member, receiver=receiver, kind=kind, message_type=name,
                       identificatie=ident or "WL%d" % next(_refs), client_bsn=bsn,
                       content_type="application/x-protobuf; " + name, payload=msg.SerializeToString())
    check(body(f) == "accepted", "native message not accepted:", f)
    return f.accepted.seq


def plan(**over):
    p = dpb.PlanUpdate(schema_version=1, plan_id="P%d" % next(_refs), action=dpb.CHANGED,
                       goals=[dpb.Goal(id="g1", description="stable income", domain="financien", target="3")])
    for k, v in over.items():
        if k == "goals":
            del p.goals[:]
            p.goals.extend(v)
        else:
            setattr(p, k, v)
    return p


def take(c, seq, timeout=5.0):
    f = c.expect(lambda f: body(f) == "deliver" and f.deliver.seq == seq, timeout)
    check(f is not None, "%s: no delivery of seq %d" % (c.party, seq))
    c.ack(f.deliver.stream, f.deliver.seq)
    return f.deliver


def nothing_for(c, seq, seconds=0.5):
    f = c.expect(lambda f: body(f) == "deliver" and f.deliver.seq == seq, seconds)
    check(f is None, "%s received seq %d, which should be a dead letter" % (c.party, seq))


def no_member_code(c, what):
    data = b"".join(c.sock.raw)
    check(len(data) > 0, "%s received nothing" % what)
    for code in PROVIDER_CODES:
        check(code.encode() not in data, "%s: member code %s is in the bytes received" % (what, code))


def dead_letter_reason(d, seq):
    rows = [r for r in d.table("dlq", "list") if r["seq"] == seq]
    check_eq(len(rows), 1, "dead letters of seq %d" % seq)
    return rows[0]


def wmo315(ident, member, bsn, nummer="101"):
    a = L.Assignment(bsn=bsn, nummer=nummer)
    return L.wmo315(ident, a, sender=member, receiver=HEERLEN).decode()


@test(timeout=120)
def no_member_code_reaches_a_white_label_financier():
    with start() as d:
        team = party(d, TEAM_HEERLEN)
        refer(team, BSN_A, "schuldhulpverlening")            # 99990007 serves client A
        gem = party(d, HEERLEN, "inbox.0917", "outcomes.0917", "inbox." + TEAM_HEERLEN)
        m7 = party(d, SCHULD, "inbox." + SCHULD)

        # 1. A comment and a processing instruction holding the member's code are stripped.
        xml = wmo315("WLC1", SCHULD, BSN_A)
        xml = xml.replace("<wmo315:Header>", "<wmo315:Header><!-- sent by member %s -->" % SCHULD, 1)
        xml = xml.replace("<wmo315:Client>", "<?agb %s?><wmo315:Client>" % SCHULD, 1)
        xml = xml.replace("?>\n", "?>\n<!-- %s -->\n" % SCHULD, 1)          # before the root element too
        seq = send_xml(m7, SCHULD, xml.encode())
        dv = take(gem, seq)
        check_eq(dv.envelope.sender, COOP, "envelope sender Heerlen sees")
        h = L.header_of(dv.envelope.payload)
        check_eq((h["Afzender"], h["Ontvanger"]), (COOP, HEERLEN), "XML header Heerlen sees")
        check(b"<!--" not in dv.envelope.payload and b"<?agb" not in dv.envelope.payload,
              "a comment or processing instruction reached Heerlen")
        ok, out = L.validate(dv.envelope.payload)
        check(ok, "the rewritten 315 does not validate:", out)

        # 2. Free text: Commentaar and ReferentieAanbieder name the member; the cooperative stands there instead.
        xml = wmo315("WLC2", SCHULD, BSN_A, nummer="102")
        xml = L.set_tag(xml, "Commentaar", "Zorg door %s, zie ook %s" % (SCHULD, MEMBERS[0]))
        xml = L.set_tag(xml, "ReferentieAanbieder", "REF-%s-2" % SCHULD)
        seq = send_xml(m7, SCHULD, xml.encode())
        dv = take(gem, seq)
        text = dv.envelope.payload.decode()
        check("Zorg door %s, zie ook %s" % (COOP, COOP) in text, "Commentaar as Heerlen sees it", text)
        check("REF-%s-2" % COOP in text, "ReferentieAanbieder as Heerlen sees it", text)

        # 3. A member code where the rewrite cannot put the cooperative (a referrer's name): a dead letter with the
        #    reason, not the original.
        xml = wmo315("WLC3", SCHULD, BSN_A, nummer="103")
        xml = xml.replace("Verwijzer Naam", "Huisarts %s" % SCHULD)
        seq = send_xml(m7, SCHULD, xml.encode())
        nothing_for(gem, seq)
        row = dead_letter_reason(d, seq)
        check("white-label rewrite failed" in row["reason"] and "Naam" in row["reason"], "dead letter reason", row)
        check(SCHULD not in row["reason"], "the reason names the code", row)

        # 4. Native: a member code in free text (PlanUpdate.reason, a goal's description) is replaced; one in an
        #    identifier (plan_id) makes the rewrite fail; an opaque JSON payload and an envelope field are caught by
        #    the last check.
        seq = native(m7, SCHULD, plan(reason="overgedragen door %s" % SCHULD,
                                      goals=[dpb.Goal(id="g1", description="begeleid door %s" % SCHULD)]),
                     "PLAN_UPDATE")
        dv = take(gem, seq)
        got = dpb.PlanUpdate()
        got.ParseFromString(dv.envelope.payload)
        check_eq((got.reason, got.goals[0].description), ("overgedragen door " + COOP, "begeleid door " + COOP),
                 "native free text Heerlen sees")
        seq = native(m7, SCHULD, plan(plan_id="P-%s" % SCHULD), "PLAN_UPDATE")
        nothing_for(gem, seq)
        check("white-label rewrite failed" in dead_letter_reason(d, seq)["reason"], "plan_id holding the code")
        f = m7.publish_wait(next(_refs), sender=SCHULD, receiver=HEERLEN, kind="OTHER", message_type="knoop.Note",
                            identificatie="WLJ%d" % next(_refs), client_bsn=BSN_A, content_type="application/json",
                            payload=('{"note": "from %s"}' % SCHULD).encode())
        check_eq(body(f), "accepted", "opaque message")
        nothing_for(gem, f.accepted.seq)
        row = dead_letter_reason(d, f.accepted.seq)
        check("white-label last check" in row["reason"] and "payload" in row["reason"], "opaque payload", row)
        seq = native(m7, SCHULD, plan(), "PLAN_UPDATE", ident="X" + SCHULD)
        nothing_for(gem, seq)
        row = dead_letter_reason(d, seq)
        check("white-label last check" in row["reason"] and "envelope.identificatie" in row["reason"],
              "identificatie holding the code", row)
        dec = d.control("route", "explain", str(seq)).get("decision") or ""
        check(dec.startswith("dead-letter") and "white-label last check" in dec, "route explain", dec)

        # Nothing else arrived, and not one byte Heerlen received holds a member code.
        extra = gem.quiet(0.5)
        check(extra == [], "Heerlen got more:", [(x.stream, x.seq) for x in extra])
        no_member_code(gem, "Heerlen")
        d.stop()


@test(timeout=120)
def dlq_retry_rewrites_like_publishing():
    """A member's 315 about a client it does not serve yet is a dead letter; once a referral made it the client's
    member, `dlq retry` routes it to Heerlen through the same rewrite: the XML's Afzender and free text name the
    cooperative, the comment is gone. A retry that still cannot be rewritten stays a dead letter."""
    with start() as d:
        team = party(d, TEAM_HEERLEN)
        gem = party(d, HEERLEN, "inbox.0917")
        m3 = party(d, WELZIJN, "inbox." + WELZIJN)
        xml = wmo315("WLR1", WELZIJN, BSN_B)
        xml = xml.replace("<wmo315:Client>", "<!-- %s --><wmo315:Client>" % WELZIJN, 1)
        xml = L.set_tag(xml, "Commentaar", "door %s" % WELZIJN)
        seq = send_xml(m3, WELZIJN, xml.encode())
        bad = wmo315("WLR2", WELZIJN, BSN_B, nummer="102").replace("Verwijzer Naam", "Arts %s" % WELZIJN)
        seq_bad = send_xml(m3, WELZIJN, bad.encode())
        for s in (seq, seq_bad):
            nothing_for(gem, s, 0.3)
            reason = dead_letter_reason(d, s)["reason"]
            check("rewrite failed" not in reason and "last check" not in reason, "a routing dead letter first", reason)
        refer(team, BSN_B, "welzijn")                        # now 99990003 serves client B
        rows = {r["seq"]: r for r in d.table("dlq", "list")}
        r = d.control("dlq", "retry", str(rows[seq]["id"]))
        check("routed to inbox.0917" in str(r), "dlq retry result", r)
        deadline = time.monotonic() + 5                      # the move is a journal op: wait for its commit
        while time.monotonic() < deadline and d.query("SELECT seq FROM messages WHERE identificatie = 'WLR1'") == \
                [(seq,)]:
            time.sleep(0.05)
        moved = d.query("SELECT seq FROM messages WHERE identificatie = 'WLR1'")
        check(len(moved) == 1 and moved[0][0] > seq, "the retried message moves to a new seq", moved)
        dv = take(gem, moved[0][0])
        check_eq(dv.envelope.sender, COOP, "envelope sender after dlq retry")
        h = L.header_of(dv.envelope.payload)
        check_eq(h["Afzender"], COOP, "XML Afzender after dlq retry")
        check(("door %s" % COOP).encode() in dv.envelope.payload, "Commentaar after dlq retry")
        try:
            d.control("dlq", "retry", str(rows[seq_bad]["id"]))
            check(False, "the retry of an unrewritable message succeeded")
        except Exception as e:                                # ControlError: the daemon says why
            check("white-label rewrite failed" in str(e), "dlq retry refusal", e)
        check_eq([r["state"] for r in d.table("dlq", "list") if r["seq"] == seq_bad], ["open"], "still a dead letter")
        check(gem.quiet(0.5) == [], "Heerlen got the unrewritable message")
        no_member_code(gem, "Heerlen after dlq retry")
        d.stop()


@test(timeout=60)
def refused_native_values_reach_the_sender_not_the_log():
    """A native outcome report and an iWmo 315 refused for their values: the Rejected reason names field and value
    for the sender; the log line names where only."""
    with start() as d:
        team = party(d, TEAM_HEERLEN)
        refer(team, BSN_A, "schuldhulpverlening")
        m7 = party(d, SCHULD)
        rep = dpb.OutcomeReport(schema_version=1, report_id="R1", level=dpb.CLIENT, period_start="2026-07-01",
                                period_end="2026-09-30",
                                values=[dpb.IndicatorValue(indicator="geheimgeluk", number=3)])
        f = m7.publish_wait(next(_refs), sender=SCHULD, receiver=HEERLEN, kind="OUTCOME_REPORT",
                            message_type="knoop.domain.OutcomeReport", identificatie="WLO1", client_bsn=BSN_A,
                            content_type="application/x-protobuf; knoop.domain.OutcomeReport",
                            payload=rep.SerializeToString())
        check_eq(code_name(f.rejected.code), "INVALID_FIELD", "answer to the bad report")
        check("geheimgeluk" in f.rejected.reason, "the sender is told the value", f.rejected.reason)
        # The same for an iWmo message refused at level 1: the XSD's message repeats the value to the sender only.
        xml = L.set_tag(wmo315("WLX1", SCHULD, BSN_A), "Datum", "Geheimnaam")
        f = m7.publish_wait(next(_refs), sender=SCHULD, content_type="application/xml; iwmo-3.2; WMO315",
                            payload=xml.encode())
        check_eq(code_name(f.rejected.code), "INVALID_FIELD", "answer to the bad 315")
        check("Geheimnaam" in f.rejected.reason, "the sender is told the value", f.rejected.reason)
        time.sleep(0.2)
        d.stop()
        log = d.log()
        check("event=publish.rejected" in log and "OutcomeReport.values[0].indicator" in log,
              "the log names the field", log[-1500:])
        check("geheimgeluk" not in log and "Geheimnaam" not in log, "the log holds a payload value")
        check("XSD validation failed" in log, "the log says where the 315 failed", log[-1500:])


if __name__ == "__main__":
    run()
