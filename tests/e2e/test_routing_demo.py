# test_routing_demo.py — the demo network of deploy/knoopd.yaml (a cooperative, its eight members, one
# subcontractor, two neighbourhood teams and eighteen financiers) routed end to end by the real knoopd over real
# sockets on 127.0.0.1: white-label dispatch (sticky / client's choice / product / least loaded), the reverse map
# that hides the member behind the cooperative, outcome checks against zrm-13, legacy traffic under the member's own
# AGB, co-financing, stream isolation between financiers, change of provider, subcontracting, dead letters,
# `route explain`, the network tables of the control socket and reload.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_routing_demo.py [TEST ...]
import itertools
import os
import subprocess
import time

from harness import (BUILD, REPO, Client, ControlError, Daemon, KnoopError, body, check, check_eq, code_name,
                     envelope, pb, run, test)
import domain_pb2 as dpb  # noqa: E402  (generated next to knoop_pb2; the harness put its directory on sys.path)

# ---- the demo network ----------------------------------------------------------------------------------------

DEMO_YAML = os.path.join(REPO, "deploy", "knoopd.yaml")


def demo_network():
    """The `network:` section of deploy/knoopd.yaml, as text (everything from the line `network:` on)."""
    with open(DEMO_YAML, encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("network:"))
    return "\n".join(lines[start:]) + "\n"


NETWORK = demo_network()

COOP = "99990000"
MEMBERS = ["9999000%d" % i for i in range(1, 9)]          # 99990001 .. 99990008, in the order the demo lists them
SUB = "99990101"                                          # subcontractor of 99990003
SUB_MAIN = "99990003"
TEAM_HEERLEN = "99980001"
TEAM_BRUNSSUM = "99980002"
HEERLEN, BRUNSSUM, SITTARD, KERKRADE = "0917", "0899", "1883", "0928"
CARE_OFFICE, INSURER = "9001", "9002"
FINANCIERS = ["0917", "0899", "1883", "0888", "0971", "0928", "0882", "0965", "0986", "1954", "0935", "0938",
              "0981", "0994", "1729", "1903", "9001", "9002"]
PROVIDER_CODES = MEMBERS + [SUB]                          # codes that must never reach a white-label financier
BSNS = ["999990007", "999990019", "999990020", "999990032", "999990044", "999990056", "999990068", "999990081",
        "999990093", "999990111"]
ZRM13 = ["financien", "werk-opleiding", "tijdsbesteding", "huisvesting", "huiselijke-relaties",
         "geestelijke-gezondheid", "lichamelijke-gezondheid", "middelengebruik", "basale-adl", "instrumentele-adl",
         "sociaal-netwerk", "maatschappelijke-participatie", "justitie"]

_refs = itertools.count(1)


def start_demo(**kw):
    """knoopd with the demo network. Heartbeats are slow and the peer timeout long: a test holds a dozen
    connections of which only the one it is talking to sends heartbeats."""
    return Daemon(network=NETWORK, heartbeat_ms=5000, peer_timeout_ms=120000, **kw)


# ---- clients that keep every byte they receive ----------------------------------------------------------------

class _RecordingSocket:
    """Wraps the DEALER socket of a harness Client and keeps the raw bytes of every ZeroMQ message received."""

    def __init__(self, sock):
        self._sock = sock
        self.raw = []

    def recv(self, *a, **kw):
        data = self._sock.recv(*a, **kw)
        self.raw.append(bytes(data))
        return data

    def __getattr__(self, name):
        return getattr(self._sock, name)


def party(d, code, *streams, credit=1000):
    """A Client for `code` (Hello done) that records raw frames and subscribes to `streams` from the beginning."""
    c = Client(d)
    c.sock = _RecordingSocket(c.sock)
    c.hello(code, "routing-demo")
    c.got = []          # every Deliver received (and acked) through take()/settle()
    for s in streams:
        c.subscribe(s, credit=credit, start=pb.EARLIEST)
    return c


def raw_bytes(c):
    return b"".join(c.sock.raw)


def settle(c, seconds=0.5, stream=None):
    """Deliveries arriving within `seconds`; each is acked and kept in c.got."""
    out = c.quiet(seconds, stream)
    for dv in out:
        c.ack(dv.stream, dv.seq)
    c.got.extend(out)
    return out


def take(c, seq, stream=None, timeout=5.0):
    """Waits for the delivery of `seq` (on `stream` if given); acks and returns it; fails the test otherwise."""
    f = c.expect(lambda f: body(f) == "deliver" and f.deliver.seq == seq and
                 (stream is None or f.deliver.stream == stream), timeout)
    check(f is not None, "%s: no delivery of seq %d%s within %ss" % (c.party, seq, " on " + stream if stream else "",
                                                                      timeout))
    c.ack(f.deliver.stream, f.deliver.seq)
    c.got.append(f.deliver)
    return f.deliver


