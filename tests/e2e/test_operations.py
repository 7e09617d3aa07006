#!/usr/bin/env python3
"""test_operations.py — running knoopd as an operator does: the metrics move with traffic (HTTP /metrics on loopback
and knoopctl metrics), /healthz and knoopctl health say ready or not and why, systemd's notification protocol
(READY=1, WATCHDOG=1, STOPPING=1) on a socket the test listens on, an online backup taken while publishes go on and
restored into a fresh knoopd that serves every message, and a drain in the middle of a publish loop that refuses the
rest, delivers what was accepted and says when a stop is safe.
    KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_operations.py [TEST ...]"""
import glob
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from harness import (BUILD, COOP, MEMBER, VALID_BSNS, Client, ControlError, Daemon, body, check, check_eq,
                     code_name, envelope, free_port, pb, run, test)

CTL = os.path.join(BUILD, "knoopctl")
INBOX = "inbox." + COOP


def referral(ident, payload=None, **over):
    fields = dict(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral", identificatie=ident,
                  content_type="application/json", payload=payload if payload is not None else b'{"n": 1}')
    fields.update(over)
    return envelope(**fields)


def ops_daemon(**settings):
    """A Daemon with the metrics endpoint on a free loopback port (d.metrics_url)."""
    port = free_port()
    base = {"metrics_listen": "127.0.0.1:%d" % port}
    base.update(settings)
    d = Daemon(settings=base)
    d.metrics_url = "http://127.0.0.1:%d" % port
    return d


def http(url, method="GET"):
    """(status, body text) of one request to the loopback endpoint."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


SAMPLE = re.compile(r'^([a-z_]+)(?:\{([^}]*)\})? (\S+)$')


def parse_metrics(text):
    """{(name, frozenset of label pairs): value} from Prometheus text, checking every line's shape."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            check(re.match(r"^# (HELP|TYPE) knoop_[a-z_]+ .+$", line), "comment line", line)
            continue
        m = SAMPLE.match(line)
        check(m, "sample line", line)
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def ctl(d, *args, timeout=30):
    return subprocess.run([CTL, "-s", d.socket_path] + list(args), capture_output=True, text=True, timeout=timeout)


