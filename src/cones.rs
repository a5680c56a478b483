//! Sequential cone separation (MATH.md §4), producing the cones used by every construction.
//!
//! Input: units `U_1, …, U_u ⊂ ℚ^d` (point sets to be collapsed, one per layer) and passers
//! `P ⊂ ℚ^d` (points that pass every layer). Step `ℓ` picks a unit `k` not yet collapsed and
//! builds the cumulative layer (MATH.md §3, §4 "Rational recipe")
//!
//! ```text
//!     W = 𝟙 nᵀ + κ I      (row m is n + κ e_m),        b = −W a,        n·a = β,
//!     (W p + b)_m = n·(p − a) + κ (p − a)_m = (n·p − β) + κ (p_m − a_m),
//! ```
//!
//! such that, strictly and checked exactly,
//! - **collapse**: `(W x + b)_m < 0` for every `m` and every `x ∈ U_k`;
//! - **pass**: `(W v + b)_m > 0` for every `m` and every `v` in the units not yet collapsed,
//!   in `P`, and every earlier apex `a_1, …, a_{ℓ−1}`.
//!
//! Recipe, per step:
//! 1. `n` from [`crate::lp`]: `n·x < n·v` strictly between `U_k` (below) and the pass set
//!    (above). `n` is a primitive integer vector. Candidate directions: `mean(pass) − mean(U_k)`,
//!    then `mean(U_j) − mean(U_k)`, `a_i − mean(U_k)`, `mean(P) − mean(U_k)` (closest first),
//!    then the exact simplex.
//! 2. `β` = the simplest rational in the middle third of `(max_x n·x, min_v n·v)` (centred,
//!    so both sides keep a margin; `(lo, lo + 1)` when nothing must pass).
//! 3. Apex `a` on `n·a = β`, near the unit: `p₀ = c + ((β − n·c)/|n|²) n` is the orthogonal
//!    projection of the unit mean `c`; every coordinate except the one with the largest `|n_m|`
//!    is replaced by the simplest rational within `ρ = |n·c − β| / (4 |n|₁)` of `p₀`, and that
//!    coordinate is solved from `n·a = β`. If `a` is affinely dependent on the earlier apexes
//!    (and at most `d + 1` apexes are wanted), `a ← a + t u` with `u = n_{m*} e_i − n_i e_{m*}`
//!    (a basis vector of `n^⊥` outside the span of the apex differences) and `t` the simplest
//!    rational in `(0, ρ/|u|_∞)`. Such `u` exists while `ℓ ≤ d + 1`: otherwise `n^⊥` and
//!    `a − a_1` would both lie in that span, which would then be `ℚ^d`, of dimension `ℓ − 2`.
//! 4. `κ` = the simplest rational in `(0, B/2)`, `B = min_p |n·p − β| / max_m |p_m − a_m|` over
//!    all points of the step (collapse and pass; `p ≠ a` since no point lies on the
//!    hyperplane); if `κ + n·𝟙 = 0` (W singular: eigenvalues `κ`, `κ + n·𝟙`) the simplest in
//!    `(0, κ)` instead. Then `|κ (p − a)_m| ≤ B/2 · max|p − a| ≤ |n·p − β| / 2`, so every
//!    coordinate has the sign of `n·p − β` and `|(W p + b)_m| ≥ |n·p − β| / 2`.
//! 5. Every strict inequality is then checked exactly and the smallest `|(W p + b)_m|` is
//!    recorded as the margin. With `n·a = β`, `b = −W a` and `κ > 0`,
//!    `(W p + b)_m = (n·p − β) + κ (p_m − a_m)` is increasing in `p_m − a_m`, so per point it
//!    suffices to evaluate it exactly at the coordinate with the largest `p_m − a_m` (collapse:
//!    must be `< 0`) or the smallest (pass: must be `> 0`); these are also the per-point
//!    margins. `n·p` is computed once per point per step (inside [`crate::lp`]); the work per
//!    step is `O(N d)` plus the separation. [`verify_cone`] re-checks a cone independently,
//!    coordinate by coordinate.
//!
//! Order: greedy and deterministic, the smallest unit index that can be separated from
//! everything that must pass. If at some step no remaining unit can be separated, a
//! [`ConeFailure`] carries, for every remaining unit, a [`HullIntersection`] proving that it
//! cannot be separated from the rest (remaining units, passers and the apexes already placed).
//! That is exact for this order and these apexes; a different order or different apex
//! positions might still succeed (only a witness whose `μ` avoids the apexes is independent
//! of the apex choice).
//!
//! Shared cones: [`one_vs_rest`] applies the recipe once per class against the union of all
//! other classes, with `κ` also covering every other class's apex, so that each cone is valid
//! at any step of any collapse order; `verify` builds them once per data set and reuses them
//! in every configuration ([`crate::construct`]).

