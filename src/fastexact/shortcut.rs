//! Shortcut evaluation: the exact evaluation of [`super`] through the all-on prefix maps and
//! the switched-off suffixes, with the gradient from the pattern groups' moments
//! (MATH.md §1–§3, §8). Same [`Evaluation`], field by field; used first, and declined
//! (`None`) as soon as one point has a hidden layer that is neither all `> 0` nor all `< 0`
//! before some layer switches it off, or some pre-activation there is exactly `0`.
//!
//! **Prefix maps** (the cumulative parameters of MATH.md §3): `P_1 = W_1`, `c_1 = b_1`,
//! `P_ℓ = W_ℓ P_{ℓ−1}`, `c_ℓ = W_ℓ c_{ℓ−1} + b_ℓ`. If `z^1, …, z^{ℓ−1} > 0` at `x` then
//! `h^{ℓ−1} = z^{ℓ−1}` and by induction `z^ℓ = P_ℓ x + c_ℓ`. For the constructed networks
//! `P_ℓ = W^{(ℓ)}` are the small cone matrices, whereas `W_ℓ = W^{(ℓ)}(W^{(ℓ−1)})⁻¹` and the
//! layer-by-layer common denominators grow with every layer.
//!
//! **Suffixes.** If `z^k < 0` (all neurons) then `h^k = 0` and every later `z^ℓ`, and `f`, are
//! the constants of the pass started from `h^k = 0`.
//!
//! Each layer `ℓ` gets one denominator `s_ℓ D` (`s_ℓ` = lcm of the denominators of `P_ℓ`,
//! `c_ℓ` and the suffix values at `ℓ`), so the integer kernel of [`super`] (patterns, margin,
//! residuals, outputs) runs unchanged on numerators.
//!
//! **Gradient from group moments.** On a pattern group `h^ℓ(x) = H_ℓ x̃` with
//! `H_0 = [I | 0]`, `H_ℓ = D_ℓ (W_ℓ H_{ℓ−1} + b_ℓ e_{Q+1}ᵀ)` and `f = F x̃` (no `D`);
//! `δ^ℓ = B_ℓ r` with `B_{L+1} = I`, `B_ℓ = D_ℓ W_{ℓ+1}ᵀ B_{ℓ+1}`. With
//! `E = Σ r x̃ᵀ = F G − Rᵀ` (`G = Σ x̃x̃ᵀ`, `R = Σ x̃yᵀ`):
//! `Σ δ^ℓ (h^{ℓ−1})ᵀ = B_ℓ E H_{ℓ−1}ᵀ`, `Σ δ^ℓ = B_ℓ E e_{Q+1}`; summed over groups and
//! normalised like the per-point sums. Cost `O(groups · L · Q³)` instead of a backward pass
//! per point.

use super::{
    conv, group_moments_scaled, lcm_denoms, run_kernels, scale_to, Denoms, Kernel, Run, ScaledData,
    Stop,
};
use crate::arith::{Int, Rat};
use crate::lsq::Moments;
use crate::matrix::Matrix;
use crate::network::{Network, Normalisation};
use std::collections::BTreeMap;

/// `[A | v]` with `v` as an extra last column.
fn augment(a: &Matrix, v: &[Rat]) -> Matrix {
    let rows: Vec<Vec<Rat>> = (0..a.rows)
        .map(|i| a.row(i).iter().chain([&v[i]]).cloned().collect())
        .collect();
    Matrix::from_rows(&rows)
}

/// The switched-off suffixes of a network: for every hidden layer `k` (0-based) the values
/// `z^ℓ`, `ℓ = k+1 … L+1` (0-based layers `k+1 … nl−1`), of the pass started from `h^k = 0`.
/// A pass from `h^k = 0` and one from `h^{k'} = 0` that reach the same `h` before the same
/// layer agree from there on, so the values are stored as chains of shared nodes keyed by
/// (layer, input `h`): in the constructed networks every suffix reaches `h = 0` or the idle
/// layers' constant state, so there are `O(L)` nodes instead of the `L(L+1)/2` vectors of a
/// table per `k`.
pub(super) struct Suffixes<N> {
    /// Per node: its 0-based layer, the numerators (or values) `z` there, the next node.
    layer: Vec<usize>,
    z: Vec<Vec<N>>,
    next: Vec<Option<usize>>,
    /// Per hidden layer `k`: the node of layer `k + 1` once `h^k = 0`.
    start: Vec<usize>,
    /// Per hidden layer `k`: the output node of that pass.
    out: Vec<usize>,
}

