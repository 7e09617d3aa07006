# test_files.py — knoop-files, the file-exchange adapter, against the real knoopd with the demo network: files
# dropped in an inbox are published as the party and moved after knoopd answered; the party's stream lands in outbox.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_files.py [TEST ...]
import os
import signal
import subprocess
import time

from harness import BUILD, Client, Daemon, check, check_eq, run, test
import legacy_messages as L

KNOOP_FILES = os.path.join(BUILD, "knoop-files")
MEMBER, SITTARD = L.MEMBER, L.SITTARD


NETWORK = L.demo_network()


def start(**kw):
    kw.setdefault("heartbeat_ms", 500)
    kw.setdefault("peer_timeout_ms", 2000)
    return Daemon(network=NETWORK, **kw)


def files(d, root, *parties, env=None, idle_ms=700, timeout=40, extra=()):
    """knoop-files --once for `parties`; returns (exit code, its log)."""
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([KNOOP_FILES, "-e", d.endpoint, "--root", root, "--once", "--interval", "100",
                        "--idle", str(idle_ms)] + list(extra) + list(parties), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, env=e)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def drop(root, party, name, data):
    """As a back-office does it: write elsewhere (a dot-file), then rename into the inbox."""
    inbox = os.path.join(root, party, "inbox")
    os.makedirs(inbox, exist_ok=True)
    tmp = os.path.join(inbox, "." + name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(inbox, name))


def ls(root, party, folder):
    p = os.path.join(root, party, folder)
    return sorted(os.listdir(p)) if os.path.isdir(p) else []


def read(root, party, folder, name):
    with open(os.path.join(root, party, folder, name), "rb") as f:
        return f.read()


def journal_count(d, message_type, identificatie):
    return d.query("SELECT count(*) FROM messages WHERE message_type = ? AND identificatie = ?",
                   message_type, identificatie)[0][0]


def outbox_of(root, party, message_type):
    return [n for n in ls(root, party, "outbox") if "-%s-" % message_type in n]


@test(timeout=90)
def valid_file_ingested_moved_and_delivered_with_its_retour():
    with start() as d:
        root = os.path.join(d.dir, "files")
        a = L.Assignment()
        sent = L.wmo315("F315A", a)
        drop(root, MEMBER, "request-1.xml", sent)
        rc, log = files(d, root, MEMBER, SITTARD)
        check_eq(rc, 0, "exit code (log: %s)" % log)
        check_eq(ls(root, MEMBER, "inbox"), [], "member inbox after the run")
        check_eq(ls(root, MEMBER, "done"), ["request-1.xml"], "member done/")
        check_eq(ls(root, MEMBER, "failed"), [], "member failed/")
        check_eq(journal_count(d, "WMO315", "F315A"), 1, "the 315 in the journal")
        # the municipality's outbox holds the 315 byte for byte, named <seq>-<type>-<identificatie>.xml
        got = outbox_of(root, SITTARD, "WMO315")
        check_eq(len(got), 1, "315 in the municipality's outbox: %s" % ls(root, SITTARD, "outbox"))
        check(got[0].endswith("-WMO315-F315A.xml"), got)
        check_eq(read(root, SITTARD, "outbox", got[0]), sent, "payload in the outbox")
        # the member's outbox holds knoopd's 316: header only, validates
        ret = outbox_of(root, MEMBER, "WMO316")
        check_eq(len(ret), 1, "316 in the member's outbox: %s" % ls(root, MEMBER, "outbox"))
        payload = read(root, MEMBER, "outbox", ret[0])
        h = L.header_of(payload)
        check_eq(h["RetourCodes"], [], "316 retour codes")
        check(h["header_only"], "316 not header-only")
        ok, out = L.validate(payload)
        check(ok, "316 does not validate:", out)
        check("result=accepted" in log and "moved=done/request-1.xml" in log, log)
        check(L.BSN not in log and "Tim" not in log, "the log shows a BSN or a name:", log)
        # the municipality answers with a 301 through its own folder: the member gets it, the municipality a 302
        drop(root, SITTARD, "assignment-1.xml", L.wmo301("F301A", a))
        rc, log = files(d, root, MEMBER, SITTARD)
        check_eq(rc, 0, "second run (log: %s)" % log)
        check_eq(ls(root, SITTARD, "done"), ["assignment-1.xml"], "municipality done/")
        check_eq(len(outbox_of(root, MEMBER, "WMO301")), 1, "301 in the member's outbox")
        check_eq(len(outbox_of(root, SITTARD, "WMO302")), 1, "302 in the municipality's outbox")
        # nothing delivered twice: the 315/316 of the first run are not written again
        check_eq(len(outbox_of(root, SITTARD, "WMO315")), 1, "315 written once")
        d.stop()


