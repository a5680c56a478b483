//! Exact strict linear separability of two finite point sets (MATH.md §4, "Finding n, β").
//!
//! Given finite sets `X` ("below") and `V` ("above") in `ℚ^d`, decide exactly whether
//!
//! ```text
//!     ∃ n ∈ ℚ^d, β ∈ ℚ :   n·x < β  for all x ∈ X   and   n·v > β  for all v ∈ V,
//! ```
//!
//! and return a certificate either way:
//! - [`Separation::Separated`]: `normal = n` (a primitive integer vector whenever the search
//!   found one, which is always the case here) and `offset = β`, the simplest rational in the
//!   open interval `(max_x n·x, min_v n·v)`; checked exactly before it is returned.
//! - [`Separation::NotSeparable`]: a [`HullIntersection`], i.e. weights `λ_i, μ_j ≥ 0`,
//!   `Σλ_i = Σμ_j = 1`, `Σ λ_i x_i = Σ μ_j v_j = p`. Then `conv X ∩ conv V ∋ p`, and every
//!   `n, β` would give `β > n·p > β`: no strict separator exists. Also checked exactly.
//!
//! # Method
//! 1. **Cheap candidates.** The direction `c = mean(V) − mean(X)`, then caller hints
//!    ([`separate_with_hints`]). For a direction `c`, roundings of `c/|c|_∞` (the simplest
//!    rational within `ε` of each coordinate, scaled to a primitive integer vector) keep the
//!    numbers small: `ε = 1/2` is tried first, then the exact primitive multiple of `c`, and
//!    if that separates, `ε = 1/4, 1/16, 1/256, 1/65536` in turn; the first that separates is
//!    returned (the exact multiple when no rounding does).
//! 2. **Identical points.** A point lying in both sets gives the certificate `λ = μ = (that point, 1)`.
//! 3. **Exact simplex.** Phase 1 of the revised simplex method, in exact rationals, on
//!
//!    ```text
//!      Σ_i λ_i x_i − Σ_j μ_j v_j = 0   (d rows),   Σ_i λ_i = 1,   Σ_j μ_j = 1,   λ, μ ≥ 0
//!    ```
//!
//!    with one artificial variable per row (`d + 2` rows). Optimum `0` gives a
//!    [`HullIntersection`]. Optimum `> 0`: the simplex multipliers `y = (p, α, γ)` have
//!    non-negative reduced costs on every column, i.e. `p·x_i + α ≤ 0` and `γ − p·v_j ≤ 0`,
//!    and `α + γ = yᵀ(0, 1, 1) =` optimum `> 0`; hence `max p·x ≤ −α < γ ≤ min p·v`, a strict
//!    separator with normal `p` (Farkas' lemma, read off the same tableau).
//!    Pivoting: most negative reduced cost, switching to Bland's rule (smallest index enters,
//!    smallest index leaves on ratio ties) after `2(d+2)` consecutive degenerate pivots until the
//!    objective decreases again, which rules out cycling. Large sets are handled by column
//!    generation: the simplex runs on a working set of points (seeded with the points that
//!    are extreme along `c`); at a restricted optimum every point is priced exactly and the
//!    `2(d+2)` most violated ones join the working set. Columns are never dropped, so this
//!    terminates; a hull intersection found on a subset is one of the full sets.
//!
//! Point sets are passed as slices of slices (`&[&[Rat]]`), so callers holding
//! `Vec<Vec<Rat>>` build a `Vec<&[Rat]>` of borrowed rows and nothing is cloned. All points
//! must have the same length `d` (a mismatch is a programming error and panics).

use crate::arith::{Int, Rat};
use crate::matrix::dot;
use rayon::prelude::*;
use std::collections::HashSet;

/// The exact answer of [`separate`]: a verified separating hyperplane, or a verified proof
/// that none exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Separation {
    /// `normal·x < offset` for every `x` below and `normal·v > offset` for every `v` above
    /// (checked exactly before returning).
    Separated {
        /// The normal `n` (a primitive integer vector).
        normal: Vec<Rat>,
        /// The offset `β`, the simplest rational strictly between `max n·x` and `min n·v`.
        offset: Rat,
    },
    /// The convex hulls meet, so no strict separator exists.
    NotSeparable(HullIntersection),
}

