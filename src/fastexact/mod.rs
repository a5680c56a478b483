//! Exact evaluation in integers with common denominators: the fast path of
//! [`Network::evaluate`]`::<Rat>` (MATH.md §1–§2) and of the §8 group moments.
//!
//! Rational arithmetic with many different denominators spends most of its time in gcds
//! (every `+` and `·` reduces). Here every quantity of one kind shares ONE positive
//! denominator, fixed before the loop over points, so the loop does only integer `+` and
//! `·` and no gcd at all; each result is reduced once, at the very end.
//!
//! **Data** ([`ScaledData`]): `x = x̃ / D` with `x̃ ∈ ℤ^Q` and `D` the lcm of all input
//! denominators; targets `y_j = ỹ_j / E` likewise.
//!
//! **Network** ([`ScaledNetwork`]): layer `ℓ` as `[W_ℓ | b_ℓ] = [W̃_ℓ | b̃_ℓ] / d_ℓ` with one
//! denominator `d_ℓ` (the lcm of the layer's denominators) and integer `W̃_ℓ`, `b̃_ℓ`.
//!
//! **Forward pass.** If `h^{ℓ−1} = h̃ / H_{ℓ−1}` with the same `H_{ℓ−1} > 0` for every
//! point, then
//! `z^ℓ = W_ℓ h^{ℓ−1} + b_ℓ = (W̃_ℓ h̃ + b̃_ℓ H_{ℓ−1}) / (d_ℓ H_{ℓ−1})`,
//! so `z̃^ℓ = W̃_ℓ h̃ + b̃_ℓ H_{ℓ−1}` and `H_ℓ = d_ℓ H_{ℓ−1}` (`H_0 = D`, `b̃_ℓ H_{ℓ−1}` is
//! computed once). Because `H_ℓ > 0`, `sign z^ℓ_m = sign z̃^ℓ_m`: patterns, the exact-zero
//! test and ReLU (`h̃^ℓ = max(z̃^ℓ, 0)`) act on numerators alone.
//!
//! **Residuals and cost.** With `R = lcm(H_{L+1}, E)`, `r = f − y = r̃ / R`,
//! `r̃ = f̃ · (R/H_{L+1}) − ỹ · (R/E)`; `SSE = Σ |r̃|² / R²`.
//!
//! **Margin** (MATH.md §2). Within layer `ℓ` all pre-activations share `H_ℓ`, so the layer
//! minimum of `|z^ℓ_m|` and its first location are found by comparing `|z̃|`. Across layers
//! the denominators differ: the per-layer minima are compared exactly by cross-multiplication
//! (`a/H_ℓ < a'/H_{ℓ'} ⇔ a H_{ℓ'} < a' H_ℓ`), and ties go to the earliest (point, layer) —
//! the first occurrence in (class, point, layer, neuron) order, as in the naive pass.
//!
//! **Gradient** (MATH.md §2). Backpropagation `δ^{L+1} = r`, `δ^ℓ = D_ℓ W_{ℓ+1}ᵀ δ^{ℓ+1}`
//! becomes `δ̃^ℓ = D_ℓ W̃_{ℓ+1}ᵀ δ̃^{ℓ+1}` with denominator `Δ_ℓ = Δ_{ℓ+1} d_{ℓ+1}`,
//! `Δ_{L+1} = R`. Hence `Σ_points δ^ℓ (h^{ℓ−1})ᵀ = (Σ δ̃^ℓ (h̃^{ℓ−1})ᵀ) / (Δ_ℓ H_{ℓ−1})` and
//! `Σ δ^ℓ = (Σ δ̃^ℓ) / Δ_ℓ`: integer sums over the points over a known denominator, finally
//! scaled by `1/N` (`2/N` for the `1/N` normalisation) and reduced once per entry.
//!
//! **Group moments** (MATH.md §6, §8): per pattern group, `Σ x̃`, `Σ x̃ x̃ᵀ` per group and
//! `Σ x̃` and counts per class, all integers over `D`, `D²`, `D E`, `E`, `E²`.
//!
//! Results are exactly those of the naive rational pass (every [`Rat`] is in lowest terms,
//! so equal values are equal representations). Points are processed in fixed-size chunks in
//! parallel and the partial integer sums are combined in chunk order, so nothing depends on
//! the number of threads. Each chunk is first tried in `i128` with checked arithmetic and
//! redone in big integers ([`Int`]) when any operation would overflow. In the shortcut mode
//! every layer reads `x̃` directly, so the layers are independent: when only the output
//! layer (typically a least-squares fit with large denominators) overflows, the hidden
//! layers (patterns, margin, spread) run in `i128` and the output layer (outputs, residuals,
//! `SSE`) in big integers, on the same numerators.
//!
//! **Class by class** (`fastexact/classwise.rs`): in shortcut mode the hidden layers are first tried
//! per class, from the least and largest value of each row functional over the class's
//! points (cached per data set, so the shared cone rows are scanned once for all
//! configurations); when every class is uniform (each layer all `> 0` or all `< 0` on the
//! whole class) the patterns, switch-off layers, margin and spread follow without a pass over
//! the points, and only the output layer runs point by point. Points of one class switched
//! off at one layer share their residual, so its square is computed once.
//!
//! When the common data denominator would exceed [`MAX_DENOMINATOR_BITS`] (data with many
//! unrelated denominators) the naive per-point rational code is used instead: same results.
//!
//! **API.** [`evaluate_exact`] (also `Network::evaluate_exact`): the full [`Evaluation`];
//! [`cost_margin_exact`]: cost and margin only, no backpropagation (step searches);
//! [`group_moments`]: the §8 statistics; [`ExactData`] scales the data once for many calls.
//! `Network::evaluate` stays the generic naive reference (and the `f64` cross-check path);
//! `tests/fastexact.rs` checks the equality field by field.

use crate::arith::{Int, Rat};
use crate::data::{ClassStats, Dataset};
use crate::lsq::Moments;
use crate::network::{Evaluation, F64Data, Location, Network, Normalisation};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

mod classwise;
mod shortcut;
pub use shortcut::Spread;

/// Points per parallel chunk (fixed, so results are independent of the thread count).
pub const CHUNK: usize = 256;

/// Largest common data denominator (in bits) for which the integer path is used; beyond it
/// [`ScaledData::new`] declines and the callers fall back to the naive rational code.
pub const MAX_DENOMINATOR_BITS: u64 = 2048;

/// Beyond [`MAX_DENOMINATOR_BITS`], the integer path is still used while the scaled inputs
/// (`N·Q` numerators over the common denominator `D`) take at most this many times the bits
/// of the data itself (and at most [`MAX_SCALED_BITS`]): few points with large unrelated
/// denominators (`D` is then at most `N·Q` times one coordinate), where the naive rational
/// code would spend its time in a gcd at every operation on numbers as large as the output
/// layer's.
pub const MAX_SCALED_BLOWUP: u64 = 64;

/// The most bits the scaled inputs may take beyond the [`MAX_DENOMINATOR_BITS`] rule (1 GiB).
pub const MAX_SCALED_BITS: u64 = 1 << 33;

/// The largest common denominator (in bits) [`ScaledData::new`] accepts for `data`:
/// [`MAX_DENOMINATOR_BITS`], or, when that is larger, [`MAX_SCALED_BLOWUP`] times the mean
/// bit size of an input coordinate, capped so that the `N·Q` scaled inputs take at most
/// [`MAX_SCALED_BITS`].
pub fn denominator_bit_limit(data: &Dataset) -> u64 {
    let (mut coords, mut bits) = (0u64, 0u64);
    for v in data.classes.iter().flat_map(|c| c.inputs.iter().flatten()) {
        coords += 1;
        bits = bits.saturating_add(v.bit_size());
    }
    let mean = bits.checked_div(coords).unwrap_or(0);
    let cap = MAX_SCALED_BITS.checked_div(coords).unwrap_or(0);
    MAX_DENOMINATOR_BITS.max(mean.saturating_mul(MAX_SCALED_BLOWUP).min(cap))
}

