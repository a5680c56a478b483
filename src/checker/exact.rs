//! The exact checks (items 1–10 of the module documentation), generic over [`Num`].

use super::num::Num;
use super::{float, Report};
use crate::cert::{Certificate, Claims, Configuration, FlatRecord, NetworkRecord, FORMAT, SOURCE};
use crate::data::Dataset;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;

type Res = Result<(), String>;
type Out = Result<String, String>;
type Mat<N> = Vec<Vec<N>>;
/// A vector of a forward pass, shared between the traces that have it (an input's own `x`,
/// `h = z` on an all-on layer, the constant rest of a switched-off pass).
type Row<N> = Arc<Vec<N>>;

/// `return Err(format!(…))`.
macro_rules! fail {
    ($($t:tt)*) => { return Err(format!($($t)*)) };
}

/// Weights `w[ℓ][m][k]`, `b[ℓ][m]` of the `L + 1` layers.
struct Net<N> {
    q: usize,
    w: Vec<Mat<N>>,
    b: Mat<N>,
}

/// A data point: 0-based class and index within the class, input (shared as `h⁰` by every
/// trace of it), target; and the input as integers `xs = dx · x` (`dx`: the lcm of its
/// denominators), also as `i64`s when they fit, for [`Net::forward`].
struct Point<N> {
    class: usize,
    idx: usize,
    x: Row<N>,
    y: Vec<N>,
    xs: Vec<N>,
    dx: N,
    xi: Option<Vec<i64>>,
}

impl<N: Num> Point<N> {
    fn new(class: usize, idx: usize, x: Vec<N>, y: Vec<N>) -> Point<N> {
        let dx = N::denom_lcm(&x);
        let xs: Vec<N> = x.iter().map(|v| v.mul(&dx)).collect();
        let xi = xs.iter().map(N::to_i64).collect();
        Point {
            class,
            idx,
            x: Arc::new(x),
            y,
            xs,
            dx,
            xi,
        }
    }
}

/// Forward pass of one input: `h[0] = x, …, h[L]`, hidden pre-activations `z[0..L]`, output.
struct Trace<N> {
    h: Vec<Row<N>>,
    z: Vec<Row<N>>,
    f: Row<N>,
    /// `Some(ℓ)` (0-based) when hidden layer `ℓ + 1` is all `≤ 0` and the rest of the pass
    /// is the constant `Shortcuts::off[ℓ]` (the same for every such input).
    off: Option<usize>,
}

/// The data in the checker's own form, built once for every certificate checked against it
/// ([`super::Checker`]): the points (or why the data cannot be read), each class's moments
/// (a pattern group made of whole classes sums them, item 6), and the inputs and targets
/// rounded to `f64` for the float block (item 11).
pub(super) struct Prepared<N> {
    pts: Result<Vec<Point<N>>, String>,
    classes: Vec<Moments<N>>,
    /// Per class, per point: the input rounded to `f64`.
    xf: Vec<Mat<f64>>,
    /// Per class: the target rounded to `f64`.
    yf: Mat<f64>,
}

impl<N: Num> Prepared<N> {
    pub(super) fn new(data: &Dataset) -> Prepared<N> {
        let pts = points::<N>(data);
        let classes = pts
            .as_ref()
            .map_or_else(|_| Vec::new(), |p| class_moments(p));
        let f64s = |v: &[crate::arith::Rat]| v.iter().map(|r| r.to_f64()).collect();
        let xf = (data.classes.iter())
            .map(|c| c.inputs.iter().map(|x| f64s(x)).collect())
            .collect();
        let yf = data.classes.iter().map(|c| f64s(&c.target)).collect();
        Prepared {
            pts,
            classes,
            xf,
            yf,
        }
    }
}

/// The moments of each class (points in class order, classes `0, 1, …`).
fn class_moments<N: Num>(pts: &[Point<N>]) -> Vec<Moments<N>> {
    let q = pts.first().map_or(0, |p| p.x.len());
    let classes = pts.iter().map(|p| p.class + 1).max().unwrap_or(0);
    (0..classes)
        .map(|j| {
            let of: Vec<&Point<N>> = pts.iter().filter(|p| p.class == j).collect();
            Moments::of(q, &of)
        })
        .collect()
}

/// See [`Net::shortcuts`].
struct Shortcuts<N> {
    c: Mat<N>,
    /// The `z` and `h` of the rest of the pass from `h^{ℓ+1} = 0`, per layer `ℓ`, as shared
    /// chains ([`OffChains`]).
    off: OffChains<N>,
    /// Row `m` of `p[ℓ]` times `d[ℓ][m]`, the lcm of its denominators (integers).
    ps: Vec<Mat<N>>,
    d: Mat<N>,
}

/// The switched-off rests of [`Shortcuts`]: node `i` holds the `z` and `h` of one layer
/// and the node of the next layer; `start[ℓ]` begins the pass from `h^{ℓ+1} = 0`. A pass
/// whose `h` is `0` again at a later layer continues as the pass started there, so it links
/// to that chain instead of storing the rest again: `O(L)` nodes when the rests reach
/// `0` or a few constant states (as in every constructed network), not `L(L+1)/2`.
struct OffChains<N> {
    nodes: Vec<(Row<N>, Row<N>)>,
    next: Vec<Option<usize>>,
    start: Vec<usize>,
}

impl<N: Num> OffChains<N> {
    /// The rest of the pass from `h^{ℓ+1} = 0`: `(z, h)` of layers `ℓ+2, …`, then `f`.
    fn chain(&self, l: usize) -> impl Iterator<Item = &(Row<N>, Row<N>)> + '_ {
        let mut cur = Some(self.start[l]);
        std::iter::from_fn(move || {
            let i = cur?;
            cur = self.next[i];
            Some(&self.nodes[i])
        })
    }
}

/// [`Net::forward`]'s prefix maps for the inputs whose denominators have one lcm `dx`: per
/// layer and neuron `(a d_m P_m, k, E)` with `E = lcm(d_m dx, den c_m)`, `a = E / (d_m dx)`
/// and `k = c_m E` (integers), so that `z_m = (a d_m P_m · xs + k) / E`; and the row and `k`
/// as machine integers when they fit.
type Scaled<N> = Vec<Vec<ScaledRow<N>>>;

/// One neuron of [`Scaled`].
struct ScaledRow<N> {
    row: Vec<N>,
    k: N,
    e: N,
    small: Option<(Vec<i64>, i128)>,
}

impl<N: Num> ScaledRow<N> {
    /// `z = (row · xs + k) / E`; the numerator in `i128` (checked) when the row, `k` and
    /// the input fit, else in `N`.
    fn z(&self, pt: &Point<N>) -> N {
        let small = || -> Option<i128> {
            let ((r, k), x) = (self.small.as_ref()?, pt.xi.as_ref()?);
            (r.iter().zip(x)).try_fold(*k, |s, (a, b)| s.checked_add(*a as i128 * *b as i128))
        };
        let num = small().map_or_else(|| dot(&self.row, &pt.xs).add(&self.k), N::from_i128);
        num.div(&self.e).unwrap_or_else(N::zero)
    }
}

/// Points grouped by full activation pattern: the group's moments and its first point.
type Groups<N> = BTreeMap<String, (Moments<N>, usize)>;

struct Eval<N> {
    traces: Vec<Trace<N>>,
    /// The pattern groups (computed with the gradient, at margin `> 0`).
    groups: Groups<N>,
    /// Each group's point indices (data order), in the order of `groups`.
    members: Vec<Vec<usize>>,
    /// Each group's `E = Σ r x̃ᵀ = F G − Rᵀ` (`Q × (Q+1)`; see [`Net::gradient`]), in the
    /// order of `groups`.
    sums: Vec<Mat<N>>,
    cost: N,
    margin: N,
    /// 1-based (class, point, layer, neuron) of the first minimal `|z|`.
    at: (usize, usize, usize, usize),
    /// The normalised gradient, when requested and the margin is `> 0`.
    grad: Option<Vec<N>>,
}

/// The claimed text parses canonically to the recomputed value.
fn same<N: Num>(path: &str, claimed: &str, value: &N) -> Res {
    match N::parse(claimed) {
        Err(e) => fail!("{path}: {e}"),
        Ok(c) if &c == value => Ok(()),
        Ok(_) => fail!("{path}: claimed {claimed}, recomputed {}", value.text()),
    }
}

fn eq<T: PartialEq + Debug>(path: &str, claimed: T, recomputed: T) -> Res {
    if claimed != recomputed {
        fail!("{path}: claimed {claimed:?}, recomputed {recomputed:?}");
    }
    Ok(())
}

fn parse_vec<N: Num>(path: &str, v: &[String], len: usize) -> Result<Vec<N>, String> {
    eq(&format!("{path} (length)"), v.len(), len)?;
    let parse = |(i, s): (usize, &String)| N::parse(s).map_err(|e| format!("{path}[{i}]: {e}"));
    v.iter().enumerate().map(parse).collect()
}

/// `x · num / den` (`den > 0` for every caller).
fn ratio<N: Num>(x: &N, num: usize, den: usize) -> N {
    let y = x.mul(&N::from_usize(num));
    y.div(&N::from_usize(den)).unwrap_or_else(N::zero)
}

fn dot<N: Num>(a: &[N], b: &[N]) -> N {
    N::dot(a, b)
}

/// `Mᵀ`.
fn transpose<N: Num>(m: &[Vec<N>]) -> Mat<N> {
    let cols = m.first().map_or(0, Vec::len);
    (0..cols)
        .map(|j| m.iter().map(|r| r[j].clone()).collect())
        .collect()
}

/// `A B` (each entry one [`dot`]).
fn matmul<N: Num>(a: &[Vec<N>], b: &[Vec<N>]) -> Mat<N> {
    let cols = transpose(b);
    (a.iter())
        .map(|row| cols.iter().map(|c| dot(row, c)).collect())
        .collect()
}

/// `W x + b`.
fn affine<N: Num>(w: &[Vec<N>], x: &[N], b: &[N]) -> Vec<N> {
    w.iter().zip(b).map(|(r, bm)| bm.add(&dot(r, x))).collect()
}

fn unit<N: Num>(q: usize, o: usize) -> Vec<N> {
    let mut v = vec![N::zero(); q];
    v[o] = N::one();
    v
}

fn relu<N: Num>(v: &[N]) -> Vec<N> {
    let r = |t: &N| if t.sign() > 0 { t.clone() } else { N::zero() };
    v.iter().map(r).collect()
}

