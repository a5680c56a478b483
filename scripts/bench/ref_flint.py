#!/usr/bin/env python3
"""Straightforward exact reference with python-flint (FLINT fmpq_mat) for `dlgeom-bench eval`.

The same computation as ref_numpy.py, exactly: all points at once as Q x N fmpq_mat,
Z = W H + b 1^T by fmpq_mat products, ReLU / pattern / margin entrywise in Python,
gradient dW = delta H^T, db = delta 1 and delta <- (W^T delta) masked, by fmpq_mat products.
Prints the exact cost and margin as "p/q" strings so run.sh can compare them with Rust.

usage: ref_flint.py DATA NETWORK [--repeat K] [--budget S]   -> one JSON line
"""
import argparse
import json
import sys

sys.dont_write_bytecode = True  # keep scripts/bench free of __pycache__

import flint
from flint import fmpq, fmpq_mat

from common import load_data, load_network, time_runs


def to_mat(rows):
    return fmpq_mat([[fmpq(v.numerator, v.denominator) for v in r] for r in rows])


def canonical(x):
    return str(x.p) if x.q == 1 else f"{x.p}/{x.q}"


def evaluate(X, Y, layers, ones_row, ones_col):
    q, n = X.nrows(), X.ncols()
    zero = fmpq(0)
    hs, masks = [X], []
    h = X
    margin = None
    for W, b in layers[:-1]:
        z = W * h + b * ones_row
        ent = z.entries()
        mask = [e > zero for e in ent]
        masks.append(mask)
        m = min(abs(e) for e in ent)
        margin = m if margin is None or m < margin else margin
        h = fmpq_mat(q, n, [e if p else zero for e, p in zip(ent, mask)])
        hs.append(h)
    W, b = layers[-1]
    r = W * h + b * ones_row - Y
    sse = sum((e * e for e in r.entries()), zero)
    cost = sse / (2 * n)
    delta = r * fmpq(1, n)
    grads = []
    for l in range(len(layers) - 1, -1, -1):
        W, _ = layers[l]
        grads.append((delta * hs[l].transpose(), delta * ones_col))
        if l > 0:
            back = (W.transpose() * delta).entries()
            delta = fmpq_mat(q, n, [e if p else zero for e, p in zip(back, masks[l - 1])])
    grads.reverse()
    gmax = max(max(abs(e) for e in gw.entries() + gb.entries()) for gw, gb in grads)
    return cost, margin, gmax


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("network")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--budget", type=float, default=float("inf"))
    a = ap.parse_args()
    xs, ys = load_data(a.data)
    q, n = len(xs[0]), len(xs)
    X = to_mat(list(map(list, zip(*xs))))
    Y = to_mat(list(map(list, zip(*ys))))
    layers = [(to_mat(W), to_mat([[v] for v in b])) for W, b in load_network(a.network)]
    ones_row = fmpq_mat(1, n, [fmpq(1)] * n)
    ones_col = fmpq_mat(n, 1, [fmpq(1)] * n)
    med, times, (cost, margin, gmax) = time_runs(
        lambda: evaluate(X, Y, layers, ones_row, ones_col), a.repeat, a.budget)
    print(json.dumps({"ref": "python-flint-fmpq_mat", "n": n, "q": q,
                      "layers": len(layers) - 1, "runs": len(times), "median_s": med,
                      "times_s": times, "cost": canonical(cost), "margin": canonical(margin),
                      "max_abs_gradient": canonical(gmax), "python_flint": flint.__version__}))


if __name__ == "__main__":
    main()