// ---------------------------------------------------------------------------------------
// Scaled data and network
// ---------------------------------------------------------------------------------------

/// The data scaled to integers with one common denominator: `x = x̃ / D`, `y_j = ỹ_j / E`.
#[derive(Clone, Debug)]
pub struct ScaledData {
    /// `Q`, the dimension of inputs and targets.
    pub q: usize,
    /// `D > 0`, the lcm of all input denominators.
    pub denom: Int,
    /// `x̃` of every point in data order (class by class), row-major `N × Q`.
    pub inputs: Vec<Int>,
    /// `(class, point)` (0-based) of every point in data order.
    pub points: Vec<(usize, usize)>,
    /// `E > 0`, the lcm of all target denominators.
    pub target_denom: Int,
    /// `ỹ_j` for every class.
    pub targets: Vec<Vec<Int>>,
    /// `x̃` as `i128` when every entry fits in an `i64` (machine-integer fast path).
    small: Option<Vec<i128>>,
    /// The points of each class (data order, 0-based), `points[classes[j]]`.
    pub classes: Vec<std::ops::Range<usize>>,
    /// Per-class extremes of row functionals, shared by every evaluation on this data
    /// ([`classwise`]).
    extremes: std::sync::Arc<classwise::RowExtremes>,
}

/// `lcm` of the denominators of `vals`, `None` once it exceeds `max_bits`.
fn lcm_denoms<'a>(vals: impl Iterator<Item = &'a Rat>, max_bits: u64) -> Option<Int> {
    let mut d = Int::one();
    let mut last = Int::one();
    for v in vals {
        if v.is_integer() {
            continue;
        }
        let den = v.denom();
        if den != last {
            d = d.lcm(&den);
            if d.bit_size() > max_bits {
                return None;
            }
            last = den;
        }
    }
    Some(d)
}

/// `v · common` as an integer, where `den(v)` divides `common`; `cache` holds the last
/// `(den, common/den)`.
fn scale_to(v: &Rat, common: &Int, cache: &mut (Int, Int)) -> Int {
    if v.is_integer() {
        return &v.numer() * common;
    }
    let den = v.denom();
    if den != cache.0 {
        cache.1 = common.div_exact(&den);
        cache.0 = den;
    }
    &v.numer() * &cache.1
}

impl ScaledData {
    /// Scale `data` (in parallel over chunks of points; deterministic). `None` when the
    /// common input denominator has more than [`MAX_DENOMINATOR_BITS`] bits.
    pub fn new(data: &Dataset) -> Option<ScaledData> {
        let q = data.q;
        let points: Vec<(usize, usize)> = data
            .classes
            .iter()
            .enumerate()
            .flat_map(|(j, c)| (0..c.inputs.len()).map(move |i| (j, i)))
            .collect();
        let input = |&(j, i): &(usize, usize)| &data.classes[j].inputs[i];
        let max_bits = denominator_bit_limit(data);
        let partial: Vec<Option<Int>> = points
            .par_chunks(CHUNK)
            .map(|ch| lcm_denoms(ch.iter().flat_map(input), max_bits))
            .collect();
        let mut denom = Int::one();
        for p in partial {
            denom = denom.lcm(&p?);
            if denom.bit_size() > max_bits {
                return None;
            }
        }
        let inputs: Vec<Int> = points
            .par_chunks(CHUNK)
            .flat_map_iter(|ch| {
                let mut cache = (Int::one(), denom.clone());
                let mut out = Vec::with_capacity(ch.len() * q);
                for p in ch {
                    out.extend(input(p).iter().map(|v| scale_to(v, &denom, &mut cache)));
                }
                out
            })
            .collect();
        let target_denom = lcm_denoms(data.classes.iter().flat_map(|c| c.target.iter()), u64::MAX)
            .expect("no bit limit");
        let mut cache = (Int::one(), target_denom.clone());
        let targets = data
            .classes
            .iter()
            .map(|c| {
                c.target
                    .iter()
                    .map(|v| scale_to(v, &target_denom, &mut cache))
                    .collect()
            })
            .collect();
        let small = inputs
            .iter()
            .map(|v| v.to_i64().map(i128::from))
            .collect::<Option<Vec<i128>>>();
        let mut start = 0;
        let classes = (data.classes.iter())
            .map(|c| {
                start += c.inputs.len();
                start - c.inputs.len()..start
            })
            .collect();
        Some(ScaledData {
            q,
            denom,
            inputs,
            points,
            target_denom,
            targets,
            small,
            classes,
            extremes: Default::default(),
        })
    }
    /// `N`, the number of points.
    pub fn n(&self) -> usize {
        self.points.len()
    }
    /// `x̃` of point `p` (0-based, data order).
    pub fn input(&self, p: usize) -> &[Int] {
        &self.inputs[p * self.q..(p + 1) * self.q]
    }
}

/// One layer as integers over one denominator: `[W | b] = [W̃ | b̃] / d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaledLayer {
    /// `d > 0`, the lcm of the denominators of `W` and `b`.
    pub denom: Int,
    /// `W̃ = d W`, row-major `Q × Q`.
    pub w: Vec<Int>,
    /// `b̃ = d b`.
    pub b: Vec<Int>,
}

/// A network with every layer scaled to integers ([`ScaledLayer`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaledNetwork {
    /// `Q`.
    pub q: usize,
    /// Layers `1..L+1`.
    pub layers: Vec<ScaledLayer>,
}