impl<N: Num> Net<N> {
    fn per_layer(&self) -> usize {
        self.q * self.q + self.q
    }
    /// Parameters in certificate order: per layer `W` row-major, then `b`.
    fn flatten(&self) -> Vec<N> {
        let mut v = Vec::new();
        for (w, b) in self.w.iter().zip(&self.b) {
            w.iter().for_each(|r| v.extend_from_slice(r));
            v.extend_from_slice(b);
        }
        v
    }
    /// `θ + t d`.
    fn step(&self, d: &[N], t: &N) -> Net<N> {
        let (q, mut w, mut b) = (self.q, Vec::new(), Vec::new());
        let theta: Vec<N> = self
            .flatten()
            .iter()
            .zip(d)
            .map(|(x, y)| x.add(&y.mul(t)))
            .collect();
        for c in theta.chunks(self.per_layer()) {
            w.push(c[..q * q].chunks(q).map(<[N]>::to_vec).collect());
            b.push(c[q * q..].to_vec());
        }
        Net { q, w, b }
    }
    /// The shortcuts of [`Net::forward`]: `p[ℓ], c[ℓ]` with `p[0] = W_1`, `c[0] = b_1`,
    /// `p[ℓ] = W_{ℓ+1} p[ℓ−1]`, `c[ℓ] = W_{ℓ+1} c[ℓ−1] + b_{ℓ+1}` (the all-on prefix maps),
    /// and `off[ℓ]`: the rest of the pass (`z`, `h` of layers `ℓ+2..`, then `f`) from
    /// `h^{ℓ+1} = 0`.
    fn shortcuts(&self) -> Shortcuts<N> {
        let (mut p, mut c): (Vec<Mat<N>>, Mat<N>) =
            (vec![self.w[0].clone()], vec![self.b[0].clone()]);
        for (w, b) in self.w.iter().zip(&self.b).skip(1) {
            p.push(matmul(w, &p[p.len() - 1]));
            c.push(affine(w, &c[c.len() - 1], b));
        }
        let d: Mat<N> = (p.iter())
            .map(|pl| pl.iter().map(|row| N::denom_lcm(row)).collect())
            .collect();
        let ps = (p.iter().zip(&d))
            .map(|(pl, dl)| {
                (pl.iter().zip(dl))
                    .map(|(row, dm)| row.iter().map(|v| v.mul(dm)).collect())
                    .collect()
            })
            .collect();
        let nl = self.w.len();
        let mut off = OffChains {
            nodes: Vec::new(),
            next: Vec::new(),
            start: vec![0; nl - 1],
        };
        // Last layer first, so that the chain a pass joins at `h = 0` is already built.
        for l in (0..nl - 1).rev() {
            let mut h = vec![N::zero(); self.q];
            let mut prev: Option<usize> = None;
            for j in l + 1..nl {
                // `h` enters layer `j` (0-based): once it is 0 again, this pass is the one
                // from `h^j = 0`.
                if let Some(p) = prev.filter(|_| h.iter().all(|v| v.sign() == 0)) {
                    off.next[p] = Some(off.start[j - 1]);
                    break;
                }
                let v = affine(&self.w[j], &h, &self.b[j]);
                h = relu(&v);
                off.nodes.push((Arc::new(v), Arc::new(h.clone())));
                off.next.push(None);
                let i = off.nodes.len() - 1;
                match prev {
                    Some(p) => off.next[p] = Some(i),
                    None => off.start[l] = i,
                }
                prev = Some(i);
            }
        }
        Shortcuts { c, off, ps, d }
    }
    /// [`Scaled`] for inputs with denominator lcm `dx`.
    fn scaled(s: &Shortcuts<N>, dx: &N) -> Scaled<N> {
        (s.ps.iter().zip(&s.d).zip(&s.c))
            .map(|((pl, dl), cl)| {
                (pl.iter().zip(dl).zip(cl))
                    .map(|((row, dm), cm)| {
                        let den = dm.mul(dx);
                        let inv = N::one().div(&den).unwrap_or_else(N::zero);
                        let e = N::denom_lcm(&[inv, cm.clone()]);
                        let a = e.div(&den).unwrap_or_else(N::zero);
                        let row: Vec<N> = row.iter().map(|v| v.mul(&a)).collect();
                        let k = cm.mul(&e);
                        let ri: Option<Vec<i64>> = row.iter().map(N::to_i64).collect();
                        let small = ri.zip(k.to_i64()).map(|(r, k)| (r, k as i128));
                        ScaledRow { row, k, e, small }
                    })
                    .collect()
            })
            .collect()
    }
    /// The forward pass `z^ℓ = W_ℓ h^{ℓ−1} + b_ℓ`, `h^ℓ = max(z^ℓ, 0)`, with two exact
    /// shortcuts: while every earlier pre-activation is `> 0`, `h^{ℓ−1} = z^{ℓ−1}`, so by
    /// induction `z^ℓ = p[ℓ−1] x + c[ℓ−1]` (for constructed networks `p` is the small
    /// cumulative cone matrix `W^{(ℓ)}`); and once `h^ℓ = 0` the rest does not depend on `x`.
    ///
    /// `base`: the trace of the same input through a network with the same weights `W_ℓ`
    /// and prefix biases `c_b`, with `dc = c − c_b`; while both passes are all-on,
    /// `z^ℓ = z_b^ℓ + dc[ℓ−1]` (both are `p[ℓ−1] x` plus their own `c[ℓ−1]`).
    ///
    /// The prefix map is applied in integers, with `sc` ([`Scaled`] for this input's `dx`):
    /// `(p x + c)_m = (a ps_m · xs + k) / E`, one reduction (`ps_m = d_m p_m`, `xs = dx x`).
    fn forward(
        &self,
        pt: &Point<N>,
        s: &Shortcuts<N>,
        sc: &Scaled<N>,
        base: Option<(&Trace<N>, &Mat<N>)>,
    ) -> Trace<N> {
        let (mut h, mut z) = (vec![pt.x.clone()], Vec::new());
        let (mut on, mut base_on, mut switched) = (true, base.is_some(), None);
        for l in 0..self.w.len() {
            let v = match (on, base) {
                (true, Some((bt, dc))) if base_on => {
                    let zb = if l < bt.z.len() { &bt.z[l] } else { &bt.f };
                    base_on = zb.iter().all(|t| t.sign() > 0);
                    zb.iter().zip(&dc[l]).map(|(a, d)| a.add(d)).collect()
                }
                (true, _) => sc[l].iter().map(|r| r.z(pt)).collect(),
                (false, _) => affine(&self.w[l], &h[l], &self.b[l]),
            };
            let positive = v.iter().all(|t| t.sign() > 0);
            on &= positive;
            let off = l + 1 < self.w.len() && v.iter().all(|t| t.sign() <= 0);
            let v = Arc::new(v);
            h.push(if positive {
                v.clone()
            } else {
                Arc::new(relu(&v))
            });
            z.push(v);
            if off {
                for (zv, hv) in s.off.chain(l) {
                    h.push(hv.clone());
                    z.push(zv.clone());
                }
                switched = Some(l);
                break;
            }
        }
        h.pop();
        let f = z.pop().unwrap_or_default();
        Trace {
            h,
            z,
            f,
            off: switched,
        }
    }
    /// Adds `δ^ℓ (h^{ℓ−1})ᵀ` and `δ^ℓ` for every layer, from `δ^{L+1} = r`, into `g`.
    fn backward(&self, t: &Trace<N>, r: Vec<N>, g: &mut [N]) {
        let (q, mut delta) = (self.q, r);
        for l in (0..self.w.len()).rev() {
            let off = l * self.per_layer();
            for (m, dm) in delta.iter().enumerate() {
                for (k, hk) in t.h[l].iter().enumerate() {
                    g[off + m * q + k] = g[off + m * q + k].add(&dm.mul(hk));
                }
                g[off + q * q + m] = g[off + q * q + m].add(dm);
            }
            if l == 0 {
                break;
            }
            let mut next = vec![N::zero(); q];
            for (k, nk) in next.iter_mut().enumerate() {
                if t.z[l - 1][k].sign() > 0 {
                    let col: Vec<N> = self.w[l].iter().map(|r| r[k].clone()).collect();
                    *nk = dot(&col, &delta);
                }
            }
            delta = next;
        }
    }
    /// The gradient from the groups' moments. On a pattern group `h^ℓ(x) = H_ℓ x̃` with
    /// `H_0 = [I | 0]`, `H_ℓ = D_ℓ (W_ℓ H_{ℓ−1} + b_ℓ e_{Q+1}ᵀ)`, and `f(x) = F x̃` likewise
    /// without `D`; `δ^ℓ(x) = B_ℓ r(x)` with `B_{L+1} = I`, `B_ℓ = D_ℓ W_{ℓ+1}ᵀ B_{ℓ+1}`.
    /// So with `E = Σ r x̃ᵀ = F G − Rᵀ`: `Σ δ^ℓ (h^{ℓ−1})ᵀ = B_ℓ E H_{ℓ−1}ᵀ` and
    /// `Σ δ^ℓ = B_ℓ E e_{Q+1}` (unnormalised).
    /// Also returns each group's `E`, and `SSE = Σ_g Σ |F x̃ − y|²` from the same moments:
    /// `Σ |F x̃ − y|² = tr(F G Fᵀ) − 2 tr(F R) + T = Σ_m F_m · (E − Rᵀ)_m + T`.
    fn gradient(&self, groups: &Groups<N>, traces: &[Trace<N>]) -> (Vec<N>, Vec<Mat<N>>, N) {
        let (q, nl) = (self.q, self.w.len());
        let mut g = vec![N::zero(); nl * self.per_layer()];
        let mut sums = Vec::with_capacity(groups.len());
        let mut sse = N::zero();
        for (mom, rep) in groups.values() {
            let t = &traces[*rep];
            let mut hs: Vec<Mat<N>> = vec![(0..q).map(|m| unit(q + 1, m)).collect()];
            for l in 0..nl {
                let mut h = matmul(&self.w[l], &hs[l]);
                for (m, row) in h.iter_mut().enumerate() {
                    if l + 1 == nl || t.z[l][m].sign() > 0 {
                        row[q] = row[q].add(&self.b[l][m]);
                    } else {
                        *row = vec![N::zero(); q + 1];
                    }
                }
                hs.push(h);
            }
            let rt = transpose(&mom.r);
            let fg = matmul(&hs[nl], &mom.g);
            let mut e: Mat<N> = (fg.iter().zip(&rt))
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x.sub(y)).collect())
                .collect();
            sse = sse.add(&mom.t);
            for ((f, em), rm) in hs[nl].iter().zip(&e).zip(&rt) {
                let d: Vec<N> = em.iter().zip(rm).map(|(x, y)| x.sub(y)).collect();
                sse = sse.add(&dot(f, &d));
            }
            sums.push(e.clone());
            for l in (0..nl).rev() {
                let off = l * self.per_layer();
                for m in 0..q {
                    for k in 0..q {
                        let v = dot(&e[m], &hs[l][k]);
                        g[off + m * q + k] = g[off + m * q + k].add(&v);
                    }
                    g[off + q * q + m] = g[off + q * q + m].add(&e[m][q]);
                }
                if l == 0 {
                    break;
                }
                e = matmul(&transpose(&self.w[l]), &e);
                for (k, row) in e.iter_mut().enumerate() {
                    if t.z[l - 1][k].sign() <= 0 {
                        *row = vec![N::zero(); q + 1];
                    }
                }
            }
        }
        (g, sums, sse)
    }
    /// Cost, margin, traces and (if `grad` is given) groups and gradient on `pts`; `grad`:
    /// the moments of each class of `pts` ([`class_moments`], or empty), summed for a group
    /// made of whole classes ([`whole_classes`]); `base`: the evaluation of a network with the
    /// same weights `W_ℓ` (see [`Net::forward`]).
    fn evaluate(
        &self,
        pts: &[Point<N>],
        half: bool,
        grad: Option<&[Moments<N>]>,
        base: Option<(&Net<N>, &Eval<N>)>,
    ) -> Eval<N> {
        let want_grad = grad.is_some();
        let (mut best, mut traces) = (None, Vec::new());
        let s = self.shortcuts();
        let dc: Option<Mat<N>> = base.filter(|(bn, _)| bn.w == self.w).map(|(bn, _)| {
            let cb = bn.shortcuts().c;
            s.c.iter()
                .zip(&cb)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x.sub(y)).collect())
                .collect()
        });
        // [`Scaled`] per distinct `dx`, kept for at most `SCALED` of them (any other input
        // gets its own).
        const SCALED: usize = 32;
        let mut scaled: Vec<(N, Scaled<N>)> = Vec::new();
        let mut seen_off = vec![false; self.w.len()];
        for (i, p) in pts.iter().enumerate() {
            let b = base
                .zip(dc.as_ref())
                .map(|((_, be), dc)| (&be.traces[i], dc));
            let mut k = scaled.iter().position(|(dx, _)| *dx == p.dx);
            if k.is_none() && scaled.len() < SCALED {
                scaled.push((p.dx.clone(), Net::scaled(&s, &p.dx)));
                k = Some(scaled.len() - 1);
            }
            let t = match k {
                Some(k) => self.forward(p, &s, &scaled[k].1, b),
                None => self.forward(p, &s, &Net::scaled(&s, &p.dx), b),
            };
            // The constant rest of a pass switched off at layer `o` was already compared for
            // an earlier input: equal values never replace the first minimum.
            let known = t.off.filter(|&o| seen_off[o]);
            if let Some(o) = t.off {
                seen_off[o] = true;
            }
            for (l, z) in t.z.iter().enumerate() {
                if known.is_some_and(|o| l > o) {
                    break;
                }
                for (m, v) in z.iter().enumerate() {
                    let a = v.abs();
                    if best.as_ref().is_none_or(|(b, _)| a < *b) {
                        best = Some((a, (p.class + 1, p.idx + 1, l + 1, m + 1)));
                    }
                }
            }
            traces.push(t);
        }
        let (margin, at) = best.unwrap_or((N::zero(), (0, 0, 0, 0)));
        let n = pts.len();
        // At margin > 0: the §8 pattern groups, and the gradient from their moments.
        let mut by_pattern: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        if want_grad && margin.sign() > 0 {
            let mut rest = BTreeMap::new();
            for (i, t) in traces.iter().enumerate() {
                by_pattern.entry(pattern(t, &mut rest)).or_default().push(i);
            }
        }
        let mut members = Vec::new();
        let groups: Groups<N> = (by_pattern.into_iter())
            .map(|(pat, idx)| {
                let mom = whole_classes(&idx, pts, grad.unwrap_or_default()).unwrap_or_else(|| {
                    let ps: Vec<&Point<N>> = idx.iter().map(|&i| &pts[i]).collect();
                    Moments::of(self.q, &ps)
                });
                let g = (pat, (mom, idx[0]));
                members.push(idx);
                g
            })
            .collect();
        let (mut grad, mut sums, mut sse) = (None, Vec::new(), None);
        if want_grad && margin.sign() > 0 {
            let (g, e, s) = self.gradient(&groups, &traces);
            grad = Some(g.iter().map(|x| ratio(x, 2 - half as usize, n)).collect());
            sums = e;
            sse = Some(s);
        }
        // Without the groups: point by point.
        let sse = sse.unwrap_or_else(|| {
            let res: Vec<N> = (traces.iter().zip(pts))
                .flat_map(|(t, p)| t.f.iter().zip(&p.y).map(|(f, y)| f.sub(y)))
                .collect();
            dot(&res, &res)
        });
        let cost = ratio(&sse, 1, n * (1 + half as usize));
        Eval {
            traces,
            groups,
            members,
            sums,
            cost,
            margin,
            at,
            grad,
        }
    }
}