use crate::arith::Rat;
use crate::lp::{separate_with_values, HullIntersection, Separation};
use crate::matrix::{dot, Matrix};
use rayon::prelude::*;

/// One cumulative layer `(W^{(ℓ)}, b^{(ℓ)})` of MATH.md §4, collapsing one unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cone {
    /// Which unit (index into `units`) this layer collapses.
    pub unit: usize,
    /// The normal `n` (a primitive integer vector).
    pub normal: Vec<Rat>,
    /// `β`: `n·x < β` on the unit, `n·v > β` on everything that must pass.
    pub beta: Rat,
    /// The apex `a`, with `n·a = β`.
    pub apex: Vec<Rat>,
    /// `κ > 0`, with `κ + n·𝟙 ≠ 0`.
    pub kappa: Rat,
    /// Cumulative `W^{(ℓ)} = 𝟙 nᵀ + κ I` (row `m` is `n + κ e_m`).
    pub w: Matrix,
    /// Cumulative `b^{(ℓ)} = −W a`.
    pub b: Vec<Rat>,
    /// `min |(W p + b)_m|` over all points checked at this step and all coordinates `m` (`> 0`).
    pub margin: Rat,
}

/// Which input point an index of a pass set refers to (see [`ConeFailure::pass_set`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointRef {
    /// Point `index` of unit `unit`.
    Unit {
        /// Index into `units`.
        unit: usize,
        /// Index into `units[unit]`.
        index: usize,
    },
    /// `passers[i]`.
    Passer(usize),
    /// The apex of the cone built at (0-based) step `i`, i.e. `cones[i].apex`.
    Apex(usize),
}

/// Why sequential cone separation stopped: at step `step` (1-based, `= cones.len() + 1`) no
/// remaining unit can be strictly separated from what must pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConeFailure {
    /// The failing step `ℓ` (1-based).
    pub step: usize,
    /// The units not yet collapsed, increasing.
    pub remaining: Vec<usize>,
    /// For each remaining unit `k`: a hull intersection with `λ` indexing `units[k]` and `μ`
    /// indexing the pass set of `k` in the order of [`ConeFailure::pass_set`].
    pub witnesses: Vec<(usize, HullIntersection)>,
    /// The cones built before the failure (steps `1..step`).
    pub cones: Vec<Cone>,
}

impl ConeFailure {
    /// The pass set of remaining unit `unit` at the failing step, in the order the witnesses
    /// index it: the points of the other remaining units (units increasing, points in order),
    /// then the passers, then the apexes of the earlier cones.
    pub fn pass_set(
        &self,
        units: &[Vec<Vec<Rat>>],
        passers: &[Vec<Rat>],
        unit: usize,
    ) -> Vec<PointRef> {
        pass_refs(
            units,
            passers.len(),
            &self.remaining,
            unit,
            self.cones.len(),
        )
    }

    /// The coordinates of a [`PointRef`].
    pub fn point<'a>(
        &'a self,
        units: &'a [Vec<Vec<Rat>>],
        passers: &'a [Vec<Rat>],
        r: PointRef,
    ) -> &'a [Rat] {
        match r {
            PointRef::Unit { unit, index } => &units[unit][index],
            PointRef::Passer(i) => &passers[i],
            PointRef::Apex(i) => &self.cones[i].apex,
        }
    }

    /// Exact re-check: one witness per remaining unit, each a valid hull intersection of the
    /// unit with its pass set.
    pub fn verify(&self, units: &[Vec<Vec<Rat>>], passers: &[Vec<Rat>]) -> bool {
        let mut covered: Vec<usize> = self.witnesses.iter().map(|w| w.0).collect();
        covered.sort_unstable();
        if covered != self.remaining || self.step != self.cones.len() + 1 {
            return false;
        }
        self.witnesses.iter().all(|(k, h)| {
            let below: Vec<&[Rat]> = units[*k].iter().map(|p| p.as_slice()).collect();
            let above: Vec<&[Rat]> = self
                .pass_set(units, passers, *k)
                .into_iter()
                .map(|r| self.point(units, passers, r))
                .collect();
            h.verify(&below, &above)
        })
    }
}

