# test_finance.py — what the financiers pay for, end to end (docs/finance.md): the contract's scope and financing model
# enforced at ingest, the budget ledger fed by the messages, the signals each financier alone reads (band, overdue
# report), the period reports, `knoopctl report` in JSON, CSV and HTML, and all of it across restarts.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_finance.py [TEST ...]
"""How a period gets into the past without a test hook in knoopd: the finance job counts a contract's calendar from
the day knoopd first saw the contract (table finance_contracts, written about a second after start-up). A test lets
knoopd see the contract, stops it (SIGTERM), moves that day back in knoop.db to the first day of a past period, and
starts knoopd again: that period is now one knoopd brokered, and the job reports on it (and signals what is due) within
a run or two (deadline_check_interval_ms: 200 here)."""
import csv
import datetime
import io
import json
import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET

from harness import (BUILD, REPO, Client, Daemon, KnoopError, body, check, check_eq, code_name, envelope, pb, run,
                     test)
import domain_pb2 as dpb  # noqa: E402  (generated next to knoop_pb2)
import legacy_messages as L

KNOOPCTL = os.path.join(BUILD, "knoopctl")
CHECK_MS = 200
EPOCH = datetime.date(1970, 1, 1)
DEMO = L.demo_network()


def network_of(path):
    with open(os.path.join(REPO, "deploy", "networks", path), encoding="utf-8") as f:
        text = f.read()
    return text[text.index("\nnetwork:") + 1:]


GOEREE = network_of("goeree.yaml")
ALPHEN = network_of("alphen.yaml")


def start(network, **kw):
    return Daemon(network=network, settings={"deadline_check_interval_ms": CHECK_MS}, heartbeat_ms=1000,
                  peer_timeout_ms=120000, **kw)


def day_number(d):
    return (d - EPOCH).days


def date_of(n):
    return EPOCH + datetime.timedelta(days=n)


def four_weekly(d, anchor=datetime.date(2025, 1, 6)):
    """The 4-weekly period (first, last day) holding d, counted from the contract period's start."""
    k = (d - anchor).days // 28
    first = anchor + datetime.timedelta(days=28 * k)
    return first, first + datetime.timedelta(days=27)


def quarter(d):
    first = datetime.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    nxt = datetime.date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, nxt - datetime.timedelta(days=1)


def bsns(n, start=999900000):
    """n distinct BSNs in the test range that pass the 11-test."""
    out, x = [], start
    while len(out) < n:
        s = "%09d" % x
        if (sum(int(s[i]) * (9 - i) for i in range(8)) - int(s[8])) % 11 == 0:
            out.append(s)
        x += 1
    return out


_refs = iter(range(1, 10 ** 9))


def native(sender, msg, kind, receiver="", bsn=""):
    name = msg.DESCRIPTOR.full_name
    return envelope(sender=sender, receiver=receiver, kind=kind, message_type=name,
                    identificatie="FN%07d" % next(_refs), client_bsn=bsn,
                    content_type="application/x-protobuf; " + name, payload=msg.SerializeToString(),
                    created_at_us=int(time.time() * 1e6))


def party(d, code, *streams):
    c = Client(d)
    c.hello(code, "finance")
    for s in streams:
        c.subscribe(s, credit=1000, start=pb.EARLIEST)
    return c


def refused(c, env, *words):
    f = c.publish_wait(next(_refs), env)
    check(body(f) == "rejected", "%s: wanted Rejected for %s, got" % (c.party, env.message_type), f)
    check_eq(code_name(f.rejected.code), "INVALID_FIELD", "Rejected code (%s)" % f.rejected.reason)
    for w in words:
        check(w in f.rejected.reason, "reason does not name %r: %s" % (w, f.rejected.reason))
    return f.rejected


def accepted(c, env):
    f = c.publish_wait(next(_refs), env)
    check(body(f) == "accepted", "%s: wanted Accepted for %s, got" % (c.party, env.message_type), f)
    return f.accepted


