#!/usr/bin/env python3
"""test_roles.py — the control socket's roles (docs/operations.md): commands that read are for anyone who can open the
socket; commands that change the broker (subscriber rewind, dlq retry, dlq discard, purge now, reload) only for an
admin — root, knoopd's own uid, a uid in control_admin_uids or a member of a group in control_admin_gids. A refusal is
answered with a clear error and audited (actor, command, "refused"). knoopctl help shows each command's role.

The tests run as root and run knoopctl as other uids with setpriv; the socket lives in a directory anyone may enter,
with mode 0666, so those uids reach it."""
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import BUILD, Daemon, check, check_eq, run, test

CTL = os.path.join(BUILD, "knoopctl")
SETPRIV = shutil.which("setpriv")
NOBODY = 65534


def open_daemon(**settings):
    """knoopd whose control socket (mode 0666) sits in a world-searchable directory of its own."""
    sockdir = tempfile.mkdtemp(prefix="knoop-ctl-")
    os.chmod(sockdir, 0o755)
    path = os.path.join(sockdir, "knoopd.sock")
    base = {"control_socket": path, "control_socket_mode": "0666"}
    base.update(settings)
    d = Daemon(settings=base, start=False)
    d.socket_path = path
    d.start()
    return d, sockdir


def ctl_as(d, uid, *args, gid=None, groups=None):
    """Runs knoopctl as uid (primary gid gid, default uid; supplementary groups as given, default none)."""
    check(SETPRIV is not None, "setpriv (util-linux) is needed to run knoopctl as another uid")
    who = [SETPRIV, "--reuid=%d" % uid, "--regid=%d" % (uid if gid is None else gid)]
    who += ["--groups=" + ",".join(str(g) for g in groups)] if groups else ["--clear-groups"]
    return subprocess.run(who + [CTL, "-s", d.socket_path] + list(args), capture_output=True, text=True, timeout=10,
                          cwd="/")


