#!/usr/bin/python3
"""The peers of mfserve's NMF benchmark: scikit-learn NMF (cd and mu, init='nndsvda') and gensim
Nmf, on the same matrices and ranks, fit alone timed, median of 3.

Relative error is ||X - W H||_F / ||X||_F over every entry (absent ones are zeros), computed
without densifying X: ||X||^2 - 2 <X, W H> + <W'W, H H'>. gensim's Nmf returns topics (H) and
keeps document mixtures only per chunk, so its W is the best non-negative fit of X on its
topics (scikit-learn's non_negative_factorization with H fixed, not timed): the error gensim's
topics can reach. With --planted, each run also reports the mean best-match cosine between the
planted topics and the found ones.

  /usr/bin/python3 bench_peers.py --udata .../u.data
  /usr/bin/python3 bench_peers.py --dense           (reads /tmp/nmf-bench-dense-2000x1000.f32)
  /usr/bin/python3 bench_peers.py --topics          (writes and reads /tmp/nmf-bench-topics.*)

  /usr/bin/python3 bench_peers.py --udata .../u.data --cd-only --mfserve localhost:50987 \
      --u1base .../u1.base                          (the fit-path comparison, issue 22)

Prints one tab-separated line per (matrix, rank, library): label, k, median s, [times],
relative error, iterations[, cosine].

With --mfserve TARGET, the Python client (mfserve.Client, installed as the client README says)
also fits through the server with the matrix sent inline in every Fit, as a user of a small
matrix does: NMF of u.data at rank 10 and, with --u1base, ALS with its defaults on u1.base. The
time is the client's whole fit() call (the conversion of the scipy matrix to the request, the
RPC, the server's work); the line adds the median of the server's own ModelInfo.fit_seconds and
the ratio of the two. --warmups untimed fits come first (the server's JIT).
"""
import argparse
import statistics
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

import nmf_data

warnings.filterwarnings("ignore")


def rel_error(x, w, h):
    """||X - W H|| / ||X|| for X sparse or dense, W (n x k), H (k x m)."""
    if sp.issparse(x):
        xx = x.multiply(x).sum()
        cross = np.sum(np.asarray(x @ h.T) * w)
    else:
        xx = np.sum(x * x)
        cross = np.sum((x @ h.T) * w)
    model = np.sum((w.T @ w) * (h @ h.T))
    return float(np.sqrt(max(0.0, xx - 2 * cross + model) / xx))


def run_sklearn(x, k, solver, repeats, planted=None):
    from sklearn.decomposition import NMF
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        m = NMF(n_components=k, init="nndsvda", solver=solver, random_state=0)
        w = m.fit_transform(x)
        times.append(time.perf_counter() - t0)
    h = m.components_
    return times, rel_error(x, w, h), m.n_iter_, h


def run_gensim(x, k, repeats):
    from gensim.matutils import Sparse2Corpus
    from gensim.models.nmf import Nmf
    from sklearn.decomposition import non_negative_factorization
    # gensim's corpus: documents (rows of X) as columns of a sparse term x document matrix.
    corpus = Sparse2Corpus(sp.csc_matrix(x.T), documents_columns=True)
    id2word = {j: str(j) for j in range(x.shape[1])}
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = Nmf(corpus, num_topics=k, id2word=id2word, random_state=0)
        times.append(time.perf_counter() - t0)
    h = model.get_topics(normalize=False)
    w, _, _ = non_negative_factorization(x, H=h.astype(np.float64), n_components=k,
                                         init="custom", update_H=False, max_iter=400)
    return times, rel_error(x, w, h), 0, h


def report(label, k, times, err, iters, cosine=None):
    line = "%s\tk=%d\t%.3f\t[%s]\t%.6f\t%d" % (
        label, k, statistics.median(times), ",".join("%.3f" % t for t in times), err, iters)
    if cosine is not None:
        line += "\t%.4f" % cosine
    print(line, flush=True)


def run_mfserve_client(target, x, solver, k, repeats, warmups):
    """Fits x through the server with the Python client, inline; returns client and server
    seconds of the timed fits and the last model's iterations."""
    from mfserve import Client
    times, server = [], []
    iters = 0
    with Client(target) as client:
        for run in range(-warmups, repeats):
            model_id = "py-%s-%d-%d" % (solver, k, run + warmups)
            t0 = time.perf_counter()
            info = client.fit(x, solver=solver, num_factors=k, model_id=model_id)
            elapsed = time.perf_counter() - t0
            if run >= 0:
                times.append(elapsed)
                server.append(info.fit_seconds)
            iters = info.iterations
            client.delete_model(model_id)
    return times, server, iters


def report_client(label, k, times, server, iters):
    c, f = statistics.median(times), statistics.median(server)
    print("%s\tk=%d\t%.3f\t[%s]\tnan\t%d\tfit_s=%.3f\tclient/fit_s=%.2f" % (
        label, k, c, ",".join("%.3f" % t for t in times), iters, f, c / f), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--udata")
    p.add_argument("--dense", action="store_true")
    p.add_argument("--topics", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--skip-gensim", action="store_true")
    p.add_argument("--cd-only", action="store_true",
                   help="scikit-learn cd at rank 10 on u.data only (the fit-path comparison)")
    p.add_argument("--mfserve", metavar="TARGET",
                   help="also fit through this server with the Python client, inline")
    p.add_argument("--u1base", help="with --mfserve: ALS with its defaults on this u1.base")
    p.add_argument("--warmups", type=int, default=5)
    a = p.parse_args()
    if a.cd_only:
        x = nmf_data.load_udata(a.udata)
        times, err, iters, _ = run_sklearn(x, 10, "cd", a.repeats)
        report("udata sklearn-cd", 10, times, err, iters)
        if a.mfserve:
            times, server, iters = run_mfserve_client(a.mfserve, x, "nmf", 10, a.repeats,
                                                      a.warmups)
            report_client("udata mfserve-nmf-python-inline", 10, times, server, iters)
            if a.u1base:
                u = nmf_data.load_udata(a.u1base)
                times, server, iters = run_mfserve_client(a.mfserve, u, "als", 10, a.repeats,
                                                          a.warmups)
                report_client("u1.base mfserve-als-python-inline", 10, times, server, iters)
        return 0
    cases = []
    if a.udata:
        x = nmf_data.load_udata(a.udata)
        cases += [("udata", x, 10, None), ("udata", x, 50, None)]
    if a.dense:
        cases.append(("dense", nmf_data.load_dense(), 20, None))
    if a.topics:
        x, planted = nmf_data.load_topics()
        cases.append(("topics", x, planted.shape[0], planted))
    for name, x, k, planted in cases:
        for solver in ("cd", "mu"):
            times, err, iters, h = run_sklearn(x, k, solver, a.repeats)
            cos = None if planted is None else nmf_data.best_match_cosine(planted, h)
            report("%s sklearn-%s" % (name, solver), k, times, err, iters, cos)
        if not a.skip_gensim:
            times, err, iters, h = run_gensim(x, k, a.repeats)
            cos = None if planted is None else nmf_data.best_match_cosine(planted, h)
            report("%s gensim" % name, k, times, err, iters, cos)


if __name__ == "__main__":
    sys.exit(main())