impl ScaledNetwork {
    /// Scale every layer of `net` to its own common denominator.
    pub fn new(net: &Network) -> ScaledNetwork {
        let layers = net
            .layers
            .iter()
            .map(|l| {
                let denom =
                    lcm_denoms(l.w.data.iter().chain(&l.b), u64::MAX).expect("no bit limit");
                let mut cache = (Int::one(), denom.clone());
                let w =
                    l.w.data
                        .iter()
                        .map(|v| scale_to(v, &denom, &mut cache))
                        .collect();
                let b =
                    l.b.iter()
                        .map(|v| scale_to(v, &denom, &mut cache))
                        .collect();
                ScaledLayer { denom, w, b }
            })
            .collect();
        ScaledNetwork {
            q: net.width(),
            layers,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Integer kernels: big integers, or i128 with overflow detection
// ---------------------------------------------------------------------------------------

/// The integer operations of the per-point loop. Fallible operations return `None` on
/// overflow (never for [`Int`]).
trait Num: Clone + Send + Sync + Sized {
    fn zero() -> Self;
    fn from_int(x: &Int) -> Option<Self>;
    fn to_int(&self) -> Int;
    fn signum(&self) -> i32;
    fn is_zero(&self) -> bool {
        self.signum() == 0
    }
    fn cmp_abs(&self, other: &Self) -> Ordering;
    /// `self < other`.
    fn lt(&self, other: &Self) -> bool;
    fn abs(&self) -> Option<Self>;
    fn set(&mut self, src: &Self);
    /// `self += a·b`.
    fn add_mul(&mut self, a: &Self, b: &Self) -> Option<()>;
    /// `self += a`.
    fn add(&mut self, a: &Self) -> Option<()>;
    /// `self = a·b − c`.
    fn set_mul_sub(&mut self, a: &Self, b: &Self, c: &Self) -> Option<()>;
    /// The scaled inputs in this representation, if available.
    fn inputs(sd: &ScaledData) -> Option<&[Self]>;
}

impl Num for Int {
    fn zero() -> Self {
        Int::zero()
    }
    fn from_int(x: &Int) -> Option<Self> {
        Some(x.clone())
    }
    fn to_int(&self) -> Int {
        self.clone()
    }
    fn signum(&self) -> i32 {
        Int::signum(self)
    }
    fn cmp_abs(&self, other: &Self) -> Ordering {
        Int::cmp_abs(self, other)
    }
    fn lt(&self, other: &Self) -> bool {
        self < other
    }
    fn abs(&self) -> Option<Self> {
        Some(Int::abs(self))
    }
    fn set(&mut self, src: &Self) {
        self.clone_from(src);
    }
    fn add_mul(&mut self, a: &Self, b: &Self) -> Option<()> {
        self.add_mul_assign(a, b);
        Some(())
    }
    fn add(&mut self, a: &Self) -> Option<()> {
        *self += a;
        Some(())
    }
    fn set_mul_sub(&mut self, a: &Self, b: &Self, c: &Self) -> Option<()> {
        *self = -c;
        self.add_mul_assign(a, b);
        Some(())
    }
    fn inputs(sd: &ScaledData) -> Option<&[Self]> {
        Some(&sd.inputs)
    }
}

impl Num for i128 {
    fn zero() -> Self {
        0
    }
    fn from_int(x: &Int) -> Option<Self> {
        x.to_i128()
    }
    fn to_int(&self) -> Int {
        Int::from_i128(*self)
    }
    fn signum(&self) -> i32 {
        i128::signum(*self) as i32
    }
    fn cmp_abs(&self, other: &Self) -> Ordering {
        self.unsigned_abs().cmp(&other.unsigned_abs())
    }
    fn lt(&self, other: &Self) -> bool {
        self < other
    }
    fn abs(&self) -> Option<Self> {
        self.checked_abs()
    }
    fn set(&mut self, src: &Self) {
        *self = *src;
    }
    fn add_mul(&mut self, a: &Self, b: &Self) -> Option<()> {
        *self = self.checked_add(a.checked_mul(*b)?)?;
        Some(())
    }
    fn add(&mut self, a: &Self) -> Option<()> {
        *self = self.checked_add(*a)?;
        Some(())
    }
    fn set_mul_sub(&mut self, a: &Self, b: &Self, c: &Self) -> Option<()> {
        *self = a.checked_mul(*b)?.checked_sub(*c)?;
        Some(())
    }
    fn inputs(sd: &ScaledData) -> Option<&[Self]> {
        sd.small.as_deref()
    }
}

/// Denominators shared by all points (see the module documentation).
struct Denoms {
    /// `H_0 = D`, `H_{ℓ} = d_ℓ H_{ℓ−1}`, for `ℓ = 0..L+1` (index = layer).
    h: Vec<Int>,
    /// `R = lcm(H_{L+1}, E)`.
    r: Int,
    /// `Δ_ℓ` for layers `1..L+1` (index `ℓ − 1`).
    delta: Vec<Int>,
}

impl Denoms {
    fn new(sn: &ScaledNetwork, sd: &ScaledData) -> Denoms {
        let mut h = vec![sd.denom.clone()];
        for l in &sn.layers {
            let next = &l.denom * h.last().expect("nonempty");
            h.push(next);
        }
        let r = h.last().expect("nonempty").lcm(&sd.target_denom);
        let nl = sn.layers.len();
        let mut delta = vec![Int::one(); nl];
        delta[nl - 1] = r.clone();
        for l in (0..nl - 1).rev() {
            delta[l] = &delta[l + 1] * &sn.layers[l + 1].denom;
        }
        Denoms { h, r, delta }
    }
}

/// The network and targets in representation `N`.
struct Kernel<'a, N> {
    q: usize,
    nl: usize,
    /// `W̃_ℓ` row-major.
    w: Vec<Vec<N>>,
    /// `b̃_ℓ H_{ℓ−1}`.
    bh: Vec<Vec<N>>,
    /// `R / H_{L+1}`.
    fmul: N,
    /// `ỹ_j R / E` per class.
    ty: Vec<Vec<N>>,
    /// `x̃`, row-major.
    x: &'a [N],
    /// Shortcut mode ([`shortcut`]): every layer reads `x̃` (`w` holds the prefix maps), and
    /// `off.chain(k)` are the numerators of `z̃^ℓ`, `ℓ > k`, once `h^k = 0`.
    off: Option<shortcut::Suffixes<N>>,
    /// Shortcut mode: the output `f` once `h^k = 0`, in lowest terms (copied, not reduced
    /// again per point).
    off_f: Vec<Vec<Rat>>,
    /// `off_f` rounded to `f64` (for `round`).
    off_f64: Vec<Vec<f64>>,
    /// Round the outputs to `f64` ([`Int::ratio_to_f64`]) into `Part::rounded` instead of
    /// keeping them exact in `Part::outputs`.
    round: bool,
    /// Shortcut mode, hidden layers only ([`Kernel::from_parts`] without denominators): the
    /// output layer, `fmul` and
    /// `ty` are placeholders and [`run_chunk`] stops after the patterns, recording in
    /// `Part::offs` where each point switched off; [`output_chunk`] does the rest.
    hidden_only: bool,
}

/// `v` in representation `N` (`None` if some entry does not fit).
fn conv<N: Num>(v: &[Int]) -> Option<Vec<N>> {
    v.iter().map(N::from_int).collect()
}

impl<'a, N: Num> Kernel<'a, N> {
    fn new(sn: &ScaledNetwork, sd: &'a ScaledData, den: &Denoms) -> Option<Kernel<'a, N>> {
        let w: Vec<&[Int]> = sn.layers.iter().map(|l| &l.w[..]).collect();
        let bh: Vec<Vec<Int>> = (sn.layers.iter().zip(&den.h))
            .map(|(l, h)| l.b.iter().map(|b| b * h).collect())
            .collect();
        Kernel::from_parts(sn.q, &w, &bh, sd, Some(den))
    }
    /// The kernel of numerators `w[ℓ]` (row-major) and `bh[ℓ]` over the denominators `den`.
    /// Without `den`, the kernel of the hidden layers only (`hidden_only`): only they must
    /// fit in `N`; the output layer, `fmul` and `ty` are zero placeholders.
    fn from_parts(
        q: usize,
        w: &[&[Int]],
        bh: &[Vec<Int>],
        sd: &'a ScaledData,
        den: Option<&Denoms>,
    ) -> Option<Kernel<'a, N>> {
        let nl = w.len();
        let layers = nl - den.is_none() as usize;
        let mut wn = w[..layers]
            .iter()
            .map(|l| conv(l))
            .collect::<Option<Vec<_>>>()?;
        let mut bn = bh[..layers]
            .iter()
            .map(|b| conv(b))
            .collect::<Option<Vec<_>>>()?;
        let (fmul, ty) = match den {
            Some(den) => {
                let ymul = den.r.div_exact(&sd.target_denom);
                let ty = (sd.targets.iter())
                    .map(|t| conv(&t.iter().map(|v| v * &ymul).collect::<Vec<_>>()))
                    .collect::<Option<Vec<_>>>()?;
                (N::from_int(&den.r.div_exact(&den.h[nl]))?, ty)
            }
            None => {
                wn.push(vec![N::zero(); q * q]);
                bn.push(vec![N::zero(); q]);
                (N::zero(), vec![vec![N::zero(); q]; sd.targets.len()])
            }
        };
        Some(Kernel {
            q,
            nl,
            w: wn,
            bh: bn,
            fmul,
            ty,
            x: N::inputs(sd)?,
            off: None,
            off_f: Vec::new(),
            off_f64: Vec::new(),
            round: false,
            hidden_only: den.is_none(),
        })
    }
}

/// Partial results of one chunk of points.
struct Part<N> {
    outputs: Vec<Vec<Rat>>,
    /// With `Kernel::round`: the outputs rounded to `f64`, row-major.
    rounded: Vec<f64>,
    patterns: Vec<Vec<bool>>,
    sse: N,
    /// Per hidden layer: smallest `|z̃|`, and its point (0-based, data order) and neuron.
    margin: Vec<Option<(N, usize, usize)>>,
    zero_seen: bool,
    /// Per layer: `Σ δ̃ h̃ᵀ` row-major, then `Σ δ̃`.
    grad: Vec<Vec<N>>,
    /// Shortcut mode with `full`: the numerators of [`shortcut::Spread`].
    spread: Vec<Vec<(Option<N>, Option<N>)>>,
    on_rsum: Vec<N>,
    on_count: usize,
    /// With `Kernel::hidden_only`: per point, the hidden layer (0-based) that switched it
    /// off.
    offs: Vec<Option<usize>>,
}

impl<N: Num> Part<N> {
    /// Empty sums for `len` points of kernel `k`.
    fn new(k: &Kernel<'_, N>, len: usize) -> Part<N> {
        let (q, nl) = (k.q, k.nl);
        Part {
            outputs: Vec::with_capacity(if k.round { 0 } else { len }),
            rounded: Vec::with_capacity(if k.round { len * q } else { 0 }),
            patterns: Vec::with_capacity(len),
            sse: N::zero(),
            margin: vec![None; nl - 1],
            zero_seen: false,
            grad: (0..nl).map(|_| vec![N::zero(); q * q + q]).collect(),
            spread: vec![vec![(None, None); q]; nl - 1],
            on_rsum: vec![N::zero(); q],
            on_count: 0,
            offs: Vec::with_capacity(if k.hidden_only { len } else { 0 }),
        }
    }
    fn into_int(self) -> Part<Int> {
        Part {
            outputs: self.outputs,
            rounded: self.rounded,
            patterns: self.patterns,
            sse: self.sse.to_int(),
            margin: self
                .margin
                .into_iter()
                .map(|m| m.map(|(v, p, k)| (v.to_int(), p, k)))
                .collect(),
            zero_seen: self.zero_seen,
            grad: self
                .grad
                .into_iter()
                .map(|g| g.iter().map(N::to_int).collect())
                .collect(),
            spread: (self.spread.iter())
                .map(|l| {
                    l.iter()
                        .map(|(a, b)| (a.as_ref().map(N::to_int), b.as_ref().map(N::to_int)))
                        .collect()
                })
                .collect(),
            on_rsum: self.on_rsum.iter().map(N::to_int).collect(),
            on_count: self.on_count,
            offs: self.offs,
        }
    }
}

/// `h̃_k` is used in a product: nonzero, and positive after a ReLU.
#[inline]
fn active<N: Num>(v: &N, relu: bool) -> bool {
    let s = v.signum();
    if relu {
        s > 0
    } else {
        s != 0
    }
}

/// Why [`run_chunk`] stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// An `i128` operation would overflow (redo in [`Int`]).
    Overflow,
    /// Shortcut mode met a hidden layer neither all `> 0` nor all `< 0` before any layer
    /// was switched off (use the layer-by-layer kernel).
    Mixed,
}

/// `?` on an overflow-checked operation.
trait OrOverflow<T> {
    fn ov(self) -> Result<T, Stop>;
}
impl<T> OrOverflow<T> for Option<T> {
    fn ov(self) -> Result<T, Stop> {
        self.ok_or(Stop::Overflow)
    }
}

/// The per-point loop over points `range` (data order). Without `full` only the cost and
/// the margin are computed (no outputs, patterns or gradient). In shortcut mode (`k.off`)
/// the gradient sums are not accumulated (see [`shortcut`]).
fn run_chunk<N: Num>(
    k: &Kernel<'_, N>,
    sd: &ScaledData,
    out_den: &Int,
    range: std::ops::Range<usize>,
    full: bool,
) -> Result<Part<N>, Stop> {
    let (q, nl) = (k.q, k.nl);
    let mut part = Part::new(k, range.len());
    // zs[l] = z̃ of layer l + 1 (the last one is f̃).
    let mut zs: Vec<Vec<N>> = (0..nl).map(|_| vec![N::zero(); q]).collect();
    let mut r = vec![N::zero(); q];
    let mut next = vec![N::zero(); q];
    for p in range {
        let x = &k.x[p * q..(p + 1) * q];
        let j = sd.points[p].0;
        let mut off_at: Option<usize> = None;
        let mut rest = None;
        for l in 0..nl - k.hidden_only as usize {
            let (prev, cur) = zs.split_at_mut(l);
            if let Some(vals) = rest.as_mut().and_then(|c: &mut _| Iterator::next(c)) {
                for (zm, v) in cur[0].iter_mut().zip(vals) {
                    zm.set(v);
                }
                continue;
            }
            let (input, relu): (&[N], bool) = if l == 0 || k.off.is_some() {
                (x, false)
            } else {
                (&prev[l - 1], true)
            };
            let w = &k.w[l];
            for (m, zm) in cur[0].iter_mut().enumerate() {
                zm.set(&k.bh[l][m]);
                for (a, v) in w[m * q..(m + 1) * q].iter().zip(input) {
                    if !a.is_zero() && active(v, relu) {
                        zm.add_mul(a, v).ov()?;
                    }
                }
            }
            if k.off.is_some() && l + 1 < nl {
                let off = cur[0].iter().all(|v| v.signum() < 0);
                if off {
                    off_at = Some(l);
                    rest = k.off.as_ref().map(|o| o.chain(l));
                } else if !cur[0].iter().all(|v| v.signum() > 0) {
                    return Err(Stop::Mixed);
                }
                if full {
                    for (e, v) in part.spread[l].iter_mut().zip(cur[0].iter()) {
                        match off {
                            false if e.0.as_ref().is_none_or(|b| v.lt(b)) => e.0 = Some(v.clone()),
                            true if e.1.as_ref().is_none_or(|b| b.lt(v)) => e.1 = Some(v.clone()),
                            _ => {}
                        }
                    }
                }
            }
        }
        let mut pat = Vec::with_capacity(if full { (nl - 1) * q } else { 0 });
        for (l, z) in zs[..nl - 1].iter().enumerate() {
            for (m, v) in z.iter().enumerate() {
                let s = v.signum();
                if full {
                    pat.push(s > 0);
                }
                if s == 0 {
                    part.zero_seen = true;
                }
                let better = match &part.margin[l] {
                    None => true,
                    Some((best, _, _)) => v.cmp_abs(best) == Ordering::Less,
                };
                if better {
                    part.margin[l] = Some((v.abs().ov()?, p, m));
                }
            }
        }
        if k.hidden_only {
            part.offs.push(off_at);
            if full {
                part.patterns.push(pat);
            }
            continue;
        }
        finish_point(k, &mut part, &zs[nl - 1], &mut r, j, off_at, out_den, full)?;
        if !full {
            continue;
        }
        part.patterns.push(pat);
        if part.zero_seen || k.off.is_some() {
            continue;
        }
        // Backpropagation of r̃ (MATH.md §2), integer numerators over Δ_ℓ.
        let mut delta = std::mem::take(&mut r);
        for l in (0..nl).rev() {
            let (input, relu): (&[N], bool) = if l == 0 {
                (x, false)
            } else {
                (&zs[l - 1], true)
            };
            let g = &mut part.grad[l];
            for (m, dm) in delta.iter().enumerate() {
                if dm.is_zero() {
                    continue;
                }
                for (kk, hk) in input.iter().enumerate() {
                    if active(hk, relu) {
                        g[m * q + kk].add_mul(dm, hk).ov()?;
                    }
                }
                g[q * q + m].add(dm).ov()?;
            }
            if l == 0 {
                break;
            }
            let w = &k.w[l];
            for (kk, nk) in next.iter_mut().enumerate() {
                nk.set(&N::zero());
                if zs[l - 1][kk].signum() <= 0 {
                    continue;
                }
                for (m, dm) in delta.iter().enumerate() {
                    let a = &w[m * q + kk];
                    if !a.is_zero() && !dm.is_zero() {
                        nk.add_mul(a, dm).ov()?;
                    }
                }
            }
            std::mem::swap(&mut delta, &mut next);
        }
        r = delta;
    }
    Ok(part)
}

/// The residual, `SSE` and (with `full`) `Σ r` of the never-switched-off points and the
/// output (exact or rounded) of one point with output numerators `f` (`off_at`: the hidden
/// layer that switched it off, in shortcut mode).
#[allow(clippy::too_many_arguments)]
fn finish_point<N: Num>(
    k: &Kernel<'_, N>,
    part: &mut Part<N>,
    f: &[N],
    r: &mut [N],
    j: usize,
    off_at: Option<usize>,
    out_den: &Int,
    full: bool,
) -> Result<(), Stop> {
    for ((rm, fm), tm) in r.iter_mut().zip(f).zip(&k.ty[j]) {
        rm.set_mul_sub(fm, &k.fmul, tm).ov()?;
        part.sse.add_mul(rm, rm).ov()?;
    }
    if !full {
        return Ok(());
    }
    if k.off.is_some() && off_at.is_none() {
        for (s, rm) in part.on_rsum.iter_mut().zip(r.iter()) {
            s.add(rm).ov()?;
        }
        part.on_count += 1;
    }
    push_output(k, part, f, off_at, out_den);
    Ok(())
}

/// The output (exact or rounded, `Kernel::round`) of one point with output numerators `f`,
/// or the switched-off constant.
fn push_output<N: Num>(
    k: &Kernel<'_, N>,
    part: &mut Part<N>,
    f: &[N],
    off_at: Option<usize>,
    out_den: &Int,
) {
    match (off_at, k.round) {
        (Some(o), false) => part.outputs.push(k.off_f[o].clone()),
        (Some(o), true) => part.rounded.extend_from_slice(&k.off_f64[o]),
        (None, false) => part.outputs.push(
            f.iter()
                .map(|v| Rat::from_ints(&v.to_int(), out_den).expect("positive denominator"))
                .collect(),
        ),
        (None, true) => {
            (part.rounded).extend(f.iter().map(|v| Int::ratio_to_f64(&v.to_int(), out_den)))
        }
    }
}

/// Shortcut mode, the output layer alone: given where each point of `range` switched off
/// (`offs`, from a hidden-only pass), `f̃ = w[L] x̃ + bh[L]` (the output prefix map)
/// or the switched-off constant, then [`finish_point`]. Patterns, margin and spread come
/// from the hidden pass.
fn output_chunk<N: Num>(
    k: &Kernel<'_, N>,
    sd: &ScaledData,
    out_den: &Int,
    range: std::ops::Range<usize>,
    offs: &[Option<usize>],
    full: bool,
) -> Result<Part<N>, Stop> {
    let (q, nl) = (k.q, k.nl);
    let mut part = Part::new(k, range.len());
    let off = k.off.as_ref().expect("shortcut mode");
    let (mut f, mut r) = (vec![N::zero(); q], vec![N::zero(); q]);
    let w = &k.w[nl - 1];
    // Points of one class switched off at one layer share their residual: `(class, layer,
    // Σ r̃²)` of the previous such point.
    let mut last: Option<(usize, usize, N)> = None;
    for (p, off_at) in range.zip(offs) {
        let j = sd.points[p].0;
        if let (Some(o), Some((lj, lo, rr))) = (off_at, &last) {
            if (*lj, *lo) == (j, *o) {
                part.sse.add(rr).ov()?;
                if full {
                    push_output(k, &mut part, &f, *off_at, out_den);
                }
                continue;
            }
        }
        match off_at {
            Some(o) => (f.iter_mut())
                .zip(off.output(*o))
                .for_each(|(fm, v)| fm.set(v)),
            None => {
                let x = &k.x[p * q..(p + 1) * q];
                for (m, fm) in f.iter_mut().enumerate() {
                    fm.set(&k.bh[nl - 1][m]);
                    for (a, v) in w[m * q..(m + 1) * q].iter().zip(x) {
                        if !a.is_zero() && !v.is_zero() {
                            fm.add_mul(a, v).ov()?;
                        }
                    }
                }
            }
        }
        finish_point(k, &mut part, &f, &mut r, j, *off_at, out_den, full)?;
        last = match off_at {
            Some(o) => {
                let mut rr = N::zero();
                for rm in &r {
                    rr.add_mul(rm, rm).ov()?;
                }
                Some((j, *o, rr))
            }
            None => None,
        };
    }
    Ok(part)
}

/// Data prepared once for many exact evaluations: scaled to integers ([`ScaledData`]) when
/// the common denominator is small enough, else evaluated by the naive rational code (same
/// results either way).
#[derive(Clone, Debug)]
pub struct ExactData<'a> {
    data: &'a Dataset,
    scaled: Option<ScaledData>,
    stats: std::sync::OnceLock<Vec<ClassStats>>,
    rounded: std::sync::OnceLock<F64Data>,
}

