//! Sign checks shared across configurations: the hidden layers of a shortcut evaluation
//! ([`super::shortcut`]) decided class by class from the extremes of each row functional,
//! instead of point by point (MATH.md §2 patterns and margin, §4 cones, §8 pattern groups).
//!
//! In shortcut mode the pre-activation of neuron `m` at hidden layer `ℓ`, for a point whose
//! earlier layers are all `> 0`, is `z̃^ℓ_m(x) = w_m·x̃ + β_m` (`w_m` row `m` of the prefix
//! map numerators, `β_m` its bias numerator). Write `w_m = g·u` with `u` primitive
//! (content 1) and `g > 0`. Over the points of class `j`:
//! `min z̃^ℓ_m = g·min_{x∈j} u·x̃ + β_m` and `max z̃^ℓ_m = g·max_{x∈j} u·x̃ + β_m`.
//!
//! **Class-uniform patterns, by induction over the layers.** If every earlier layer of class
//! `j` is all `> 0` on the whole class, then at layer `ℓ`:
//! - `min z̃^ℓ_m > 0` for every `m` ⇒ every point of `j` is all `> 0` at `ℓ`;
//! - `max z̃^ℓ_m < 0` for every `m` ⇒ every point of `j` is switched off at `ℓ`, and every
//!   later layer is the switched-off constant `off[ℓ]` for the whole class;
//! - anything else (a straddling or zero extreme) ⇒ decline; the point-by-point kernel
//!   decides (same result, or `Mixed`).
//!
//! Then the patterns, the place where each point switched off, the [`super::shortcut::Spread`]
//! ranges and the margin are functions of the class extremes: the margin of layer `ℓ` is the
//! least `|z̃|` over `(j, m)`, at the first point attaining it (so ties go to the earliest
//! `(point, neuron)` in data order, exactly as the point-by-point scan).
//!
//! The constructed networks share their cone rows: the shared one-vs-rest cones of
//! [`crate::cones::one_vs_rest`] appear (as rows `n_k + κ_k e_m`, up to a positive factor) in
//! every configuration, so [`RowExtremes`] caches the per-class extremes of each primitive
//! row once per data set: `O(N·Q)` per distinct row, then `O(Q)` per row, class and
//! configuration. A configuration's own rows (a merged unit's cone) are computed once.
//! Everything is exact (`i128` with overflow checks; on overflow the caller falls back).

use super::{Kernel, Part, ScaledData};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Extremes of one functional `u·x̃` over one class: least and largest value, each with the
/// first point (0-based, data order) attaining it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extremes {
    /// Least value.
    pub lo: i128,
    /// First point attaining `lo`.
    pub lo_at: usize,
    /// Largest value.
    pub hi: i128,
    /// First point attaining `hi`.
    pub hi_at: usize,
}

/// Most rows kept in one cache (beyond it, extremes are computed but not kept).
const MAX_ROWS: usize = 1 << 16;

/// The extremes of one row for every class (`None`: the row's values overflow `i128`).
type PerClass = Option<Arc<[Extremes]>>;

/// Per-class extremes of primitive integer rows, computed on first use and shared by every
/// evaluation on the same [`ScaledData`].
#[derive(Debug, Default)]
pub struct RowExtremes {
    map: Mutex<HashMap<Vec<i128>, PerClass>>,
}