fn pass_refs(
    units: &[Vec<Vec<Rat>>],
    n_passers: usize,
    remaining: &[usize],
    k: usize,
    n_apex: usize,
) -> Vec<PointRef> {
    let mut out = Vec::new();
    for &j in remaining.iter().filter(|&&j| j != k) {
        out.extend((0..units[j].len()).map(|index| PointRef::Unit { unit: j, index }));
    }
    out.extend((0..n_passers).map(PointRef::Passer));
    out.extend((0..n_apex).map(PointRef::Apex));
    out
}

/// Build the cones of MATH.md §4: collapse every unit in turn (greedy order, smallest unit
/// index that can be separated), keeping all not-yet-collapsed units, all `passers` and all
/// earlier apexes strictly in the forward cone. Every strict inequality of every cone is
/// checked exactly; when at most `d + 1` units are given the apexes are affinely independent.
///
/// # Panics
/// If a unit is empty, the points do not all have the same length, or that length is `0`.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::cones::{sequential_cones, verify_cone, apexes_affinely_independent};
/// let p = |a: &str, b: &str| vec![Rat::parse(a).unwrap(), Rat::parse(b).unwrap()];
/// let units = vec![
///     vec![p("10", "0.1"), p("9.9", "0")],    // class 1 near 10 e_1
///     vec![p("0.1", "10"), p("0", "10.2")],   // class 2 near 10 e_2
/// ];
/// let cones = sequential_cones(&units, &[]).unwrap();
/// assert_eq!(cones.len(), 2);
/// let apexes: Vec<_> = cones.iter().map(|c| c.apex.clone()).collect();
/// assert!(apexes_affinely_independent(&apexes));
/// // step 1 collapses unit 0 and passes unit 1
/// let collapse: Vec<&[Rat]> = units[cones[0].unit].iter().map(|x| x.as_slice()).collect();
/// let pass: Vec<&[Rat]> = units[cones[1].unit].iter().map(|x| x.as_slice()).collect();
/// assert_eq!(verify_cone(&cones[0], &collapse, &pass), Some(cones[0].margin.clone()));
/// ```
pub fn sequential_cones(
    units: &[Vec<Vec<Rat>>],
    passers: &[Vec<Rat>],
) -> Result<Vec<Cone>, ConeFailure> {
    let d = dimension(units, passers);
    let sums: Vec<Vec<Rat>> = units.iter().map(|u| sum(u.iter(), d)).collect();
    sequential_cones_with_sums(units, passers, sums, sum(passers.iter(), d))
}

/// The length of the first point (`0` without points).
fn dimension(units: &[Vec<Vec<Rat>>], passers: &[Vec<Rat>]) -> usize {
    let mut points = units.iter().flatten().chain(passers.iter());
    points.next().map_or(0, |p| p.len())
}