/// The cost and the margin of a network on the data (a light [`Evaluation`]: no outputs,
/// patterns or gradient), exactly as [`Network::evaluate`]`::<Rat>` gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CostMargin {
    /// The cost with the chosen normalisation.
    pub cost: Rat,
    /// `Σ |f − y|²`.
    pub sse: Rat,
    /// `min |z^ℓ_m(x)|` and its first location (`None` when `L = 0`).
    pub margin: Option<(Rat, Location)>,
}

impl<'a> ExactData<'a> {
    /// Scale `data` once (see [`ScaledData::new`]).
    pub fn new(data: &'a Dataset) -> ExactData<'a> {
        ExactData {
            data,
            scaled: ScaledData::new(data),
            stats: std::sync::OnceLock::new(),
            rounded: std::sync::OnceLock::new(),
        }
    }
    /// The data rounded to `f64` for the cross-check ([`F64Data`]), computed on first use.
    pub fn rounded(&self) -> &F64Data {
        self.rounded.get_or_init(|| F64Data::new(self.data))
    }
    /// [`Dataset::class_stats`], computed on first use.
    pub fn class_stats(&self) -> &[ClassStats] {
        self.stats.get_or_init(|| self.data.class_stats())
    }
    /// The data.
    pub fn data(&self) -> &'a Dataset {
        self.data
    }
    /// The scaled data, `None` when the fast path declined (huge common denominator).
    pub fn scaled(&self) -> Option<&ScaledData> {
        self.scaled.as_ref()
    }
    /// The full exact evaluation (see [`evaluate_exact`]).
    pub fn evaluate(&self, net: &Network, norm: Normalisation) -> Evaluation<Rat> {
        self.evaluate_spread(net, norm).0
    }
    /// [`ExactData::evaluate`], with the [`shortcut::Spread`] when the shortcut evaluation
    /// applied (for [`shortcut::Spread::shifted`]).
    pub fn evaluate_spread(
        &self,
        net: &Network,
        norm: Normalisation,
    ) -> (Evaluation<Rat>, Option<shortcut::Spread>) {
        let r = self.run(net, norm, false);
        (r.eval, r.spread)
    }
    /// [`ExactData::evaluate_spread`] for [`crate::certify::analyse_with`]: the outputs only
    /// rounded to `f64` (row-major; the float cross-check's `max_abs_output_error`), so
    /// `outputs` of the evaluation is empty.
    pub fn evaluate_rounded(
        &self,
        net: &Network,
        norm: Normalisation,
    ) -> (Evaluation<Rat>, Option<shortcut::Spread>, Vec<f64>) {
        let mut r = self.run(net, norm, true);
        // Paths without the rounding kernel keep exact outputs: round them here.
        if r.rounded.is_empty() {
            let out = std::mem::take(&mut r.eval.outputs);
            r.rounded = out.iter().flatten().map(Rat::to_f64).collect();
        }
        (r.eval, r.spread, r.rounded)
    }
    fn run(&self, net: &Network, norm: Normalisation, round: bool) -> Run {
        let plain = |eval| Run {
            eval,
            spread: None,
            rounded: Vec::new(),
        };
        match &self.scaled {
            Some(sd) => shortcut::evaluate(net, sd, norm, true, round)
                .unwrap_or_else(|| plain(evaluate_scaled(&ScaledNetwork::new(net), sd, norm))),
            None => plain(net.evaluate::<Rat>(self.data, norm)),
        }
    }
    /// Only the cost and the margin (no backpropagation, no outputs): for step searches.
    pub fn cost_margin(&self, net: &Network, norm: Normalisation) -> CostMargin {
        match &self.scaled {
            Some(sd) => {
                let e = shortcut::evaluate(net, sd, norm, false, false)
                    .map(|r| r.eval)
                    .unwrap_or_else(|| eval_core(&ScaledNetwork::new(net), sd, norm, false));
                CostMargin {
                    cost: e.cost,
                    sse: e.sse,
                    margin: e.margin,
                }
            }
            None => {
                let e = net.evaluate::<Rat>(self.data, norm);
                CostMargin {
                    cost: e.cost,
                    sse: e.sse,
                    margin: e.margin,
                }
            }
        }
    }
    /// The §8 group moments (see [`group_moments`]).
    pub fn group_moments<'p>(&self, patterns: &'p [Vec<bool>]) -> BTreeMap<&'p [bool], Moments> {
        match &self.scaled {
            Some(sd) => group_moments_scaled(sd, patterns),
            None => naive_group_moments(self.data, patterns),
        }
    }
}