impl Suffixes<Rat> {
    /// The exact suffixes of `net`.
    fn build(net: &Network) -> Suffixes<Rat> {
        let (q, nl) = (net.width(), net.layers.len());
        let mut sfx = Suffixes {
            layer: Vec::new(),
            z: Vec::new(),
            next: Vec::new(),
            start: Vec::with_capacity(nl.saturating_sub(1)),
            out: Vec::with_capacity(nl.saturating_sub(1)),
        };
        let mut memo: BTreeMap<(usize, Vec<Rat>), usize> = BTreeMap::new();
        for k in 0..nl.saturating_sub(1) {
            let mut h = vec![Rat::zero(); q];
            let mut prev: Option<usize> = None;
            let mut first = None;
            for l in k + 1..nl {
                if let Some(&i) = memo.get(&(l, h.clone())) {
                    match prev {
                        Some(p) => sfx.next[p] = Some(i),
                        None => first = Some(i),
                    }
                    break;
                }
                let layer = &net.layers[l];
                let z: Vec<Rat> = (layer.w.mul_vec(&h).iter().zip(&layer.b))
                    .map(|(a, b)| a + b)
                    .collect();
                let i = sfx.z.len();
                let next_h: Vec<Rat> = z.iter().map(Rat::relu).collect();
                memo.insert((l, std::mem::replace(&mut h, next_h)), i);
                sfx.layer.push(l);
                sfx.z.push(z);
                sfx.next.push(None);
                match prev {
                    Some(p) => sfx.next[p] = Some(i),
                    None => first = Some(i),
                }
                prev = Some(i);
            }
            let first = first.expect("k + 1 < nl");
            sfx.start.push(first);
            let mut last = first;
            while let Some(n) = sfx.next[last] {
                last = n;
            }
            sfx.out.push(last);
        }
        sfx
    }

    /// Per hidden layer `k`: the least `|z|` over the later hidden layers of its pass
    /// (`None` when no hidden layer follows), by one sweep over the nodes from the last layer.
    fn hidden_min_abs(&self, nl: usize) -> Vec<Option<Rat>> {
        let mut order: Vec<usize> = (0..self.z.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.layer[i]));
        let mut min: Vec<Option<Rat>> = vec![None; self.z.len()];
        for i in order {
            let mut m = self.next[i].and_then(|n| min[n].clone());
            if self.layer[i] + 1 < nl {
                for v in self.z[i].iter().map(Rat::abs) {
                    if m.as_ref().is_none_or(|b| v < *b) {
                        m = Some(v);
                    }
                }
            }
            min[i] = m;
        }
        self.start.iter().map(|&s| min[s].clone()).collect()
    }
}

impl<N> Suffixes<N> {
    /// The same chains with every node's values mapped by `f(layer, z)` (`None` if any
    /// node's does not map).
    pub(super) fn map<M>(
        &self,
        mut f: impl FnMut(usize, &[N]) -> Option<Vec<M>>,
    ) -> Option<Suffixes<M>> {
        Some(Suffixes {
            layer: self.layer.clone(),
            z: (self.layer.iter().zip(&self.z))
                .map(|(&l, z)| f(l, z))
                .collect::<Option<_>>()?,
            next: self.next.clone(),
            start: self.start.clone(),
            out: self.out.clone(),
        })
    }

    /// The nodes of each layer (`nl` layers).
    fn by_layer(&self, nl: usize) -> Vec<Vec<usize>> {
        let mut v = vec![Vec::new(); nl];
        for (i, &l) in self.layer.iter().enumerate() {
            v[l].push(i);
        }
        v
    }

    /// The values `z^ℓ` of the pass from `h^k = 0`, for the layers after `k` in order.
    pub(super) fn chain(&self, k: usize) -> impl Iterator<Item = &[N]> + '_ {
        let mut cur = Some(self.start[k]);
        std::iter::from_fn(move || {
            let i = cur?;
            cur = self.next[i];
            Some(&self.z[i][..])
        })
    }

    /// The output `f` of the pass from `h^k = 0`.
    pub(super) fn output(&self, k: usize) -> &[N] {
        &self.z[self.out[k]]
    }
}

