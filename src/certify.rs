//! Certification of one network on one data set: the producer side of every claim.
//!
//! - **Pattern-region bound** (MATH.md §8): group the points by full activation pattern `p`;
//!   on the open region of parameters with these patterns the output on group `G_p` is
//!   affine, `M_p x + c_p` (constant when some layer of `p` is all off), so
//!   `C(θ) ≥ Σ_p LB_p` with `LB_p` the group's least-squares value. Equality at `θ*` is a
//!   certified local minimum; otherwise the gap `C(θ*) − Σ LB_p ≥ 0` is reported.
//! - **Criticality** (MATH.md §2): the exact gradient, only when the margin is `> 0`.
//! - **Descent** (MATH.md §7a): when the margin is `> 0` and the gradient is not zero, `C` is
//!   a polynomial near `θ*` with a nonzero gradient, so `θ*` is not a local minimum; a
//!   rational step `t` along a direction `d` with `C(θ* + t d) < C(θ*)` and a positive margin
//!   is recorded as an explicit witness. Preferred direction: `d = −∂C/∂b_1` (the first
//!   layer's bias block of `−∇C`, zero elsewhere). Moving `b_1` alone shifts every
//!   pre-activation by `|δz^ℓ| ≤ u_ℓ = |W_ℓ|⋯|W_2| |d_{b_1}|` per unit `t` (entrywise
//!   absolute values, whatever the pattern), so no pattern changes while
//!   `t < t_safe = μ / max u` (`μ` the margin); there the output of pattern group `p` moves
//!   by `t δf_p`, `δf_p = W_{L+1} D^p_L W_L ⋯ D^p_1 d_{b_1}`, and
//!   `C(θ* + t d) = C(θ*) − t |d_{b_1}|² + t² K` with `K` the normalised `Σ_p n_p |δf_p|²`:
//!   a decrease for `0 < t < |d_{b_1}|²/K`. The simplest rational in `[h/4, h/2]`,
//!   `h = min(t_safe, |d_{b_1}|²/K)`, is the step, confirmed by one exact evaluation. If the
//!   `b_1` block of the gradient is zero, `d = −∇C` with a halving search is used.
//! - **Degeneracy** (MATH.md §5): `rank J` of the output Jacobian. Within one pattern group
//!   `∂f(x)/∂θ` is affine in `x`, so the rows of an affinely independent subset of each
//!   group's inputs span all of that group's rows: `rank J` exactly from at most
//!   `(Q+1)·Q` rows per group. At zero residual the Hessian is `JᵀJ/N`, whose kernel has
//!   dimension `K − rank J`. An explicit flat direction in the output layer
//!   (`ΔW^{(L+1)} = v νᵀ`, `Δc = −v νᵀ a₁` with `ν ⊥` the curated points' affine hull) keeps
//!   every output on the data unchanged for every `t`, since the hidden layers do not move.
//! - **Float cross-check** (MATH.md §9), non-normative.

use crate::arith::Rat;
use crate::data::Dataset;
use crate::fastexact::{ExactData, Spread};
use crate::lsq::Moments;
use crate::matrix::Matrix;
use crate::network::{Evaluation, Location, Network, Normalisation};
use std::collections::BTreeMap;

/// One pattern group of the §8 bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternGroup {
    /// The pattern as a string of `0`/`1`, layer by layer (`L·Q` characters).
    pub pattern: String,
    /// Number of points in the group.
    pub size: usize,
    /// `true` when some hidden layer is all off (constant output, constant-fit bound).
    pub constant: bool,
    /// `LB_p`, normalised like the cost.
    pub bound: Rat,
}

/// The §8 certificate data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionBound {
    /// Groups in lexicographic pattern order.
    pub groups: Vec<PatternGroup>,
    /// `Σ_p LB_p`.
    pub total: Rat,
    /// `C(θ*) − Σ_p LB_p` (`≥ 0`).
    pub gap: Rat,
}

/// The non-normative float cross-check (MATH.md §9).
#[derive(Clone, Debug, PartialEq)]
pub struct FloatCheck {
    /// Cost evaluated in `f64`.
    pub cost: f64,
    /// Largest `|∂C/∂θ|` entry in `f64` (`None` if a float pre-activation was exactly 0).
    pub max_abs_gradient: Option<f64>,
    /// Largest `|f_exact − f_float|` over all outputs (exact value rounded to `f64` first).
    pub max_abs_output_error: f64,
    /// Float margin.
    pub margin: Option<f64>,
}

