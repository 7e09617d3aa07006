# test_disk_full.py — knoopd on a disk that fills up: the data directory is a small tmpfs (mounted by the test, which
# needs root: CI runs as root), filled to the last byte by a file beside the journal. Publishers get a Rejected that
# says the disk is full; knoopd stays up and serves what is stored; failed cursor and lease writes wait a backoff (the
# log and the CPU stay quiet); after space is freed it accepts again; SIGTERM stops it while the disk is full, saying
# what it gave up; the journal passes PRAGMA integrity_check.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_disk_full.py [TEST ...]
import errno
import os
import subprocess
import time

from harness import (COOP, MEMBER, Client, Daemon, TestFailure, body, check, check_eq, envelope, pb, run, test)

INBOX = "inbox." + COOP
TMPFS_SIZE = "8m"


def referral(ident, size=1024):
    return envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral", identificatie=ident,
                    content_type="application/octet-stream", payload=b"d" * size)


class SmallDisk:
    """A tmpfs of TMPFS_SIZE mounted on `path` for the life of the `with` block (unmounted in any case)."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        if os.geteuid() != 0:
            raise TestFailure("test_disk_full mounts a tmpfs and needs root (CI runs the tests as root); "
                              "run it as root, e.g. sudo -E /usr/bin/python3 tests/e2e/test_disk_full.py")
        os.makedirs(self.path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % TMPFS_SIZE, "tmpfs", self.path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise TestFailure("cannot mount a tmpfs on %s: %s" % (self.path, r.stderr.strip()))
        self.filler = os.path.join(self.path, "filler")
        return self

    def fill(self):
        """Writes the filler until the file system is full; returns its size."""
        chunk = b"\0" * 65536
        with open(self.filler, "ab", buffering=0) as f:
            while True:
                try:
                    f.write(chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    if len(chunk) == 1:
                        break
                    chunk = chunk[:len(chunk) // 2]
        return os.path.getsize(self.filler)

    def free(self):
        os.unlink(self.filler)

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", self.path], capture_output=True)
        return False


def cpu_seconds(pid):
    """User + system CPU seconds knoopd has used (all threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def error_lines(d):
    return sum(1 for line in d.log().splitlines() if "level=error" in line or "level=warn" in line)


@test(timeout=240)
def a_full_disk_is_refused_clearly_and_survived():
    d = Daemon(start=False, settings={"peer_timeout_ms": 20000, "heartbeat_ms": 2000})
    try:
        with SmallDisk(d.data_dir) as disk:
            d.start()
            pub = Client(d, MEMBER, client_name="publisher")
            accepted = [pub.publish_ok(i + 1, referral("S%d" % i)).seq for i in range(100)]
            early = Client(d, COOP, client_name="early")
            early.subscribe(INBOX, "early", credit=500, start=pb.EARLIEST)
            for dl in early.deliveries(100, 10):
                early.ack(INBOX, dl.seq)
            time.sleep(0.5)

            # -- the disk fills up (another file took the space) --
            disk.fill()
            f = pub.publish_wait(1000, referral("FULL1"), timeout=10)
            check(body(f) == "rejected" and f.rejected.code == pb.INTERNAL, "publish on a full disk:", f)
            check("disk is full" in f.rejected.reason and "Input/output" not in f.rejected.reason,
                  "the reason names the full disk:", f.rejected.reason)
            # What is stored is still delivered: a new durable subscriber needs a cursor row and a delivery lease,
            # neither can be written, and it gets the stored messages all the same.
            late = Client(d, COOP, client_name="late")
            late.subscribe(INBOX, "late", credit=500, start=pb.EARLIEST)
            got = late.deliveries(100, 15)
            check_eq([g.seq for g in got], accepted, "stored messages delivered while the disk is full")
            for g in got:
                late.ack(INBOX, g.seq)
            # Failed writes wait a backoff: over 10 s the log gains a handful of lines and knoopd idles.
            lines0, cpu0, t0 = error_lines(d), cpu_seconds(d.pid), time.monotonic()
            for i in range(20):                       # the publisher retries meanwhile, twice a second
                f = pub.publish_wait(2000 + i, referral("R%d" % i), timeout=10)
                check(body(f) == "rejected" and "disk is full" in f.rejected.reason, "retry on a full disk:", f)
                early.heartbeat()
                late.heartbeat()
                time.sleep(0.5)
            span = time.monotonic() - t0
            lines, cpu = error_lines(d) - lines0, (cpu_seconds(d.pid) - cpu0) / span
            print("    full disk for %.0f s: %d warn/error lines, %.3f cores" % (span, lines, cpu), flush=True)
            check(lines <= 40, "log lines while the disk is full: %d in %.0f s" % (lines, span))
            check(cpu < 0.2, "knoopd used %.2f cores while the disk was full" % cpu)
            check(d.running() and d.control("status")["last_seq"] == accepted[-1], "knoopd up, nothing new stored")

            # -- space comes back: it accepts again, the cursors are written --
            disk.free()
            deadline = time.monotonic() + 15
            while "event=delivery.cursor_write_recovered" not in d.log() and time.monotonic() < deadline:
                late.heartbeat()
                early.heartbeat()
                time.sleep(0.2)
            check("event=delivery.cursor_write_recovered" in d.log(), "the cursor writes recovered")
            after = pub.publish_ok(3000, referral("AFTER1")).seq
            accepted.append(after)
            check_eq([g.seq for g in late.deliveries(1, 10)], [after], "delivery after the disk has room again")
            late.ack(INBOX, after)
            time.sleep(0.5)
            deadline = time.monotonic() + 5
            while d.query("SELECT acked_seq FROM subscribers WHERE name = 'late'") != [(after,)]:
                check(time.monotonic() < deadline, "late's stored cursor:",
                      d.query("SELECT acked_seq FROM subscribers WHERE name = 'late'"), "want", after)
                late.heartbeat()
                time.sleep(0.2)

            # -- full again, and SIGTERM: it stops anyway and says what it gave up --
            pub.publish_ok(3001, referral("AFTER2"))
            accepted.append(d.control("status")["last_seq"])
            late.deliveries(1, 5)
            disk.fill()
            late.ack(INBOX, accepted[-1])               # a cursor that cannot be written any more
            time.sleep(0.3)
            t0 = time.monotonic()
            d.stop(timeout=15)
            took = time.monotonic() - t0
            log = d.log()
            print("    SIGTERM on a full disk: stopped in %.1f s" % took, flush=True)
            check("event=daemon.stopped" in log, "daemon.stopped logged")
            check("event=delivery.cursor_given_up" in log, "the cursor given up at the stop is logged")
            check("event=journal.checkpoint_failed" in log, "the final checkpoint's failure is logged")

            # -- room again: it starts, everything accepted is there, the journal is sound --
            disk.free()
            d.start()
            check_eq(d.query("PRAGMA integrity_check"), [("ok",)], "integrity_check")
            stored = {s for (s,) in d.query("SELECT seq FROM messages")}
            check_eq(sorted(set(accepted) - stored), [], "accepted messages missing after the restart")
            check_eq(len(stored), len(accepted), "messages stored")
            again = Client(d, MEMBER)
            check(body(again.publish_wait(4000, referral("AFTER3"))) == "accepted", "publish after the restart")
            d.stop()
    finally:
        d.close()


if __name__ == "__main__":
    run()