/// Cost, margin, patterns, outputs and (when no pre-activation is exactly 0) the gradient of
/// `net` on `data`, exactly: the same [`Evaluation`] as [`Network::evaluate`]`::<Rat>`, field
/// by field, computed with integer numerators over common denominators.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::data::{Class, Dataset};
/// use dlgeom_cert::fastexact::evaluate_exact;
/// use dlgeom_cert::matrix::Matrix;
/// use dlgeom_cert::network::{Layer, Network, Normalisation};
/// let r = |s: &str| Rat::parse(s).unwrap();
/// let data = Dataset::from_classes(vec![Class {
///     name: None,
///     target: vec![r("1")],
///     target_given: true,
///     inputs: vec![vec![r("0.5")], vec![r("-1/3")]],
/// }]).unwrap();
/// let net = Network { layers: vec![
///     Layer { w: Matrix::from_vec(1, 1, vec![r("2/7")]), b: vec![r("0.1")] },
///     Layer { w: Matrix::from_vec(1, 1, vec![r("3")]), b: vec![r("-1/2")] },
/// ]};
/// let fast = evaluate_exact(&net, &data, Normalisation::HalfMean);
/// let naive = net.evaluate::<Rat>(&data, Normalisation::HalfMean);
/// assert_eq!(fast.cost, naive.cost);
/// assert_eq!(fast.gradient, naive.gradient);
/// assert_eq!(fast.margin, naive.margin);
/// ```
pub fn evaluate_exact(net: &Network, data: &Dataset, norm: Normalisation) -> Evaluation<Rat> {
    ExactData::new(data).evaluate(net, norm)
}

