# test_hardening.py — every binary the build makes (knoopd, the tools) carries the hardening the Makefile asks for:
# a PIE, full RELRO (a GNU_RELRO segment and BIND_NOW), the stack protector and fortified libc calls. Reads the ELF
# headers with readelf (binutils). Prints "N passed, N failed".
import os
import re
import subprocess
import sys

BUILD = os.environ.get("KNOOP_BUILD") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# knoopd and every tool (tools/<name>.c -> BUILD/<name>)
BINARIES = ["knoopd"] + sorted(f[:-2] for f in os.listdir(os.path.join(REPO, "tools")) if f.endswith(".c"))


def readelf(flag, path):
    return subprocess.run(["readelf", flag, "-W", path], capture_output=True, text=True).stdout


def check(path):
    problems = []
    if "DYN (Position-Independent Executable" not in readelf("-h", path) and "Type: DYN" not in \
            re.sub(r"\s+", " ", readelf("-h", path)):
        problems.append("not a position-independent executable")
    if "GNU_RELRO" not in readelf("-l", path):
        problems.append("no GNU_RELRO segment (-z relro)")
    dyn = readelf("-d", path)
    if not re.search(r"\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW", dyn):
        problems.append("not bound at start-up (-z now)")
    syms = readelf("--dyn-syms", path)
    if "__stack_chk_fail" not in syms:
        problems.append("no stack protector (__stack_chk_fail not referenced)")
    if not re.search(r"__\w+_chk\b", syms.replace("__stack_chk_fail", "")):
        problems.append("no fortified libc call (_FORTIFY_SOURCE)")
    return problems


def main():
    passed = failed = 0
    for name in BINARIES:
        path = os.path.join(BUILD, name)
        if not os.path.exists(path):
            print("FAIL %s: not built" % path)
            failed += 1
            continue
        problems = check(path)
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            passed += 1
            print("ok   %s: PIE, full RELRO, stack protector, fortified" % name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