@test(timeout=90)
def bad_files_go_to_failed_with_the_reason():
    with start(settings={"max_message_bytes": 65536}) as d:
        root = os.path.join(d.dir, "files")
        a = L.Assignment()
        bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>\n'
                b'<wmo315:Bericht xmlns:wmo315="http://www.istandaarden.nl/iwmo/3_2/wmo315/schema">&lol3;'
                b'</wmo315:Bericht>\n')
        broken = L.wmo315("F315B", a)[:-40]                                     # truncated
        xsd_bad = L.wmo315("F315C", a).replace(b"<wmo315:BerichtCode>444<", b"<wmo315:BerichtCode>999<")
        big = L.wmo315("F315D", a).replace(b"<wmo315:Commentaar>Commentaar client",
                                           b"<wmo315:Commentaar>" + b"x" * 70000)
        cases = {
            "bomb.xml": (bomb, "LOCAL", "DOCTYPE"),
            "other.xml": (b'<?xml version="1.0"?><note xmlns="urn:example:note"><to>x</to></note>', "LOCAL",
                          "not an iWmo"),
            "other-ns.xml": (b'<b:Bericht xmlns:b="http://www.istandaarden.nl/iwmo/3_2/wmo999/schema"/>', "LOCAL",
                             "not an iWmo"),
            "scan.pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "LOCAL", "not XML"),
            "empty.xml": (b"", "LOCAL", "empty file"),
            "big.xml": (big, "LOCAL", "too large"),
            "broken.xml": (broken, "INVALID_FIELD", "XML not accepted"),
            "xsd.xml": (xsd_bad, "INVALID_FIELD", "XSD validation failed"),
        }
        for name, (data, _, _) in cases.items():
            drop(root, MEMBER, name, data)
        # names the adapter must leave alone: hidden, unfinished
        for name in (".hidden.xml", "upload.xml.part", "upload2.xml.tmp"):
            with open(os.path.join(root, MEMBER, "inbox", name), "wb") as f:
                f.write(L.wmo315("F315E", a))
        # a refusal at level 2 is no failure of the file: knoopd accepts it and answers with a retour code
        drop(root, MEMBER, "start-without-assignment.xml", L.wmo305("F305X", a))
        rc, log = files(d, root, MEMBER, SITTARD)
        check_eq(rc, 0, "exit code (log: %s)" % log)
        check_eq(ls(root, MEMBER, "inbox"), [".hidden.xml", "upload.xml.part", "upload2.xml.tmp"], "left alone")
        failed = ls(root, MEMBER, "failed")
        for name, (_, code, words) in cases.items():
            check(name in failed, name, "not in failed/:", failed, log)
            err = read(root, MEMBER, "failed", name + ".error.txt").decode()
            check("code: %s" % code in err and words in err, name, "error file:", err)
            check(L.BSN not in err, "BSN in", name, err)
        check_eq(ls(root, MEMBER, "done"), ["start-without-assignment.xml"], "done/")
        ret = outbox_of(root, MEMBER, "WMO306")
        check_eq(len(ret), 1, "306 in the member's outbox")
        h = L.header_of(read(root, MEMBER, "outbox", ret[0]))
        check("9019" in h["RetourCodes"], "306 codes", h)
        check_eq(outbox_of(root, SITTARD, "WMO305"), [], "a refused 305 reached the municipality")
        for ident in ("F315B", "F315C", "F315D"):
            check_eq(journal_count(d, "WMO315", ident), 0, "%s in the journal" % ident)
        # the same name again in failed/ gets a suffix, never overwrites
        drop(root, MEMBER, "scan.pdf", b"again")
        rc, log = files(d, root, MEMBER)
        check_eq(rc, 0, log)
        check("scan.1.pdf" in ls(root, MEMBER, "failed") and "scan.1.pdf.error.txt" in ls(root, MEMBER, "failed"),
              ls(root, MEMBER, "failed"))
        d.stop()


