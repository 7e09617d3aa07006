#!/usr/bin/env python3
"""test_latency.py — where a publish's time goes: after N publishes answered after their commit, `knoopctl status`
shows count N for each stage (ingest, queue, commit, answer) with p50 <= p90 <= p99 <= max; a publish refused at the
door is not counted; `knoopctl latency` gives the same figures with the buckets; /metrics serves the stages as a
Prometheus histogram (cumulative buckets, +Inf = _count = N); knoop-bench runs one case named with -c and writes that
case's stages, read on the control socket, into its JSON (count = the case's accepted publishes); an unknown name, or an
XML template it cannot read, is refused.
    KNOOP_BUILD=$PWD/build /usr/bin/python3 tests/e2e/test_latency.py [TEST ...]"""
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

from harness import BUILD, COOP, MEMBER, MEMBER2, Client, Daemon, body, check, check_eq, envelope, free_port, run, test

CTL = os.path.join(BUILD, "knoopctl")
STAGES = ("ingest", "queue", "commit", "answer")
N = 300


def referral(ident):
    return envelope(sender=MEMBER, receiver=COOP, kind="REFERRAL", message_type="knoop.Referral", identificatie=ident,
                    content_type="application/json", payload=b'{"n": 1}')


def ctl_json(d, *args):
    p = subprocess.run([CTL, "-s", d.socket_path, "--json"] + list(args), capture_output=True, text=True, timeout=10)
    check_eq(p.returncode, 0, "knoopctl %s: %s" % (" ".join(args), p.stderr))
    r = json.loads(p.stdout)
    check(r.get("ok"), "knoopctl %s answered ok" % " ".join(args), r)
    return r["result"]


@test(timeout=90)
def every_stage_counts_each_answered_publish():
    port = free_port()
    with Daemon(settings={"metrics_listen": "127.0.0.1:%d" % port}) as d:
        c = Client(d)
        c.hello(MEMBER)
        answers = c.publish_window([referral("LAT%05d" % i) for i in range(N)], window=32)
        check_eq(len(answers), N, "every publish answered")
        check(all(body(f) == "accepted" for f in answers.values()), "all accepted")
        # refused before the journal (sent in another party's name): no stage is counted for it
        f = c.publish_wait(N + 1, envelope(sender=MEMBER2, receiver=COOP, kind="REFERRAL", identificatie="LATX",
                                           message_type="knoop.Referral", payload=b"{}"))
        check_eq(body(f), "rejected", "a publish in another party's name")

        st = ctl_json(d, "status")
        for s in STAGES:
            h = st["publish_stage_%s_us" % s]
            check_eq(h["count"], N, "status: %s count" % s)
            check(0 <= h["p50"] <= h["p90"] <= h["p99"] <= h["max"], "status: %s p50 <= p90 <= p99 <= max" % s, h)
        # a commit is an fsync: never free
        check(st["publish_stage_commit_us"]["max"] > 0, "commit takes time", st["publish_stage_commit_us"])

        # knoopctl prints it for a person too
        p = subprocess.run([CTL, "-s", d.socket_path, "status"], capture_output=True, text=True, timeout=10)
        check_eq(p.returncode, 0, p.stderr)
        check(re.search(r'^publish_stage_commit_us: \{"count":%d,' % N, p.stdout, re.M), "status text", p.stdout)

        lat = ctl_json(d, "latency")
        rows = [dict(zip(lat["columns"], r)) for r in lat["rows"]]
        check_eq([r["stage"] for r in rows], list(STAGES), "latency: one row per stage, in order")
        for r in rows:
            h = lat["histograms"][r["stage"]]
            check_eq(r["count"], N, "latency: %s count" % r["stage"])
            check_eq(sum(n for _, n in h["buckets"]), N, "latency: %s buckets hold every publish" % r["stage"])
            check_eq(h["max_us"], r["max_us"], "latency: %s max" % r["stage"])
            check(r["p50_us"] <= r["p99_us"] <= r["max_us"], "latency: %s ordered" % r["stage"], r)
            st_h = st["publish_stage_%s_us" % r["stage"]]
            check(r["max_us"] >= st_h["max"], "latency read after status: %s max only grows" % r["stage"])

        # the endpoint's snapshot is rendered once a second
        deadline = time.time() + 5
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as resp:
                    text = resp.read().decode()
            except urllib.error.HTTPError as e:  # 503 "starting: no snapshot yet" until the first render
                check(e.code == 503 and time.time() < deadline, "metrics endpoint: HTTP %d" % e.code)
                time.sleep(0.1)
                continue
            if re.search(r'^knoop_publish_stage_seconds_count\{stage="answer"\} %d$' % N, text, re.M) or \
                    time.time() > deadline:
                break
            time.sleep(0.2)
        check(re.search(r"^# TYPE knoop_publish_stage_seconds histogram$", text, re.M), "histogram type")
        for s in STAGES:
            check(re.search(r'^knoop_publish_stage_seconds_count\{stage="%s"\} %d$' % (s, N), text, re.M),
                  "/metrics: %s _count" % s)
            check(re.search(r'^knoop_publish_stage_seconds_sum\{stage="%s"\} [0-9.]+$' % s, text, re.M),
                  "/metrics: %s _sum" % s)
            buckets = re.findall(r'^knoop_publish_stage_seconds_bucket\{stage="%s",le="([^"]+)"\} (\d+)$' % s, text,
                                 re.M)
            check_eq(buckets[-1], ("+Inf", str(N)), "/metrics: %s +Inf bucket" % s)
            counts = [int(n) for _, n in buckets]
            check(counts == sorted(counts), "/metrics: %s buckets cumulative" % s, buckets)
            les = [float(le) for le, _ in buckets[:-1]]
            check(les == sorted(les) and les[0] == 0.000001, "/metrics: %s bounds from 1 us up" % s, les[:3])
        d.stop()


