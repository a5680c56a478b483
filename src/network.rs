//! Deep ReLU networks of width `Q`: exact forward pass, activation patterns, margin, cost and
//! gradient (MATH.md §1–§2), and the truncation map / cumulative parameters (MATH.md §3).
//!
//! Model: `h⁰ = x`, `z^ℓ = W_ℓ h^{ℓ−1} + b_ℓ`, `h^ℓ = σ(z^ℓ)` for `ℓ = 1..L`,
//! `f(x) = W_{L+1} h^L + b_{L+1}`; cost `C = (1/(2N)) Σ_j Σ_i |f(x_{j,i}) − y_j|²`
//! (or `1/N`, see [`Normalisation`]).
//!
//! Gradient by backpropagation, valid when the margin `min |z^ℓ_m(x)|` is `> 0`:
//! `δ^{L+1} = r/N` (`r = f(x) − y`; `2r/(2N)` for `1/N`), `δ^ℓ = D_ℓ W_{ℓ+1}ᵀ δ^{ℓ+1}`,
//! `∂C/∂W_ℓ = Σ δ^ℓ (h^{ℓ−1})ᵀ`, `∂C/∂b_ℓ = Σ δ^ℓ`.
//!
//! The evaluation is generic over [`Scalar`], so the same code runs exactly ([`Rat`]) and in
//! `f64` for the non-normative cross-check (MATH.md §9). Points are processed in parallel in
//! fixed-size chunks whose partial sums are combined in chunk order, so results do not depend
//! on the thread count.

use crate::arith::{Rat, Scalar};
use crate::data::Dataset;
use crate::matrix::Matrix;
use rayon::prelude::*;

/// One affine layer `z = W h + b` with `W ∈ ℚ^{Q×Q}`, `b ∈ ℚ^Q`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// `W_ℓ`.
    pub w: Matrix,
    /// `b_ℓ`.
    pub b: Vec<Rat>,
}

/// A network: `L` hidden ReLU layers followed by one affine output layer
/// (`layers.len() = L + 1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// The layers `1..L+1`; the last one is the output layer.
    pub layers: Vec<Layer>,
}

/// The cost normalisation (MATH.md §1). Zero-ness, criticality and minimality do not depend
/// on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalisation {
    /// `C = (1/(2N)) Σ |f − y|²` (default).
    HalfMean,
    /// `C = (1/N) Σ |f − y|²`.
    Mean,
}

impl Normalisation {
    /// The text recorded in certificates: `"1/(2N)"` or `"1/N"`.
    pub fn label(self) -> &'static str {
        match self {
            Normalisation::HalfMean => "1/(2N)",
            Normalisation::Mean => "1/N",
        }
    }
    /// Parse a label written by [`Normalisation::label`].
    pub fn from_label(s: &str) -> Option<Normalisation> {
        match s {
            "1/(2N)" => Some(Normalisation::HalfMean),
            "1/N" => Some(Normalisation::Mean),
            _ => None,
        }
    }
    /// The cost from a sum of squared residuals `sse` over `n` points.
    pub fn apply<S: Scalar>(self, sse: &S, n: usize) -> S {
        match self {
            Normalisation::HalfMean => sse.div_count(2 * n),
            Normalisation::Mean => sse.div_count(n),
        }
    }
}

/// Where a pre-activation is attained: class `j`, point `i` within it, layer `ℓ`, neuron `m`
/// (all 1-based, as printed and certified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Class index `j` (1-based).
    pub class: usize,
    /// Point index `i` within the class (1-based).
    pub point: usize,
    /// Hidden layer `ℓ` (1-based).
    pub layer: usize,
    /// Neuron `m` (1-based).
    pub neuron: usize,
}