/// The overall finding for one network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Cost exactly 0 with positive margin: a global minimum (`C ≥ 0`).
    GlobalMinimum,
    /// Positive margin, zero gradient, cost = Σ LB_p: a certified local minimum.
    LocalMinimum,
    /// Positive margin, nonzero gradient: not a local minimum (descent certificate).
    NotLocalMinimum,
    /// Positive margin, zero gradient, positive gap: a critical point, minimality not
    /// certified (not a proof of non-minimality).
    CriticalNotCertified,
    /// Some pre-activation is exactly 0: no claim about the gradient is made.
    NotDifferentiable,
}

impl Verdict {
    /// The name recorded in certificates.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::GlobalMinimum => "global-minimum",
            Verdict::LocalMinimum => "local-minimum",
            Verdict::NotLocalMinimum => "not-a-local-minimum",
            Verdict::CriticalNotCertified => "critical-point-not-certified",
            Verdict::NotDifferentiable => "not-differentiable",
        }
    }
}

/// The direction `d` of a descent witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescentDirection {
    /// `d = −∂C/∂b_1`: the first layer's bias block of `−∇C`, zero elsewhere.
    FirstLayerBias,
    /// `d = −∇C`.
    Gradient,
}

impl DescentDirection {
    /// The name recorded in certificates.
    pub fn name(self) -> &'static str {
        match self {
            DescentDirection::FirstLayerBias => "first-layer-bias",
            DescentDirection::Gradient => "gradient",
        }
    }
}

/// An exact descent witness: `C(θ + t d) < C(θ)` with positive margin at `θ + t d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descent {
    /// The direction `d`.
    pub direction: DescentDirection,
    /// The step `t > 0`.
    pub step: Rat,
    /// The cost at `θ + t d`.
    pub cost_after: Rat,
    /// The margin at `θ + t d`.
    pub margin_after: Rat,
}

/// Everything certified about one network.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The exact evaluation, without `outputs` (empty: they are needed only rounded, for
    /// the float block; "every output equals its target" is `sse = 0`).
    pub exact: Evaluation<Rat>,
    /// The §8 bound (when the margin is positive).
    pub region: Option<RegionBound>,
    /// The float cross-check.
    pub float: FloatCheck,
    /// The verdict.
    pub verdict: Verdict,
    /// A descent witness when the verdict is [`Verdict::NotLocalMinimum`] and one was found.
    pub descent: Option<Descent>,
}

impl Analysis {
    /// `true` iff the exact gradient exists and is zero.
    pub fn gradient_is_zero(&self) -> bool {
        self.exact
            .gradient
            .as_ref()
            .is_some_and(|g| g.iter().all(Rat::is_zero))
    }
    /// The positive margin and its location, if any.
    pub fn margin(&self) -> Option<&(Rat, Location)> {
        self.exact.margin.as_ref()
    }
}

/// Pattern bits as `0`/`1` text.
pub fn pattern_text(p: &[bool]) -> String {
    p.iter().map(|&b| if b { '1' } else { '0' }).collect()
}

/// The §8 pattern-region bound from an exact evaluation with positive margin.
pub fn region_bound(
    data: &Dataset,
    eval: &Evaluation<Rat>,
    norm: Normalisation,
    q: usize,
) -> RegionBound {
    region_bound_with(&ExactData::new(data), eval, norm, q)
}

/// [`region_bound`] on data prepared once ([`ExactData`]).
pub fn region_bound_with(
    fx: &ExactData,
    eval: &Evaluation<Rat>,
    norm: Normalisation,
    q: usize,
) -> RegionBound {
    // fastexact integration: integer group moments, identical to `Moments::add_point` per point.
    let groups: BTreeMap<&[bool], Moments> = fx.group_moments(&eval.patterns);
    let n = fx.data().n();
    let mut out = Vec::with_capacity(groups.len());
    let mut total = Rat::zero();
    for (p, m) in groups {
        let constant = !p.is_empty() && p.chunks(q).any(|layer| layer.iter().all(|b| !b));
        let sse = if constant {
            m.constant_fit().1
        } else {
            m.affine_fit().sse
        };
        let bound = norm.apply(&sse, n);
        total += &bound;
        out.push(PatternGroup {
            pattern: pattern_text(p),
            size: m.count,
            constant,
            bound,
        });
    }
    RegionBound {
        groups: out,
        gap: &eval.cost - &total,
        total,
    }
}