def xml_env(sender, payload):
    msg_type = re.search(rb"/(wmo\d{3})/schema", payload).group(1).decode().upper()
    return envelope(sender=sender, content_type="application/xml; iwmo-3.2; %s" % msg_type, payload=payload)


def wait_for(what, fn, timeout=15, d=None):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            check(False, "waited %ss for %s; log: %s" % (timeout, what, d.log()[-1500:] if d else ""))
        time.sleep(0.05)


def seen(d, *contracts):
    """knoopd has seen each contract (its calendar counts from today)."""
    wait_for("finance_contracts rows of %s" % (contracts,), lambda: all(
        d.query("SELECT 1 FROM finance_contracts WHERE contract = ?", c) for c in contracts), d=d)


def move_since_back(d, first_day, *contracts):
    """Stops knoopd, makes each contract seen since first_day, starts it again."""
    d.stop()
    con = d.db()
    try:
        for c in contracts:
            con.execute("UPDATE finance_contracts SET since_day = ? WHERE contract = ?", (day_number(first_day), c))
        con.commit()
    finally:
        con.close()
    d.start()


def signals(d, kind=None, contract=None):
    rows = [r for r in d.table("alerts", "10000")]
    out = []
    for r in rows:
        if kind and r["type"] != kind:
            continue
        if contract and "contract '%s'" % contract not in r["text"]:
            continue
        out.append(r)
    return out


def settle_runs(d, runs=4):
    """Lets the finance job run a few times (it runs every CHECK_MS)."""
    time.sleep(runs * CHECK_MS / 1000.0 + 0.3)