def audit_rows(d, action, want=1, timeout=5.0):
    """The audit rows of action, once there are at least `want` (they commit a moment after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = d.query("SELECT actor, action, detail FROM audit WHERE action = ? ORDER BY id", action)
        if len(rows) >= want or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


CHANGING = [["reload"], ["subscriber", "rewind", "workers", "--stream", "inbox.99990001", "--seq", "1"],
            ["dlq", "discard", "1"], ["dlq", "retry", "1"], ["purge", "now"]]


@test
def a_non_admin_may_read_but_is_refused_every_change_and_the_refusal_is_audited():
    d, sockdir = open_daemon()
    try:
        p = ctl_as(d, NOBODY, "status")
        check_eq(p.returncode, 0, "status as uid 65534 (%s)" % p.stderr)
        p = ctl_as(d, NOBODY, "streams")
        check_eq(p.returncode, 0, "streams as uid 65534 (%s)" % p.stderr)
        for argv in CHANGING:
            name = " ".join(argv[:2]) if argv[0] in ("subscriber", "dlq", "purge") else argv[0]
            p = ctl_as(d, NOBODY, *argv)
            check_eq(p.returncode, 1, "%s as uid 65534: exit status" % name)
            check("'%s' changes the broker and needs an admin" % name in p.stderr and "uid 65534" in p.stderr,
                  "the refusal says why", name, p.stderr)
        for argv in CHANGING:
            name = " ".join(argv[:2]) if argv[0] in ("subscriber", "dlq", "purge") else argv[0]
            rows = audit_rows(d, name + " (refused)")
            check_eq(len(rows), 1, "one audit row for the refused %s" % name)
            check(rows[0][0].startswith("control uid=65534 gid=65534 pid="), "the actor is the peer", rows[0])
            check("not an admin" in rows[0][2], "the row says why", rows[0])
        check_eq(d.query("SELECT count(*) FROM audit WHERE action = 'reload'")[0][0], 0, "no reload ran")
        check("event=control.refused" in d.log(), "the refusal is logged")
        # root is an admin: reload runs and is audited under root's uid
        p = ctl_as(d, 0, "reload")
        check_eq(p.returncode, 0, "reload as root (%s)" % p.stderr)
        rows = audit_rows(d, "reload")
        check_eq(len(rows), 1, "reload audited")
        check(rows[0][0].startswith("control uid=0 "), "actor root", rows[0])
        d.stop()
    finally:
        d.close()
        shutil.rmtree(sockdir, ignore_errors=True)


@test
def admin_uids_and_gids_from_the_config_may_change_and_a_reload_can_revoke_them():
    d, sockdir = open_daemon(control_admin_uids='"65533, 1234"', control_admin_gids='"65532"')
    try:
        p = ctl_as(d, 65533, "reload")
        check_eq(p.returncode, 0, "reload by a uid in control_admin_uids (%s)" % p.stderr)
        p = ctl_as(d, 65531, "purge", "now", gid=65532)
        check_eq(p.returncode, 0, "purge now by primary gid 65532 (%s)" % p.stderr)
        p = ctl_as(d, 65530, "reload", gid=65530, groups=[100, 65532])
        check_eq(p.returncode, 0, "reload by supplementary group 65532 (%s)" % p.stderr)
        p = ctl_as(d, 65530, "reload", gid=65530, groups=[100])
        check_eq(p.returncode, 1, "reload by a uid in neither list")
        # a non-admin rewind of a subscriber that exists is refused before anything moves
        p = ctl_as(d, NOBODY, "subscriber", "rewind", "x", "--stream", "inbox.1", "--seq", "1")
        check("needs an admin" in p.stderr, "refused, not 'no durable subscriber'", p.stderr)
        actors = [r[0] for r in audit_rows(d, "reload", want=2)]
        check_eq(len(actors), 2, "two reloads audited")
        check(actors[0].startswith("control uid=65533 "), "by uid 65533", actors)
        check(actors[1].startswith("control uid=65530 gid=65530 "), "by uid 65530", actors)
        check_eq(len(audit_rows(d, "purge now")), 1, "purge now audited")
        # the lists are reloadable: without them, 65533 is refused
        with open(d.config_path) as f:
            text = f.read()
        with open(d.config_path, "w") as f:
            f.write(re.sub(r"\n  control_admin_(uids|gids): .*", "", text))
        d.control("reload")
        p = ctl_as(d, 65533, "reload")
        check_eq(p.returncode, 1, "after the reload 65533 is no admin")
        d.stop()
    finally:
        d.close()
        shutil.rmtree(sockdir, ignore_errors=True)


@test
def knoopctl_help_shows_each_commands_role_as_the_daemon_has_it():
    p = subprocess.run([CTL, "help"], capture_output=True, text=True, timeout=10, cwd="/")
    check_eq(p.returncode, 0, "knoopctl help without a daemon")
    with Daemon() as d:
        rows = d.table("help")
        check(len(rows) >= 18, "the daemon's help", len(rows))
        for row in rows:
            check(row["role"] in ("read", "admin"), "a role per command", row)
            line = [ln for ln in p.stdout.splitlines() if re.match(r"\s+%s\s+%s\s" % (re.escape(row["command"]),
                                                                                     row["role"]), ln)]
            check_eq(len(line), 1, "knoopctl help shows %s as %s" % (row["command"], row["role"]))
        admin = sorted(r["command"] for r in rows if r["role"] == "admin")
        check_eq(admin, ["backup", "clients add", "clients revoke", "dlq discard", "dlq retry", "drain", "drain cancel", "forget client",
                         "purge now", "reload", "subscriber rewind"], "the admin commands")
    p = subprocess.run([CTL, "reload", "-h"], capture_output=True, text=True, timeout=10, cwd="/")
    check("role: admin" in p.stdout, "a command's -h names its role", p.stdout)


if __name__ == "__main__":
    run()