/// Certify `net` on `data`: exact evaluation, §8 bound, verdict, descent witness, float check.
pub fn analyse(net: &Network, data: &Dataset, norm: Normalisation) -> Analysis {
    analyse_with(net, &ExactData::new(data), norm)
}

/// [`analyse`] on data prepared once ([`ExactData`]: scaled to integers once for many
/// networks, as `verify` does for all its configurations).
pub fn analyse_with(net: &Network, fx: &ExactData, norm: Normalisation) -> Analysis {
    // fastexact integration: integer common-denominator path, identical results.
    // The exact outputs are needed only rounded (for the float block), so they are never
    // built as rationals: `exact.outputs` is empty.
    let (exact, spread, rounded) = fx.evaluate_rounded(net, norm);
    // The same f64 pass as `net.evaluate::<f64>(data, norm)`, on data rounded once.
    let fl = net.evaluate_f64(fx.rounded(), norm);
    let max_abs_output_error = (rounded.iter().zip(&fl.outputs))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f64, f64::max);
    let float = FloatCheck {
        cost: fl.cost,
        max_abs_gradient: fl
            .gradient
            .as_ref()
            .map(|g| g.iter().fold(0.0f64, |m, x| m.max(x.abs()))),
        max_abs_output_error,
        margin: fl.margin,
    };
    let positive = exact.margin.as_ref().is_some_and(|m| m.0.is_positive());
    let region = positive.then(|| region_bound_with(fx, &exact, norm, net.width()));
    let grad_zero = exact
        .gradient
        .as_ref()
        .is_some_and(|g| g.iter().all(Rat::is_zero));
    let verdict = if !positive {
        Verdict::NotDifferentiable
    } else if !grad_zero {
        Verdict::NotLocalMinimum
    } else if exact.cost.is_zero() {
        Verdict::GlobalMinimum
    } else if region.as_ref().is_some_and(|r| r.gap.is_zero()) {
        Verdict::LocalMinimum
    } else {
        Verdict::CriticalNotCertified
    };
    let descent = if verdict == Verdict::NotLocalMinimum {
        find_descent(net, fx, norm, &exact, spread.as_ref())
    } else {
        None
    };
    Analysis {
        exact,
        region,
        float,
        verdict,
        descent,
    }
}

/// A descent witness along the given direction (`None` if none was found: a zero `b_1`
/// block, or no step among the 64 halvings of the `−∇C` search).
pub fn descent_along(
    net: &Network,
    data: &Dataset,
    norm: Normalisation,
    exact: &Evaluation<Rat>,
    direction: DescentDirection,
) -> Option<Descent> {
    let fx = ExactData::new(data);
    match direction {
        DescentDirection::FirstLayerBias => bias_descent(net, norm, exact, &fx, None),
        DescentDirection::Gradient => gradient_descent_search(net, norm, exact, &fx),
    }
}

/// A descent witness: along `−∂C/∂b_1` with the step from the quadratic model of the module
/// documentation, else by [`gradient_descent_search`].
fn find_descent(
    net: &Network,
    fx: &ExactData,
    norm: Normalisation,
    exact: &Evaluation<Rat>,
    spread: Option<&Spread>,
) -> Option<Descent> {
    bias_descent(net, norm, exact, fx, spread)
        .or_else(|| gradient_descent_search(net, norm, exact, fx))
}

