//! End-to-end tests of the `verify` pipeline on the bundled examples: the shallow minimum
//! against an independent least-squares computation (num-rational normal equations, MATH §6),
//! the global minimizer for `L = Q` and `L = Q + 2` (MATH §5: zero cost, zero gradient, Hessian
//! kernel dimension `K − Q²`), the non-separable verdict, and the C3 table (MATH §7).

use dlgeom_cert::certify::Verdict;
use dlgeom_cert::construct::Family;
use dlgeom_cert::data::{DataLimits, Dataset};
use dlgeom_cert::network::Normalisation;
use dlgeom_cert::verify::{run, Options, Outcome, Run};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use std::path::Path;

fn load(name: &str) -> Dataset {
    Dataset::load(
        Path::new(&format!("examples/{name}")),
        &DataLimits::default(),
    )
    .expect("bundled example loads")
}

fn opts(layers: usize) -> Options {
    Options {
        layers,
        norm: Normalisation::HalfMean,
        partition_limit: 5,
    }
}

fn big(s: &str) -> BigRational {
    match s.split_once('/') {
        Some((n, d)) => {
            BigRational::new(n.parse::<BigInt>().unwrap(), d.parse::<BigInt>().unwrap())
        }
        None => BigRational::from_integer(s.parse::<BigInt>().unwrap()),
    }
}

/// Independent least squares: normal equations (X̃ᵀX̃) Z = X̃ᵀY by Gauss–Jordan over
/// num-rational (free variables 0 if singular), then the cost (1/(2N)) Σ |X̃ Z − Y|² from the
/// residuals themselves.
fn reference_shallow_cost(d: &Dataset) -> BigRational {
    let q = d.q;
    let rows: Vec<(Vec<BigRational>, Vec<BigRational>)> = d
        .classes
        .iter()
        .flat_map(|c| {
            let y: Vec<BigRational> = c.target.iter().map(|v| big(&v.canonical())).collect();
            c.inputs.iter().map(move |x| {
                let mut xt: Vec<BigRational> = x.iter().map(|v| big(&v.canonical())).collect();
                xt.push(BigRational::one());
                (xt, y.clone())
            })
        })
        .collect();
    let p = q + 1;
    // augmented [G | R]
    let mut a = vec![vec![BigRational::zero(); p + q]; p];
    for (xt, y) in &rows {
        for i in 0..p {
            for j in 0..p {
                a[i][j] += &xt[i] * &xt[j];
            }
            for k in 0..q {
                a[i][p + k] += &xt[i] * &y[k];
            }
        }
    }
    let mut pivots = Vec::new();
    let mut r = 0;
    for c in 0..p {
        let Some(pr) = (r..p).find(|&i| !a[i][c].is_zero()) else {
            continue;
        };
        a.swap(r, pr);
        let inv = a[r][c].clone().recip();
        for v in a[r].iter_mut() {
            *v *= &inv;
        }
        let pivot_row = a[r].clone();
        for (i, row) in a.iter_mut().enumerate() {
            if i != r && !row[c].is_zero() {
                let f = row[c].clone();
                for (x, y) in row.iter_mut().zip(&pivot_row) {
                    *x -= &f * y;
                }
            }
        }
        pivots.push(c);
        r += 1;
    }
    let mut z = vec![vec![BigRational::zero(); q]; p];
    for (row, &c) in pivots.iter().enumerate() {
        for k in 0..q {
            z[c][k] = a[row][p + k].clone();
        }
    }
    let mut sse = BigRational::zero();
    for (xt, y) in &rows {
        for k in 0..q {
            let mut f = BigRational::zero();
            for i in 0..p {
                f += &xt[i] * &z[i][k];
            }
            let e = f - &y[k];
            sse += &e * &e;
        }
    }
    sse / BigRational::from_integer(BigInt::from(2 * rows.len()))
}

fn built<'a>(r: &'a Run, id: &str) -> &'a dlgeom_cert::verify::Certified {
    match &r.get(id).expect("plan present").outcome {
        Outcome::Built(b) => b,
        Outcome::Infeasible(why) => panic!("{id} infeasible: {why}"),
    }
}

#[test]
fn shallow_cost_matches_independent_least_squares() {
    // (example, exact shallow cost with normalisation 1/(2N))
    let expected = [
        ("two_classes.json", "60478225/17235171264"),
        ("three_classes.json", "1634026265/1182326703618"),
        ("four_classes.json", "41423776036475653/4129160229734084096"),
        ("xor_not_separable.json", "1/4"),
        ("iris3.json", "38858330719471/262383571657900"),
    ];
    for (name, cost) in expected {
        let d = load(name);
        let r = run(&d, &opts(d.q));
        let b = built(&r, "shallow");
        assert_eq!(b.analysis.verdict, Verdict::LocalMinimum, "{name}");
        assert_eq!(
            b.analysis.exact.cost.canonical(),
            cost,
            "{name}: certified cost"
        );
        assert_eq!(
            big(cost),
            reference_shallow_cost(&d),
            "{name}: independent least squares"
        );
        let region = b.analysis.region.as_ref().unwrap();
        assert_eq!(region.groups.len(), 1, "{name}: one pattern group");
        assert!(region.gap.is_zero());
        assert!(b.analysis.gradient_is_zero());
    }
}