/// Convex weights `λ` on `below` and `μ` on `above` (`λ, μ ≥ 0`, `Σλ = Σμ = 1`) with
/// `Σ λ_i x_i = Σ μ_j v_j = point`: the convex hulls meet, so no strict separation exists.
/// Checkable by anyone ([`HullIntersection::verify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HullIntersection {
    /// `(index into below, λ_i)`, only non-zero weights, indices increasing.
    pub lambda: Vec<(usize, Rat)>,
    /// `(index into above, μ_j)`, only non-zero weights, indices increasing.
    pub mu: Vec<(usize, Rat)>,
    /// The common point `Σ λ_i x_i = Σ μ_j v_j`.
    pub point: Vec<Rat>,
}

impl HullIntersection {
    /// Exact check against the two point sets: indices in range, weights `> 0` summing to `1`
    /// on each side, and both weighted sums equal to `point`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::lp::HullIntersection;
    /// let r = |v: &[i64]| v.iter().map(|&x| Rat::from_i64(x)).collect::<Vec<_>>();
    /// let (x0, x1, v0) = (r(&[0, 0]), r(&[2, 0]), r(&[1, 0]));
    /// let half = Rat::from_frac(1, 2).unwrap();
    /// let h = HullIntersection {
    ///     lambda: vec![(0, half.clone()), (1, half)],
    ///     mu: vec![(0, Rat::one())],
    ///     point: v0.clone(),
    /// };
    /// assert!(h.verify(&[&x0, &x1], &[&v0]));
    /// ```
    pub fn verify(&self, below: &[&[Rat]], above: &[&[Rat]]) -> bool {
        fn side(w: &[(usize, Rat)], pts: &[&[Rat]], point: &[Rat]) -> bool {
            if w.is_empty() {
                return false;
            }
            let mut total = Rat::zero();
            let mut sum = vec![Rat::zero(); point.len()];
            for (i, l) in w {
                if *i >= pts.len() || !l.is_positive() || pts[*i].len() != point.len() {
                    return false;
                }
                total += l;
                for (s, x) in sum.iter_mut().zip(pts[*i].iter()) {
                    *s += l * x;
                }
            }
            total == Rat::one() && sum == point
        }
        side(&self.lambda, below, &self.point) && side(&self.mu, above, &self.point)
    }
}

impl Separation {
    /// `true` for [`Separation::Separated`].
    pub fn is_separated(&self) -> bool {
        matches!(self, Separation::Separated { .. })
    }
    /// Re-check the certificate exactly against the two sets (either variant).
    pub fn verify(&self, below: &[&[Rat]], above: &[&[Rat]]) -> bool {
        match self {
            Separation::Separated { normal, offset } => {
                verify_separator(normal, offset, below, above)
            }
            Separation::NotSeparable(h) => h.verify(below, above),
        }
    }
}

/// Exact check of a strict separator: `normal·x < offset` for all `x ∈ below` and
/// `normal·v > offset` for all `v ∈ above` (dimensions must agree, else `false`).
pub fn verify_separator(normal: &[Rat], offset: &Rat, below: &[&[Rat]], above: &[&[Rat]]) -> bool {
    below
        .iter()
        .all(|x| x.len() == normal.len() && dot(normal, x) < *offset)
        && above
            .iter()
            .all(|v| v.len() == normal.len() && dot(normal, v) > *offset)
}

