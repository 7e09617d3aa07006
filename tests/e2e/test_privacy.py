# test_privacy.py — what knoopd keeps of a client, and how: no BSN, name or date of birth in any byte of the journal's
# files (after acceptance, knoopd's own retour, and the purge); a client reference per receiving party; keys that
# must be private and must match the journal; files private from the first start; forgetting a client.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_privacy.py [TEST ...]
"""Every privacy claim of docs/journal.md and docs/operations.md is one of these tests."""
import os
import re
import stat
import struct
import time

import harness
from harness import COOP, MEMBER, MEMBER2, Client, ControlError, Daemon, check, check_eq, envelope, pb, run, test
import legacy_messages as L

SITTARD = L.SITTARD
TEAM_HEERLEN = "99980001"
KINDS = ("referral", "assignment", "start", "stop", "assignment-request", "change-request", "answer", "declaration",
         "declaration-answer", "retour", "plan-update", "outcome-report", "alert", "other")

# The client of these tests, with values that occur nowhere else (so a hit is a leak, not a coincidence).
BSN = "123456782"            # passes the 11-test
SURNAME = "Vandermeulenbroek"
FIRST_NAME = "Hieronymus"
BIRTH = "1931-02-27"


def patterns(bsn=BSN):
    """The byte strings of the client in every encoding the XML or a database could hold them in."""
    out = {}
    for what, text in (("bsn", bsn), ("surname", SURNAME), ("first name", FIRST_NAME), ("birth date", BIRTH),
                       ("birth date compact", BIRTH.replace("-", ""))):
        out[what + " (utf-8)"] = text.encode()
        out[what + " (utf-16-le)"] = text.encode("utf-16-le")
        out[what + " (utf-16-be)"] = text.encode("utf-16-be")
    n = int(bsn)
    out["bsn (sqlite int, 4 bytes)"] = struct.pack(">I", n)
    out["bsn (64-bit, big-endian)"] = struct.pack(">Q", n)
    out["bsn (64-bit, little-endian)"] = struct.pack("<Q", n)
    return out


