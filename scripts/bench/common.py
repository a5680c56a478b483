"""Shared loading for the benchmark references (scripts/bench/ref_numpy.py, ref_flint.py).

Data: dlgeom-data/1 JSON (numbers as exact strings such as "10133/1000" or "0.5").
Network: the JSON written by `dlgeom-bench eval DATA --network-out FILE`
(`{"hidden_layers", "width", "layers": [{"w": [[..]], "b": [..]}]}`, exact strings).
Loading is not timed; only the evaluation is.
"""
import json
import statistics
import time
from fractions import Fraction


def load_data(path):
    """Returns (inputs, targets): lists of per-point Fraction vectors, class by class."""
    with open(path) as f:
        doc = json.load(f)
    xs, ys = [], []
    for c in doc["classes"]:
        y = [Fraction(t) for t in c["target"]]
        for x in c["inputs"]:
            xs.append([Fraction(v) for v in x])
            ys.append(y)
    return xs, ys


def load_network(path):
    """Returns [(W rows, b)] as Fractions, hidden layers then the output layer."""
    with open(path) as f:
        doc = json.load(f)
    return [([[Fraction(v) for v in row] for row in l["w"]], [Fraction(v) for v in l["b"]])
            for l in doc["layers"]]


def time_runs(fn, repeat, budget):
    """Median seconds of up to `repeat` runs of fn() (stops once `budget` s are spent)."""
    times, result = [], None
    while len(times) < repeat and (not times or sum(times) < budget):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result
