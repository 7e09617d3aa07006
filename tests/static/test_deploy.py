#!/usr/bin/env python3
# test_deploy.py — what can be checked of the deployment files without systemd running or Docker: the unit passes
# `systemd-analyze verify` (with ExecStart pointed at the built knoopd) and keeps its notify, watchdog, limits and
# hardening; the Dockerfile has a Debian 12 build stage and a slim runtime stage that runs as a non-root user with the
# data directory as a VOLUME, installs exactly Debian packages that exist and that hold every library the binaries
# link, copies the binaries from where the Makefile builds them, and its generated configuration passes knoopd -t.
# Prints "N passed, N failed" like the other tests.
import configparser
import os
import stat
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("KNOOP_BUILD", os.path.join(REPO, "build")))
UNIT = os.path.join(REPO, "deploy", "knoopd.service")
DOCKERFILE = os.path.join(REPO, "deploy", "Dockerfile")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def unit():
    p = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    p.optionxform = str
    p.read(UNIT)
    return p


@test
def unit_passes_systemd_analyze_verify():
    """verify needs ExecStart's binary to exist: a copy of the unit runs the knoopd this build made."""
    knoopd = os.path.join(BUILD, "knoopd")
    assert os.access(knoopd, os.X_OK), "no %s: build first" % knoopd
    with open(UNIT) as f:
        text = f.read()
    assert text.count("/usr/local/bin/knoopd") == 2, "ExecStartPre and ExecStart run /usr/local/bin/knoopd"
    tmp = tempfile.mkdtemp(prefix="knoop-unit-")
    try:
        path = os.path.join(tmp, "knoopd.service")
        with open(path, "w") as f:
            f.write(text.replace("/usr/local/bin/knoopd", knoopd))
        p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, "systemd-analyze verify failed: %s" % (p.stdout + p.stderr)
        # verify exits 0 on unknown keys and bad values too (it only warns): no warning about our file is allowed.
        about_us = [line for line in (p.stdout + p.stderr).splitlines() if "knoopd.service" in line]
        assert not about_us, "systemd-analyze verify warns: %s" % about_us
        # The same with a binary that does not exist fails: the check above really looked at ExecStart.
        with open(path, "w") as f:
            f.write(text.replace("/usr/local/bin/knoopd", os.path.join(tmp, "missing-knoopd")))
        p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0, "verify accepted a missing binary"
    finally:
        shutil.rmtree(tmp)


@test
def unit_notifies_and_keeps_its_hardening():
    s = unit()["Service"]
    want = {"Type": "notify", "NotifyAccess": "main", "StateDirectory": "knoop", "StateDirectoryMode": "0700",
            "NoNewPrivileges": "true", "ProtectSystem": "strict", "ProtectHome": "true", "PrivateTmp": "true",
            "User": "knoop", "KillSignal": "SIGTERM", "Restart": "on-failure"}
    for k, v in want.items():
        assert s.get(k) == v, "%s=%s, want %s" % (k, s.get(k), v)
    assert re.fullmatch(r"\d+s?", s.get("WatchdogSec", "")), "WatchdogSec is set"
    assert int(s["LimitNOFILE"]) >= 4096, "LimitNOFILE"
    assert re.fullmatch(r"\d+[KMG]", s.get("MemoryMax", "")), "MemoryMax"
    assert "/var/lib/knoop" in s["ReadWritePaths"].split(), "the data directory is writable"
    assert s["ExecStartPre"].endswith("-t -c /etc/knoop/knoopd.yaml"), "the configuration is checked before a start"


def stages():
    """[(FROM line, [instruction lines])] with continuation lines joined and comments dropped."""
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            out.append((line, []))
        else:
            assert out, "an instruction before the first FROM: %s" % line
            out[-1][1].append(line)
    return out


def instr(lines, name):
    return [l[len(name) + 1:].strip() for l in lines if l.upper().startswith(name + " ")]