def journal_files(d):
    """The journal's files as they are on disk now: knoop.db, knoop.db-wal, knoop.db-shm (those that exist)."""
    files = {}
    for name in ("knoop.db", "knoop.db-wal", "knoop.db-shm"):
        path = os.path.join(d.data_dir, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                files[name] = f.read()
    check("knoop.db" in files and ("knoop.db-wal" in files or not d.running()), "journal files missing:",
          sorted(files))
    return files


def no_client_data(d, moment, bsn=BSN):
    found = []
    for name, data in journal_files(d).items():
        for what, pat in patterns(bsn).items():
            if pat in data:
                found.append("%s in %s" % (what, name))
    log = d.log().encode()
    for what, pat in patterns(bsn).items():
        if pat in log:
            found.append("%s in the log" % what)
    check(not found, "%s: client data found: %s" % (moment, ", ".join(found)))


def wmo301_of(ident, a):
    """A 301 about the test client, with its name and date of birth made unique."""
    xml = L.wmo301(ident, a).decode()
    xml = L.set_tag(xml, "Achternaam", SURNAME)
    xml = L.set_tag(xml, "Voornamen", FIRST_NAME)
    xml = L.set_tag(xml, "Datum", BIRTH)                 # the first Datum is the client's Geboortedatum
    return xml.encode()


def send_xml(c, ref, party, payload):
    msg_type = re.search(rb"/(wmo\d{3})/schema", payload).group(1).decode().upper()
    f = c.publish_wait(ref, sender=party, content_type="application/xml; iwmo-3.2; %s" % msg_type, payload=payload)
    check(f.WhichOneof("body") == "accepted", "%s: wanted Accepted, got" % msg_type, f)
    return f.accepted


def inbox(c, party, n, timeout=5):
    got = c.deliveries(n, timeout)
    check_eq(len(got), n, "deliveries on inbox.%s" % party)
    for g in got:
        c.ack(g.stream, g.seq)
    return got


def wait_for(what, cond, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        check(time.monotonic() < deadline, "timed out waiting for", what)
        time.sleep(0.1)


def count(d, table):
    return d.query("SELECT count(*) FROM %s" % table)[0][0]


# ---- 1. no client data in the journal's files ----------------------------------------------------------------

@test(timeout=90)
def bsn_name_and_birth_date_are_never_in_the_files():
    """A 301 with the client's BSN, name and date of birth, and a refused 305 whose retour (made by knoopd) copies
    the client: the receivers get them in clear, the journal's files and the log never hold them, neither after
    acceptance nor after the purge; the client's ledger set and expectations go with its last message."""
    keep = ", ".join("%s=4s" % k for k in KINDS)
    with Daemon(network=L.demo_network(), heartbeat_ms=1000, peer_timeout_ms=120000,
                settings={"retention_per_kind": '"%s"' % keep, "purge_interval_ms": 200}) as d:
        a = L.Assignment(bsn=BSN)
        gem = Client(d, SITTARD, "privacy")
        gem.subscribe("inbox." + SITTARD, "backoffice", credit=100)
        member = Client(d, MEMBER, "privacy")
        member.subscribe("inbox." + MEMBER, "backoffice", credit=100)
        # The member asks for an assignment (a 315: Sittard owes an answer, an expectation about the client).
        send_xml(member, 1, MEMBER, L.wmo315("PRIV315", a))
        check_eq([g.envelope.message_type for g in inbox(member, MEMBER, 1)], ["WMO316"], "retour of the 315")
        check_eq([g.envelope.message_type for g in inbox(gem, SITTARD, 1)], ["WMO315"], "the 315 at Sittard")
        wmo301 = wmo301_of("PRIV301", a)
        for what, text in (("bsn", BSN), ("surname", SURNAME), ("birth date", BIRTH)):
            check(text.encode() in wmo301, "the test 301 lacks the client's", what)
        send_xml(gem, 3, SITTARD, wmo301)
        check_eq([g.envelope.message_type for g in inbox(gem, SITTARD, 1)], ["WMO302"], "retour of the 301")
        got = inbox(member, MEMBER, 1)
        check_eq(got[0].envelope.payload, wmo301, "the 301 as the member receives it (in clear)")
        # A 305 on an assignment the ledger does not know: knoopd's 306 carries the client back to the member.
        send_xml(member, 2, MEMBER, L.wmo305("PRIV305", a, nummer="999"))
        retour = inbox(member, MEMBER, 1)[0].envelope
        check_eq(retour.message_type, "WMO306", "knoopd's retour")
        check(BSN.encode() in retour.payload and b"9019" in retour.payload, "the 306 copies the client",
              retour.payload[:300])
        check_eq(count(d, "ledger"), 1, "ledger sets of the client")
        check(count(d, "expectations") >= 1, "expectations the 301 opened")
        check_eq(count(d, "clients"), 1, "the client's last-seen record")
        check(count(d, "messages") >= 6, "messages journaled", count(d, "messages"))
        no_client_data(d, "after acceptance")

        # The purge: every message of the client goes (with the expectations they opened); once the client is unseen
        # for longer than every retention, the forget job takes its ledger set, route state and last-seen record.
        time.sleep(4.2)
        d.control("purge", "now")
        wait_for("the purge", lambda: count(d, "messages") == 0)
        wait_for("the forget job", lambda: count(d, "ledger") == 0 and count(d, "clients") == 0)
        check_eq((count(d, "route_state"), count(d, "expectations")), (0, 0), "route state and expectations")
        no_client_data(d, "after the purge")
        gem.close()
        member.close()
        d.stop()
        no_client_data(d, "after the stop (final checkpoint)")


# ---- 2. a client reference per receiving party ---------------------------------------------------------------

@test(timeout=60)
def each_party_sees_its_own_stable_client_ref():
    """The same client sent to two parties: each sees a reference of its own, the same for every message about the
    client and after a restart; neither is the journal's internal reference."""
    with Daemon() as d:
        def round_trip(tag):
            p = Client(d, COOP)
            seqs = {}
            for i, receiver in enumerate((MEMBER, MEMBER2)):
                acc = p.publish_ok(10 * i + 1, envelope(sender=COOP, receiver=receiver, kind="REFERRAL",
                                                        message_type="knoop.Referral", identificatie=tag + receiver,
                                                        client_bsn=BSN, payload=b"x"))
                seqs[receiver] = acc.seq
            p.close()
            refs = {}
            for receiver in (MEMBER, MEMBER2):
                c = Client(d, receiver)
                c.subscribe("inbox." + receiver, "w", credit=10, start=pb.EARLIEST)
                got = [g for g in c.deliveries(10, 1.0)]
                check(got, "inbox.%s got nothing" % receiver)
                mine = {g.envelope.client_ref for g in got}
                check_eq(len(mine), 1, "client_refs %s was shown for one client" % receiver)
                refs[receiver] = mine.pop()
                c.close()
            return refs, seqs

        first, seqs = round_trip("A")
        check(len(first[MEMBER]) == 32 and first[MEMBER] != first[MEMBER2], "the two parties' client_refs",
              first)
        internal = d.query("SELECT client_ref FROM messages WHERE seq = ?", seqs[MEMBER])[0][0]
        check(internal not in first.values(), "a party was shown the journal's internal client reference")
        d.restart()
        again, _ = round_trip("B")
        check_eq(again, first, "client_refs per party after a restart")


# ---- 3. files private from the first start -------------------------------------------------------------------

def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _start_under_umask(d, mask):
    """Starts d with the given umask in the child (preexec_fn), as a shell with `umask 022` would."""
    die = harness._die_with_parent

    def preexec():
        os.umask(mask)
        die()
    harness._die_with_parent = preexec
    try:
        d.start()
    finally:
        harness._die_with_parent = die


@test(timeout=60)
def files_are_private_from_the_first_start_under_umask_022():
    with Daemon(start=False) as d:
        _start_under_umask(d, 0o022)
        c = Client(d, MEMBER)
        c.publish_ok(1, envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral",
                                 identificatie="U1", client_bsn=BSN, payload=b"x"))
        c.close()
        keys = os.path.join(d.dir, "var.keys")
        want = {d.data_dir: 0o700, keys: 0o700, os.path.join(keys, "data.key"): 0o600,
                os.path.join(d.data_dir, "pseudonym.key"): 0o600, os.path.join(d.data_dir, "knoopd.lock"): 0o600}
        for name in ("knoop.db", "knoop.db-wal", "knoop.db-shm"):
            want[os.path.join(d.data_dir, name)] = 0o600
        got = {p: _mode(p) for p in want}
        check_eq({os.path.relpath(p, d.dir): oct(m) for p, m in got.items()},
                 {os.path.relpath(p, d.dir): oct(m) for p, m in want.items()}, "modes under umask 022")
        check_eq(_mode(d.socket_path), 0o660, "control socket (control_socket_mode)")
        d.stop()
        # A data directory and journal made loose by someone else are tightened at the next start, and said so.
        os.chmod(d.data_dir, 0o755)
        os.chmod(d.db_path, 0o644)
        _start_under_umask(d, 0o022)
        check_eq((_mode(d.data_dir), _mode(d.db_path)), (0o700, 0o600), "modes after the start")
        check("data_dir_mode_tightened" in d.log() and "journal.mode_tightened" in d.log(), "no log line",
              d.log()[-600:])
        d.stop()


@test(timeout=60)
def a_key_group_or_others_can_read_stops_start_up():
    for key in ("pseudonym", "data"):
        with Daemon() as d:
            d.stop()
            path = os.path.join(d.data_dir, "pseudonym.key") if key == "pseudonym" else \
                os.path.join(d.dir, "var.keys", "data.key")
            os.chmod(path, 0o640)
            rc, out = d.start_expect_exit()
            check_eq(rc, 1, "exit code with a group-readable %s key (output %r)" % (key, out[-400:]))
            check(path in out and "0640" in out and "chmod 600" in out, "the reason names the key and its mode:",
                  out[-400:])
            os.chmod(path, 0o600)
            d.start()                                  # and with the mode fixed it starts
            d.stop()


# ---- 4. keys that match the journal ---------------------------------------------------------------------------

@test(timeout=90)
def missing_or_changed_keys_stop_start_up_and_are_never_made_anew():
    with Daemon() as d:
        keys = {"pseudonym_key": os.path.join(d.data_dir, "pseudonym.key"),
                "data_key": os.path.join(d.dir, "var.keys", "data.key")}
        check(all(os.path.exists(p) for p in keys.values()), "keys made at the first start of an empty journal")
        c = Client(d, MEMBER)
        c.publish_ok(1, envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral",
                                 identificatie="K1", client_bsn=BSN, payload=b"sealed"))
        c.close()
        d.stop()
        for name, path in keys.items():
            with open(path, "rb") as f:
                original = f.read()
            os.unlink(path)
            rc, out = d.start_expect_exit()
            check_eq(rc, 1, "exit code without %s (output %r)" % (name, out[-400:]))
            check("missing" in out and name in out and path in out, "reason for a missing %s:" % name, out[-400:])
            check(not os.path.exists(path), "%s was made anew on a journal that depends on it" % name)
            with open(path, "wb") as f:                   # another key of the right size and mode
                f.write(os.urandom(32))
            os.chmod(path, 0o600)
            rc, out = d.start_expect_exit()
            check_eq(rc, 1, "exit code with another %s (output %r)" % (name, out[-400:]))
            check("is not the key" in out and name + "_file" in out, "reason for another %s:" % name, out[-400:])
            with open(path, "wb") as f:
                f.write(original)
        d.start()
        c = Client(d, COOP)
        c.subscribe("inbox." + COOP, "w", credit=10, start=pb.EARLIEST)
        got = c.deliveries(1, 3)
        check_eq([g.envelope.payload for g in got], [b"sealed"], "the message opens with the journal's own keys")
        c.close()
        d.stop()


