//! Property tests for the fraction-free elimination in `dlgeom_cert::matrix`, against a slow,
//! obviously correct reference: naive Gauss–Jordan over `num_rational::BigRational`
//! (conversion through canonical text), and for inertia the characteristic polynomial
//! (Faddeev–LeVerrier) with Descartes' rule of signs, which is exact for real-rooted
//! polynomials such as the characteristic polynomial of a symmetric matrix.

use dlgeom_cert::arith::Rat;
use dlgeom_cert::matrix::{rank_of_rows, Inertia, Matrix, RowEchelon};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;

// ---------------------------------------------------------------- reference (BigRational)

type Q = BigRational;
type QMat = Vec<Vec<Q>>;

fn to_q(x: &Rat) -> Q {
    x.canonical()
        .parse()
        .expect("canonical text parses as BigRational")
}

fn from_q(x: &Q) -> Rat {
    Rat::parse(&x.to_string()).expect("BigRational text parses as Rat")
}

fn to_qmat(a: &Matrix) -> QMat {
    (0..a.rows)
        .map(|i| a.row(i).iter().map(to_q).collect())
        .collect()
}

fn from_qmat(a: &QMat, rows: usize, cols: usize) -> Matrix {
    let mut m = Matrix::zeros(rows, cols);
    for (i, r) in a.iter().enumerate() {
        for (j, x) in r.iter().enumerate() {
            m[(i, j)] = from_q(x);
        }
    }
    m
}

/// Reduced row echelon form by textbook Gauss–Jordan; returns the pivot columns and the
/// number of row swaps.
fn ref_rref(a: &mut QMat, cols: usize) -> (Vec<usize>, usize) {
    let m = a.len();
    let mut pivots = Vec::new();
    let mut swaps = 0;
    let mut r = 0;
    for c in 0..cols {
        if r == m {
            break;
        }
        let Some(p) = (r..m).find(|&i| !a[i][c].is_zero()) else {
            continue;
        };
        if p != r {
            a.swap(p, r);
            swaps += 1;
        }
        let pv = a[r][c].clone();
        for x in a[r].iter_mut() {
            *x = &*x / &pv;
        }
        for i in 0..m {
            if i != r && !a[i][c].is_zero() {
                let f = a[i][c].clone();
                let pr = a[r].clone();
                for (x, y) in a[i].iter_mut().zip(&pr) {
                    *x = &*x - &f * y;
                }
            }
        }
        pivots.push(c);
        r += 1;
    }
    (pivots, swaps)
}

fn ref_rank(a: &Matrix) -> usize {
    let mut q = to_qmat(a);
    ref_rref(&mut q, a.cols).0.len()
}

fn ref_det(a: &Matrix) -> Rat {
    let n = a.rows;
    let mut q = to_qmat(a);
    let mut det = Q::one();
    for c in 0..n {
        let Some(p) = (c..n).find(|&i| !q[i][c].is_zero()) else {
            return Rat::zero();
        };
        if p != c {
            q.swap(p, c);
            det = -det;
        }
        det = &det * &q[c][c];
        for i in c + 1..n {
            let f = &q[i][c] / &q[c][c];
            let pr = q[c].clone();
            for (x, y) in q[i].iter_mut().zip(&pr) {
                *x = &*x - &f * y;
            }
        }
    }
    from_q(&det)
}

fn ref_inverse(a: &Matrix) -> Option<Matrix> {
    let n = a.rows;
    let mut q = to_qmat(a);
    for (i, row) in q.iter_mut().enumerate() {
        row.extend((0..n).map(|j| if i == j { Q::one() } else { Q::zero() }));
    }
    let (pivots, _) = ref_rref(&mut q, n);
    if pivots.len() < n {
        return None;
    }
    let inv: QMat = q.into_iter().map(|r| r[n..].to_vec()).collect();
    Some(from_qmat(&inv, n, n))
}

/// `rank [A | B] == rank A`.
fn ref_consistent(a: &Matrix, b: &Matrix) -> bool {
    let mut q = to_qmat(a);
    for (row, i) in q.iter_mut().zip(0..) {
        row.extend(b.row(i).iter().map(to_q));
    }
    let (pivots, _) = ref_rref(&mut q, a.cols + b.cols);
    pivots.iter().all(|&c| c < a.cols)
}