/// [`sequential_cones`] with the coordinate sums of every unit and of the passers given
/// (e.g. from the class statistics, so that no configuration sums the points again).
pub fn sequential_cones_with_sums(
    units: &[Vec<Vec<Rat>>],
    passers: &[Vec<Rat>],
    sums: Vec<Vec<Rat>>,
    passer_sum: Vec<Rat>,
) -> Result<Vec<Cone>, ConeFailure> {
    let d = dimension(units, passers);
    assert!(
        units.is_empty() || d > 0,
        "sequential_cones: points must have at least one coordinate"
    );
    assert!(
        units.iter().all(|u| !u.is_empty()),
        "sequential_cones: every unit needs at least one point"
    );
    assert!(
        units
            .iter()
            .flatten()
            .chain(passers.iter())
            .all(|p| p.len() == d),
        "sequential_cones: points of different dimensions"
    );
    debug_assert!(
        sums.len() == units.len()
            && sums.iter().zip(units).all(|(s, u)| *s == sum(u.iter(), d))
            && passer_sum == sum(passers.iter(), d),
        "sequential_cones_with_sums: sums do not match the points"
    );
    let means: Vec<Vec<Rat>> = sums
        .iter()
        .zip(units)
        .map(|(s, u)| scale_down(s, u.len()))
        .collect();
    let passer_mean = (!passers.is_empty()).then(|| scale_down(&passer_sum, passers.len()));
    let want_independent = units.len() <= d + 1;

    let mut remaining: Vec<usize> = (0..units.len()).collect();
    let mut cones: Vec<Cone> = Vec::new();
    while !remaining.is_empty() {
        let mut witnesses = Vec::new();
        let mut chosen: Option<Cone> = None;
        for &k in &remaining {
            let below: Vec<&[Rat]> = units[k].iter().map(|p| p.as_slice()).collect();
            let mut above: Vec<&[Rat]> = Vec::new();
            for &j in remaining.iter().filter(|&&j| j != k) {
                above.extend(units[j].iter().map(|p| p.as_slice()));
            }
            above.extend(passers.iter().map(|p| p.as_slice()));
            above.extend(cones.iter().map(|c| c.apex.as_slice()));

            let c = &means[k];
            let mut hints: Vec<Vec<Rat>> = remaining
                .iter()
                .filter(|&&j| j != k)
                .map(|&j| &means[j])
                .chain(cones.iter().map(|c| &c.apex))
                .chain(passer_mean.iter())
                .map(|t| t.iter().zip(c).map(|(x, y)| x - y).collect())
                .collect();
            hints.sort_by_cached_key(|h: &Vec<Rat>| dot(h, h));

            // mean(pass set) − mean(unit), from the unit sums in O(u·d)
            let mut pass_sum = passer_sum.clone();
            for &j in remaining.iter().filter(|&&j| j != k) {
                add_into(&mut pass_sum, &sums[j]);
            }
            for cone in &cones {
                add_into(&mut pass_sum, &cone.apex);
            }
            let first = (!above.is_empty()).then(|| {
                let pm = scale_down(&pass_sum, above.len());
                pm.iter().zip(c).map(|(x, y)| x - y).collect::<Vec<Rat>>()
            });

            match separate_with_values(&below, &above, &hints, first) {
                (Separation::Separated { normal, .. }, Some(values)) => {
                    let earlier: Vec<&[Rat]> = cones.iter().map(|c| c.apex.as_slice()).collect();
                    let (vb, va) = (&values.below, &values.above);
                    let beta = middle_beta(vb, va);
                    let apex = choose_apex(&normal, &beta, c, &earlier, want_independent);
                    chosen = Some(finish_cone(k, normal, beta, apex, &below, &above, vb, va));
                    break;
                }
                (Separation::NotSeparable(h), _) => witnesses.push((k, h)),
                (Separation::Separated { .. }, None) => unreachable!("separator comes with values"),
            }
        }
        match chosen {
            Some(cone) => {
                remaining.retain(|&j| j != cone.unit);
                cones.push(cone);
            }
            None => {
                return Err(ConeFailure {
                    step: cones.len() + 1,
                    remaining,
                    witnesses,
                    cones,
                })
            }
        }
    }
    Ok(cones)
}

