//! The constructions of \[DL\] (arXiv:2309.10639) as one parametrised recipe: curation.
//!
//! A *curation plan* lists units (sets of classes, each to be collapsed to one apex by one
//! hidden layer, MATH.md §4) and passing classes (never collapsed). The network is built in
//! cumulative parameters (MATH.md §3):
//! - layers `1..u` (`u` = number of units): the cones `W^{(ℓ)} = 𝟙 nᵀ + κ I`,
//!   `b^{(ℓ)} = −W^{(ℓ)} a_ℓ` of MATH.md §4. When every class has a one-vs-rest cone that
//!   also passes every other class's apex ([`crate::cones::one_vs_rest`], computed once per
//!   data set: [`shared_cones`]), every single-class unit uses its class's shared cone, in
//!   any order, so the hidden rows are the same in every configuration; merged units are
//!   collapsed first by [`crate::cones::sequential_cones`] (see [`build_with`]). Otherwise,
//!   or when a shared cone does not pass a merged apex, the whole plan is built by
//!   [`crate::cones::sequential_cones`];
//! - layers `u+1..L` (idle): `W^{(ℓ)} = I`, `b^{(ℓ)} = s·𝟙` with `s` larger than every
//!   coordinate magnitude of the apexes and the passing inputs (MATH.md §5), so every
//!   curated point passes;
//! - output: the affine least-squares fit `A τ + c` on the curated data (each collapsed unit
//!   sits at its apex with the unit's points' targets; passing classes at their inputs).
//!   When the curated points do not span `ℚ^Q` affinely (always for the global and grouped
//!   constructions: at most `Q` apexes) the fit is not unique, and the basic solution is
//!   taken: every unknown of a non-pivot column of `G = Σ τ̃τ̃ᵀ` is `0`
//!   ([`Matrix::solve_consistent`]). It is determined by the data, so the checker pins it.
//!
//! Then `W_ℓ = W^{(ℓ)}(W^{(ℓ−1)})⁻¹`, `b_ℓ = b^{(ℓ)} − W_ℓ b^{(ℓ−1)}`.
//!
//! Special cases (MATH.md): no units = the shallow minimum lifted to depth `L` (§6); all
//! classes as singleton units = the global minimizer (§5: with affinely independent apexes
//! the fit interpolates `A a_ℓ + c = y_{k_ℓ}`); singletons `S` plus passing rest = partial
//! curation (§7a); merged units covering all classes = grouped curation (§7b, the fit maps
//! each apex to its group's weighted mean target).

use crate::arith::Rat;
use crate::cones::{
    apexes_affinely_independent, one_vs_rest, sequential_cones_with_sums, verify_cone, Cone,
    ConeFailure, PointRef,
};
use crate::data::{ClassStats, Dataset};
use crate::lsq::Moments;
use crate::matrix::Matrix;
use crate::network::{from_cumulative, Layer, Network};

/// Which family a configuration belongs to (MATH.md §5–§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// §6: every hidden layer passes everything.
    Shallow,
    /// §5: every class collapsed to its own apex.
    Global,
    /// §7a: classes in `S` collapsed one by one, the rest pass.
    Partial,
    /// §7b: groups of classes collapsed together.
    Grouped,
}

impl Family {
    /// Name used in certificates and file names.
    pub fn name(self) -> &'static str {
        match self {
            Family::Shallow => "shallow",
            Family::Global => "global",
            Family::Partial => "partial",
            Family::Grouped => "grouped",
        }
    }
}

/// What to collapse and what to pass (class indices are 0-based here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The family, for reporting.
    pub family: Family,
    /// Units to collapse (each a sorted list of classes), in the order given; the cone
    /// search may collapse them in another order.
    pub units: Vec<Vec<usize>>,
    /// Classes that pass every layer.
    pub passing: Vec<usize>,
}