def ctl(d, *argv):
    r = subprocess.run([KNOOPCTL, "-s", d.socket_path] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    check_eq(r.returncode, 0, "knoopctl %s (stderr %r)" % (" ".join(argv), r.stderr))
    return r.stdout.decode("utf-8")


# ---- 1. the contract's scope and financing model at ingest -------------------------------------------------------

@test(timeout=60)
def heerlen_refuses_household_help_taxi_and_aids():
    """Heerlen's contract leaves household help, taxi and aids out: a referral naming one is Rejected naming the
    product and the contract, and no member receives it; a product within the scope is dispatched."""
    with start(DEMO) as d:
        team = party(d, "99980001")
        members = {m: party(d, m, "inbox." + m) for m in ("99990001", "99990005", "99990007")}
        for product in ("huishoudelijke-hulp", "wmo-vervoer", "hulpmiddelen"):
            ref = dpb.Referral(schema_version=1, referral_id="HH%d" % next(_refs), product=product,
                               urgency=dpb.ROUTINE)
            refused(team, native("99980001", ref, "REFERRAL", receiver="99990000", bsn="999990007"), product,
                    "contract 'heerlen'")
        for c in members.values():
            check_eq(c.quiet(0.5), [], "%s received a refused referral" % c.party)
        ok = dpb.Referral(schema_version=1, referral_id="OK1", product="schuldhulpverlening", urgency=dpb.ROUTINE)
        a = accepted(team, native("99980001", ok, "REFERRAL", receiver="99990000", bsn="999990019"))
        got = members["99990007"].deliveries(1, 5)
        check_eq([x.seq for x in got], [a.seq], "the referral within the scope reached its member")
        for c in list(members.values()) + [team]:
            c.close()
        d.restart()
        team = party(d, "99980001")
        ref = dpb.Referral(schema_version=1, referral_id="HH-R", product="huishoudelijke-hulp", urgency=dpb.ROUTINE)
        refused(team, native("99980001", ref, "REFERRAL", receiver="99990000", bsn="999990020"), "huishoudelijke-hulp",
                "contract 'heerlen'")


@test(timeout=60)
def heerlen_refuses_an_assignment_and_a_declaration():
    """Heerlen works without beschikking and pays a lump sum: a WMO301 from 0917 and a WMO323 from a member to 0917 are
    Rejected naming contract 'heerlen'; nothing is journaled for them. Sittard-Geleen's 301 still passes."""
    with start(DEMO) as d:
        gem, member, sittard = party(d, "0917"), party(d, L.MEMBER), party(d, L.SITTARD)
        before = d.control("status")["messages_journaled"]
        a = L.Assignment()
        refused(gem, xml_env("0917", L.wmo301("H301", a, sender="0917", receiver="99990000")), "WMO301",
                "contract 'heerlen'", "assignments")
        refused(member, xml_env(L.MEMBER, L.wmo323("H323", a, sender=L.MEMBER, receiver="0917")), "WMO323",
                "contract 'heerlen'", "declarations")
        check_eq(d.control("status")["messages_journaled"], before, "messages journaled for the refused ones")
        accepted(sittard, xml_env(L.SITTARD, L.wmo301("S301", a)))
        for c in (gem, member, sittard):
            c.close()
        d.restart()
        member = party(d, L.MEMBER)
        refused(member, xml_env(L.MEMBER, L.wmo323("H323B", a, sender=L.MEMBER, receiver="0917")), "WMO323",
                "contract 'heerlen'")


@test(timeout=60)
def brunssum_contract_report_needs_all_seven_indicators():
    """A contract-level outcome report to Brunssum without one of its seven indicators is Rejected naming the one
    missing; with all seven it reaches outcomes.0899."""
    seven = {"synergie": 4, "vakmanschap": 4, "bereik": 412, "prijs": 1830.5, "klanttevredenheid": 7.8,
             "verantwoordelijkheidsladder": 3, "ondersteuning-netwerk": 64.5}
    with start(DEMO) as d:
        coop, bru = party(d, "99990000"), party(d, "0899", "outcomes.0899")
        for gone in seven:
            rep = dpb.OutcomeReport(schema_version=1, report_id="B%d" % next(_refs), level=dpb.CONTRACT,
                                    period_start="2025-01-01", period_end="2025-12-31",
                                    values=[dpb.IndicatorValue(indicator=k, number=v) for k, v in seven.items()
                                            if k != gone])
            refused(coop, native("99990000", rep, "OUTCOME_REPORT", receiver="0899"), "'%s' is missing" % gone,
                    "contract 'brunssum'")
        rep = dpb.OutcomeReport(schema_version=1, report_id="BALL", level=dpb.CONTRACT, period_start="2025-01-01",
                                period_end="2025-12-31",
                                values=[dpb.IndicatorValue(indicator=k, number=v) for k, v in seven.items()])
        a = accepted(coop, native("99990000", rep, "OUTCOME_REPORT", receiver="0899"))
        check_eq([x.seq for x in bru.deliveries(1, 5)], [a.seq], "the complete report on outcomes.0899")
        # the ledger keeps its values for the yearly calendar (bereik is what Brunssum watches)
        check_eq(d.query("SELECT total FROM finance_outcomes WHERE contract = 'brunssum' AND indicator = 'bereik'"),
                 [(412.0,)], "bereik kept for the report")
        coop.close()
        bru.close()
        d.restart()
        coop = party(d, "99990000")
        rep.ClearField("values")
        rep.report_id = "BAFTER"
        rep.values.extend([dpb.IndicatorValue(indicator="bereik", number=400)])
        refused(coop, native("99990000", rep, "OUTCOME_REPORT", receiver="0899"), "'synergie' is missing")
        check_eq(d.query("SELECT total FROM finance_outcomes WHERE contract = 'brunssum' AND indicator = 'bereik'"),
                 [(412.0,)], "bereik kept across a restart")


@test(timeout=60)
def kerkrade_cannot_read_heerlens_finance_streams():
    """reports.0917 and signals.0917 are Heerlen's alone: Kerkrade (0928), the cooperative and a member are refused;
    Heerlen itself subscribes."""
    with start(DEMO) as d:
        for who in ("0928", "99990000", "99990001", "9002"):
            c = party(d, who)
            for stream in ("reports.0917", "signals.0917"):
                try:
                    c.subscribe(stream, start=pb.EARLIEST)
                    check(False, "%s may subscribe to %s" % (who, stream))
                except KnoopError as e:
                    check_eq(code_name(e.code), "NOT_AUTHORISED", "%s subscribing to %s" % (who, stream))
        heerlen = party(d, "0917")
        for stream in ("reports.0917", "signals.0917"):
            heerlen.subscribe(stream, start=pb.EARLIEST)


# ---- 2. signals: an overdue report, each once, for its financier only -------------------------------------------

# Kerkrade as a second municipality beside Alphen's consortium, to prove it cannot read Alphen's signals.
ALPHEN_WITH_KERKRADE = ALPHEN.replace(
    "  indicator_sets:",
    '    - {code: "0928", kind: gemeente, name: "Kerkrade"}\n\n  indicator_sets:', 1).replace(
    "due_days: 30", "due_days: 0") + """    - name: kerkrade-zorg
      financier: "0928"
      provider: "99990203"
      law: [wmo]
      identity: legacy
      financing: inspanningsgericht
      protocol: native
"""


@test(timeout=90)
def alphen_overdue_quarterly_report_reaches_0484_only_once():
    """Alphen's consortium owes the councils a quarterly report. With the last quarter one knoopd brokered and no
    report for it, one `report-overdue` signal reaches signals.0484 (and its co-financiers' signals streams) and
    `alerts`; Kerkrade (0928) cannot subscribe to it, nor to Alphen's report stream. The period's report is
    published on reports.0484. A restart raises nothing again."""
    today = datetime.date.today()
    last_q = quarter(quarter(today)[0] - datetime.timedelta(days=1))
    with start(ALPHEN_WITH_KERKRADE) as d:
        seen(d, "tom-in-de-buurt")
        move_since_back(d, last_q[0], "tom-in-de-buurt")
        wait_for("the overdue signal", lambda: signals(d, "report-overdue", "tom-in-de-buurt"), d=d)
        alphen = party(d, "0484", "signals.0484", "reports.0484")
        got = alphen.deliveries(2, 5)
        kinds = sorted(x.envelope.message_type for x in got)
        check_eq(kinds, ["knoop.finance.Report", "knoop.finance.Signal"], "what 0484 reads")
        sig = [x for x in got if x.envelope.message_type == "knoop.finance.Signal"][0]
        payload = json.loads(sig.envelope.payload)
        check_eq((payload["type"], payload["contract"], payload["period"], sig.envelope.kind),
                 ("report-overdue", "tom-in-de-buurt", last_q[0].isoformat(), pb.ALERT), "the signal")
        check("quarterly report for %d-Q%d" % (last_q[0].year, (last_q[0].month - 1) // 3 + 1) in payload["text"],
              payload["text"])
        rep = json.loads([x for x in got if x.envelope.message_type == "knoop.finance.Report"][0].envelope.payload)
        check_eq((rep["period"]["start"], rep["period"]["end"], rep["budget"]["amount"]),
                 (last_q[0].isoformat(), last_q[1].isoformat(), 8500000.0), "the published report")
        nieuwkoop = party(d, "0569", "signals.0569")
        check_eq([x.envelope.message_type for x in nieuwkoop.deliveries(1, 5)], ["knoop.finance.Signal"],
                 "the co-financier's signal")
        kerkrade = party(d, "0928")
        for stream in ("signals.0484", "reports.0484", "alerts"):
            try:
                kerkrade.subscribe(stream, start=pb.EARLIEST)
                check(False, "0928 may subscribe to %s" % stream)
            except KnoopError as e:
                check_eq(code_name(e.code), "NOT_AUTHORISED", "0928 subscribing to %s" % stream)
        check_eq(len(signals(d, "report-overdue", "tom-in-de-buurt")), 1, "overdue signals")
        for c in (alphen, nieuwkoop, kerkrade):
            c.close()
        d.restart()
        settle_runs(d)
        check_eq(len(signals(d, "report-overdue", "tom-in-de-buurt")), 1, "overdue signals after a restart")
        check_eq(d.query("SELECT COUNT(*) FROM finance_reports WHERE contract = 'tom-in-de-buurt'"), [(1,)],
                 "reports published")


# ---- 3. Goeree: the band, once, across restarts ------------------------------------------------------------------

@test(timeout=120)
def goeree_band_signals_once_and_survive_a_restart():
    """Three providers with 100 clients contracted each report their clients started in the last 4-weekly period
    (native PlanUpdate STARTED): 106 (+6 %) raises one budget-band-above signal, 91 (-9 %) none, 89 (-11 %) one
    budget-band-below. The signals reach signals.1924 and alerts once; the period's reports are published with the
    clients counted; a restart changes nothing, and `knoopctl report` shows the same figures before and after."""
    today = datetime.date.today()
    prev = four_weekly(four_weekly(today)[0] - datetime.timedelta(days=1))
    counts = {"99991304": 106, "99991310": 91, "99991313": 89}
    names = ["goeree-%s" % p for p in counts]
    numbers = iter(bsns(sum(counts.values())))
    with start(GOEREE) as d:
        seen(d, *names)
        for provider, n in counts.items():
            c = party(d, provider)
            envs = [native(provider, dpb.PlanUpdate(schema_version=1, plan_id="P%d" % i, action=dpb.STARTED,
                                                    effective_date=(prev[0] + datetime.timedelta(days=1)).isoformat(),
                                                    product="ao-licht"), "PLAN_UPDATE", receiver="1924",
                           bsn=next(numbers)) for i in range(n)]
            answers = c.publish_window(envs, window=64)
            check_eq(sorted(body(f) for f in answers.values()), ["accepted"] * n, "%s's plan updates" % provider)
            c.close()
        move_since_back(d, prev[0], *names)
        wait_for("the reports of the last period", lambda: d.query(
            "SELECT COUNT(*) FROM finance_reports WHERE period_day = ?", day_number(prev[0]))[0][0] == 3, d=d)

        def band_signals():
            return {n: [s["type"] for s in signals(d, contract=n) if s["type"].startswith("budget-band")]
                    for n in names}
        want = {"goeree-99991304": ["budget-band-above"], "goeree-99991310": [], "goeree-99991313":
                ["budget-band-below"]}
        check_eq(band_signals(), want, "band signals")
        above = [s for s in signals(d, "budget-band-above")][0]
        check("106 clients in care" in above["text"] and "+6.00 %" in above["text"], above["text"])
        gem = party(d, "1924", "signals.1924")
        got = [json.loads(x.envelope.payload) for x in gem.quiet(1.0)]
        check_eq(sorted((g["contract"], g["type"]) for g in got if g["type"].startswith("budget-band")),
                 [("goeree-99991304", "budget-band-above"), ("goeree-99991313", "budget-band-below")],
                 "band signals on signals.1924")
        gem.close()
        reports = {}
        for name in names:
            r = json.loads(ctl(d, "report", "--contract", name, "--period", prev[0].isoformat(), "--format",
                               "json"))
            check_eq(r["clients"]["in_care"], counts[name.split("-")[1]], "%s clients in the report" % name)
            check_eq(r["period"]["complete"], True, "a complete period")
            reports[name] = r
        check_eq(reports["goeree-99991304"]["clients"]["band"], "above", "band in the report")
        check_eq(reports["goeree-99991310"]["clients"]["deviation_pct"], -9.0, "deviation of 91 against 100")
        d.restart()
        settle_runs(d)
        check_eq(band_signals(), want, "band signals after a restart")
        for name in names:
            r = json.loads(ctl(d, "report", "--contract", name, "--period", prev[0].isoformat(), "--format",
                               "json"))
            check_eq(r, reports[name], "%s's report after a restart" % name)


# ---- 4. Goeree: declarations, the provider's intensity change, the report in three formats ----------------------

def resolve(doc, pointer):
    for part in pointer.strip("/").split("/"):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def formatted(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "%.2f" % v
    return "" if v is None else str(v)


@test(timeout=120)
def goeree_ledger_intensity_change_and_the_html_report():
    """A provider's iWmo 305 and 323 feed the ledger (tariff x units beside what it declared); its PlanUpdate CHANGED
    (light -> medium, its own call) reaches the municipality without re-entering and is listed in the report. The HTML
    report is well-formed and self-contained, holds one chart per indicator plus the budget and clients charts, and
    every number it prints equals the JSON report's; the CSV too. All of it again after a restart."""
    provider, name = "99991301", "goeree-99991301"
    a = L.Assignment(nummer="201", categorie="02", code="02A11")
    today = datetime.date.today()
    with start(GOEREE) as d:
        gem = party(d, "1924", "inbox.1924")
        pro = party(d, provider)
        accepted(gem, xml_env("1924", L.wmo301("G301", a, sender="1924", receiver=provider)))
        accepted(pro, xml_env(provider, L.wmo305("G305", a, sender=provider, receiver="1924")))
        accepted(pro, xml_env(provider, L.wmo323("G323", a, sender=provider, receiver="1924")))
        # the provider moves another client from light to medium: its call
        bsn = bsns(1, 999910000)[0]
        accepted(pro, native(provider, dpb.PlanUpdate(schema_version=1, plan_id="C1", action=dpb.STARTED,
                                                      effective_date=today.isoformat(), product="ao-licht"),
                             "PLAN_UPDATE", receiver="1924", bsn=bsn))
        change = accepted(pro, native(provider, dpb.PlanUpdate(schema_version=1, plan_id="C1", action=dpb.CHANGED,
                                                               effective_date=today.isoformat(), product="ao-midden"),
                                      "PLAN_UPDATE", receiver="1924", bsn=bsn))
        got = {x.seq: x for x in gem.deliveries(6, 5)}
        check(change.seq in got, "1924 did not receive the intensity change", list(got))
        learned = dpb.PlanUpdate()
        learned.ParseFromString(got[change.seq].envelope.payload)
        check_eq((learned.action, learned.product), (dpb.CHANGED, "ao-midden"), "what 1924 learned")
        gem.close()
        pro.close()

        # the declaration: 4 units at the contract's 210.00 = 840.00, declared 4 x 12.50 = 50.00
        period_of_323 = a.period_end.replace(day=1).isoformat()
        r = json.loads(ctl(d, "report", "--contract", name, "--period", period_of_323, "--format", "json"))
        row = [p for p in r["products"] if p["product"] == "ao-licht"][0]
        check_eq((row["units"], row["amount"], row["declared"], row["tariff"]), (4.0, 840.0, 50.0, 210.0),
                 "the declared line in its period")
        cur = json.loads(ctl(d, "report", "--contract", name, "--period", "current", "--format", "json"))
        check_eq([(c["from"], c["to"]) for c in cur["changes"]], [("ao-licht", "ao-midden")], "intensity changes")
        check_eq({p["product"]: p["clients"] for p in cur["products"] if p["clients"]},
                 {"ao-licht": 1, "ao-midden": 1}, "clients per product now (the 305's client and the moved one)")
        check_eq(cur["period"]["complete"], False, "the current period is provisional")

        for attempt in ("before", "after"):
            js = json.loads(ctl(d, "report", "--contract", name, "--period", "current", "--format", "json"))
            html = ctl(d, "report", "--contract", name, "--period", "current", "--format", "html")
            check_html(html, js, attempt)
            rows = list(csv.reader(io.StringIO(ctl(d, "report", "--contract", name, "--period", "current",
                                                   "--format", "csv"))))
            check_eq(rows[0], ["section", "item", "period", "measure", "value"], "CSV header")
            line = [x for x in rows if x[0] == "budget" and x[3] == "amount"][0]
            check_eq(line[4], "%.2f" % js["budget"]["amount"], "CSV budget amount")
            line = [x for x in rows if x[0] == "product" and x[1] == "ao-midden" and x[3] == "clients"][0]
            check_eq(line[4], "1", "CSV clients of ao-midden")
            if attempt == "before":
                d.restart()


@test(timeout=60)
def sittard_arrangement_use_per_client_arrangement_and_total():
    """Sittard-Geleen pays per arrangement: its member's 323 (4 hours of arrangement 01A01, huishoudelijke
    ondersteuning basis at 12.50) shows in the month's report per client, per arrangement and in total."""
    a = L.Assignment()
    with start(DEMO) as d:
        sit, member = party(d, L.SITTARD), party(d, L.MEMBER)
        accepted(sit, xml_env(L.SITTARD, L.wmo301("A301", a)))
        accepted(member, xml_env(L.MEMBER, L.wmo305("A305", a)))
        accepted(member, xml_env(L.MEMBER, L.wmo323("A323", a)))
        month = a.period_end.strftime("%Y-%m")
        r = json.loads(ctl(d, "report", "--contract", "sittard-geleen", "--period", month))
        check_eq(r["period"]["label"], month, "the month's report")
        check_eq([(c["product"], c["units"], c["amount"], c["declared"]) for c in r["clients_use"]],
                 [("arr-hh-basis", 4.0, 50.0, 50.0)], "use per client and arrangement")
        check_eq(len(r["clients_use"][0]["client"]), 16, "a client is named by its pseudonym, 8 bytes in hex")
        row = [p for p in r["products"] if p["product"] == "arr-hh-basis"][0]
        check_eq((row["units"], row["amount"], row["tariff"], row["unit"]), (4.0, 50.0, 12.5, "hour"),
                 "use per arrangement")
        check_eq((r["budget"]["used"], r["budget"]["amount"]), (50.0, 2600000.0), "use in total")
        members = {m["party"]: m for m in r["members"]}
        check_eq(members[L.MEMBER]["amount"], 50.0, "use of the member")
        check(L.BSN not in json.dumps(r), "a BSN in the report")
        check_eq(r["recalculation"]["rule"], "tariff x units declared: the final amount is what the arrangements cost",
                 "the arrangement recalculation")


def check_html(html, js, when):
    check(html.startswith("<!DOCTYPE html>"), "doctype (%s)" % when)
    root = ET.fromstring(html[html.index("<html"):])
    ns = {"h": "http://www.w3.org/1999/xhtml", "s": "http://www.w3.org/2000/svg"}
    everything = list(root.iter())
    check(not any(e.tag.endswith("script") for e in everything), "a script in the report")
    check(not any(k in ("src", "href") for e in everything for k in e.attrib), "a reference outside the file")
    check("@import" not in html and "url(" not in html, "CSS loading something")
    figures = root.findall(".//h:figure", ns)
    indicator_charts = [f for f in figures if "indicator" in f.get("class", "").split()]
    numeric = [i for i in js["indicators"]]
    check_eq(len(indicator_charts), len(numeric), "charts per indicator (%s)" % when)
    check_eq([f.get("data-indicator") for f in indicator_charts], [i["indicator"] for i in numeric],
             "indicators charted")
    ids = [f.get("id") for f in figures if f.get("id")]
    check_eq(ids, ["chart-budget", "chart-clients"], "budget and clients charts")
    for f in figures:
        check(f.find("s:svg", ns) is not None, "a figure without its SVG")
    checked = 0
    for e in everything:
        pointer = e.get("data-json")
        if pointer is None:
            continue
        want = resolve(js, pointer)
        if e.get("data-value") is not None:
            check_eq(e.get("data-value"), "%.2f" % want, "chart point %s (%s)" % (pointer, when))
        else:
            check_eq(e.text or "", formatted(want), "cell %s (%s)" % (pointer, when))
        checked += 1
    check(checked > 100, "only %d numbers carry their JSON pointer" % checked)


if __name__ == "__main__":
    run()