/// Everything one pass over the data yields.
#[derive(Clone, Debug)]
pub struct Evaluation<S> {
    /// `f(x_{j,i})` for every point, class by class.
    pub outputs: Vec<Vec<S>>,
    /// The cost with the chosen normalisation.
    pub cost: S,
    /// `Σ |f − y|²` (unnormalised).
    pub sse: S,
    /// `min |z^ℓ_m(x)|` and where it is first attained (`None` when `L = 0`).
    pub margin: Option<(S, Location)>,
    /// The gradient in [`Network::flatten`] order; `None` when some pre-activation is
    /// exactly zero (the cost may not be differentiable there).
    pub gradient: Option<Vec<S>>,
    /// The full activation pattern of every point (bit `ℓ·Q + m` set iff `z^{ℓ+1}_{m+1} > 0`).
    pub patterns: Vec<Vec<bool>>,
}

/// A network with entries converted to a scalar type.
struct Weights<S> {
    q: usize,
    w: Vec<Vec<S>>,
    b: Vec<Vec<S>>,
}

/// Points per parallel chunk: fixed, so reductions are independent of the thread count.
const CHUNK: usize = 256;

impl Network {
    /// `L`, the number of hidden layers.
    pub fn hidden(&self) -> usize {
        self.layers.len() - 1
    }
    /// `Q`, the width.
    pub fn width(&self) -> usize {
        self.layers[0].b.len()
    }
    /// `K = (L+1)(Q² + Q)`, the number of parameters.
    pub fn param_count(&self) -> usize {
        let q = self.width();
        self.layers.len() * (q * q + q)
    }
    /// All parameters in order: for `ℓ = 1..L+1`, `W_ℓ` row-major, then `b_ℓ`.
    pub fn flatten(&self) -> Vec<Rat> {
        let mut v = Vec::with_capacity(self.param_count());
        for l in &self.layers {
            v.extend(l.w.data.iter().cloned());
            v.extend(l.b.iter().cloned());
        }
        v
    }
    /// The inverse of [`Network::flatten`] for a network of `L` hidden layers and width `Q`.
    pub fn unflatten(q: usize, hidden: usize, theta: &[Rat]) -> Network {
        assert_eq!(theta.len(), (hidden + 1) * (q * q + q), "parameter count");
        let layers = theta
            .chunks(q * q + q)
            .map(|c| Layer {
                w: Matrix::from_vec(q, q, c[..q * q].to_vec()),
                b: c[q * q..].to_vec(),
            })
            .collect();
        Network { layers }
    }
    /// `θ + t·d` for a direction in [`Network::flatten`] order.
    pub fn step(&self, d: &[Rat], t: &Rat) -> Network {
        let theta: Vec<Rat> = self
            .flatten()
            .iter()
            .zip(d)
            .map(|(x, y)| x + &(y * t))
            .collect();
        Network::unflatten(self.width(), self.hidden(), &theta)
    }
    /// Largest bit size of any weight (how big the numbers are).
    pub fn max_bits(&self) -> u64 {
        self.flatten().iter().map(Rat::bit_size).max().unwrap_or(0)
    }

    fn weights<S: Scalar>(&self) -> Weights<S> {
        Weights {
            q: self.width(),
            w: self
                .layers
                .iter()
                .map(|l| l.w.data.iter().map(S::from_rat).collect())
                .collect(),
            b: self
                .layers
                .iter()
                .map(|l| l.b.iter().map(S::from_rat).collect())
                .collect(),
        }
    }

    /// The exact output `f(x)`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::matrix::Matrix;
    /// use dlgeom_cert::network::{Layer, Network};
    /// let r = |x: i64| Rat::from_i64(x);
    /// // one hidden layer: h = relu(x − 1), f = 2h + 3
    /// let net = Network { layers: vec![
    ///     Layer { w: Matrix::from_i64(1, 1, &[1]), b: vec![r(-1)] },
    ///     Layer { w: Matrix::from_i64(1, 1, &[2]), b: vec![r(3)] },
    /// ]};
    /// assert_eq!(net.output(&[r(5)]), vec![r(11)]);
    /// assert_eq!(net.output(&[r(0)]), vec![r(3)]);
    /// ```
    pub fn output(&self, x: &[Rat]) -> Vec<Rat> {
        let wts = self.weights::<Rat>();
        let (hs, _) = forward(&wts, x);
        hs.last().cloned().unwrap_or_default()
    }