impl Plan {
    /// A short identifier: `shallow`, `global`, `partial-S1,3`, `grouped-12-3` (1-based).
    pub fn id(&self) -> String {
        let one = |u: &Vec<usize>| u.iter().map(|c| (c + 1).to_string()).collect::<Vec<_>>();
        match self.family {
            Family::Shallow | Family::Global => self.family.name().to_string(),
            Family::Partial => format!(
                "partial-S{}",
                self.units
                    .iter()
                    .map(|u| one(u).join(","))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Family::Grouped => format!(
                "grouped-{}",
                self.units
                    .iter()
                    .map(|u| one(u).join("+"))
                    .collect::<Vec<_>>()
                    .join("_")
            ),
        }
    }
}

/// A built configuration.
#[derive(Clone, Debug)]
pub struct Construction {
    /// The plan it realises.
    pub plan: Plan,
    /// The cones in collapse order (cumulative layers `1..u`).
    pub cones: Vec<Cone>,
    /// The idle shift `s` of layers `u+1..L`.
    pub idle_shift: Rat,
    /// The cumulative output layer `(A, c)`.
    pub output_cumulative: Layer,
    /// The network in layer form.
    pub network: Network,
}

/// Why a plan could not be built.
#[derive(Clone, Debug)]
pub enum BuildError {
    /// More units than hidden layers: each unit needs a layer.
    TooFewLayers {
        /// Units to collapse.
        units: usize,
        /// Hidden layers available.
        layers: usize,
    },
    /// Sequential cone separation stopped (with the passing classes). `any_order` is `true`
    /// when every witness uses data points only (no earlier apex): then at that step every
    /// remaining unit's convex hull meets the hull of the other remaining units and passing
    /// classes, so whichever remaining unit an order collapses next cannot be separated —
    /// no order exists. Otherwise only the greedy order with these apexes is refuted.
    NotSeparable {
        /// The failure with its exact hull-intersection witnesses.
        failure: ConeFailure,
        /// The witnesses avoid the apexes: no order of the units works.
        any_order: bool,
    },
    /// A cumulative hidden map was singular (a construction defect; reported, never hidden).
    Singular,
}

/// Build the network for `plan` with `layers ≥ 1` hidden layers.
pub fn build(data: &Dataset, layers: usize, plan: &Plan) -> Result<Construction, BuildError> {
    let stats = data.class_stats();
    let fixed = shared_cones(data, &stats);
    build_with(data, &stats, fixed.as_deref(), layers, plan)
}

/// The one-vs-rest cones of every class ([`crate::cones::one_vs_rest`]), computed once per
/// data set and shared by every plan; `None` when they do not exist for this data.
pub fn shared_cones(data: &Dataset, stats: &[ClassStats]) -> Option<Vec<Cone>> {
    let classes: Vec<&[Vec<Rat>]> = data.classes.iter().map(|c| c.inputs.as_slice()).collect();
    let sums: Vec<Vec<Rat>> = stats.iter().map(|s| s.sum.clone()).collect();
    one_vs_rest(&classes, &sums)
}

/// [`build`] with the per-class statistics ([`Dataset::class_stats`]) and the shared cones
/// ([`shared_cones`]) computed once for many plans.
pub fn build_with(
    data: &Dataset,
    stats: &[ClassStats],
    fixed: Option<&[Cone]>,
    layers: usize,
    plan: &Plan,
) -> Result<Construction, BuildError> {
    let q = data.q;
    if plan.units.len() > layers {
        return Err(BuildError::TooFewLayers {
            units: plan.units.len(),
            layers,
        });
    }
    let unit_points: Vec<Vec<Vec<Rat>>> = plan
        .units
        .iter()
        .map(|u| {
            u.iter()
                .flat_map(|&c| data.classes[c].inputs.iter().cloned())
                .collect()
        })
        .collect();
    let passers: Vec<Vec<Rat>> = plan
        .passing
        .iter()
        .flat_map(|&c| data.classes[c].inputs.iter().cloned())
        .collect();
    // The coordinate sums of the units and passers, from the class statistics.
    let class_sum = |cs: &[usize]| {
        let mut s = vec![Rat::zero(); q];
        for &c in cs {
            s.iter_mut().zip(&stats[c].sum).for_each(|(a, b)| *a += b);
        }
        s
    };
    let sums: Vec<Vec<Rat>> = plan.units.iter().map(|u| class_sum(u)).collect();
    let passers_sum = class_sum(&plan.passing);
    let shared =
        fixed.and_then(|f| shared_plan_cones(f, plan, &unit_points, &passers, &sums, &passers_sum));
    let cones = match shared {
        Some(c) => Ok(c),
        None => sequential_cones_with_sums(&unit_points, &passers, sums, passers_sum),
    };
    let cones = cones.map_err(|failure| {
        let any_order = failure.witnesses.iter().all(|(u, w)| {
            let refs = failure.pass_set(&unit_points, &passers, *u);
            w.mu.iter()
                .all(|(i, _)| !matches!(refs.get(*i), Some(PointRef::Apex(_)) | None))
        });
        BuildError::NotSeparable { failure, any_order }
    })?;

    // Idle shift: 1 + the largest coordinate magnitude of apexes and passing inputs (an
    // integer, so it stays small).
    let mut big = Rat::zero();
    for v in cones.iter().map(|c| &c.apex).chain(passers.iter()) {
        for x in v {
            let a = x.abs();
            if a > big {
                big = a;
            }
        }
    }
    let idle_shift = ceil_plus_one(&big);

    let mut cum: Vec<Layer> = cones
        .iter()
        .map(|c| Layer {
            w: c.w.clone(),
            b: c.b.clone(),
        })
        .collect();
    while cum.len() < layers {
        cum.push(Layer {
            w: Matrix::identity(q),
            b: vec![idle_shift.clone(); q],
        });
    }

    // Least squares on the curated data.
    let mut mom = Moments::empty(q, q);
    for (cone, unit) in cones.iter().map(|c| (c, &plan.units[c.unit])) {
        let mut xx = Matrix::zeros(q, q);
        for a in 0..q {
            for b in 0..q {
                xx[(a, b)] = &cone.apex[a] * &cone.apex[b];
            }
        }
        for &c in unit {
            let n = stats[c].count;
            let nr = Rat::from_i64(n as i64);
            let sum: Vec<Rat> = cone.apex.iter().map(|x| x * &nr).collect();
            mom.add_group(n, &sum, &xx.scale(&nr), &data.classes[c].target);
        }
    }
    for &c in &plan.passing {
        mom.add_group(
            stats[c].count,
            &stats[c].sum,
            &stats[c].outer,
            &data.classes[c].target,
        );
    }
    let fit = mom.affine_fit();
    let output_cumulative = Layer { w: fit.m, b: fit.c };
    cum.push(output_cumulative.clone());
    let network = from_cumulative(&cum).ok_or(BuildError::Singular)?;
    Ok(Construction {
        plan: plan.clone(),
        cones,
        idle_shift,
        output_cumulative,
        network,
    })
}

/// The cones of `plan` from the shared one-vs-rest cones `fixed` (indexed by class): merged
/// units (more than one class) first, by the sequential recipe against every other input
/// (the single-class units' points and the passers, [`sequential_cones_with_sums`]); then
/// every single-class unit, in plan order, with its shared cone, which already passes every
/// other class and every other shared apex. Kept only if every shared cone also passes every
/// merged apex strictly (checked exactly) and, with at most `Q + 1` units, all apexes are
/// affinely independent; else `None` (the caller runs the sequential recipe on the plan).
fn shared_plan_cones(
    fixed: &[Cone],
    plan: &Plan,
    unit_points: &[Vec<Vec<Rat>>],
    passers: &[Vec<Rat>],
    sums: &[Vec<Rat>],
    passers_sum: &[Rat],
) -> Option<Vec<Cone>> {
    let d = fixed.first()?.apex.len();
    let merged: Vec<usize> = (0..plan.units.len())
        .filter(|&u| plan.units[u].len() > 1)
        .collect();
    let mut cones: Vec<Cone> = Vec::with_capacity(plan.units.len());
    if !merged.is_empty() {
        // Everything else must pass: the single-class units' points and the passers.
        let (mut pass, mut pass_sum) = (Vec::new(), passers_sum.to_vec());
        for u in (0..plan.units.len()).filter(|u| !merged.contains(u)) {
            pass.extend(unit_points[u].iter().cloned());
            pass_sum.iter_mut().zip(&sums[u]).for_each(|(a, b)| *a += b);
        }
        pass.extend(passers.iter().cloned());
        let pts: Vec<Vec<Vec<Rat>>> = merged.iter().map(|&u| unit_points[u].clone()).collect();
        let msums = merged.iter().map(|&u| sums[u].clone()).collect();
        for mut c in sequential_cones_with_sums(&pts, &pass, msums, pass_sum).ok()? {
            c.unit = merged[c.unit];
            cones.push(c);
        }
    }
    let merged_apexes: Vec<Vec<Rat>> = cones.iter().map(|c| c.apex.clone()).collect();
    let merged_refs: Vec<&[Rat]> = merged_apexes.iter().map(|a| a.as_slice()).collect();
    for u in (0..plan.units.len()).filter(|u| !merged.contains(u)) {
        let mut c = fixed.get(plan.units[u][0])?.clone();
        c.unit = u;
        // Every merged apex strictly in the forward cone.
        if !merged_refs.is_empty() {
            verify_cone(&c, &[], &merged_refs)?;
        }
        cones.push(c);
    }
    let apexes: Vec<Vec<Rat>> = cones.iter().map(|c| c.apex.clone()).collect();
    if cones.len() <= d + 1 && !apexes_affinely_independent(&apexes) {
        return None;
    }
    Some(cones)
}

/// `⌊x⌋ + 1`, the smallest integer strictly above `x`.
fn ceil_plus_one(x: &Rat) -> Rat {
    Rat::from_int(&x.floor()) + Rat::one()
}

/// The plan of every family member for `Q` classes.
pub mod plans {
    use super::{Family, Plan};

