# test_format.py — the whole C tree has one format (.clang-format at the root): each file that `make format` would
# change is a failure, named with the first lines clang-format would touch. Prints "N passed, N failed".
import glob
import os
import shutil
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PATTERNS = ["daemon/*/*.[ch]", "adapters/*/*.[ch]", "client/*.[ch]", "include/knoop/*.h", "tools/*.c",
            "tests/unit/*.[ch]", "tests/fuzz/*.[ch]"]


def main():
    exe = shutil.which("clang-format")
    if not exe:
        print("FAIL clang-format is not installed (make deps installs it)")
        print("0 passed, 1 failed")
        return 1
    files = sorted(f for p in PATTERNS for f in glob.glob(os.path.join(REPO, p)))
    passed = failed = 0
    for f in files:
        r = subprocess.run([exe, "--dry-run", "--Werror", f], capture_output=True, text=True)
        if r.returncode == 0:
            passed += 1
        else:
            failed += 1
            first = "\n".join(r.stderr.splitlines()[:3])
            print("FAIL %s is not formatted (run `make format`):\n%s" % (os.path.relpath(f, REPO), first))
    print("format: %d files checked against .clang-format" % len(files))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