    /// Hidden activations `h^1..h^L` and pre-activations `z^1..z^L` of one input, exactly.
    pub fn trace(&self, x: &[Rat]) -> (Vec<Vec<Rat>>, Vec<Vec<Rat>>) {
        let wts = self.weights::<Rat>();
        let (mut hs, zs) = forward(&wts, x);
        hs.pop();
        (hs[1..].to_vec(), zs)
    }

    /// `∂f_o(x)/∂θ` in [`Network::flatten`] order (`o` 0-based), by backpropagating `e_o`.
    /// Where a pre-activation is exactly 0 the one-sided derivative with `D = 0` is used;
    /// callers use it only at positive margin.
    pub fn output_gradient(&self, x: &[Rat], o: usize) -> Vec<Rat> {
        let wts = self.weights::<Rat>();
        let (hs, zs) = forward(&wts, x);
        unit_gradient(&wts, &hs, &zs, o)
    }

    /// `∂f_o(x)/∂θ` for every output `o = 0..Q` (the rows of the output Jacobian at `x`):
    /// [`Network::output_gradient`] for each `o`, with the weights and the forward pass
    /// computed once instead of once per output.
    pub fn output_gradients(&self, x: &[Rat]) -> Vec<Vec<Rat>> {
        let wts = self.weights::<Rat>();
        let (hs, zs) = forward(&wts, x);
        (0..wts.q)
            .map(|o| unit_gradient(&wts, &hs, &zs, o))
            .collect()
    }

    /// The exact evaluation: the same [`Evaluation`] as `evaluate::<Rat>`, computed by the
    /// integer common-denominator fast path [`crate::fastexact::evaluate_exact`].
    // Integration point (fastexact): exact callers use this; `evaluate` stays the generic
    // naive reference and the f64 cross-check path.
    pub fn evaluate_exact(&self, data: &Dataset, norm: Normalisation) -> Evaluation<Rat> {
        crate::fastexact::evaluate_exact(self, data, norm)
    }