    /// §6: nothing collapsed.
    pub fn shallow(q: usize) -> Plan {
        Plan {
            family: Family::Shallow,
            units: vec![],
            passing: (0..q).collect(),
        }
    }
    /// §5: every class its own unit.
    pub fn global(q: usize) -> Plan {
        Plan {
            family: Family::Global,
            units: (0..q).map(|c| vec![c]).collect(),
            passing: vec![],
        }
    }
    /// §7a: the nonempty proper subsets `S ⊊ {1..Q}` (`S = ∅` is [`shallow`]), in order of
    /// size, then lexicographically. Collects [`partial_iter`]: use that for large `Q`.
    pub fn partial_all(q: usize) -> Vec<Plan> {
        partial_iter(q).collect()
    }
    /// [`partial_all`] one plan at a time (the `2^Q − 2` plans are never held at once).
    pub fn partial_iter(q: usize) -> impl Iterator<Item = Plan> {
        (1..q)
            .flat_map(move |k| Combinations::new(q, k))
            .map(move |s| Plan {
                family: Family::Partial,
                passing: (0..q).filter(|c| !s.contains(c)).collect(),
                units: s.into_iter().map(|c| vec![c]).collect(),
            })
    }
    /// §7b: every subset `T` with `|T| ≥ 2` merged, the rest singletons. Collects
    /// [`merged_subsets_iter`].
    pub fn merged_subsets(q: usize) -> Vec<Plan> {
        merged_subsets_iter(q).collect()
    }
    /// [`merged_subsets`] one plan at a time, in order of `|T|`, then lexicographically.
    pub fn merged_subsets_iter(q: usize) -> impl Iterator<Item = Plan> {
        (2..=q)
            .flat_map(move |k| Combinations::new(q, k))
            .map(move |t| {
                let mut units = vec![t.clone()];
                units.extend((0..q).filter(|c| !t.contains(c)).map(|c| vec![c]));
                units.sort();
                Plan {
                    family: Family::Grouped,
                    units,
                    passing: vec![],
                }
            })
    }
    /// §7b: every set partition of `{1..Q}` with at least one merged group (the all-singleton
    /// partition is [`global`]), in a fixed order (restricted growth strings). Collects
    /// [`partitions_iter`].
    pub fn all_partitions(q: usize) -> Vec<Plan> {
        partitions_iter(q).collect()
    }
    /// [`all_partitions`] one plan at a time (`Bell(Q) − 1` plans).
    pub fn partitions_iter(q: usize) -> impl Iterator<Item = Plan> {
        let mut rgs: Option<Vec<usize>> = Some(vec![0usize; q]);
        std::iter::from_fn(move || loop {
            let cur = rgs.as_mut()?;
            let blocks = cur.iter().max().map_or(0, |m| m + 1);
            let plan = (blocks < q).then(|| Plan {
                family: Family::Grouped,
                units: (0..blocks)
                    .map(|b| (0..q).filter(|&c| cur[c] == b).collect())
                    .collect(),
                passing: vec![],
            });
            // Advance to the next restricted growth string (or finish).
            let mut i = q;
            let mut advanced = false;
            while i > 1 {
                i -= 1;
                let max_prefix = cur[..i].iter().max().copied().unwrap_or(0);
                if cur[i] <= max_prefix {
                    cur[i] += 1;
                    for r in cur.iter_mut().skip(i + 1) {
                        *r = 0;
                    }
                    advanced = true;
                    break;
                }
            }
            if !advanced {
                rgs = None;
            }
            if plan.is_some() {
                return plan;
            }
        })
    }

    /// The `k`-element subsets of `{0..n}` as sorted lists, in lexicographic order.
    struct Combinations {
        n: usize,
        cur: Option<Vec<usize>>,
    }

    impl Combinations {
        fn new(n: usize, k: usize) -> Combinations {
            Combinations {
                n,
                cur: (k <= n).then(|| (0..k).collect()),
            }
        }
    }

    impl Iterator for Combinations {
        type Item = Vec<usize>;
        fn next(&mut self) -> Option<Vec<usize>> {
            let out = self.cur.clone()?;
            let (n, k) = (self.n, out.len());
            let cur = self.cur.as_mut().expect("checked above");
            // The rightmost entry that can still grow.
            match (0..k).rev().find(|&i| cur[i] < n - k + i) {
                Some(i) => {
                    cur[i] += 1;
                    for j in i + 1..k {
                        cur[j] = cur[j - 1] + 1;
                    }
                }
                None => self.cur = None,
            }
            Some(out)
        }
    }
}
