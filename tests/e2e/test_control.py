#!/usr/bin/env python3
"""test_control.py — the control socket and knoopctl with bad input: a line that is not JSON, a request of the wrong
shape, an unknown command, a line over 1 MiB each get a clear error; the daemon keeps serving, and the same
connection goes on where the protocol allows. knoopctl prints tables, raw JSON, and its help without a daemon."""
import json
import os
import socket
import subprocess

from harness import Daemon, check, check_eq, run, test, BUILD


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


if __name__ == "__main__":
    run()
