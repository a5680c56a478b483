//! The main job (PRODUCT.md `verify`): build every configuration of MATH.md §5–§7 for one
//! data set, certify or refute each, assemble the certificates and the claim table C1–C4.
//!
//! Families: the shallow minimum (§6), the global minimizer (§5, needs `L ≥ Q`), the
//! `2^Q − 1` partial-curation candidates (§7a; `S = ∅` is the shallow minimum), and grouped
//! curation (§7b: every merged subset, plus every set partition when `Q ≤` the partition
//! limit). Each configuration gets one self-contained [`Certificate`].

use crate::arith::Rat;
use crate::cert::*;
use crate::certify::{analyse_with, jacobian_rank, output_flat_direction, Analysis, Verdict};
use crate::cones::Cone;
use crate::construct::{build_with, plans, shared_cones, BuildError, Construction, Family, Plan};
use crate::data::Dataset;
use crate::fastexact::ExactData;
use crate::network::{Network, Normalisation};
use num_bigint::BigUint;
use num_traits::{One, Zero};

/// Options of a `verify` run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Hidden layers `L` (default `Q`).
    pub layers: usize,
    /// Cost normalisation.
    pub norm: Normalisation,
    /// Enumerate all set partitions when `Q ≤` this (MATH.md §7b).
    pub partition_limit: usize,
}

/// The outcome for one plan.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Built and analysed; certificate attached.
    Built(Box<Certified>),
    /// Could not be built (why).
    Infeasible(String),
}

/// A built, analysed configuration.
#[derive(Clone, Debug)]
pub struct Certified {
    /// The construction.
    pub construction: Construction,
    /// The analysis.
    pub analysis: Analysis,
    /// Its certificate.
    pub certificate: Certificate,
}

/// One row of a run.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The plan.
    pub plan: Plan,
    /// What happened.
    pub outcome: Outcome,
}

/// All results for one data set.
#[derive(Clone, Debug)]
pub struct Run {
    /// `L`.
    pub layers: usize,
    /// `Q`.
    pub q: usize,
    /// The families run (the others are reported as not run).
    pub families: Families,
    /// Every configuration, in a fixed order: shallow, global, partial, grouped.
    pub entries: Vec<Entry>,
}

/// Which families a `verify` run builds (`--families`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Families {
    /// §6, the shallow minimum.
    pub shallow: bool,
    /// §5, the global minimizer.
    pub global: bool,
    /// §7a, partial curation.
    pub partial: bool,
    /// §7b, grouped curation.
    pub grouped: bool,
}

impl Families {
    /// Every family (the default).
    pub const ALL: Families = Families {
        shallow: true,
        global: true,
        partial: true,
        grouped: true,
    };
    /// The family order of a run.
    pub const ORDER: [Family; 4] = [
        Family::Shallow,
        Family::Global,
        Family::Partial,
        Family::Grouped,
    ];

    /// Parse a comma-separated list of family names (`global,shallow,partial,grouped`, any
    /// order, at least one; `all` for every family).
    pub fn parse(text: &str) -> Result<Families, String> {
        let mut f = Families {
            shallow: false,
            global: false,
            partial: false,
            grouped: false,
        };
        for name in text.split(',').map(str::trim) {
            match name {
                "shallow" => f.shallow = true,
                "global" => f.global = true,
                "partial" => f.partial = true,
                "grouped" => f.grouped = true,
                "all" => f = Families::ALL,
                "" => return Err(format!("--families {text:?}: an empty family name (expected a comma-separated list of global, shallow, partial, grouped, or all)")),
                other => return Err(format!("--families: unknown family {other:?} (expected a comma-separated list of global, shallow, partial, grouped, or all)")),
            }
        }
        Ok(f)
    }

    /// Whether `fam` is run.
    pub fn contains(&self, fam: Family) -> bool {
        match fam {
            Family::Shallow => self.shallow,
            Family::Global => self.global,
            Family::Partial => self.partial,
            Family::Grouped => self.grouped,
        }
    }

    /// The families not run, in run order.
    pub fn omitted(&self) -> Vec<Family> {
        Families::ORDER
            .into_iter()
            .filter(|f| !self.contains(*f))
            .collect()
    }
}

