# testkit.py — the few helpers both client test programs share: assertions that say what failed, and a runner that
# prints one line per test and the closing "N passed, N failed" line tests/run.sh looks for.
"""Shared by test_client_offline.py and test_client_live.py; not part of the client library."""

import sys
import time
import traceback


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def raises(exc_type, fn, code=None):
    """Calls fn, which must raise exc_type (with .code == code when given); returns the exception."""
    try:
        fn()
    except exc_type as e:
        if code is not None:
            expect(getattr(e, "code", None) == code, "expected code %d, got %s" % (code, e))
        return e
    raise AssertionError("expected %s" % exc_type.__name__)


def eventually(cond, timeout=2.0):
    """Polls cond() until it holds or timeout seconds pass (the other side runs in another thread or process)."""
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


def tests_in(namespace):
    """The test_* functions of a module's globals(), in definition order."""
    return [v for k, v in list(namespace.items()) if k.startswith("test_") and callable(v)]


def run(tests, fixture, teardown):
    """Runs each test with the fixture, then teardown(fixture); prints the summary; returns the exit status."""
    passed = failed = 0
    try:
        for t in tests:
            try:
                t(fixture)
                passed += 1
                print("ok   %s" % t.__name__)
            except Exception:  # noqa: BLE001  (a failing test must not stop the others)
                failed += 1
                print("FAIL %s" % t.__name__)
                traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
    finally:
        teardown(fixture)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
