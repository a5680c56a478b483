#!/usr/bin/env python3
"""numpy float64 reference for `dlgeom-bench eval`: one network on all points at once.

Forward pass Z_l = W_l H_{l-1} + b_l 1^T, H_l = max(Z_l, 0) (columns = points), output
F = W_{L+1} H_L + b_{L+1} 1^T, cost C = |F - Y|^2 / (2N), margin min |Z_l| over all hidden
layers, gradient by backpropagation: delta = (F - Y)/N, dW_l = delta H_{l-1}^T,
db_l = delta 1, delta <- (W_l^T delta) * [Z_{l-1} > 0].

usage: ref_numpy.py DATA NETWORK [--repeat K] [--budget S]   -> one JSON line
"""
import argparse
import json
import sys

sys.dont_write_bytecode = True  # keep scripts/bench free of __pycache__

import numpy as np

from common import load_data, load_network, time_runs


def evaluate(X, Y, layers):
    n = X.shape[1]
    hs, zs = [X], []
    h = X
    for W, b in layers[:-1]:
        z = W @ h + b[:, None]
        zs.append(z)
        h = np.maximum(z, 0.0)
        hs.append(h)
    W, b = layers[-1]
    r = W @ h + b[:, None] - Y
    cost = float(np.sum(r * r)) / (2 * n)
    margin = min(float(np.min(np.abs(z))) for z in zs)
    delta = r / n
    grads = []
    for l in range(len(layers) - 1, -1, -1):
        W, _ = layers[l]
        grads.append((delta @ hs[l].T, delta.sum(axis=1)))
        if l > 0:
            delta = (W.T @ delta) * (zs[l - 1] > 0)
    grads.reverse()
    gmax = max(max(float(np.max(np.abs(gw))), float(np.max(np.abs(gb)))) for gw, gb in grads)
    return cost, margin, gmax


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("network")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--budget", type=float, default=float("inf"))
    a = ap.parse_args()
    xs, ys = load_data(a.data)
    X = np.array([[float(v) for v in x] for x in xs], dtype=np.float64).T.copy()
    Y = np.array([[float(v) for v in y] for y in ys], dtype=np.float64).T.copy()
    layers = [(np.array([[float(v) for v in row] for row in W]), np.array([float(v) for v in b]))
              for W, b in load_network(a.network)]
    med, times, (cost, margin, gmax) = time_runs(lambda: evaluate(X, Y, layers), a.repeat, a.budget)
    print(json.dumps({"ref": "numpy-f64", "n": X.shape[1], "q": X.shape[0],
                      "layers": len(layers) - 1, "runs": len(times), "median_s": med,
                      "times_s": times, "cost": cost, "margin": margin,
                      "max_abs_gradient": gmax, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