@test(timeout=90)
def the_bench_runs_one_named_case_and_reports_its_stages():
    with Daemon() as d:
        baseline = os.path.join(d.dir, "baseline.json")  # ceilings given: none measured (this is no bench)
        with open(baseline, "w") as f:
            json.dump({"ceilings": {}, "cases": []}, f)
        out = os.path.join(d.dir, "bench.json")
        bench = [os.path.join(BUILD, "knoop-bench"), "-e", d.endpoint, "-d", d.dir, "-o", out, "-s", "0.3",
                 "--baseline", baseline, "-C", d.socket_path]
        p = subprocess.run(bench + ["-c", "publish-256-w1"], capture_output=True, text=True, timeout=60)
        check_eq(p.returncode, 0, "knoop-bench -c publish-256-w1 (%s)" % p.stderr[-800:])
        with open(out) as f:
            cases = json.load(f)["cases"]
        check_eq([c["name"] for c in cases], ["publish-256-w1"], "exactly the named case ran")
        accepted = cases[0]["accepted"]
        check(accepted > 0, "the case published", cases[0])
        for s in STAGES:
            st = cases[0]["stages"][s]
            check_eq(st["count"], accepted, "%s: one per accepted publish of the case" % s)
            check(0 < st["p50_us"] <= st["p99_us"] <= st["max_us"] * 2, "%s: ordered percentiles (bucket tops)" % s, st)
        p = subprocess.run(bench + ["-c", "publish,publish-256-w2"], capture_output=True, text=True, timeout=60)
        check_eq(p.returncode, 2, "an unknown case name is refused")
        check('no case or group is called "publish-256-w2"' in p.stderr, "and named", p.stderr)
        missing = os.path.join(d.dir, "no-such.xml")  # the XML case's template: a clear error, not a crash
        p = subprocess.run(bench + ["-c", "xml", "-x", missing], capture_output=True, text=True, timeout=60)
        check_eq(p.returncode, 2, "a missing -x file is refused (%s)" % p.stderr[-300:])
        check(missing + ": No such file or directory" in p.stderr, "and named", p.stderr)


if __name__ == "__main__":
    run()