/// Rows in echelon form; [`Echelon::insert`] says whether a vector was independent.
struct Echelon<N>(Vec<(usize, Vec<N>)>);

impl<N: Num> Echelon<N> {
    fn insert(&mut self, mut v: Vec<N>) -> bool {
        for (p, row) in &self.0 {
            if let Some(f) = v[*p].div(&row[*p]).filter(|f| !f.is_zero()) {
                v.iter_mut()
                    .zip(row)
                    .for_each(|(x, y)| *x = x.sub(&f.mul(y)));
            }
        }
        let p = v.iter().position(|x| !x.is_zero());
        p.map(|p| self.0.push((p, v))).is_some()
    }
}

/// The moments of the points `idx` (distinct indices into `pts`) as the sum of their
/// classes' moments (`classes[j]`: the moments of the points of class `j` in `pts`), when they
/// are all the points of those classes; `None` otherwise. Exact: every moment is a sum over
/// the points.
fn whole_classes<N: Num>(
    idx: &[usize],
    pts: &[Point<N>],
    classes: &[Moments<N>],
) -> Option<Moments<N>> {
    let mut count = vec![0usize; classes.len()];
    for &i in idx {
        *count.get_mut(pts[i].class)? += 1;
    }
    let mut sum: Option<Moments<N>> = None;
    for (&c, m) in count.iter().zip(classes).filter(|(c, _)| **c > 0) {
        if c != m.n {
            return None;
        }
        sum = Some(sum.map_or_else(|| m.clone(), |s| s.plus(m)));
    }
    sum
}

/// Sufficient statistics of a group: `n`, `G = Σ x̃x̃ᵀ`, `R = Σ x̃yᵀ`, `T = Σ|y|²`, `Σy`.
#[derive(Clone, Debug, PartialEq)]
struct Moments<N> {
    n: usize,
    g: Mat<N>,
    r: Mat<N>,
    t: N,
    sy: Vec<N>,
}

impl<N: Num> Moments<N> {
    /// The moments of `pts` (each entry one [`dot`] over the points: one reduction).
    fn of(q: usize, pts: &[&Point<N>]) -> Self {
        let one = N::one();
        let xs: Mat<N> = (0..=q)
            .map(|a| {
                pts.iter()
                    .map(|p| p.x.get(a).unwrap_or(&one).clone())
                    .collect()
            })
            .collect();
        let ys: Mat<N> = (0..q)
            .map(|k| pts.iter().map(|p| p.y[k].clone()).collect())
            .collect();
        let col = |u: &[N], v: &Mat<N>| v.iter().map(|w| dot(u, w)).collect::<Vec<N>>();
        Moments {
            n: pts.len(),
            g: xs.iter().map(|u| col(u, &xs)).collect(),
            r: xs.iter().map(|u| col(u, &ys)).collect(),
            t: ys.iter().fold(N::zero(), |s, u| s.add(&dot(u, u))),
            sy: col(&xs[q], &ys),
        }
    }
    /// The moments of the union of two disjoint groups.
    fn plus(&self, o: &Self) -> Self {
        let add = |a: &[N], b: &[N]| a.iter().zip(b).map(|(x, y)| x.add(y)).collect();
        let addm = |a: &Mat<N>, b: &Mat<N>| a.iter().zip(b).map(|(x, y)| add(x, y)).collect();
        Moments {
            n: self.n + o.n,
            g: addm(&self.g, &o.g),
            r: addm(&self.r, &o.r),
            t: self.t.add(&o.t),
            sy: add(&self.sy, &o.sy),
        }
    }
    /// The least-squares value: constant fit `T − |Σy|²/n`, or affine fit `T − tr(Rᵀ Z)`
    /// for a solution of `G Z = R` (reduced row echelon form of `[G | R]`, free unknowns 0).
    fn sse(&self, constant: bool) -> Result<N, String> {
        if constant {
            return Ok(self.t.sub(&ratio(&dot(&self.sy, &self.sy), 1, self.n)));
        }
        let d = self.g.len();
        let rows = self.g.iter().zip(&self.r);
        let mut a: Mat<N> = rows.map(|(g, r)| [&g[..], r].concat()).collect();
        let mut pivots = Vec::new();
        for col in 0..d {
            let row = pivots.len();
            let Some(p) = (row..d).find(|&i| !a[i][col].is_zero()) else {
                continue;
            };
            a.swap(row, p);
            let inv = N::one().div(&a[row][col]).unwrap_or_else(N::zero);
            a[row] = a[row].iter().map(|x| x.mul(&inv)).collect();
            let prow = a[row].clone();
            for (i, ri) in a.iter_mut().enumerate() {
                let f = ri[col].clone();
                if i != row && !f.is_zero() {
                    ri.iter_mut()
                        .zip(&prow)
                        .for_each(|(x, y)| *x = x.sub(&f.mul(y)));
                }
            }
            pivots.push(col);
        }
        if a[pivots.len()..]
            .iter()
            .any(|r| r[d..].iter().any(|x| !x.is_zero()))
        {
            fail!("normal equations G Z = R inconsistent (impossible)");
        }
        let mut sse = self.t.clone();
        for (&c, row) in pivots.iter().zip(&a) {
            sse = sse.sub(&dot(&self.r[c], &row[d..]));
        }
        Ok(sse)
    }
}

/// The activation pattern of a pass (`1` iff `z^ℓ_m > 0`, layer by layer); the part after a
/// switched-off layer `o` is the same for every pass switched off there and is kept in
/// `rest[o]`.
fn pattern<N: Num>(t: &Trace<N>, rest: &mut BTreeMap<usize, String>) -> String {
    let bits = |z: &[Row<N>]| -> String {
        let bit = |v: &N| if v.sign() > 0 { '1' } else { '0' };
        z.iter().flat_map(|z| z.iter()).map(bit).collect()
    };
    match t.off {
        Some(o) => bits(&t.z[..=o]) + rest.entry(o).or_insert_with(|| bits(&t.z[o + 1..])),
        None => bits(&t.z),
    }
}

/// Run every check; stops early only when the data, normalisation or network cannot be read.
pub(super) fn run<N: Num>(c: &Certificate, data: &Dataset, prep: &Prepared<N>) -> Report {
    let mut rep = Report::default();
    rep.add("format", header(c));
    rep.add("data", binding(c, data));
    let half = match c.data.normalisation.as_str() {
        "1/(2N)" => true,
        "1/N" => false,
        _ => return rep,
    };
    let net = (prep.pts.as_ref().map_err(Clone::clone))
        .and_then(|p| Ok((&p[..], network::<N>(&c.network, data.q)?)));
    let (pts, net) = match net {
        Ok(x) => x,
        Err(e) => return rep.failed("network", e),
    };
    rep.add(
        "network",
        Ok(format!("L = {}, Q = {}", net.w.len() - 1, net.q)),
    );
    let ev = net.evaluate(pts, half, Some(&prep.classes), None);
    let cl = &c.claims;
    let x = Ctx {
        net,
        pts,
        ev,
        half,
        cl,
        spread: Default::default(),
        pointwise: false,
    };
    rep.add("claims.evaluation", x.evaluation());
    let positive = x.ev.margin.sign() > 0;
    let grad_zero = x.ev.grad.as_ref().is_some_and(|g| g.iter().all(N::is_zero));
    rep.add("claims.gradient", x.gradient(positive, grad_zero));
    let (gap, region) = x.region();
    rep.add("claims.pattern_region", region);
    let verdict = match () {
        _ if !positive => "not-differentiable",
        _ if !grad_zero => "not-a-local-minimum",
        _ if x.ev.cost.is_zero() => "global-minimum",
        _ if gap.as_ref().is_some_and(N::is_zero) => "local-minimum",
        _ => "critical-point-not-certified",
    };
    let v = eq("claims.verdict", cl.verdict.as_str(), verdict);
    rep.add("claims.verdict", v.map(|_| verdict.to_string()));
    let minimum = matches!(verdict, "global-minimum" | "local-minimum");
    rep.add("claims.degeneracy", x.degeneracy(minimum));
    rep.add("claims.descent", x.descent(verdict));
    rep.add("configuration", x.configuration(&c.configuration));
    let f64s = |v: &Vec<N>| v.iter().map(N::to_f64).collect::<Vec<f64>>();
    // Every input switched off at the same layer has the same output: rounded once.
    let mut off_f: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let exact_f: Vec<Vec<f64>> = (x.ev.traces.iter())
        .map(|t| match t.off {
            Some(l) => off_f.entry(l).or_insert_with(|| f64s(&t.f)).clone(),
            None => f64s(&t.f),
        })
        .collect();
    let w: Vec<Vec<Vec<f64>>> = x
        .net
        .w
        .iter()
        .map(|w| w.iter().map(f64s).collect())
        .collect();
    let b: Vec<Vec<f64>> = x.net.b.iter().map(f64s).collect();
    let fl = float::compare(
        &c.float_check,
        (&w, &b),
        (&prep.xf, &prep.yf),
        half,
        &exact_f,
    );
    rep.add("float_check", fl);
    rep
}

