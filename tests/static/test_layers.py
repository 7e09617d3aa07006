# test_layers.py — the daemon's folders are layers and their dependencies point one way (docs/layers.md). Reads every
# #include "..." of daemon/, adapters/, client/ and tools/ and fails on one a folder may not use, on a SQLite
# include outside daemon/store/, and on a cycle between folders. Prints "N passed, N failed" like the other tests.
import os
import re
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Bottom to top. A folder may include its own headers and those of the folders listed for it, nothing else.
ALLOWED = {
    "daemon/base":    [],
    "daemon/config":  ["daemon/base"],
    "daemon/store":   ["daemon/base"],
    "daemon/core":    ["daemon/base", "daemon/config", "daemon/store"],
    "daemon/route":   ["daemon/base", "daemon/config", "daemon/store", "daemon/core"],
    "daemon/deliver": ["daemon/base", "daemon/config", "daemon/store", "daemon/core", "daemon/route"],
    "daemon/finance": ["daemon/base", "daemon/config", "daemon/store", "daemon/core", "daemon/route"],
    "daemon/ingest":  ["daemon/base", "daemon/config", "daemon/store", "daemon/core", "daemon/route",
                       "daemon/deliver", "daemon/finance"],
    "daemon/legacy":  ["daemon/base", "daemon/config", "daemon/store", "daemon/core", "daemon/route",
                       "daemon/deliver", "daemon/ingest", "daemon/finance", "adapters/istd"],
    "daemon/control": ["daemon/base", "daemon/config", "daemon/store", "daemon/core", "daemon/route",
                       "daemon/deliver", "daemon/ingest", "daemon/legacy", "daemon/finance", "adapters/istd"],
    "daemon/app":     ["daemon/base", "daemon/config", "daemon/store", "daemon/core", "daemon/route",
                       "daemon/deliver", "daemon/ingest", "daemon/legacy", "daemon/control", "daemon/finance",
                       "adapters/istd"],
    "adapters/istd":  ["daemon/base"],
    "adapters/files": ["daemon/base", "adapters/istd"],
    "client":         ["include/knoop"],
    # tools link the client library and common code (Makefile TOOL_LIBS_*); knoopctl reads the command table as data
    "tools":          ["include/knoop", "daemon/base", "adapters/istd", "adapters/files", "daemon/control/commands.def"],
}
SQLITE_ONLY = "daemon/store"
# The protocol's names (kinds, error codes) are shared data every layer may read, like the generated protobuf code.
SHARED_HEADERS = {"include/knoop/names.h"}
SQLITE_WORD = re.compile(r"\bsqlite3\w*")
INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)


def folder_of(path):
    d = os.path.dirname(path)
    return "tools" if d.startswith("tools") else d


def target_folder(inc, src_folder):
    """The repo folder an #include "x" resolves to (-Idaemon -Iadapters -Iinclude), or None (generated, system)."""
    for root in ("daemon", "adapters", "include"):
        if os.path.exists(os.path.join(REPO, root, inc)):
            return os.path.join(root, os.path.dirname(inc))
    if os.path.exists(os.path.join(REPO, src_folder, inc)):
        return src_folder
    return None


def main():
    passed = failed = 0
    problems = []
    edges = {}
    for top in ("daemon", "adapters", "client", "tools"):
        for dp, _, files in os.walk(os.path.join(REPO, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(dp, f), REPO)
                src = folder_of(rel)
                if src not in ALLOWED:
                    problems.append("%s: folder %s is not a known layer (add it to tests/static/test_layers.py "
                                    "and docs/layers.md)" % (rel, src))
                    continue
                text = open(os.path.join(REPO, rel), encoding="utf-8").read()
                if src.startswith("daemon/") and src != SQLITE_ONLY and SQLITE_WORD.search(text):
                    problems.append("%s: uses SQLite (%s); SQL lives in daemon/store/ only"
                                    % (rel, SQLITE_WORD.search(text).group(0)))
                for kind, inc in INCLUDE.findall(text):
                    if kind == "<" and inc.startswith("sqlite3") and src.startswith("daemon/") and src != SQLITE_ONLY:
                        problems.append("%s: includes <%s>; SQL lives in daemon/store/ only" % (rel, inc))
                    if kind != '"':
                        continue
                    dst = target_folder(inc, src)
                    if dst is None or dst == src:
                        continue
                    if os.path.join(dst, os.path.basename(inc)) in SHARED_HEADERS:
                        continue
                    allowed = ALLOWED[src]
                    if dst not in allowed and os.path.join(dst, os.path.basename(inc)) not in allowed:
                        problems.append('%s: includes "%s" (%s -> %s is not an allowed dependency)'
                                        % (rel, inc, src, dst))
                    edges.setdefault(src, set()).add(dst)
    # No two folders include each other (also catches a cycle through an allowed list edited by mistake).
    for a, targets in edges.items():
        for b in targets:
            if a in edges.get(b, set()):
                problems.append("folders %s and %s include each other" % (a, b))
    for p in problems:
        print("FAIL", p)
    failed = len(problems)
    passed = 1 if not problems else 0
    print("layers: %d include edges between folders checked" % sum(len(v) for v in edges.values()))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
