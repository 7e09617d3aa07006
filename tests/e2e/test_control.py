#!/usr/bin/env python3
"""test_control.py — the control socket and knoopctl with bad input: a line that is not JSON, a request of the wrong
shape, an unknown command, a line over 1 MiB each get a clear error; the daemon keeps serving, and the same
connection goes on where the protocol allows. knoopctl prints tables, raw JSON, and its help without a daemon; its
own options (-s, --json, -h) stand anywhere on the line, an option nobody knows is refused (knoopctl: exit 2; the
daemon: an error naming it), and every option a command's usage names is one the daemon knows. A control socket
that cannot be made fails start-up with the reason; the socket gets the configured mode."""
import json
import os
import re
import socket
import stat
import subprocess

from harness import COOP, Daemon, check, check_eq, run, test, BUILD
import legacy_messages as L

CTL = os.path.join(BUILD, "knoopctl")


def ctl(*args, cwd=None):
    """Runs knoopctl with exactly these arguments (no $KNOOP_CONTROL, from a directory without ./var, so only
    the -s on the line can find the daemon)."""
    env = {k: v for k, v in os.environ.items() if k != "KNOOP_CONTROL"}
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=10, env=env,
                          cwd=cwd or "/")


def lines(d, payloads, timeout=5):
    """Sends raw lines on ONE control connection; returns the parsed responses (None for a closed connection)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(d.socket_path)
    out = []
    buf = b""
    try:
        for p in payloads:
            s.sendall(p)
            while b"\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    out.append(None)
                    return out
                buf += chunk
            line, buf = buf.split(b"\n", 1)
            out.append(json.loads(line.decode()))
    finally:
        s.close()
    return out


@test
def malformed_requests_get_errors_and_the_connection_goes_on():
    with Daemon() as d:
        r = lines(d, [b"this is not json\n", b'{"argv": 5}\n', b'{"argv": []}\n', b'{"argv": ["launch", "rockets"]}\n',
                      b'{"argv": ["status", 7]}\n', b'{"argv": ["status"]}\n'])
        check_eq(len(r), 6, "one answer per line")
        check(not r[0]["ok"] and "not JSON" in r[0]["error"], "non-JSON line", r[0])
        check(not r[1]["ok"] and "argv" in r[1]["error"], "argv not a list", r[1])
        check(not r[2]["ok"], "empty argv", r[2])
        check(not r[3]["ok"] and "unknown command" in r[3]["error"] and "launch" in r[3]["error"], "unknown", r[3])
        check(not r[4]["ok"] and "string" in r[4]["error"], "non-string argument", r[4])
        check(r[5]["ok"] and r[5]["result"]["version"], "status after the bad lines, same connection", r[5])


@test
def a_refusal_that_would_quote_broken_text_is_still_answered():
    """tests/fuzz/regressions/fuzz_control/: jansson quotes the bytes near a fault (here cut inside a character), and
    a long word fills the error buffer up to the middle of one; both were a closed connection instead of an answer."""
    with Daemon() as d:
        word = "x" * (1023 - len("'status' takes no arguments, not '") - 1) + "é" * 10
        r = lines(d, [b'{"argv":["backupre\\\xd6\xbc"]}\n', (json.dumps({"argv": ["status", word]},
                                                                        ensure_ascii=False) + "\n").encode(),
                      b'{"argv": ["status"]}\n'])
        check_eq(len(r), 3, "one answer per line")
        check(r[0] is not None and not r[0]["ok"] and "not JSON" in r[0]["error"], "broken escape answered", r[0])
        check(r[1] is not None and not r[1]["ok"] and "takes no arguments" in r[1]["error"], "long word answered",
              r[1])
        check(r[2] is not None and r[2]["ok"], "the same connection goes on", r[2])


@test
def an_oversized_line_is_refused_and_the_daemon_keeps_serving():
    with Daemon() as d:
        r = lines(d, [b"x" * (1 << 20) + b"yyyy\n"], timeout=10)
        check(r and r[0] is not None and not r[0]["ok"] and "1 MiB" in r[0]["error"], "over-long line", r and r[0])
        check(d.control("status")["version"], "a new connection is served")
        check(d.running(), "knoopd still runs")


@test
def knoopctl_prints_tables_json_and_errors():
    with Daemon() as d:
        ctl = os.path.join(BUILD, "knoopctl")
        p = subprocess.run([ctl, "-s", d.socket_path, "config"], capture_output=True, text=True, timeout=10)
        check_eq(p.returncode, 0, "knoopctl config exit code")
        check(p.stdout.splitlines()[0].split()[:3] == ["setting", "value", "reloadable"], "table header", p.stdout)
        check("max_message_bytes" in p.stdout, "a setting row", p.stdout)
        p = subprocess.run([ctl, "-s", d.socket_path, "--json", "status"], capture_output=True, text=True, timeout=10)
        check_eq(p.returncode, 0, "knoopctl --json exit code")
        check(json.loads(p.stdout)["result"]["listen"] == d.endpoint, "raw JSON answer", p.stdout)
        p = subprocess.run([ctl, "-s", d.socket_path, "no-such-command"], capture_output=True, text=True, timeout=10)
        check_eq(p.returncode, 1, "unknown command exit code")
        check("unknown command" in p.stderr, "unknown command message", p.stderr)
    p = subprocess.run([ctl, "-s", "/nonexistent/knoopd.sock", "status"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 1 and "cannot connect" in p.stderr, "no daemon: a clear error", p.returncode, p.stderr)
    p = subprocess.run([ctl, "help"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 0 and "route explain" in p.stdout and "dlq retry" in p.stdout,
          "help works without a daemon and lists the table", p.stdout)


@test
def knoopctl_options_stand_anywhere_on_the_line():
    with Daemon(network=L.demo_network()) as d:
        sock = d.socket_path
        for line in (["-s", sock, "parties", "--json"], ["--json", "-s", sock, "parties"],
                     ["parties", "--json", "-s", sock], ["parties", "--socket=" + sock, "--json"]):
            p = ctl(*line)
            check_eq(p.returncode, 0, "exit code of knoopctl %s (%s)" % (" ".join(line), p.stderr))
            r = json.loads(p.stdout)
            check(r["ok"] and r["command"] == "parties" and r["result"]["columns"][0] == "code",
                  "knoopctl %s prints the JSON answer" % " ".join(line), p.stdout[:300])
            check(any(row[0] == COOP for row in r["result"]["rows"]), "the cooperative is a party", p.stdout[:300])
        p = ctl("parties", "-s", sock)
        check_eq(p.returncode, 0, "-s after the command (%s)" % p.stderr)
        check(p.stdout.split()[:3] == ["code", "kind", "name"], "a table, not JSON", p.stdout[:200])
        # A command's own options keep their values; --json among them is still knoopctl's.
        p = ctl("dlq", "list", "--stream", "inbox." + L.MEMBER, "--json", "--limit", "5", "-s", sock)
        check_eq(p.returncode, 0, "dlq list with options around --json (%s)" % p.stderr)
        check_eq(json.loads(p.stdout)["result"]["rows"], [], "no dead letters")
        p = ctl("dlq", "list", "--reason", "--json", "-s", sock)
        check_eq(p.returncode, 0, "a value that looks like an option belongs to the command (%s)" % p.stderr)
        check(p.stdout.startswith("id "), "--reason took '--json' as its value: a table, not JSON", p.stdout[:200])
        p = ctl("dlq", "list", "-h")
        check(p.returncode == 0 and "dlq list [--stream S]" in p.stdout, "-h after a command: its usage", p.stdout)


@test
def knoopctl_refuses_an_option_it_does_not_know():
    with Daemon() as d:
        sock = d.socket_path
        for line, named in ((["--jsno", "parties", "-s", sock], "'--jsno'"),
                            (["parties", "--jsno", "-s", sock], "'--jsno' for 'parties'"),
                            (["-s", sock, "dlq", "list", "--limt", "5"], "'--limt' for 'dlq list'"),
                            (["-s", sock, "route", "explain", "--from", "0917", "--colour", "red"], "'--colour'")):
            p = ctl(*line)
            check_eq(p.returncode, 2, "exit code of knoopctl %s" % " ".join(line))
            check("unknown option " + named in p.stderr, "the message names the option", p.stderr)
            check_eq(p.stdout, "", "nothing on stdout")
        p = ctl("status", "-s")
        check(p.returncode == 2 and "-s needs" in p.stderr, "-s without a path", p.returncode, p.stderr)
        p = ctl()
        check(p.returncode == 2 and "no command" in p.stderr, "no command at all", p.returncode, p.stderr)
        check(d.running(), "knoopd still runs")


@test
def the_daemon_refuses_an_option_or_argument_a_command_does_not_take():
    with Daemon() as d:
        for argv, named in ((["parties", "--x"], "'--x'"), (["status", "now"], "'now'"),
                            (["purge", "now", "--dry-run"], "'--dry-run'"),
                            (["dlq", "list", "--limt", "5"], "'--limt'"), (["dlq", "list", "--limit", "lots"], "'lots'"),
                            (["dlq", "show", "1", "--stream", "s"], "'--stream'"),
                            (["dlq", "retry", "1", "--state", "open"], "'--state'"),
                            (["dlq", "discard", "1", "2"], "'2'"),
                            (["route", "explain", "--from", "0917", "--kind", "1", "--colour", "red"], "'--colour'"),
                            (["route", "explain", "--from", "0917", "--kind", "no-such-kind"], "'no-such-kind'"),
                            (["subscriber", "rewind", "e", "--stream", "s", "--seq", "1", "--force"], "'--force'"),
                            (["deadlines", "--al"], "'--al'"), (["alerts", "many"], "'many'"),
                            (["alerts", "5", "6"], "'6'")):
            r = d.control_raw(*argv)
            check(not r["ok"] and named in r["error"], "%s: refused, naming %s" % (argv, named), r)
        r = d.control_raw("dlq", "list", "--limt", "5")
        check("--stream" in r["error"] and "--limit" in r["error"], "the error lists the options there are", r)
        # Through knoopctl after `--` (sent as it is): the daemon's error, exit 1.
        p = ctl("-s", d.socket_path, "--", "dlq", "list", "--limt", "5")
        check(p.returncode == 1 and "unknown option '--limt'" in p.stderr, "knoopctl shows the daemon's refusal",
              p.returncode, p.stderr)
        check(d.running(), "knoopd still runs")


@test
def every_option_a_usage_names_is_known_to_the_daemon():
    """knoopctl passes what a command's usage names; the daemon must take each of them (fresh daemon: no dead
    letters, no subscribers, so nothing here changes anything)."""
    with Daemon() as d:
        rows = d.table("help")
        checked = 0
        for row in rows:
            words = row["command"].split()
            tokens = [t for t in re.split(r"[ |\[\]]+", row["arguments"]) if t]
            for i, t in enumerate(tokens):
                if not t.startswith("--"):
                    continue
                takes_value = i + 1 < len(tokens) and tokens[i + 1][:1].isupper()
                r = d.control_raw(*(words + [t] + (["x"] if takes_value else [])))
                check(r["ok"] or "unknown option" not in r["error"], "%s %s: the daemon does not know it"
                      % (row["command"], t), r)
                checked += 1
        check(checked >= 15, "options checked", checked)


@test
def a_control_socket_that_cannot_be_made_fails_start_up():
    d = Daemon(settings={"control_socket": "/nonexistent-knoop-dir/knoopd.sock"}, start=False)
    rc, out = d.start_expect_exit()
    check_eq(rc, 1, "exit code")
    check("control socket /nonexistent-knoop-dir/knoopd.sock: bind:" in out, "the reason, with the path", out[-1500:])
    d.close()
    d = Daemon(start=False)
    os.makedirs(d.data_dir, exist_ok=True)
    with open(d.socket_path, "w") as f:  # a regular file where the socket goes: not ours to remove
        f.write("keep me")
    rc, out = d.start_expect_exit()
    check_eq(rc, 1, "exit code with a file in the way")
    check("control socket %s: bind:" % d.socket_path in out, "the reason", out[-1500:])
    with open(d.socket_path) as f:
        check_eq(f.read(), "keep me", "the file is left alone")
    d.close()


@test
def the_socket_has_the_configured_mode_and_open_connections_close_at_stop():
    with Daemon(settings={"control_socket_mode": "0600"}) as d:
        check_eq(stat.S_IMODE(os.stat(d.socket_path).st_mode), 0o600, "socket mode")
        idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        idle.connect(d.socket_path)
        idle.sendall(b'{"argv": ["sta')  # half a request, left open
        check(d.control("status")["version"], "another connection is served meanwhile")
        d.stop()
        idle.close()
        check(not os.path.exists(d.socket_path), "the socket file is removed at stop")


if __name__ == "__main__":
    run()