fn header(c: &Certificate) -> Out {
    eq("format", c.format.as_str(), FORMAT)?;
    eq("tool.name", c.tool.name.as_str(), "dlgeom-cert")?;
    if c.tool.version.is_empty() {
        fail!("tool.version: empty");
    }
    eq("source", c.source.as_str(), SOURCE)?;
    Ok(format!("{FORMAT}, {} {}", c.tool.name, c.tool.version))
}

fn binding(c: &Certificate, data: &Dataset) -> Out {
    let (d, n) = (&c.data, data.n());
    let norm = match d.normalisation.as_str() {
        "1/(2N)" | "1/N" => Ok(()),
        o => Err(format!("data.normalisation: unknown {o:?}")),
    };
    let checks = [
        eq("data.sha256_bytes", &d.sha256_bytes, &data.sha256_bytes),
        eq(
            "data.sha256_canonical",
            &d.sha256_canonical,
            &data.sha256_canonical,
        ),
        eq("data.classes", d.classes, data.q),
        eq("data.points", d.points, n),
        eq("data.class_counts", &d.class_counts, &data.counts()),
        norm,
    ];
    let diffs: Vec<String> = checks.into_iter().filter_map(Result::err).collect();
    if !diffs.is_empty() {
        return Err(diffs.join("; "));
    }
    Ok(format!("Q = {}, N = {n}, {}", data.q, d.normalisation))
}

/// The data points (validating the shape, as an in-memory data set may be inconsistent).
fn points<N: Num>(data: &Dataset) -> Result<Vec<Point<N>>, String> {
    let q = data.q;
    if q == 0 || data.classes.len() != q {
        fail!("data: {} classes, Q = {q}", data.classes.len());
    }
    let conv = |v: &[crate::arith::Rat], what: String| -> Result<Vec<N>, String> {
        eq(&format!("data: {what} (length)"), v.len(), q)?;
        v.iter().map(|r| N::parse(&r.canonical())).collect()
    };
    let mut out = Vec::new();
    for (j, c) in data.classes.iter().enumerate() {
        if c.inputs.is_empty() {
            fail!("data: class {} is empty", j + 1);
        }
        let y = conv(&c.target, format!("class {} target", j + 1))?;
        for (idx, x) in c.inputs.iter().enumerate() {
            let x = conv(x, format!("class {} point {}", j + 1, idx + 1))?;
            out.push(Point::new(j, idx, x, y.clone()));
        }
    }
    Ok(out)
}

fn network<N: Num>(nr: &NetworkRecord, q: usize) -> Result<Net<N>, String> {
    eq("network.width", nr.width, q)?;
    if nr.hidden_layers == 0 {
        fail!("network.hidden_layers: must be at least 1");
    }
    // `L + 1` in u128: `L = usize::MAX` must neither wrap nor saturate in the message.
    let layers = nr.hidden_layers as u128 + 1;
    eq("network.layers (length)", nr.layers.len() as u128, layers)?;
    let (mut w, mut b) = (Vec::new(), Vec::new());
    for (l, lr) in nr.layers.iter().enumerate() {
        let p = format!("network.layers[{l}]");
        eq(&format!("{p}.w (rows)"), lr.w.len(), q)?;
        let mut rows = Vec::new();
        for (m, r) in lr.w.iter().enumerate() {
            rows.push(parse_vec(&format!("{p}.w[{m}]"), r, q)?);
        }
        w.push(rows);
        b.push(parse_vec(&format!("{p}.b"), &lr.b, q)?);
    }
    Ok(Net { q, w, b })
}

/// `rank J` from a maximal affinely independent subset of each pattern group's inputs
/// (greedy, in data order), or its first input when a hidden layer of its pattern is all
/// `≤ 0` (then `δ^ℓ = 0` up to that layer and every later `h` is a constant, so every row is
/// the same for all its inputs); `all` uses every point instead (for the unit test).
fn jacobian_rank<N: Num>(net: &Net<N>, pts: &[Point<N>], tr: &[Trace<N>], all: bool) -> usize {
    let q = net.q;
    let mut groups: BTreeMap<String, (Echelon<N>, Vec<usize>)> = BTreeMap::new();
    let mut rest = BTreeMap::new();
    for (i, t) in tr.iter().enumerate() {
        let (ech, kept) = groups
            .entry(pattern(t, &mut rest))
            .or_insert((Echelon(vec![]), vec![]));
        let first = &pts[kept.first().map_or(i, |&f| f)].x;
        let diff = pts[i].x.iter().zip(first.iter()).map(|(a, b)| a.sub(b));
        // A switched-off layer makes the group's rows independent of x: one point suffices.
        let affine = t.off.is_none() && kept.len() <= q;
        if all || kept.is_empty() || (affine && ech.insert(diff.collect())) {
            kept.push(i);
        }
    }
    let mut rows: Vec<Vec<N>> = Vec::new();
    for i in groups.values().flat_map(|g| g.1.iter().copied()) {
        for o in 0..q {
            let mut g = vec![N::zero(); net.w.len() * net.per_layer()];
            net.backward(&tr[i], unit(q, o), &mut g);
            // An identical row adds nothing to the rank (common: a switched-off group).
            if !rows.contains(&g) {
                rows.push(g);
            }
        }
    }
    // The rank modulo a prime is at most the rank, which is at most the number of rows: when
    // the first equals the last, that is the rank, without exact elimination.
    if rank_mod(&rows, MOD_P) == Some(rows.len()) {
        return rows.len();
    }
    let mut rank = Echelon(vec![]);
    rows.into_iter().for_each(|r| {
        rank.insert(r);
    });
    rank.0.len()
}

/// `2⁶¹ − 1`, a prime.
const MOD_P: u64 = (1 << 61) - 1;

/// The rank of `rows` modulo the prime `m` (Gaussian elimination over `ℤ/m`), `None` when
/// some denominator is divisible by `m`.
fn rank_mod<N: Num>(rows: &[Vec<N>], m: u64) -> Option<usize> {
    let mut a: Vec<Vec<u64>> = (rows.iter())
        .map(|r| {
            r.iter()
                .map(|x| if x.is_zero() { Some(0) } else { x.mod_prime(m) })
                .collect::<Option<Vec<u64>>>()
        })
        .collect::<Option<_>>()?;
    let mul = |x: u64, y: u64| (x as u128 * y as u128 % m as u128) as u64;
    let (mut rank, cols) = (0, a.first().map_or(0, Vec::len));
    for c in 0..cols {
        let Some(p) = (rank..a.len()).find(|&i| a[i][c] != 0) else {
            continue;
        };
        a.swap(rank, p);
        let inv = super::num::inv_mod(a[rank][c], m)?;
        let pivot: Vec<u64> = a[rank].iter().map(|&x| mul(x, inv)).collect();
        for row in a.iter_mut().skip(rank + 1) {
            let f = row[c];
            if f != 0 {
                for (x, &y) in row.iter_mut().zip(&pivot) {
                    *x = (*x + m - mul(f, y)) % m;
                }
            }
        }
        rank += 1;
    }
    Some(rank)
}

/// Per pattern group: the smallest and largest `z^ℓ_m` over its points (hidden layers).
type Spread<N> = Vec<Vec<(N, N)>>;

/// Everything the claim checks need.
struct Ctx<'a, N> {
    net: Net<N>,
    pts: &'a [Point<N>],
    ev: Eval<N>,
    half: bool,
    cl: &'a Claims,
    /// The groups' [`Spread`]s, computed on first use.
    spread: std::cell::OnceCell<Vec<Spread<N>>>,
    /// Take the point-by-point path of [`Ctx::output_layer`] (unit test).
    pointwise: bool,
}

