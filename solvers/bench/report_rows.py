#!/usr/bin/env python3
"""Turns the log of one sub-benchmark of run-all.sh into rows of its report table.

    report_rows.py AREA LOG [KEY=VALUE ...]

Prints one tab-separated row per figure: area, figure, mfserve, peer, peer's figure, ratio,
target, met. Each area has one small parser below, written against the lines its script prints
today (see solvers/bench/README.md); when a script's output changes, only its parser changes.
A log in which a parser finds nothing gives one row that says so: the report never hides a
missing figure. KEY=VALUE pairs pass context from run-all.sh (the dataset a log belongs to).
"""
import re
import statistics
import sys


def fnum(x, digits=3):
    return ("%%.%df" % digits) % x


def row(area, figure, mine="", peer="", theirs="", ratio="", target="", met=""):
    return [area, figure, mine, peer, theirs, ratio, target, met]


def verdict(value, limit, at_most=True):
    """'yes' or 'NO' for a figure against its target ('' when there is no figure)."""
    if value is None:
        return ""
    return "yes" if (value <= limit if at_most else value >= limit) else "NO"


def time_ratio(mine, theirs):
    """mfserve's time over the peer's, with its inverse where mfserve is faster."""
    r = mine / theirs
    return "%.3f (1/%.1f)" % (r, 1 / r) if r < 1 else "%.2f" % r


# ALS (run-als.sh ARGS, one AlsVsSpark run per log). Lines used:
#   "  spark fit 12.345 s (900000 rows)"
#   "  mfserve fit 1.234 s (process CPU ...); sweep median 0.123 s (first ...); 4.0 GFLOP/s ..."
#   "| synth-10m | mfserve als ... (median of 3; first 1.30 s) | 1.23 | RMSE 0.7270 (...) |
#    1/11.6 |"
#   "| synth-10m | spark-mllib 4.0.1 local[2] 2 blocks | 14.30 | RMSE 0.7280 (...) | 1 |"
def parse_als(log, ctx):
    name = ctx.get("name", "als")
    spark = re.search(r"^  spark fit ([0-9.]+) s", log, re.M)
    gflops = [float(g) for g in re.findall(r"; (?:\(explicit-equivalent count\) )?([0-9.]+)"
                                           r" GFLOP/s normal-equation work", log)]
    table = {}
    for cells in re.findall(r"^\| (.+) \|$", log, re.M):
        c = [x.strip() for x in cells.split(" | ")]
        if len(c) == 5 and c[2] != "fit s" and not c[2].startswith("-"):
            table["spark" if c[1].startswith("spark") else "mfserve"] = c
    out = []
    mine = table.get("mfserve")
    if mine is None:
        return [row("ALS", name + ": no mfserve result in the log")]
    t_mine = float(mine[2])
    t_spark = float(table["spark"][2]) if "spark" in table else (
        float(spark.group(1)) if spark else None)
    target, met = "", ""
    if ctx.get("time_target"):
        limit = 1 / float(ctx["time_target"])
        target = "≤ 1/%s of Spark's" % ctx["time_target"]
        met = verdict(t_mine / t_spark, limit) if t_spark else ""
    if ctx.get("seconds_target"):
        target = "≤ %s s" % ctx["seconds_target"]
        met = verdict(t_mine, float(ctx["seconds_target"]))
    out.append(row("ALS", name + ": fit s", fnum(t_mine, 2),
                   "Spark MLlib" if t_spark else "", fnum(t_spark, 2) if t_spark else "",
                   time_ratio(t_mine, t_spark) if t_spark else "", target, met))
    score = re.compile(r"(RMSE|NDCG@10) ([0-9.]+)")
    m_mine = score.search(mine[3])
    if m_mine:
        metric, v = m_mine.group(1), float(m_mine.group(2))
        m_spark = score.search(table["spark"][3]) if "spark" in table else None
        v_spark = float(m_spark.group(2)) if m_spark else None
        target, met = "", ""
        if ctx.get("rmse_target") and metric == "RMSE":
            target = "≤ %s" % ctx["rmse_target"]
            met = verdict(v, float(ctx["rmse_target"]))
        out.append(row("ALS", "%s: test %s" % (name, metric), fnum(v, 4),
                       "Spark MLlib" if v_spark else "", fnum(v_spark, 4) if v_spark else "",
                       "%.3f" % (v / v_spark) if v_spark else "", target, met))
    if gflops and ctx.get("gflops"):
        g = statistics.median(gflops)
        target = ctx.get("gflops_target", "")
        out.append(row("ALS", name + ": normal-equation GFLOP/s (median sweep)", fnum(g, 1),
                       "", "", "", "≥ %s" % target if target else "",
                       verdict(g, float(target), at_most=False) if target else ""))
    return out