/// Decide exactly whether `below` and `above` are strictly linearly separable.
///
/// Returns a verified separator or a verified hull intersection (see the module docs for the
/// method). Empty sets: if `above` is empty the normal is `e_1` and the offset the simplest
/// rational in `(max x_1, max x_1 + 1)`; if `below` is empty the normal is `e_1` and the
/// offset the simplest rational in `(min v_1 − 1, min v_1)`; if both are empty the normal is
/// the empty vector and the offset `0` (in dimension `d = 0` the normal is the empty vector).
///
/// # Panics
/// If the points do not all have the same length.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::lp::{separate, Separation};
/// let p = |a: i64, b: i64| vec![Rat::from_i64(a), Rat::from_i64(b)];
/// let (x0, x1, v0, v1) = (p(0, 0), p(1, 0), p(0, 3), p(1, 3));
/// match separate(&[&x0, &x1], &[&v0, &v1]) {
///     Separation::Separated { normal, offset } => {
///         assert_eq!(normal, p(0, 1));
///         assert_eq!(offset, Rat::one());
///     }
///     Separation::NotSeparable(_) => unreachable!(),
/// }
/// // XOR: the diagonals cross at (1/2, 1/2)
/// let (a, b, c, d) = (p(0, 0), p(1, 1), p(1, 0), p(0, 1));
/// match separate(&[&a, &b], &[&c, &d]) {
///     Separation::NotSeparable(h) => {
///         let half = Rat::from_frac(1, 2).unwrap();
///         assert_eq!(h.point, vec![half.clone(), half]);
///         assert!(h.verify(&[&a, &b], &[&c, &d]));
///     }
///     Separation::Separated { .. } => unreachable!(),
/// }
/// ```
pub fn separate(below: &[&[Rat]], above: &[&[Rat]]) -> Separation {
    separate_with_hints(below, above, &[])
}

/// [`separate`] with extra candidate directions, tried (in order) after
/// `mean(above) − mean(below)` and before the exact simplex. A hint `c` points from `below`
/// towards `above` (the normal is a positive multiple of `c` or of a rounding of it). Hints of
/// the wrong length or equal to zero are ignored. The answer does not depend on the hints,
/// only the particular separator (and the time taken) may.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::lp::{separate_with_hints, Separation};
/// let p = |a: i64, b: i64| vec![Rat::from_i64(a), Rat::from_i64(b)];
/// let (x0, x1, v0) = (p(0, 0), p(0, 4), p(1, 1));
/// let s = separate_with_hints(&[&x0, &x1], &[&v0], &[p(1, 0)]);
/// assert!(s.verify(&[&x0, &x1], &[&v0]));
/// ```
pub fn separate_with_hints(below: &[&[Rat]], above: &[&[Rat]], hints: &[Vec<Rat>]) -> Separation {
    separate_with_values(below, above, hints, None).0
}

/// The values `n·x` (below) and `n·v` (above) of a verified separator's normal, each
/// computed exactly once, in input order.
#[derive(Clone, Debug)]
pub(crate) struct Values {
    pub below: Vec<Rat>,
    pub above: Vec<Rat>,
}

/// [`separate_with_hints`], also returning the values `n·p` of the returned normal on both
/// sets when the answer is [`Separation::Separated`] (so callers need not recompute them).
/// `first` replaces the first candidate `mean(above) − mean(below)` when the caller already
/// knows it (saves a pass over the points).
pub(crate) fn separate_with_values(
    below: &[&[Rat]],
    above: &[&[Rat]],
    hints: &[Vec<Rat>],
    first: Option<Vec<Rat>>,
) -> (Separation, Option<Values>) {
    let d = common_dim(below, above);
    if below.is_empty() || above.is_empty() {
        return one_sided(below, above, d);
    }
    let d = d.expect("non-empty sets have a dimension");

    // 1. cheap candidates
    let mean_diff: Vec<Rat> = match first {
        Some(c) if c.len() == d => c,
        _ => {
            let mb = mean(below, d);
            let ma = mean(above, d);
            ma.iter().zip(&mb).map(|(a, b)| a - b).collect()
        }
    };
    let mut seed: Option<Evaluated> = None;
    let mut candidates: Vec<&[Rat]> = vec![&mean_diff];
    candidates.extend(hints.iter().filter(|h| h.len() == d).map(|h| h.as_slice()));
    for (ci, c) in candidates.iter().enumerate() {
        match try_direction(c, below, above) {
            Attempt::Found(e) => return finish(e),
            Attempt::Failed(e) => {
                if ci == 0 {
                    seed = Some(e);
                }
            }
            Attempt::Zero => {}
        }
    }

    // 2. a point in both sets
    {
        let set: HashSet<&[Rat]> = below.iter().copied().collect();
        if let Some(j) = above.iter().position(|v| set.contains(v)) {
            let i = below.iter().position(|x| *x == above[j]).expect("present");
            let h = HullIntersection {
                lambda: vec![(i, Rat::one())],
                mu: vec![(j, Rat::one())],
                point: above[j].to_vec(),
            };
            assert!(
                h.verify(below, above),
                "internal error: identical-point certificate"
            );
            return (Separation::NotSeparable(h), None);
        }
    }

    // 3. exact simplex
    match simplex(below, above, d, seed.as_ref()) {
        LpResult::Intersect(h) => {
            assert!(
                h.verify(below, above),
                "internal error: simplex hull intersection does not verify"
            );
            (Separation::NotSeparable(h), None)
        }
        LpResult::Normal(p) => match try_direction(&p, below, above) {
            Attempt::Found(e) => finish(e),
            _ => panic!("internal error: simplex separator does not verify"),
        },
    }
}