/// Coefficients `c_0..c_n` of `det(λI − A)` (Faddeev–LeVerrier), `c_n = 1`.
fn ref_charpoly(a: &Matrix) -> Vec<Q> {
    let n = a.rows;
    let q = to_qmat(a);
    let mut c = vec![Q::zero(); n + 1];
    c[n] = Q::one();
    let mut m: QMat = vec![vec![Q::zero(); n]; n];
    for k in 1..=n {
        // M_k = A M_{k−1} + c_{n−k+1} I
        let mut am: QMat = vec![vec![Q::zero(); n]; n];
        for i in 0..n {
            for j in 0..n {
                let mut s = Q::zero();
                for (l, ml) in m.iter().enumerate() {
                    s += &q[i][l] * &ml[j];
                }
                am[i][j] = s;
            }
        }
        for (i, row) in am.iter_mut().enumerate() {
            row[i] += &c[n - k + 1];
        }
        m = am;
        // c_{n−k} = −tr(A M_k) / k
        let mut tr = Q::zero();
        for i in 0..n {
            for (l, ml) in m.iter().enumerate() {
                tr += &q[i][l] * &ml[i];
            }
        }
        c[n - k] = -tr / Q::from_integer((k as i64).into());
    }
    c
}

/// Eigenvalue sign counts of a symmetric matrix from its (real-rooted) characteristic
/// polynomial: zero count = multiplicity of the root 0, positive count = sign changes
/// (Descartes' rule is exact when all roots are real).
fn ref_inertia(a: &Matrix) -> Inertia {
    let n = a.rows;
    let c = ref_charpoly(a);
    let zero = c.iter().take_while(|x| x.is_zero()).count();
    let signs: Vec<bool> = c[zero..]
        .iter()
        .filter(|x| !x.is_zero())
        .map(|x| x.is_positive())
        .collect();
    let positive = signs.windows(2).filter(|w| w[0] != w[1]).count();
    Inertia {
        positive,
        zero,
        negative: n - zero - positive,
    }
}

// ---------------------------------------------------------------- strategies

fn entry() -> impl Strategy<Value = Rat> {
    prop_oneof![
        3 => Just(Rat::zero()),
        4 => (-5i64..=5).prop_map(Rat::from_i64),
        3 => (-7i64..=7, 1i64..=5).prop_map(|(p, q)| Rat::from_frac(p, q).unwrap()),
    ]
}

fn mat(rows: usize, cols: usize) -> impl Strategy<Value = Matrix> {
    prop::collection::vec(entry(), rows * cols).prop_map(move |d| Matrix::from_vec(rows, cols, d))
}

/// `rows × cols` matrix of rank at most `k`: a product of `rows × k` and `k × cols` matrices.
fn low_rank(rows: usize, cols: usize) -> impl Strategy<Value = Matrix> {
    (0..=rows.min(cols))
        .prop_flat_map(move |k| (mat(rows, k), mat(k, cols)))
        .prop_map(|(a, b)| a.mul(&b))
}

/// Full-random or deliberately rank-deficient.
fn any_mat(rows: usize, cols: usize) -> impl Strategy<Value = Matrix> {
    prop_oneof![mat(rows, cols), low_rank(rows, cols)]
}

fn sized() -> impl Strategy<Value = Matrix> {
    (0usize..8, 0usize..8).prop_flat_map(|(m, n)| any_mat(m, n))
}

fn square() -> impl Strategy<Value = Matrix> {
    (0usize..8).prop_flat_map(|n| any_mat(n, n))
}

/// Square `A` (invertible or not) with an `n × k` right-hand side.
fn square_system() -> impl Strategy<Value = (Matrix, Matrix)> {
    (0usize..8, 0usize..4).prop_flat_map(|(n, k)| (any_mat(n, n), mat(n, k)))
}

/// Any `A` with a right-hand side that is either random or `A X₀` (consistent).
fn general_system() -> impl Strategy<Value = (Matrix, Matrix)> {
    (0usize..8, 0usize..8, 0usize..4).prop_flat_map(|(m, n, k)| {
        prop_oneof![
            (any_mat(m, n), mat(m, k)),
            (any_mat(m, n), mat(n, k)).prop_map(|(a, x)| {
                let b = a.mul(&x);
                (a, b)
            }),
        ]
    })
}