# SGD (run-sgd.sh ARGS). The summary line of SgdBench:
#   "{max_iterations=20}: fit 2.9 s (median of 3; runs ...), 20 epochs, 0.1430 s/epoch after
#    the first (process CPU 0.2600 s/epoch), test RMSE 0.7001" (the CPU part since issue 22)
# and with `run-sgd.sh libmf DIR` (issue 22's comparison), its last lines:
#   "seconds per epoch, median of 3 rounds: mfserve 0.1430, LibMF 0.1010, ratio 1.42"
def parse_sgd(log, ctx):
    name = ctx.get("name", "sgd")
    out = []
    for m in re.finditer(r"fit ([0-9.]+) s \(median of \d+; runs [^)]*\), (\d+) epochs, "
                         r"([0-9.]+) s/epoch after the first"
                         r"(?: \(process CPU ([0-9.]+) s/epoch\))?, test RMSE ([0-9.]+)", log):
        out.append(row("SGD", "%s: s/epoch (%s epochs)" % (name, m.group(2)), m.group(3)))
        if m.group(4):
            out.append(row("SGD", "%s: process CPU s/epoch (%s epochs)" % (name, m.group(2)),
                           m.group(4)))
        out.append(row("SGD", "%s: test RMSE after %s epochs" % (name, m.group(2)),
                       m.group(5)))
    m = re.search(r"seconds per epoch, median of (\d+) rounds: mfserve ([0-9.]+), LibMF "
                  r"([0-9.]+), ratio ([0-9.]+)", log)
    if m:
        r = float(m.group(4))
        out.append(row("SGD", "synth-10m k 10, 2 threads: s/epoch (median of %s rounds)"
                       % m.group(1), m.group(2), "LibMF", m.group(3), "%.2f" % r,
                       "≤ 1 × LibMF's", verdict(r, 1.0)))
    return out or [row("SGD", name + ": no SgdBench summary line in the log")]


# NMF (nmf/run_bench.sh; the 'fitpath' mode too). Tab-separated lines of NmfFitBench and
# bench_peers.py: label, k=K, median s, [times], relative error, iterations[, cosine]
# [, fit_s=S, client/fit_s=R]. Labels: "udata mfserve-default", "udata sklearn-cd",
# "udata gensim", "dense sklearn-mu", "udata mfserve-nmf-python-inline", ...
def nmf_lines(log):
    lines = {}
    for line in log.splitlines():
        c = line.split("\t")
        if len(c) >= 6 and c[1].startswith("k="):
            extra = dict(x.split("=", 1) for x in c[6:] if "=" in x)
            lines[(c[0], c[1][2:])] = {"s": float(c[2]), "err": c[4], **extra}
    return lines


MATRICES = {"udata": "u.data 943 × 1682", "dense": "dense 2000 × 1000",
            "topics": "topics 20000 × 10000"}


def parse_nmf(log, ctx):
    lines = nmf_lines(log)
    out = []
    peers = [("sklearn-cd", "scikit-learn cd"), ("sklearn-mu", "scikit-learn mu"),
             ("gensim", "gensim Nmf")]
    for (label, k), mine in sorted(lines.items()):
        matrix, _, who = label.partition(" ")
        if who != "mfserve-default":
            continue
        for peer, peer_name in peers:
            theirs = lines.get(("%s %s" % (matrix, peer), k))
            if theirs is None:
                continue
            out.append(row("NMF", "%s, k %s: fit s (rel. error mfserve %.4f, peer %.4f)"
                           % (MATRICES.get(matrix, matrix), k, float(mine["err"]),
                              float(theirs["err"])),
                           fnum(mine["s"]), peer_name, fnum(theirs["s"]),
                           time_ratio(mine["s"], theirs["s"])))
    return out or [row("NMF", "no mfserve-default line beside a peer's in the log")]


def parse_fitpath(log, ctx):
    lines = nmf_lines(log)
    out = []
    for (label, k), v in sorted(lines.items()):
        if "client/fit_s" not in v:
            continue
        r = float(v["client/fit_s"])
        out.append(row("Fit path", "%s k %s: client s over server fit_s" % (label, k),
                       fnum(v["s"]), "server's own fit_s", v["fit_s"], "%.2f" % r,
                       "≤ 1.2", verdict(r, 1.2)))
    cd = lines.get(("udata sklearn-cd", "10"))
    for label in ("udata mfserve-nmf-python-inline", "udata mfserve-nmf-java-inline"):
        mine = lines.get((label, "10"))
        if mine and cd:
            r = mine["s"] / cd["s"]
            out.append(row("Fit path", "u.data NMF k 10 inline (%s client): fit s"
                           % label.split("-")[2], fnum(mine["s"]), "scikit-learn cd",
                           fnum(cd["s"]), time_ratio(mine["s"], cd["s"]), "≤ 1/3 of cd's",
                           verdict(r, 1 / 3)))
    return out or [row("Fit path", "no line with fit_s= in the log")]