/// The first point's length; panics when lengths differ.
fn common_dim(below: &[&[Rat]], above: &[&[Rat]]) -> Option<usize> {
    let d = below.first().or(above.first()).map(|p| p.len());
    if let Some(d) = d {
        assert!(
            below.iter().chain(above.iter()).all(|p| p.len() == d),
            "lp::separate: points of different dimensions"
        );
    }
    d
}

fn one_sided(below: &[&[Rat]], above: &[&[Rat]], d: Option<usize>) -> (Separation, Option<Values>) {
    let d = d.unwrap_or(0);
    let mut normal = vec![Rat::zero(); d];
    if d > 0 {
        normal[0] = Rat::one();
    }
    let vb: Vec<Rat> = below.iter().map(|x| dot(&normal, x)).collect();
    let va: Vec<Rat> = above.iter().map(|v| dot(&normal, v)).collect();
    let offset = if let Some(lo) = vb.iter().max() {
        Rat::simplest_between(lo, &(lo + &Rat::one())).expect("lo < lo + 1")
    } else if let Some(hi) = va.iter().min() {
        Rat::simplest_between(&(hi - &Rat::one()), hi).expect("hi - 1 < hi")
    } else {
        Rat::zero()
    };
    let sep = Separation::Separated { normal, offset };
    debug_assert!(sep.verify(below, above));
    (
        sep,
        Some(Values {
            below: vb,
            above: va,
        }),
    )
}