@test
def dockerfile_has_a_build_and_a_slim_runtime_stage():
    st = stages()
    assert len(st) == 2, "two stages, not %d" % len(st)
    (build_from, build), (run_from, runtime) = st
    assert re.fullmatch(r"FROM debian:12(\.\d+)? AS build", build_from, re.I), build_from
    assert re.fullmatch(r"FROM debian:12(\.\d+)?-slim", run_from), run_from
    runs = " ".join(instr(build, "RUN"))
    assert "make deps" in runs and "make " in runs.replace("make deps", ""), "the build stage runs make deps and make"
    users = instr(runtime, "USER")
    assert users and users[-1] not in ("root", "0", "0:0"), "the runtime stage runs as a non-root user: %s" % users
    assert "useradd" in " ".join(instr(runtime, "RUN")) and users[-1] in " ".join(instr(runtime, "RUN")), \
        "the user is created"
    assert instr(runtime, "VOLUME") == ["/var/lib/knoop"], "the data directory is the volume"
    assert not instr(runtime, "FROM"), "no third stage"


def runtime_packages():
    runs = " ".join(instr(stages()[1][1], "RUN"))
    m = re.search(r"apt-get install (.*?)(&&|$)", runs)
    assert m, "the runtime stage installs packages with apt-get install"
    return [w for w in m.group(1).split() if not w.startswith("-")]


def apt_package_exists(name):
    """In Debian's package lists (apt-cache show), or installed here from them (a machine whose lists were cleaned
    after its packages were installed, as in a container image, still knows what it has)."""
    p = subprocess.run(["apt-cache", "show", "--no-all-versions", name], capture_output=True, text=True, timeout=60)
    if p.returncode == 0 and ("Package: %s" % name) in p.stdout:
        return True
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True, timeout=60)
    return p.returncode == 0 and "install ok installed" in p.stdout


@test
def runtime_packages_exist_and_hold_every_linked_library():
    pkgs = runtime_packages()
    assert pkgs, "no runtime packages"
    missing = [p for p in pkgs if not apt_package_exists(p)]
    assert not missing, "not Debian packages (apt-cache show): %s" % missing
    # Every library knoopd and knoopctl link directly must come from a listed package (or libc6, in every image).
    for binary in ("knoopd", "knoopctl"):
        out = subprocess.run(["readelf", "-d", os.path.join(BUILD, binary)], capture_output=True, text=True,
                             check=True).stdout
        for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out):
            if re.match(r"lib(a|ub|l|t)san\.", lib):
                continue  # make asan runs this test on its sanitizer build; the image has the plain one
            owner = subprocess.run(["dpkg", "-S", "*/" + lib], capture_output=True, text=True)
            assert owner.returncode == 0, "%s: no Debian package holds %s" % (binary, lib)
            names = {line.split(":")[0] for line in owner.stdout.splitlines()}
            assert names & (set(pkgs) | {"libc6"}), "%s links %s (from %s), not installed in the runtime stage" % (
                binary, lib, ", ".join(sorted(names)))


@test
def dockerfile_paths_match_the_build():
    """The binaries are copied from where the Makefile puts them; the schemas to where knoopd looks for them."""
    build, runtime = stages()[0][1], stages()[1][1]
    workdir = instr(build, "WORKDIR")[-1]
    with open(os.path.join(REPO, "Makefile")) as f:
        assert re.search(r"^BUILD\s*\?=\s*build\s*$", f.read(), re.M), "the Makefile builds into build/"
    copies = " ".join(c for c in instr(runtime, "COPY") if c.startswith("--from=build"))
    for tool in ("knoopd", "knoopctl"):
        assert "%s/build/%s " % (workdir, tool) in copies, "%s copied from %s/build/" % (tool, workdir)
    # the key maker the README's container commands run (docker run --entrypoint knoop-container-keys)
    assert "%s/tools/container-keys.sh /usr/local/bin/knoop-container-keys" % workdir in copies, copies
    with open(os.path.join(REPO, "README.md")) as f:
        assert "--entrypoint knoop-container-keys knoop /keys" in f.read(), "the README makes the keys with the image"
    entry = instr(runtime, "ENTRYPOINT")
    assert entry and '"/usr/local/bin/knoopd"' in entry[0], entry
    with open(os.path.join(REPO, "daemon", "legacy", "xml_ingest.c")) as f:
        fallback = re.search(r'"(/usr/share/knoop/schemas)"', f.read()).group(1)
    assert "%s/adapters/istd/schemas %s" % (workdir, fallback) in copies, "the XSDs go to %s" % fallback