def set_setting(d, key, value=None):
    """Sets (or with None removes) one `daemon:` setting in the daemon's configuration file."""
    with open(d.config_path) as f:
        lines = [line for line in f.read().splitlines() if not line.startswith("  %s:" % key)]
    if value is not None:
        lines.insert(lines.index("daemon:") + 1, "  %s: %s" % (key, value))
    with open(d.config_path, "w") as f:
        f.write("\n".join(lines) + "\n")


def first_payloads(d, name):
    c = Client(d, COOP)
    c.subscribe("inbox." + COOP, name, credit=10, start=pb.EARLIEST)
    got = [g.envelope.payload for g in c.deliveries(10, 1.0)]
    c.close()
    return got


@test(timeout=90)
def the_data_key_rotates_at_start_under_the_previous_key():
    """The documented rotation: the current key moves aside and is named data_key_previous_file; at the next start
    knoopd makes a new data key and seals everything anew under it; then the old key is no longer needed."""
    with Daemon() as d:
        c = Client(d, MEMBER)
        c.publish_ok(1, envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral",
                                 identificatie="R1", client_bsn=BSN, payload=b"before the rotation"))
        c.close()
        d.stop()
        current, old = os.path.join(d.dir, "var.keys", "data.key"), os.path.join(d.dir, "old-data.key")
        os.rename(current, old)
        set_setting(d, "data_key_previous_file", old)
        d.start()
        check("journal.rekeyed" in d.log(), "no journal.rekeyed line:", d.log()[-600:])
        with open(old, "rb") as f, open(current, "rb") as g:
            check(f.read() != g.read(), "the new data key is the old one")
        check_eq(first_payloads(d, "a"), [b"before the rotation"], "the message after the rotation")
        d.stop()
        set_setting(d, "data_key_previous_file")         # the rotation is done: the old key goes
        os.unlink(old)
        d.start()
        check_eq(first_payloads(d, "b"), [b"before the rotation"], "the message with the new key alone")
        d.stop()