fn mean(points: &[&[Rat]], d: usize) -> Vec<Rat> {
    let s = points
        .par_iter()
        .fold(
            || vec![Rat::zero(); d],
            |mut acc, p| {
                for (a, x) in acc.iter_mut().zip(p.iter()) {
                    *a += x;
                }
                acc
            },
        )
        .reduce(
            || vec![Rat::zero(); d],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    let inv = Rat::from_i64(points.len() as i64)
        .recip()
        .expect("non-empty");
    s.iter().map(|x| x * &inv).collect()
}

/// The primitive integer vector on the ray of `v` (`v` multiplied by the lcm of its
/// denominators and divided by the gcd of the resulting numerators); zero stays zero.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::lp::primitive_integer;
/// let v = vec![Rat::from_frac(1, 2).unwrap(), Rat::from_frac(-3, 4).unwrap(), Rat::zero()];
/// let p: Vec<String> = primitive_integer(&v).iter().map(|x| x.canonical()).collect();
/// assert_eq!(p, ["2", "-3", "0"]);
/// ```
pub fn primitive_integer(v: &[Rat]) -> Vec<Rat> {
    if v.iter().all(Rat::is_zero) {
        return v.to_vec();
    }
    let mut l = Int::one();
    for x in v {
        l = l.lcm(&x.denom());
    }
    let lr = Rat::from_int(&l);
    let scaled: Vec<Rat> = v.iter().map(|x| x * &lr).collect();
    let mut g = Int::zero();
    for x in &scaled {
        g = g.gcd(&x.numer());
    }
    let gi = Rat::from_int(&g)
        .recip()
        .expect("non-zero vector has a non-zero gcd");
    scaled.iter().map(|x| x * &gi).collect()
}

/// The simplest rational vector within `eps` (coordinate-wise, relative to `|c|_∞ = 1`) of
/// `c / |c|_∞`, as a primitive integer vector.
fn rounded(c: &[Rat], eps: &Rat) -> Vec<Rat> {
    let m = c.iter().map(Rat::abs).max().expect("non-empty");
    let inv = m.recip().expect("non-zero");
    let q: Vec<Rat> = c
        .iter()
        .map(|x| {
            let y = x * &inv;
            Rat::simplest_between(&(&y - eps), &(&y + eps)).expect("eps > 0")
        })
        .collect();
    primitive_integer(&q)
}

struct Evaluated {
    normal: Vec<Rat>,
    below: Vec<Rat>,
    above: Vec<Rat>,
    lo: Rat,
    hi: Rat,
}

impl Evaluated {
    fn separates(&self) -> bool {
        self.lo < self.hi
    }
}

fn evaluate(normal: Vec<Rat>, below: &[&[Rat]], above: &[&[Rat]]) -> Evaluated {
    let vb: Vec<Rat> = below.par_iter().map(|x| dot(&normal, x)).collect();
    let va: Vec<Rat> = above.par_iter().map(|v| dot(&normal, v)).collect();
    let lo = vb.iter().max().expect("non-empty").clone();
    let hi = va.iter().min().expect("non-empty").clone();
    Evaluated {
        normal,
        below: vb,
        above: va,
        lo,
        hi,
    }
}

enum Attempt {
    Found(Evaluated),
    Failed(Evaluated),
    Zero,
}

/// Like [`evaluate`], but stops early (returning `None`) as soon as the direction is seen to
/// fail: used for roundings, whose values are only needed when they separate.
fn evaluate_if_separates(
    normal: Vec<Rat>,
    below: &[&[Rat]],
    above: &[&[Rat]],
) -> Option<Evaluated> {
    let vb: Vec<Rat> = below.par_iter().map(|x| dot(&normal, x)).collect();
    let lo = vb.iter().max().expect("non-empty").clone();
    let va: Vec<Rat> = above
        .par_iter()
        .map(|v| Some(dot(&normal, v)).filter(|y| *y > lo))
        .collect::<Option<Vec<Rat>>>()?;
    let hi = va.iter().min().expect("non-empty").clone();
    Some(Evaluated {
        normal,
        below: vb,
        above: va,
        lo,
        hi,
    })
}

/// Try the direction `c`: the coarsest rounding (`ε = 1/2`) first, then the exact primitive
/// multiple; when that separates, the finer roundings in turn, returning the first (coarsest)
/// that separates, else the exact one.
fn try_direction(c: &[Rat], below: &[&[Rat]], above: &[&[Rat]]) -> Attempt {
    if c.iter().all(Rat::is_zero) {
        return Attempt::Zero;
    }
    let exact_normal = primitive_integer(c);
    let mut tried: Vec<Vec<Rat>> = vec![exact_normal.clone()];
    let coarse = rounded(c, &Rat::from_frac(1, 2).expect("2 ≠ 0"));
    if !tried.contains(&coarse) {
        if let Some(e) = evaluate_if_separates(coarse.clone(), below, above) {
            return Attempt::Found(e);
        }
        tried.push(coarse);
    }
    let exact = evaluate(exact_normal, below, above);
    if !exact.separates() {
        return Attempt::Failed(exact);
    }
    for k in [2u32, 4, 8, 16] {
        let eps = Rat::from_frac(1, 1i64 << k).expect("non-zero");
        let n = rounded(c, &eps);
        if n == exact.normal {
            break;
        }
        if tried.contains(&n) {
            continue;
        }
        if let Some(e) = evaluate_if_separates(n.clone(), below, above) {
            return Attempt::Found(e);
        }
        tried.push(n);
    }
    Attempt::Found(exact)
}

fn finish(e: Evaluated) -> (Separation, Option<Values>) {
    let offset = Rat::simplest_between(&e.lo, &e.hi).expect("lo < hi");
    (
        Separation::Separated {
            normal: e.normal,
            offset,
        },
        Some(Values {
            below: e.below,
            above: e.above,
        }),
    )
}

// ---------------------------------------------------------------------------------------
// Exact revised simplex, phase 1, with column generation.

enum LpResult {
    Intersect(HullIntersection),
    Normal(Vec<Rat>),
}

/// Variables: `0..m` artificials (row `k` has `e_k`), then `m + i` for below point `i`
/// (column `(x_i, 1, 0)`), then `m + nb + j` for above point `j` (column `(−v_j, 0, 1)`).
struct Simplex<'a> {
    below: &'a [&'a [Rat]],
    above: &'a [&'a [Rat]],
    d: usize,
    m: usize,
    basis: Vec<usize>,
    binv: Vec<Vec<Rat>>,
    xb: Vec<Rat>,
}

