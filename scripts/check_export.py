#!/usr/bin/env python3
"""Check a `dlgeom-cert export` file against the certificate it came from.

Usage: python3 scripts/check_export.py CERT.json DATA.json weights.safetensors

Needs only `pip install safetensors numpy` (no torch). It
  1. loads the f64 state dict with safetensors.numpy.load_file and checks its names and
     shapes (0.weight, 0.bias, 2.weight, ..., {2L}.bias, weights [Q, Q], biases [Q]) and
     that every stored value is the correctly rounded exact weight of the certificate;
  2. runs the network in numpy float64 on every input of the data (inputs parsed exactly
     with fractions.Fraction, then converted to float);
  3. computes the exact outputs with fractions.Fraction from the certificate's exact
     weight strings;
  4. prints the number of points, max |numpy - exact| over all outputs, the max relative
     error, the exact and the float cost;
and exits 1 if the max absolute error exceeds 1e-9 * (1 + max |exact output|), 2 on bad
input.

The same weights in PyTorch (L hidden layers of width Q: L ReLUs, L + 1 Linear layers):

    model = torch.nn.Sequential(torch.nn.Linear(Q,Q), torch.nn.ReLU(), ..., torch.nn.Linear(Q,Q)).double()
    model.load_state_dict(safetensors.torch.load_file("weights.safetensors"))
    model(torch.tensor(x, dtype=torch.float64))
"""

import argparse
import json
import sys
from fractions import Fraction

TORCH_LINES = """\
model = torch.nn.Sequential(torch.nn.Linear(Q,Q), torch.nn.ReLU(), ..., torch.nn.Linear(Q,Q)).double()
model.load_state_dict(safetensors.torch.load_file("weights.safetensors"))
model(torch.tensor(x, dtype=torch.float64))"""


def fail(msg, code=2):
    print(f"check_export: {msg}", file=sys.stderr)
    sys.exit(code)