/// The cost and the margin only (see [`ExactData::cost_margin`]).
pub fn cost_margin_exact(net: &Network, data: &Dataset, norm: Normalisation) -> CostMargin {
    ExactData::new(data).cost_margin(net, norm)
}

/// [`evaluate_exact`] on data already scaled (reuse one [`ScaledData`] for many networks).
pub fn evaluate_scaled(
    sn: &ScaledNetwork,
    sd: &ScaledData,
    norm: Normalisation,
) -> Evaluation<Rat> {
    eval_core(sn, sd, norm, true)
}

/// The evaluation; without `full`, `outputs` and `patterns` are empty and `gradient` is
/// `None` (only cost, sse and margin are meaningful).
fn eval_core(
    sn: &ScaledNetwork,
    sd: &ScaledData,
    norm: Normalisation,
    full: bool,
) -> Evaluation<Rat> {
    let den = Denoms::new(sn, sd);
    let small: Option<Kernel<'_, i128>> = Kernel::new(sn, sd, &den);
    let big: Kernel<'_, Int> = Kernel::new(sn, sd, &den).expect("Int never overflows");
    run_kernels(&den, small, None, &big, sd, norm, full)
        .expect("only shortcut mode stops early")
        .eval
}

/// Run the kernel over all points in chunks and combine. In shortcut mode the gradient is
/// left `None` (the caller computes it from the group moments); `Err(Stop::Mixed)` when
/// shortcut mode does not apply.
fn run_kernels(
    den: &Denoms,
    small: Option<Kernel<'_, i128>>,
    hidden: Option<Kernel<'_, i128>>,
    big: &Kernel<'_, Int>,
    sd: &ScaledData,
    norm: Normalisation,
    full: bool,
) -> Result<Run, Stop> {
    let nl = den.h.len() - 1;
    let n = sd.n();
    let out_den = &den.h[nl];
    let ranges: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(CHUNK)
        .map(|s| s..(s + CHUNK).min(n))
        .collect();
    // Once some chunk overflowed `i128`, later chunks go straight to big integers (both give
    // the same integers, so this affects only the speed, never the result).
    // Likewise for the split (hidden layers in `i128`, output layer in big integers).
    let overflowed = AtomicBool::new(false);
    let hidden_overflowed = AtomicBool::new(false);
    // Shortcut mode: the hidden layers class by class from the shared row extremes
    // ([`classwise`]) when every class is uniform; the output layer point by point.
    let by_class = (big.off.is_some())
        .then(|| hidden.as_ref().or(small.as_ref()))
        .flatten()
        .and_then(|k| classwise::hidden(k, sd, full));
    if let Some(h) = by_class {
        let outputs = ranges
            .into_par_iter()
            .map(|range| {
                let offs = &h.offs[range.clone()];
                if let Some(k) = small.as_ref().filter(|_| !overflowed.load(Relaxed)) {
                    match output_chunk(k, sd, out_den, range.clone(), offs, full) {
                        Ok(part) => return Ok(part.into_int()),
                        Err(_) => overflowed.store(true, Relaxed),
                    }
                }
                output_chunk(big, sd, out_den, range, offs, full)
            })
            .collect::<Result<Vec<_>, Stop>>()?;
        let parts = std::iter::once(h.into_int()).chain(outputs).collect();
        return Ok(combine(parts, den, big, sd, norm, full));
    }
    let parts: Vec<Part<Int>> = ranges
        .into_par_iter()
        .map(|range| {
            if let Some(k) = small.as_ref().filter(|_| !overflowed.load(Relaxed)) {
                match run_chunk(k, sd, out_den, range.clone(), full) {
                    Ok(part) => return Ok(part.into_int()),
                    Err(Stop::Mixed) => return Err(Stop::Mixed),
                    Err(Stop::Overflow) => overflowed.store(true, Relaxed),
                }
            }
            if let Some(k) = hidden.as_ref().filter(|_| !hidden_overflowed.load(Relaxed)) {
                match run_chunk(k, sd, out_den, range.clone(), full) {
                    Ok(h) => {
                        let o = output_chunk(big, sd, out_den, range, &h.offs, full)?;
                        let mut part = h.into_int();
                        part.outputs = o.outputs;
                        part.rounded = o.rounded;
                        part.sse = o.sse;
                        part.on_rsum = o.on_rsum;
                        part.on_count = o.on_count;
                        return Ok(part);
                    }
                    Err(Stop::Mixed) => return Err(Stop::Mixed),
                    Err(Stop::Overflow) => hidden_overflowed.store(true, Relaxed),
                }
            }
            run_chunk(big, sd, out_den, range, full)
        })
        .collect::<Result<_, Stop>>()?;
    Ok(combine(parts, den, big, sd, norm, full))
}