    /// Evaluate cost, margin, patterns and (when the margin is `> 0`) the gradient on the
    /// data, in scalar type `S` (exact for [`Rat`]).
    pub fn evaluate<S: Scalar>(&self, data: &Dataset, norm: Normalisation) -> Evaluation<S> {
        let wts = self.weights::<S>();
        let q = wts.q;
        let nl = wts.w.len();
        let n = data.n();
        // (class index, point index) pairs in data order.
        let points: Vec<(usize, usize)> = data
            .classes
            .iter()
            .enumerate()
            .flat_map(|(j, c)| (0..c.inputs.len()).map(move |i| (j, i)))
            .collect();
        let targets: Vec<Vec<S>> = data
            .classes
            .iter()
            .map(|c| c.target.iter().map(S::from_rat).collect())
            .collect();
        struct Part<S> {
            outputs: Vec<Vec<S>>,
            patterns: Vec<Vec<bool>>,
            sse: S,
            margin: Option<(S, Location)>,
            zero_seen: bool,
            grad: Vec<Vec<S>>, // per layer: W row-major then b
        }
        let chunk_size = if S::PARALLEL {
            CHUNK
        } else {
            points.len().max(1)
        };
        let parts: Vec<Part<S>> = points
            .par_chunks(chunk_size)
            .map(|chunk| {
                let mut part = Part {
                    outputs: Vec::with_capacity(chunk.len()),
                    patterns: Vec::with_capacity(chunk.len()),
                    sse: S::zero(),
                    margin: None,
                    zero_seen: false,
                    grad: (0..nl).map(|_| vec![S::zero(); q * q + q]).collect(),
                };
                for &(j, i) in chunk {
                    let x: Vec<S> = data.classes[j].inputs[i].iter().map(S::from_rat).collect();
                    let (hs, zs) = forward(&wts, &x);
                    let f = &hs[nl];
                    let r: Vec<S> = f
                        .iter()
                        .zip(&targets[j])
                        .map(|(a, b)| S::sub_ref(a, b))
                        .collect();
                    for v in &r {
                        part.sse += &S::mul_ref(v, v);
                    }
                    let mut pat = Vec::with_capacity((nl - 1) * q);
                    for (l, z) in zs.iter().enumerate() {
                        for (m, v) in z.iter().enumerate() {
                            pat.push(v.sign() > 0);
                            let a = v.abs_val();
                            let better = match &part.margin {
                                None => true,
                                Some((best, _)) => a < *best,
                            };
                            if better {
                                part.margin = Some((
                                    a,
                                    Location {
                                        class: j + 1,
                                        point: i + 1,
                                        layer: l + 1,
                                        neuron: m + 1,
                                    },
                                ));
                            }
                            if v.sign() == 0 {
                                part.zero_seen = true;
                            }
                        }
                    }
                    if !part.zero_seen {
                        backward(&wts, &hs, &zs, r, &mut part.grad);
                    }
                    part.outputs.push(f.clone());
                    part.patterns.push(pat);
                }
                part
            })
            .collect();
        let mut outputs_flat = Vec::with_capacity(n);
        let mut patterns = Vec::with_capacity(n);
        let mut sse = S::zero();
        let mut margin: Option<(S, Location)> = None;
        let mut zero_seen = false;
        let mut grad: Vec<Vec<S>> = (0..nl).map(|_| vec![S::zero(); q * q + q]).collect();
        for p in parts {
            outputs_flat.extend(p.outputs);
            patterns.extend(p.patterns);
            sse += &p.sse;
            if let Some((m, loc)) = p.margin {
                let better = match &margin {
                    None => true,
                    Some((best, _)) => m < *best,
                };
                if better {
                    margin = Some((m, loc));
                }
            }
            zero_seen |= p.zero_seen;
            for (g, pg) in grad.iter_mut().zip(&p.grad) {
                for (a, b) in g.iter_mut().zip(pg) {
                    *a += b;
                }
            }
        }
        let outputs = outputs_flat;
        // ∂C/∂θ: accumulated Σ r·(∂f/∂θ); scale by the normalisation (1/N, or 2/N for 1/N).
        let scale_sum = |s: &S| match norm {
            Normalisation::HalfMean => s.div_count(n),
            Normalisation::Mean => (s.clone() + s.clone()).div_count(n),
        };
        let gradient = if zero_seen {
            None
        } else {
            Some(grad.iter().flat_map(|g| g.iter().map(scale_sum)).collect())
        };
        Evaluation {
            outputs,
            cost: norm.apply(&sse, n),
            sse,
            margin,
            gradient,
            patterns,
        }
    }
}

/// The data rounded once for the `f64` cross-check (MATH.md §9): inputs row-major
/// (`N × Q`, data order) and each point's target, every value [`Rat::to_f64`].
#[derive(Clone, Debug)]
pub struct F64Data {
    /// Width `Q`.
    pub q: usize,
    /// `x` of point `p` is `inputs[p·Q..(p+1)·Q]`.
    pub inputs: Vec<f64>,
    /// Per point, its class's target.
    pub targets: Vec<f64>,
}

impl F64Data {
    /// Round `data` (points in data order).
    pub fn new(data: &Dataset) -> F64Data {
        let mut d = F64Data {
            q: data.q,
            inputs: Vec::with_capacity(data.n() * data.q),
            targets: Vec::with_capacity(data.n() * data.q),
        };
        for c in &data.classes {
            let y: Vec<f64> = c.target.iter().map(Rat::to_f64).collect();
            for x in &c.inputs {
                d.inputs.extend(x.iter().map(Rat::to_f64));
                d.targets.extend_from_slice(&y);
            }
        }
        d
    }
}