/// One cone per class, each valid in every collapse order: the recipe of the module
/// documentation applied to class `k` against **all** other classes (one-vs-rest), and
/// additionally passing the apex of every other class's cone. Returns `None` when this
/// shared design does not apply to the data (some class is not strictly separable from the
/// union of the others, or some apex `a_j` has `n_k·a_j ≤ β_k`); callers then fall back to
/// [`sequential_cones`] per plan.
///
/// Recipe for class `k` (`c_k` its mean): `n_k` from [`crate::lp`] with the same candidate
/// directions (`mean(rest) − c_k` first); with `lo = max_{x∈k} n_k·x`, `hi = min_{v∉k} n_k·v`
/// and `g = hi − lo`, `β_k` the simplest rational in `(lo + g/6, lo + g/3)` (nearer class `k`
/// than step 2's middle third, so that `a_k` lies well inside the other classes' cones); the
/// apex `a_k` of step 3 without earlier apexes.
/// Then, for all `j ≠ k`, `n_k·a_j > β_k` is required, and `κ_k` is step 4 over all data
/// points **and** all other apexes. So for every `j ≠ k`, every input of class `j` and the
/// apex `a_j` are strictly inside the forward cone of `k` (`(W_k p + b_k)_m > 0` for all `m`),
/// and class `k` is strictly inside its backward cone. Hence, in a plan whose units are
/// single classes collapsed in any order, each layer collapses its class and passes every
/// class not yet collapsed, the passing classes and every earlier apex: exactly the
/// conditions of MATH.md §4. Shared across plans, the cumulative rows `n_k + κ_k e_m` are
/// the same in every configuration.
///
/// `classes[k]` are the inputs of class `k` (non-empty, all of one length `d ≥ 1`), `sums[k]`
/// their coordinate sums. Each cone's `margin` is taken over all data points and all other
/// apexes (a lower bound for the points of any one step).
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::cones::{one_vs_rest, verify_cone};
/// let p = |a: i64, b: i64| vec![Rat::from_i64(a), Rat::from_i64(b)];
/// let classes = vec![vec![p(10, 0), p(9, 1)], vec![p(0, 10), p(1, 9)], vec![p(0, 0)]];
/// let sums: Vec<Vec<Rat>> = vec![p(19, 1), p(1, 19), p(0, 0)];
/// let refs: Vec<&[Vec<Rat>]> = classes.iter().map(|c| c.as_slice()).collect();
/// let cones = one_vs_rest(&refs, &sums).unwrap();
/// // cone 0 collapses class 0 and passes classes 1, 2 and the apexes of cones 1, 2
/// let collapse: Vec<&[Rat]> = classes[0].iter().map(|x| x.as_slice()).collect();
/// let mut pass: Vec<&[Rat]> = classes[1..].iter().flatten().map(|x| x.as_slice()).collect();
/// pass.push(&cones[1].apex);
/// pass.push(&cones[2].apex);
/// assert!(verify_cone(&cones[0], &collapse, &pass).is_some());
/// ```
pub fn one_vs_rest(classes: &[&[Vec<Rat>]], sums: &[Vec<Rat>]) -> Option<Vec<Cone>> {
    let q = classes.len();
    if q < 2 || classes.iter().any(|c| c.is_empty()) {
        return None;
    }
    let total: usize = classes.iter().map(|c| c.len()).sum();
    let d = sums[0].len();
    let mut all_sum = vec![Rat::zero(); d];
    for s in sums {
        add_into(&mut all_sum, s);
    }
    let means: Vec<Vec<Rat>> = sums
        .iter()
        .zip(classes)
        .map(|(s, c)| scale_down(s, c.len()))
        .collect();
    let rest = |k: usize| -> Vec<&[Rat]> {
        (0..q)
            .filter(|&j| j != k)
            .flat_map(|j| classes[j].iter().map(|p| p.as_slice()))
            .collect()
    };
    // Steps 1–3 per class: normal, β, apex (from the data points only).
    // Per class: normal, β, apex, values n·p below and above.
    type Part = (Vec<Rat>, Rat, Vec<Rat>, Vec<Rat>, Vec<Rat>);
    let parts: Vec<Part> = (0..q)
        .into_par_iter()
        .map(|k| {
            let below: Vec<&[Rat]> = classes[k].iter().map(|p| p.as_slice()).collect();
            let above = rest(k);
            let c = &means[k];
            let mut hints: Vec<Vec<Rat>> = (0..q)
                .filter(|&j| j != k)
                .map(|j| means[j].iter().zip(c).map(|(x, y)| x - y).collect())
                .collect();
            hints.sort_by_cached_key(|h: &Vec<Rat>| dot(h, h));
            let rest_sum: Vec<Rat> = all_sum.iter().zip(&sums[k]).map(|(a, b)| a - b).collect();
            let rm = scale_down(&rest_sum, total - classes[k].len());
            let first: Vec<Rat> = rm.iter().zip(c).map(|(x, y)| x - y).collect();
            match separate_with_values(&below, &above, &hints, Some(first)) {
                (Separation::Separated { normal, .. }, Some(v)) => {
                    let beta = near_beta(&v.below, &v.above)?;
                    let apex = choose_apex(&normal, &beta, c, &[], false);
                    Some((normal, beta, apex, v.below, v.above))
                }
                _ => None,
            }
        })
        .collect::<Option<Vec<_>>>()?;
    // Every other apex strictly on the pass side of every hyperplane.
    let apex_values: Vec<Vec<Rat>> = (0..q)
        .map(|k| {
            (0..q)
                .filter(|&j| j != k)
                .map(|j| dot(&parts[k].0, &parts[j].2))
                .collect()
        })
        .collect();
    if (0..q).any(|k| apex_values[k].iter().any(|v| *v <= parts[k].1)) {
        return None;
    }
    // Steps 4–5 per class, over all data points and all other apexes.
    let cones: Vec<Cone> = parts
        .par_iter()
        .enumerate()
        .map(|(k, (n, beta, apex, vb, va))| {
            let below: Vec<&[Rat]> = classes[k].iter().map(|p| p.as_slice()).collect();
            let mut above = rest(k);
            above.extend((0..q).filter(|&j| j != k).map(|j| parts[j].2.as_slice()));
            let mut va = va.clone();
            va.extend(apex_values[k].iter().cloned());
            finish_cone(
                k,
                n.clone(),
                beta.clone(),
                apex.clone(),
                &below,
                &above,
                vb,
                &va,
            )
        })
        .collect();
    Some(cones)
}