def wait_for(what, fn, timeout=10.0, interval=0.1):
    """Polls fn() until it returns something true; returns it, or fails naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s (last: %r)" % (what, v))
        time.sleep(interval)


# ---- metrics ------------------------------------------------------------------------------------------------

@test(timeout=60)
def metrics_move_with_traffic():
    with ops_daemon() as d:
        status, text = http(d.metrics_url + "/metrics")
        check_eq(status, 200, "GET /metrics")
        before = parse_metrics(text)
        check(metric(before, "knoop_resident_memory_bytes") > 1 << 20, "RSS is reported", text[:400])
        check_eq(metric(before, "knoop_build_info", version=d.control("status")["version"]), 1.0, "build info")
        n = 25
        pub = Client(d)
        pub.hello(MEMBER)
        answers = pub.publish_window([(i + 1, referral("MT%d" % i)) for i in range(n)], window=8)
        check(all(body(f) == "accepted" for f in answers.values()) and len(answers) == n, "all accepted", answers)
        bad = pub.publish_wait(100, referral("BAD", client_bsn="999990001"))
        check_eq(body(bad), "rejected", "an invalid BSN is rejected")
        sub = Client(d)
        sub.hello(COOP)
        sub.subscribe(INBOX, "metrics-test", credit=n, start=pb.EARLIEST)
        got = sub.deliveries(n, timeout=10)
        check_eq(len(got), n, "deliveries")
        for dl in got[:10]:
            sub.ack(INBOX, dl.seq)

        def grown():
            s = parse_metrics(http(d.metrics_url + "/metrics")[1])
            ok = (metric(s, "knoop_messages_in_total", party=MEMBER, kind="referral") ==
                  metric(before, "knoop_messages_in_total", party=MEMBER, kind="referral") + n and
                  metric(s, "knoop_messages_out_total", party=COOP, kind="referral") == n and
                  metric(s, "knoop_acks_total") == 10)
            return s if ok else None
        after = wait_for("the HTTP snapshot to show the traffic", grown, timeout=5)
        check_eq(metric(after, "knoop_rejections_total", code="INVALID_BSN"), 1.0, "rejections by code")
        check_eq(metric(after, "knoop_deliveries_total"), float(n), "deliveries")
        check_eq(metric(after, "knoop_publishes_total") - metric(before, "knoop_publishes_total"), float(n),
                 "publishes queued to the journal (the invalid one was refused before)")
        check(metric(after, "knoop_commits_total") >= 1 and metric(after, "knoop_committed_ops_total") >= n,
              "commit figures", after)
        check_eq(metric(after, "knoop_subscriber_lag", stream=INBOX, subscriber="metrics-test"),
                 metric(after, "knoop_last_seq") - got[9].seq, "lag = last seq - acked cursor")
        check_eq(metric(after, "knoop_deliveries_in_flight"), float(n - 10), "unacked deliveries")
        check_eq(metric(after, "knoop_connections"), 2.0, "two clients said Hello")
        check_eq(metric(after, "knoop_ready"), 1.0, "ready")
        check(("knoop_commit_latency_seconds", frozenset({("quantile", "0.99")})) in after, "commit latency p99")
        # knoopctl metrics: the same text format, rendered now (no snapshot delay), printed as it is.
        p = ctl(d, "metrics")
        check_eq(p.returncode, 0, "knoopctl metrics: " + p.stderr)
        now = parse_metrics(p.stdout)
        check_eq(metric(now, "knoop_messages_in_total", party=MEMBER, kind="referral"),
                 metric(after, "knoop_messages_in_total", party=MEMBER, kind="referral"), "knoopctl metrics")
        check(p.stdout.startswith("# HELP knoop_"), "raw text, not key: value", p.stdout[:200])
        # The endpoint serves two paths, GET and HEAD only.
        check_eq(http(d.metrics_url + "/nope")[0], 404, "unknown path")
        check_eq(http(d.metrics_url + "/metrics", method="POST")[0], 405, "POST")
        d.stop()


@test
def metrics_listen_is_loopback_unless_allowed():
    with Daemon(settings={"metrics_listen": "0.0.0.0:%d" % free_port()}, start=False) as d:
        p = subprocess.run([os.path.join(BUILD, "knoopd"), "-t", "-c", d.config_path], capture_output=True, text=True)
        check_eq(p.returncode, 1, "a non-loopback metrics_listen is refused: " + p.stdout + p.stderr)
        check("metrics_allow_remote" in p.stderr, "the refusal says how to allow it", p.stderr)
    with Daemon(settings={"metrics_listen": "0.0.0.0:%d" % free_port(), "metrics_allow_remote": 1},
                start=False) as d:
        p = subprocess.run([os.path.join(BUILD, "knoopd"), "-t", "-c", d.config_path], capture_output=True, text=True)
        check_eq(p.returncode, 0, "allowed explicitly: " + p.stdout + p.stderr)
    # A port that is taken fails the start-up with the reason.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    try:
        with Daemon(settings={"metrics_listen": "127.0.0.1:%d" % blocker.getsockname()[1]}, start=False) as d:
            rc, out = d.start_expect_exit()
            check_eq(rc, 1, "start-up with the metrics port taken")
            check("metrics_listen" in out and "cannot listen" in out, "the reason", out[-600:])
    finally:
        blocker.close()


# ---- health -------------------------------------------------------------------------------------------------

@test(timeout=60)
def health_says_ready_or_why_not():
    with ops_daemon(health_check_interval_ms=200) as d:
        h = wait_for("the first probe write", lambda: (lambda r: r if r["last_probe_ok_ms"] else None)(
            d.control("health")))
        check(h["ready"] and h["journal"] == "writable" and h["reasons"] == "", "healthy", h)
        check(h["disk_free_bytes"] > 0, "disk space measured", h)
        status, text = wait_for("/healthz", lambda: (lambda r: r if r[0] != 503 or "starting" not in r[1] else None)(
            http(d.metrics_url + "/healthz")))
        check_eq((status, text), (200, "ready\n"), "/healthz")
        p = ctl(d, "health")
        check(p.returncode == 0 and "ready: true" in p.stdout, "knoopctl health", p.stdout + p.stderr)
        d.stop()
    # A disk-space threshold above what any disk here has free: not ready, and the reason says so.
    with ops_daemon(health_min_free_mb=100000000) as d:
        h = d.control("health")
        check(not h["ready"] and "disk space" in h["reasons"] and "health_min_free_mb" in h["reasons"], "not ready", h)
        status, text = wait_for("/healthz to say not ready", lambda: (lambda r: r if "disk space" in r[1] else None)(
            http(d.metrics_url + "/healthz")))
        check_eq(status, 503, "/healthz status when not ready")
        check(text.startswith("not ready: disk space:"), "/healthz body", text)
        check_eq(metric(parse_metrics(http(d.metrics_url + "/metrics")[1]), "knoop_ready"), 0.0, "knoop_ready")
        # The threshold is reloadable: lowered, knoopd is ready again.
        with open(d.config_path) as f:
            cfg = f.read().replace("health_min_free_mb: 100000000", "health_min_free_mb: 1")
        with open(d.config_path, "w") as f:
            f.write(cfg)
        d.control("reload")
        check(d.control("health")["ready"], "ready after the reload", d.control("health"))
        wait_for("/healthz 200 after the reload", lambda: http(d.metrics_url + "/healthz")[0] == 200)
        d.stop()


# ---- systemd ------------------------------------------------------------------------------------------------

@test(timeout=60)
def systemd_ready_watchdog_stopping():
    tmp = tempfile.mkdtemp(prefix="knoop-notify-")
    path = os.path.join(tmp, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    saved = {k: os.environ.get(k) for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    os.environ["NOTIFY_SOCKET"] = path
    os.environ["WATCHDOG_USEC"] = "400000"   # 0.4 s: knoopd pings every 0.2 s
    os.environ.pop("WATCHDOG_PID", None)
    received = []

    def collect(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                received.append((time.monotonic(), s.recv(4096).decode()))
            except socket.timeout:
                pass
    try:
        with Daemon(start=False) as d:
            d.start()                            # returns once the control socket answers
            for k, v in saved.items():           # only knoopd gets them
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            collect(1.5)
            ready = [m for _, m in received if "READY=1" in m]
            check_eq(len(ready), 1, "one READY=1 (%r)" % received)
            check("STATUS=" in ready[0], "a STATUS line with READY", ready[0])
            pings = [t for t, m in received if m == "WATCHDOG=1"]
            check(len(pings) >= 4, "WATCHDOG=1 every ~0.2 s for 1.5 s", received)
            gaps = sorted(b - a for a, b in zip(pings, pings[1:]))
            # Measured where the test receives them (a busy machine delays some): the typical gap is half the interval.
            check(0.15 <= gaps[len(gaps) // 2] <= 0.3, "WATCHDOG=1 at half of WATCHDOG_USEC", gaps)
            check(not any("STOPPING" in m for _, m in received), "no STOPPING before the stop")
            received.clear()
            d.proc.send_signal(15)
            collect(1.0)
            check_eq(d.proc.wait(10), 0, "exit code after SIGTERM")
            check(any(m.startswith("STOPPING=1") for _, m in received), "STOPPING=1 after SIGTERM", received)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        s.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- backup -------------------------------------------------------------------------------------------------

@test(timeout=180)
def backup_while_publishing_then_restore():
    payload = os.urandom(6000)
    with Daemon(settings={"backup_step_pause_ms": 150}) as d:
        pub = Client(d)
        pub.hello(MEMBER)
        n = 1500
        answers = pub.publish_window([(i + 1, referral("BK%d" % i, payload)) for i in range(n)], window=64)
        check(len(answers) == n and all(body(f) == "accepted" for f in answers.values()), "the first messages")
        before_seq = d.control("status")["last_seq"]
        out = os.path.join(d.dir, "backups", "knoop-1.db")
        os.makedirs(os.path.dirname(out))
        # Refusals: a relative path, an existing file.
        for path, why in (("rel.db", "absolute"), (d.config_path, "exists")):
            r = d.control_raw("backup", path)
            check(not r["ok"] and why in r["error"], "backup %s" % path, r)
        st = d.control("backup", out)
        check_eq(st["state"], "running", "backup started")
        check_eq(st["follow"], ["backup", "status"], "the answer tells knoopctl what to follow")
        # Publishes go on while it runs, and are answered.
        during = 0
        ref = 10000
        while d.control("backup", "status")["state"] == "running":
            f = pub.publish_wait(ref, referral("DUR%d" % ref, payload), timeout=5)
            check_eq(body(f), "accepted", "publish during the backup")
            ref += 1
            during += 1
        check(during >= 3, "the backup ran across several publishes (%d)" % during)
        st = d.control("backup", "status")
        check_eq(st["state"], "done", "backup finished: %s" % st)
        check(st["last_seq"] >= before_seq, "everything accepted before the backup is in it", st)
        check_eq(stat.S_IMODE(os.stat(out).st_mode), 0o600, "backup file mode")
        check_eq(st["bytes"], os.path.getsize(out), "size")
        r = d.control_raw("backup", out)
        check(not r["ok"] and "exists" in r["error"], "never overwrites", r)
        # knoopctl follows a backup to its end and prints the final state.
        out2 = os.path.join(d.dir, "backups", "knoop-2.db")
        p = ctl(d, "backup", out2, timeout=120)
        check(p.returncode == 0 and "state: done" in p.stdout, "knoopctl backup", p.stdout + p.stderr)
        check("%" in p.stderr, "knoopctl printed the progress", p.stderr)
        backup_last = st["last_seq"]
        audit = d.query("SELECT detail FROM audit WHERE action = 'backup'")
        check_eq(len(audit), 2, "each backup is audited")
        keys = glob.glob(os.path.join(d.data_dir, "*.key"))
        check(keys, "the data dir has its key files")
        # The data key lives beside data_dir, not in it (journal.md: keys are backed up apart from the data).
        data_keys = glob.glob(os.path.join(d.data_dir + ".keys", "*.key"))
        check(data_keys, "the data key beside the data dir")
        d.stop()
        # Restore: the copy and the key files into a new data directory; a fresh knoopd serves every message.
        with Daemon(start=False) as fresh:
            os.makedirs(fresh.data_dir, mode=0o700)
            shutil.copy(out, fresh.db_path)
            for k in keys:
                shutil.copy(k, fresh.data_dir)
            os.makedirs(fresh.data_dir + ".keys", mode=0o700)
            for k in data_keys:
                shutil.copy(k, fresh.data_dir + ".keys")
            fresh.start()
            check_eq(fresh.control("status")["last_seq"], backup_last, "restored last seq")
            sub = Client(fresh)
            sub.hello(COOP)
            sub.subscribe(INBOX, "restore-check", credit=256, start=pb.EARLIEST)
            seqs = []
            while len(seqs) < backup_last:
                got = sub.deliveries(256, timeout=5)
                check(got, "deliveries stopped after %d of %d" % (len(seqs), backup_last))
                for dl in got:
                    seqs.append(dl.seq)
                    check_eq(dl.envelope.payload, payload, "payload of seq %d" % dl.seq)
                    sub.ack(INBOX, dl.seq)
            check_eq(sorted(seqs), list(range(1, backup_last + 1)), "every message of the backup, once")
            check(sub.quiet(0.5) == [], "nothing beyond the backup")
            fresh.stop()


@test(timeout=60)
def a_stop_cancels_a_running_backup_and_removes_its_file():
    with Daemon(settings={"backup_step_pause_ms": 5000}) as d:
        pub = Client(d)
        pub.hello(MEMBER)
        payload = os.urandom(6000)
        answers = pub.publish_window([(i + 1, referral("SB%d" % i, payload)) for i in range(400)], window=64)
        check(all(body(f) == "accepted" for f in answers.values()), "publishes")
        out = os.path.join(d.dir, "partial.db")
        check_eq(d.control("backup", out)["state"], "running", "backup started")
        time.sleep(0.3)
        check_eq(d.control("backup", "status")["state"], "running", "still running (pausing between steps)")
        started = time.monotonic()
        d.stop()
        check(time.monotonic() - started < 4, "the stop did not wait for the backup's pause")
        check(not os.path.exists(out), "the partial copy is removed")
        check("backup.failed" in d.log() and "cancelled" in d.log(), "the log says the backup was cancelled")


# ---- drain --------------------------------------------------------------------------------------------------

@test(timeout=120)
def drain_during_a_publish_loop():
    with ops_daemon() as d:
        sub = Client(d)
        sub.hello(COOP)
        sub.subscribe(INBOX, "drain-test", credit=64, start=pb.EARLIEST)
        pub = Client(d)
        pub.hello(MEMBER)
        total, drain_after = 600, 150
        drained = {}

        def on_answer(ref, f, answers):
            if len(answers) == drain_after and not drained:
                drained.update(d.control("drain"))
            return False
        answers = pub.publish_window([(i + 1, referral("DR%d" % i)) for i in range(total)], window=16,
                                     on_answer=on_answer)
        check_eq(len(answers), total, "every publish answered")
        check(drained["draining"], "drain answered", drained)
        accepted = {r: f.accepted.seq for r, f in answers.items() if body(f) == "accepted"}
        rejected = [f.rejected for f in answers.values() if body(f) == "rejected"]
        check(len(accepted) >= drain_after, "accepted before the drain (%d)" % len(accepted))
        check(len(rejected) >= total - drain_after - 16, "refused after the drain (%d)" % len(rejected))
        for rj in rejected:
            check_eq(code_name(rj.code), "SHUTTING_DOWN", "rejection code")
            check("draining" in rj.reason, "the reason says draining", rj.reason)
        first_rejected = min(r for r, f in answers.items() if body(f) == "rejected")
        check(all(r < first_rejected for r in accepted), "nothing accepted after the first refusal")
        st = d.control("status")
        check(st["draining"], "status shows draining", st)
        # A late publish is refused too; status counts what is in flight.
        f = pub.publish_wait(9999, referral("LATE"))
        check_eq(body(f), "rejected", "a publish after the drain")
        # The subscriber gets everything that was accepted; acking it makes the stop safe.
        seqs = set()
        while len(seqs) < len(accepted):
            got = sub.deliveries(64, timeout=5)
            check(got, "deliveries stopped at %d of %d" % (len(seqs), len(accepted)))
            for dl in got:
                seqs.add(dl.seq)
                sub.ack(INBOX, dl.seq)
        check_eq(seqs, set(accepted.values()), "delivered = accepted")
        ds = wait_for("drain status: safe to stop", lambda: (lambda r: r if r["safe_to_stop"] else None)(
            d.control("drain", "status")), timeout=10)
        check(ds["publishes_in_flight"] == 0 and ds["deliveries_in_flight"] == 0 and ds["journal_queue"] == 0,
              "nothing in flight", ds)
        check("follow" not in ds, "nothing to follow once drained", ds)
        st = d.control("status")
        check(st["safe_to_stop"] and st["draining"] and st["deliveries_in_flight"] == 0, "status", st)
        p = ctl(d, "drain")
        check(p.returncode == 0 and "safe_to_stop: true" in p.stdout, "knoopctl drain when drained", p.stdout)
        h = d.control("health")
        check(not h["ready"] and "draining" in h["reasons"], "draining is not ready", h)
        check_eq(http(d.metrics_url + "/healthz")[0], 503, "/healthz while draining")
        m = parse_metrics(ctl(d, "metrics").stdout)
        check_eq(metric(m, "knoop_rejections_total", code="SHUTTING_DOWN"), float(len(rejected) + 1),
                 "refusals counted by code")
        check_eq(metric(m, "knoop_draining"), 1.0, "knoop_draining")
        d.stop()
        # Nothing half-done: every accepted message is journaled and the subscriber's cursor covers them all.
        rows = {s for (s,) in d.query("SELECT seq FROM messages")}
        check(set(accepted.values()) <= rows, "every accepted message is in the journal")
        cursor = d.query("SELECT acked_seq FROM subscribers WHERE name = 'drain-test'")
        check_eq(cursor[0][0], max(accepted.values()), "the durable cursor covers every delivery")


@test
def drain_cancel_takes_publishes_again():
    with Daemon() as d:
        pub = Client(d)
        pub.hello(MEMBER)
        check_eq(body(pub.publish_wait(1, referral("C1"))), "accepted", "before")
        d.control("drain")
        check_eq(body(pub.publish_wait(2, referral("C2"))), "rejected", "while draining")
        r = d.control("drain", "cancel")
        check(not r["draining"], "cancelled", r)
        check_eq(body(pub.publish_wait(3, referral("C3"))), "accepted", "after the cancel")
        check_eq([a for (a,) in d.query("SELECT action FROM audit ORDER BY id")], ["drain", "drain cancel"], "audit")
        d.stop()


# ---- upgrades ------------------------------------------------------------------------------------------------

@test
def a_journal_newer_than_the_binary_is_refused():
    """Migrations run forward at start-up; a journal a newer knoopd migrated is never opened by an older one."""
    with Daemon() as d:
        version = d.query("PRAGMA user_version")[0][0]
        check(version >= 1, "the journal records its schema version")
        d.stop()
        con = d.db()
        con.execute("PRAGMA user_version = %d" % (version + 1))
        con.commit()
        con.close()
        rc, out = d.start_expect_exit()
        check_eq(rc, 1, "start-up on a newer journal")
        check("newer than this knoopd" in out, "the reason", out[-600:])
        check_eq(d.query("PRAGMA user_version")[0][0], version + 1, "the journal is left as it was")


if __name__ == "__main__":
    run()