fn is_integer_vector_with_gcd_one(v: &[Rat]) -> bool {
    if !v.iter().all(Rat::is_integer) {
        return false;
    }
    let mut g = num_bigint::BigInt::zero();
    for x in v {
        let x: num_bigint::BigInt = x.canonical().parse().unwrap();
        g = num_integer::Integer::gcd(&g, &x);
    }
    g.is_one()
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn rank_matches_reference(a in sized()) {
        prop_assert_eq!(a.rank(), ref_rank(&a));
        prop_assert_eq!(a.transpose().rank(), a.rank());
    }

    /// Reduction modulo a prime never raises the rank (so `Matrix::rank` may stop when the
    /// rank modulo `2⁶¹ − 1` is already full); small primes do lose rank sometimes.
    #[test]
    fn rank_mod_is_a_lower_bound(
        a in sized(),
        p in prop::sample::select(vec![2u64, 3, 5, 7, 13, dlgeom_cert::matrix::MERSENNE_61]),
    ) {
        let exact = ref_rank(&a);
        if let Some(r) = a.rank_mod(p) {
            prop_assert!(r <= exact, "rank mod {} = {} > {}", p, r, exact);
        }
        for x in &a.data {
            if let Some(v) = x.mod_prime(p) {
                let d = x.denom().canonical().parse::<i128>().unwrap();
                let n = x.numer().canonical().parse::<i128>().unwrap();
                prop_assert_eq!((v as i128 * d - n).rem_euclid(p as i128), 0);
            }
        }
    }

    #[test]
    fn streaming_rank_equals_rank(a in sized()) {
        let r = a.rank();
        prop_assert_eq!(rank_of_rows(a.to_rows(), a.cols), r);
        let mut e = RowEchelon::new(a.cols);
        let accepted = (0..a.rows).filter(|&i| e.insert(a.row(i))).count();
        prop_assert_eq!(accepted, r);
        prop_assert_eq!(e.rank(), r);
        let mut pivots = e.pivot_columns().to_vec();
        pivots.sort_unstable();
        pivots.dedup();
        prop_assert_eq!(pivots.len(), r);
        // Every row already inserted is now dependent.
        for i in 0..a.rows {
            prop_assert!(!e.insert(a.row(i)));
        }
        prop_assert_eq!(e.rank(), r);
    }

    #[test]
    fn determinant_matches_reference(a in square()) {
        let d = a.determinant();
        prop_assert_eq!(&d, &ref_det(&a));
        prop_assert_eq!(d.is_zero(), a.rank() < a.rows);
        prop_assert_eq!(a.transpose().determinant(), d);
    }

    #[test]
    fn inverse_matches_reference(a in square()) {
        let n = a.rows;
        match (a.inverse(), ref_inverse(&a)) {
            (Some(inv), Some(r)) => {
                prop_assert_eq!(a.mul(&inv), Matrix::identity(n));
                prop_assert_eq!(inv.mul(&a), Matrix::identity(n));
                prop_assert_eq!(&inv, &r);
            }
            (None, None) => prop_assert!(a.determinant().is_zero()),
            (x, y) => prop_assert!(false, "inverse {:?} but reference {:?}", x, y),
        }
    }

    #[test]
    fn solve_square((a, b) in square_system()) {
        let singular = ref_det(&a).is_zero();
        match a.solve(&b) {
            Some(x) => {
                prop_assert!(!singular);
                prop_assert_eq!((x.rows, x.cols), (a.cols, b.cols));
                prop_assert_eq!(a.mul(&x), b);
            }
            None => prop_assert!(singular),
        }
    }

    #[test]
    fn solve_consistent_matches_reference((a, b) in general_system()) {
        let consistent = ref_consistent(&a, &b);
        match a.solve_consistent(&b) {
            Some(x) => {
                prop_assert!(consistent);
                prop_assert_eq!((x.rows, x.cols), (a.cols, b.cols));
                prop_assert_eq!(a.mul(&x), b);
            }
            None => prop_assert!(!consistent),
        }
    }

    #[test]
    fn kernel_basis_is_a_basis(a in sized()) {
        let k = a.kernel_basis();
        let r = ref_rank(&a);
        prop_assert_eq!(k.len(), a.cols - r);
        for v in &k {
            prop_assert_eq!(v.len(), a.cols);
            prop_assert!(a.mul_vec(v).iter().all(Rat::is_zero));
            prop_assert!(is_integer_vector_with_gcd_one(v), "not primitive: {:?}", v);
        }
        prop_assert_eq!(ref_rank(&Matrix::from_rows(&k)), k.len());
    }

    #[test]
    fn inertia_of_sum_with_transpose(a in square()) {
        let s = a.add(&a.transpose());
        let i = s.ldlt_inertia().expect("A + Aᵀ is symmetric");
        prop_assert_eq!(i, ref_inertia(&s));
        prop_assert_eq!(i.zero, s.rows - s.rank());
    }

    #[test]
    fn inertia_of_congruent_diagonal(
        (b, d) in (0usize..8, 0usize..8).prop_flat_map(|(n, m)| {
            (any_mat(m, n), prop::collection::vec(-1i64..=1, m))
        })
    ) {
        // S = Bᵀ D B with D = diag(signs) (m × m) and B (m × n).
        let m = d.len();
        let mut dm = Matrix::zeros(m, m);
        for (i, &s) in d.iter().enumerate() {
            dm[(i, i)] = Rat::from_i64(s * (i as i64 + 1));
        }
        let s = b.transpose().mul(&dm).mul(&b);
        let i = s.ldlt_inertia().expect("Bᵀ D B is symmetric");
        prop_assert_eq!(i, ref_inertia(&s));
        if b.is_square() && !ref_det(&b).is_zero() {
            // Sylvester: the inertia of D itself.
            let expect = Inertia {
                positive: d.iter().filter(|&&x| x > 0).count(),
                zero: d.iter().filter(|&&x| x == 0).count(),
                negative: d.iter().filter(|&&x| x < 0).count(),
            };
            prop_assert_eq!(i, expect);
        }
    }

    #[test]
    fn inertia_rejects_non_symmetric(a in square()) {
        let sym = a == a.transpose();
        prop_assert_eq!(a.ldlt_inertia().is_some(), sym);
    }
}