def exact(text, where):
    """An exact number from its literal text ("3/4", "0.125", "-1.5e-3", 7)."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        fail(f"{where}: expected a number, found {text!r}")
    try:
        return Fraction(str(text))
    except (ValueError, ZeroDivisionError) as e:
        fail(f"{where}: {text!r} is not an exact number ({e})")


def load_json(path):
    try:
        with open(path, encoding="utf-8-sig") as f:
            # Keep numbers as their literal text: never through a float.
            return json.load(f, parse_float=str, parse_int=str)
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")


def load_network(path):
    """Exact layers [(W rows, b)] from a certificate or a bare network block."""
    doc = load_json(path)
    block = doc.get("network", doc) if isinstance(doc, dict) else None
    if not isinstance(block, dict) or not isinstance(block.get("layers"), list):
        fail(f"{path}: expected a certificate or a network block with \"layers\"")
    layers = []
    for l, layer in enumerate(block["layers"], 1):
        try:
            w = [[exact(x, f"layer {l}, W row {r}, column {c}") for c, x in enumerate(row, 1)]
                 for r, row in enumerate(layer["w"], 1)]
            b = [exact(x, f"layer {l}, b entry {i}") for i, x in enumerate(layer["b"], 1)]
        except (KeyError, TypeError) as e:
            fail(f"{path}: layer {l} is not {{\"w\": [[...]], \"b\": [...]}} ({e!r})")
        q = len(b)
        if len(w) != q or any(len(row) != q for row in w):
            fail(f"{path}: layer {l}: W is not {q}x{q}")
        layers.append((w, b))
    if len(layers) < 2:
        fail(f"{path}: a network needs at least 2 layers")
    norm = doc.get("data", {}).get("normalisation", "1/(2N)") if "network" in doc else "1/(2N)"
    claimed = doc.get("claims", {}).get("cost") if "network" in doc else None
    return layers, norm, claimed


def load_data(path):
    """[(target, [inputs])] with exact Fractions; JSON dlgeom-data/1 or CSV class,x_1..x_Q."""
    if path.lower().endswith(".csv"):
        rows = []
        with open(path, encoding="utf-8-sig") as f:
            for ln, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                fields = [s.strip().strip('"') for s in line.split(",")]
                try:
                    xs = [Fraction(s) for s in fields[1:]]
                except (ValueError, ZeroDivisionError):
                    if not rows:
                        continue  # header
                    fail(f"{path}, line {ln}: not a number")
                rows.append((fields[0], xs))
        labels = list(dict.fromkeys(r[0] for r in rows))
        q = len(labels)
        classes = []
        for j, lab in enumerate(labels):
            target = [Fraction(int(i == j)) for i in range(q)]
            classes.append((target, [xs for l, xs in rows if l == lab]))
        return classes
    doc = load_json(path)
    cls = doc.get("classes") if isinstance(doc, dict) else None
    if not isinstance(cls, list) or not cls:
        fail(f"{path}: expected a dlgeom-data/1 document with \"classes\"")
    q = len(cls)
    classes = []
    for j, c in enumerate(cls):
        if "target" in c:
            target = [exact(x, f"class {j + 1}, target") for x in c["target"]]
        else:
            target = [Fraction(int(i == j)) for i in range(q)]
        inputs = [[exact(x, f"class {j + 1}, point {i + 1}") for x in p]
                  for i, p in enumerate(c["inputs"])]
        classes.append((target, inputs))
    return classes


def exact_forward(layers, x):
    h = list(x)
    for k, (w, b) in enumerate(layers):
        z = [sum((wr[i] * h[i] for i in range(len(h))), Fraction(0)) + bi for wr, bi in zip(w, b)]
        h = z if k == len(layers) - 1 else [v if v > 0 else Fraction(0) for v in z]
    return h


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="The same weights in PyTorch:\n\n" + TORCH_LINES
        + "\n\nExample: python3 scripts/check_export.py certificates/two_classes/global.json "
        "examples/two_classes.json weights.safetensors",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("cert", help="certificate (or bare network block) with the exact weights")
    ap.add_argument("data", help="the data file the certificate is bound to")
    ap.add_argument("weights", help="the f64 .safetensors file written by `dlgeom-cert export`")
    args = ap.parse_args()

    try:
        import numpy as np
        from safetensors.numpy import load_file
    except ImportError as e:
        fail(f"{e}: run `pip install safetensors numpy`")

    layers, norm, claimed = load_network(args.cert)
    classes = load_data(args.data)
    n_layers = len(layers)
    q = len(layers[0][1])
    if len(classes) != q:
        fail(f"the network has width {q} but the data has {len(classes)} classes")

    try:
        tensors = load_file(args.weights)
    except Exception as e:  # noqa: BLE001 - any reader error is bad input
        fail(f"cannot read {args.weights}: {e}")
    expected = {f"{2 * k}.{kind}" for k in range(n_layers) for kind in ("weight", "bias")}
    if set(tensors) != expected:
        fail(f"tensor names {sorted(tensors)} differ from the expected {sorted(expected)}")
    fl = []
    mismatched = 0
    for k, (w, b) in enumerate(layers):
        wt, bt = tensors[f"{2 * k}.weight"], tensors[f"{2 * k}.bias"]
        if wt.dtype != np.float64 or bt.dtype != np.float64:
            fail(f"layer {k + 1}: expected float64 tensors, found {wt.dtype}/{bt.dtype}")
        if wt.shape != (q, q) or bt.shape != (q,):
            fail(f"layer {k + 1}: shapes {wt.shape}, {bt.shape}; expected ({q}, {q}), ({q},)")
        # float(Fraction) is correctly rounded: the export must match it bit for bit.
        mismatched += sum(float(w[r][c]) != wt[r, c] for r in range(q) for c in range(q))
        mismatched += sum(float(b[i]) != bt[i] for i in range(q))
        fl.append((wt, bt))

    xs_exact = [x for _, inputs in classes for x in inputs]
    ys_exact = [t for t, inputs in classes for _ in inputs]
    n = len(xs_exact)
    X = np.array([[float(v) for v in x] for x in xs_exact], dtype=np.float64)
    H = X
    for k, (wt, bt) in enumerate(fl):
        Z = H @ wt.T + bt
        H = Z if k == n_layers - 1 else np.maximum(Z, 0.0)
    out_float = H

    max_abs = Fraction(0)
    max_rel = 0.0
    max_exact = Fraction(0)
    sse_exact = Fraction(0)
    sse_float = 0.0
    Y = np.array([[float(v) for v in y] for y in ys_exact], dtype=np.float64)
    for p, (x, y) in enumerate(zip(xs_exact, ys_exact)):
        f = exact_forward(layers, x)
        for o in range(q):
            err = abs(Fraction(float(out_float[p, o])) - f[o])
            max_abs = max(max_abs, err)
            max_exact = max(max_exact, abs(f[o]))
            if f[o] != 0:
                max_rel = max(max_rel, float(err / abs(f[o])))
            sse_exact += (f[o] - y[o]) ** 2
    sse_float = float(np.sum((out_float - Y) ** 2))
    div = 2 * n if norm == "1/(2N)" else n
    cost_exact = sse_exact / div
    cost_float = sse_float / div

    print(f"points: {n} (Q = {q}, L = {n_layers - 1}, normalisation {norm})")
    print(f"weights equal the correctly rounded exact weights: "
          f"{'yes' if mismatched == 0 else f'NO ({mismatched} differ)'}")
    print(f"max |numpy - exact| over all outputs: {float(max_abs):.3e}")
    print(f"max relative error: {max_rel:.3e}")
    print(f"max |exact output|: {float(max_exact):.6g}")
    print(f"exact cost: {cost_exact} (= {float(cost_exact):.6e})")
    if claimed is not None:
        print(f"certificate's cost: {claimed} "
              f"({'matches' if exact(claimed, 'claims.cost') == cost_exact else 'DIFFERS'})")
    print(f"float cost (numpy f64): {cost_float:.6e}")
    tol = 1e-9 * (1 + float(max_exact))
    ok = float(max_abs) <= tol and mismatched == 0
    print(f"tolerance 1e-9*(1+max|exact|) = {tol:.3e}: {'OK' if ok else 'FAILED'}")
    print("PyTorch:")
    print(f"    model = torch.nn.Sequential("
          + ", ".join([f"torch.nn.Linear({q},{q}), torch.nn.ReLU()"] * (n_layers - 1)
                      + [f"torch.nn.Linear({q},{q})"]) + ").double()")
    print(f"    model.load_state_dict(safetensors.torch.load_file(\"{args.weights}\"))")
    print("    model(torch.tensor(x, dtype=torch.float64))")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