/// The evaluation through the shortcuts, or `None` when they do not apply (see above).
/// Without `full` only the cost, sse and margin are meaningful (as in `eval_core`).
pub(super) fn evaluate(
    net: &Network,
    sd: &ScaledData,
    norm: Normalisation,
    full: bool,
    round: bool,
) -> Option<Run> {
    let (q, nl) = (net.width(), net.layers.len());
    // Prefix maps [P_ℓ | c_ℓ].
    let mut pc: Vec<Matrix> = Vec::with_capacity(nl);
    for (l, layer) in net.layers.iter().enumerate() {
        let next = match l {
            0 => augment(&layer.w, &layer.b),
            _ => {
                let prev = &pc[l - 1];
                let mut m = layer.w.mul(prev);
                for i in 0..q {
                    m[(i, q)] += &layer.b[i];
                }
                m
            }
        };
        pc.push(next);
    }
    // Suffixes: z^ℓ after h^k = 0 (0-based hidden layer k), as shared chains.
    let off = Suffixes::build(net);
    // One denominator s_ℓ per layer; numerators over s_ℓ D.
    let mut den_h = vec![sd.denom.clone()];
    let (mut w, mut bh) = (Vec::with_capacity(nl), Vec::with_capacity(nl));
    let by_layer = off.by_layer(nl);
    for (l, m) in pc.iter().enumerate() {
        let suffix = by_layer[l].iter().flat_map(|&i| off.z[i].iter());
        let s = lcm_denoms(m.data.iter().chain(suffix), u64::MAX).expect("no bit limit");
        let sdn = &s * &sd.denom;
        let mut cache = (Int::one(), s.clone());
        let mut wl = Vec::with_capacity(q * q);
        let mut bl = Vec::with_capacity(q);
        for i in 0..q {
            for j in 0..q {
                wl.push(scale_to(&m[(i, j)], &s, &mut cache));
            }
            bl.push(&scale_to(&m[(i, q)], &s, &mut cache) * &sd.denom);
        }
        w.push(wl);
        bh.push(bl);
        den_h.push(sdn);
    }
    let off_num: Suffixes<Int> = off
        .map(|l, z| {
            let mut c2 = (Int::one(), den_h[l + 1].clone());
            Some(
                z.iter()
                    .map(|v| scale_to(v, &den_h[l + 1], &mut c2))
                    .collect(),
            )
        })
        .expect("Int never overflows");
    let r = den_h[nl].lcm(&sd.target_denom);
    let den = Denoms {
        h: den_h,
        r,
        delta: vec![Int::one(); nl],
    };
    let wref: Vec<&[Int]> = w.iter().map(|v| &v[..]).collect();
    let off_f: Vec<Vec<Rat>> = (0..nl - 1).map(|k| off.output(k).to_vec()).collect();
    let off_f64: Vec<Vec<f64>> = (off_f.iter())
        .map(|f| f.iter().map(Rat::to_f64).collect())
        .collect();
    // The switched-off numerators in `i128`: every layer, or the hidden layers only (the
    // output entries then zero placeholders).
    let off_i128 = |hidden_only: bool| -> Option<Suffixes<i128>> {
        off_num.map(|l, z| match hidden_only && l + 1 == nl {
            true => Some(vec![0; q]),
            false => conv(z),
        })
    };
    let small = Kernel::<i128>::from_parts(q, &wref, &bh, sd, Some(&den)).and_then(|mut k| {
        k.off_f = off_f.clone();
        k.off_f64 = off_f64.clone();
        k.round = round;
        k.off = Some(off_i128(false)?);
        Some(k)
    });
    // When the output layer does not fit in `i128` (a least-squares output layer usually has
    // large denominators) the hidden layers may still: they run in `i128`, the output layer in
    // big integers.
    let hidden = Kernel::<i128>::from_parts(q, &wref, &bh, sd, None).and_then(|mut k| {
        k.off = Some(off_i128(true)?);
        Some(k)
    });
    let mut big =
        Kernel::<Int>::from_parts(q, &wref, &bh, sd, Some(&den)).expect("Int never overflows");
    big.off = Some(off_num);
    big.off_f = off_f;
    big.off_f64 = off_f64;
    big.round = round;
    let mut run = match run_kernels(&den, small, hidden, &big, sd, norm, full) {
        Ok(r) => r,
        Err(Stop::Mixed) => return None,
        Err(Stop::Overflow) => unreachable!("Int never overflows"),
    };
    if let Some(s) = run.spread.as_mut() {
        s.off_min = off.hidden_min_abs(nl);
    }
    let e = &mut run.eval;
    let zero_seen = e.margin.as_ref().is_some_and(|m| m.0.is_zero());
    if full && !zero_seen {
        let groups = group_moments_scaled(sd, &e.patterns);
        e.gradient = Some(moment_gradient(net, &groups, norm, sd.n()));
    }
    Some(run)
}

