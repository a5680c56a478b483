//! Property tests of the network module (MATH.md §2–§3) against slow, obviously-correct
//! references:
//! - the truncation identity `h^ℓ = W^{(ℓ)} τ^{(ℓ)}(x) + b^{(ℓ)}` ([SEQ]) on random invertible
//!   rational weights, and `τ ∘ τ = τ`;
//! - cumulative parameters ↔ layer weights round trip;
//! - the exact backpropagation gradient against the exact derivative of the cost along a
//!   random direction: within one activation-pattern region `C(θ + t d)` is a polynomial of
//!   degree ≤ 2(L+1) in `t`, so Lagrange interpolation through 2(L+1)+1 sample points gives
//!   `d/dt C(θ + t d)|₀ = ∇C·d` exactly;
//! - `certify::jacobian_rank` (representatives per pattern group, one per switched-off group,
//!   duplicate rows dropped) against the rank of the full Jacobian over every point;
//! - the `first-layer-bias` descent witness (step from the quadratic model) against its
//!   definition: exact decrease and positive margin at `θ + t d`, re-evaluated by the naive
//!   exact path.

use dlgeom_cert::arith::Rat;
use dlgeom_cert::certify::{descent_along, jacobian_rank, output_jacobian, DescentDirection};
use dlgeom_cert::data::{Class, Dataset};
use dlgeom_cert::matrix::{dot, vadd, Matrix};
use dlgeom_cert::network::{
    cumulative, curated_points, from_cumulative, truncate, Evaluation, Layer, Network,
    Normalisation,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn rat() -> impl Strategy<Value = Rat> {
    (-9i64..=9, 1i64..=4).prop_map(|(n, d)| Rat::from_frac(n, d).unwrap())
}

fn mat(q: usize) -> impl Strategy<Value = Matrix> {
    proptest::collection::vec(rat(), q * q).prop_map(move |v| Matrix::from_vec(q, q, v))
}

fn invertible(q: usize) -> impl Strategy<Value = Matrix> {
    mat(q).prop_filter("invertible", |m| m.rank() == m.rows)
}

fn network(q: usize, l: usize, inv: bool) -> BoxedStrategy<Network> {
    let layer = move |inv: bool| {
        let w = if inv {
            invertible(q).boxed()
        } else {
            mat(q).boxed()
        };
        (w, proptest::collection::vec(rat(), q)).prop_map(|(w, b)| Layer { w, b })
    };
    (proptest::collection::vec(layer(inv), l), layer(false))
        .prop_map(|(mut hidden, out)| {
            hidden.push(out);
            Network { layers: hidden }
        })
        .boxed()
}

fn dataset(q: usize, pts: Vec<Vec<Rat>>) -> Dataset {
    let classes = (0..q)
        .map(|j| {
            let mut target = vec![Rat::zero(); q];
            target[j] = Rat::one();
            Class {
                name: None,
                target,
                target_given: false,
                inputs: pts.iter().skip(j).step_by(q).cloned().collect(),
            }
        })
        .collect();
    Dataset::from_classes(classes).unwrap()
}

/// A deterministic runner for drawing values inside a property (the seed is the case).
fn seeded(seed: u64) -> proptest::test_runner::TestRunner {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    proptest::test_runner::TestRunner::new_with_rng(
        ProptestConfig::default(),
        proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &s),
    )
}

/// A random network (`q` wide, `l` hidden layers) and data set with `2q..6q` points.
fn random_case(
    runner: &mut proptest::test_runner::TestRunner,
    q: usize,
    l: usize,
) -> (Network, Dataset) {
    let net = network(q, l, false).new_tree(runner).unwrap().current();
    let pts = proptest::collection::vec(proptest::collection::vec(rat(), q), 2 * q..6 * q)
        .new_tree(runner)
        .unwrap()
        .current();
    (net, dataset(q, pts))
}