fn add_into(acc: &mut [Rat], p: &[Rat]) {
    for (a, x) in acc.iter_mut().zip(p) {
        *a += x;
    }
}

fn sum<'a>(points: impl Iterator<Item = &'a Vec<Rat>>, d: usize) -> Vec<Rat> {
    let mut s = vec![Rat::zero(); d];
    for p in points {
        add_into(&mut s, p);
    }
    s
}

fn scale_down(s: &[Rat], count: usize) -> Vec<Rat> {
    let inv = Rat::from_i64(count as i64).recip().expect("count > 0");
    s.iter().map(|x| x * &inv).collect()
}

/// Step 2: `β`, the simplest rational in the middle third of `(max vb, min va)`
/// (`(lo, lo + 1)` when nothing must pass).
fn middle_beta(vb: &[Rat], va: &[Rat]) -> Rat {
    let lo = vb.iter().max().expect("unit is non-empty").clone();
    match va.iter().min() {
        Some(hi) => {
            let third = (hi - &lo) * Rat::from_frac(1, 3).expect("3 ≠ 0");
            Rat::simplest_between(&(&lo + &third), &(hi - &third)).expect("lo < hi")
        }
        None => Rat::simplest_between(&lo, &(&lo + &Rat::one())).expect("lo < lo + 1"),
    }
}

/// `β` for a shared cone: the simplest rational in `(lo + g/6, lo + g/3)` (`g = hi − lo`,
/// `lo = max vb`, `hi = min va`), nearer the collapsed class than the middle, so that its
/// apex is far inside every other class's forward cone. `None` when nothing must pass.
fn near_beta(vb: &[Rat], va: &[Rat]) -> Option<Rat> {
    let lo = vb.iter().max()?;
    let g = va.iter().min()? - lo;
    let at = |k: i64| lo + &(&g * &Rat::from_frac(1, k).expect("k ≠ 0"));
    Rat::simplest_between(&at(6), &at(3))
}

/// Steps 4–5 for unit `k` with normal `n`, `β` and the apex on `n·a = β`: `κ` from the bound
/// `B` over `below` and `above` (values `n·p` in `vb`, `va`), then `W`, `b` and the exact
/// check of every strict inequality. Requires `max vb < β < min va`.
#[allow(clippy::too_many_arguments)]
fn finish_cone(
    k: usize,
    n: Vec<Rat>,
    beta: Rat,
    apex: Vec<Rat>,
    below: &[&[Rat]],
    above: &[&[Rat]],
    vb: &[Rat],
    va: &[Rat],
) -> Cone {
    let d = n.len();
    assert_eq!(
        dot(&n, &apex),
        beta,
        "internal error: apex off the hyperplane"
    );

    // Per point: s = n·p − β and the extremes of p_m − a_m over the coordinates m.
    let extent = |p: &&[Rat], v: &Rat| {
        let mut lo: Option<Rat> = None;
        let mut hi: Option<Rat> = None;
        for (x, a) in p.iter().zip(&apex) {
            let t = x - a;
            if lo.as_ref().is_none_or(|l| t < *l) {
                lo = Some(t.clone());
            }
            if hi.as_ref().is_none_or(|h| t > *h) {
                hi = Some(t);
            }
        }
        (v - &beta, lo.expect("d ≥ 1"), hi.expect("d ≥ 1"))
    };
    let eb: Vec<(Rat, Rat, Rat)> = below
        .par_iter()
        .zip(vb.par_iter())
        .map(|(p, v)| extent(p, v))
        .collect();
    let ea: Vec<(Rat, Rat, Rat)> = above
        .par_iter()
        .zip(va.par_iter())
        .map(|(p, v)| extent(p, v))
        .collect();

    // κ bound B = min |n·p − β| / max_m |p_m − a_m|  (the max is > 0: p is off the hyperplane)
    let bound = eb
        .par_iter()
        .chain(ea.par_iter())
        .map(|(s, lo, hi)| s.abs() / lo.abs().max(hi.abs()))
        .min()
        .expect("at least one point");
    let half = Rat::from_frac(1, 2).expect("2 ≠ 0");
    let mut kappa = Rat::simplest_between(&Rat::zero(), &(&bound * &half)).expect("B > 0");
    let nsum: Rat = n.iter().cloned().sum();
    if (&kappa + &nsum).is_zero() {
        kappa = Rat::simplest_between(&Rat::zero(), &kappa).expect("κ > 0");
    }

    // W = 𝟙 nᵀ + κ I, b = −W a
    let mut w = Matrix::zeros(d, d);
    for m in 0..d {
        for j in 0..d {
            w[(m, j)] = n[j].clone();
        }
        w[(m, m)] += &kappa;
    }
    let b: Vec<Rat> = w.mul_vec(&apex).into_iter().map(|x| -x).collect();
    assert!(
        b.iter()
            .zip(&apex)
            .all(|(bm, am)| *bm == -(&beta + &(&kappa * am))),
        "internal error: b ≠ −W a"
    );

    // Exact check of every strict inequality. Since n·a = β and b = −W a,
    // (W p + b)_m = s + κ (p_m − a_m) with κ > 0: increasing in p_m − a_m, so over m it is
    // largest at the largest p_m − a_m and smallest at the smallest. Collapse: the largest
    // must be < 0; pass: the smallest must be > 0; those extremes are also the margins.
    let worst_collapse = eb
        .par_iter()
        .map(|(s, _, hi)| s + &(&kappa * hi))
        .max()
        .expect("unit is non-empty");
    assert!(
        worst_collapse.is_negative(),
        "internal error: collapse inequality fails (unit {k})"
    );
    let mut margin = -worst_collapse;
    if let Some(worst_pass) = ea.par_iter().map(|(s, lo, _)| s + &(&kappa * lo)).min() {
        assert!(
            worst_pass.is_positive(),
            "internal error: pass inequality fails (unit {k})"
        );
        margin = margin.min(worst_pass);
    }
    Cone {
        unit: k,
        normal: n,
        beta,
        apex,
        kappa,
        w,
        b,
        margin,
    }
}