@test(timeout=90)
def kill9_between_publish_and_move_publishes_again_as_duplicate():
    with start() as d:
        root = os.path.join(d.dir, "files")
        a = L.Assignment()
        drop(root, MEMBER, "r.xml", L.wmo315("F315K", a))
        rc, log = files(d, root, MEMBER, env={"KNOOP_FILES_FAULT": "kill-before-move"})
        check_eq(rc, -signal.SIGKILL, "killed after the answer, before the move (log: %s)" % log)
        check_eq(ls(root, MEMBER, "inbox"), ["r.xml"], "the file stays in the inbox")
        check_eq(journal_count(d, "WMO315", "F315K"), 1, "stored once")
        # idle past knoopd's peer timeout (2 s): a 316 in flight to the killed process comes back by then
        rc, log = files(d, root, MEMBER, SITTARD, idle_ms=4000)
        check_eq(rc, 0, log)
        check("file=r.xml result=accepted" in log and "duplicate=1" in log, "answered duplicate:", log)
        check_eq(ls(root, MEMBER, "inbox"), [], "inbox")
        check_eq(ls(root, MEMBER, "done"), ["r.xml"], "done/")
        check_eq(journal_count(d, "WMO315", "F315K"), 1, "still once in the journal")
        check_eq(len(outbox_of(root, SITTARD, "WMO315")), 1, "delivered once")
        check_eq(len(outbox_of(root, MEMBER, "WMO316")), 1, "one retour")
        d.stop()


@test(timeout=90)
def outbox_write_survives_kill9_before_ack():
    with start() as d:
        root = os.path.join(d.dir, "files")
        a = L.Assignment()
        with Client(d, MEMBER) as m:
            m.publish_ok(1, sender=MEMBER, content_type="application/xml; iwmo-3.2; WMO315",
                         payload=L.wmo315("F315O", a))
        before = d.query("SELECT count(*) FROM messages")[0][0]
        rc, log = files(d, root, SITTARD, env={"KNOOP_FILES_FAULT": "kill-before-ack"})
        check_eq(rc, -signal.SIGKILL, "killed after the write, before the ack (log: %s)" % log)
        first = outbox_of(root, SITTARD, "WMO315")
        check_eq(len(first), 1, "written before the crash")
        content = read(root, SITTARD, "outbox", first[0])
        check(not [n for n in ls(root, SITTARD, "outbox") if n.startswith(".")], "temp file left",
              ls(root, SITTARD, "outbox"))
        # knoopd returns the unacked delivery once it drops the dead peer (peer_timeout_ms 2000)
        rc, log = files(d, root, SITTARD, idle_ms=5000)
        check_eq(rc, 0, log)
        check("attempt=2" in log, "redelivered:", log)
        check_eq(outbox_of(root, SITTARD, "WMO315"), first, "the same file, rewritten")
        check_eq(read(root, SITTARD, "outbox", first[0]), content, "same content")
        check_eq(d.query("SELECT count(*) FROM messages")[0][0], before, "journal unchanged")
        rc, log = files(d, root, SITTARD)
        check_eq(rc, 0, log)
        check("result=written" not in log, "written again after the ack:", log)
        d.stop()