// ---------------------------------------------------------------- fixed examples

fn hilbert(n: usize) -> Matrix {
    let mut h = Matrix::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            h[(i, j)] = Rat::from_frac(1, (i + j + 1) as i64).unwrap();
        }
    }
    h
}

fn ints(v: &[i64]) -> Vec<Rat> {
    v.iter().map(|&x| Rat::from_i64(x)).collect()
}

#[test]
fn hilbert_determinant_and_inverse() {
    assert_eq!(hilbert(5).determinant().canonical(), "1/266716800000");
    let inv3 = hilbert(3).inverse().unwrap();
    assert_eq!(
        inv3,
        Matrix::from_i64(3, 3, &[9, -36, 30, -36, 192, -180, 30, -180, 180])
    );
    let h = hilbert(8);
    let inv = h.inverse().unwrap();
    assert!(
        inv.data.iter().all(Rat::is_integer),
        "Hilbert inverses are integer"
    );
    assert_eq!(h.mul(&inv), Matrix::identity(8));
    assert_eq!(inv, ref_inverse(&h).unwrap());
    assert_eq!(
        h.ldlt_inertia(),
        Some(Inertia {
            positive: 8,
            zero: 0,
            negative: 0
        })
    );
}

#[test]
fn empty_matrices() {
    let e = Matrix::zeros(0, 0);
    assert_eq!(e.rank(), 0);
    assert_eq!(e.determinant(), Rat::one());
    assert_eq!(e.inverse(), Some(Matrix::zeros(0, 0)));
    assert_eq!(e.ldlt_inertia(), Some(Inertia::default()));
    assert!(e.kernel_basis().is_empty());

    let wide = Matrix::zeros(0, 3);
    assert_eq!(wide.rank(), 0);
    assert_eq!(
        wide.kernel_basis(),
        vec![ints(&[1, 0, 0]), ints(&[0, 1, 0]), ints(&[0, 0, 1])]
    );
    assert_eq!(
        wide.solve_consistent(&Matrix::zeros(0, 2)),
        Some(Matrix::zeros(3, 2))
    );

    let tall = Matrix::zeros(3, 0);
    assert_eq!(tall.rank(), 0);
    assert!(tall.kernel_basis().is_empty());
    assert_eq!(
        tall.solve_consistent(&Matrix::zeros(3, 1)),
        Some(Matrix::zeros(0, 1))
    );
    assert_eq!(
        tall.solve_consistent(&Matrix::from_i64(3, 1, &[0, 1, 0])),
        None
    );
    assert_eq!(rank_of_rows(vec![Vec::<Rat>::new(); 4], 0), 0);
}

