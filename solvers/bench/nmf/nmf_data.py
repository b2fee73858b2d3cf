#!/usr/bin/python3
"""The matrices of the NMF benchmark, shared by the peer script and the data generator.

* ``udata``: MovieLens 100K ``u.data`` as a 943 x 1682 users x items matrix whose absent
  entries are zeros (scipy CSR, float64).
* ``dense``: X = W0 H0 + noise, 2,000 x 1,000, W0 and H0 ~ U(0, 1) of rank 20, noise
  ~ N(0, (0.1 sd(W0 H0))^2), clipped at 0; numpy's PCG64 with a fixed seed, so the same bytes
  every time. Written as raw little-endian float32, row-major, for the Java side.
* ``topics``: a synthetic document x term count matrix with planted topics (documents mix a
  few of ``rank`` topics, each a sparse distribution over terms; counts are Poisson), written
  as a MatrixMarket coordinate file with the planted topic-term matrix beside it.
"""
import numpy as np
import scipy.sparse as sp

DENSE_ROWS, DENSE_COLS, DENSE_RANK, DENSE_SEED = 2000, 1000, 20, 20240501
DENSE_PATH = "/tmp/nmf-bench-dense-2000x1000.f32"


def load_udata(path):
    """Returns u.data as a CSR users x items matrix with zeros for unrated pairs."""
    raw = np.loadtxt(path, dtype=np.int64, usecols=(0, 1, 2))
    users, items, ratings = raw[:, 0] - 1, raw[:, 1] - 1, raw[:, 2].astype(np.float64)
    return sp.csr_matrix((ratings, (users, items)), shape=(users.max() + 1, items.max() + 1))


def make_dense():
    """Returns (X, noise floor) of the dense benchmark matrix, as float64."""
    rng = np.random.default_rng(DENSE_SEED)
    w0 = rng.uniform(0, 1, (DENSE_ROWS, DENSE_RANK))
    h0 = rng.uniform(0, 1, (DENSE_RANK, DENSE_COLS))
    m = w0 @ h0
    x = np.maximum(m + rng.normal(0, 0.1 * m.std(), m.shape), 0)
    floor = np.linalg.norm(x - m) / np.linalg.norm(x)
    # Round through float32: that is what the Java side reads and what the server trains on.
    return x.astype(np.float32).astype(np.float64), floor


def write_dense(path=DENSE_PATH):
    x, floor = make_dense()
    x.astype("<f4").tofile(path)
    return floor


def load_dense(path=DENSE_PATH):
    return np.fromfile(path, dtype="<f4").reshape(DENSE_ROWS, DENSE_COLS).astype(np.float64)


def make_topics(docs=20000, terms=10000, rank=20, doc_len=135, seed=7):
    """Planted topics: returns (CSR counts docs x terms, planted rank x terms topic matrix)."""
    rng = np.random.default_rng(seed)
    # Each topic puts its mass on its own block of terms plus a thin shared tail.
    topics = np.full((rank, terms), 1e-3 / terms)
    block = terms // rank
    for t in range(rank):
        topics[t, t * block:(t + 1) * block] += rng.dirichlet(np.full(block, 0.3))
    topics /= topics.sum(axis=1, keepdims=True)
    mix = np.zeros((docs, rank))
    for d in range(docs):
        chosen = rng.choice(rank, size=rng.integers(1, 4), replace=False)
        mix[d, chosen] = rng.dirichlet(np.ones(chosen.size))
    rows, cols, vals = [], [], []
    for d in range(docs):
        counts = rng.poisson(doc_len * (mix[d] @ topics))
        nz = np.nonzero(counts)[0]
        rows.append(np.full(nz.size, d))
        cols.append(nz)
        vals.append(counts[nz])
    x = sp.csr_matrix((np.concatenate(vals).astype(np.float64),
                       (np.concatenate(rows), np.concatenate(cols))), shape=(docs, terms))
    return x, topics


TOPICS_MTX = "/tmp/nmf-bench-topics-20000x10000.mtx"
TOPICS_PLANTED = "/tmp/nmf-bench-topics-planted-20x10000.f32"


def write_topics():
    """Writes the planted-topic counts as MatrixMarket and the planted topics as raw float32."""
    x, topics = make_topics()
    coo = x.tocoo()
    with open(TOPICS_MTX, "w") as f:
        f.write("%%%%MatrixMarket matrix coordinate integer general\n%d %d %d\n"
                % (x.shape[0], x.shape[1], coo.nnz))
        order = np.lexsort((coo.col, coo.row))
        rows, cols, vals = coo.row[order] + 1, coo.col[order] + 1, coo.data[order].astype(int)
        f.write("\n".join("%d %d %d" % t for t in zip(rows, cols, vals)))
        f.write("\n")
    topics.astype("<f4").tofile(TOPICS_PLANTED)
    return x, topics


def load_topics():
    """Returns (CSR counts, planted topics), generating them on first use."""
    import os
    if not os.path.exists(TOPICS_MTX):
        return write_topics()
    import scipy.io
    x = scipy.io.mmread(TOPICS_MTX).tocsr().astype(np.float64)
    topics = np.fromfile(TOPICS_PLANTED, dtype="<f4").reshape(20, -1).astype(np.float64)
    return x, topics


def best_match_cosine(planted, found):
    """Mean over planted topics of the best cosine similarity with any found topic."""
    a = planted / np.linalg.norm(planted, axis=1, keepdims=True)
    b = found / np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-300)
    return float((a @ b.T).max(axis=1).mean())


if __name__ == "__main__":
    print("dense noise floor", write_dense())
    x, _ = write_topics()
    print("topics", x.shape, "nnz", x.nnz, "density %.4f" % (x.nnz / x.shape[0] / x.shape[1]))