/// Apex on `n·a = β` near the projection of `center`, simple, and affinely independent of
/// `earlier` when requested (see the module docs, step 3).
fn choose_apex(
    n: &[Rat],
    beta: &Rat,
    center: &[Rat],
    earlier: &[&[Rat]],
    want_independent: bool,
) -> Vec<Rat> {
    let d = n.len();
    let nn = dot(n, n);
    let sc = dot(n, center) - beta;
    let t = -(&sc / &nn);
    let p0: Vec<Rat> = center.iter().zip(n).map(|(c, ni)| c + &(&t * ni)).collect();
    let l1: Rat = n.iter().map(Rat::abs).sum();
    let rho = sc.abs() / (l1 * Rat::from_i64(4));
    let mstar = (0..d)
        .max_by(|&i, &j| n[i].abs().cmp(&n[j].abs()).then(j.cmp(&i)))
        .expect("d ≥ 1");
    let mut a: Vec<Rat> = p0
        .iter()
        .enumerate()
        .map(|(i, x)| {
            if i == mstar {
                Rat::zero()
            } else {
                Rat::simplest_between(&(x - &rho), &(x + &rho)).expect("ρ > 0")
            }
        })
        .collect();
    let rest = dot(n, &a); // a[mstar] = 0 here
    a[mstar] = (beta - &rest) / &n[mstar];

    let independent_now = |cand: &[Rat]| {
        let mut all: Vec<Vec<Rat>> = earlier.iter().map(|e| e.to_vec()).collect();
        all.push(cand.to_vec());
        apexes_affinely_independent(&all)
    };
    let earlier_ok = {
        let e: Vec<Vec<Rat>> = earlier.iter().map(|e| e.to_vec()).collect();
        apexes_affinely_independent(&e)
    };
    if !want_independent || !earlier_ok || earlier.len() > d || independent_now(&a) {
        return a;
    }
    for i in (0..d).filter(|&i| i != mstar) {
        // u = n_{m*} e_i − n_i e_{m*} ∈ n^⊥
        let mut u = vec![Rat::zero(); d];
        u[i] = n[mstar].clone();
        u[mstar] = -&n[i];
        let umax = u.iter().map(Rat::abs).max().expect("d ≥ 1");
        let step = Rat::simplest_between(&Rat::zero(), &(&rho / &umax)).expect("ρ > 0");
        let cand: Vec<Rat> = a.iter().zip(&u).map(|(x, y)| x + &(&step * y)).collect();
        if independent_now(&cand) {
            return cand;
        }
    }
    unreachable!("a basis vector of n⊥ leaves the span of the apex differences while ℓ ≤ d + 1")
}