/// What the cross-check needs from [`Network::evaluate`]`::<f64>`: cost, gradient (`None`
/// after a zero pre-activation), margin value, and the outputs (`N × Q`, row-major).
#[derive(Clone, Debug)]
pub struct F64Eval {
    /// The cost.
    pub cost: f64,
    /// The normalised gradient in [`Network::flatten`] order, `None` as in [`Evaluation`].
    pub gradient: Option<Vec<f64>>,
    /// `min |z|` over points, layers, neurons.
    pub margin: Option<f64>,
    /// The outputs.
    pub outputs: Vec<f64>,
}

impl Network {
    /// [`Network::evaluate`]`::<f64>` on rounded data, bit for bit: the same operations in
    /// the same order (`z_m = b_m`, then `z_m += W[m][k]·h_k` for `k = 0..Q` skipping products
    /// with a zero factor; ReLU; `sse += r_o²`; first strict minimum of `|z|`; per-point
    /// backpropagation until a zero pre-activation), with buffers reused across points
    /// instead of vectors per point and layer. A point whose hidden layer `ℓ` is all `≤ 0`
    /// continues from `h^ℓ = 0`, which is the same computation for every such point: the
    /// rest of its forward pass is copied from the first such point, and the additions its
    /// backward pass makes to the gradient sums (which depend only on that rest and the
    /// target) are replayed, in the same order. `tests/fastexact.rs` compares the two.
    pub fn evaluate_f64(&self, fd: &F64Data, norm: Normalisation) -> F64Eval {
        let wts = self.weights::<f64>();
        let (q, nl) = (wts.q, wts.w.len());
        let n = fd.inputs.len() / q.max(1);
        // W_ℓ column-major, so that the forward pass reads a column at a time.
        let wt: Vec<Vec<f64>> = (wts.w.iter())
            .map(|w| (0..q * q).map(|i| w[(i % q) * q + i / q]).collect())
            .collect();
        let sgn = |x: f64| <f64 as Scalar>::sign(&x);
        // hs: h^0 … h^L, then f; zs: z^1 … z^L.
        let mut hs = vec![0.0f64; (nl + 1) * q];
        let mut zs = vec![0.0f64; nl.saturating_sub(1) * q];
        let (mut delta, mut next, mut r) = (vec![0.0f64; q], vec![0.0f64; q], vec![0.0f64; q]);
        let mut grad: Vec<Vec<f64>> = (0..nl).map(|_| vec![0.0; q * q + q]).collect();
        let mut outputs = Vec::with_capacity(n * q);
        let (mut sse, mut margin, mut zero_seen) = (0.0f64, None::<f64>, false);
        // A pass whose hidden layer `l` is all `≤ 0` continues from `h = 0`: the same
        // operations on the same numbers for every such point. `rest[l]`: the later `z` and
        // `h` (with `f`) of the first such point; `adds[l]`: per target, the additions its
        // backward pass made to the gradient sums (performed again, in the same order, for
        // every later point with that target).
        let mut rest: Vec<Option<(Vec<f64>, Vec<f64>)>> = vec![None; nl];
        type Adds = Vec<(usize, usize, f64)>;
        let mut adds: Vec<Vec<(Vec<u64>, Adds)>> = vec![Vec::new(); nl];
        for p in 0..n {
            hs[..q].copy_from_slice(&fd.inputs[p * q..(p + 1) * q]);
            let mut off_at = None;
            for l in 0..nl {
                let (before, after) = hs.split_at_mut((l + 1) * q);
                let (h, z) = (&before[l * q..], &mut after[..q]);
                z.copy_from_slice(&wts.b[l]);
                // Column by column: every z_m still takes its products in k order.
                for (k, &v) in h.iter().enumerate() {
                    if !nonzero(v) {
                        continue;
                    }
                    let col = &wt[l][k * q..(k + 1) * q];
                    for (zm, &a) in z.iter_mut().zip(col) {
                        *zm += skip_zero(a, a * v);
                    }
                }
                if l + 1 < nl {
                    zs[l * q..(l + 1) * q].copy_from_slice(z);
                    z.iter_mut()
                        .for_each(|v| *v = if sgn(*v) > 0 { *v } else { 0.0 });
                    if off_at.is_none() && z.iter().all(|v| *v == 0.0) {
                        off_at = Some(l);
                        if let Some((zr, hr)) = &rest[l] {
                            zs[(l + 1) * q..].copy_from_slice(zr);
                            hs[(l + 2) * q..].copy_from_slice(hr);
                            break;
                        }
                    }
                }
            }
            if let Some(l) = off_at.filter(|&l| rest[l].is_none()) {
                rest[l] = Some((zs[(l + 1) * q..].to_vec(), hs[(l + 2) * q..].to_vec()));
            }
            let f = &hs[nl * q..];
            let y = &fd.targets[p * q..(p + 1) * q];
            for ((ro, fo), yo) in r.iter_mut().zip(f).zip(y) {
                *ro = fo - yo;
            }
            for v in &r {
                sse += v * v;
            }
            for v in &zs {
                let a = v.abs();
                if margin.is_none_or(|best| a < best) {
                    margin = Some(a);
                }
                zero_seen |= sgn(*v) == 0;
            }
            outputs.extend_from_slice(f);
            if zero_seen {
                continue;
            }
            let same = |t: &[u64]| t.iter().zip(y).all(|(a, b)| *a == b.to_bits());
            let known = off_at.and_then(|l| adds[l].iter().position(|(t, _)| same(t)));
            if let (Some(l), Some(i)) = (off_at, known) {
                for &(layer, idx, v) in &adds[l][i].1 {
                    grad[layer][idx] += v;
                }
                continue;
            }
            // Recorded for a switched-off point; adding `-0.0` changes nothing, so it is
            // not recorded.
            let (recording, mut record): (bool, Adds) = (off_at.is_some(), Vec::new());
            delta.copy_from_slice(&r);
            for l in (0..nl).rev() {
                let (h, g) = (&hs[l * q..(l + 1) * q], &mut grad[l]);
                for (m, &dm) in delta.iter().enumerate() {
                    if !nonzero(dm) {
                        continue;
                    }
                    let row = g[m * q..(m + 1) * q].iter_mut().zip(h);
                    for (k, (gk, &hk)) in row.enumerate() {
                        let v = skip_zero(hk, dm * hk);
                        *gk += v;
                        if recording && !(v == 0.0 && v.is_sign_negative()) {
                            record.push((l, m * q + k, v));
                        }
                    }
                    g[q * q + m] += dm;
                    if recording {
                        record.push((l, q * q + m, dm));
                    }
                }
                if l == 0 {
                    break;
                }
                // Row by row: every next_k still takes its products in m order.
                next.iter_mut().for_each(|v| *v = 0.0);
                for (m, &dm) in delta.iter().enumerate() {
                    if !nonzero(dm) {
                        continue;
                    }
                    let row = &wts.w[l][m * q..(m + 1) * q];
                    for (nk, &a) in next.iter_mut().zip(row) {
                        *nk += skip_zero(a, a * dm);
                    }
                }
                for (nk, z) in next.iter_mut().zip(&zs[(l - 1) * q..l * q]) {
                    if sgn(*z) <= 0 {
                        *nk = 0.0;
                    }
                }
                std::mem::swap(&mut delta, &mut next);
            }
            if let Some(l) = off_at {
                adds[l].push((y.iter().map(|v| v.to_bits()).collect(), record));
            }
        }
        let scale = |s: &f64| match norm {
            Normalisation::HalfMean => s.div_count(n),
            Normalisation::Mean => (s + s).div_count(n),
        };
        F64Eval {
            cost: norm.apply(&sse, n),
            gradient: (!zero_seen).then(|| grad.iter().flatten().map(scale).collect()),
            margin,
            outputs,
        }
    }
}