/// Exact derivative at 0 of the polynomial through (t_i, c_i): Σ_i c_i ℓ_i'(0).
fn derivative_at_zero(ts: &[Rat], cs: &[Rat]) -> Rat {
    let mut s = Rat::zero();
    for (i, ti) in ts.iter().enumerate() {
        // ℓ_i(t) = Π_{j≠i} (t − t_j)/(t_i − t_j); ℓ_i'(0) = Σ_{k≠i} [1/(t_i − t_k)] Π_{j≠i,k} (−t_j)/(t_i − t_j)
        let mut li = Rat::zero();
        for (k, tk) in ts.iter().enumerate() {
            if k == i {
                continue;
            }
            let mut term = (ti - tk).recip().unwrap();
            for (j, tj) in ts.iter().enumerate() {
                if j != i && j != k {
                    term = &term * &(&(-tj) / &(ti - tj));
                }
            }
            li += term;
        }
        s += &li * &cs[i];
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn truncation_identity(q in 1usize..=3, l in 1usize..=3, seed in any::<u64>()) {
        let mut runner = seeded(seed);
        let net = network(q, l, true).new_tree(&mut runner).unwrap().current();
        let x = proptest::collection::vec(rat(), q).new_tree(&mut runner).unwrap().current();
        let cum = cumulative(&net);
        prop_assert_eq!(from_cumulative(&cum).unwrap(), net.clone());
        let taus = curated_points(&net, &x).unwrap();
        let (hs, _) = net.trace(&x);
        for ell in 1..=l {
            let c = &cum[ell - 1];
            let lhs = &hs[ell - 1];
            let rhs = vadd(&c.w.mul_vec(&taus[ell]), &c.b);
            prop_assert_eq!(lhs, &rhs, "layer {}", ell);
            // τ is idempotent.
            let inv = c.w.inverse().unwrap();
            let again = truncate(&c.w, &inv, &c.b, &taus[ell]);
            prop_assert_eq!(&truncate(&c.w, &inv, &c.b, &again), &again);
        }
        // f(x) = W^{(L+1)} τ^{(L)}(x) + b^{(L+1)}.
        let out = &cum[l];
        prop_assert_eq!(net.output(&x), vadd(&out.w.mul_vec(&taus[l]), &out.b));
    }

    #[test]
    fn gradient_is_the_exact_derivative(q in 1usize..=3, l in 1usize..=2, seed in any::<u64>()) {
        let mut runner = seeded(seed);
        let net = network(q, l, false).new_tree(&mut runner).unwrap().current();
        let pts = proptest::collection::vec(proptest::collection::vec(rat(), q), 2 * q..4 * q)
            .new_tree(&mut runner).unwrap().current();
        let data = dataset(q, pts);
        let d = proptest::collection::vec(rat(), net.param_count()).new_tree(&mut runner).unwrap().current();
        for norm in [Normalisation::HalfMean, Normalisation::Mean] {
            let e: Evaluation<Rat> = net.evaluate(&data, norm);
            let margin = e.margin.clone().unwrap().0;
            if margin.is_zero() {
                prop_assert!(e.gradient.is_none());
                continue;
            }
            let g = e.gradient.clone().unwrap();
            // Steps small enough that no pre-activation changes sign: shrink until the
            // patterns at every sample equal the base patterns.
            let deg = 2 * (l + 1);
            let mut eps = Rat::from_frac(1, 1000).unwrap();
            let (ts, cs) = loop {
                let ts: Vec<Rat> = (0..=deg as i64).map(|i| &Rat::from_i64(i - (deg as i64) / 2) * &eps).collect();
                let evals: Vec<Evaluation<Rat>> = ts.iter().map(|t| net.step(&d, t).evaluate(&data, norm)).collect();
                if evals.iter().all(|x| x.patterns == e.patterns) {
                    break (ts, evals.into_iter().map(|x| x.cost).collect::<Vec<_>>());
                }
                eps = &eps / &Rat::from_i64(16);
            };
            prop_assert_eq!(derivative_at_zero(&ts, &cs), dot(&g, &d));
            // The f64 evaluation runs the same code and agrees to rounding.
            let f: Evaluation<f64> = net.evaluate(&data, norm);
            prop_assert!((f.cost - e.cost.to_f64()).abs() <= 1e-9 * (1.0 + e.cost.to_f64().abs()));
        }
    }

    #[test]
    fn jacobian_rank_equals_full_rank(q in 1usize..=3, l in 1usize..=3, seed in any::<u64>()) {
        let mut runner = seeded(seed);
        let (net, data) = random_case(&mut runner, q, l);
        let e: Evaluation<Rat> = net.evaluate(&data, Normalisation::HalfMean);
        let full: Vec<Vec<Rat>> = data
            .classes
            .iter()
            .flat_map(|c| c.inputs.iter())
            .flat_map(|x| output_jacobian(&net, x))
            .collect();
        let want = Matrix::from_rows(&full).rank();
        prop_assert_eq!(jacobian_rank(&net, &data, &e.patterns), want);
    }

    #[test]
    fn bias_descent_step_decreases_the_cost(q in 1usize..=3, l in 1usize..=3, seed in any::<u64>()) {
        let mut runner = seeded(seed);
        let (net, data) = random_case(&mut runner, q, l);
        for norm in [Normalisation::HalfMean, Normalisation::Mean] {
            let e: Evaluation<Rat> = net.evaluate(&data, norm);
            let Some(g) = e.gradient.clone() else { continue };
            let b1 = &g[q * q..q * q + q];
            let found = descent_along(&net, &data, norm, &e, DescentDirection::FirstLayerBias);
            if b1.iter().all(Rat::is_zero) || !e.margin.as_ref().unwrap().0.is_positive() {
                prop_assert!(found.is_none());
                continue;
            }
            // A nonzero b_1 block at positive margin always yields a step (the model is exact
            // on the pattern region).
            let found = found.expect("a step along -dC/db_1");
            let mut d = vec![Rat::zero(); g.len()];
            for (i, x) in b1.iter().enumerate() {
                d[q * q + i] = -x;
            }
            let after: Evaluation<Rat> = net.step(&d, &found.step).evaluate(&data, norm);
            prop_assert!(found.step.is_positive());
            prop_assert_eq!(&after.cost, &found.cost_after);
            prop_assert!(after.cost < e.cost);
            prop_assert_eq!(&after.margin.unwrap().0, &found.margin_after);
            prop_assert!(found.margin_after.is_positive());
            prop_assert_eq!(&after.patterns, &e.patterns);
        }
    }
}
