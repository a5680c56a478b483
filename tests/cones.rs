//! Tests of `lp` (exact strict separation) and `cones` (sequential cone separation, MATH.md §4).

use dlgeom_cert::arith::Rat;
use dlgeom_cert::cones::{
    apexes_affinely_independent, sequential_cones, verify_cone, Cone, ConeFailure, PointRef,
};
use dlgeom_cert::lp::{
    separate, separate_with_hints, verify_separator, HullIntersection, Separation,
};
use dlgeom_cert::matrix::dot;
use proptest::prelude::*;

fn r(s: &str) -> Rat {
    Rat::parse(s).unwrap()
}

fn ri(v: &[i64]) -> Vec<Rat> {
    v.iter().map(|&x| Rat::from_i64(x)).collect()
}

fn refs(v: &[Vec<Rat>]) -> Vec<&[Rat]> {
    v.iter().map(|p| p.as_slice()).collect()
}

/// Deterministic pseudo-random generator (64-bit LCG) for reproducible test data.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// A decimal in [-spread, spread] with three digits, as exact text.
    fn noise(&mut self, spread_thousandths: i64) -> Rat {
        let k = (self.next() % (2 * spread_thousandths as u64 + 1)) as i64 - spread_thousandths;
        Rat::parse(&format!("{}e-3", k)).unwrap()
    }
}