/// What a move of the first-layer bias needs from a shortcut evaluation. Every point runs
/// through the prefix maps until (at most) one hidden layer is all `< 0`. Per hidden layer
/// `ℓ` and neuron `m`, among the points whose layers before `ℓ` are all `> 0`:
/// `range[ℓ][m] = (least z^ℓ_m over those all > 0 at ℓ, largest z^ℓ_m over those all < 0
/// at ℓ)`; and over the points never switched off, `Σ r` (`r = f − y`) and their number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spread {
    /// See above (`None`: no such point).
    pub range: Vec<Vec<(Option<Rat>, Option<Rat>)>>,
    /// Per hidden layer `k`: the least `|z|` of the later hidden layers once `h^k = 0` (the
    /// switched-off constants; `None` when no hidden layer follows).
    pub off_min: Vec<Option<Rat>>,
    /// `Σ (f − y)` over the points never switched off.
    pub on_rsum: Vec<Rat>,
    /// Their number.
    pub on_count: usize,
}

impl Spread {
    /// The exact cost and margin of `net` with `b_1` moved by `db` (all else unchanged),
    /// given its evaluation's `sse`, when no activation pattern changes; `None` otherwise.
    ///
    /// Moving `b_1` by `δ` moves every prefix bias by `Δ_ℓ = W_ℓ ⋯ W_2 δ` (`Δ_1 = δ`), so a
    /// point whose layers before `ℓ` stay all `> 0` has `z'^ℓ = z^ℓ + Δ_ℓ`, and once a layer is
    /// all `≤ 0` the rest of its pass does not depend on `b_1`. Hence every pattern stays
    /// iff `least + Δ_ℓ > 0` and `largest + Δ_ℓ < 0` wherever [`Spread::range`] has a value
    /// (induction over the layers); then the margin is the least of those `|·|` and of the
    /// switched-off constants, and `SSE' = SSE + 2 Δ_f·Σ r + n_on |Δ_f|²` with
    /// `Δ_f = Δ_{L+1}` (only the never-switched-off outputs move, all by `Δ_f`).
    pub fn shifted(
        &self,
        net: &Network,
        db: &[Rat],
        sse: &Rat,
        norm: Normalisation,
        n: usize,
    ) -> Option<(Rat, Rat)> {
        let mut delta = db.to_vec();
        let mut margin: Option<Rat> = None;
        let mut keep = |v: Rat| {
            if margin.as_ref().is_none_or(|m| v < *m) {
                margin = Some(v);
            }
        };
        for (l, row) in self.range.iter().enumerate() {
            for ((lo, hi), d) in row.iter().zip(&delta) {
                if let Some(lo) = lo {
                    let v = lo + d;
                    v.is_positive().then_some(())?;
                    keep(v);
                }
                if let Some(hi) = hi {
                    let v = -(hi + d);
                    v.is_positive().then_some(())?;
                    keep(v);
                }
            }
            // Points switched off here: the rest of their pass, from h^ℓ = 0.
            if row.iter().any(|(_, hi)| hi.is_some()) {
                if let Some(m) = &self.off_min[l] {
                    keep(m.clone());
                }
            }
            delta = net.layers[l + 1].w.mul_vec(&delta);
        }
        let df = delta;
        let two_r: Vec<Rat> = self.on_rsum.iter().map(|x| x + x).collect();
        let count = Rat::from_i64(self.on_count as i64);
        let dsse = crate::matrix::dot(&df, &two_r) + count * crate::matrix::dot(&df, &df);
        let sse = sse + &dsse;
        Some((norm.apply(&sse, n), margin?))
    }
}