/// Rank of a list of rows (exact Gaussian elimination).
fn rank(mut rows: Vec<Vec<Rat>>) -> usize {
    let cols = rows.first().map_or(0, |r| r.len());
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..rows.len()).find(|&i| !rows[i][c].is_zero()) else {
            continue;
        };
        rows.swap(r, p);
        let inv = rows[r][c].recip().expect("non-zero pivot");
        let prow = rows[r].clone();
        for row in rows.iter_mut().skip(r + 1) {
            if !row[c].is_zero() {
                let f = &row[c] * &inv;
                for (x, y) in row.iter_mut().zip(&prow).skip(c) {
                    *x -= &f * y;
                }
            }
        }
        r += 1;
        if r == rows.len() {
            break;
        }
    }
    r
}

/// `true` iff the apexes are affinely independent: the differences `a_i − a_1` (`i ≥ 2`)
/// are linearly independent. Zero or one apex: `true`. More than `d + 1` apexes in `ℚ^d`:
/// `false`.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::cones::apexes_affinely_independent;
/// let p = |a: i64, b: i64| vec![Rat::from_i64(a), Rat::from_i64(b)];
/// assert!(apexes_affinely_independent(&[p(0, 0), p(1, 0), p(0, 1)]));
/// assert!(!apexes_affinely_independent(&[p(0, 0), p(1, 1), p(2, 2)]));
/// ```
pub fn apexes_affinely_independent(apexes: &[Vec<Rat>]) -> bool {
    let Some(first) = apexes.first() else {
        return true;
    };
    let diffs: Vec<Vec<Rat>> = apexes[1..]
        .iter()
        .map(|a| a.iter().zip(first).map(|(x, y)| x - y).collect())
        .collect();
    let k = diffs.len();
    k <= first.len() && rank(diffs) == k
}

/// Exact, independent check of one cone against the points it must collapse and pass:
/// the shape `W = 𝟙 nᵀ + κ I` entry by entry, `κ ≠ 0` and `κ + n·𝟙 ≠ 0` (W invertible),
/// `n·a = β`, `b = −W a`, then `(W p + b)_m < 0` for every `p ∈ collapse` and `> 0` for every
/// `p ∈ pass`, all `m`. Returns the margin `min |(W p + b)_m|`, or `None` if any check fails
/// or there is no point at all.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::cones::{sequential_cones, verify_cone};
/// let p = |a: i64, b: i64| vec![Rat::from_i64(a), Rat::from_i64(b)];
/// let units = vec![vec![p(0, 0)], vec![p(4, 4)]];
/// let cones = sequential_cones(&units, &[]).unwrap();
/// let (x, v) = (p(0, 0), p(4, 4));
/// assert!(verify_cone(&cones[0], &[&x], &[&v]).is_some());
/// assert!(verify_cone(&cones[0], &[&v], &[&x]).is_none()); // wrong way round
/// ```
pub fn verify_cone(cone: &Cone, collapse: &[&[Rat]], pass: &[&[Rat]]) -> Option<Rat> {
    let n = &cone.normal;
    let d = n.len();
    if cone.apex.len() != d || cone.b.len() != d || cone.w.rows != d || cone.w.cols != d {
        return None;
    }
    let nsum: Rat = n.iter().cloned().sum();
    if cone.kappa.is_zero() || (&cone.kappa + &nsum).is_zero() {
        return None;
    }
    for m in 0..d {
        for (j, nj) in n.iter().enumerate() {
            let want = if m == j { nj + &cone.kappa } else { nj.clone() };
            if cone.w[(m, j)] != want {
                return None;
            }
        }
    }
    if dot(n, &cone.apex) != cone.beta {
        return None;
    }
    let wa = cone.w.mul_vec(&cone.apex);
    if wa.iter().zip(&cone.b).any(|(x, y)| !(x + y).is_zero()) {
        return None;
    }
    let mut margin: Option<Rat> = None;
    for (sign, pts) in [(-1, collapse), (1, pass)] {
        for p in pts {
            if p.len() != d {
                return None;
            }
            // W p + b with W = 𝟙 nᵀ + κ I (checked above): (n·p) + κ p_m + b_m
            let np = dot(n, p);
            for m in 0..d {
                let z = &np + &(&cone.kappa * &p[m]) + &cone.b[m];
                if z.signum() != sign {
                    return None;
                }
                let z = z.abs();
                if margin.as_ref().is_none_or(|g| z < *g) {
                    margin = Some(z);
                }
            }
        }
    }
    margin
}