@test(timeout=90)
def daemon_mode_polls_survives_a_knoopd_restart_and_stops_on_sigterm():
    with start() as d:
        root = os.path.join(d.dir, "files")
        a = L.Assignment()
        logf = open(os.path.join(d.dir, "files.log"), "wb")
        p = subprocess.Popen([KNOOP_FILES, "-e", d.endpoint, "--root", root, "--interval", "100", MEMBER, SITTARD],
                             stdout=logf, stderr=subprocess.STDOUT)
        try:
            def wait_for(cond, what, timeout=15):
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if cond():
                        return
                    time.sleep(0.1)
                with open(logf.name, "rb") as f:
                    raise AssertionError("%s: not within %ss; log: %s" % (what, timeout, f.read().decode()[-3000:]))
            time.sleep(3.0)                     # idle longer than the peer timeout: heartbeats keep it known
            check("peer.dropped" not in d.log(), "knoopd dropped knoop-files while idle:", d.log()[-1500:])
            drop(root, MEMBER, "one.xml", L.wmo315("F315P", a))
            wait_for(lambda: ls(root, MEMBER, "done") == ["one.xml"], "one.xml done")
            wait_for(lambda: len(outbox_of(root, SITTARD, "WMO315")) == 1, "315 in the municipality's outbox")
            d.restart()                          # knoopd forgets the sessions; knoop-files must notice and resume
            drop(root, SITTARD, "two.xml", L.wmo301("F301P", a))
            wait_for(lambda: ls(root, SITTARD, "done") == ["two.xml"], "two.xml done after the restart", 25)
            wait_for(lambda: len(outbox_of(root, MEMBER, "WMO301")) == 1, "301 in the member's outbox", 25)
            p.send_signal(signal.SIGTERM)
            check_eq(p.wait(15), 0, "exit code after SIGTERM")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            logf.close()
        d.stop()


@test(timeout=60)
def sigterm_finishes_the_file_in_hand():
    """knoopd is frozen (SIGSTOP) while a file is published: SIGTERM makes knoop-files wait for the answer, move the
    file and only then exit 0."""
    with start(peer_timeout_ms=20000) as d:
        root = os.path.join(d.dir, "files")
        logf = open(os.path.join(d.dir, "files.log"), "wb")
        p = subprocess.Popen([KNOOP_FILES, "-e", d.endpoint, "--root", root, "--interval", "100", MEMBER],
                             stdout=logf, stderr=subprocess.STDOUT)
        try:
            time.sleep(1.0)                                  # connected and subscribed
            os.kill(d.pid, signal.SIGSTOP)
            try:
                drop(root, MEMBER, "held.xml", L.wmo315("F315T", L.Assignment()))
                time.sleep(1.0)                              # taken and published; no answer while knoopd is frozen
                p.send_signal(signal.SIGTERM)
                time.sleep(1.0)
                check(p.poll() is None, "knoop-files exited with a file in hand")
                check_eq(ls(root, MEMBER, "inbox"), ["held.xml"], "inbox while waiting")
            finally:
                os.kill(d.pid, signal.SIGCONT)
            check_eq(p.wait(15), 0, "exit code after SIGTERM")
            check_eq(ls(root, MEMBER, "done"), ["held.xml"], "the file in hand was finished")
            check_eq(journal_count(d, "WMO315", "F315T"), 1, "journaled")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            logf.close()
        d.stop()


@test(timeout=60)
def outbox_names_follow_the_content_type():
    with start() as d:
        root = os.path.join(d.dir, "files")
        sent = {}
        with Client(d, SITTARD) as s:
            for i, (ct, payload) in enumerate([("application/json", b'{"note": 1}'), ("text/plain", b"note two"),
                                               ("application/pdf", b"%PDF-1.4"),
                                               ("", b"\x00\x01")], 1):
                acc = s.publish_ok(i, sender=SITTARD, receiver=MEMBER, kind="OTHER", message_type="knoop.note/%d" % i,
                                   identificatie="N %d" % i, content_type=ct, payload=payload)
                sent[acc.seq] = payload
        rc, log = files(d, root, MEMBER)
        check_eq(rc, 0, log)
        names = ls(root, MEMBER, "outbox")
        want = sorted(["%d-knoop_note_%d-N_%d.%s" % (seq, i, i, ext)
                       for i, (seq, ext) in enumerate(zip(sorted(sent), ["json", "txt", "bin", "bin"]), 1)])
        check_eq(names, want, "outbox names")
        for n in names:
            check_eq(read(root, MEMBER, "outbox", n), sent[int(n.split("-")[0])], "payload of %s" % n)
        d.stop()


@test
def usage_errors():
    r = subprocess.run([KNOOP_FILES, "--root", "/nonexistent-x"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check_eq(r.returncode, 2, "no party")
    r = subprocess.run([KNOOP_FILES, "--root", "/tmp", "abc"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check_eq(r.returncode, 2, "bad party")
    check(b"not a party code" in r.stderr, r.stderr)


if __name__ == "__main__":
    run()