#[test]
fn one_by_one() {
    let z = Matrix::from_i64(1, 1, &[0]);
    assert_eq!(z.rank(), 0);
    assert_eq!(z.determinant(), Rat::zero());
    assert_eq!(z.inverse(), None);
    assert_eq!(z.solve(&Matrix::from_i64(1, 1, &[0])), None);
    assert_eq!(
        z.solve_consistent(&Matrix::from_i64(1, 1, &[0])),
        Some(z.clone())
    );
    assert_eq!(z.kernel_basis(), vec![ints(&[1])]);
    assert_eq!(z.ldlt_inertia().unwrap().zero, 1);

    let x = Matrix::from_vec(1, 1, vec![Rat::parse("-3/7").unwrap()]);
    assert_eq!(x.rank(), 1);
    assert_eq!(x.determinant().canonical(), "-3/7");
    assert_eq!(x.inverse().unwrap()[(0, 0)].canonical(), "-7/3");
    assert!(x.kernel_basis().is_empty());
    assert_eq!(x.ldlt_inertia().unwrap().negative, 1);
}

#[test]
fn zero_rows_and_dependent_systems() {
    let a = Matrix::from_i64(4, 3, &[0, 0, 0, 1, 2, 3, 0, 0, 0, 2, 4, 6]);
    assert_eq!(a.rank(), 1);
    let k = a.kernel_basis();
    assert_eq!(k, vec![ints(&[-2, 1, 0]), ints(&[-3, 0, 1])]);
    let b = Matrix::from_i64(4, 1, &[0, 1, 0, 2]);
    let x = a.solve_consistent(&b).unwrap();
    assert_eq!(a.mul(&x), b);
    assert_eq!(
        a.solve_consistent(&Matrix::from_i64(4, 1, &[1, 1, 0, 2])),
        None
    );
    assert_eq!(
        a.solve_consistent(&Matrix::from_i64(4, 1, &[0, 1, 0, 3])),
        None
    );
}

#[test]
fn singular_normal_equations() {
    // Least squares with collinear inputs: AᵀA is singular but AᵀA X = Aᵀy is consistent.
    let a = Matrix::from_i64(4, 3, &[1, 2, 1, 2, 4, 1, 3, 6, 1, 4, 8, 1]);
    let y = Matrix::from_i64(4, 1, &[1, 0, 3, 2]);
    let ata = a.transpose().mul(&a);
    assert_eq!(ata.rank(), 2);
    assert!(ata.solve(&a.transpose().mul(&y)).is_none());
    let x = ata.solve_consistent(&a.transpose().mul(&y)).unwrap();
    assert_eq!(ata.mul(&x), a.transpose().mul(&y));
    // The residual is orthogonal to the column space.
    let r = a.mul(&x).sub(&y);
    assert!(a.transpose().mul(&r).data.iter().all(Rat::is_zero));
}

#[test]
fn inertia_zero_diagonal_cases() {
    let i = |p, z, n| {
        Some(Inertia {
            positive: p,
            zero: z,
            negative: n,
        })
    };
    assert_eq!(
        Matrix::from_i64(2, 2, &[0, 3, 3, 0]).ldlt_inertia(),
        i(1, 0, 1)
    );
    assert_eq!(
        Matrix::from_i64(3, 3, &[0, 1, 1, 1, 0, 1, 1, 1, 0]).ldlt_inertia(),
        i(1, 0, 2)
    );
    assert_eq!(
        Matrix::from_i64(4, 4, &[0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0]).ldlt_inertia(),
        i(2, 0, 2)
    );
    assert_eq!(
        Matrix::from_i64(3, 3, &[1, 1, 1, 1, 1, 1, 1, 1, 1]).ldlt_inertia(),
        i(1, 2, 0)
    );
    assert_eq!(
        Matrix::from_i64(2, 2, &[-1, 0, 0, 0]).ldlt_inertia(),
        i(0, 1, 1)
    );
    assert_eq!(Matrix::zeros(3, 3).ldlt_inertia(), i(0, 3, 0));
    assert_eq!(Matrix::zeros(2, 3).ldlt_inertia(), None);
}