impl<'a> Simplex<'a> {
    fn column(&self, j: usize) -> Vec<Rat> {
        let (d, m, nb) = (self.d, self.m, self.below.len());
        let mut col = vec![Rat::zero(); m];
        if j < m {
            col[j] = Rat::one();
        } else if j < m + nb {
            col[..d].clone_from_slice(self.below[j - m]);
            col[d] = Rat::one();
        } else {
            for (c, v) in col[..d].iter_mut().zip(self.above[j - m - nb].iter()) {
                *c = -v;
            }
            col[d + 1] = Rat::one();
        }
        col
    }

    /// Reduced cost `c_j − yᵀA_j` of an original column (cost 0) for multipliers `y`.
    fn reduced_cost(&self, j: usize, y: &[Rat]) -> Rat {
        let (d, m, nb) = (self.d, self.m, self.below.len());
        if j < m + nb {
            -(dot(&y[..d], self.below[j - m]) + &y[d])
        } else {
            dot(&y[..d], self.above[j - m - nb]) - &y[d + 1]
        }
    }

    fn objective(&self) -> Rat {
        self.basis
            .iter()
            .zip(&self.xb)
            .filter(|(b, _)| **b < self.m)
            .map(|(_, x)| x.clone())
            .sum()
    }

    /// Simplex multipliers `y = c_Bᵀ B⁻¹` (cost 1 on artificials, 0 elsewhere).
    fn duals(&self) -> Vec<Rat> {
        let mut y = vec![Rat::zero(); self.m];
        for (k, b) in self.basis.iter().enumerate() {
            if *b < self.m {
                for (yi, bi) in y.iter_mut().zip(&self.binv[k]) {
                    *yi += bi;
                }
            }
        }
        y
    }

    /// Pivot column `e` into the basis; returns `true` when the step was degenerate.
    fn pivot(&mut self, e: usize) -> bool {
        let col = self.column(e);
        let u: Vec<Rat> = self.binv.iter().map(|row| dot(row, &col)).collect();
        let mut best: Option<(usize, Rat)> = None;
        for (i, ui) in u.iter().enumerate() {
            if ui.is_positive() {
                let theta = &self.xb[i] / ui;
                let better = match &best {
                    None => true,
                    Some((r, t)) => theta < *t || (theta == *t && self.basis[i] < self.basis[*r]),
                };
                if better {
                    best = Some((i, theta));
                }
            }
        }
        let (r, theta) = best.expect("internal error: phase-1 simplex cannot be unbounded");
        let ur = u[r].clone();
        let inv = ur.recip().expect("positive pivot");
        for x in self.binv[r].iter_mut() {
            *x *= &inv;
        }
        self.xb[r] = &self.xb[r] * &inv;
        let prow = self.binv[r].clone();
        let px = self.xb[r].clone();
        for (i, f) in u.iter().enumerate() {
            if i != r && !f.is_zero() {
                for (x, p) in self.binv[i].iter_mut().zip(&prow) {
                    if !p.is_zero() {
                        *x -= f * p;
                    }
                }
                self.xb[i] = &self.xb[i] - &(f * &px);
            }
        }
        self.basis[r] = e;
        theta.is_zero()
    }
}