/// The chunks' partial results combined in chunk order into the [`Run`].
fn combine(
    parts: Vec<Part<Int>>,
    den: &Denoms,
    big: &Kernel<'_, Int>,
    sd: &ScaledData,
    norm: Normalisation,
    full: bool,
) -> Run {
    let (q, n) = (sd.q, sd.n());
    let nl = den.h.len() - 1;
    let mut outputs = Vec::with_capacity(if big.round { 0 } else { n });
    let mut rounded = Vec::with_capacity(if big.round { n * q } else { 0 });
    let mut patterns = Vec::with_capacity(n);
    let mut sse = Int::zero();
    let mut margin: Vec<Option<(Int, usize, usize)>> = vec![None; nl - 1];
    let mut zero_seen = false;
    let mut grad: Vec<Vec<Int>> = (0..nl).map(|_| vec![Int::zero(); q * q + q]).collect();
    let mut spread: Vec<Vec<(Option<Int>, Option<Int>)>> = vec![vec![(None, None); q]; nl - 1];
    let (mut on_rsum, mut on_count) = (vec![Int::zero(); q], 0usize);
    for p in parts {
        for (acc, pl) in spread
            .iter_mut()
            .flatten()
            .zip(p.spread.into_iter().flatten())
        {
            if let Some(v) = pl.0.filter(|v| acc.0.as_ref().is_none_or(|a| v < a)) {
                acc.0 = Some(v);
            }
            if let Some(v) = pl.1.filter(|v| acc.1.as_ref().is_none_or(|a| a < v)) {
                acc.1 = Some(v);
            }
        }
        on_rsum
            .iter_mut()
            .zip(&p.on_rsum)
            .for_each(|(a, b)| *a += b);
        on_count += p.on_count;
        outputs.extend(p.outputs);
        rounded.extend(p.rounded);
        patterns.extend(p.patterns);
        sse += &p.sse;
        for (acc, m) in margin.iter_mut().zip(p.margin) {
            if let Some(m) = m {
                if acc.as_ref().is_none_or(|a| m.0 < a.0) {
                    *acc = Some(m);
                }
            }
        }
        zero_seen |= p.zero_seen;
        for (g, pg) in grad.iter_mut().zip(&p.grad) {
            for (a, b) in g.iter_mut().zip(pg) {
                *a += b;
            }
        }
    }
    // Across layers: smallest value a/H_ℓ (cross-multiplication), ties to the earliest
    // (point, layer).
    let mut best: Option<(usize, &(Int, usize, usize))> = None;
    for (l, m) in margin.iter().enumerate() {
        let Some(m) = m else { continue };
        let take = match best {
            None => true,
            Some((bl, b)) => {
                let lhs = &m.0 * &den.h[bl + 1];
                let rhs = &b.0 * &den.h[l + 1];
                match lhs.cmp(&rhs) {
                    Ordering::Less => true,
                    Ordering::Equal => m.1 < b.1,
                    Ordering::Greater => false,
                }
            }
        };
        if take {
            best = Some((l, m));
        }
    }
    let margin = best.map(|(l, (v, p, m))| {
        let (j, i) = sd.points[*p];
        (
            Rat::from_ints(v, &den.h[l + 1]).expect("positive denominator"),
            Location {
                class: j + 1,
                point: i + 1,
                layer: l + 1,
                neuron: m + 1,
            },
        )
    });
    let nn = Int::from_i64(n as i64);
    let scale = match norm {
        Normalisation::HalfMean => Int::one(),
        Normalisation::Mean => Int::from_i64(2),
    };
    let gradient = (full && !zero_seen && big.off.is_none()).then(|| {
        let mut out = Vec::with_capacity(nl * (q * q + q));
        for (l, g) in grad.iter().enumerate() {
            let dw = &(&den.delta[l] * &den.h[l]) * &nn;
            let db = &den.delta[l] * &nn;
            for (idx, v) in g.iter().enumerate() {
                let d = if idx < q * q { &dw } else { &db };
                out.push(Rat::from_ints(&(v * &scale), d).expect("positive denominator"));
            }
        }
        out
    });
    let sse = Rat::from_ints(&sse, &(&den.r * &den.r)).expect("positive denominator");
    let rat = |v: &Int, d: &Int| Rat::from_ints(v, d).expect("positive denominator");
    let spread = (full && big.off.is_some()).then(|| shortcut::Spread {
        range: (spread.iter().zip(&den.h[1..]))
            .map(|(l, h)| {
                l.iter()
                    .map(|(a, b)| (a.as_ref().map(|v| rat(v, h)), b.as_ref().map(|v| rat(v, h))))
                    .collect()
            })
            .collect(),
        // Filled in by `shortcut::evaluate`, which holds the switched-off constants.
        off_min: Vec::new(),
        on_rsum: on_rsum.iter().map(|v| rat(v, &den.r)).collect(),
        on_count,
    });
    let e = Evaluation {
        outputs,
        cost: norm.apply(&sse, n),
        sse,
        margin,
        gradient,
        patterns,
    };
    Run {
        eval: e,
        spread,
        rounded,
    }
}

/// What [`run_kernels`] gives: the evaluation, the [`shortcut::Spread`] (shortcut mode with
/// `full`) and the rounded outputs (with `Kernel::round`; `eval.outputs` is then empty).
struct Run {
    eval: Evaluation<Rat>,
    spread: Option<shortcut::Spread>,
    rounded: Vec<f64>,
}

// ---------------------------------------------------------------------------------------
// Group moments (MATH.md §8)
// ---------------------------------------------------------------------------------------

/// Integer moments of a set of points over the common data denominator.
struct GroupAcc {
    count: usize,
    /// Per class: number of points.
    class_count: Vec<usize>,
    /// Per class: `Σ x̃` (`Q` each).
    class_sum: Vec<Vec<Int>>,
    /// `Σ x̃ x̃ᵀ`, upper triangle row-major in a full `Q × Q` array.
    xx: Vec<Int>,
}