/// Deterministic pseudo-random `n × n` matrix (xorshift) with entries `p/q`, `p ∈ -9..=9`,
/// `q ∈ 1..=max_den`.
fn pseudo_random(n: usize, max_den: u64, seed: u64) -> Matrix {
    let mut s = seed;
    let mut next = |m: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % m
    };
    let d: Vec<Rat> = (0..n * n)
        .map(|_| {
            let p = next(19) as i64 - 9;
            let q = next(max_den) as i64 + 1;
            Rat::from_frac(p, q).unwrap()
        })
        .collect();
    Matrix::from_vec(n, n, d)
}

/// Timing only (no assertion on time):
/// `cargo test --release --test matrix_props -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing_80x80() {
    use std::time::Instant;
    let n = 80;
    for (name, max_den) in [("integer", 1), ("fraction q<=6", 6)] {
        let m = pseudo_random(n, max_den, 0x9e37_79b9_7f4a_7c15);
        let t = Instant::now();
        let inv = m.inverse().expect("invertible");
        let ti = t.elapsed();
        let t = Instant::now();
        let d = m.determinant();
        let td = t.elapsed();
        let t = Instant::now();
        let r = m.rank();
        let tr = t.elapsed();
        let t = Instant::now();
        let k = m.kernel_basis().len();
        let tk = t.elapsed();
        let s = m.add(&m.transpose());
        let t = Instant::now();
        let inert = s.ldlt_inertia().unwrap();
        let tl = t.elapsed();
        let b = Matrix::from_vec(n, 1, m.col(0));
        let t = Instant::now();
        let x = m.solve(&b).unwrap();
        let ts = t.elapsed();
        assert_eq!(m.mul(&x), b);
        println!(
            "{name} {n}x{n}: inverse {ti:?} (max {} bits), det {td:?} ({} bits), rank {r} {tr:?}, \
             kernel {k} {tk:?}, solve 1 rhs {ts:?}, inertia {inert:?} {tl:?}",
            inv.max_bits(),
            d.bit_size()
        );
        let t = Instant::now();
        assert_eq!(m.mul(&inv), Matrix::identity(n));
        println!("  check A·A⁻¹ = I with Matrix::mul: {:?}", t.elapsed());
    }
}

// ---------------------------------------------------------------- Rat::dot

/// An integer near the ends of the `i64` range or small, or a fraction (which forces the
/// general path).
fn dot_entry() -> impl Strategy<Value = Rat> {
    prop_oneof![
        any::<i64>().prop_map(Rat::from_i64),
        (-5i64..=5).prop_map(Rat::from_i64),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(i64::MIN + 1)].prop_map(Rat::from_i64),
        ((-9i64..=9), (1i64..=9)).prop_map(|(n, d)| Rat::from_frac(n, d).unwrap()),
    ]
}

proptest! {
    /// `Rat::dot` (with its `i128` path for integers) equals the term-by-term sum in
    /// `BigRational`, including sums that overflow `i128`.
    #[test]
    fn dot_equals_the_reference_sum(
        pairs in prop::collection::vec((dot_entry(), dot_entry()), 0..12),
    ) {
        let (a, b): (Vec<Rat>, Vec<Rat>) = pairs.into_iter().unzip();
        let want = a.iter().zip(&b).fold(Q::zero(), |s, (x, y)| s + to_q(x) * to_q(y));
        prop_assert_eq!(to_q(&Rat::dot(&a, &b)), want);
    }
}

/// The `i128` accumulator overflows here (four products of about `2¹²⁶`); the sum is still exact.
#[test]
fn dot_beyond_i128() {
    let a = vec![Rat::from_i64(i64::MIN); 4];
    let want = Q::from_integer((i64::MIN as i128).pow(2).into()) * Q::from_integer(4.into());
    assert_eq!(to_q(&Rat::dot(&a, &a)), want);
}