/// How many configurations each family has for `Q` classes, exactly, in run order, without
/// enumerating them: shallow 1, global 1, partial `2^Q − 2` (`∅ ≠ S ⊊ {1..Q}`), grouped
/// `Bell(Q) − 1` set partitions with a merged group when `Q ≤ partition_limit`, else the
/// `2^Q − Q − 1` merged subsets (see [`plans`]).
pub fn configuration_counts(q: usize, partition_limit: usize) -> Vec<(Family, BigUint)> {
    let pow2 = BigUint::one() << q;
    let grouped = if q <= partition_limit {
        bell(q) - BigUint::one()
    } else {
        pow2.clone() - BigUint::from(q) - BigUint::one()
    };
    vec![
        (Family::Shallow, BigUint::one()),
        (Family::Global, BigUint::one()),
        (Family::Partial, pow2.clone() - BigUint::from(2u8).min(pow2)),
        (Family::Grouped, grouped),
    ]
}

/// The Bell number `B(q)` (set partitions of a `q`-set), by the Bell triangle.
fn bell(q: usize) -> BigUint {
    let mut row = vec![BigUint::one()];
    for _ in 1..=q {
        let mut next = Vec::with_capacity(row.len() + 1);
        next.push(row.last().expect("nonempty").clone());
        for v in &row {
            let x = next.last().expect("nonempty") + v;
            next.push(x);
        }
        row = next;
    }
    row[0].clone()
}

/// Every plan of the chosen families for `Q` classes, lazily, in run order: shallow, global,
/// partial (by `|S|`, then lexicographically), grouped (set partitions when
/// `Q ≤ partition_limit`, else merged subsets). Its length per family is
/// [`configuration_counts`].
pub fn plan_iter(
    q: usize,
    partition_limit: usize,
    families: Families,
) -> impl Iterator<Item = Plan> {
    let shallow = families.shallow.then(|| plans::shallow(q));
    let global = families.global.then(|| plans::global(q));
    let partial = families.partial.then(|| plans::partial_iter(q));
    let grouped: Option<Box<dyn Iterator<Item = Plan> + Send>> = match families.grouped {
        false => None,
        true if q <= partition_limit => Some(Box::new(plans::partitions_iter(q))),
        true => Some(Box::new(plans::merged_subsets_iter(q))),
    };
    shallow
        .into_iter()
        .chain(global)
        .chain(partial.into_iter().flatten())
        .chain(grouped.into_iter().flatten())
}

/// Every plan for `Q` classes, in run order, collected ([`plan_iter`] with every family;
/// only for small `Q`: there are more than `2^Q` of them).
pub fn all_plans(q: usize, partition_limit: usize) -> Vec<Plan> {
    plan_iter(q, partition_limit, Families::ALL).collect()
}

/// Plans taken from [`plan_iter`] at a time by [`run_selected`]: the plans in flight are
/// bounded by this, not by the number of configurations.
pub const PLAN_BATCH: usize = 256;

/// Run every family on `data`.
pub fn run(data: &Dataset, opts: &Options) -> Run {
    run_with_progress(data, opts, &|_, _| {})
}