fn simplex(below: &[&[Rat]], above: &[&[Rat]], d: usize, seed: Option<&Evaluated>) -> LpResult {
    let m = d + 2;
    let nb = below.len();
    let na = above.len();
    let mut binv = vec![vec![Rat::zero(); m]; m];
    for (i, row) in binv.iter_mut().enumerate() {
        row[i] = Rat::one();
    }
    let mut xb = vec![Rat::zero(); m];
    xb[d] = Rat::one();
    xb[d + 1] = Rat::one();
    let mut lp = Simplex {
        below,
        above,
        d,
        m,
        basis: (0..m).collect(),
        binv,
        xb,
    };

    // working set: points extreme along the first candidate direction
    let batch = 2 * m;
    let mut in_work = vec![false; nb + na];
    let mut work: Vec<usize> = Vec::new();
    {
        let mut ib: Vec<usize> = (0..nb).collect();
        let mut ia: Vec<usize> = (0..na).collect();
        if let Some(e) = seed {
            ib.sort_by(|a, b| e.below[*b].cmp(&e.below[*a]));
            ia.sort_by(|a, b| e.above[*a].cmp(&e.above[*b]));
        }
        for &i in ib.iter().take(batch) {
            in_work[i] = true;
            work.push(m + i);
        }
        for &j in ia.iter().take(batch) {
            in_work[nb + j] = true;
            work.push(m + nb + j);
        }
    }

    let mut degenerate_streak = 0usize;
    let mut bland = false;
    let mut last_obj = lp.objective();
    loop {
        // restricted problem on the working set
        loop {
            if last_obj.is_zero() {
                return LpResult::Intersect(intersection(&lp));
            }
            let y = lp.duals();
            let mut entering: Option<(usize, Rat)> = None;
            for &j in &work {
                let rc = lp.reduced_cost(j, &y);
                if rc.is_negative() {
                    let take = match &entering {
                        None => true,
                        Some((je, re)) => {
                            if bland {
                                j < *je
                            } else {
                                rc < *re || (rc == *re && j < *je)
                            }
                        }
                    };
                    if take {
                        entering = Some((j, rc));
                    }
                }
            }
            let Some((e, _)) = entering else { break };
            let degenerate = lp.pivot(e);
            let obj = lp.objective();
            if degenerate || obj == last_obj {
                degenerate_streak += 1;
                if degenerate_streak > 2 * m {
                    bland = true;
                }
            } else {
                degenerate_streak = 0;
                bland = false;
            }
            last_obj = obj;
        }
        // price every point exactly (multipliers scaled to a primitive integer vector)
        let y = primitive_integer(&lp.duals());
        let mut violated: Vec<(Rat, usize)> = (0..nb + na)
            .into_par_iter()
            .filter(|&k| !in_work[k])
            .filter_map(|k| {
                let rc = lp.reduced_cost(m + k, &y);
                rc.is_negative().then_some((rc, k))
            })
            .collect();
        if violated.is_empty() {
            let normal = primitive_integer(&y[..d]);
            return LpResult::Normal(normal);
        }
        if violated.len() > batch {
            violated.select_nth_unstable(batch - 1);
            violated.truncate(batch);
        }
        for (_, k) in violated {
            in_work[k] = true;
            work.push(m + k);
        }
        work.sort_unstable();
    }
}