/// The `b_1` step of the module documentation: `t_safe`, `K` from the pattern groups, the
/// simplest step in `[h/4, h/2]`, and the exact cost and margin after the step: from the
/// evaluation's [`Spread`] when it has one ([`Spread::shifted`]: every pattern provably
/// kept), else by one exact evaluation.
fn bias_descent(
    net: &Network,
    norm: Normalisation,
    exact: &Evaluation<Rat>,
    fx: &ExactData,
    spread: Option<&Spread>,
) -> Option<Descent> {
    let (g, (mu, _)) = (exact.gradient.as_ref()?, exact.margin.as_ref()?);
    let (q, l) = (net.width(), net.hidden());
    let db: Vec<Rat> = g[q * q..q * q + q].iter().map(|x| -x).collect();
    let gg = crate::matrix::dot(&db, &db);
    if gg.is_zero() || !mu.is_positive() {
        return None;
    }
    // u_1 = |d_b|, u_ℓ = |W_ℓ| u_{ℓ−1}: bounds on |δz^ℓ| per unit t for every point.
    let mut u: Vec<Rat> = db.iter().map(Rat::abs).collect();
    let mut umax = u.iter().max()?.clone();
    for layer in &net.layers[1..l] {
        let w = &layer.w;
        u = (0..w.rows)
            .map(|i| {
                (0..w.cols).fold(Rat::zero(), |s, j| {
                    let x = &w[(i, j)];
                    if x.is_zero() || u[j].is_zero() {
                        s
                    } else {
                        s + x.abs() * &u[j]
                    }
                })
            })
            .collect();
        umax = umax.max(u.iter().max()?.clone());
    }
    let t_safe = mu / &umax;
    // K = normalised Σ_p n_p |δf_p|².
    let mut counts: BTreeMap<&[bool], usize> = BTreeMap::new();
    for p in &exact.patterns {
        *counts.entry(p.as_slice()).or_default() += 1;
    }
    let mut sum = Rat::zero();
    for (p, n) in counts {
        let mut v = db.clone();
        for (m, layer) in net.layers[1..].iter().enumerate() {
            for (x, on) in v.iter_mut().zip(&p[m * q..(m + 1) * q]) {
                if !on {
                    *x = Rat::zero();
                }
            }
            v = layer.w.mul_vec(&v);
        }
        sum += Rat::from_i64(n as i64) * crate::matrix::dot(&v, &v);
    }
    let k = norm.apply(&sum, fx.data().n());
    let h = if k.is_zero() {
        t_safe
    } else {
        t_safe.min(&gg / &k)
    };
    let step = Rat::simplest_between(&(&h / &Rat::from_i64(4)), &(&h / &Rat::from_i64(2)))?;
    let moved: Vec<Rat> = db.iter().map(|x| x * &step).collect();
    let n = fx.data().n();
    let (cost, m) = match spread.and_then(|s| s.shifted(net, &moved, &exact.sse, norm, n)) {
        Some(cm) => cm,
        None => {
            let mut d = vec![Rat::zero(); net.param_count()];
            d[q * q..q * q + q].clone_from_slice(&db);
            let e = fx.cost_margin(&net.step(&d, &step), norm);
            (e.cost, e.margin?.0)
        }
    };
    (m.is_positive() && cost < exact.cost).then_some(Descent {
        direction: DescentDirection::FirstLayerBias,
        step,
        cost_after: cost,
        margin_after: m,
    })
}

/// Search `t = 2^{-k}/s` (`s` scales `d = −∇C` to unit max-entry, `k = 0..64`) for an exact
/// decrease with positive margin.
fn gradient_descent_search(
    net: &Network,
    norm: Normalisation,
    exact: &Evaluation<Rat>,
    fx: &ExactData,
) -> Option<Descent> {
    let g = exact.gradient.as_ref()?;
    let d: Vec<Rat> = g.iter().map(|x| -x).collect();
    let big = d.iter().map(Rat::abs).max()?;
    if big.is_zero() {
        return None;
    }
    // start from a simple step not larger than 1/max|d|
    let mut t = Rat::simplest_between(&Rat::zero(), &big.recip()?)?;
    // fastexact: each step needs only the exact cost and margin (identical to those of
    // `evaluate::<Rat>`).
    for _ in 0..64 {
        let moved = net.step(&d, &t);
        let e = fx.cost_margin(&moved, norm);
        if let Some((m, _)) = &e.margin {
            if m.is_positive() && e.cost < exact.cost {
                return Some(Descent {
                    direction: DescentDirection::Gradient,
                    step: t,
                    cost_after: e.cost,
                    margin_after: m.clone(),
                });
            }
        }
        t = &t / &Rat::from_i64(2);
    }
    None
}

/// The rows of the output Jacobian `∂f_o(x)/∂θ` (`o = 1..Q`) at one input, in
/// [`Network::flatten`] order.
pub fn output_jacobian(net: &Network, x: &[Rat]) -> Vec<Vec<Rat>> {
    net.output_gradients(x)
}