@test
def container_configuration_is_valid_and_matches_the_image():
    """deploy/container-config.sh makes the image's knoopd.yaml; it must pass knoopd -t and agree with the image."""
    out = subprocess.run(["sh", os.path.join(REPO, "deploy", "container-config.sh"),
                          os.path.join(REPO, "deploy", "knoopd.yaml")], capture_output=True, text=True, check=True,
                         cwd=REPO).stdout
    tmp = tempfile.mkdtemp(prefix="knoop-container-")
    try:
        # the keys the operator mounts at /etc/knoop/keys, made here the way operations.md says (tools/container-keys.sh)
        keys = os.path.join(tmp, "keys")
        subprocess.run(["sh", os.path.join(REPO, "tools", "container-keys.sh"), keys], capture_output=True, check=True,
                       env=dict(os.environ, KNOOPCTL=os.path.join(BUILD, "knoopctl")))
        for name, size in (("server.key", None), ("data.key", 32), ("pseudonym.key", 32)):
            st = os.stat(os.path.join(keys, name))
            assert stat.S_IMODE(st.st_mode) == 0o600, "%s is private: %o" % (name, stat.S_IMODE(st.st_mode))
            assert size is None or st.st_size == size, "%s holds %d raw bytes" % (name, size)
            assert os.geteuid() != 0 or st.st_uid == 10001, "%s belongs to the image's user" % name
        before = open(os.path.join(keys, "data.key"), "rb").read()
        subprocess.run(["sh", os.path.join(REPO, "tools", "container-keys.sh"), keys], capture_output=True, check=True,
                       env=dict(os.environ, KNOOPCTL=os.path.join(BUILD, "knoopctl")))
        assert open(os.path.join(keys, "data.key"), "rb").read() == before, "a second run never replaces a key"
        path = os.path.join(tmp, "knoopd.yaml")
        with open(path, "w") as f:
            f.write(out.replace("/etc/knoop/keys/", keys + "/"))
        p = subprocess.run([os.path.join(BUILD, "knoopd"), "-t", "-c", path], capture_output=True, text=True)
        assert p.returncode == 0 and "parties" in p.stdout, "knoopd -t: %s" % (p.stdout + p.stderr)
    finally:
        shutil.rmtree(tmp)
    assert out.count("\ndaemon:") + out.startswith("daemon:") == 1, "one daemon: mapping"
    settings = dict(re.findall(r"^  (\w+): (.+)$", out.split("\nnetwork:")[0], re.M))
    for key in ("server_key_file", "data_key_file", "pseudonym_key_file"):  # keys apart from the data they protect
        assert settings[key].startswith("/etc/knoop/keys/"), "%s is mounted, not in the volume" % key
    assert settings["data_dir"] == instr(stages()[1][1], "VOLUME")[0], "the data is in the volume"
    env = dict(e.split("=", 1) for e in instr(stages()[1][1], "ENV"))
    assert env.get("KNOOP_CONTROL") == settings["control_socket"], "knoopctl in the image finds the socket"
    exposed = " ".join(instr(stages()[1][1], "EXPOSE")).split()
    for key in ("listen", "metrics_listen"):
        assert settings[key].rsplit(":", 1)[1] in exposed, "%s's port is exposed" % key


def main():
    passed = failed = 0
    for fn in TESTS:
        try:
            fn()
            print("ok %s" % fn.__name__)
            passed += 1
        except Exception as e:  # noqa: B902  (report every failure, go on)
            print("FAIL %s: %s" % (fn.__name__, e))
            traceback.print_exc(limit=2)
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