# ---- 5. forgetting a client -------------------------------------------------------------------------------------

@test(timeout=90)
def forget_client_removes_stickiness_ledger_and_expectations_audited():
    """A client referred to the cooperative sticks to the member that took it, and has a 301 in the ledger; after
    `forget client BSN` the router no longer knows the member, the ledger no longer knows the assignment (a 305 on it
    is refused with 9019), and the audit table says who forgot how many rows, without the BSN."""
    with Daemon(network=L.demo_network(), heartbeat_ms=5000, peer_timeout_ms=120000) as d:
        team = Client(d, TEAM_HEERLEN, "privacy")

        def refer(ref):
            return team.publish_ok(ref, envelope(sender=TEAM_HEERLEN, receiver=COOP, kind="REFERRAL",
                                                 message_type="knoop.Note", identificatie="F%d" % ref,
                                                 client_bsn=BSN, content_type="application/json", payload=b"{}"))

        def explain():
            return d.control("route", "explain", "--from", TEAM_HEERLEN, "--to", COOP, "--kind", "referral",
                             "--bsn", BSN)

        refer(1)
        sticky = explain()
        member = sticky["member"]
        check("(sticky)" in sticky["explanation"] and member, "the client's next referral (route explain):", sticky)
        a = L.Assignment(bsn=BSN)
        gem = Client(d, SITTARD, "privacy")
        m = Client(d, MEMBER, "privacy")
        send_xml(m, 4, MEMBER, L.wmo315("FORG315", a))      # opens the answer Sittard owes: an expectation
        send_xml(gem, 2, SITTARD, wmo301_of("FORG301", a))
        check_eq(count(d, "ledger"), 1, "the 301's ledger set")
        before = d.query("SELECT count(*) FROM route_state")[0][0]
        check(before >= 1, "route state of the client", before)
        expecting = d.query("SELECT count(*) FROM expectations WHERE client_ref IS NOT NULL")[0][0]
        check(expecting >= 1, "expectations the 301 opened for the client", expecting)

        try:
            d.control("forget", "client", "123456789")
            check(False, "an invalid BSN was accepted")
        except ControlError as e:
            why = str(e).split(": ", 1)[1]                 # the daemon's answer, without the harness's argv
            check("123456789" not in why and "11-test" in why, "refusal of an invalid BSN:", why)
        r = d.control("forget", "client", BSN)
        check_eq((r["ledger"], r["route_state"], r["expectations"]), (1, before, expecting),
                 "rows `forget client` reports")
        check_eq(r["memory"]["ledger"], 1, "ledger sets forgotten in memory")
        check(r["memory"]["route_state"] >= 1, "route state forgotten in memory", r)
        wait_for("the forget's commit", lambda: count(d, "ledger") == 0)
        check_eq(count(d, "clients"), 0, "the client's last-seen record after the forget")
        check_eq((count(d, "route_state"), d.query("SELECT count(*) FROM expectations WHERE client_ref IS NOT "
                                                   "NULL")[0][0]), (0, 0), "route state and expectations")
        audit = d.query("SELECT actor, action, detail FROM audit WHERE action = 'forget client'")
        check_eq(len(audit), 1, "audit rows of the forget")
        check(audit[0][0].startswith("control uid=") and "ledger=1" in audit[0][2], "audit row", audit)
        check(BSN not in repr(audit), "the audit row names the client", audit)

        after = explain()
        check("(sticky)" not in after["explanation"], "the router still sticks the client to %s:" % member, after)
        # The ledger no longer knows the assignment: a 305 on it is refused (retour code 9019).
        m.subscribe("inbox." + MEMBER, "backoffice", credit=100, start=pb.LATEST)
        send_xml(m, 3, MEMBER, L.wmo305("FORG305", a))
        retour = [g for g in m.deliveries(3, 3) if g.envelope.message_type == "WMO306"]
        check(retour and b"9019" in retour[0].envelope.payload, "306 after the forget:",
              [g.envelope.message_type for g in retour])
        check_eq(count(d, "clients"), 1, "a message after the forget records the client anew")
        for c in (team, gem, m):
            c.close()
        d.stop()


if __name__ == "__main__":
    run()