# Serving (serving/run_bench.sh, PIN=1 PHASES="tails predict"). Lines of its loadtest():
#   "recommend c=16  closed   thr=  11234.5/s p50=1.20 p90=... p99=3.10 p99.9=5.00 max=...
#    ms errors=none   <- peak (closed loop), run 1"
#   "recommend c=64  5617/s   thr=   5600.1/s p50=0.30 ... p99=2.10 p99.9=9.80 max=... ms
#    errors=none  cpu busy 61%   <- 50% of the peak target met"
#   "predict / health over the 3 blocks = 0.812"
# With SERVER_SIDE=1 each open-loop line is followed by the server's own histogram of the window:
#   "    server-side: 168001 calls; within 1 / 2 / 5 / 10 ms: 93.10% / 97.20% / 98.88% /
#    99.40%; p99 at most 10 ms"
SERVER_SIDE = re.compile(
    r"^(\w+)\s+c=.*<- (\d+)% of the peak.*\n\s+server-side: \d+ calls; within 1 / 2 / 5 / 10 ms: "
    r"[0-9.]+% / [0-9.]+% / ([0-9.]+)% / [0-9.]+%; p99 at most (\S+) ms", re.M)


def parse_serving(log, ctx):
    out = []
    pct = re.compile(r"^(\w+)\s+c=\S+\s+\S+\s+thr=\s*([0-9.]+)/s p50=([0-9.]+) p90=[0-9.]+ "
                     r"p99=([0-9.]+) p99\.9=([0-9.]+) .*<- (peak \(closed loop\), run \d+|"
                     r"(\d+)% of the peak)", re.M)
    runs = {}
    for m in pct.finditer(log):
        rpc = m.group(1)
        key = "peak" if m.group(7) is None else m.group(7)
        runs.setdefault((rpc, key), []).append(
            [float(m.group(i)) for i in (2, 3, 4, 5)])
    for rpc in ("recommend", "similar"):
        peaks = runs.get((rpc, "peak"))
        if not peaks:
            continue
        out.append(row("Serving", "%s: pinned peak calls/s (median of %d)"
                       % (rpc, len(peaks)), "%.0f" % statistics.median(p[0] for p in peaks)))
        for load, limits in (("50", (5, 20)), ("70", None)):
            v = runs.get((rpc, load), [])
            if not v:
                continue
            p50 = max(x[1] for x in v)
            p99 = max(x[2] for x in v)
            p999 = max(x[3] for x in v)
            fig = "%s at %s%% of the peak: p50 / p99 / p99.9 ms (worst of %d)" % (
                rpc, load, len(v))
            target, met = "", ""
            if limits:
                target = "p99 ≤ %d, p99.9 ≤ %d" % limits
                met = "yes" if p99 <= limits[0] and p999 <= limits[1] else "NO"
            out.append(row("Serving", fig, "%.2f / %.2f / %.2f" % (p50, p99, p999), "", "",
                           "", target, met))
            inside = [(float(m.group(3)), m.group(4)) for m in SERVER_SIDE.finditer(log)
                      if m.group(1) == rpc and m.group(2) == load]
            if inside:
                # The server's own time for the same windows (its handlers, not the transport
                # or the load generator): the worst window's share within 5 ms.
                share, p99_bucket = min(inside, key=lambda w: w[0])
                out.append(row("Serving", "%s at %s%% of the peak, server-side: calls within "
                               "5 ms / its p99 bucket (worst of %d)" % (rpc, load, len(inside)),
                               "%.2f%% / ≤ %s ms" % (share, p99_bucket)))
    m = re.search(r"predict / health over the (\d+) blocks = ([0-9.]+)", log)
    if m:
        r = float(m.group(2))
        out.append(row("Serving", "predict / health throughput (%s blocks)" % m.group(1),
                       "%.3f" % r, "", "", "", "≥ 0.8", verdict(r, 0.8, at_most=False)))
    if not any(r[1].startswith(("recommend", "similar")) for r in out):
        out.append(row("Serving", "no tail figures in the log (does serving/run_bench.sh have "
                                  "PHASES=tails yet?)"))
    return out