/// `rank J` over all data points (MATH.md §5), from an affinely independent subset of every
/// pattern group's inputs (see the module documentation).
pub fn jacobian_rank(net: &Network, data: &Dataset, patterns: &[Vec<bool>]) -> usize {
    let q = data.q;
    let mut reps: BTreeMap<&[bool], Vec<Vec<Rat>>> = BTreeMap::new();
    let mut idx = 0;
    for c in &data.classes {
        for x in &c.inputs {
            let p = patterns[idx].as_slice();
            let entry = reps.entry(p).or_default();
            idx += 1;
            // A group with an all-off layer has one output for all its points and the same
            // Jacobian rows for all of them (nothing before that layer reaches the output,
            // nothing after it sees `x`): one representative suffices.
            let off = p.chunks(q).any(|l| l.iter().all(|b| !b));
            if entry.len() > q || (off && !entry.is_empty()) {
                continue;
            }
            let mut cand = entry.clone();
            cand.push(x.clone());
            if affinely_independent(&cand) {
                entry.push(x.clone());
            }
        }
    }
    // Identical rows add nothing to the rank; they are common (every point of a group that
    // some layer switches off has the same rows), so they are dropped before elimination.
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for pts in reps.values() {
        for x in pts {
            for row in output_jacobian(net, x) {
                if seen.insert(row.clone()) {
                    rows.push(row);
                }
            }
        }
    }
    if rows.is_empty() {
        return 0;
    }
    Matrix::from_rows(&rows).rank()
}

/// `true` iff the points are affinely independent.
pub fn affinely_independent(pts: &[Vec<Rat>]) -> bool {
    if pts.len() <= 1 {
        return true;
    }
    let rows: Vec<Vec<Rat>> = pts[1..]
        .iter()
        .map(|p| p.iter().zip(&pts[0]).map(|(a, b)| a - b).collect())
        .collect();
    Matrix::from_rows(&rows).rank() == rows.len()
}

/// An explicit flat direction in the output layer (MATH.md §5): with cumulative output map
/// `(A, c)`, curated points `τ` whose affine hull is orthogonal to `ν ≠ 0`, and `v = e_1`,
/// the direction `ΔA = v νᵀ`, `Δc = −v νᵀ a₁` leaves every output on the data unchanged.
/// Returned in layer form (`ΔW_{L+1} = ΔA (W^{(L)})⁻¹`, `Δb_{L+1} = Δc − ΔW_{L+1} b^{(L)}`),
/// as a full parameter vector (zero outside the output layer). `None` when the curated
/// points span the whole space affinely. Every output on data curated to these points is
/// unchanged along the line (the hidden layers do not move), which is checked exactly on
/// the curated points.
pub fn output_flat_direction(net: &Network, curated: &[Vec<Rat>]) -> Option<Vec<Rat>> {
    let q = net.width();
    let a1 = curated.first()?;
    let diffs: Vec<Vec<Rat>> = curated[1..]
        .iter()
        .map(|p| p.iter().zip(a1).map(|(a, b)| a - b).collect())
        .collect();
    let nu = if diffs.is_empty() {
        let mut e = vec![Rat::zero(); q];
        e[0] = Rat::one();
        e
    } else {
        Matrix::from_rows(&diffs)
            .kernel_basis()
            .into_iter()
            .next()?
    };
    let cum = crate::network::cumulative(net);
    let l = net.hidden();
    let (wl, bl) = (&cum[l - 1].w, &cum[l - 1].b);
    let inv = wl.inverse()?;
    let mut da = Matrix::zeros(q, q);
    for k in 0..q {
        da[(0, k)] = nu[k].clone();
    }
    let mut dc = vec![Rat::zero(); q];
    dc[0] = -crate::matrix::dot(&nu, a1);
    // Exact check of the identity: ΔA τ + Δc = e_1 ν·(τ − a₁) = 0 on every curated point.
    if curated
        .iter()
        .any(|tau| !(&crate::matrix::dot(&nu, tau) + &dc[0]).is_zero())
    {
        return None;
    }
    let dw = da.mul(&inv);
    let db = crate::matrix::vsub(&dc, &dw.mul_vec(bl));
    let k = net.param_count();
    let mut d = vec![Rat::zero(); k - (q * q + q)];
    d.extend(dw.data);
    d.extend(db);
    Some(d)
}