def find_member(members, seq, timeout=5.0):
    """Which of the member clients ({code: Client}) gets `seq` on its inbox; returns (code, Deliver)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for code, c in members.items():
            f = c.expect(lambda f: body(f) == "deliver" and f.deliver.seq == seq, 0.02)
            if f is not None:
                c.ack(f.deliver.stream, f.deliver.seq)
                c.got.append(f.deliver)
                check_eq(f.deliver.stream, "inbox." + code, "stream of seq %d" % seq)
                return code, f.deliver
    raise AssertionError("seq %d reached no member inbox within %ss" % (seq, timeout))


def members_listening(d, codes=MEMBERS):
    return {m: party(d, m, "inbox." + m) for m in codes}


# ---- native domain messages -------------------------------------------------------------------------------------

def native_env(sender, msg, kind, receiver="", bsn="", ident=None, correlation_id=""):
    name = msg.DESCRIPTOR.full_name                      # "knoop.domain.Referral"
    return envelope(sender=sender, receiver=receiver, kind=kind, message_type=name,
                    identificatie=ident if ident is not None else "RD%07d" % next(_refs),
                    correlation_id=correlation_id, client_bsn=bsn,
                    content_type="application/x-protobuf; " + name, payload=msg.SerializeToString(),
                    created_at_us=int(time.time() * 1e6))


def publish(c, env):
    """Publish and wait; returns the answer Frame (accepted or rejected)."""
    return c.publish_wait(next(_refs), env)


def accepted(c, env):
    f = publish(c, env)
    check(body(f) == "accepted", "%s: wanted Accepted for %s, got" % (c.party, env.message_type), f)
    return f.accepted


def rejected(c, env, code="INVALID_FIELD"):
    f = publish(c, env)
    check(body(f) == "rejected", "%s: wanted Rejected %s for %s, got" % (c.party, code, env.message_type), f)
    check_eq(code_name(f.rejected.code), code, "Rejected code (%s)" % f.rejected.reason)
    return f.rejected


def referral(rid="", product="", preferred=""):
    return dpb.Referral(schema_version=1, referral_id=rid, product=product, need="support at home",
                        urgency=dpb.ROUTINE, preferred_provider=preferred, start_date="2026-12-01",
                        domains=["financien", "huisvesting"])


def plan(action=dpb.CREATED, new_provider="", at_client_request=False, date="2026-12-01", product=""):
    return dpb.PlanUpdate(schema_version=1, plan_id="P%d" % next(_refs), action=action,
                          effective_date=date if action != dpb.CREATED else "", product=product,
                          new_provider=new_provider, at_client_request=at_client_request,
                          reason="client's wish" if new_provider else "",
                          goals=[dpb.Goal(id="g1", description="stable income", domain="financien", target="3")])


def zrm_report(scores=None, level=dpb.CLIENT, **over):
    """An OutcomeReport of ZRM scores; `scores` maps indicator -> number (default: all 13 domains, 1..5)."""
    scores = scores if scores is not None else {name: 1 + i % 5 for i, name in enumerate(ZRM13)}
    r = dpb.OutcomeReport(schema_version=1, report_id="R%d" % next(_refs), level=level, period_start="2026-07-01",
                          period_end="2026-09-30",
                          values=[dpb.IndicatorValue(indicator=k, number=v) for k, v in scores.items()])
    for k, v in over.items():
        setattr(r, k, v)
    return r


def opaque_env(sender, receiver, kind, bsn="", message_type="knoop.Note", payload=b'{"note": "hello"}'):
    return envelope(sender=sender, receiver=receiver, kind=kind, message_type=message_type,
                    identificatie="RD%07d" % next(_refs), client_bsn=bsn, content_type="application/json",
                    payload=payload, created_at_us=int(time.time() * 1e6))


def refer(team, bsn, product="", preferred="", receiver=COOP):
    return accepted(team, native_env(team.party, referral("BT%d" % next(_refs), product, preferred), "REFERRAL",
                                     receiver=receiver, bsn=bsn))


def no_leak(c, codes, what):
    """None of `codes` (ASCII) and no test BSN occurs anywhere in the bytes `c` received."""
    data = raw_bytes(c)
    check(len(data) > 0, "%s received nothing at all" % what)
    for code in codes:
        check(code.encode() not in data, "%s: %s appears in the bytes %s received" % (what, code, c.party))
    for bsn in BSNS:
        check(bsn.encode() not in data, "%s: a BSN appears in the bytes %s received" % (what, c.party))


def explain_seq(d, seq):
    r = d.control("route", "explain", str(seq))
    check_eq(r.get("seq"), seq, "route explain seq")
    return r.get("decision") or ""


def is_dead(decision):
    """The journaled decision of a dead letter ("dead letter: <reason>"; the rule is named "dead-letter")."""
    return decision.startswith("dead letter") or decision.startswith("dead-letter")


def status(d):
    return d.control("status")


# ---- 1. white-label dispatch ------------------------------------------------------------------------------------

@test(timeout=60)
def heerlen_referrals_dispatch_to_members():
    """A Heerlen neighbourhood team refers clients to the cooperative; each lands on exactly one member's inbox:
    product first, then the least loaded (ties: listed first); the client's own choice wins; a second referral or
    a plan update for the same client goes to the same member (sticky), whatever product it names."""
    with start_demo() as d:
        members = members_listening(d)
        team = party(d, TEAM_HEERLEN)
        expected = {}                                      # seq -> member

        a1 = refer(team, BSNS[0], "schuldhulpverlening")   # only 99990007 offers it
        m, dv_a1 = find_member(members, a1.seq)
        check_eq(m, "99990007", "referral naming schuldhulpverlening")
        expected[a1.seq] = m
        check_eq(dv_a1.envelope.sender, TEAM_HEERLEN, "sender a member sees for the team's referral")
        check_eq(dv_a1.envelope.client_bsn, "", "client_bsn delivered")
        check_eq(len(dv_a1.envelope.client_ref), 32, "client_ref length")
        got = dpb.Referral()
        got.ParseFromString(dv_a1.envelope.payload)
        check_eq(got.product, "schuldhulpverlening", "payload delivered unchanged")
        check_eq(dv_a1.envelope.content_type, "application/x-protobuf; knoop.domain.Referral", "content_type")
        check_eq(dv_a1.envelope.message_type, "knoop.domain.Referral", "message_type")

        b1 = refer(team, BSNS[1], "dagbesteding")          # 99990002 and 99990006 offer it; both load 0
        m, _ = find_member(members, b1.seq)
        check(m in ("99990002", "99990006"), "dagbesteding went to %s, which does not offer it" % m)
        check_eq(m, "99990002", "tie between the members offering dagbesteding goes to the one listed first")
        expected[b1.seq] = m

        c1 = refer(team, BSNS[2], "verslavingszorg")       # only 99990008
        m, _ = find_member(members, c1.seq)
        check_eq(m, "99990008", "referral naming verslavingszorg")
        expected[c1.seq] = m

        d1 = refer(team, BSNS[3], receiver="")             # no product, no receiver: least loaded, listed first
        m, _ = find_member(members, d1.seq)
        check_eq(m, "99990001", "no product: the least loaded member (ties to the first listed)")
        expected[d1.seq] = m

        f1 = refer(team, BSNS[5], "schuldhulpverlening", preferred="99990005")   # the client's own choice
        m, _ = find_member(members, f1.seq)
        check_eq(m, "99990005", "preferred_provider (the client's choice) before product")
        expected[f1.seq] = m

        # Sticky: the same clients again, naming products their member does not even offer.
        a2 = refer(team, BSNS[0], "begeleiding")
        m, dv_a2 = find_member(members, a2.seq)
        check_eq(m, "99990007", "second referral of the same client (sticky)")
        check_eq(dv_a2.envelope.client_ref, dv_a1.envelope.client_ref, "same client, same client_ref")
        expected[a2.seq] = m
        b2 = refer(team, BSNS[1], "verslavingszorg", receiver="")
        m, dv_b2 = find_member(members, b2.seq)
        check_eq(m, expected[b1.seq], "second referral of client B (sticky)")
        check(dv_b2.envelope.client_ref != dv_a1.envelope.client_ref, "two clients got the same client_ref")
        expected[b2.seq] = m
        # A plan update from the municipality itself about client A also goes to A's member.
        gem = party(d, HEERLEN)
        p = accepted(gem, native_env(HEERLEN, plan(dpb.CHANGED), "PLAN_UPDATE", receiver=COOP, bsn=BSNS[0]))
        m, _ = find_member(members, p.seq)
        check_eq(m, "99990007", "plan update from 0917 about a client served by 99990007")
        expected[p.seq] = m

        # A stop releases the client but does not forget it: a new referral brings it back to the same member,
        # even naming a product another member offers.
        stop = accepted(team, opaque_env(TEAM_HEERLEN, COOP, "STOP", bsn=BSNS[3]))
        m, _ = find_member(members, stop.seq)
        check_eq(m, expected[d1.seq], "a stop goes to the serving member")
        expected[stop.seq] = m
        back = refer(team, BSNS[3], "schuldhulpverlening")
        m, _ = find_member(members, back.seq)
        check_eq(m, expected[d1.seq], "returning client")
        expected[back.seq] = m
        check("returning client" in explain_seq(d, back.seq), "route explain of a returning client")
        # A message about a client no member serves that is not a referral or assignment opens no dispatch.
        orphan = accepted(team, native_env(TEAM_HEERLEN, plan(dpb.CHANGED), "PLAN_UPDATE", receiver=COOP,
                                           bsn=BSNS[9]))
        check(is_dead(explain_seq(d, orphan.seq)), "a plan update about an unknown client was dispatched")

        # Exactly once, on the expected inbox only: nothing else arrived anywhere.
        for code, c in members.items():
            extra = settle(c, 0.2)
            check(extra == [], "%s got unexpected deliveries: %s" % (code, [(x.stream, x.seq) for x in extra]))
            mine = sorted(x.seq for x in c.got)
            check_eq(mine, sorted(s for s, mm in expected.items() if mm == code), "deliveries on inbox.%s" % code)
            for bsn in BSNS:
                check(bsn.encode() not in raw_bytes(c), "a BSN reached member %s" % code)

        # The journal keeps the choice: route explain names the rule and the member.
        dec = explain_seq(d, a1.seq)
        check("white-label-in" in dec and "99990007" in dec and "schuldhulpverlening" in dec,
              "route explain of the first referral:", dec)
        dec = explain_seq(d, a2.seq)
        check("sticky" in dec and "99990007" in dec, "route explain of the sticky referral:", dec)
        dec = explain_seq(d, d1.seq)
        check("least loaded" in dec and "99990001" in dec, "route explain of the least-loaded referral:", dec)


# ---- 2. back to Heerlen under the cooperative's identity ---------------------------------------------------

def heerlen_with_clients(d, clients):
    """Team refers each (bsn, product); returns ({bsn: member}, {bsn: client_ref}, member clients, team)."""
    members = members_listening(d)
    team = party(d, TEAM_HEERLEN)
    served, refs = {}, {}
    for bsn, product in clients:
        acc = refer(team, bsn, product)
        m, dv = find_member(members, acc.seq)
        served[bsn], refs[bsn] = m, dv.envelope.client_ref
    return served, refs, members, team


@test(timeout=60)
def member_traffic_reaches_heerlen_as_the_cooperative():
    """Plan updates, outcome reports and retours from the members reach Heerlen (its inbox, its outcome stream,
    its team's inbox) with sender 99990000; no member or subcontractor code and no BSN is in any byte Heerlen
    receives; payloads arrive unchanged and client_ref lets Heerlen keep each client's messages together, with a
    reference of its own: not the one the member was shown, so the two cannot link their clients by it."""
    with start_demo() as d:
        served, refs, members, team = heerlen_with_clients(
            d, [(BSNS[0], "schuldhulpverlening"), (BSNS[1], "dagbesteding"), (BSNS[2], "welzijn")])
        check_eq([served[b] for b in BSNS[:3]], ["99990007", "99990002", "99990003"], "dispatch")
        gem = party(d, HEERLEN, "inbox.0917", "outcomes.0917", "inbox." + TEAM_HEERLEN)
        sent = {}                                           # seq -> (stream, bsn, payload)
        for bsn in BSNS[:3]:
            mc = members[served[bsn]]
            m = served[bsn]
            msg = plan(dpb.CREATED)
            a = accepted(mc, native_env(m, msg, "PLAN_UPDATE", receiver=HEERLEN, bsn=bsn))
            sent[a.seq] = ("inbox.0917", bsn, msg.SerializeToString())
            msg = plan(dpb.STARTED)
            a = accepted(mc, native_env(m, msg, "PLAN_UPDATE", receiver="", bsn=bsn))   # by the reverse map
            sent[a.seq] = ("inbox.0917", bsn, msg.SerializeToString())
            msg = zrm_report()
            a = accepted(mc, native_env(m, msg, "OUTCOME_REPORT", receiver=HEERLEN, bsn=bsn))
            sent[a.seq] = ("outcomes.0917", bsn, msg.SerializeToString())
            msg = zrm_report({"financien": 2, "huisvesting": 4, "justitie": 5}, indicator_set="zrm-13",
                             contract="heerlen")
            a = accepted(mc, native_env(m, msg, "OUTCOME_REPORT", receiver="", bsn=bsn))
            sent[a.seq] = ("outcomes.0917", bsn, msg.SerializeToString())
            msg = dpb.Retour(schema_version=1, correlation_id="BT-answer", answered_type="knoop.domain.Referral",
                             status=dpb.ACCEPTED)
            a = accepted(mc, native_env(m, msg, "RETOUR", receiver=TEAM_HEERLEN, bsn=bsn))
            sent[a.seq] = ("inbox." + TEAM_HEERLEN, bsn, msg.SerializeToString())
        heerlen_refs = {}                                   # bsn -> the client_ref Heerlen is shown
        for seq, (stream, bsn, payload) in sorted(sent.items()):
            dv = take(gem, seq, stream)
            check_eq(dv.envelope.sender, COOP, "sender Heerlen sees on %s (seq %d)" % (stream, seq))
            check_eq(dv.envelope.payload, payload, "payload of seq %d" % seq)
            check_eq(len(dv.envelope.client_ref), 32, "client_ref length of seq %d" % seq)
            check_eq(dv.envelope.client_ref, heerlen_refs.setdefault(bsn, dv.envelope.client_ref),
                     "Heerlen's client_ref of seq %d (one per client)" % seq)
            check(dv.envelope.client_ref != refs[bsn], "Heerlen was shown the member's client_ref (seq %d)" % seq)
            check_eq(dv.envelope.client_bsn, "", "client_bsn of seq %d" % seq)
            check(dv.envelope.receiver not in PROVIDER_CODES, "receiver Heerlen sees", dv.envelope.receiver)
        check_eq(len(set(heerlen_refs.values())), 3, "Heerlen's client_refs of three clients")
        extra = settle(gem, 0.5)
        check(extra == [], "Heerlen got more than was sent to it:", [(x.stream, x.seq) for x in extra])
        # A member that does not serve a client cannot speak for it: dead letter, nothing reaches Heerlen.
        a = accepted(members["99990005"], native_env("99990005", plan(dpb.CHANGED), "PLAN_UPDATE",
                                                     receiver=HEERLEN, bsn=BSNS[0]))
        check(is_dead(explain_seq(d, a.seq)), "a non-serving member's plan update was routed")
        check(settle(gem, 0.5) == [], "Heerlen got a non-serving member's plan update")
        # Every byte Heerlen received: no member code, no subcontractor code, no BSN.
        no_leak(gem, PROVIDER_CODES, "Heerlen")
        check(len(gem.got) == len(sent), "Heerlen deliveries", len(gem.got), len(sent))


# ---- 3. outcome reports are checked against the contract's indicator set ---------------------------------

@test(timeout=60)
def outcome_out_of_range_or_unknown_indicator_is_rejected():
    """ZRM scores outside 1..5 and indicators that are not in zrm-13 are Rejected (INVALID_FIELD) with a reason
    naming the indicator and the range or set; nothing of them reaches outcomes.0917; a valid report does."""
    with start_demo() as d:
        served, refs, members, team = heerlen_with_clients(d, [(BSNS[4], "schuldhulpverlening")])
        m = served[BSNS[4]]
        mc = members[m]
        gem = party(d, HEERLEN, "outcomes.0917")
        care = party(d, CARE_OFFICE, "outcomes.9001")
        before = status(d)
        cases = [
            ({"financien": 6}, HEERLEN, ["financien", "6", "1..5"]),
            ({"huisvesting": 0}, "", ["huisvesting", "0", "1..5"]),
            ({"financien": 3, "justitie": 5.5}, HEERLEN, ["justitie", "5.5", "1..5"]),
            ({"financien": -1}, HEERLEN, ["financien", "-1"]),
            ({"geluk": 3}, HEERLEN, ["geluk", "zrm-13"]),
            ({"financien": 3, "synergie": 4}, "", ["synergie", "zrm-13"]),     # a brunssum-7 indicator
        ]
        for scores, receiver, words in cases:
            r = rejected(mc, native_env(m, zrm_report(scores), "OUTCOME_REPORT", receiver=receiver, bsn=BSNS[4]))
            for w in words:
                check(w in r.reason, "reason for %s does not name %r: %s" % (scores, w, r.reason))
            for bsn in BSNS:
                check(bsn not in r.reason, "reason repeats a BSN", r.reason)
        # A flag where a score is due, and an indicator set that is not the contract's.
        bad = zrm_report({})
        bad.values.add(indicator="financien", flag=True)
        r = rejected(mc, native_env(m, bad, "OUTCOME_REPORT", receiver=HEERLEN, bsn=BSNS[4]))
        check("financien" in r.reason, "reason for a flag score", r.reason)
        r = rejected(mc, native_env(m, zrm_report(indicator_set="brunssum-7"), "OUTCOME_REPORT", receiver=HEERLEN,
                                    bsn=BSNS[4]))
        check("brunssum-7" in r.reason, "reason for the wrong indicator set", r.reason)
        after = status(d)
        check_eq(after["rejected"] - before["rejected"], len(cases) + 2, "status rejected count")
        check_eq(after["messages_journaled"], before["messages_journaled"], "rejected reports were journaled")
        # The boundaries 1 and 5 and all 13 domains are fine.
        ok = accepted(mc, native_env(m, zrm_report({n: (1 if i % 2 else 5) for i, n in enumerate(ZRM13)}),
                                     "OUTCOME_REPORT", receiver=HEERLEN, bsn=BSNS[4]))
        got = settle(gem, 1.0)
        check_eq([x.seq for x in got], [ok.seq], "outcomes.0917 holds only the valid report")
        check_eq(got[0].envelope.sender, COOP, "sender of the valid report")
        check_eq([x.seq for x in settle(care, 0.5)], [ok.seq], "outcomes.9001 holds only the valid report")


# ---- 4. legacy: Sittard-Geleen sees the member's own AGB ------------------------------------------------

@test(timeout=60)
def sittard_geleen_legacy_keeps_the_members_own_code():
    """Under the legacy contract 'sittard-geleen' a member talks to 1883 under its own AGB and back: 1883 sees
    99990001, not the cooperative; outcome reports (arrangement-goals) reach outcomes.1883 as the member; a
    member the contract does not list, or 1883 addressing it, ends in dead letters."""
    with start_demo() as d:
        m1 = party(d, "99990001", "inbox.99990001")
        m3 = party(d, "99990003", "inbox.99990003")
        sit = party(d, SITTARD, "inbox.1883", "outcomes.1883")
        # member -> 1883
        a = accepted(m1, opaque_env("99990001", SITTARD, "ANSWER", bsn=BSNS[6], message_type="WMO319"))
        dv = take(sit, a.seq, "inbox.1883")
        check_eq(dv.envelope.sender, "99990001", "sender 1883 sees (legacy: the member's own AGB)")
        check_eq(dv.envelope.receiver, SITTARD, "receiver")
        check_eq(dv.envelope.client_bsn, "", "client_bsn")
        check("legacy" in explain_seq(d, a.seq), "rule for member -> 1883")
        rep = dpb.OutcomeReport(schema_version=1, report_id="S1", level=dpb.CLIENT, period_start="2026-10-01",
                                period_end="2026-10-31",
                                values=[dpb.IndicatorValue(indicator="arrangement", text="hh-basis"),
                                        dpb.IndicatorValue(indicator="goals-set", number=3),
                                        dpb.IndicatorValue(indicator="goals-reached", number=2)])
        o = accepted(m1, native_env("99990001", rep, "OUTCOME_REPORT", receiver=SITTARD, bsn=BSNS[6]))
        dv = take(sit, o.seq, "outcomes.1883")
        check_eq(dv.envelope.sender, "99990001", "sender of a legacy outcome report")
        # 1883 -> member
        b = accepted(sit, opaque_env(SITTARD, "99990001", "ASSIGNMENT", bsn=BSNS[6], message_type="WMO301"))
        dv = take(m1, b.seq, "inbox.99990001")
        check_eq(dv.envelope.sender, SITTARD, "sender the member sees from 1883")
        # 99990003 takes no part in 'sittard-geleen': both directions are dead letters, nothing delivered.
        x = accepted(m3, opaque_env("99990003", SITTARD, "ANSWER", bsn=BSNS[6], message_type="WMO319"))
        y = accepted(sit, opaque_env(SITTARD, "99990003", "ASSIGNMENT", bsn=BSNS[6], message_type="WMO301"))
        for seq in (x.seq, y.seq):
            check(is_dead(explain_seq(d, seq)), "seq %d should be a dead letter" % seq)
        check(settle(sit, 0.5) == [], "1883 got a message from a member outside its contract")
        check(settle(m3, 0.3) == [], "99990003 got 1883's message although the contract does not list it")
        check(settle(m1, 0.3) == [], "99990001 got something extra")
        check(COOP.encode() not in b"".join(dv.envelope.SerializeToString() for dv in sit.got),
              "1883 saw the cooperative's code on legacy traffic")
        check(b"99990001" in raw_bytes(sit), "the recorded bytes of 1883 lack the member code it was sent")


# ---- 5. co-financing ---------------------------------------------------------------------------------------

@test(timeout=60)
def care_office_receives_the_cofinanced_heerlen_outcome():
    """Heerlen's contract is co-financed by the care office 9001: a member's outcome report is journaled once and
    appears on outcomes.0917 and outcomes.9001 with the same seq, as the cooperative; a Brunssum report (not
    co-financed) does not reach 9001; 9001 cannot read Heerlen's inbox."""
    with start_demo() as d:
        served, refs, members, team = heerlen_with_clients(d, [(BSNS[7], "dagbesteding")])
        m = served[BSNS[7]]
        gem = party(d, HEERLEN, "outcomes.0917")
        care = party(d, CARE_OFFICE, "outcomes.9001", "inbox.9001")
        bru = party(d, BRUNSSUM, "outcomes.0899")
        rep = zrm_report()
        o = accepted(members[m], native_env(m, rep, "OUTCOME_REPORT", receiver="", bsn=BSNS[7]))
        dv9 = take(care, o.seq, "outcomes.9001")
        dv0 = take(gem, o.seq, "outcomes.0917")
        check_eq(dv9.envelope.sender, COOP, "sender 9001 sees")
        check_eq(dv9.envelope.payload, rep.SerializeToString(), "payload at 9001")
        check_eq(dv9.envelope.message_id, dv0.envelope.message_id, "one message, two streams")
        # Each party is shown its own reference of the client: 9001, Heerlen and the member cannot link them.
        views = {dv9.envelope.client_ref, dv0.envelope.client_ref, refs[BSNS[7]]}
        check(len(views) == 3 and all(len(r) == 32 for r in views), "client_refs at 9001, 0917 and the member",
              views)
        dec = explain_seq(d, o.seq)
        check("outcome" in dec and "9001" in dec, "route explain of the co-financed report:", dec)
        # A contract-level Brunssum report from the cooperative: outcomes.0899 only.
        coop = party(d, COOP)
        brep = dpb.OutcomeReport(schema_version=1, report_id="B1", level=dpb.CONTRACT, period_start="2026-01-01",
                                 period_end="2026-12-31",
                                 values=[dpb.IndicatorValue(indicator="synergie", number=4),
                                         dpb.IndicatorValue(indicator="vakmanschap", number=4),
                                         dpb.IndicatorValue(indicator="bereik", number=120),
                                         dpb.IndicatorValue(indicator="prijs", number=1830.5),
                                         dpb.IndicatorValue(indicator="klanttevredenheid", number=7.8),
                                         dpb.IndicatorValue(indicator="verantwoordelijkheidsladder", number=3),
                                         dpb.IndicatorValue(indicator="ondersteuning-netwerk", number=64.5)])
        b = accepted(coop, native_env(COOP, brep, "OUTCOME_REPORT", receiver=BRUNSSUM))
        take(bru, b.seq, "outcomes.0899")
        check(settle(care, 0.5) == [], "9001 got more than the co-financed Heerlen report")
        check(settle(gem, 0.3) == [], "0917 got Brunssum's report")
        no_leak(care, PROVIDER_CODES, "care office 9001")
        for stream in ("inbox.0917", "inbox." + TEAM_HEERLEN, "outcomes.0899"):
            try:
                care.subscribe(stream, start=pb.EARLIEST)
                check(False, "9001 may subscribe to %s" % stream)
            except KnoopError as e:
                check_eq(code_name(e.code), "NOT_AUTHORISED", "9001 subscribing to %s" % stream)


# ---- 6. isolation between financiers ---------------------------------------------------------------------

@test(timeout=60)
def kerkrade_cannot_read_heerlen():
    """0928 (Kerkrade) subscribing to Heerlen's streams (or its team's, the care office's, the cooperative's, a
    member's, deadletters) gets Error NOT_AUTHORISED; its own streams receive nothing of Heerlen's traffic."""
    with start_demo() as d:
        kr = party(d, KERKRADE)
        for stream in ("inbox.0917", "outcomes.0917", "inbox." + TEAM_HEERLEN, "outcomes.9001", "inbox.99990000",
                       "inbox.99990007", "deadletters", "alerts"):
            try:
                kr.subscribe(stream, start=pb.EARLIEST)
                check(False, "0928 was allowed to subscribe to %s" % stream)
            except KnoopError as e:
                check_eq(code_name(e.code), "NOT_AUTHORISED", "0928 subscribing to %s (%s)" % (stream, e.reason))
        kr.subscribe("inbox.0928", start=pb.EARLIEST, credit=1000)
        kr.subscribe("outcomes.0928", start=pb.EARLIEST, credit=1000)
        # Heerlen traffic in both directions, by members that also take part in Kerkrade's legacy contract.
        served, refs, members, team = heerlen_with_clients(
            d, [(BSNS[8], "schuldhulpverlening"), (BSNS[9], "welzijn")])
        gem = party(d, HEERLEN, "inbox.0917", "outcomes.0917")
        seqs = []
        for bsn in BSNS[8:10]:
            m = served[bsn]
            seqs.append(accepted(members[m], native_env(m, plan(), "PLAN_UPDATE", receiver=HEERLEN, bsn=bsn)).seq)
            seqs.append(accepted(members[m], native_env(m, zrm_report(), "OUTCOME_REPORT", bsn=bsn)).seq)
        for s in seqs:
            take(gem, s)
        got = settle(kr, 1.0)
        check(got == [], "0928 received Heerlen traffic:", [(x.stream, x.seq) for x in got])
        streams = {r["stream"]: r for r in d.table("streams")}
        for s in ("inbox.0928", "outcomes.0928"):
            check(s not in streams or streams[s]["appended"] == 0, "%s has messages:" % s, streams.get(s))
        # Kerkrade's own legacy traffic still works (and Heerlen sees none of it).
        k = accepted(members["99990003"], opaque_env("99990003", KERKRADE, "ANSWER", bsn=BSNS[9],
                                                     message_type="WMO319"))
        dv = take(kr, k.seq, "inbox.0928")
        check_eq(dv.envelope.sender, "99990003", "legacy sender Kerkrade sees")
        check(settle(gem, 0.5) == [], "Heerlen got Kerkrade's traffic")


# ---- 7. change of provider ------------------------------------------------------------------------------------

@test(timeout=60)
def change_of_provider_moves_the_client():
    """A PlanUpdate PROVIDER_CHANGED at the client's request moves the client: the new and the old member get the
    update (Heerlen does not); from then on Heerlen's messages about the client reach only the new member; the
    old member may still report on its own period (as the cooperative) but cannot move the client back."""
    with start_demo() as d:
        served, refs, members, team = heerlen_with_clients(d, [(BSNS[0], "schuldhulpverlening")])
        old, new = served[BSNS[0]], "99990001"
        check_eq(old, "99990007", "first dispatch")
        gem = party(d, HEERLEN, "inbox.0917", "inbox." + TEAM_HEERLEN, "outcomes.0917")
        # Without at_client_request there is no move: refused with the reason.
        r = rejected(team, native_env(TEAM_HEERLEN, plan(dpb.PROVIDER_CHANGED, new_provider=new), "PLAN_UPDATE",
                                      receiver=COOP, bsn=BSNS[0]))
        check("at_client_request" in r.reason, "reason", r.reason)
        # A move to a party that is not a member taking part is refused too.
        r = rejected(team, native_env(TEAM_HEERLEN, plan(dpb.PROVIDER_CHANGED, new_provider=SUB,
                                                         at_client_request=True), "PLAN_UPDATE", receiver=COOP,
                                      bsn=BSNS[0]))
        check(SUB in r.reason, "reason", r.reason)
        mv = accepted(team, native_env(TEAM_HEERLEN, plan(dpb.PROVIDER_CHANGED, new_provider=new,
                                                          at_client_request=True), "PLAN_UPDATE", receiver=COOP,
                                       bsn=BSNS[0]))
        dv_new = take(members[new], mv.seq, "inbox." + new)
        take(members[old], mv.seq, "inbox." + old)
        check(len(dv_new.envelope.client_ref) == 32 and dv_new.envelope.client_ref != refs[BSNS[0]],
              "the new member is shown the old member's client_ref", dv_new.envelope.client_ref)
        dec = explain_seq(d, mv.seq)
        check("change-of-provider" in dec and old in dec and new in dec, "route explain of the move:", dec)
        # The next referral and plan update about the client reach only the new member (a product the old member
        # offers and the new one does not, to be sure it is the move and not the product).
        n1 = refer(team, BSNS[0], "schuldhulpverlening")
        n2 = accepted(team, native_env(TEAM_HEERLEN, plan(dpb.CHANGED), "PLAN_UPDATE", receiver="", bsn=BSNS[0]))
        n3 = accepted(gem, native_env(HEERLEN, plan(dpb.STARTED), "PLAN_UPDATE", receiver=COOP, bsn=BSNS[0]))
        for s in (n1.seq, n2.seq, n3.seq):
            m, _ = find_member(members, s)
            check_eq(m, new, "member receiving seq %d after the move" % s)
        # The old member can still send about its own period: Heerlen sees the cooperative.
        o = accepted(members[old], native_env(old, zrm_report(), "OUTCOME_REPORT", receiver=HEERLEN, bsn=BSNS[0]))
        dv = take(gem, o.seq, "outcomes.0917")
        check_eq(dv.envelope.sender, COOP, "sender of the old member's final report")
        # ... but cannot take the client back: a dead letter, the new member keeps the client.
        back = accepted(members[old], native_env(old, plan(dpb.PROVIDER_CHANGED, new_provider=old,
                                                           at_client_request=True), "PLAN_UPDATE", receiver=COOP,
                                                 bsn=BSNS[0]))
        check(is_dead(explain_seq(d, back.seq)), "the old member moved the client back")
        n4 = refer(team, BSNS[0])
        m, _ = find_member(members, n4.seq)
        check_eq(m, new, "after the refused move back")
        # The serving member passes on the client's next wish: the client moves on to 99990005.
        mv2 = accepted(members[new], native_env(new, plan(dpb.PROVIDER_CHANGED, new_provider="99990005",
                                                          at_client_request=True), "PLAN_UPDATE", bsn=BSNS[0]))
        take(members["99990005"], mv2.seq, "inbox.99990005")
        n5 = refer(team, BSNS[0])
        m, _ = find_member(members, n5.seq)
        check_eq(m, "99990005", "after the member-initiated move")
        # Nothing else anywhere: the old member got the move and nothing after it; Heerlen learned nothing of it.
        for code, c in members.items():
            extra = settle(c, 0.2)
            check(extra == [], "%s got unexpected deliveries: %s" % (code, [(x.stream, x.seq) for x in extra]))
        check_eq(sorted(x.seq for x in members[old].got if x.seq > mv.seq), [], "old member after the move")
        got = settle(gem, 0.3)
        check(got == [], "Heerlen got a move or a member's message:", [(x.stream, x.seq) for x in got])
        check_eq([x.seq for x in gem.got], [o.seq], "what Heerlen received")
        no_leak(gem, PROVIDER_CODES, "Heerlen")


# ---- 8. subcontracting ----------------------------------------------------------------------------------------

@test(timeout=60)
def subcontractor_sees_only_clients_passed_to_it():
    """99990101 works for 99990003. It receives a client's messages only after 99990003 passed that client to it
    (by sending it a message about the client), until 99990003 stops; it may send only to its main contractor and
    only about passed clients; the main contractor may read its inbox, not the other way round."""
    with start_demo() as d:
        served, refs, members, team = heerlen_with_clients(d, [(BSNS[0], "welzijn"),
                                                              (BSNS[1], "mantelzorgondersteuning")])
        P, Q = BSNS[0], BSNS[1]
        check_eq([served[P], served[Q]], [SUB_MAIN, SUB_MAIN], "both clients at the main contractor")
        main = members[SUB_MAIN]
        sub = party(d, SUB, "inbox." + SUB)
        gem = party(d, HEERLEN, "inbox.0917")
        # Access: the subcontractor cannot read its main contractor's inbox; the main contractor may read the sub's.
        try:
            sub.subscribe("inbox." + SUB_MAIN, start=pb.EARLIEST)
            check(False, "the subcontractor may read its main contractor's inbox")
        except KnoopError as e:
            check_eq(code_name(e.code), "NOT_AUTHORISED", "subcontractor subscribing to inbox.%s" % SUB_MAIN)
        watcher = party(d, SUB_MAIN, "inbox." + SUB)
        # Before any pass: Heerlen's messages about P reach the main contractor only.
        pre = accepted(team, native_env(TEAM_HEERLEN, plan(dpb.CHANGED), "PLAN_UPDATE", receiver=COOP, bsn=P))
        take(main, pre.seq, "inbox." + SUB_MAIN)
        check(settle(sub, 0.5) == [], "subcontractor got a message before the client was passed")
        # A subcontractor's message about a client not passed to it: dead letter.
        q0 = accepted(sub, opaque_env(SUB, SUB_MAIN, "OTHER", bsn=P))
        check(is_dead(explain_seq(d, q0.seq)), "sub about a not-yet-passed client")
        # The pass.
        ps = accepted(main, native_env(SUB_MAIN, plan(dpb.CREATED), "PLAN_UPDATE", receiver=SUB, bsn=P))
        dv = take(sub, ps.seq, "inbox." + SUB)
        check_eq(dv.envelope.sender, SUB_MAIN, "sender of the pass")
        sub_ref = dv.envelope.client_ref            # the subcontractor's own reference of P
        check(len(sub_ref) == 32 and sub_ref != refs[P], "the subcontractor is shown its main contractor's client_ref")
        take(watcher, ps.seq, "inbox." + SUB)
        check("subcontract-pass" in explain_seq(d, ps.seq), "rule of the pass")
        # Now Heerlen's messages about P reach both; those about Q only the main contractor.
        p1 = accepted(team, native_env(TEAM_HEERLEN, plan(dpb.CHANGED), "PLAN_UPDATE", receiver=COOP, bsn=P))
        q1 = accepted(team, native_env(TEAM_HEERLEN, plan(dpb.CHANGED), "PLAN_UPDATE", receiver=COOP, bsn=Q))
        q2 = refer(team, Q, "welzijn")
        take(main, p1.seq)
        take(main, q1.seq)
        take(main, q2.seq)
        dv = take(sub, p1.seq, "inbox." + SUB)
        check_eq(dv.envelope.sender, TEAM_HEERLEN, "sender of Heerlen's message at the subcontractor")
        # The subcontractor answers about P (to its main contractor), not about Q, and never to Heerlen.
        up = accepted(sub, opaque_env(SUB, SUB_MAIN, "OTHER", bsn=P))
        dv = take(main, up.seq, "inbox." + SUB_MAIN)
        check_eq(dv.envelope.sender, SUB, "sender the main contractor sees")
        up2 = accepted(sub, opaque_env(SUB, "", "OTHER", bsn=P))            # no receiver: to the main contractor
        take(main, up2.seq, "inbox." + SUB_MAIN)
        bad_q = accepted(sub, opaque_env(SUB, SUB_MAIN, "OTHER", bsn=Q))
        bad_f = accepted(sub, opaque_env(SUB, HEERLEN, "OTHER", bsn=P))
        for seq in (bad_q.seq, bad_f.seq):
            check(is_dead(explain_seq(d, seq)), "seq %d from the subcontractor should be a dead letter" % seq)
        # Another member cannot pass a client to someone else's subcontractor.
        other = accepted(members["99990007"], opaque_env("99990007", SUB, "OTHER", bsn=P))
        check(is_dead(explain_seq(d, other.seq)), "99990007 reached 99990003's subcontractor")
        # The main contractor stops the subcontractor's part; later messages about P stay with it.
        st = accepted(main, opaque_env(SUB_MAIN, SUB, "STOP", bsn=P))
        take(sub, st.seq, "inbox." + SUB)
        p2 = accepted(team, native_env(TEAM_HEERLEN, plan(dpb.CHANGED), "PLAN_UPDATE", receiver=COOP, bsn=P))
        take(main, p2.seq)
        got = settle(sub, 0.7)
        check(got == [], "subcontractor got messages after the stop or about Q:", [(x.stream, x.seq) for x in got])
        check_eq(sorted(x.seq for x in sub.got), sorted([ps.seq, p1.seq, st.seq]), "what the subcontractor got")
        for x in sub.got:
            check_eq(x.envelope.client_ref, sub_ref, "client of seq %d at the subcontractor" % x.seq)
        check(refs[Q] not in raw_bytes(sub), "client Q's reference reached the subcontractor")
        check(refs[P] not in raw_bytes(sub), "the main contractor's reference of P reached the subcontractor")
        extra = settle(main, 0.3)
        check(extra == [], "main contractor got extra:", [(x.stream, x.seq) for x in extra])
        check(settle(gem, 0.3) == [], "Heerlen got subcontractor traffic")


# ---- 9. dead letters and route explain ------------------------------------------------------------------

@test(timeout=60)
def unroutable_messages_become_dead_letters():
    """A message no rule routes is Accepted (never dropped), journaled, appended to `deadletters` with its reason,
    counted in status.dead_lettered, and survives a restart; route explain shows the reason; parties cannot read
    deadletters. For a dispatched referral, route explain names the rule and the chosen member, and the dry run
    (--from/--to/--kind/--bsn) gives the same member."""
    with start_demo() as d:
        gem = party(d, HEERLEN, "inbox.0917")
        kr = party(d, KERKRADE, "inbox.0928")
        m4 = party(d, "99990004", "inbox.99990004")
        m2 = party(d, "99990002", "inbox.99990002")
        before = status(d)
        dl = []
        dl.append(accepted(gem, opaque_env(HEERLEN, KERKRADE, "OTHER")))                       # financier -> financier
        dl.append(accepted(m4, native_env("99990004", plan(dpb.CHANGED), "PLAN_UPDATE", receiver=HEERLEN,
                                          bsn=BSNS[3])))                                       # nobody serves it
        dl.append(accepted(kr, opaque_env(KERKRADE, "99990002", "ASSIGNMENT", bsn=BSNS[3])))   # not in 'kerkrade'
        dl.append(accepted(gem, opaque_env(HEERLEN, "99990002", "REFERRAL", bsn=BSNS[3])))     # member of a WL coop
        dl.append(accepted(gem, opaque_env(HEERLEN, SUB, "REFERRAL", bsn=BSNS[3])))            # a subcontractor
        words = [KERKRADE, "does not serve", "99990002", COOP, SUB_MAIN]
        after = status(d)
        check_eq(after["dead_lettered"] - before["dead_lettered"], len(dl), "status dead_lettered")
        check_eq(after["messages_journaled"] - before["messages_journaled"], len(dl), "journaled")
        streams = {r["stream"]: r for r in d.table("streams")}
        check("deadletters" in streams, "no deadletters stream in `streams`", sorted(streams))
        check_eq(streams["deadletters"]["last_seq"], dl[-1].seq, "deadletters last_seq")
        check_eq(streams["deadletters"]["appended"], len(dl), "deadletters appended")
        for a, w in zip(dl, words):
            dec = explain_seq(d, a.seq)
            check(is_dead(dec) and w in dec, "route explain of dead letter %d:" % a.seq, dec)
        rows = dict(d.query("SELECT seq, reason FROM dead_letters WHERE source = 'routing'"))
        for a, w in zip(dl, words):
            check(a.seq in rows and w in rows[a.seq], "dead_letters row for seq %d:" % a.seq, rows.get(a.seq))
        in_stream = {s for (s,) in d.query("SELECT e.seq FROM stream_entries e JOIN streams s ON s.id = e.stream_id "
                                           "WHERE s.name = 'deadletters'")}
        check_eq(in_stream, {a.seq for a in dl}, "deadletters stream entries")
        for c in (gem, kr, m4, m2):
            got = settle(c, 0.3)
            check(got == [], "%s received a dead letter:" % c.party, [(x.stream, x.seq) for x in got])
            try:
                c.subscribe("deadletters", start=pb.EARLIEST)
                check(False, "%s may read deadletters" % c.party)
            except KnoopError as e:
                check_eq(code_name(e.code), "NOT_AUTHORISED", "%s subscribing to deadletters" % c.party)
        # A dispatched referral: the journaled decision and the dry run agree.
        team = party(d, TEAM_HEERLEN)
        m7 = party(d, "99990007", "inbox.99990007")
        r = refer(team, BSNS[2], "schuldhulpverlening")
        take(m7, r.seq, "inbox.99990007")
        dec = explain_seq(d, r.seq)
        check(dec.startswith("white-label-in") and "99990007" in dec and "heerlen" in dec,
              "route explain of a dispatched referral:", dec)
        dry = d.control("route", "explain", "--from", TEAM_HEERLEN, "--to", COOP, "--kind", "1", "--bsn", BSNS[2])
        check_eq(dry.get("rule"), "white-label-in", "dry-run rule")
        check_eq(dry.get("member"), "99990007", "dry-run member")
        check_eq(dry.get("contract"), "heerlen", "dry-run contract")
        check_eq(dry.get("streams"), ["inbox.99990007"], "dry-run streams")
        dry = d.control("route", "explain", "--from", HEERLEN, "--to", KERKRADE, "--kind", "14")
        check(dry.get("dead_letter") is True and dry.get("streams") == ["deadletters"], "dry run of a dead letter",
              dry)
        try:
            d.control("route", "explain", "999999")
            check(False, "route explain of an unknown seq succeeded")
        except ControlError as e:
            check("999999" in str(e), "error for an unknown seq", str(e))
        # Dead letters survive a restart (they are in the journal, not in memory).
        Client.close_all()
        d.restart()
        for a, w in zip(dl, words):
            check(w in explain_seq(d, a.seq), "after restart: route explain of %d" % a.seq)
        streams = {r["stream"]: r for r in d.table("streams")}
        check_eq(streams.get("deadletters", {}).get("last_seq"), dl[-1].seq, "deadletters after restart")


# ---- 10. the network tables of the control socket --------------------------------------------------------------

@test(timeout=60)
def control_tables_show_the_demo_network():
    """`parties`, `contracts` and `streams` answer tables: the demo's 18 financiers, the cooperative, 8 members, the
    subcontractor and 2 teams; 18 contracts (2 white-label) with their dimensions; streams with last seqs. The
    knoopctl binary prints the same."""
    with start_demo() as d:
        parties = d.table("parties")
        by_code = {p["code"]: p for p in parties}
        check_eq(len(parties), 30, "number of parties")
        fin_kinds = {"gemeente", "zorgkantoor", "zorgverzekeraar"}
        check_eq(sorted(p["code"] for p in parties if p["kind"] in fin_kinds), sorted(FINANCIERS), "financiers")
        check_eq(by_code[HEERLEN]["name"], "Heerlen", "0917's name")
        check_eq(by_code[CARE_OFFICE]["kind"], "zorgkantoor", "9001's kind")
        check_eq(by_code[INSURER]["kind"], "zorgverzekeraar", "9002's kind")
        check_eq(by_code[COOP]["kind"], "cooperative", "cooperative")
        check_eq(sorted(p["code"] for p in parties if p["kind"] == "member"), MEMBERS, "members")
        for m in MEMBERS:
            check(COOP in by_code[m]["relation"], "relation of %s" % m, by_code[m])
        check_eq(by_code[SUB]["kind"], "subcontractor", "99990101's kind")
        check(SUB_MAIN in by_code[SUB]["relation"], "relation of the subcontractor", by_code[SUB])
        check(HEERLEN in by_code[TEAM_HEERLEN]["relation"], "relation of Heerlen's team", by_code[TEAM_HEERLEN])
        check(BRUNSSUM in by_code[TEAM_BRUNSSUM]["relation"], "relation of Brunssum's team", by_code[TEAM_BRUNSSUM])
        check("schuldhulpverlening" in by_code["99990007"]["products"], "products of 99990007", by_code["99990007"])
        check_eq(by_code[COOP]["contracts"], 18, "contracts of the cooperative")
        check_eq(by_code[HEERLEN]["contracts"], 1, "contracts of Heerlen")

        contracts = d.table("contracts")
        by_name = {c["contract"]: c for c in contracts}
        check_eq(len(contracts), 18, "number of contracts")
        check_eq(sorted(c["financier"] for c in contracts), sorted(FINANCIERS), "one contract per financier")
        check(all(c["provider"] == COOP for c in contracts), "every contract is with the cooperative")
        check_eq(sorted(c["contract"] for c in contracts if c["identity"] == "white-label"), ["brunssum", "heerlen"],
                 "white-label contracts")
        h = by_name["heerlen"]
        check_eq((h["financier"], h["financing"], h["protocol"], h["outcomes"], h["cadence"], h["co-financiers"]),
                 (HEERLEN, "taakgericht", "native", "zrm-13", "quarterly", CARE_OFFICE), "heerlen row")
        s = by_name["sittard-geleen"]
        check_eq((s["financier"], s["identity"], s["financing"], s["protocol"], s["outcomes"]),
                 (SITTARD, "legacy", "outputgericht", "iwmo-3.2", "arrangement-goals"), "sittard-geleen row")
        check_eq((by_name["kerkrade"]["identity"], by_name["kerkrade"]["outcomes"]), ("legacy", "none"),
                 "kerkrade row")

        # Streams after a little traffic: a dispatched referral and a co-financed report.
        team = party(d, TEAM_HEERLEN)
        m7 = party(d, "99990007", "inbox.99990007")
        r = refer(team, BSNS[0], "schuldhulpverlening")
        take(m7, r.seq)
        o = accepted(m7, native_env("99990007", zrm_report(), "OUTCOME_REPORT", bsn=BSNS[0]))
        rows = {x["stream"]: x for x in d.table("streams")}
        check_eq(rows["inbox.99990007"]["last_seq"], r.seq, "inbox.99990007 last_seq")
        for s in ("outcomes.0917", "outcomes.9001"):
            check_eq(rows[s]["last_seq"], o.seq, "%s last_seq" % s)
            check_eq(rows[s]["appended"], 1, "%s appended" % s)
        check("inbox.99990000" not in rows or rows["inbox.99990000"]["appended"] == 0,
              "the cooperative's inbox got a dispatched referral", rows.get("inbox.99990000"))

        # The knoopctl binary: text tables, exit 0.
        knoopctl = os.path.join(BUILD, "knoopctl")
        for cmd, words in (("parties", ["Heerlen", "99990101", "99980002"]),
                           ("contracts", ["heerlen", "eijsden-margraten", "white-label", "zrm-13"]),
                           ("streams", ["inbox.99990007", "outcomes.9001"])):
            p = subprocess.run([knoopctl, "-s", d.socket_path, cmd], capture_output=True, timeout=10)
            check_eq(p.returncode, 0, "knoopctl %s exit code (%s)" % (cmd, p.stderr.decode(errors="replace")))
            out = p.stdout.decode()
            for w in words:
                check(w in out, "knoopctl %s does not show %s:" % (cmd, w), out[:1500])


# ---- 11. reload ------------------------------------------------------------------------------------------------

@test(timeout=60)
def reload_keeps_routing_and_refuses_a_broken_file():
    """`reload` with the same file succeeds and keeps the sticky map; a valid change takes effect; a broken file
    makes reload fail with the reason while the daemon keeps routing with the running configuration."""
    with start_demo() as d:
        members = members_listening(d)
        team = party(d, TEAM_HEERLEN)
        a = refer(team, BSNS[0], "schuldhulpverlening")
        check_eq(find_member(members, a.seq)[0], "99990007", "before reload")
        with open(d.config_path, encoding="utf-8") as f:
            good = f.read()

        r = d.control("reload")
        check("reloaded" in r.get("result", ""), "reload answer", r)
        a2 = refer(team, BSNS[0], "begeleiding")
        check_eq(find_member(members, a2.seq)[0], "99990007", "sticky client after reload")
        b = refer(team, BSNS[1], "verslavingszorg")
        check_eq(find_member(members, b.seq)[0], "99990008", "new client after reload")

        # Broken files: an unknown member in a contract, a YAML syntax error, an unknown enumeration value.
        broken = [
            (good.replace('members: ["99990001", "99990003", "99990005", "99990006", "99990007"]',
                          'members: ["99990001", "99990003", "99990005", "99990006", "41000009"]', 1),
             ["41000009"]),
            (good.replace("    - name: heerlen\n", "    - name: heerlen\n      : [\n", 1), []),
            (good.replace("identity: white-label", "identity: whitelabel", 1), ["whitelabel"]),
        ]
        for text, words in broken:
            check(text != good, "the broken variant did not change the file")
            with open(d.config_path, "w", encoding="utf-8") as f:
                f.write(text)
            try:
                d.control("reload")
                check(False, "reload of a broken file succeeded")
            except ControlError as e:
                msg = str(e)
                check("kept" in msg or "keep" in msg, "reload failure does not say the running config is kept:", msg)
                for w in words:
                    check(w in msg, "reload failure does not name %s:" % w, msg)
            check(d.running(), "knoopd died on a broken reload")
            c = refer(team, BSNS[2], "schuldhulpverlening")      # the old config: heerlen dispatches to 99990007
            check_eq(find_member(members, c.seq)[0], "99990007", "routing after a failed reload")
            check("white-label-in" in explain_seq(d, c.seq), "rule after a failed reload")
        check_eq(len(d.table("contracts")), 18, "contracts after failed reloads")

        # A valid change takes effect: Heerlen's contract without 99990007, so schuldhulpverlening has no offerer.
        changed = good.replace("      co_financiers: [\"9001\"]",
                               "      members: [\"99990001\", \"99990002\", \"99990003\"]\n"
                               "      co_financiers: [\"9001\"]", 1)
        check(changed != good, "could not edit the heerlen contract")
        with open(d.config_path, "w", encoding="utf-8") as f:
            f.write(changed)
        d.control("reload")
        e = refer(team, BSNS[3], "schuldhulpverlening")
        m, _ = find_member(members, e.seq)
        check(m in ("99990001", "99990002", "99990003"), "after the change, dispatch went to %s" % m)
        # Back to the shipped file.
        with open(d.config_path, "w", encoding="utf-8") as f:
            f.write(good)
        d.control("reload")
        for code, cl in members.items():
            extra = settle(cl, 0.2)
            check(extra == [], "%s got unexpected deliveries: %s" % (code, [(x.stream, x.seq) for x in extra]))
        d.stop()


@test(timeout=60)
def reload_of_an_empty_file_keeps_the_network():
    """An empty (truncated) configuration file is a broken file: reload must refuse it and keep the running
    network. Swapping it in would drop the whole network: routing by receiver only, so a member's message to
    Heerlen would arrive under the member's own AGB, and the sticky map would be lost for the next good reload."""
    with start_demo() as d:
        members = members_listening(d, ["99990007"])
        team = party(d, TEAM_HEERLEN)
        gem = party(d, HEERLEN, "inbox.0917")
        a = refer(team, BSNS[0], "schuldhulpverlening")
        take(members["99990007"], a.seq, "inbox.99990007")
        with open(d.config_path, encoding="utf-8") as f:
            good = f.read()
        problems = []
        for text in ("", "# the file was cut off here\n"):
            with open(d.config_path, "w", encoding="utf-8") as f:
                f.write(text)
            r = d.control_raw("reload")
            if r.get("ok"):
                problems.append("reload of %r succeeded: %s" % (text, r.get("result")))
            r = d.control_raw("parties")
            if not r.get("ok") or len(r["result"]["rows"]) != 30:
                problems.append("after reloading %r, `parties` answers %s" % (text, r.get("error") or
                                                                              len(r["result"]["rows"])))
        # The member's message to Heerlen must still leave as the cooperative.
        pu = accepted(members["99990007"], native_env("99990007", plan(), "PLAN_UPDATE", receiver=HEERLEN,
                                                      bsn=BSNS[0]))
        dv = take(gem, pu.seq, "inbox.0917")
        if dv.envelope.sender != COOP:
            problems.append("after the empty reload Heerlen sees sender %s" % dv.envelope.sender)
        # The good file again: the client is still served by its member (sticky map kept).
        with open(d.config_path, "w", encoding="utf-8") as f:
            f.write(good)
        d.control("reload")
        a2 = refer(team, BSNS[0], "begeleiding")
        dec = explain_seq(d, a2.seq)
        if "99990007" not in dec or "sticky" not in dec:
            problems.append("after reloading the good file again the client was dispatched anew: %s" % dec)
        check(not problems, " | ".join(problems))


@test(timeout=60)
def white_label_identificatie_stays_unique_as_the_cooperative():
    """Heerlen sees every member as 99990000, so (sender, message_type, identificatie) must stay unique as Heerlen
    sees it (DESIGN section 1: Identificatie unique per message type per sender; retour 9056 on reuse). Two
    members that happen to use the same identificatie towards Heerlen must not give Heerlen two different
    messages from 99990000 with one Identificatie: the second is refused (or knoopd makes them distinct)."""
    with start_demo() as d:
        served, refs, members, team = heerlen_with_clients(
            d, [(BSNS[0], "schuldhulpverlening"), (BSNS[1], "verslavingszorg")])
        gem = party(d, HEERLEN, "inbox.0917")
        first = accepted(members[served[BSNS[0]]], native_env(served[BSNS[0]], plan(), "PLAN_UPDATE",
                                                              receiver=HEERLEN, bsn=BSNS[0], ident="PU-0001"))
        second = publish(members[served[BSNS[1]]], native_env(served[BSNS[1]], plan(), "PLAN_UPDATE",
                                                              receiver=HEERLEN, bsn=BSNS[1], ident="PU-0001"))
        if body(second) == "accepted":
            check(second.accepted.duplicate is False or second.accepted.seq != first.seq,
                  "a member's message was taken for another member's duplicate", second)
        got = settle(gem, 1.0)
        seen = {}
        for x in got:
            key = (x.envelope.sender, x.envelope.message_type, x.envelope.identificatie)
            check(key not in seen, "Heerlen received two different messages (seq %d and %d) with the same sender, "
                  "message_type and identificatie %s" % (seen.get(key, 0), x.seq, key))
            seen[key] = x.seq
        check(first.seq in [x.seq for x in got], "Heerlen did not get the first member's message")
        no_leak(gem, PROVIDER_CODES, "Heerlen")


if __name__ == "__main__":
    run()