/// `x` is a nonzero number (not `±0`, not NaN): [`Scalar::sign`]`(x) ≠ 0`.
#[inline]
fn nonzero(x: f64) -> bool {
    x.abs() > 0.0
}

/// The term to add for a product with factor `a`: the product, or `-0.0` when `a` is zero
/// or NaN. `s + (-0.0)` is `s` bit for bit for every `s` (also `-0.0` and NaN), so adding
/// it equals skipping the product, without a branch.
#[inline]
fn skip_zero(a: f64, product: f64) -> f64 {
    if nonzero(a) {
        product
    } else {
        -0.0
    }
}

/// Forward pass: returns `[h⁰, h¹, …, h^L, f]` and `[z¹, …, z^L]`.
fn forward<S: Scalar>(wts: &Weights<S>, x: &[S]) -> (Vec<Vec<S>>, Vec<Vec<S>>) {
    let q = wts.q;
    let nl = wts.w.len();
    let mut hs = Vec::with_capacity(nl + 1);
    let mut zs = Vec::with_capacity(nl - 1);
    hs.push(x.to_vec());
    for l in 0..nl {
        let h = &hs[l];
        let mut z = wts.b[l].clone();
        for (m, zm) in z.iter_mut().enumerate() {
            let row = &wts.w[l][m * q..(m + 1) * q];
            for (a, v) in row.iter().zip(h) {
                if a.sign() != 0 && v.sign() != 0 {
                    *zm += &S::mul_ref(a, v);
                }
            }
        }
        if l + 1 < nl {
            let out = z
                .iter()
                .map(|v| if v.sign() > 0 { v.clone() } else { S::zero() })
                .collect();
            zs.push(z);
            hs.push(out);
        } else {
            hs.push(z);
        }
    }
    (hs, zs)
}

