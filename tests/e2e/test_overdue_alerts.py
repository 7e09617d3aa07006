# test_overdue_alerts.py — the expectations job end to end: an iWmo answer that is overdue raises exactly one alert on the
# `alerts` stream, an answer that arrived in time raises none, and a restart does not raise an alert again.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_overdue_alerts.py [TEST ...]
"""How a due date gets into the past without a test hook in knoopd: the member sends a WMO315, which opens an
`answer` expectation (the municipality owes a 301 or 319 within 5 working days); knoopd is stopped (SIGTERM), the
row's `due` is rewritten in knoop.db to a past day, and knoopd starts again on the same data directory. The overdue
check runs shortly after start-up and then every `deadline_check_interval_ms` (200 ms here, 60 s by default).

To know that a check ran after a restart, without sleeping and hoping, a test makes a second expectation overdue
(a "canary") at the same time and waits for the canary's alert: a check that raised it also saw the other rows.
"""
import datetime
import re
import time

from harness import Client, Daemon, check, check_eq, run, test
import legacy_messages as L

MEMBER, SITTARD = L.MEMBER, L.SITTARD
NETWORK = L.demo_network()
CHECK_MS = 200
PAST = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()


def start():
    return Daemon(network=NETWORK, settings={"deadline_check_interval_ms": CHECK_MS}, heartbeat_ms=1000,
                  peer_timeout_ms=120000)


class Parties:
    """The member and the municipality as ZeroMQ clients publishing iWmo XML."""

    def __init__(self, d):
        self.clients = {p: Client(d, p, "overdue-alerts") for p in (MEMBER, SITTARD)}
        self.ref = 0

    def send(self, party, payload):
        self.ref += 1
        msg_type = re.search(rb"/(wmo\d{3})/schema", payload).group(1).decode().upper()
        self.clients[party].publish_ok(self.ref, sender=party, content_type="application/xml; iwmo-3.2; %s" % msg_type,
                                       payload=payload)

    def close(self):
        for c in self.clients.values():
            c.close()


def request(parties, ident, a=None):
    """A 315 from the member: opens the municipality's answer expectation."""
    parties.send(MEMBER, L.wmo315(ident, a or L.Assignment()))


def overdue_alerts(d):
    return [r for r in d.table("alerts") if r["type"] == "deadline-overdue"]


def about(alerts, ident):
    """The alerts that concern the expectation opened by the 315 `ident`."""
    return [a for a in alerts if " WMO315 %s " % ident in a["text"]]


def answer_row(d, ident):
    rows = d.query("SELECT due, closed_seq, alerted FROM expectations WHERE kind = 'answer' AND trigger_id = ?", ident)
    check_eq(len(rows), 1, "answer expectations of WMO315 %s" % ident)
    return rows[0]


def restart_with_due_in_the_past(d, *idents):
    """SIGTERM, rewrite `due` of the answer expectations of these 315s to a past day, start again."""
    d.stop()
    con = d.db()
    try:
        for ident in idents:
            n = con.execute("UPDATE expectations SET due = ? WHERE kind = 'answer' AND trigger_id = ?",
                            (PAST, ident)).rowcount
            check_eq(n, 1, "expectation rows rewritten for WMO315 %s" % ident)
        con.commit()
    finally:
        con.close()
    d.start()


def wait_for_alert(d, ident, timeout=10.0):
    """The overdue alerts once the one about `ident` is there (fails after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        alerts = overdue_alerts(d)
        if about(alerts, ident):
            return alerts
        check(time.monotonic() < deadline, "no deadline-overdue alert about WMO315", ident, "within", timeout,
              "s; alerts:", d.table("alerts"), "log:", d.log()[-1500:])
        time.sleep(0.05)


@test(timeout=60)
def an_overdue_answer_raises_exactly_one_alert():
    with start() as d:
        p = Parties(d)
        request(p, "OV1")
        due, closed, alerted = answer_row(d, "OV1")
        check(due > datetime.date.today().isoformat(), "a fresh 315 is due in the future:", due)
        check_eq(overdue_alerts(d), [], "alerts before anything is overdue")
        p.close()

        restart_with_due_in_the_past(d, "OV1")
        alerts = wait_for_alert(d, "OV1")
        time.sleep(10 * CHECK_MS / 1000.0)  # ten more checks
        alerts = overdue_alerts(d)
        check_eq(len(about(alerts, "OV1")), 1, "alerts about WMO315 OV1 (%s)" % alerts)
        check_eq(len(alerts), 1, "deadline-overdue alerts")
        a = alerts[0]
        check_eq(a["about"], SITTARD, "the alert is about the party that owes the answer")
        check("%s owes %s" % (SITTARD, MEMBER) in a["text"] and PAST in a["text"], "alert text:", a["text"])
        check_eq(answer_row(d, "OV1")[2], 1, "the expectation is marked alerted")
        stored = d.query("SELECT count(*) FROM messages m JOIN stream_entries e ON e.seq = m.seq JOIN streams s ON "
                         "s.id = e.stream_id WHERE s.name = 'alerts' AND m.route LIKE 'alert deadline-overdue%'")[0][0]
        check_eq(stored, 1, "deadline-overdue alerts on the alerts stream in the journal")
        check(L.BSN not in d.log(), "the log holds a BSN")
        d.stop()


@test(timeout=60)
def an_answer_in_time_raises_none():
    with start() as d:
        p = Parties(d)
        a = L.Assignment()
        request(p, "IT1", a)
        p.send(SITTARD, L.wmo301("IT1A", a))  # the municipality's answer closes the expectation
        check(answer_row(d, "IT1")[1] is not None, "the 301 closed the answer expectation of WMO315 IT1")
        request(p, "IT2")  # the canary: never answered
        p.close()

        # Even with its due day in the past, a closed expectation is not overdue.
        restart_with_due_in_the_past(d, "IT1", "IT2")
        alerts = wait_for_alert(d, "IT2")
        check_eq(about(alerts, "IT1"), [], "alerts about the answered WMO315 IT1")
        check_eq(len(alerts), 1, "deadline-overdue alerts (the canary's only): %s" % alerts)
        check_eq(answer_row(d, "IT1")[2], 0, "the answered expectation is not marked alerted")
        d.stop()


@test(timeout=90)
def a_restart_does_not_raise_it_again():
    with start() as d:
        p = Parties(d)
        request(p, "RS1")
        request(p, "RS2")  # the canary of the second restart
        p.close()

        restart_with_due_in_the_past(d, "RS1")
        wait_for_alert(d, "RS1")

        restart_with_due_in_the_past(d, "RS2")
        alerts = wait_for_alert(d, "RS2")
        time.sleep(5 * CHECK_MS / 1000.0)
        alerts = overdue_alerts(d)
        check_eq(len(about(alerts, "RS1")), 1, "alerts about WMO315 RS1 after a restart (%s)" % alerts)
        check_eq(len(about(alerts, "RS2")), 1, "alerts about WMO315 RS2 (%s)" % alerts)
        check_eq(len(alerts), 2, "deadline-overdue alerts")
        d.stop()


if __name__ == "__main__":
    run()
