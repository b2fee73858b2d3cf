#!/usr/bin/python3
"""Runs mfctl eval (--json) for each solver's defaults on each data set and prints the
bias baseline, the model and the gain, as a Markdown table. See run_defaults.sh."""
import argparse
import json
import os
import subprocess
import sys
import time

SETS = {
    # name: (gen_synth arguments or None, description)
    "synth-100k": ("--users 2000 --items 1000 --nnz 100000 --rank 10 --seed 3",
                   "2,000 × 1,000, 100k ratings"),
    "synth-tail": ("--users 610 --items 9000 --nnz 100000 --rank 10 --seed 4 --item-zipf 1.1",
                   "610 × 9,000, 100k ratings, long item tail"),
    "synth-1m": ("--users 20000 --items 5000 --nnz 1000000 --rank 10 --seed 1",
                 "20,000 × 5,000, 1M ratings"),
}
SOLVERS = [("als", []), ("sgd", []), ("nmf", ["--absent", "unknown"])]


def eval_json(args, files, solver_args, extra):
    cmd = ["java", "-jar", args.mfctl, "--target", args.target, "--json", "eval", "-q"] \
        + files + solver_args + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def summary(doc):
    base = doc["baseline"]["mean"]["rmse"]
    best = doc["results"][0]
    return base, best["mean"]["rmse"], sum(f["fit_seconds"] for f in best["folds"]), \
        best["folds"][0].get("model_id", "")


def synth(args, name):
    gen, _ = SETS[name]
    prefix = os.path.join(args.synth, name)
    if not os.path.exists(prefix + ".train.tsv"):
        os.makedirs(args.synth, exist_ok=True)
        subprocess.run(["/usr/bin/python3", os.path.join(args.root, "..", "shared", "bench",
                                                         "gen_synth.py")]
                       + gen.split() + ["--out", prefix], check=True, stdout=subprocess.DEVNULL)
    return prefix


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--mfctl", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--ml", default=os.environ.get("ML_100K"))
    ap.add_argument("--synth", default=os.environ.get("SYNTH", "/tmp/synth"))
    ap.add_argument("sets", nargs="*", default=["ml-100k", "synth-100k", "synth-tail"])
    args = ap.parse_args()
    ml = args.ml or os.path.join(args.root, "..", "shared", "data", "ml-100k")
    extra = os.environ.get("EVAL_ARGS", "").split()
    rows = []
    for name in args.sets:
        for solver, solver_args in SOLVERS:
            t0 = time.time()
            if name == "ml-100k":
                bases, models, secs = [], [], 0.0
                for n in range(1, 6):
                    doc = eval_json(args, ["--train", f"{ml}/u{n}.base", "--test",
                                           f"{ml}/u{n}.test"],
                                    ["--solver", solver] + solver_args, extra)
                    b, m, s, _ = summary(doc)
                    bases.append(b)
                    models.append(m)
                    secs += s
                base, model = sum(bases) / 5, sum(models) / 5
                detail = " ".join(f"{m:.4f}" for m in models)
            else:
                prefix = synth(args, name)
                doc = eval_json(args, ["--train", prefix + ".train.tsv", "--test",
                                       prefix + ".test.tsv"],
                                ["--solver", solver] + solver_args, extra)
                base, model, secs, _ = summary(doc)
                detail = ""
            gain = (base - model) / base
            rows.append((name, solver, base, model, gain, secs, detail))
            print(f"{name} {solver}: baseline {base:.4f} model {model:.4f} "
                  f"gain {100 * gain:+.2f}% fit {secs:.1f} s ({time.time() - t0:.0f} s) "
                  f"{detail}", file=sys.stderr, flush=True)
    print("| data | solver (defaults) | bias baseline RMSE | model RMSE | better by | fit s |")
    print("|---|---|---|---|---|---|")
    for name, solver, base, model, gain, secs, detail in rows:
        print(f"| {name} | {solver} | {base:.4f} | {model:.4f} | {100 * gain:.1f}% | "
              f"{secs:.1f} |" + (f" <!-- folds {detail} -->" if detail else ""))


if __name__ == "__main__":
    main()