/// `∂f_o/∂θ` at one input from its forward pass `(hs, zs)`: backpropagation of the unit
/// residual `e_o` (MATH §2), flattened layer by layer.
fn unit_gradient(wts: &Weights<Rat>, hs: &[Vec<Rat>], zs: &[Vec<Rat>], o: usize) -> Vec<Rat> {
    let q = wts.q;
    let mut r = vec![Rat::zero(); q];
    r[o] = Rat::one();
    let mut grad: Vec<Vec<Rat>> = (0..wts.w.len())
        .map(|_| vec![Rat::zero(); q * q + q])
        .collect();
    backward(wts, hs, zs, r, &mut grad);
    grad.into_iter().flatten().collect()
}

/// Backpropagation of one residual `r`; adds `Σ δ h ᵀ` and `δ` into `grad` (unnormalised).
fn backward<S: Scalar>(
    wts: &Weights<S>,
    hs: &[Vec<S>],
    zs: &[Vec<S>],
    r: Vec<S>,
    grad: &mut [Vec<S>],
) {
    let q = wts.q;
    let nl = wts.w.len();
    let mut delta = r;
    for l in (0..nl).rev() {
        let h = &hs[l];
        let g = &mut grad[l];
        for (m, dm) in delta.iter().enumerate() {
            if dm.sign() == 0 {
                continue;
            }
            for (k, hk) in h.iter().enumerate() {
                if hk.sign() != 0 {
                    g[m * q + k] += &S::mul_ref(dm, hk);
                }
            }
            g[q * q + m] += dm;
        }
        if l == 0 {
            break;
        }
        // δ^{l} = D W_{l+1}ᵀ δ^{l+1}
        let mut next = vec![S::zero(); q];
        for (k, nk) in next.iter_mut().enumerate() {
            if zs[l - 1][k].sign() <= 0 {
                continue;
            }
            for (m, dm) in delta.iter().enumerate() {
                let a = &wts.w[l][m * q + k];
                if a.sign() != 0 && dm.sign() != 0 {
                    *nk += &S::mul_ref(a, dm);
                }
            }
        }
        delta = next;
    }
}