/// `(u, g)` with `row = g·u`, `g > 0` and `u` primitive (`u = 0`, `g = 1` for a zero row).
fn primitive(row: &[i128]) -> (Vec<i128>, i128) {
    let mut g: u128 = 0;
    for v in row {
        let (mut a, mut b) = (g, v.unsigned_abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        g = a;
    }
    // A gcd above i128::MAX only for a row of i128::MIN entries: leave such a row as is.
    let g = i128::try_from(g).ok().filter(|&g| g > 0).unwrap_or(1);
    (row.iter().map(|v| v / g).collect(), g)
}

/// The per-class extremes of `u·x̃` by one pass over the points (`None` on overflow).
fn class_extremes(sd: &ScaledData, xs: &[i128], u: &[i128]) -> PerClass {
    let q = sd.q;
    sd.classes
        .par_iter()
        .map(|range| {
            let mut e: Option<Extremes> = None;
            for p in range.clone() {
                let mut v: i128 = 0;
                for (a, x) in u.iter().zip(&xs[p * q..(p + 1) * q]) {
                    v = v.checked_add(a.checked_mul(*x)?)?;
                }
                match e.as_mut() {
                    None => {
                        e = Some(Extremes {
                            lo: v,
                            lo_at: p,
                            hi: v,
                            hi_at: p,
                        })
                    }
                    Some(e) => {
                        if v < e.lo {
                            (e.lo, e.lo_at) = (v, p);
                        }
                        if v > e.hi {
                            (e.hi, e.hi_at) = (v, p);
                        }
                    }
                }
            }
            e
        })
        .collect::<Option<Vec<_>>>()
        .map(Arc::from)
}

impl RowExtremes {
    /// The per-class extremes of `row·x̃` (`None` when they overflow `i128`, the inputs do
    /// not fit in `i64`, or some class is empty).
    pub fn get(&self, sd: &ScaledData, row: &[i128]) -> Option<Vec<Extremes>> {
        let (u, g) = primitive(row);
        let cached = self.map.lock().expect("not poisoned").get(&u).cloned();
        let ext = match cached {
            Some(e) => e?,
            None => {
                let e = class_extremes(sd, sd.small.as_deref()?, &u);
                let mut map = self.map.lock().expect("not poisoned");
                if map.len() < MAX_ROWS {
                    map.insert(u, e.clone());
                }
                e?
            }
        };
        ext.iter()
            .map(|e| {
                Some(Extremes {
                    lo: e.lo.checked_mul(g)?,
                    hi: e.hi.checked_mul(g)?,
                    ..*e
                })
            })
            .collect()
    }
}

/// Margin candidate `(|z̃|, point, neuron)`: keep the least value, ties to the earliest
/// `(point, neuron)`.
fn keep(best: &mut Option<(i128, usize, usize)>, cand: (i128, usize, usize)) {
    if best.is_none_or(|b| (cand.0, cand.1, cand.2) < (b.0, b.1, b.2)) {
        *best = Some(cand);
    }
}

/// The hidden-layer part of a shortcut evaluation over all points (patterns with `full`,
/// where each point switched off, margin, spread, zero seen), from the class extremes; the
/// same [`Part`] as [`super::run_chunk`] with a hidden-only kernel over all points, merged.
/// `None` when some class is not uniform (see the module documentation) or on overflow.
pub(super) fn hidden(k: &Kernel<'_, i128>, sd: &ScaledData, full: bool) -> Option<Part<i128>> {
    let (q, hl) = (k.q, k.nl - 1);
    let off = k.off.as_ref()?;
    let mut part = Part::new(k, sd.n());
    part.offs = Vec::with_capacity(sd.n());
    // Extremes per layer and neuron, fetched on first use (a layer every class skips is
    // never fetched).
    let mut ext: Vec<Option<Vec<Vec<Extremes>>>> = vec![None; hl];
    let mut margin: Vec<Option<(i128, usize, usize)>> = vec![None; hl];
    for (j, range) in sd.classes.iter().enumerate() {
        let mut off_at: Option<usize> = None;
        let mut rest = None;
        let mut pat = Vec::with_capacity(if full { hl * q } else { 0 });
        for l in 0..hl {
            if let Some(vals) = rest.as_mut().and_then(|c: &mut _| Iterator::next(c)) {
                let vals: &[i128] = vals;
                for (m, &v) in vals.iter().enumerate() {
                    pat.extend(full.then_some(v > 0));
                    part.zero_seen |= v == 0;
                    keep(&mut margin[l], (v.checked_abs()?, range.start, m));
                }
                continue;
            }
            if ext[l].is_none() {
                let rows = (k.w[l].chunks(q))
                    .map(|row| sd.extremes.get(sd, row))
                    .collect::<Option<Vec<_>>>()?;
                ext[l] = Some(rows);
            }
            let rows = ext[l].as_ref().expect("just fetched");
            let z: Vec<Extremes> = (rows.iter().zip(&k.bh[l]))
                .map(|(e, b)| {
                    let e = e[j];
                    Some(Extremes {
                        lo: e.lo.checked_add(*b)?,
                        hi: e.hi.checked_add(*b)?,
                        ..e
                    })
                })
                .collect::<Option<_>>()?;
            let on = z.iter().all(|e| e.lo > 0);
            if !on && !z.iter().all(|e| e.hi < 0) {
                return None;
            }
            for (m, e) in z.iter().enumerate() {
                pat.extend(full.then_some(on));
                let (v, at) = if on {
                    (e.lo, e.lo_at)
                } else {
                    (-e.hi, e.hi_at)
                };
                keep(&mut margin[l], (v, at, m));
                if full {
                    let s = &mut part.spread[l][m];
                    if on && s.0.is_none_or(|b| e.lo < b) {
                        s.0 = Some(e.lo);
                    }
                    if !on && s.1.is_none_or(|b| e.hi > b) {
                        s.1 = Some(e.hi);
                    }
                }
            }
            if !on {
                off_at = Some(l);
                rest = Some(off.chain(l));
            }
        }
        for _ in range.clone() {
            part.offs.push(off_at);
            if full {
                part.patterns.push(pat.clone());
            }
        }
    }
    part.margin = margin;
    Some(part)
}
