# test_config_check.py — `knoopd -t`: the embedded demo and the shipped configurations are valid; a broken file
# makes it exit 1 with "FILE:LINE: path.to.field: message" on stderr, for daemon settings and the network section.
#   KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_config_check.py [TEST ...]
import glob
import os
import re
import shutil
import subprocess
import tempfile

from harness import KNOOPD, REPO, check, check_eq, run, test

ALPHEN = os.path.join(REPO, "deploy", "networks", "alphen.yaml")


class Workdir:
    """A temp dir to run knoopd -t in (so nothing it might create lands in the repository)."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="knoop-cfg-")
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def knoopd(self, *args):
        p = subprocess.run([KNOOPD] + list(args), cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        return p.returncode, p.stdout.decode(), p.stderr.decode()


def expect_invalid(w, name, text, line, field, message, run_too=False):
    """knoopd -t -c NAME exits 1; stderr holds 'NAME:LINE: FIELD: ...MESSAGE...'."""
    path = w.write(name, text)
    rc, out, err = w.knoopd("-t", "-c", name)
    check_eq(rc, 1, "exit code of -t on %s (stderr %r)" % (name, err))
    check_eq(out, "", "stdout of -t on a broken file")
    want = "%s:%d: %s: " % (name, line, field)
    check(want in err, "stderr of -t on %s lacks %r:" % (name, want), repr(err))
    check(message in err, "stderr of -t on %s lacks %r:" % (name, message), repr(err))
    check_eq(err.count("\n"), 1, "one line on stderr")
    if run_too:
        # Starting with the same file fails the same way, before touching anything.
        rc, out, err2 = w.knoopd("-c", path)
        check_eq(rc, 1, "exit code of knoopd -c on %s" % name)
        check(want in err2 and message in err2, "knoopd -c on a broken file:", repr(err2))
    check(not os.path.exists(os.path.join(w.dir, "var")), "checking created a data dir")
    return err


def alphen(old, new, count=1):
    with open(ALPHEN) as f:
        text = f.read()
    check_eq(text.count(old), count, "occurrences of %r in alphen.yaml (test data out of date?)" % old)
    return text.replace(old, new)


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in text" % needle)


@test
def embedded_demo_config_is_valid():
    with Workdir() as w:
        rc, out, err = w.knoopd("-t")
        check_eq(rc, 0, "knoopd -t exit code (stderr %r)" % err)
        check(re.search(r"\bvalid\b", out) and "invalid" not in out, "stdout of knoopd -t:", repr(out))
        check("<embedded demo>" in out, "stdout names the embedded demo:", repr(out))
        check_eq(err, "", "stderr of knoopd -t")
        check_eq(os.listdir(w.dir), [], "files created by knoopd -t")


@test
def shipped_configs_are_valid():
    files = sorted(glob.glob(os.path.join(REPO, "deploy", "networks", "*.yaml"))) + \
        [os.path.join(REPO, "deploy", "knoopd.yaml")]
    check(len(files) >= 3, "deploy configs found:", files)
    with Workdir() as w:
        for path in files:
            rc, out, err = w.knoopd("-t", "-c", path)
            check_eq(rc, 0, "knoopd -t -c %s (stderr %r)" % (path, err))
            check("%s is valid" % path in out, "stdout for %s:" % path, repr(out))
            check(re.search(r"valid: \d+ parties, \d+ contracts", out), "party/contract counts:", repr(out))


@test
def daemon_section_errors_name_file_line_and_field():
    head = "daemon:\n  listen: tcp://127.0.0.1:5570\n"
    with Workdir() as w:
        # The two examples of the brief, to the letter.
        err = expect_invalid(w, "x.yaml", head + "  data_dir: ./var\n  bogus: 1\n", 4, "daemon.bogus",
                             "Unexpected key: bogus", run_too=True)
        check("x.yaml:4: daemon.bogus: Unexpected key: bogus" in err, repr(err))
        err = expect_invalid(w, "x.yaml", head + "  max_message_bytes: 5\n", 3, "daemon.max_message_bytes",
                             "5 is out of range (1024 to 268435456)", run_too=True)
        check("x.yaml:3: daemon.max_message_bytes: max_message_bytes: 5 is out of range (1024 to 268435456)" in err,
              repr(err))
        # Wrong types.
        expect_invalid(w, "type.yaml", head + "  heartbeat_ms: fast\n", 3, "daemon.heartbeat_ms", "fast")
        expect_invalid(w, "seq.yaml", "daemon:\n  data_dir: ./v\n  listen: [a, b]\n", 3, "daemon.listen", "")
        expect_invalid(w, "map.yaml", "daemon:\n  listen:\n    a: b\n", 3, "daemon.listen", "")  # the value
        # Out of range, both ends, and a string too long.
        expect_invalid(w, "hi.yaml", head + "  max_message_bytes: 268435457\n", 3, "daemon.max_message_bytes",
                       "268435457 is out of range")
        expect_invalid(w, "hb.yaml", head + "  heartbeat_ms: 99\n", 3, "daemon.heartbeat_ms", "99 is out of range")
        expect_invalid(w, "long.yaml", "daemon:\n  listen: tcp://" + "a" * 300 + ":1\n", 2, "daemon.listen",
                       "out of range")
        # Values that parse but mean nothing, and a cross-field rule.
        expect_invalid(w, "level.yaml", head + "  log_level: loud\n", 3, "daemon.log_level", "'loud'")
        expect_invalid(w, "peer.yaml", head + "  heartbeat_ms: 5000\n  peer_timeout_ms: 6000\n", 4,
                       "daemon.peer_timeout_ms", "at least twice heartbeat_ms")
        # Unknown key at the top, several lines down.
        expect_invalid(w, "top.yaml", head + "\n# a comment\ndeamon:\n  listen: x\n", 5, "deamon",
                       "Unexpected key: deamon")
        # A file that is not there.
        rc, out, err = w.knoopd("-t", "-c", "missing.yaml")
        check_eq(rc, 1, "exit code for a missing file")
        check("missing.yaml" in err and "cannot open" in err, "stderr for a missing file:", repr(err))


@test
def yaml_syntax_error_names_the_line():
    with Workdir() as w:
        text = "daemon:\n  listen: tcp://127.0.0.1:5570\n  data_dir: \"./var\n  heartbeat_ms: 500\n"
        path = w.write("syntax.yaml", text)
        rc, out, err = w.knoopd("-t", "-c", path)
        check_eq(rc, 1, "exit code for broken YAML")
        m = re.search(r"syntax\.yaml:(\d+): ", err)
        check(m, "stderr for broken YAML names no line:", repr(err))
        check(3 <= int(m.group(1)) <= 5, "line of the YAML error:", repr(err))


@test
def network_section_errors_name_file_line_and_field():
    with Workdir() as w:
        text = alphen('financier: "0484"', 'financier: "0485"')
        expect_invalid(w, "net1.yaml", text, line_of(text, 'financier: "0485"'), "network.contracts[0].financier",
                       "unknown financier 0485", run_too=True)
        text = alphen('"99990203", "99990204"]', '"99990299", "99990204"]')
        expect_invalid(w, "net2.yaml", text, line_of(text, '"99990299"'), "network.contracts[0].members[1]",
                       "unknown member 99990299")
        text = alphen('{code: "0484", kind: gemeente', '{code: "04845", kind: gemeente')
        expect_invalid(w, "net3.yaml", text, line_of(text, '"04845"'), "network.parties[0].code", "04845")
        text = alphen("indicator_set: tom-kpi-10,", "indicator_set: tom-kpi-11,")
        expect_invalid(w, "net4.yaml", text, line_of(text, "tom-kpi-11,"),
                       "network.contracts[0].outcomes.indicator_set", "tom-kpi-11")
        text = alphen('main_contractor: "99990202"', 'main_contractor: "99990299"')
        expect_invalid(w, "net5.yaml", text, line_of(text, '"99990299"'), "network.parties[7].main_contractor",
                       "unknown main contractor 99990299")


@test
def contract_terms_errors_name_file_line_and_field():
    # The terms a financier pays for (period, scope, budget model and shares, the calendar): each mistake names the
    # file, the line and the field, as the routing dimensions do. (old, new, the text on the line it must name)
    failures = []
    cases = [
        ('start: "2025-01-01"', 'start: "2025-02-30"', 'start: "2025-02-30"', "network.contracts[0].period.start",
         "is not a date"),
        ('{party: "99990212", amount: 200000}', '{party: "99990299", amount: 200000}', '"99990299"',
         "network.contracts[0].budget.shares[5].party", "99990299 is not a party"),
        ('{party: "99990214", amount: 150000}', '{party: "99990214", amount: 150001}', "shares:",
         "network.contracts[0].budget.shares", "the shares add up to 8500001.00"),
        ("model: lump-sum", "model: volume-price", "model: volume-price", "network.contracts[0].budget.model",
         "belongs to a outputgericht or inspanningsgericht contract"),
        ("due_days: 30}", "due_days: 30, required: [bereik, geluk]}", "geluk", "network.contracts[0].outcomes.required[1]",
         "'geluk' is not in indicator set 'tom-kpi-10'"),
        ("extension_years: [2]}", "extension_years: [2], extended: 3}", "extended: 3",
         "network.contracts[0].period.extended", "3 options taken, but the period has 1"),
    ]
    with Workdir() as w:
        for i, (old, new, needle, field, message) in enumerate(cases):
            text = alphen(old, new)
            try:
                expect_invalid(w, "terms%d.yaml" % i, text, line_of(text, needle), field, message)
            except AssertionError as e:
                failures.append("%s (%s at line %d): %s" % (new, field, line_of(text, needle), e))
    check(not failures, "%d of %d cases wrong:" % (len(failures), len(cases)), " || ".join(failures))


@test
def network_schema_errors_inside_lists_point_at_the_right_entry():
    # Errors found by the YAML schema (unknown key, wrong type) inside a list entry must name that entry (0-based,
    # as the checks above do) and its line.
    failures = []
    with Workdir() as w:
        cases = [
            ("s1.yaml", alphen("      financing: taakgericht\n", "      financing: taakgericht\n      colour: red\n"),
             "colour: red", "network.contracts[0].colour", "Unexpected key: colour"),
            ("s2.yaml", alphen('{code: "99990203", kind: provider,', '{code: "99990203", kind: provider, colour: red,'),
             "colour: red", "network.parties[3].colour", "Unexpected key: colour"),
            ("s3.yaml", alphen("cadence: quarterly", "cadence: weekly"), "weekly",
             "network.contracts[0].outcomes.cadence", "weekly"),
            ("s4.yaml", alphen("amount: 8500000", "amount: lots"), "amount: lots",
             "network.contracts[0].budget.amount", "lots"),
        ]
        for name, text, needle, field, message in cases:
            try:
                expect_invalid(w, name, text, line_of(text, needle), field, message)
            except AssertionError as e:
                failures.append("%s (%s at line %d): %s" % (name, field, line_of(text, needle), e))
    check(not failures, "%d of %d cases wrong:" % (len(failures), len(cases)), " || ".join(failures))


@test
def enum_settings_accept_only_their_names():
    # identity is one of white-label / legacy; a number is not an identity.
    failures = []
    with Workdir() as w:
        for bad in ("99", "0", "-1"):
            text = alphen("identity: legacy", "identity: %s" % bad)
            try:
                expect_invalid(w, "enum%s.yaml" % bad, text, line_of(text, "identity: %s" % bad),
                               "network.contracts[0].identity", bad)
            except AssertionError as e:
                failures.append("identity: %s: %s" % (bad, e))
    check(not failures, " || ".join(failures))


@test
def negative_number_is_reported_as_written():
    with Workdir() as w:
        err = expect_invalid(w, "neg.yaml", "daemon:\n  max_message_bytes: -5\n", 2, "daemon.max_message_bytes", "")
        check("-5" in err, "the error does not quote the value as written (-5):", repr(err))
        check("18446744073709551611" not in err, "the error reports -5 wrapped to 2^64-5:", repr(err))


@test
def listen_endpoint_is_checked():
    # An endpoint knoopd can never bind is a broken configuration: -t must say so, not the start-up.
    failures = []
    with Workdir() as w:
        for i, listen in enumerate(("bogus://127.0.0.1:5570", "127.0.0.1:5570", "tcp://127.0.0.1:99999",
                                    "tcp://127.0.0.1:port")):
            try:
                expect_invalid(w, "listen%d.yaml" % i, "daemon:\n  data_dir: ./var\n  listen: %s\n" % listen, 3,
                               "daemon.listen", "")
            except AssertionError as e:
                failures.append("listen: %s: %s" % (listen, e))
    check(not failures, " || ".join(failures))


if __name__ == "__main__":
    run()