/// `q` classes in `ℚ^d`, class `j` near `10 e_j` (+ `offset`), `per` points each,
/// coordinates exact decimals with spread `spread/1000`.
fn clustered(
    d: usize,
    q: usize,
    per: usize,
    spread: i64,
    offset: i64,
    seed: u64,
) -> Vec<Vec<Vec<Rat>>> {
    let mut g = Lcg(seed);
    (0..q)
        .map(|j| {
            (0..per)
                .map(|_| {
                    (0..d)
                        .map(|m| {
                            let base = if m == j { 10 } else { 0 } + offset;
                            Rat::from_i64(base) + g.noise(spread)
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// `W p + b` computed directly from the stored matrix and vector (no structural shortcut).
fn direct(cone: &Cone, p: &[Rat]) -> Vec<Rat> {
    cone.w
        .mul_vec(p)
        .iter()
        .zip(&cone.b)
        .map(|(x, y)| x + y)
        .collect()
}

fn max_bits(cone: &Cone) -> u64 {
    let v = cone
        .normal
        .iter()
        .chain(&cone.apex)
        .chain(&cone.b)
        .chain([&cone.beta, &cone.kappa, &cone.margin])
        .map(Rat::bit_size)
        .max()
        .unwrap_or(0);
    v.max(cone.w.max_bits())
}

/// Check the whole sequence by recomputation: step ℓ collapses its unit and passes the later
/// units, the passers and the earlier apexes; returns the largest bit size seen.
fn check_sequence(units: &[Vec<Vec<Rat>>], passers: &[Vec<Rat>], cones: &[Cone]) -> u64 {
    assert_eq!(cones.len(), units.len());
    let mut order: Vec<usize> = cones.iter().map(|c| c.unit).collect();
    order.sort_unstable();
    assert_eq!(
        order,
        (0..units.len()).collect::<Vec<_>>(),
        "every unit collapsed once"
    );
    let mut bits = 0;
    for (l, cone) in cones.iter().enumerate() {
        let collapse = refs(&units[cone.unit]);
        let mut pass: Vec<&[Rat]> = Vec::new();
        for later in &cones[l + 1..] {
            pass.extend(refs(&units[later.unit]));
        }
        pass.extend(refs(passers));
        for earlier in &cones[..l] {
            pass.push(&earlier.apex);
        }
        // direct recomputation of every strict inequality
        let mut margin: Option<Rat> = None;
        for (sign, pts) in [(-1, &collapse), (1, &pass)] {
            for p in pts.iter() {
                for z in direct(cone, p) {
                    assert_eq!(z.signum(), sign, "step {} unit {}", l + 1, cone.unit);
                    let z = z.abs();
                    if margin.as_ref().is_none_or(|m| z < *m) {
                        margin = Some(z);
                    }
                }
            }
        }
        assert_eq!(margin.as_ref(), Some(&cone.margin), "recorded margin");
        assert!(cone.margin.is_positive());
        assert_eq!(
            verify_cone(cone, &collapse, &pass),
            Some(cone.margin.clone())
        );
        // apex: on the hyperplane, and W a + b = 0
        assert_eq!(dot(&cone.normal, &cone.apex), cone.beta);
        assert!(direct(cone, &cone.apex).iter().all(Rat::is_zero));
        // the normal separates with offset β
        assert!(verify_separator(&cone.normal, &cone.beta, &collapse, &pass));
        bits = bits.max(max_bits(cone));
    }
    let apexes: Vec<Vec<Rat>> = cones.iter().map(|c| c.apex.clone()).collect();
    let d = units[0][0].len();
    if units.len() <= d + 1 {
        assert!(apexes_affinely_independent(&apexes), "apexes {apexes:?}");
    }
    bits
}

/// Independent recomputation of a hull intersection.
fn check_hull(h: &HullIntersection, below: &[&[Rat]], above: &[&[Rat]]) {
    let d = h.point.len();
    for (w, pts) in [(&h.lambda, below), (&h.mu, above)] {
        assert!(!w.is_empty());
        let mut total = Rat::zero();
        let mut sum = vec![Rat::zero(); d];
        for (i, l) in w.iter() {
            assert!(!l.is_negative());
            total += l;
            for m in 0..d {
                sum[m] += l * &pts[*i][m];
            }
        }
        assert_eq!(total, Rat::one());
        assert_eq!(sum, h.point);
    }
    assert!(h.verify(below, above));
}

fn clustered_case(d: usize, per: usize) {
    for (spread, offset, seed) in [(100, 0, 1), (900, 3, 2), (2500, -7, 3)] {
        let units = clustered(d, d, per, spread, offset, seed);
        let cones = sequential_cones(&units, &[]).expect("clustered data is cone-separable");
        let bits = check_sequence(&units, &[], &cones);
        println!("d = {d}, spread = {spread}/1000, offset = {offset}: max bit size {bits}");
        for c in &cones {
            println!(
                "  unit {}: n = {:?}, β = {}, a = {:?}, κ = {}, margin = {}",
                c.unit, c.normal, c.beta, c.apex, c.kappa, c.margin
            );
        }
        assert!(bits < 64, "numbers too large: {bits} bits");
    }
}

#[test]
fn clustered_d2() {
    clustered_case(2, 12);
}

#[test]
fn clustered_d3() {
    clustered_case(3, 10);
}

#[test]
fn clustered_d4() {
    clustered_case(4, 8);
}

#[test]
fn clustered_fewer_units_than_dimensions() {
    // two units in ℚ^4 (grouped curation: fewer units than d)
    let units = clustered(4, 2, 6, 200, 1, 9);
    let cones = sequential_cones(&units, &[]).unwrap();
    let bits = check_sequence(&units, &[], &cones);
    assert!(bits < 64);
}

#[test]
fn passers_two_units() {
    // d = 3: units near 10 e_1 and 10 e_2, passers near 10 e_3 and near (5, 5, 5)
    let mut all = clustered(3, 3, 6, 300, 0, 11);
    let mut passers = all.pop().unwrap();
    passers.push(vec![r("5"), r("5.1"), r("4.9")]);
    let units = all;
    let cones = sequential_cones(&units, &passers).unwrap();
    assert_eq!(cones.len(), 2);
    let bits = check_sequence(&units, &passers, &cones);
    println!("passers: max bit size {bits}");
    assert!(bits < 64);
    // the passers pass both layers
    for cone in &cones {
        for p in &passers {
            assert!(direct(cone, p).iter().all(Rat::is_positive));
        }
    }
}

#[test]
fn apex_must_pass_later_layers() {
    // unit 0 near the origin, units 1, 2 near 10 e_1, 10 e_2: every apex passes later cones
    let units = vec![
        vec![ri(&[0, 0]), ri(&[1, 0]), ri(&[0, 1])],
        vec![ri(&[10, 0]), ri(&[11, 1])],
        vec![ri(&[0, 10]), ri(&[1, 11])],
    ];
    let cones = sequential_cones(&units, &[]).unwrap();
    check_sequence(&units, &[], &cones);
}

fn check_failure(f: &ConeFailure, units: &[Vec<Vec<Rat>>], passers: &[Vec<Rat>]) {
    assert!(f.verify(units, passers));
    assert_eq!(f.step, f.cones.len() + 1);
    for (k, h) in &f.witnesses {
        let below = refs(&units[*k]);
        let above: Vec<&[Rat]> = f
            .pass_set(units, passers, *k)
            .into_iter()
            .map(|p| f.point(units, passers, p))
            .collect();
        check_hull(h, &below, &above);
    }
}

#[test]
fn xor_not_separable() {
    let units = vec![
        vec![ri(&[0, 0]), ri(&[1, 1])],
        vec![ri(&[1, 0]), ri(&[0, 1])],
    ];
    let f = sequential_cones(&units, &[]).unwrap_err();
    assert_eq!(f.step, 1);
    assert_eq!(f.remaining, vec![0, 1]);
    assert_eq!(f.witnesses.len(), 2);
    check_failure(&f, &units, &[]);
    let half = Rat::from_frac(1, 2).unwrap();
    assert_eq!(f.witnesses[0].1.point, vec![half.clone(), half]);
}

#[test]
fn failure_at_a_later_step() {
    // unit 0 separates first; then unit 1 and unit 2 interleave on a line
    let units = vec![
        vec![ri(&[-20, 0, 0])],
        vec![ri(&[0, 0, 0]), ri(&[4, 0, 0])],
        vec![ri(&[2, 0, 0]), ri(&[6, 0, 0])],
    ];
    let f = sequential_cones(&units, &[]).unwrap_err();
    assert_eq!(f.step, 2);
    assert_eq!(f.remaining, vec![1, 2]);
    check_failure(&f, &units, &[]);
    assert_eq!(f.pass_set(&units, &[], 1).last(), Some(&PointRef::Apex(0)));
}

#[test]
fn lp_fallback_when_mean_difference_fails() {
    // separable only by n ∥ (1, 10); the mean difference (0, 1) gives a tie
    let below = vec![ri(&[0, 0]), ri(&[10, -1])];
    let above = vec![ri(&[0, 1]), ri(&[10, 0])];
    let (b, a) = (refs(&below), refs(&above));
    let md = ri(&[0, 1]);
    assert!(!verify_separator(&md, &Rat::zero(), &b, &a));
    let max_b = b.iter().map(|x| dot(&md, x)).max().unwrap();
    let min_a = a.iter().map(|v| dot(&md, v)).min().unwrap();
    assert!(
        max_b >= min_a,
        "the mean-difference direction does not separate"
    );
    match separate(&b, &a) {
        Separation::Separated { normal, offset } => {
            println!("fallback separator n = {normal:?}, β = {offset}");
            assert!(verify_separator(&normal, &offset, &b, &a));
        }
        Separation::NotSeparable(_) => panic!("separable"),
    }
}

#[test]
fn lp_fallback_many_points() {
    // Many points on two parallel lines with a skewed mean difference, plus noise points that
    // pull the means; separable by x_2 > -x_1/7 + 1/2 only (the simplex runs with column
    // generation over 600 points).
    let mut below = Vec::new();
    let mut above = Vec::new();
    for i in 0..300i64 {
        // below: on x_2 = -x_1/7 (x_1 = 7k), and some far-left ones
        let x = if i % 3 == 0 { 7 * i } else { -7 * (i % 50) };
        below.push(vec![Rat::from_i64(x), Rat::from_i64(-x / 7)]);
        // above: on x_2 = -x_1/7 + 1, biased to the right
        let y = 7 * (i % 40) + 700;
        above.push(vec![Rat::from_i64(y), Rat::from_i64(-y / 7 + 1)]);
    }
    let (b, a) = (refs(&below), refs(&above));
    let s = separate(&b, &a);
    assert!(s.is_separated());
    assert!(s.verify(&b, &a));
    if let Separation::Separated { normal, offset } = &s {
        println!("n = {normal:?}, β = {offset}");
    }
    // the same with one above point moved onto the below line: now not separable
    let mut above2 = above.clone();
    above2.push(vec![Rat::from_i64(3), Rat::from_frac(-3, 7).unwrap()]);
    let a2 = refs(&above2);
    match separate(&b, &a2) {
        Separation::NotSeparable(h) => check_hull(&h, &b, &a2),
        Separation::Separated { .. } => panic!("not separable"),
    }
}

#[test]
fn hints_do_not_change_the_answer() {
    let below = vec![ri(&[0, 0]), ri(&[10, -1])];
    let above = vec![ri(&[0, 1]), ri(&[10, 0])];
    let (b, a) = (refs(&below), refs(&above));
    let s = separate_with_hints(&b, &a, &[ri(&[1, 10]), ri(&[3]), ri(&[0, 0])]);
    match s {
        Separation::Separated { normal, offset } => {
            // the hint (1, 10) separates; its coarsest separating rounding (1/7 ≈ 1/10) is returned
            assert_eq!(normal, ri(&[1, 7]));
            assert_eq!(offset, Rat::from_i64(4));
            assert!(verify_separator(&normal, &offset, &b, &a));
        }
        _ => panic!(),
    }
    // wrong-length and zero hints are ignored; the answer (separable) is the same without hints
    assert!(separate(&b, &a).is_separated());
}

#[test]
fn identical_point_gives_unit_weights() {
    let below = vec![ri(&[1, 2, 3]), ri(&[0, 0, 0])];
    let above = vec![ri(&[9, 9, 9]), ri(&[1, 2, 3])];
    let (b, a) = (refs(&below), refs(&above));
    match separate(&b, &a) {
        Separation::NotSeparable(h) => {
            assert_eq!(h.lambda, vec![(0, Rat::one())]);
            assert_eq!(h.mu, vec![(1, Rat::one())]);
            check_hull(&h, &b, &a);
        }
        _ => panic!(),
    }
}

#[test]
fn affine_independence() {
    assert!(apexes_affinely_independent(&[]));
    assert!(apexes_affinely_independent(&[ri(&[1, 2])]));
    assert!(apexes_affinely_independent(&[
        ri(&[0, 0]),
        ri(&[1, 0]),
        ri(&[0, 1])
    ]));
    assert!(!apexes_affinely_independent(&[
        ri(&[0, 0]),
        ri(&[1, 0]),
        ri(&[0, 1]),
        ri(&[1, 1])
    ]));
    assert!(!apexes_affinely_independent(&[
        ri(&[1, 1, 0]),
        ri(&[2, 2, 0]),
        ri(&[3, 3, 0])
    ]));
}

#[test]
fn apexes_independent_even_when_simple_choice_collides() {
    // Symmetric data where the simplest apexes would be collinear: units on a line in ℚ^3.
    let units = vec![
        vec![ri(&[0, 0, 0])],
        vec![ri(&[10, 10, 10])],
        vec![ri(&[20, 20, 20])],
    ];
    let cones = sequential_cones(&units, &[]).unwrap();
    check_sequence(&units, &[], &cones);
}

#[test]
#[ignore = "timing: N = 10^5, d = 8 (run with --ignored --nocapture)"]
fn timing_large() {
    let units = clustered(8, 8, 12_500, 500, 0, 5);
    let t = std::time::Instant::now();
    let cones = sequential_cones(&units, &[]).unwrap();
    println!("sequential_cones, N = 100000, d = 8: {:?}", t.elapsed());
    let bits = cones.iter().map(max_bits).max().unwrap();
    println!("max bit size {bits}");
}

#[test]
#[ignore = "timing: exact simplex on N = 10^5 points in d = 8 (run with --ignored --nocapture)"]
fn timing_lp_large() {
    let nstar = [1i64, 2, -3, 1, 0, 5, -1, 2];
    let mut g = Lcg(77);
    let (mut below, mut above) = (Vec::new(), Vec::new());
    while below.len() + above.len() < 100_000 {
        let x: Vec<i64> = (0..8).map(|_| (g.next() % 101) as i64 - 50).collect();
        let t: i64 = x.iter().zip(&nstar).map(|(a, b)| a * b).sum();
        if t <= -1 {
            below.push(ri(&x));
        } else if t >= 1 {
            above.push(ri(&x));
        }
    }
    let (b, a) = (refs(&below), refs(&above));
    let t = std::time::Instant::now();
    let s = separate(&b, &a);
    println!(
        "separate, N = 100000, d = 8 (thin margin): {:?}",
        t.elapsed()
    );
    assert!(s.is_separated() && s.verify(&b, &a));
    if let Separation::Separated { normal, offset } = &s {
        println!("n = {normal:?}, β = {offset}");
    }
    // one above point moved into the hull of below: not separable
    above.push(below[0].clone());
    let last = above.len() - 1;
    above.swap(0, last / 2);
    let a = refs(&above);
    let t = std::time::Instant::now();
    let s = separate(&b, &a);
    println!("not separable case: {:?}", t.elapsed());
    assert!(!s.is_separated() && s.verify(&b, &a));
    // and a point strictly inside (mean of two below points) rather than a copy
    above.swap(0, last / 2);
    above.pop();
    let mid: Vec<Rat> = below[0]
        .iter()
        .zip(&below[1])
        .map(|(x, y)| (x + y) * Rat::from_frac(1, 2).unwrap())
        .collect();
    above.push(mid);
    let a = refs(&above);
    let t = std::time::Instant::now();
    let s = separate(&b, &a);
    println!("not separable case (simplex): {:?}", t.elapsed());
    assert!(!s.is_separated() && s.verify(&b, &a));
}

fn small_points(d: usize, max_n: usize) -> impl Strategy<Value = Vec<Vec<Rat>>> {
    prop::collection::vec(
        prop::collection::vec(-6i64..=6, d).prop_map(|v| ri(&v)),
        1..=max_n,
    )
}

fn two_sets() -> impl Strategy<Value = (Vec<Vec<Rat>>, Vec<Vec<Rat>>)> {
    (1usize..=4).prop_flat_map(|d| (small_points(d, 8), small_points(d, 8)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `separate` returns a certificate that verifies, whichever it is.
    #[test]
    fn separate_is_consistent((below, above) in two_sets()) {
        let (b, a) = (refs(&below), refs(&above));
        match separate(&b, &a) {
            Separation::Separated { normal, offset } => {
                prop_assert!(verify_separator(&normal, &offset, &b, &a));
                prop_assert!(normal.iter().all(Rat::is_integer));
            }
            Separation::NotSeparable(h) => check_hull(&h, &b, &a),
        }
    }

    /// Sets split by a known hyperplane are always found separable; sets where `above`
    /// contains a convex combination of `below` never are.
    #[test]
    fn separate_known_answers((below, above) in two_sets(), shift in 1i64..4) {
        let d = below[0].len();
        // move below to x_1 ≤ -shift, above to x_1 ≥ shift
        let push = |pts: &[Vec<Rat>], s: i64| -> Vec<Vec<Rat>> {
            pts.iter().map(|p| {
                let mut q = p.clone();
                q[0] = Rat::from_i64(s) + q[0].abs() * Rat::from_i64(s.signum());
                q
            }).collect()
        };
        let (b2, a2) = (push(&below, -shift), push(&above, shift));
        let s = separate(&refs(&b2), &refs(&a2));
        prop_assert!(s.is_separated());
        prop_assert!(s.verify(&refs(&b2), &refs(&a2)));
        // add the mean of below to above
        let mut a3 = above.clone();
        let inv = Rat::from_i64(below.len() as i64).recip().unwrap();
        a3.push((0..d).map(|m| below.iter().map(|p| p[m].clone()).sum::<Rat>() * inv.clone()).collect());
        match separate(&refs(&below), &refs(&a3)) {
            Separation::NotSeparable(h) => check_hull(&h, &refs(&below), &refs(&a3)),
            Separation::Separated { .. } => prop_assert!(false, "a convex combination of below lies above"),
        }
    }

    /// `sequential_cones` either certifies every cone or proves its failure, on random data.
    #[test]
    fn sequential_cones_consistent(q in 2usize..=3, d in 2usize..=3, per in 1usize..=4,
                                   spread in 1i64..=12000, seed in 0u64..1000) {
        let units = clustered(d, q, per, spread, 0, seed);
        match sequential_cones(&units, &[]) {
            Ok(cones) => { check_sequence(&units, &[], &cones); }
            Err(f) => check_failure(&f, &units, &[]),
        }
    }
}

/// Every cone of `one_vs_rest`, recomputed directly: its class strictly collapsed, every
/// other class and every other apex strictly passing (so it is valid in any collapse order).
fn check_one_vs_rest(classes: &[Vec<Vec<Rat>>], cones: &[Cone]) {
    assert_eq!(cones.len(), classes.len());
    for (k, cone) in cones.iter().enumerate() {
        assert_eq!(cone.unit, k);
        for p in &classes[k] {
            assert!(
                direct(cone, p).iter().all(Rat::is_negative),
                "class {k} collapsed"
            );
        }
        let others = classes.iter().enumerate().filter(|(j, _)| *j != k);
        for (j, c) in others {
            for p in c.iter().chain([&cones[j].apex]) {
                assert!(
                    direct(cone, p).iter().all(Rat::is_positive),
                    "{j} passes {k}"
                );
            }
        }
    }
}

fn sums_of(classes: &[Vec<Vec<Rat>>]) -> Vec<Vec<Rat>> {
    let d = classes[0][0].len();
    (classes.iter())
        .map(|c| {
            (0..d)
                .map(|m| c.iter().map(|p| p[m].clone()).sum())
                .collect()
        })
        .collect()
}

#[test]
fn one_vs_rest_cones_hold_in_every_order() {
    use dlgeom_cert::cones::one_vs_rest;
    for (q, per, spread, offset, seed) in
        [(2, 6, 500, 0, 1), (3, 8, 1500, 2, 2), (4, 8, 2500, -3, 3)]
    {
        let classes = clustered(q, q, per, spread, offset, seed);
        let view: Vec<&[Vec<Rat>]> = classes.iter().map(|c| c.as_slice()).collect();
        let cones = one_vs_rest(&view, &sums_of(&classes)).expect("well-clustered data");
        check_one_vs_rest(&classes, &cones);
    }
}

/// A class inside the convex hull of the others has no one-vs-rest cone, but the sequential
/// recipe still collapses it after the class around it: `verify` falls back to it per plan
/// and the checker accepts the result.
#[test]
fn shared_cones_fall_back_to_the_sequential_recipe() {
    use dlgeom_cert::cones::one_vs_rest;
    use dlgeom_cert::construct::{build, plans, shared_cones};
    use dlgeom_cert::data::{DataLimits, Dataset};
    // class 2 = (2, 1, 0) lies inside the triangle of class 1 = {(0,0,0), (10,0,0)} and
    // class 3 = (5, 10, 0).
    let text = r#"{"classes": [
      {"inputs": [["0", "0", "0"], ["10", "0", "0"]]},
      {"inputs": [["2", "1", "0"]]},
      {"inputs": [["5", "10", "0"]]}]}"#;
    let data = Dataset::from_json_bytes(text.as_bytes(), &DataLimits::default()).expect("data");
    let classes: Vec<Vec<Vec<Rat>>> = data.classes.iter().map(|c| c.inputs.clone()).collect();
    let view: Vec<&[Vec<Rat>]> = classes.iter().map(|c| c.as_slice()).collect();
    assert!(one_vs_rest(&view, &sums_of(&classes)).is_none());
    assert!(shared_cones(&data, &data.class_stats()).is_none());
    let c = build(&data, 3, &plans::global(3)).expect("sequentially cone-separable");
    let units: Vec<Vec<Vec<Rat>>> = classes.clone();
    check_sequence(&units, &[], &c.cones);
    let norm = dlgeom_cert::network::Normalisation::HalfMean;
    let an = dlgeom_cert::certify::analyse(&c.network, &data, norm);
    assert_eq!(an.verdict.name(), "global-minimum");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// On random clustered data `one_vs_rest` either returns cones valid in every order, or
    /// `None`; and with small noise it always returns them.
    #[test]
    fn one_vs_rest_consistent(q in 2usize..=4, per in 1usize..=5, spread in 1i64..=12000,
                              seed in 0u64..1000) {
        use dlgeom_cert::cones::one_vs_rest;
        let classes = clustered(q, q, per, spread, 0, seed);
        let view: Vec<&[Vec<Rat>]> = classes.iter().map(|c| c.as_slice()).collect();
        match one_vs_rest(&view, &sums_of(&classes)) {
            Some(cones) => check_one_vs_rest(&classes, &cones),
            None => prop_assert!(spread > 2000, "well-clustered data must get shared cones"),
        }
    }
}