# Warm-up (warmup/run_bench.sh). One line per mode and solver:
#   "warmup    als  u1.base        2.63      0.150 ... 0.092    1.63x     1.25x  (...)"
#   "no-warmup nmf  u.data         0.80      ..."
# The figure is the first fit over the median of fits 2..N; the peer is the same server
# started with --no-warmup in the same run.
def parse_warmup(log, ctx):
    ratios, serving = {}, {}
    for m in re.finditer(r"^(warmup|no-warmup)\s+(\w+)\s+(\S+)\s+([0-9.]+)\s+.*?"
                         r"([0-9.]+)x\s+([0-9.]+)x\s+\(", log, re.M):
        ratios.setdefault((m.group(1), m.group(2), m.group(3)), []).append(float(m.group(6)))
        serving.setdefault(m.group(1), []).append(float(m.group(4)))
    out = []
    for (mode, solver, data), v in sorted(ratios.items()):
        if mode != "warmup":
            continue
        cold = ratios.get(("no-warmup", solver, data))
        mine = statistics.median(v)
        out.append(row("Warm-up", "%s %s: first fit / median of later fits, rounds: %d"
                       % (solver, data, len(v)), "%.2f×" % mine,
                       "same server, --no-warmup" if cold else "",
                       "%.2f×" % statistics.median(cold) if cold else "", "",
                       "≤ 1.5× (issue 16)", verdict(mine, 1.5)))
    if "warmup" in serving:
        cold = serving.get("no-warmup")
        out.append(row("Warm-up", "start to SERVING, s", fnum(statistics.median(
            serving["warmup"]), 2), "--no-warmup" if cold else "",
            fnum(statistics.median(cold), 2) if cold else ""))
    return out or [row("Warm-up", "no result line in the log")]


# TLS and tokens (security/run_bench.sh). Per RPC and kind, ABBA blocks, then the pooled ratio:
#   "predict   tls   block 1  plain 31086 0 | tls 12135 0 | tls 20740 0 | plain 35634 0  ratio 0.49"
#   "predict   tls   pooled ratio 0.64"
# The peer is the plaintext server without tokens, started beside it in the same run.
def parse_security(log, ctx):
    out = []
    for m in re.finditer(r"^(\w+)\s+(tls|token)\s+pooled ratio ([0-9.]+)", log, re.M):
        rpc, kind = m.group(1), m.group(2)
        plain, other = [], []
        for b in re.finditer(r"^%s\s+%s\s+block \d+\s+plain (\d+) \d+ \| \w+ (\d+) \d+ \| "
                             r"\w+ (\d+) \d+ \| plain (\d+)" % (rpc, kind), log, re.M):
            plain += [int(b.group(1)), int(b.group(4))]
            other += [int(b.group(2)), int(b.group(3))]
        what = "TLS" if kind == "tls" else "bearer tokens"
        out.append(row("TLS/tokens", "%s calls/s with %s (mean of %d runs, ABBA)"
                       % (rpc, what, len(other)),
                       "%.0f" % statistics.mean(other) if other else "", "plaintext, no tokens",
                       "%.0f" % statistics.mean(plain) if plain else "",
                       m.group(3) + " (pooled)"))
    return out or [row("TLS/tokens", "no pooled ratio in the log")]


# Upload (upload/run_bench.sh): one tab-separated line,
#   "upload  8999241 entries  81.8 MB  UploadMatrix 0.890 s 92.0 MB/s  byte stream 0.182 s
#    450.3 MB/s  ratio 0.20"
# UploadMatrix from the Java client against a plain gRPC byte stream of the same bytes, one run.
def parse_upload(log, ctx):
    out = []
    for m in re.finditer(r"^(\S+)\t(\d+) entries\t([0-9.]+) MB\tUploadMatrix [0-9.]+ s "
                         r"([0-9.]+) MB/s\tbyte stream [0-9.]+ s ([0-9.]+) MB/s\t"
                         r"ratio ([0-9.]+)", log, re.M):
        ratio = float(m.group(6))
        out.append(row("Upload", "UploadMatrix (Java client) of %s entries, %s MB: MB/s"
                       % (m.group(2), m.group(3)), m.group(4), "plain gRPC byte stream",
                       m.group(5), "%.2f" % ratio, "≥ 0.5 of the byte stream",
                       verdict(ratio, 0.5, at_most=False)))
    return out or [row("Upload", "no result line in the log")]


PARSERS = {"als": parse_als, "sgd": parse_sgd, "nmf": parse_nmf, "fitpath": parse_fitpath,
           "serving": parse_serving, "warmup": parse_warmup, "security": parse_security,
           "upload": parse_upload}


def main(argv):
    area, path = argv[1], argv[2]
    ctx = dict(a.split("=", 1) for a in argv[3:])
    with open(path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    try:
        rows = PARSERS[area](log, ctx)
    except (ValueError, KeyError, ZeroDivisionError) as e:
        rows = [row(area, "the log did not parse (%s: %s)" % (type(e).__name__, e))]
    for r in rows:
        print("\t".join(r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
