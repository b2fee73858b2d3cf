#!/usr/bin/python3
"""MovieLens 100K as implicit feedback: ratings >= 4 are positives (value 1), and a seeded
20% of each user's positives (at least one, for users with two or more) are held out.
Writes OUT.train.tsv and OUT.test.tsv (user, item, 1), for
    mfctl eval --train OUT.train.tsv --test OUT.test.tsv --absent implicit -k 10
whose first row is the popularity baseline on the same split."""
import argparse
import random

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True, help="u.data")
ap.add_argument("--out", required=True)
ap.add_argument("--threshold", type=float, default=4)
ap.add_argument("--fraction", type=float, default=0.2)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
by_user = {}
with open(a.data) as f:
    for line in f:
        u, i, r = line.split()[:3]
        if float(r) >= a.threshold:
            by_user.setdefault(int(u), []).append(int(i))
rng = random.Random(a.seed)
train = test = 0
with open(a.out + ".train.tsv", "w") as tr, open(a.out + ".test.tsv", "w") as te:
    for u in sorted(by_user):
        items = sorted(by_user[u])
        rng.shuffle(items)
        hold = max(1, round(a.fraction * len(items))) if len(items) >= 2 else 0
        for n, i in enumerate(items):
            (te if n < hold else tr).write(f"{u}\t{i}\t1\n")
            test += n < hold
            train += n >= hold
print(f"{len(by_user)} users, {train} training and {test} held-out positives")
