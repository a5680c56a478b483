//! The float cross-check (MATH §9, non-normative), recomputed bit for bit.
//!
//! Weights, inputs and targets are the exact values rounded by [`crate::arith::Rat::to_f64`].
//! The order of operations is the producer's documented sequential order, so every result is
//! reproducible exactly and compared by bits (`to_bits`), not with a tolerance:
//! - forward: `z_m = b_m`, then for `k = 0..Q` `z_m += W[m][k]·h_k`, skipping products with
//!   a zero factor (`±0` or NaN); hidden `h = z` if `z > 0` else `0.0`; output likewise
//!   without ReLU;
//! - `r_o = f_o − y_o`, `sse += r_o·r_o` (points in data order, then `o`);
//!   cost `sse / (2N)` (or `sse / N`);
//! - margin: first minimal `|z|` (strict `<`), points, layers, neurons in order;
//! - gradient: per point (until some pre-activation is exactly zero, after which it is
//!   `None`): from the output layer back, for each `m` with `δ_m ≠ 0`: `g[W m,k] += δ_m·h_k`
//!   for `h_k ≠ 0`, `g[b m] += δ_m`; then `δ'_k = Σ_m W[m][k]·δ_m` (from `0.0`, in `m` order,
//!   nonzero factors only) where `z_k > 0`, else `0`; finally `g / N` (`(g + g) / N` for
//!   `"1/N"`); `max_abs_gradient_f64` folds `max(|g|)` from `0.0` in parameter order;
//! - `max_abs_output_error` folds `max(|to_f64(exact f_o) − f_o|)` from `0.0`.

use crate::cert::FloatRecord;

fn sign(x: f64) -> i32 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

fn same(path: &str, claimed: Option<f64>, re: Option<f64>) -> Result<(), String> {
    if claimed.map(f64::to_bits) == re.map(f64::to_bits) {
        Ok(())
    } else {
        Err(format!(
            "float_check.{path}: claimed {claimed:?}, recomputed {re:?}"
        ))
    }
}

/// Recompute the float block and compare it bit for bit with the certificate's.
/// `w`, `b`: the rounded weights (layer, row, column); `xs`, `ys`: per class its inputs and
/// its target, rounded; `exact_f`: the exact outputs, rounded.
pub(super) fn compare(
    rec: &FloatRecord,
    (w, b): (&[Vec<Vec<f64>>], &[Vec<f64>]),
    (xs, ys): (&[Vec<Vec<f64>>], &[Vec<f64>]),
    half: bool,
    exact_f: &[Vec<f64>],
) -> Result<String, String> {
    let (q, nl) = (ys.len(), w.len());
    let n: usize = xs.iter().map(Vec::len).sum();
    let mut sse = 0.0f64;
    let mut margin: Option<f64> = None;
    let mut zero_seen = false;
    let mut grad: Vec<Vec<f64>> = vec![vec![0.0; q * q + q]; nl];
    let mut max_err = 0.0f64;
    let mut ex = exact_f.iter();
    for (inputs, y) in xs.iter().zip(ys) {
        for x in inputs {
            let mut hs = vec![x.clone()];
            let mut zs: Vec<Vec<f64>> = Vec::new();
            for (l, (wl, bl)) in w.iter().zip(b).enumerate() {
                let mut z = bl.clone();
                for (zm, row) in z.iter_mut().zip(wl) {
                    for (a, v) in row.iter().zip(&hs[l]) {
                        if sign(*a) != 0 && sign(*v) != 0 {
                            *zm += a * v;
                        }
                    }
                }
                if l + 1 < nl {
                    hs.push(z.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect());
                    zs.push(z);
                } else {
                    hs.push(z);
                }
            }
            let f = hs.pop().unwrap_or_default();
            let r: Vec<f64> = f.iter().zip(y).map(|(a, b)| a - b).collect();
            for v in &r {
                sse += v * v;
            }
            for v in zs.iter().flatten() {
                let a = v.abs();
                if margin.is_none_or(|best| a < best) {
                    margin = Some(a);
                }
                zero_seen |= sign(*v) == 0;
            }
            if !zero_seen {
                backward(w, &hs, &zs, r, &mut grad);
            }
            if let Some(e) = ex.next() {
                for (a, b) in e.iter().zip(&f) {
                    max_err = max_err.max((a - b).abs());
                }
            }
        }
    }
    let cost = if half {
        sse / (2 * n) as f64
    } else {
        sse / n as f64
    };
    let max_grad = (!zero_seen).then(|| {
        grad.iter().flatten().fold(0.0f64, |m, g| {
            let g = if half {
                g / n as f64
            } else {
                (g + g) / n as f64
            };
            m.max(g.abs())
        })
    });
    if !rec.non_normative {
        return Err("float_check.non_normative: must be true".into());
    }
    // Non-finite values are recorded as null.
    let fin = |x: Option<f64>| x.filter(|v| v.is_finite());
    same("cost_f64", rec.cost_f64, fin(Some(cost)))?;
    same(
        "max_abs_gradient_f64",
        rec.max_abs_gradient_f64,
        fin(max_grad),
    )?;
    same(
        "max_abs_output_error",
        rec.max_abs_output_error,
        fin(Some(max_err)),
    )?;
    same("margin_f64", rec.margin_f64, fin(margin))?;
    Ok(format!(
        "bit-identical (cost {cost:e}, max output error {max_err:e})"
    ))
}

fn backward(
    w: &[Vec<Vec<f64>>],
    hs: &[Vec<f64>],
    zs: &[Vec<f64>],
    r: Vec<f64>,
    grad: &mut [Vec<f64>],
) {
    let q = r.len();
    let mut delta = r;
    for l in (0..w.len()).rev() {
        let g = &mut grad[l];
        for (m, &dm) in delta.iter().enumerate() {
            if sign(dm) == 0 {
                continue;
            }
            for (k, &hk) in hs[l].iter().enumerate() {
                if sign(hk) != 0 {
                    g[m * q + k] += dm * hk;
                }
            }
            g[q * q + m] += dm;
        }
        if l == 0 {
            break;
        }
        delta = (0..q)
            .map(|k| {
                let mut s = 0.0f64;
                if sign(zs[l - 1][k]) > 0 {
                    for (row, &dm) in w[l].iter().zip(&delta) {
                        if sign(row[k]) != 0 && sign(dm) != 0 {
                            s += row[k] * dm;
                        }
                    }
                }
                s
            })
            .collect();
    }
}