impl GroupAcc {
    fn new(q: usize, classes: usize) -> GroupAcc {
        GroupAcc {
            count: 0,
            class_count: vec![0; classes],
            class_sum: vec![vec![Int::zero(); q]; classes],
            xx: vec![Int::zero(); q * q],
        }
    }
    fn add_point(&mut self, sd: &ScaledData, p: usize) {
        let q = sd.q;
        let x = sd.input(p);
        let j = sd.points[p].0;
        self.count += 1;
        self.class_count[j] += 1;
        for (s, v) in self.class_sum[j].iter_mut().zip(x) {
            *s += v;
        }
        for a in 0..q {
            if x[a].is_zero() {
                continue;
            }
            for b in a..q {
                self.xx[a * q + b].add_mul_assign(&x[a], &x[b]);
            }
        }
    }
    /// The sums over points `ps` in `i128` (checked); `None` on overflow or when the scaled
    /// inputs do not fit machine integers.
    fn small(sd: &ScaledData, classes: usize, ps: &[usize]) -> Option<GroupAcc> {
        let q = sd.q;
        let xs = sd.small.as_deref()?;
        let mut class_count = vec![0usize; classes];
        let mut class_sum = vec![0i128; classes * q];
        let mut xx = vec![0i128; q * q];
        for &p in ps {
            let x = &xs[p * q..(p + 1) * q];
            let j = sd.points[p].0;
            class_count[j] += 1;
            for (s, v) in class_sum[j * q..(j + 1) * q].iter_mut().zip(x) {
                *s = s.checked_add(*v)?;
            }
            for a in 0..q {
                if x[a] == 0 {
                    continue;
                }
                for b in a..q {
                    let t = &mut xx[a * q + b];
                    *t = t.checked_add(x[a].checked_mul(x[b])?)?;
                }
            }
        }
        Some(GroupAcc {
            count: ps.len(),
            class_count,
            class_sum: class_sum
                .chunks(q.max(1))
                .map(|c| c.iter().map(|&v| Int::from_i128(v)).collect())
                .collect(),
            xx: xx.into_iter().map(Int::from_i128).collect(),
        })
    }
    fn merge(&mut self, o: &GroupAcc) {
        self.count += o.count;
        for (a, b) in self.class_count.iter_mut().zip(&o.class_count) {
            *a += b;
        }
        for (a, b) in self.class_sum.iter_mut().zip(&o.class_sum) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.xx.iter_mut().zip(&o.xx) {
            *a += b;
        }
    }
    /// The [`Moments`] (dimension `Q`, targets in `ℚ^Q`) these sums describe.
    fn moments(&self, sd: &ScaledData) -> Moments {
        let q = sd.q;
        let d = &sd.denom;
        let e = &sd.target_denom;
        let rat = |num: &Int, den: &Int| Rat::from_ints(num, den).expect("positive denominator");
        let d2 = d * d;
        let de = d * e;
        let e2 = e * e;
        let mut m = Moments::empty(q, q);
        m.count = self.count;
        let mut sum_x = vec![Int::zero(); q];
        for s in &self.class_sum {
            for (a, v) in sum_x.iter_mut().zip(s) {
                *a += v;
            }
        }
        for (a, sa) in sum_x.iter().enumerate() {
            for b in a..q {
                let v = rat(&self.xx[a * q + b], &d2);
                m.gram[(b, a)] = v.clone();
                m.gram[(a, b)] = v;
            }
            let s = rat(sa, d);
            m.gram[(q, a)] = s.clone();
            m.gram[(a, q)] = s;
        }
        m.gram[(q, q)] = Rat::from_i64(self.count as i64);
        let mut sum_yy = Int::zero();
        let mut sum_y = vec![Int::zero(); q];
        let mut cross = vec![Int::zero(); q * q];
        for (j, (cnt, s)) in self.class_count.iter().zip(&self.class_sum).enumerate() {
            if *cnt == 0 {
                continue;
            }
            let c = Int::from_i64(*cnt as i64);
            let y = &sd.targets[j];
            for (k, yk) in y.iter().enumerate() {
                sum_y[k].add_mul_assign(&c, yk);
                sum_yy.add_mul_assign(&c, &(yk * yk));
                for a in 0..q {
                    cross[a * q + k].add_mul_assign(&s[a], yk);
                }
            }
        }
        for k in 0..q {
            for a in 0..q {
                m.cross[(a, k)] = rat(&cross[a * q + k], &de);
            }
            let sy = rat(&sum_y[k], e);
            m.cross[(q, k)] = sy.clone();
            m.sum_y[k] = sy;
        }
        m.sum_yy = rat(&sum_yy, &e2);
        m
    }
}

/// The §8 sufficient statistics of every pattern group: the points of `data` (in data order,
/// `patterns[p]` the pattern of point `p`) grouped by pattern, each group's [`Moments`] with
/// inputs in `ℚ^Q` and the class targets — exactly what `Moments::add_point` over the group's
/// points gives, computed with integer sums over the common data denominator (in parallel
/// over chunks of each group; deterministic). Keys in lexicographic pattern order.
pub fn group_moments<'a>(
    data: &Dataset,
    patterns: &'a [Vec<bool>],
) -> BTreeMap<&'a [bool], Moments> {
    ExactData::new(data).group_moments(patterns)
}

/// The naive accumulation with `Moments::add_point` (fallback for huge denominators).
fn naive_group_moments<'a>(
    data: &Dataset,
    patterns: &'a [Vec<bool>],
) -> BTreeMap<&'a [bool], Moments> {
    let q = data.q;
    let mut groups: BTreeMap<&[bool], Moments> = BTreeMap::new();
    let mut idx = 0;
    for c in &data.classes {
        for x in &c.inputs {
            groups
                .entry(&patterns[idx])
                .or_insert_with(|| Moments::empty(q, q))
                .add_point(x, &c.target);
            idx += 1;
        }
    }
    groups
}

/// [`group_moments`] on data already scaled.
pub fn group_moments_scaled<'a>(
    sd: &ScaledData,
    patterns: &'a [Vec<bool>],
) -> BTreeMap<&'a [bool], Moments> {
    assert_eq!(patterns.len(), sd.n(), "one pattern per point");
    let q = sd.q;
    let classes = sd.targets.len();
    let mut ids: BTreeMap<&[bool], usize> = BTreeMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (p, pat) in patterns.iter().enumerate() {
        let next = ids.len();
        let id = *ids.entry(pat).or_insert(next);
        if id == members.len() {
            members.push(Vec::new());
        }
        members[id].push(p);
    }
    let tasks: Vec<(usize, &[usize])> = members
        .iter()
        .enumerate()
        .flat_map(|(g, ps)| ps.chunks(CHUNK).map(move |c| (g, c)))
        .collect();
    let partial: Vec<(usize, GroupAcc)> = tasks
        .into_par_iter()
        .map(|(g, ps)| {
            let acc = GroupAcc::small(sd, classes, ps).unwrap_or_else(|| {
                let mut acc = GroupAcc::new(q, classes);
                for &p in ps {
                    acc.add_point(sd, p);
                }
                acc
            });
            (g, acc)
        })
        .collect();
    let mut accs: Vec<Option<GroupAcc>> = (0..members.len()).map(|_| None).collect();
    for (g, a) in partial {
        match &mut accs[g] {
            Some(acc) => acc.merge(&a),
            slot @ None => *slot = Some(a),
        }
    }
    let mut moments: Vec<Option<Moments>> = accs
        .into_par_iter()
        .map(|a| Some(a.expect("every group has a point").moments(sd)))
        .collect();
    ids.into_iter()
        .map(|(pat, id)| (pat, moments[id].take().expect("each group once")))
        .collect()
}