/// [`run`], calling `progress(done, total)` after each configuration. Configurations run in
/// parallel; the result keeps the fixed plan order, so output does not depend on threads.
pub fn run_with_progress(
    data: &Dataset,
    opts: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Run {
    run_selected(data, opts, Families::ALL, progress)
}

/// [`run_with_progress`] on the chosen `families` only. The plans are enumerated lazily
/// ([`plan_iter`]) and run [`PLAN_BATCH`] at a time in parallel, in the fixed plan order.
/// The caller bounds the number of configurations first ([`configuration_counts`]; the
/// command line refuses above `--max-configurations`): each finished certificate is kept.
pub fn run_selected(
    data: &Dataset,
    opts: &Options,
    families: Families,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Run {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let total = configuration_counts(data.q, opts.partition_limit)
        .into_iter()
        .filter(|(f, _)| families.contains(*f))
        .fold(BigUint::zero(), |a, (_, n)| a + n);
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let done = AtomicUsize::new(0);
    let fx = ExactData::new(data);
    let fixed = shared_cones(data, fx.class_stats());
    let mut plans = plan_iter(data.q, opts.partition_limit, families);
    let mut entries: Vec<Entry> = Vec::new();
    loop {
        let batch: Vec<Plan> = plans.by_ref().take(PLAN_BATCH).collect();
        if batch.is_empty() {
            break;
        }
        entries.par_extend(batch.into_par_iter().map(|plan| {
            let outcome = run_plan_with(&fx, fixed.as_deref(), opts, &plan);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            Entry { plan, outcome }
        }));
    }
    Run {
        layers: opts.layers,
        q: data.q,
        families,
        entries,
    }
}

/// Build, analyse and certify one plan. The returned analysis has empty per-point
/// `outputs` and `patterns` (see [`run_plan_with`]); [`crate::certify::analyse`] recomputes
/// the patterns, [`crate::fastexact::ExactData::evaluate`] both.
pub fn run_plan(data: &Dataset, opts: &Options, plan: &Plan) -> Outcome {
    let fx = ExactData::new(data);
    let fixed = shared_cones(data, fx.class_stats());
    run_plan_with(&fx, fixed.as_deref(), opts, plan)
}

/// [`run_plan`] on data prepared once for many plans ([`ExactData`]) with the shared
/// one-vs-rest cones ([`shared_cones`]) computed once.
pub fn run_plan_with(
    fx: &ExactData,
    fixed: Option<&[Cone]>,
    opts: &Options,
    plan: &Plan,
) -> Outcome {
    let data = fx.data();
    match build_with(data, fx.class_stats(), fixed, opts.layers, plan) {
        Err(e) => Outcome::Infeasible(describe_build_error(&e, plan, data)),
        Ok(c) => {
            let mut analysis = analyse_with(&c.network, fx, opts.norm);
            let certificate = certificate(data, opts, &c, &analysis);
            // Everything later steps read (verdict, cost, descent, certificate) is kept; the
            // per-point patterns are dropped (the outputs were never kept), or a run would
            // hold O(configurations · N) of them until it ends.
            analysis.exact.patterns = Vec::new();
            Outcome::Built(Box::new(Certified {
                construction: c,
                analysis,
                certificate,
            }))
        }
    }
}

/// The size of the data over one common denominator: the digits of the largest input
/// numerator `|x·D|`, `D` the lcm of all input denominators (`|x·D|` has at most
/// `bits(p) + bits(D) − bits(q) + 1` bits for `x = p/q`). `None` once it exceeds `limit`
/// digits (the lcm is then not completed, so this stays cheap on any data).
pub fn scaled_data_digits(data: &Dataset, limit: usize) -> Option<usize> {
    let digits = |bits: u64| (bits as u128 * 30_103 / 100_000) as usize + 1;
    let inputs = || data.classes.iter().flat_map(|c| c.inputs.iter().flatten());
    let (mut d, mut last) = (crate::arith::Int::one(), crate::arith::Int::one());
    for v in inputs().filter(|v| !v.is_integer()) {
        let den = v.denom();
        if den != last {
            d = d.lcm(&den);
            if digits(d.bit_size()) > limit {
                return None;
            }
            last = den;
        }
    }
    let (db, mut most) = (d.bit_size(), 0u64);
    for v in inputs().filter(|v| !v.is_zero()) {
        most = most.max(v.numer().bit_size() + db + 1 - v.denom().bit_size());
    }
    Some(digits(most)).filter(|&n| n <= limit)
}

/// The up-front size limit of `verify`: the exact certificates of data whose inputs, over one
/// common denominator, have numerators of `S` digits hold least-squares weights, costs and
/// gradients of about `4(Q+1)·S` digits (Cramer's rule on the normal equations, squared
/// residuals), which must fit the per-number limit of certificates (`max_digits` =
/// `D` of [`crate::checker::CertLimits`], `--max-certificate-digits`, the limit the checker
/// reads certificates under). Refused before any work, with the sizes, when
/// `4(Q+1)·S > D`: the same answer the pre-write test would give after all the work.
pub fn check_data_size(data: &Dataset, max_digits: usize) -> Result<(), String> {
    let factor = 4 * (data.q + 1);
    let limit = max_digits / factor;
    match scaled_data_digits(data, limit) {
        Some(_) => Ok(()),
        None => Err(format!(
            "the inputs over their common denominator have numerators of more than {limit} digits: \
             the exact certificates (least-squares weights, costs, gradients) would hold numbers \
             of about {factor} times as many digits, beyond the limit of {max_digits} digits per \
             certificate number (raise it with --max-certificate-digits; the cost of exact \
             arithmetic grows with it)"
        )),
    }
}

/// Class `c` (0-based) as `class 2 ("versicolor")`.
pub fn class_label(data: &Dataset, c: usize) -> String {
    match &data.classes[c].name {
        Some(n) => format!("class {} (\"{}\")", c + 1, n),
        None => format!("class {}", c + 1),
    }
}

/// A one-line reason for an infeasible plan.
pub fn describe_build_error(e: &BuildError, plan: &Plan, data: &Dataset) -> String {
    let unit = |u: usize| {
        plan.units[u]
            .iter()
            .map(|&c| class_label(data, c))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    match e {
        BuildError::TooFewLayers { units, layers } => format!(
            "needs {units} hidden layers to collapse {units} units, only {layers} available (use --layers)"
        ),
        BuildError::NotSeparable { failure: f, any_order } => {
            let rem: Vec<String> = f.remaining.iter().map(|&u| unit(u)).collect();
            if *any_order {
                format!(
                    "not sequentially cone-separable in any order: at step {} each of [{}] has a convex hull meeting that of the other remaining points (exact hull-intersection witnesses among data points)",
                    f.step,
                    rem.join("; ")
                )
            } else {
                format!(
                    "cone separation failed at step {} for [{}]: the exact witnesses involve earlier apexes, so only this greedy order with these apexes is refuted, not every order",
                    f.step,
                    rem.join("; ")
                )
            }
        }
        BuildError::Singular => "a cumulative hidden map was singular".to_string(),
    }
}

fn s(x: &Rat) -> String {
    x.canonical()
}
fn sv(v: &[Rat]) -> Vec<String> {
    v.iter().map(Rat::canonical).collect()
}

/// Network weights as a certificate block.
pub fn network_record(net: &Network) -> NetworkRecord {
    NetworkRecord {
        hidden_layers: net.hidden(),
        width: net.width(),
        layers: net
            .layers
            .iter()
            .map(|l| LayerRecord {
                w: l.w.to_rows().iter().map(|r| sv(r)).collect(),
                b: sv(&l.b),
            })
            .collect(),
    }
}

/// The data binding block.
pub fn data_binding(data: &Dataset, norm: Normalisation) -> DataBinding {
    DataBinding {
        sha256_bytes: data.sha256_bytes.clone(),
        sha256_canonical: data.sha256_canonical.clone(),
        classes: data.q,
        points: data.n(),
        class_counts: data.counts(),
        normalisation: norm.label().to_string(),
    }
}

/// The claims and float blocks of an analysis (shared with `certify --network`).
pub fn claims_and_float(
    net: &Network,
    analysis: &Analysis,
    degeneracy: Option<DegeneracyRecord>,
) -> (Claims, FloatRecord) {
    let ex = &analysis.exact;
    let (mv, loc) = ex.margin.clone().expect("at least one hidden layer");
    let gradient_zero = analysis.gradient_is_zero();
    // Every output equals its target iff every residual is 0, i.e. `Σ |f − y|² = 0`.
    let outputs_equal_targets = ex.sse.is_zero();
    let claims = Claims {
        verdict: analysis.verdict.name().to_string(),
        cost: s(&ex.cost),
        margin: MarginRecord {
            value: s(&mv),
            class: loc.class,
            point: loc.point,
            layer: loc.layer,
            neuron: loc.neuron,
        },
        gradient_zero,
        gradient: match (&ex.gradient, gradient_zero) {
            (Some(g), false) => Some(sv(g)),
            _ => None,
        },
        outputs_equal_targets,
        pattern_region: analysis.region.as_ref().map(|r| RegionRecord {
            groups: r
                .groups
                .iter()
                .map(|g| GroupRecord {
                    pattern: g.pattern.clone(),
                    size: g.size,
                    fit: if g.constant { "constant" } else { "affine" }.to_string(),
                    bound: s(&g.bound),
                })
                .collect(),
            sum: s(&r.total),
            gap: s(&r.gap),
            certified: r.gap.is_zero(),
        }),
        degeneracy,
        descent: analysis.descent.as_ref().map(|d| DescentRecord {
            direction: d.direction.name().to_string(),
            step: s(&d.step),
            cost_after: s(&d.cost_after),
            margin_after: s(&d.margin_after),
        }),
        max_weight_bits: net.max_bits(),
    };
    let f = &analysis.float;
    let float = FloatRecord {
        non_normative: true,
        cost_f64: Some(f.cost).filter(|x| x.is_finite()),
        max_abs_gradient_f64: f.max_abs_gradient.filter(|x| x.is_finite()),
        max_abs_output_error: Some(f.max_abs_output_error).filter(|x| x.is_finite()),
        margin_f64: f.margin.filter(|x| x.is_finite()),
    };
    (claims, float)
}

/// The `tool` block: this program's name and version.
fn tool() -> Tool {
    Tool {
        name: "dlgeom-cert".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// Degeneracy block for a certified minimum: `rank J`, the Hessian kernel at zero residual,
/// and an output-layer flat line with samples `t = 1, 2, 3` (flat by an exact identity on
/// the curated points, [`output_flat_direction`]; the checker evaluates the samples).
pub fn degeneracy(
    net: &Network,
    data: &Dataset,
    analysis: &Analysis,
    curated: &[Vec<Rat>],
) -> DegeneracyRecord {
    let k = net.param_count();
    let rank = jacobian_rank(net, data, &analysis.exact.patterns);
    // The direction moves only the output layer and vanishes on every curated point (checked
    // exactly in `output_flat_direction`), so every output on the data, hence the cost, is
    // the same for every t; the checker re-evaluates the cost at the samples.
    let flat = output_flat_direction(net, curated).map(|d| FlatRecord {
        kind: "output-layer".to_string(),
        direction: sv(&d),
        samples: sv(&(1..=3).map(Rat::from_i64).collect::<Vec<_>>()),
    });
    DegeneracyRecord {
        parameters: k,
        jacobian_rank: rank,
        hessian_kernel_dim: analysis.exact.cost.is_zero().then_some(k - rank),
        rescaling_dims: net.hidden() * net.width(),
        flat_direction: flat,
    }
}

/// The certificate of one construction.
pub fn certificate(
    data: &Dataset,
    opts: &Options,
    c: &Construction,
    analysis: &Analysis,
) -> Certificate {
    let net = &c.network;
    let minimum = matches!(
        analysis.verdict,
        Verdict::GlobalMinimum | Verdict::LocalMinimum
    );
    let degeneracy = minimum.then(|| {
        // Curated points after the last hidden layer: apexes and passing inputs.
        let mut curated: Vec<Vec<Rat>> = c.cones.iter().map(|k| k.apex.clone()).collect();
        for &p in &c.plan.passing {
            curated.extend(data.classes[p].inputs.iter().cloned());
        }
        let mut d = degeneracy(net, data, analysis, &curated);
        if d.flat_direction.is_none() && c.cones.is_empty() {
            d.flat_direction = pass_through_shift(net, data, analysis, opts.norm);
        }
        d
    });
    let (claims, float_check) = claims_and_float(net, analysis, degeneracy);
    let one_based = |u: &[usize]| u.iter().map(|x| x + 1).collect::<Vec<_>>();
    Certificate {
        format: FORMAT.to_string(),
        tool: tool(),
        source: SOURCE.to_string(),
        data: data_binding(data, opts.norm),
        configuration: Configuration {
            id: c.plan.id(),
            family: c.plan.family.name().to_string(),
            collapse_order: c
                .cones
                .iter()
                .map(|k| one_based(&c.plan.units[k.unit]))
                .collect(),
            passing: one_based(&c.plan.passing),
            cones: c
                .cones
                .iter()
                .enumerate()
                .map(|(i, k)| ConeRecord {
                    layer: i + 1,
                    classes: one_based(&c.plan.units[k.unit]),
                    normal: sv(&k.normal),
                    beta: s(&k.beta),
                    apex: sv(&k.apex),
                    kappa: s(&k.kappa),
                })
                .collect(),
            idle_shift: s(&c.idle_shift),
        },
        network: network_record(net),
        claims,
        float_check,
    }
}

/// Counts for the C3 table of one family.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FamilyCount {
    /// Configurations considered.
    pub total: usize,
    /// Certified local (or global) minima.
    pub certified: usize,
    /// Refuted: positive margin and nonzero exact gradient.
    pub refuted: usize,
    /// With an explicit descent witness among the refuted.
    pub with_descent: usize,
    /// Could not be built.
    pub infeasible: usize,
    /// Critical points not certified, or not differentiable.
    pub undecided: usize,
}

impl Run {
    /// Counts per family.
    pub fn count(&self, fam: Family) -> FamilyCount {
        let mut c = FamilyCount::default();
        for e in self.entries.iter().filter(|e| e.plan.family == fam) {
            c.total += 1;
            match &e.outcome {
                Outcome::Infeasible(_) => c.infeasible += 1,
                Outcome::Built(b) => match b.analysis.verdict {
                    Verdict::GlobalMinimum | Verdict::LocalMinimum => c.certified += 1,
                    Verdict::NotLocalMinimum => {
                        c.refuted += 1;
                        if b.analysis.descent.is_some() {
                            c.with_descent += 1;
                        }
                    }
                    _ => c.undecided += 1,
                },
            }
        }
        c
    }

    /// The certified minima's exact costs, in run order, and whether they are pairwise
    /// distinct.
    pub fn certified_costs(&self) -> (Vec<(String, Rat)>, bool) {
        let v: Vec<(String, Rat)> = self
            .entries
            .iter()
            .filter_map(|e| match &e.outcome {
                Outcome::Built(b)
                    if matches!(
                        b.analysis.verdict,
                        Verdict::GlobalMinimum | Verdict::LocalMinimum
                    ) =>
                {
                    Some((e.plan.id(), b.analysis.exact.cost.clone()))
                }
                _ => None,
            })
            .collect();
        let mut costs: Vec<&Rat> = v.iter().map(|x| &x.1).collect();
        costs.sort();
        let distinct = costs.windows(2).all(|w| w[0] != w[1]);
        (v, distinct)
    }

    /// The entry of a plan id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.plan.id() == id)
    }
}

/// The certificate of a network supplied by the user (`certify --network`, MATH.md §8):
/// family `imported`, no construction; claims as for any configuration; degeneracy (`rank J`,
/// the Hessian kernel at zero cost) only for certified minima.
pub fn imported_certificate(
    data: &Dataset,
    norm: Normalisation,
    net: &Network,
    analysis: &Analysis,
) -> Certificate {
    let minimum = matches!(
        analysis.verdict,
        Verdict::GlobalMinimum | Verdict::LocalMinimum
    );
    let degeneracy = minimum.then(|| degeneracy(net, data, analysis, &[]));
    let (claims, float_check) = claims_and_float(net, analysis, degeneracy);
    Certificate {
        format: FORMAT.to_string(),
        tool: tool(),
        source: SOURCE.to_string(),
        data: data_binding(data, norm),
        configuration: Configuration {
            id: "imported".to_string(),
            family: "imported".to_string(),
            collapse_order: vec![],
            passing: vec![],
            cones: vec![],
            idle_shift: "0".to_string(),
        },
        network: network_record(net),
        claims,
        float_check,
    }
}

/// A flat segment of a network whose hidden layers pass every point (the shallow minimum,
/// MATH.md §6): shift `b_1` by `u = e_1` and `b_{L+1}` by `−W_{L+1}⋯W_2 u`. On the all-on
/// region the outputs do not change; every pre-activation is affine in `t` there, so positivity
/// at `t = ±t₀` (checked exactly, `t₀ = 2^{-k}`) gives a whole segment of constant cost.
pub fn pass_through_shift(
    net: &Network,
    data: &Dataset,
    analysis: &Analysis,
    norm: Normalisation,
) -> Option<FlatRecord> {
    let q = net.width();
    if !analysis.exact.patterns.iter().all(|p| p.iter().all(|&b| b)) {
        return None;
    }
    let mut u = vec![Rat::zero(); q];
    u[0] = Rat::one();
    let mut v = u.clone();
    for l in &net.layers[1..] {
        v = l.w.mul_vec(&v);
    }
    let k = net.param_count();
    let mut d = vec![Rat::zero(); k];
    for m in 0..q {
        d[q * q + m] = u[m].clone();
        d[k - q + m] = -&v[m];
    }
    // Only the hidden layers decide the patterns and the margin, so the samples are
    // evaluated with the output layer set to zero (its least-squares weights are the largest
    // numbers of the network, and the cost is not needed): where every point is all-on at
    // `t`, the network is affine along the segment and the output moves by
    // `t·W_{L+1}⋯W_2 u − t·v = 0`, so the cost is exactly `analysis.exact.cost`.
    let hidden_only = |s: &Rat| {
        let mut m = net.step(&d, s);
        let out = m.layers.last_mut().expect("an output layer");
        out.w = crate::matrix::Matrix::zeros(q, q);
        out.b = vec![Rat::zero(); q];
        m
    };
    let mut t = Rat::one();
    for _ in 0..64 {
        let samples = [-&t, t.clone()];
        let ok = samples.iter().all(|s| {
            let e = hidden_only(s).evaluate_exact(data, norm);
            e.patterns.iter().all(|p| p.iter().all(|&b| b))
                && e.margin.is_some_and(|m| m.0.is_positive())
        });
        if ok {
            return Some(FlatRecord {
                kind: "pass-through-shift".to_string(),
                direction: sv(&d),
                samples: sv(&samples),
            });
        }
        t = &t / &Rat::from_i64(2);
    }
    None
}