/// Cumulative parameters (MATH.md §3): `W^{(ℓ)} = W_ℓ W^{(ℓ−1)}`, `b^{(ℓ)} = W_ℓ b^{(ℓ−1)} + b_ℓ`,
/// `W^{(0)} = I`, `b^{(0)} = 0`, for `ℓ = 1..L+1`.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::matrix::Matrix;
/// use dlgeom_cert::network::{cumulative, from_cumulative, Layer, Network};
/// let net = Network { layers: vec![
///     Layer { w: Matrix::from_i64(2, 2, &[1, 2, 0, 1]), b: vec![Rat::from_i64(1), Rat::from_i64(0)] },
///     Layer { w: Matrix::from_i64(2, 2, &[3, 0, 1, 1]), b: vec![Rat::from_i64(0), Rat::from_i64(-1)] },
/// ]};
/// let cum = cumulative(&net);
/// assert_eq!(from_cumulative(&cum).unwrap(), net);
/// ```
pub fn cumulative(net: &Network) -> Vec<Layer> {
    let q = net.width();
    let mut w = Matrix::identity(q);
    let mut b = vec![Rat::zero(); q];
    let mut out = Vec::with_capacity(net.layers.len());
    for l in &net.layers {
        w = l.w.mul(&w);
        b = crate::matrix::vadd(&l.w.mul_vec(&b), &l.b);
        out.push(Layer {
            w: w.clone(),
            b: b.clone(),
        });
    }
    out
}

/// Layer weights from cumulative parameters (MATH.md §3): `W_ℓ = W^{(ℓ)} (W^{(ℓ−1)})⁻¹`,
/// `b_ℓ = b^{(ℓ)} − W_ℓ b^{(ℓ−1)}`. `None` when some `W^{(ℓ)}`, `ℓ ≤ L`, is singular
/// (naming no layer: callers construct invertible cumulative maps).
pub fn from_cumulative(cum: &[Layer]) -> Option<Network> {
    let q = cum.first()?.b.len();
    let mut prev_w = Matrix::identity(q);
    let mut prev_b = vec![Rat::zero(); q];
    let mut layers = Vec::with_capacity(cum.len());
    for (idx, c) in cum.iter().enumerate() {
        let inv = prev_w.inverse()?;
        let w = c.w.mul(&inv);
        let b = crate::matrix::vsub(&c.b, &w.mul_vec(&prev_b));
        layers.push(Layer { w, b });
        if idx + 1 < cum.len() {
            prev_w = c.w.clone();
            prev_b = c.b.clone();
        }
    }
    Some(Network { layers })
}

/// The truncation map `τ_{W,b}(x) = W⁻¹(σ(Wx + b) − b)` (MATH.md §3, \[SEQ\] eq. (1)),
/// given `W⁻¹`. The identity on the forward cone `Wx + b ≥ 0`, the apex `−W⁻¹b` on the
/// backward cone `Wx + b ≤ 0`.
pub fn truncate(w: &Matrix, w_inv: &Matrix, b: &[Rat], x: &[Rat]) -> Vec<Rat> {
    let z: Vec<Rat> = crate::matrix::vadd(&w.mul_vec(x), b)
        .iter()
        .map(Rat::relu)
        .collect();
    w_inv.mul_vec(&crate::matrix::vsub(&z, b))
}

/// The curated points `τ^{(ℓ)}(x)` for `ℓ = 0..L` (MATH.md §3, claim C4):
/// `τ^{(0)} = x`, `τ^{(ℓ)} = τ_{W^{(ℓ)}, b^{(ℓ)}} ∘ τ^{(ℓ−1)}`. `None` if some `W^{(ℓ)}` is
/// singular. The identity `h^ℓ = W^{(ℓ)} τ^{(ℓ)}(x) + b^{(ℓ)}` holds for every input.
pub fn curated_points(net: &Network, x: &[Rat]) -> Option<Vec<Vec<Rat>>> {
    let cum = cumulative(net);
    let mut out = vec![x.to_vec()];
    for c in &cum[..cum.len() - 1] {
        let inv = c.w.inverse()?;
        let prev = out.last().expect("nonempty");
        let t = truncate(&c.w, &inv, &c.b, prev);
        out.push(t);
    }
    Some(out)
}