#[test]
fn global_minimizer_for_l_q_and_q_plus_2() {
    for name in [
        "two_classes.json",
        "three_classes.json",
        "four_classes.json",
    ] {
        let d = load(name);
        let q = d.q;
        for layers in [q, q + 2] {
            let r = run(&d, &opts(layers));
            let b = built(&r, "global");
            assert_eq!(
                b.analysis.verdict,
                Verdict::GlobalMinimum,
                "{name} L={layers}"
            );
            assert!(b.analysis.exact.cost.is_zero());
            assert!(
                b.analysis.gradient_is_zero(),
                "{name} L={layers}: gradient exactly 0"
            );
            assert!(b.certificate.claims.outputs_equal_targets);
            assert!(b.analysis.exact.margin.as_ref().unwrap().0.is_positive());
            let deg = b.certificate.claims.degeneracy.as_ref().unwrap();
            let k = (layers + 1) * (q * q + q);
            assert_eq!(deg.parameters, k);
            assert_eq!(deg.jacobian_rank, q * q, "{name} L={layers}: rank J = Q²");
            assert_eq!(
                deg.hessian_kernel_dim,
                Some(k - q * q),
                "{name} L={layers}: kernel K − Q²"
            );
            assert!(deg.flat_direction.is_some(), "{name}: flat line");
            // Every collapsed class at its own layer.
            assert_eq!(b.certificate.configuration.cones.len(), q);
            // The float cross-check sees a tiny (or zero) cost, never decides.
            assert!(b.certificate.float_check.cost_f64.unwrap() < 1e-6);
        }
    }
}

#[test]
fn hessian_kernel_numbers_stated() {
    // Q = 2, L = 2: K = 3·6 = 18, rank J = 4, kernel 14. Q = 3, L = 3: K = 4·12 = 48, kernel 39.
    // Q = 4, L = 4: K = 5·20 = 100, kernel 84.
    for (name, k, kernel) in [
        ("two_classes.json", 18, 14),
        ("three_classes.json", 48, 39),
        ("four_classes.json", 100, 84),
    ] {
        let d = load(name);
        let r = run(&d, &opts(d.q));
        let deg = built(&r, "global")
            .certificate
            .claims
            .degeneracy
            .clone()
            .unwrap();
        assert_eq!(
            (deg.parameters, deg.hessian_kernel_dim),
            (k, Some(kernel)),
            "{name}"
        );
    }
}

#[test]
fn non_separable_data_is_reported_exactly() {
    let d = load("xor_not_separable.json");
    let r = run(&d, &opts(2));
    match &r.get("global").unwrap().outcome {
        Outcome::Infeasible(why) => {
            assert!(why.contains("step 1"), "{why}");
            assert!(why.contains("class 1"), "{why}");
        }
        Outcome::Built(_) => panic!("XOR data must not give a global certificate"),
    }
    let d = load("iris3.json");
    let r = run(&d, &opts(3));
    match &r.get("global").unwrap().outcome {
        Outcome::Infeasible(why) => assert!(
            why.contains("step 2") && why.contains("versicolor"),
            "{why}"
        ),
        Outcome::Built(_) => panic!("Iris (3 features) is not sequentially cone-separable"),
    }
}

#[test]
fn c3_table_on_bundled_data() {
    // four_classes: 2^4 − 1 = 15 partial candidates (S = ∅ is the shallow one), 14 refuted by an
    // exact nonzero gradient; all 14 grouped partitions certified; costs pairwise distinct.
    let d = load("four_classes.json");
    let r = run(&d, &opts(4));
    let p = r.count(Family::Partial);
    assert_eq!(
        (p.total, p.certified, p.refuted, p.infeasible),
        (14, 0, 14, 0)
    );
    assert_eq!(
        p.with_descent, 14,
        "each refutation carries an exact descent step"
    );
    let g = r.count(Family::Grouped);
    assert_eq!((g.total, g.certified), (14, 14));
    let (costs, distinct) = r.certified_costs();
    assert_eq!(costs.len(), 16);
    assert!(distinct);
    for e in &r.entries {
        if let Outcome::Built(b) = &e.outcome {
            if b.analysis.verdict == Verdict::NotLocalMinimum {
                let dsc = b.analysis.descent.as_ref().unwrap();
                assert!(dsc.cost_after < b.analysis.exact.cost);
                assert!(dsc.margin_after.is_positive());
            }
        }
    }
}

#[test]
fn certificates_are_deterministic_across_thread_counts() {
    let d = load("three_classes.json");
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| run(&d, &opts(3)));
    let b = two.install(|| run(&d, &opts(3)));
    for (x, y) in a.entries.iter().zip(&b.entries) {
        if let (Outcome::Built(x), Outcome::Built(y)) = (&x.outcome, &y.outcome) {
            assert_eq!(x.certificate.to_json(), y.certificate.to_json());
        }
    }
}