/// The gradient from the pattern groups' moments (module documentation), normalised:
/// `1/N` of the sums for `1/(2N)`, `2/N` for `1/N`.
fn moment_gradient(
    net: &Network,
    groups: &BTreeMap<&[bool], Moments>,
    norm: Normalisation,
    n: usize,
) -> Vec<Rat> {
    let (q, nl) = (net.width(), net.layers.len());
    let per = q * q + q;
    let mut g = vec![Rat::zero(); nl * per];
    let on = |pat: &[bool], l: usize, m: usize| l + 1 == nl || pat[l * q + m];
    for (pat, mom) in groups {
        // H_0 = [I | 0], H_ℓ = D_ℓ (W_ℓ H_{ℓ−1} + b_ℓ e_{Q+1}ᵀ); hs[nl] = F.
        let mut hs = vec![augment(&Matrix::identity(q), &vec![Rat::zero(); q])];
        for (l, layer) in net.layers.iter().enumerate() {
            let mut m = layer.w.mul(&hs[l]);
            for i in 0..q {
                if on(pat, l, i) {
                    m[(i, q)] += &layer.b[i];
                } else {
                    (0..=q).for_each(|a| m[(i, a)] = Rat::zero());
                }
            }
            hs.push(m);
        }
        let mut e = hs[nl].mul(&mom.gram).sub(&mom.cross.transpose());
        for l in (0..nl).rev() {
            let gw = e.mul(&hs[l].transpose());
            let off = l * per;
            for m in 0..q {
                for k in 0..q {
                    g[off + m * q + k] += &gw[(m, k)];
                }
                g[off + q * q + m] += &e[(m, q)];
            }
            if l == 0 {
                break;
            }
            e = net.layers[l].w.transpose().mul(&e);
            for k in (0..q).filter(|&k| !on(pat, l - 1, k)) {
                (0..=q).for_each(|a| e[(k, a)] = Rat::zero());
            }
        }
    }
    let scale = match norm {
        Normalisation::HalfMean => Rat::from_frac(1, n as i64),
        Normalisation::Mean => Rat::from_frac(2, n as i64),
    }
    .expect("n > 0");
    g.iter().map(|v| v * &scale).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::construct::{build, plans};
    use crate::data::{DataLimits, Dataset};
    use crate::network::Layer;

    /// The naive rest of the pass from `h^k = 0`: `z` of every later layer.
    fn naive(net: &Network, k: usize) -> Vec<Vec<Rat>> {
        let mut h = vec![Rat::zero(); net.width()];
        (k + 1..net.layers.len())
            .map(|l| {
                let layer = &net.layers[l];
                let z: Vec<Rat> = (layer.w.mul_vec(&h).iter().zip(&layer.b))
                    .map(|(a, b)| a + b)
                    .collect();
                h = z.iter().map(Rat::relu).collect();
                z
            })
            .collect()
    }

    fn check_against_naive(net: &Network) -> usize {
        let s = Suffixes::build(net);
        let nl = net.layers.len();
        for k in 0..nl - 1 {
            let want = naive(net, k);
            let got: Vec<Vec<Rat>> = s.chain(k).map(|z| z.to_vec()).collect();
            assert_eq!(got, want, "suffix from layer {k}");
            assert_eq!(s.output(k), &want[want.len() - 1][..]);
            let min = want[..want.len() - 1].iter().flatten().map(Rat::abs).min();
            assert_eq!(s.hidden_min_abs(nl)[k], min, "least |z| after layer {k}");
        }
        s.z.len()
    }

    /// The shared chains hold exactly the naive suffixes, and for a constructed deep network
    /// only `O(L)` vectors (the old table held `L(L+1)/2`): the depth-memory regression.
    #[test]
    fn suffix_chains_equal_the_naive_rests_and_are_linear_in_depth() {
        let data = Dataset::load(
            std::path::Path::new("examples/three_classes.json"),
            &DataLimits::default(),
        )
        .expect("example loads");
        let layers = 120;
        let c = build(&data, layers, &plans::global(data.q)).expect("global builds");
        let nodes = check_against_naive(&c.network);
        let nl = c.network.layers.len();
        assert!(
            nodes <= (data.q + 1) * nl,
            "{nodes} stored suffix vectors for {nl} layers (a table would hold {})",
            nl * (nl - 1) / 2
        );
        // A small network with negative, positive and mixed biases: same values.
        let q = 2;
        let m = |a: i64, b: i64, c: i64, d: i64| {
            crate::matrix::Matrix::from_rows(&[
                vec![Rat::from_i64(a), Rat::from_i64(b)],
                vec![Rat::from_i64(c), Rat::from_i64(d)],
            ])
        };
        let layers: Vec<Layer> = (0..7)
            .map(|i| Layer {
                w: m(1 + i % 2, -1, i - 3, 2),
                b: (0..q)
                    .map(|j| Rat::from_i64((i * 5 + j * 3) % 7 - 3))
                    .collect(),
            })
            .collect();
        check_against_naive(&Network { layers });
    }
}