fn intersection(lp: &Simplex<'_>) -> HullIntersection {
    let (m, nb, d) = (lp.m, lp.below.len(), lp.d);
    let mut lambda = Vec::new();
    let mut mu = Vec::new();
    for (b, x) in lp.basis.iter().zip(&lp.xb) {
        if *b >= m && x.is_positive() {
            if *b < m + nb {
                lambda.push((*b - m, x.clone()));
            } else {
                mu.push((*b - m - nb, x.clone()));
            }
        }
    }
    lambda.sort_by_key(|p| p.0);
    mu.sort_by_key(|p| p.0);
    let mut point = vec![Rat::zero(); d];
    for (i, l) in &lambda {
        for (s, x) in point.iter_mut().zip(lp.below[*i].iter()) {
            *s += l * x;
        }
    }
    HullIntersection { lambda, mu, point }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[&[i64]]) -> Vec<Vec<Rat>> {
        v.iter()
            .map(|p| p.iter().map(|&x| Rat::from_i64(x)).collect())
            .collect()
    }
    fn refs(v: &[Vec<Rat>]) -> Vec<&[Rat]> {
        v.iter().map(|p| p.as_slice()).collect()
    }

    #[test]
    fn simplex_finds_separator_when_means_fail() {
        // separable by n = (1, 10) only; the mean difference (0, 1) ties
        let b = pts(&[&[0, 0], &[10, -1]]);
        let a = pts(&[&[0, 1], &[10, 0]]);
        let (b, a) = (refs(&b), refs(&a));
        let seed = evaluate(vec![Rat::zero(), Rat::one()], &b, &a);
        assert!(!seed.separates());
        match simplex(&b, &a, 2, Some(&seed)) {
            LpResult::Normal(n) => assert!(evaluate(n, &b, &a).separates()),
            LpResult::Intersect(_) => panic!("separable"),
        }
        let s = separate(&b, &a);
        assert!(s.is_separated() && s.verify(&b, &a));
    }

    #[test]
    fn simplex_finds_intersection() {
        let b = pts(&[&[0, 0], &[2, 2], &[5, 0]]);
        let a = pts(&[&[2, 0], &[0, 2], &[9, 9]]);
        let (b, a) = (refs(&b), refs(&a));
        match simplex(&b, &a, 2, None) {
            LpResult::Intersect(h) => assert!(h.verify(&b, &a)),
            LpResult::Normal(_) => panic!("not separable"),
        }
    }

    #[test]
    fn identical_point_single_weights() {
        let b = pts(&[&[0, 0], &[3, 1]]);
        let a = pts(&[&[5, 5], &[3, 1]]);
        let (b, a) = (refs(&b), refs(&a));
        match separate(&b, &a) {
            Separation::NotSeparable(h) => {
                assert_eq!(h.lambda, vec![(1, Rat::one())]);
                assert_eq!(h.mu, vec![(1, Rat::one())]);
            }
            _ => panic!(),
        }
    }

    #[test]
    fn empty_sides() {
        let b = pts(&[&[0, 7], &[3, 1]]);
        let b = refs(&b);
        for s in [separate(&b, &[]), separate(&[], &b)] {
            assert!(s.verify(&b, &[]) || s.verify(&[], &b));
            if let Separation::Separated { normal, .. } = &s {
                assert_eq!(normal, &vec![Rat::one(), Rat::zero()]);
            }
        }
        assert!(separate(&[], &[]).is_separated());
    }

    #[test]
    fn degenerate_collinear() {
        // all points on a line; interleaved → not separable; split → separable
        let b = pts(&[&[0, 0, 0], &[2, 2, 2], &[4, 4, 4]]);
        let a = pts(&[&[1, 1, 1], &[3, 3, 3]]);
        let (b, a) = (refs(&b), refs(&a));
        let s = separate(&b, &a);
        assert!(!s.is_separated() && s.verify(&b, &a));
        let b2 = pts(&[&[0, 0, 0], &[1, 1, 1]]);
        let a2 = pts(&[&[2, 2, 2], &[3, 3, 3]]);
        let (b2, a2) = (refs(&b2), refs(&a2));
        let s = separate(&b2, &a2);
        assert!(s.is_separated() && s.verify(&b2, &a2));
    }
}