impl<N: Num> Ctx<'_, N> {
    /// Cost and margin of another network on the same data: [`Ctx::shifted`] when it
    /// applies, else a full evaluation.
    fn cost_of(&self, net: &Net<N>) -> (N, N) {
        if let Some(r) = self.shifted(net) {
            return r;
        }
        let e = net.evaluate(self.pts, self.half, None, Some((&self.net, &self.ev)));
        (e.cost, e.margin)
    }
    fn spread(&self) -> &[Spread<N>] {
        self.spread.get_or_init(|| {
            let nl = self.net.w.len();
            let pick = |a: &N, b: &N, lower: bool| (b < a) == lower;
            (self.ev.members.iter())
                .map(|idx| {
                    let first = &self.ev.traces[idx[0]].z;
                    let mut range: Vec<Vec<(N, N)>> = (first.iter())
                        .map(|z| z.iter().map(|v| (v.clone(), v.clone())).collect())
                        .collect();
                    for &i in &idx[1..] {
                        let t = &self.ev.traces[i];
                        for ((rl, zl), z0) in range.iter_mut().zip(&t.z).zip(first) {
                            // The very vector of the first point (the switched-off rest):
                            // already inside the range.
                            if Arc::ptr_eq(zl, z0) {
                                continue;
                            }
                            for ((lo, hi), v) in rl.iter_mut().zip(zl.iter()) {
                                if pick(lo, v, true) {
                                    *lo = v.clone();
                                }
                                if pick(hi, v, false) {
                                    *hi = v.clone();
                                }
                            }
                        }
                    }
                    debug_assert_eq!(range.len(), nl - 1);
                    range
                })
                .collect()
        })
    }
    /// Cost and margin of `net`, which has the weights of `self.net` and biases `b + Δb`,
    /// from the pattern groups (at margin `> 0`). A point whose pattern `D` is unchanged has
    /// `z'^ℓ = z^ℓ + Δz^ℓ` with `Δz^1 = Δb_1`, `Δz^{ℓ+1} = W_{ℓ+1} D_ℓ Δz^ℓ + Δb_{ℓ+1}`, and
    /// `f' = f + Δf` likewise: one vector per group. Every pattern is unchanged iff, per
    /// group, layer and neuron, `min z + Δz > 0` where `D` is on and `max z + Δz < 0` where it
    /// is off (by induction over the layers); then the new margin is the smallest of those
    /// `|·|` (each is attained by a point) and `SSE' = SSE + Σ_g (2 Δf·Σ_g r + n_g |Δf|²)`
    /// (`Σ_g r`: the last column of the group's `E = Σ r x̃ᵀ`).
    /// `None` if a weight differs, the margin is `0` or some pattern would change.
    fn shifted(&self, net: &Net<N>) -> Option<(N, N)> {
        if net.w != self.net.w || self.ev.margin.sign() <= 0 {
            return None;
        }
        let db: Mat<N> = (net.b.iter().zip(&self.net.b))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x.sub(y)).collect())
            .collect();
        let (mut dsse, mut margin): (N, Option<N>) = (N::zero(), None);
        let groups = self
            .ev
            .groups
            .values()
            .zip(self.spread())
            .zip(&self.ev.sums);
        for (((mom, rep), sp), e) in groups {
            let z = &self.ev.traces[*rep].z;
            let mut dz = db[0].clone();
            for (l, rl) in sp.iter().enumerate() {
                let mut dh = Vec::with_capacity(dz.len());
                for ((lohi, d), zm) in rl.iter().zip(&dz).zip(z[l].iter()) {
                    let on = zm.sign() > 0;
                    let v = if on {
                        lohi.0.add(d)
                    } else {
                        lohi.1.add(d).neg()
                    };
                    if v.sign() <= 0 {
                        return None;
                    }
                    if margin.as_ref().is_none_or(|m| v < *m) {
                        margin = Some(v);
                    }
                    dh.push(if on { d.clone() } else { N::zero() });
                }
                dz = affine(&net.w[l + 1], &dh, &db[l + 1]);
            }
            // Σ r over the group: the last column of E = Σ r x̃ᵀ.
            let two_r: Vec<N> = e
                .iter()
                .map(|row| row[row.len() - 1].add(&row[row.len() - 1]))
                .collect();
            let n_df: Vec<N> = dz.iter().map(|x| ratio(x, mom.n, 1)).collect();
            dsse = dsse.add(&dot(&dz, &two_r)).add(&dot(&dz, &n_df));
        }
        let n = self.pts.len();
        let cost = self
            .ev
            .cost
            .add(&ratio(&dsse, 1, n * (1 + self.half as usize)));
        Some((cost, margin?))
    }
    /// `true` when input `t` switched off before layer `l` (0-based index into `z`, or into
    /// `h` minus one) and an earlier input with the same off layer and `key` was already
    /// seen (recorded in `seen`): from there on both passes are the same constants, so a
    /// check of `z[l]` or `h[l]` has the earlier input's outcome, and the earlier input comes
    /// first in data order.
    fn repeat(&self, t: usize, l: usize, key: bool, seen: &mut BTreeSet<(usize, bool)>) -> bool {
        match self.ev.traces[t].off {
            Some(o) if o < l => !seen.insert((o, key)),
            _ => false,
        }
    }
    fn at(&self, t: usize) -> String {
        let p = &self.pts[t];
        format!("class {} point {}", p.class + 1, p.idx + 1)
    }

    /// Cost, margin and its location, outputs = targets, weight bits (item 4).
    fn evaluation(&self) -> Out {
        let (cl, ev) = (self.cl, &self.ev);
        let m = &cl.margin;
        same("claims.cost", &cl.cost, &ev.cost)?;
        same("claims.margin.value", &m.value, &ev.margin)?;
        let at = (m.class, m.point, m.layer, m.neuron);
        eq("claims.margin (class, point, layer, neuron)", at, ev.at)?;
        // A sum of squares of rationals is 0 iff every term is: every f(x) = y.
        let fit = ev.cost.is_zero();
        eq(
            "claims.outputs_equal_targets",
            cl.outputs_equal_targets,
            fit,
        )?;
        let bits = self.net.flatten().iter().map(N::bits).max().unwrap_or(0);
        eq("claims.max_weight_bits", cl.max_weight_bits, bits)?;
        let (c, m) = (ev.cost.text(), ev.margin.text());
        Ok(format!("cost {c}, margin {m} at {:?}", ev.at))
    }

    fn gradient(&self, positive: bool, zero: bool) -> Out {
        eq(
            "claims.gradient_zero",
            self.cl.gradient_zero,
            positive && zero,
        )?;
        match (&self.cl.gradient, &self.ev.grad) {
            (None, _) if !positive => Ok("not claimed (margin 0)".into()),
            (None, _) if zero => Ok("zero".into()),
            (Some(_), _) if !positive || zero => fail!("claims.gradient: present, but not nonzero"),
            (Some(g), Some(re)) => {
                eq("claims.gradient (length)", g.len(), re.len())?;
                for (i, (s, v)) in g.iter().zip(re).enumerate() {
                    same(&format!("claims.gradient[{i}]"), s, v)?;
                }
                Ok("nonzero, every entry equal".into())
            }
            _ => fail!("claims.gradient: absent, but the exact gradient is not zero"),
        }
    }

    /// The §8 bound (item 6): the recomputed gap (at positive margin) and the comparison.
    fn region(&self) -> (Option<N>, Out) {
        let present = self.cl.pattern_region.is_some();
        if self.ev.margin.sign() <= 0 {
            let r = eq("claims.pattern_region (present)", present, false);
            return (None, r.map(|_| "absent (margin 0)".into()));
        }
        let (q, n) = (self.net.q, self.pts.len());
        let (mut rows, mut sum) = (Vec::new(), N::zero());
        for (pat, (mom, _)) in &self.ev.groups {
            let constant = pat.as_bytes().chunks(q).any(|l| !l.contains(&b'1'));
            match mom.sse(constant) {
                Ok(sse) => rows.push((
                    pat,
                    mom.n,
                    constant,
                    ratio(&sse, 1, n * (1 + self.half as usize)),
                )),
                Err(e) => return (None, Err(e)),
            }
            sum = sum.add(&rows[rows.len() - 1].3);
        }
        let gap = self.ev.cost.sub(&sum);
        let compare = || -> Out {
            let Some(rr) = &self.cl.pattern_region else {
                fail!("claims.pattern_region: absent at positive margin");
            };
            let p = "claims.pattern_region";
            eq(&format!("{p}.groups (length)"), rr.groups.len(), rows.len())?;
            for (i, (g, (pat, size, constant, bound))) in rr.groups.iter().zip(&rows).enumerate() {
                let p = format!("{p}.groups[{i}]");
                eq(&format!("{p}.pattern"), g.pattern.as_str(), pat.as_str())?;
                eq(&format!("{p}.size"), g.size, *size)?;
                let fit = if *constant { "constant" } else { "affine" };
                eq(&format!("{p}.fit"), g.fit.as_str(), fit)?;
                same(&format!("{p}.bound"), &g.bound, bound)?;
            }
            same(&format!("{p}.sum"), &rr.sum, &sum)?;
            same(&format!("{p}.gap"), &rr.gap, &gap)?;
            eq(&format!("{p}.certified"), rr.certified, gap.is_zero())?;
            Ok(format!("{} groups, gap {}", rows.len(), gap.text()))
        };
        let r = compare();
        (Some(gap), r)
    }

    /// Degeneracy (item 8), present iff the verdict is a minimum.
    fn degeneracy(&self, minimum: bool) -> Out {
        let dg = match (&self.cl.degeneracy, minimum) {
            (Some(d), true) => d,
            (d, _) => {
                eq("claims.degeneracy (present)", d.is_some(), minimum)?;
                return Ok("absent (not a certified minimum)".into());
            }
        };
        let (l, q, per) = (self.net.w.len() - 1, self.net.q, self.net.per_layer());
        let (k, p) = ((l + 1) * per, "claims.degeneracy");
        eq(&format!("{p}.parameters"), dg.parameters, k)?;
        eq(&format!("{p}.rescaling_dims"), dg.rescaling_dims, l * q)?;
        let rank = jacobian_rank(&self.net, self.pts, &self.ev.traces, false);
        eq(&format!("{p}.jacobian_rank"), dg.jacobian_rank, rank)?;
        let kernel = self.ev.cost.is_zero().then_some(k - rank);
        eq(
            &format!("{p}.hessian_kernel_dim"),
            dg.hessian_kernel_dim,
            kernel,
        )?;
        let Some(fd) = &dg.flat_direction else {
            return Ok(format!("rank J = {rank}, no flat line"));
        };
        let p = format!("{p}.flat_direction");
        if fd.kind == "pass-through-shift" {
            return self
                .pass_through_shift(fd, &p, k)
                .map(|m| format!("rank J = {rank}, {m}"));
        }
        eq(&format!("{p}.kind"), fd.kind.as_str(), "output-layer")?;
        let d: Vec<N> = parse_vec(&format!("{p}.direction"), &fd.direction, k)?;
        if let Some(i) = d[..k - per].iter().position(|x| !x.is_zero()) {
            fail!("{p}.direction[{i}]: nonzero outside the output layer");
        }
        if d.iter().all(N::is_zero) {
            fail!("{p}.direction: all zero");
        }
        let ts: Vec<N> = parse_vec(&format!("{p}.samples"), &fd.samples, 3)?;
        for (i, t) in ts.iter().enumerate() {
            if t.is_zero() || ts[..i].contains(t) {
                fail!("{p}.samples[{i}]: zero or repeated");
            }
        }
        // Only the output layer moves, so the hidden activations stay and every output moves
        // by t·(ΔW h^L + Δb). That is zero on every point iff C(θ + t d) = C(θ) for all t
        // (the cost is Σ|r + t δf|²/…, constant iff Σ|δf|² = 0), so the samples are flat.
        let dw: Mat<N> = d[k - per..k - q].chunks(q).map(<[N]>::to_vec).collect();
        let mut seen = BTreeSet::new();
        for (t, tr) in self.ev.traces.iter().enumerate() {
            if self.repeat(t, l, true, &mut seen) {
                continue;
            }
            let moved = affine(&dw, &tr.h[l], &d[k - q..]);
            if let Some(m) = moved.iter().position(|v| !v.is_zero()) {
                fail!(
                    "{p}: output {} of {} moves along the line, so the cost is not constant",
                    m + 1,
                    self.at(t)
                );
            }
        }
        Ok(format!("rank J = {rank}, flat output-layer line verified"))
    }

    /// A `pass-through-shift` flat line: `d` shifts `b_1` by `u ≠ 0` and `b_{L+1}` by
    /// `−W_{L+1}⋯W_2 u`, and is zero elsewhere. On the all-on activation region every
    /// pre-activation of `θ + t d` is affine in `t` and the output is unchanged; if every
    /// pre-activation is `> 0` at `θ` and at the two samples `t₋ < 0 < t₊`, it is `> 0` on the
    /// whole segment, so the cost is constant there (checked at both ends, too).
    fn pass_through_shift(&self, fd: &FlatRecord, p: &str, k: usize) -> Out {
        let q = self.net.q;
        let d: Vec<N> = parse_vec(&format!("{p}.direction"), &fd.direction, k)?;
        let (b1, bo) = (q * q..q * q + q, k - q..k);
        if let Some(i) = (0..k).find(|i| !b1.contains(i) && !bo.contains(i) && !d[*i].is_zero()) {
            fail!("{p}.direction[{i}]: nonzero outside b_1 and b_(L+1)");
        }
        let u = &d[b1];
        if u.iter().all(N::is_zero) {
            fail!("{p}.direction: zero shift of b_1");
        }
        let mut v = u.to_vec();
        for w in &self.net.w[1..] {
            v = w.iter().map(|row| dot(row, &v)).collect();
        }
        if d[bo].iter().zip(&v).any(|(a, b)| a.add(b) != N::zero()) {
            fail!("{p}.direction: the b_(L+1) part is not −W_(L+1)⋯W_2 · (b_1 part)");
        }
        let all_on = |e: &Eval<N>| {
            e.traces
                .iter()
                .all(|t| t.z.iter().flat_map(|z| z.iter()).all(|z| z.sign() > 0))
        };
        if !all_on(&self.ev) {
            fail!("{p}: not every pre-activation is > 0 at θ");
        }
        let ts: Vec<N> = parse_vec(&format!("{p}.samples"), &fd.samples, 2)?;
        if !(ts[0].sign() < 0 && ts[1].sign() > 0) {
            fail!("{p}.samples: need t₋ < 0 < t₊");
        }
        for t in &ts {
            let moved = self.net.step(&d, t);
            // Every pattern unchanged (all-on at θ) means all-on at the sample.
            let still = self.shifted(&moved).map(|(c, _)| (true, c));
            let (on, cost) = still.unwrap_or_else(|| {
                let e = moved.evaluate(self.pts, self.half, None, Some((&self.net, &self.ev)));
                (all_on(&e), e.cost)
            });
            if !on || cost != self.ev.cost {
                fail!(
                    "{p}: at t = {} some pre-activation is ≤ 0 or the cost changed",
                    t.text()
                );
            }
        }
        Ok("flat pass-through-shift segment verified".to_string())
    }

    /// Descent witness (item 9).
    fn descent(&self, verdict: &str) -> Out {
        let Some(ds) = &self.cl.descent else {
            return Ok("absent".into());
        };
        let (Some(g), "not-a-local-minimum") = (&self.ev.grad, verdict) else {
            fail!("claims.descent: present, but the verdict is {verdict}");
        };
        let t = N::parse(&ds.step).map_err(|e| format!("claims.descent.step: {e}"))?;
        if t.sign() <= 0 {
            fail!("claims.descent.step: {} is not > 0", ds.step);
        }
        let q = self.net.q;
        let d: Vec<N> = match ds.direction.as_str() {
            "gradient" => g.iter().map(N::neg).collect(),
            "first-layer-bias" => (g.iter().enumerate())
                .map(|(i, x)| match i >= q * q && i < q * q + q {
                    true => x.neg(),
                    false => N::zero(),
                })
                .collect(),
            other => fail!("claims.descent.direction: unknown direction {other:?}"),
        };
        let (cost, margin) = self.cost_of(&self.net.step(&d, &t));
        same("claims.descent.cost_after", &ds.cost_after, &cost)?;
        same("claims.descent.margin_after", &ds.margin_after, &margin)?;
        let c0 = self.ev.cost.text();
        if cost >= self.ev.cost || margin.sign() <= 0 {
            fail!("claims.descent: no descent from {c0} with positive margin");
        }
        Ok(format!("t = {}: cost {} < {c0}", ds.step, cost.text()))
    }

    /// Family rules, identifier, cones, idle layers and curation (item 10).
    fn configuration(&self, cfg: &Configuration) -> Out {
        if cfg.family == "imported" {
            // A network supplied by the user (`certify --network`): nothing was constructed,
            // so there is no curation to check; every claim is still recomputed.
            let empty =
                cfg.cones.is_empty() && cfg.collapse_order.is_empty() && cfg.passing.is_empty();
            if cfg.id != "imported" || !empty || cfg.idle_shift != "0" {
                fail!("configuration: an imported network has id \"imported\", no cones, no passing classes and idle_shift \"0\"");
            }
            return Ok("imported network: no construction to check".to_string());
        }
        let (q, l, u, p) = (
            self.net.q,
            self.net.w.len() - 1,
            cfg.cones.len(),
            "configuration",
        );
        if u > l {
            fail!("{p}.cones: {u} cones but only {l} hidden layers");
        }
        eq(
            &format!("{p}.collapse_order (length)"),
            cfg.collapse_order.len(),
            u,
        )?;
        for (i, (c, o)) in cfg.cones.iter().zip(&cfg.collapse_order).enumerate() {
            eq(&format!("{p}.cones[{i}].layer"), c.layer, i + 1)?;
            eq(&format!("{p}.collapse_order[{i}]"), o, &c.classes)?;
        }
        let mut seen = vec![false; q];
        for k in cfg
            .cones
            .iter()
            .flat_map(|c| &c.classes)
            .chain(&cfg.passing)
        {
            match seen.get_mut(k.wrapping_sub(1)) {
                Some(s) if !*s => *s = true,
                _ => fail!("{p}: class {k} out of range or listed twice"),
            }
        }
        if let Some(k) = seen.iter().position(|s| !s) {
            fail!("{p}: class {} is neither collapsed nor passing", k + 1);
        }
        let ok = |v: &[usize]| v.windows(2).all(|w| w[0] < w[1]);
        if !cfg
            .cones
            .iter()
            .all(|c| ok(&c.classes) && !c.classes.is_empty())
            || !ok(&cfg.passing)
        {
            fail!("{p}: class lists must be non-empty (cones) and increasing");
        }
        let (pass, singletons) = (
            !cfg.passing.is_empty(),
            cfg.cones.iter().all(|c| c.classes.len() == 1),
        );
        let join = |v: &[usize], s| v.iter().map(usize::to_string).collect::<Vec<_>>().join(s);
        let mut units: Vec<&Vec<usize>> = cfg.cones.iter().map(|c| &c.classes).collect();
        units.sort();
        let (rule, id) = match cfg.family.as_str() {
            "shallow" => (u == 0, "shallow".to_string()),
            "global" => (u == q && singletons && !pass, "global".to_string()),
            "partial" => {
                let s: Vec<usize> = units.iter().flat_map(|c| c.iter().copied()).collect();
                (
                    u >= 1 && singletons && pass,
                    format!("partial-S{}", join(&s, ",")),
                )
            }
            "grouped" => {
                let g: Vec<String> = units.iter().map(|c| join(c, "+")).collect();
                let merged = units.iter().any(|c| c.len() > 1);
                (!pass && merged, format!("grouped-{}", g.join("_")))
            }
            f => fail!("{p}.family: unknown family {f:?}"),
        };
        if !rule {
            fail!(
                "{p}.family: {} does not fit cones {:?}, passing {:?}",
                cfg.family,
                cfg.collapse_order,
                cfg.passing
            );
        }
        eq(&format!("{p}.id"), cfg.id.as_str(), id.as_str())?;

        // Cumulative W^{(ℓ)} = W_ℓ W^{(ℓ−1)}, b^{(ℓ)} = W_ℓ b^{(ℓ−1)} + b_ℓ, ℓ = 1..L.
        let eye: Mat<N> = (0..q).map(|m| unit(q, m)).collect();
        let (mut cw, mut cb, mut cum) = (eye.clone(), vec![N::zero(); q], Vec::new());
        for (w, b) in self.net.w.iter().zip(&self.net.b).take(l) {
            let cols: Mat<N> = (0..q)
                .map(|j| cw.iter().map(|r| r[j].clone()).collect())
                .collect();
            cw = w
                .iter()
                .map(|row| cols.iter().map(|c| dot(row, c)).collect())
                .collect();
            cb = affine(w, &cb, b);
            cum.push((cw.clone(), cb.clone()));
        }
        let member = |t: usize, classes: &[usize]| classes.contains(&(self.pts[t].class + 1));
        let mut apexes = Vec::new();
        for (i, c) in cfg.cones.iter().enumerate() {
            let cp = format!("{p}.cones[{i}]");
            let n: Vec<N> = parse_vec(&format!("{cp}.normal"), &c.normal, q)?;
            let a: Vec<N> = parse_vec(&format!("{cp}.apex"), &c.apex, q)?;
            let kappa = N::parse(&c.kappa).map_err(|e| format!("{cp}.kappa: {e}"))?;
            let (w, b) = &cum[i];
            for (m, j) in (0..q).flat_map(|m| (0..q).map(move |j| (m, j))) {
                let want = if m == j {
                    n[j].add(&kappa)
                } else {
                    n[j].clone()
                };
                if w[m][j] != want {
                    fail!(
                        "{cp}: W^({})[{m}][{j}] = {}, 1nᵀ + κI gives {}",
                        i + 1,
                        w[m][j].text(),
                        want.text()
                    );
                }
            }
            let nsum = n.iter().fold(N::zero(), |s, x| s.add(x));
            if kappa.sign() <= 0 || kappa.add(&nsum).is_zero() {
                fail!("{cp}.kappa: need κ > 0 and κ + n·1 ≠ 0 (W invertible)");
            }
            same(&format!("{cp}.beta (n·apex)"), &c.beta, &dot(&n, &a))?;
            if affine(w, &a, b).iter().any(|x| !x.is_zero()) {
                fail!("{cp}.apex: W^({0}) apex + b^({0}) ≠ 0", i + 1);
            }
            let mut seen = BTreeSet::new();
            for (t, tr) in self.ev.traces.iter().enumerate() {
                let want = if member(t, &c.classes) { -1 } else { 1 };
                if self.repeat(t, i, want < 0, &mut seen) {
                    continue;
                }
                if tr.z[i].iter().any(|z| z.sign() != want) {
                    let how = if want < 0 { "collapsed" } else { "passing" };
                    fail!(
                        "{cp}: {} is not strictly {how} at layer {}",
                        self.at(t),
                        i + 1
                    );
                }
            }
            apexes.push(a);
        }
        let s = N::parse(&cfg.idle_shift).map_err(|e| format!("{p}.idle_shift: {e}"))?;
        for (ll, (w, b)) in cum.iter().enumerate().skip(u) {
            if *w != eye || b.iter().any(|x| *x != s) {
                fail!("{p}: idle layer {}: cumulative map is not (I, s·1)", ll + 1);
            }
            let mut seen = BTreeSet::new();
            let stops = |t: &usize| {
                !self.repeat(*t, ll, true, &mut seen)
                    && self.ev.traces[*t].z[ll].iter().any(|z| z.sign() <= 0)
            };
            if let Some(t) = (0..self.pts.len()).find(stops) {
                fail!("{p}: idle layer {}: {} does not pass", ll + 1, self.at(t));
            }
        }
        let passing = self
            .pts
            .iter()
            .filter(|x| cfg.passing.contains(&(x.class + 1)));
        let coords = apexes
            .iter()
            .chain(passing.map(|x| &*x.x))
            .flatten()
            .map(N::abs);
        let big = coords.fold(N::zero(), |m, x| if x > m { x } else { m });
        if cfg.idle_shift.contains('/') || s.sub(&N::one()) > big || s <= big {
            fail!(
                "{p}.idle_shift: {} is not ⌊{}⌋ + 1 (max |coordinate|)",
                cfg.idle_shift,
                big.text()
            );
        }
        let (wl, bl) = &cum[l - 1];
        for (i, (c, a)) in cfg.cones.iter().zip(&apexes).enumerate() {
            let apex = affine(wl, a, bl);
            let off = |t: &usize| member(*t, &c.classes) && *self.ev.traces[*t].h[l] != apex;
            if let Some(t) = (0..self.pts.len()).find(off) {
                fail!("{p}.cones[{i}]: {} is not curated to the apex", self.at(t));
            }
        }
        self.output_layer(cfg, &apexes, wl, bl)?;
        Ok(cfg.id.clone())
    }

    /// The output layer is the basic least-squares fit on the curated points `τ` (the apex of
    /// its cone for a collapsed point, the input for a passing one): the normal equations
    /// `Σ τ̃ (f − y)ᵀ = 0` hold (`τ̃ = (τ, 1)`, `f = A τ + c` on the data), and column `j` of
    /// `[A | c]` (`A = W_{L+1} W^{(L)}`, `c = W_{L+1} b^{(L)} + b_{L+1}`) is zero for every
    /// non-pivot column `j` of `G = Σ τ̃τ̃ᵀ` (a column that is a combination of the columns
    /// before it; `G` and the matrix of rows `τ̃ᵀ` have the same ones). These two conditions
    /// determine `[A | c]`, hence `W_{L+1}`, `b_{L+1}`.
    fn output_layer(&self, cfg: &Configuration, apexes: &[Vec<N>], wl: &Mat<N>, bl: &[N]) -> Res {
        let (q, l) = (self.net.q, self.net.w.len() - 1);
        let p = format!("network.layers[{l}]");
        // The cone collapsing each class (0-based class → index into `apexes`), if any.
        let cone_of: Vec<Option<usize>> = (1..=q)
            .map(|k| cfg.cones.iter().position(|c| c.classes.contains(&k)))
            .collect();
        let tilde = |v: &[N]| -> Vec<N> { v.iter().cloned().chain([N::one()]).collect() };
        // The row space of the τ̃: the passing inputs (until full) and the apexes.
        let mut span = Echelon(Vec::new());
        for pt in self.pts.iter().filter(|pt| cone_of[pt.class].is_none()) {
            if span.0.len() > q {
                break;
            }
            span.insert(tilde(&pt.x));
        }
        for a in apexes {
            if span.0.len() <= q {
                span.insert(tilde(a));
            }
        }
        // The normal equations Σ τ̃ rᵀ = 0 (entry (a, k) = Σ τ̃_a r_k). A pattern group whose
        // points all pass adds E_gᵀ (E_g = Σ r x̃ᵀ); one whose points all lie in cone i adds
        // ã_i (Σ_g r)ᵀ. Any other grouping (or margin 0): point by point.
        let mut ne: Mat<N> = vec![vec![N::zero(); q]; q + 1];
        let add = |ne: &mut Mat<N>, tau: &[N], r: &[N]| {
            for (row, ta) in ne.iter_mut().zip(tau.iter().chain([&N::one()])) {
                row.iter_mut()
                    .zip(r)
                    .for_each(|(x, rk)| *x = x.add(&ta.mul(rk)));
            }
        };
        let side = |idx: &[usize]| {
            let c0 = cone_of[self.pts[idx[0]].class];
            idx.iter()
                .all(|&t| cone_of[self.pts[t].class] == c0)
                .then_some(c0)
        };
        let by_group = !self.pointwise
            && self.ev.margin.sign() > 0
            && self.ev.members.iter().all(|m| side(m).is_some());
        if by_group {
            for (idx, e) in self.ev.members.iter().zip(&self.ev.sums) {
                let rsum: Vec<N> = e.iter().map(|row| row[q].clone()).collect();
                match side(idx).flatten() {
                    Some(i) => add(&mut ne, &apexes[i], &rsum),
                    None => {
                        for (a, row) in ne.iter_mut().enumerate() {
                            row.iter_mut().zip(e).for_each(|(x, er)| *x = x.add(&er[a]));
                        }
                    }
                }
            }
        } else {
            for (t, pt) in self.pts.iter().enumerate() {
                let r: Vec<N> = (self.ev.traces[t].f.iter().zip(&pt.y))
                    .map(|(f, y)| f.sub(y))
                    .collect();
                let tau = cone_of[pt.class].map_or(&*pt.x, |i| &apexes[i]);
                add(&mut ne, tau, &r);
            }
        }
        if ne.iter().flatten().any(|x| !x.is_zero()) {
            fail!("{p}: not a least-squares fit on the curated points (normal equations fail)");
        }
        let (wo, bo) = (&self.net.w[l], &self.net.b[l]);
        let c = affine(wo, bl, bo);
        let a = |k: usize, j: usize| -> N {
            (wo[k].iter().zip(wl)).fold(N::zero(), |s, (x, w)| s.add(&x.mul(&w[j])))
        };
        for j in (0..=q).filter(|j| !span.0.iter().any(|(pv, _)| pv == j)) {
            if (0..q).any(|k| !(if j == q { c[k].clone() } else { a(k, j) }).is_zero()) {
                fail!("{p}: column {j} of the cumulative output map [A | c] is not zero, but column {j} of G = Σ τ̃τ̃ᵀ is a combination of the columns before it (not the basic least-squares fit)");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::Rat;

    /// Deterministic pseudo-random rationals `n/d`, `n ∈ −4..=4`, `d ∈ 1..=3`.
    fn rationals(mut seed: u64) -> impl FnMut() -> Rat {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (n, d) = ((seed >> 33) % 9, 1 + (seed >> 40) % 3);
            Rat::from_frac(n as i64 - 4, d as i64).unwrap_or_else(Rat::zero)
        }
    }

    /// The switched-off rests of a constructed deep network are stored as `O(L)` shared
    /// vectors (the old table held one rest per layer, `L(L+1)/2` vectors), and every chain
    /// is the plain pass from `h = 0`: the depth-memory regression of the checker.
    #[test]
    fn switched_off_rests_are_linear_in_depth() {
        let data = Dataset::load(
            std::path::Path::new("examples/three_classes.json"),
            &crate::data::DataLimits::default(),
        )
        .expect("example loads");
        let layers = 120;
        let c = crate::construct::build(&data, layers, &crate::construct::plans::global(data.q))
            .expect("global builds");
        let rec = crate::verify::network_record(&c.network);
        let net: Net<Rat> = network(&rec, data.q).expect("valid network");
        let s = net.shortcuts();
        let nl = net.w.len();
        assert!(
            s.off.nodes.len() <= (data.q + 1) * nl,
            "{} stored rests for {nl} layers",
            s.off.nodes.len()
        );
        for l in 0..nl - 1 {
            let mut h = vec![Rat::zero(); data.q];
            let want: Vec<Vec<Rat>> = (l + 1..nl)
                .map(|j| {
                    let v = affine(&net.w[j], &h, &net.b[j]);
                    h = relu(&v);
                    v
                })
                .collect();
            let got: Vec<Vec<Rat>> = s.off.chain(l).map(|(z, _)| z.to_vec()).collect();
            assert_eq!(got, want, "rest from layer {l}");
        }
    }

    /// The representative-subset rank equals the rank of the full Jacobian, on small random
    /// networks and data (deterministic pseudo-random rationals with small denominators).
    #[test]
    fn jacobian_rank_from_representatives() {
        let mut r = rationals(12345);
        let mut off = 0;
        for (q, l, n) in [(1, 1, 5), (2, 1, 9), (2, 2, 12), (3, 2, 15), (3, 3, 20)] {
            for case in 0..8 {
                let mut vec = |k: usize| (0..k).map(|_| r()).collect::<Vec<Rat>>();
                let w = (0..=l).map(|_| (0..q).map(|_| vec(q)).collect()).collect();
                let mut b: Mat<Rat> = (0..=l).map(|_| vec(q)).collect();
                // Shifted down, a hidden layer is all ≤ 0 on some inputs but not all.
                if case >= 4 {
                    let layer = case % l;
                    b[layer] = b[layer].iter().map(|x| x - &Rat::from_i64(3)).collect();
                }
                let net = Net { q, w, b };
                let pts: Vec<Point<Rat>> = (0..n)
                    .map(|idx| Point::new(0, idx, vec(q), vec(q)))
                    .collect();
                let s = net.shortcuts();
                let tr: Vec<_> = (pts.iter())
                    .map(|p| net.forward(p, &s, &Net::scaled(&s, &p.dx), None))
                    .collect();
                off += tr.iter().any(|t| t.off.is_some()) as usize;
                let fast = jacobian_rank(&net, &pts, &tr, false);
                assert_eq!(fast, jacobian_rank(&net, &pts, &tr, true), "q {q} l {l}");
            }
        }
        assert!(off >= 10, "{off} cases with a switched-off input");
    }

    /// The plain forward pass, layer by layer (the definition).
    /// `n` points of width `q` from `vec`, alternating between two classes.
    fn random_points(
        n: usize,
        q: usize,
        vec: &mut impl FnMut(usize) -> Vec<Rat>,
    ) -> Vec<Point<Rat>> {
        (0..n)
            .map(|idx| Point::new(idx % 2, idx, vec(q), vec(q)))
            .collect()
    }

    fn plain_forward(net: &Net<Rat>, x: &[Rat]) -> Trace<Rat> {
        let (mut h, mut z) = (vec![x.to_vec()], Vec::new());
        for (w, b) in net.w.iter().zip(&net.b) {
            let v = affine(w, &h[h.len() - 1], b);
            h.push(relu(&v));
            z.push(v);
        }
        h.pop();
        let f = z.pop().unwrap_or_default();
        let rows = |m: Mat<Rat>| m.into_iter().map(Arc::new).collect();
        Trace {
            h: rows(h),
            z: rows(z),
            f: Arc::new(f),
            off: None,
        }
    }

    /// The shortcut forward pass (with and without a base evaluation, with [`Scaled`] kept
    /// per `dx` or made for one input) equals the plain one, a group's moments summed from its classes equal its
    /// points' moments, and the gradient from group moments equals per-point
    /// backpropagation, on random networks whose layers are often shifted all-on or all-off
    /// (so every shortcut runs).
    #[test]
    fn shortcuts_and_moment_gradient_match_the_definition() {
        let mut r = rationals(777);
        let (mut shortcuts_used, mut off_used, mut whole, mut moment_cost) = (0, 0, 0, 0);
        for (q, l, n) in [(1, 1, 6), (2, 1, 9), (2, 3, 12), (3, 2, 15), (3, 4, 20)] {
            for case in 0..24 {
                let mut vec = |k: usize| (0..k).map(|_| r()).collect::<Vec<Rat>>();
                let w: Vec<Mat<Rat>> = (0..=l).map(|_| (0..q).map(|_| vec(q)).collect()).collect();
                let mut b: Mat<Rat> = (0..=l).map(|_| vec(q)).collect();
                for (i, bl) in b.iter_mut().enumerate().take(l) {
                    let shift = match (case + i) % 4 {
                        0 => Rat::from_i64(40),
                        1 if case % 3 == 0 => Rat::from_i64(-40),
                        _ => Rat::zero(),
                    };
                    bl.iter_mut().for_each(|x| *x = &*x + &shift);
                }
                let net = Net { q, w, b };
                let pts = random_points(n, q, &mut vec);
                let classes = class_moments(&pts);
                let ev = net.evaluate(&pts, true, Some(&classes), None);
                for ((mom, _), idx) in ev.groups.values().zip(&ev.members) {
                    let ps: Vec<&Point<Rat>> = idx.iter().map(|&i| &pts[i]).collect();
                    assert_eq!(mom, &Moments::of(q, &ps), "group moments, q {q} l {l}");
                    whole += whole_classes(idx, &pts, &classes).is_some() as usize;
                }
                let s = net.shortcuts();
                // The margin and its first location, from the plain passes.
                let mut best: Option<(Rat, (usize, usize, usize, usize))> = None;
                for p in &pts {
                    for (l, z) in plain_forward(&net, &p.x).z.iter().enumerate() {
                        for (m, v) in z.iter().enumerate() {
                            if best.as_ref().is_none_or(|(b, _)| v.abs() < *b) {
                                best = Some((v.abs(), (p.class + 1, p.idx + 1, l + 1, m + 1)));
                            }
                        }
                    }
                }
                assert_eq!(
                    best,
                    Some((ev.margin.clone(), ev.at)),
                    "margin, q {q} l {l}"
                );
                for (t, p) in ev.traces.iter().zip(&pts) {
                    let plain = plain_forward(&net, &p.x);
                    assert!(
                        t.h == plain.h && t.z == plain.z && t.f == plain.f,
                        "q {q} l {l}"
                    );
                    let general = net.forward(p, &s, &Net::scaled(&s, &p.dx), None);
                    assert!(general.z == plain.z && general.f == plain.f);
                    shortcuts_used += t.z.iter().all(|z| z.iter().all(|v| v.sign() > 0)) as usize;
                    off_used += t.z.iter().any(|z| z.iter().all(|v| v.sign() < 0)) as usize;
                }
                if let Some(g) = &ev.grad {
                    let mut naive = vec![Rat::zero(); g.len()];
                    for (t, p) in ev.traces.iter().zip(&pts) {
                        let res = t.f.iter().zip(&p.y).map(|(f, y)| f - y).collect();
                        net.backward(t, res, &mut naive);
                    }
                    let naive: Vec<Rat> = naive.iter().map(|x| ratio(x, 1, n)).collect();
                    assert_eq!(g, &naive, "gradient, q {q} l {l} case {case}");
                }
                // The cost (from the groups' moments at margin > 0): the plain sum of squares.
                let res: Vec<Rat> = (pts.iter())
                    .flat_map(|p| {
                        let f = plain_forward(&net, &p.x).f;
                        (f.iter().zip(&p.y)).map(|(a, b)| a - b).collect::<Vec<_>>()
                    })
                    .collect();
                let plain_cost = ratio(&dot(&res, &res), 1, 2 * n);
                assert_eq!(ev.cost, plain_cost, "cost, q {q} l {l} case {case}");
                moment_cost += ev.grad.is_some() as usize;
                // A bias step (same W): the base shortcut gives the plain pass too.
                let mut moved = Net {
                    q,
                    w: net.w.clone(),
                    b: net.b.clone(),
                };
                moved.b[0] = moved.b[0]
                    .iter()
                    .map(|x| x + &Rat::from_frac(1, 3).unwrap())
                    .collect();
                let ev2 = moved.evaluate(&pts, true, None, Some((&net, &ev)));
                for (t, p) in ev2.traces.iter().zip(&pts) {
                    let plain = plain_forward(&moved, &p.x);
                    assert!(
                        t.h == plain.h && t.z == plain.z && t.f == plain.f,
                        "moved q {q} l {l}"
                    );
                }
            }
        }
        assert!(
            shortcuts_used > 50 && off_used > 50 && whole > 20 && moment_cost > 20,
            "{shortcuts_used} {off_used} {whole} {moment_cost}"
        );
    }

    /// The prefix maps with inputs, rows or sums beyond machine integers (the `N` path of
    /// [`ScaledRow::z`]) equal the plain pass; so do inputs just inside `i64`.
    #[test]
    fn scaled_prefix_beyond_machine_integers() {
        let mut r = rationals(4242);
        let big = Rat::from_i64(i64::MAX / 3);
        let (mut small, mut general) = (0, 0);
        for (q, l) in [(2, 2), (3, 3)] {
            for case in 0..12 {
                let mut vec = |k: usize| (0..k).map(|_| r()).collect::<Vec<Rat>>();
                let w = (0..=l).map(|_| (0..q).map(|_| vec(q)).collect()).collect();
                // All-on layers (so the prefix maps run on every point), shifted by a small or
                // a huge constant, with small, large or huge inputs.
                let shift = if case % 2 == 0 {
                    Rat::from_i64(40)
                } else {
                    big.clone()
                };
                let b = (0..=l)
                    .map(|_| vec(q).iter().map(|x| x + &shift).collect())
                    .collect();
                let net = Net { q, w, b };
                let scale = match (case / 2) % 3 {
                    0 => Rat::from_frac(1, 5).unwrap(),
                    1 => big.clone(),
                    _ => &big * &big,
                };
                let pts: Vec<Point<Rat>> = (0..6)
                    .map(|idx| {
                        let x = vec(q).iter().map(|v| v * &scale).collect();
                        Point::new(0, idx, x, vec(q))
                    })
                    .collect();
                let s = net.shortcuts();
                for p in &pts {
                    let sc = Net::scaled(&s, &p.dx);
                    let t = net.forward(p, &s, &sc, None);
                    let plain = plain_forward(&net, &p.x);
                    assert!(t.z == plain.z && t.f == plain.f, "q {q} l {l} case {case}");
                    let fits = p.xi.is_some() && sc.iter().flatten().all(|r| r.small.is_some());
                    if fits {
                        small += 1;
                    } else {
                        general += 1;
                    }
                }
            }
        }
        assert!(small > 10 && general > 10, "{small} {general}");
    }

    /// Both backends' `dot` (one reduction at the end) equal the term-by-term sum.
    /// [`Ctx::shifted`] against the full evaluation: random networks, points and bias moves
    /// of every layer (small moves keep the patterns, large ones change some).
    #[test]
    fn group_shift_equals_the_full_evaluation() {
        let mut r = rationals(4242);
        let (mut applied, mut declined) = (0, 0);
        let claims: Claims = serde_json::from_str(
            r#"{"verdict":"x","cost":"0","margin":{"value":"0","class":0,"point":0,"layer":0,"neuron":0},"outputs_equal_targets":false,"gradient_zero":false,"max_weight_bits":0}"#,
        )
        .expect("minimal claims");
        for (q, l, n) in [(1, 1, 6), (2, 2, 12), (3, 3, 18), (2, 4, 10)] {
            for case in 0..30 {
                let mut vec = |k: usize| (0..k).map(|_| r()).collect::<Vec<Rat>>();
                let w: Vec<Mat<Rat>> = (0..=l).map(|_| (0..q).map(|_| vec(q)).collect()).collect();
                let mut b: Mat<Rat> = (0..=l).map(|_| vec(q)).collect();
                if case % 2 == 0 {
                    b[0].iter_mut().for_each(|x| *x = &*x + &Rat::from_i64(40));
                }
                let net = Net { q, w, b };
                let pts = random_points(n, q, &mut vec);
                let ev = net.evaluate(&pts, case % 3 == 0, Some(&[]), None);
                if ev.margin.sign() <= 0 {
                    continue;
                }
                let size = Rat::from_frac(1, [1000, 10, 1][case % 3]).unwrap();
                let db: Mat<Rat> = (0..=l)
                    .map(|_| vec(q).iter().map(|x| x * &size).collect())
                    .collect();
                let moved = Net {
                    q,
                    w: net.w.clone(),
                    b: (net.b.iter().zip(&db))
                        .map(|(a, d)| a.iter().zip(d).map(|(x, y)| x + y).collect())
                        .collect(),
                };
                let half = case % 3 == 0;
                let x = Ctx {
                    net,
                    pts: &pts,
                    ev,
                    half,
                    cl: &claims,
                    spread: Default::default(),
                    pointwise: false,
                };
                let full = moved.evaluate(x.pts, half, None, None);
                match x.shifted(&moved) {
                    Some((cost, margin)) => {
                        applied += 1;
                        assert_eq!((&cost, &margin), (&full.cost, &full.margin), "q {q} l {l}");
                        let pat = |e: &Eval<Rat>| {
                            let mut rest = BTreeMap::new();
                            let p = e.traces.iter().map(|t| pattern(t, &mut rest));
                            p.collect::<Vec<_>>()
                        };
                        assert_eq!(pat(&full), pat(&x.ev), "patterns kept");
                    }
                    None => declined += 1,
                }
                // A weight change is never shifted.
                let mut w2 = x.net.w.clone();
                w2[0][0][0] = &w2[0][0][0] + &Rat::from_i64(1);
                let other = Net {
                    q,
                    w: w2,
                    b: x.net.b.clone(),
                };
                assert!(x.shifted(&other).is_none());
            }
        }
        assert!(applied > 20 && declined > 5, "{applied} {declined}");
    }

    /// The normal equations of [`Ctx::output_layer`] from the groups' `E` equal the
    /// point-by-point sums: every archived constructed certificate passes both ways, and
    /// both reject its output bias moved by 1.
    #[test]
    fn output_layer_by_groups_equals_pointwise() {
        use crate::data::{DataLimits, Dataset};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for ex in std::fs::read_dir(root.join("certificates")).unwrap() {
            let dir = ex.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            let data_path = root.join("examples").join(format!("{name}.json"));
            let Ok(data) = Dataset::load(&data_path, &DataLimits::default()) else {
                continue;
            };
            for f in std::fs::read_dir(&dir).unwrap() {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                let Ok(c) = crate::checker::parse_certificate(&text) else {
                    continue;
                };
                if c.configuration.family == "imported" {
                    continue;
                }
                for moved in [false, true] {
                    let mut net = network::<Rat>(&c.network, data.q).unwrap();
                    if moved {
                        let l = net.b.len() - 1;
                        net.b[l][0] = &net.b[l][0] + &Rat::from_i64(1);
                    }
                    let pts = points::<Rat>(&data).unwrap();
                    let ev = net.evaluate(&pts, true, Some(&[]), None);
                    let mut x = Ctx {
                        net,
                        pts: &pts,
                        ev,
                        half: true,
                        cl: &c.claims,
                        spread: Default::default(),
                        pointwise: false,
                    };
                    let grouped = x.configuration(&c.configuration);
                    x.pointwise = true;
                    let pointwise = x.configuration(&c.configuration);
                    assert_eq!(grouped, pointwise, "{name}: {}", c.configuration.id);
                    assert_eq!(grouped.is_ok(), !moved, "{name}: {}", c.configuration.id);
                    checked += 1;
                }
            }
        }
        assert!(checked > 60, "{checked}");
    }

    /// The modular rank is a lower bound of the exact rank (small primes lose rank on some
    /// matrices; `2⁶¹ − 1` on these never does), and both backends agree on residues.
    #[test]
    fn rank_mod_is_a_lower_bound() {
        use crate::checker::num::BigQ;
        let mut r = rationals(99);
        let (mut lost, mut equal) = (0, 0);
        for case in 0..200 {
            let (rows, cols) = (1 + case % 6, 1 + case % 5);
            let mut m: Mat<Rat> = (0..rows)
                .map(|_| (0..cols).map(|_| r()).collect())
                .collect();
            if case % 3 == 0 && rows > 1 {
                // a dependent row: the sum of the first two
                let s: Vec<Rat> = m[0].iter().zip(&m[rows - 1]).map(|(a, b)| a + b).collect();
                m[rows / 2] = s;
            }
            let mut ech = Echelon(vec![]);
            m.iter().for_each(|row| {
                ech.insert(row.clone());
            });
            let exact = ech.0.len();
            for p in [2u64, 3, 5, 7, MOD_P] {
                if let Some(k) = rank_mod(&m, p) {
                    assert!(k <= exact, "rank mod {p} = {k} > {exact}");
                    lost += (k < exact) as usize;
                    if p == MOD_P {
                        assert_eq!(k, exact);
                        equal += 1;
                    }
                }
                for x in m.iter().flatten() {
                    let y: BigQ = Num::parse(&x.canonical()).unwrap();
                    assert_eq!(Num::mod_prime(x, p), y.mod_prime(p), "{x} mod {p}");
                }
            }
        }
        assert!(lost > 0 && equal > 150, "{lost} {equal}");
    }

    #[test]
    fn dot_equals_the_reduced_sum() {
        let mut r = rationals(99);
        for len in [0, 1, 2, 5, 17, 300] {
            for _ in 0..8 {
                let mut v = |k: usize| {
                    (0..k)
                        .map(|_| &r() / &(&r() + &Rat::from_i64(7)))
                        .collect::<Vec<Rat>>()
                };
                let (a, b) = (v(len), v(len));
                let slow = a
                    .iter()
                    .zip(&b)
                    .fold(Rat::zero(), |s, (x, y)| &s + &(x * y));
                assert_eq!(<Rat as Num>::dot(&a, &b), slow);
                let big = |v: &[Rat]| {
                    v.iter()
                        .map(|x| <crate::checker::num::BigQ as Num>::parse(&x.canonical()).unwrap())
                        .collect::<Vec<_>>()
                };
                let d = <crate::checker::num::BigQ as Num>::dot(&big(&a), &big(&b));
                assert_eq!(d.text(), slow.canonical());
            }
        }
    }
}
