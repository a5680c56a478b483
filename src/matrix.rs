//! Exact dense matrices over [`Rat`].
//!
//! Row-major storage. Products and transposes here; elimination-based operations
//! (solve, inverse, rank, kernel, LDLᵀ inertia) use fraction-free Bareiss elimination on
//! integer-scaled rows, and every result carries what is needed to re-check it.
//!
//! # Fraction-free elimination
//!
//! **Integer scaling.** Row `i` of a rational matrix `A` is multiplied by
//! `ℓ_i = lcm` of the denominators of its entries, giving an integer matrix
//! `A' = diag(ℓ) A` with the same rank, kernel and solutions (`A X = B ⇔ A' X = diag(ℓ) B`),
//! and `det A = det A' / Π ℓ_i`.
//!
//! **Bareiss elimination** (Sylvester's determinant identity). With pivots
//! `p_0, p_1, …` in rows `0, 1, …` and columns `c_0, c_1, …` (and `p_{−1} = 1`), one step
//! replaces every entry below the pivot row by
//!
//! ```text
//!     a_ij ← (p_k · a_ij − a_{i c_k} · a_{k j}) / p_{k−1}        (exact division)
//! ```
//!
//! After `k` steps, entry `(i, j)` equals the `(k+1)`-minor of `A'` on rows `{0..k−1, i}` and
//! columns `{c_0..c_{k−1}, j}`, so every division is exact, all numbers stay integers whose
//! size is bounded by Hadamard's inequality, and `p_k` is the leading `(k+1)`-minor of the
//! (row- and column-permuted) matrix. Here rows are processed one at a time ("left-looking":
//! a new row is reduced by every stored pivot row in turn, which produces the same numbers as
//! the classical right-looking order) and the pivot of a row is its first nonzero entry; a
//! row that reduces to zero is linearly dependent on the stored rows and is dropped (this is
//! row pivoting: the row moves to the bottom). Column pivot order `σ = (c_0, …, c_{n−1})`
//! gives `det A' = sgn(σ) · p_{n−1}`.
//!
//! **Back substitution without fractions.** Let `r` be the rank, `d = p_{r−1}` and `M` the
//! `r × r` submatrix of `A'` on the pivot rows and columns, so `d = ±det M`. With free
//! variables fixed, the pivot variables are `x_P = M⁻¹ (…)`, hence `y = d·x` is an integer
//! vector (`d M⁻¹ = ±adj M`) and
//!
//! ```text
//!     y_{c_k} = (d · rhs_k − Σ_{l>k} R_k[c_l] · y_{c_l} − Σ_{f free} R_k[f] · y_f) / R_k[c_k]
//! ```
//!
//! is an exact integer division for `k = r−1, …, 0` (`R_k` the stored reduced rows). The
//! solution is `x = y / d`. A system `A X = B` is inconsistent iff some row of `[A' | B']`
//! reduces to zero on the `A` part but not on the `B` part.
//!
//! **Inertia.** For symmetric `A`, `S = ℓ A` with one common denominator `ℓ > 0` is an integer
//! symmetric matrix with the same inertia. Symmetric Bareiss steps on diagonal pivots give
//! `S = P L D Lᵀ Pᵀ` with `D_k = p_k / p_{k−1}`, so `sign D_k = sign p_k · sign p_{k−1}`. When
//! every remaining diagonal entry is `0` but some `a_ij ≠ 0`, the unimodular congruence
//! "row `i` += row `j`, column `i` += column `j`" makes the diagonal entry `2 a_ij ≠ 0`; since
//! Bareiss entries are multilinear in the rows and columns of the original matrix, applying
//! it to the remaining block is the same as applying it to `S` first. When the remaining
//! block is zero, its size is the number of zero eigenvalues. By Sylvester's law of inertia
//! (and Haynsworth's additivity over Schur complements) the sign counts of `D` plus the zero
//! block are the eigenvalue sign counts of `A`.

use crate::arith::{inv_mod, mul_mod, Int, Rat};
use std::ops::{Index, IndexMut};

/// A dense `rows × cols` matrix of exact rationals, row-major.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::matrix::Matrix;
/// let a = Matrix::from_i64(2, 2, &[1, 2, 3, 4]);
/// let i = Matrix::identity(2);
/// assert_eq!(a.mul(&i), a);
/// assert_eq!(a.transpose()[(0, 1)], Rat::from_i64(3));
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Entries, row-major: entry `(i, j)` is `data[i * cols + j]`.
    pub data: Vec<Rat>,
}

impl Matrix {
    /// The zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![Rat::zero(); rows * cols],
        }
    }
    /// The `n × n` identity.
    pub fn identity(n: usize) -> Matrix {
        let mut m = Matrix::zeros(n, n);
        for i in 0..n {
            m[(i, i)] = Rat::one();
        }
        m
    }
    /// From row-major entries; panics if the length is not `rows·cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<Rat>) -> Matrix {
        assert_eq!(data.len(), rows * cols, "matrix data length");
        Matrix { rows, cols, data }
    }
    /// From row-major small integers (tests and examples).
    pub fn from_i64(rows: usize, cols: usize, data: &[i64]) -> Matrix {
        Matrix::from_vec(rows, cols, data.iter().map(|&x| Rat::from_i64(x)).collect())
    }
    /// From a list of equally long rows; panics on ragged rows.
    pub fn from_rows(rows: &[Vec<Rat>]) -> Matrix {
        let r = rows.len();
        let c = rows.first().map_or(0, |x| x.len());
        let mut data = Vec::with_capacity(r * c);
        for row in rows {
            assert_eq!(row.len(), c, "ragged rows");
            data.extend(row.iter().cloned());
        }
        Matrix::from_vec(r, c, data)
    }
    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[Rat] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// Column `j` as a vector.
    pub fn col(&self, j: usize) -> Vec<Rat> {
        (0..self.rows).map(|i| self[(i, j)].clone()).collect()
    }
    /// Rows as vectors.
    pub fn to_rows(&self) -> Vec<Vec<Rat>> {
        (0..self.rows).map(|i| self.row(i).to_vec()).collect()
    }
    /// `true` for a square matrix.
    pub fn is_square(&self) -> bool {
        self.rows == self.cols
    }
    /// `Aᵀ`.
    pub fn transpose(&self) -> Matrix {
        let mut t = Matrix::zeros(self.cols, self.rows);
        for i in 0..self.rows {
            for j in 0..self.cols {
                t[(j, i)] = self[(i, j)].clone();
            }
        }
        t
    }
    /// `A·B`; panics on a dimension mismatch (a programming error).
    pub fn mul(&self, b: &Matrix) -> Matrix {
        assert_eq!(self.cols, b.rows, "matrix product dimensions");
        // Entry (i, j) is one dot product, reduced once ([`Rat::dot`]).
        let bt = b.transpose();
        let data = (0..self.rows)
            .flat_map(|i| (0..b.cols).map(move |j| (i, j)))
            .map(|(i, j)| Rat::dot(self.row(i), bt.row(j)))
            .collect();
        Matrix::from_vec(self.rows, b.cols, data)
    }
    /// `A·v`.
    pub fn mul_vec(&self, v: &[Rat]) -> Vec<Rat> {
        assert_eq!(self.cols, v.len(), "matrix-vector dimensions");
        (0..self.rows).map(|i| dot(self.row(i), v)).collect()
    }
    /// `A + B`.
    pub fn add(&self, b: &Matrix) -> Matrix {
        assert_eq!(
            (self.rows, self.cols),
            (b.rows, b.cols),
            "matrix sum dimensions"
        );
        Matrix::from_vec(
            self.rows,
            self.cols,
            self.data.iter().zip(&b.data).map(|(x, y)| x + y).collect(),
        )
    }
    /// `A − B`.
    pub fn sub(&self, b: &Matrix) -> Matrix {
        assert_eq!(
            (self.rows, self.cols),
            (b.rows, b.cols),
            "matrix difference dimensions"
        );
        Matrix::from_vec(
            self.rows,
            self.cols,
            self.data.iter().zip(&b.data).map(|(x, y)| x - y).collect(),
        )
    }
    /// `s·A`.
    pub fn scale(&self, s: &Rat) -> Matrix {
        Matrix::from_vec(
            self.rows,
            self.cols,
            self.data.iter().map(|x| x * s).collect(),
        )
    }
    /// Largest [`Rat::bit_size`] of any entry.
    pub fn max_bits(&self) -> u64 {
        self.data.iter().map(Rat::bit_size).max().unwrap_or(0)
    }
}

impl Index<(usize, usize)> for Matrix {
    type Output = Rat;
    fn index(&self, (i, j): (usize, usize)) -> &Rat {
        &self.data[i * self.cols + j]
    }
}
impl IndexMut<(usize, usize)> for Matrix {
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut Rat {
        &mut self.data[i * self.cols + j]
    }
}

/// `Σ a_i b_i`, reduced once ([`Rat::dot`]).
pub fn dot(a: &[Rat], b: &[Rat]) -> Rat {
    assert_eq!(a.len(), b.len(), "dot product lengths");
    Rat::dot(a, b)
}

/// `a + b` entrywise.
pub fn vadd(a: &[Rat], b: &[Rat]) -> Vec<Rat> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// `a − b` entrywise.
pub fn vsub(a: &[Rat], b: &[Rat]) -> Vec<Rat> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// `s·a`.
pub fn vscale(a: &[Rat], s: &Rat) -> Vec<Rat> {
    a.iter().map(|x| x * s).collect()
}

/// Eigenvalue sign counts of a symmetric matrix (Sylvester's law of inertia), as computed by
/// [`Matrix::ldlt_inertia`]. `positive + zero + negative` is the matrix size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Inertia {
    /// Number of positive eigenvalues.
    pub positive: usize,
    /// Number of zero eigenvalues (the kernel dimension).
    pub zero: usize,
    /// Number of negative eigenvalues.
    pub negative: usize,
}

/// `row_a ++ row_b` multiplied by `ℓ = lcm` of the denominators of its entries: returns
/// `(ℓ, integer row)`.
fn int_row(a: &[Rat], b: &[Rat]) -> (Int, Vec<Int>) {
    let mut l = Int::one();
    for x in a.iter().chain(b) {
        if !x.is_integer() {
            l = l.lcm(&x.denom());
        }
    }
    let unit = l == Int::one();
    let v = a
        .iter()
        .chain(b)
        .map(|x| {
            if x.is_zero() {
                Int::zero()
            } else if unit {
                x.numer()
            } else {
                x.numer() * l.div_exact(&x.denom())
            }
        })
        .collect();
    (l, v)
}

/// Sign of the permutation `perm` of `0..perm.len()` (by counting inversions).
fn permutation_sign(perm: &[usize]) -> i32 {
    let mut inv = 0usize;
    for i in 0..perm.len() {
        for j in i + 1..perm.len() {
            if perm[i] > perm[j] {
                inv += 1;
            }
        }
    }
    if inv.is_multiple_of(2) {
        1
    } else {
        -1
    }
}

/// Fraction-free (Bareiss) row echelon form, built one row at a time.
///
/// Rows have `width` integer entries; pivots are searched only among the first `search`
/// columns (the remaining columns carry right-hand sides along). Stored row `k` is the
/// `k`-th Bareiss-reduced row: it is zero in the pivot columns `c_0..c_{k−1}` and its entry
/// in column `j` is the minor of the original rows `0..=k` on columns `c_0..c_{k−1}, j`.
#[derive(Clone, Debug)]
struct FfEchelon {
    search: usize,
    width: usize,
    rows: Vec<Vec<Int>>,
    pivots: Vec<usize>,
}

impl FfEchelon {
    fn new(search: usize, width: usize) -> FfEchelon {
        debug_assert!(search <= width);
        FfEchelon {
            search,
            width,
            rows: Vec::new(),
            pivots: Vec::new(),
        }
    }

    /// The last pivot `p_{r−1}` (`1` when no row is stored).
    fn last_pivot(&self) -> Int {
        match (self.rows.last(), self.pivots.last()) {
            (Some(r), Some(&c)) => r[c].clone(),
            _ => Int::one(),
        }
    }

    /// One Bareiss step of `v` against every stored row, in order.
    fn reduce(&self, v: &mut [Int]) {
        let mut prev: Option<&Int> = None;
        for (r, &c) in self.rows.iter().zip(&self.pivots) {
            let p = &r[c];
            let f = v[c].clone();
            for (x, y) in v.iter_mut().zip(r) {
                let t = if f.is_zero() || y.is_zero() {
                    if x.is_zero() {
                        continue;
                    }
                    p * &*x
                } else {
                    p * &*x - &f * y
                };
                *x = match prev {
                    Some(q) => t.div_exact(q),
                    None => t,
                };
            }
            prev = Some(p);
        }
    }

    /// Reduces `v` and stores it if it is independent on the search columns (`Ok`);
    /// otherwise returns the reduced row (zero on the search columns) as `Err`.
    fn insert(&mut self, mut v: Vec<Int>) -> Result<(), Vec<Int>> {
        debug_assert_eq!(v.len(), self.width);
        self.reduce(&mut v);
        match v[..self.search].iter().position(|x| !x.is_zero()) {
            Some(c) => {
                self.rows.push(v);
                self.pivots.push(c);
                Ok(())
            }
            None => Err(v),
        }
    }

    /// Back substitution: given `t_k` (`k < r`, the already assembled
    /// `d·rhs_k − Σ_free R_k[f]·y_f`), returns `y_{c_k}` for `k < r`, where `y = d·x`.
    fn back_substitute(&self, mut t: Vec<Int>) -> Vec<Int> {
        let r = self.rows.len();
        debug_assert_eq!(t.len(), r);
        let mut y = vec![Int::zero(); r];
        for k in (0..r).rev() {
            let row = &self.rows[k];
            let mut s = std::mem::take(&mut t[k]);
            for l in k + 1..r {
                let a = &row[self.pivots[l]];
                if !a.is_zero() && !y[l].is_zero() {
                    s -= a * &y[l];
                }
            }
            y[k] = s.div_exact(&row[self.pivots[k]]);
        }
        y
    }

    /// Solutions of the stored system with free variables `0`, for right-hand-side columns
    /// `search..width`: an `search × (width − search)` matrix.
    fn particular_solution(&self) -> Matrix {
        let n = self.search;
        let k = self.width - n;
        let d = self.last_pivot();
        let mut x = Matrix::zeros(n, k);
        for j in 0..k {
            let t = self.rows.iter().map(|row| &d * &row[n + j]).collect();
            let y = self.back_substitute(t);
            for (yk, &c) in y.iter().zip(&self.pivots) {
                if !yk.is_zero() {
                    x[(c, j)] = Rat::from_ints(yk, &d).expect("Bareiss pivot is nonzero");
                }
            }
        }
        x
    }
}

/// Streaming exact rank: an incremental fraction-free row echelon form.
///
/// Rows are inserted one at a time (each is scaled to integers by the lcm of its
/// denominators and reduced by one Bareiss step per stored row, see the module
/// documentation); only the `rank` independent rows are kept, so the rank of a tall matrix
/// can be computed without storing it. Once the rank equals the number of columns every
/// further row is dependent and is rejected without any arithmetic.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::matrix::RowEchelon;
/// let r = |v: &[i64]| v.iter().map(|&x| Rat::from_i64(x)).collect::<Vec<_>>();
/// let mut e = RowEchelon::new(3);
/// assert!(e.insert(r(&[1, 2, 3])));
/// assert!(e.insert(r(&[0, 1, 1])));
/// assert!(!e.insert(r(&[2, 5, 7]))); // = 2·row₀ + row₁
/// assert!(!e.insert(r(&[0, 0, 0])));
/// assert_eq!(e.rank(), 2);
/// assert_eq!(e.pivot_columns(), &[0, 1]);
/// ```
#[derive(Clone, Debug)]
pub struct RowEchelon {
    inner: FfEchelon,
}

impl RowEchelon {
    /// An empty echelon form for rows of length `cols`.
    pub fn new(cols: usize) -> RowEchelon {
        RowEchelon {
            inner: FfEchelon::new(cols, cols),
        }
    }
    /// Inserts a row; returns `true` iff it is linearly independent of the rows inserted so
    /// far (then the rank grows by one). Panics if its length is not `cols` (a programming
    /// error).
    pub fn insert<R: AsRef<[Rat]>>(&mut self, row: R) -> bool {
        let row = row.as_ref();
        assert_eq!(row.len(), self.inner.width, "row length");
        if self.inner.rows.len() == self.inner.width {
            return false;
        }
        let (_, v) = int_row(row, &[]);
        self.inner.insert(v).is_ok()
    }
    /// The rank of the rows inserted so far.
    pub fn rank(&self) -> usize {
        self.inner.rows.len()
    }
    /// The row length.
    pub fn cols(&self) -> usize {
        self.inner.width
    }
    /// Pivot column of each independent row, in insertion order (distinct, not sorted).
    pub fn pivot_columns(&self) -> &[usize] {
        &self.inner.pivots
    }
}

/// The rank of the matrix whose rows are `rows` (each of length `cols`), computed by
/// streaming them through a [`RowEchelon`].
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::matrix::rank_of_rows;
/// let rows = (0..1000).map(|i| vec![Rat::from_i64(i), Rat::from_i64(2 * i + 1)]);
/// assert_eq!(rank_of_rows(rows, 2), 2);
/// assert_eq!(rank_of_rows(Vec::<Vec<Rat>>::new(), 4), 0);
/// ```
pub fn rank_of_rows<I, R>(rows: I, cols: usize) -> usize
where
    I: IntoIterator<Item = R>,
    R: AsRef<[Rat]>,
{
    let mut e = RowEchelon::new(cols);
    for r in rows {
        e.insert(r);
        if e.rank() == cols {
            break;
        }
    }
    e.rank()
}

/// The Mersenne prime `2⁶¹ − 1`, the modulus of [`Matrix::rank`]'s first attempt.
pub const MERSENNE_61: u64 = (1 << 61) - 1;

impl Matrix {
    /// Fraction-free forward elimination of `[A | B]` (pivots only in `A`'s columns).
    /// `None` if a row turns out dependent on `A` and either `stop_on_dependent` is set
    /// or its `B` part does not reduce to zero (an inconsistent system).
    fn eliminate_augmented(&self, b: &Matrix, stop_on_dependent: bool) -> Option<FfEchelon> {
        assert_eq!(
            self.rows, b.rows,
            "right-hand side has the wrong number of rows"
        );
        let mut e = FfEchelon::new(self.cols, self.cols + b.cols);
        for i in 0..self.rows {
            let (_, v) = int_row(self.row(i), b.row(i));
            if let Err(v) = e.insert(v) {
                if stop_on_dependent || v[self.cols..].iter().any(|x| !x.is_zero()) {
                    return None;
                }
            }
        }
        Some(e)
    }

    /// The rank (dimension of the row space) of `A`, by fraction-free elimination.
    ///
    /// ```
    /// use dlgeom_cert::matrix::Matrix;
    /// assert_eq!(Matrix::from_i64(3, 3, &[1, 2, 3, 4, 5, 6, 7, 8, 9]).rank(), 2);
    /// assert_eq!(Matrix::zeros(0, 5).rank(), 0);
    /// ```
    ///
    /// First the rank modulo the prime `2⁶¹ − 1` ([`Matrix::rank_mod`]): reduction modulo `p`
    /// is a ring map, so a minor that is nonzero modulo `p` is nonzero, and the rank modulo
    /// `p` is at most the rank. When it reaches `min(rows, cols)` it is the rank (no
    /// fraction-free elimination, whose integers grow with the size); otherwise the exact
    /// elimination decides.
    pub fn rank(&self) -> usize {
        let full = self.rows.min(self.cols);
        if full > 0 && self.rank_mod(MERSENNE_61) == Some(full) {
            return full;
        }
        rank_of_rows((0..self.rows).map(|i| self.row(i)), self.cols)
    }

    /// The rank of the matrix reduced modulo the prime `m < 2⁶³` (Gaussian elimination over
    /// `𝔽_m`), or `None` if some entry's denominator is divisible by `m`. A lower bound on
    /// [`Matrix::rank`].
    ///
    /// ```
    /// use dlgeom_cert::matrix::Matrix;
    /// let a = Matrix::from_i64(2, 2, &[1, 2, 3, 6]);
    /// assert_eq!(a.rank_mod(7), Some(1));
    /// assert_eq!(Matrix::from_i64(2, 2, &[7, 0, 0, 1]).rank_mod(7), Some(1)); // rank 2 over ℚ
    /// ```
    pub fn rank_mod(&self, m: u64) -> Option<usize> {
        // Residues: integers directly; a fraction `n/d` as `n · d⁻¹` with the inverse of each
        // distinct denominator residue computed once (an inverse is a modular exponentiation,
        // and a Jacobian has many entries over few denominators).
        let mut inverses: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
        let mut residue = |x: &Rat| -> Option<u64> {
            if x.is_integer() {
                return x.mod_prime(m);
            }
            let n = Rat::from_int(&x.numer()).mod_prime(m)?;
            let d = Rat::from_int(&x.denom()).mod_prime(m)?;
            if d == 0 {
                return None;
            }
            let inv = *inverses.entry(d).or_insert_with(|| inv_mod(d, m));
            Some(mul_mod(n, inv, m))
        };
        let mut rows: Vec<Vec<u64>> = (0..self.rows)
            .map(|i| self.row(i).iter().map(&mut residue).collect())
            .collect::<Option<_>>()?;
        // For the Mersenne prime 2⁶¹ − 1 the product is reduced by shifts and one
        // conditional subtraction instead of a 128-bit division (the same residues).
        let mersenne = m == MERSENNE_61;
        let mul = |a: u64, b: u64| {
            if mersenne {
                let p = a as u128 * b as u128;
                let r = (p as u64 & MERSENNE_61) + (p >> 61) as u64;
                let r = (r & MERSENNE_61) + (r >> 61);
                if r >= MERSENNE_61 {
                    r - MERSENNE_61
                } else {
                    r
                }
            } else {
                mul_mod(a, b, m)
            }
        };
        let mut rank = 0;
        for col in 0..self.cols {
            let Some(p) = (rank..rows.len()).find(|&i| rows[i][col] != 0) else {
                continue;
            };
            rows.swap(rank, p);
            let f = inv_mod(rows[rank][col], m);
            // Rows `rank..` are zero before `col`: eliminate from `col` on.
            let pivot: Vec<u64> = rows[rank][col..].iter().map(|&x| mul(x, f)).collect();
            for row in rows.iter_mut().skip(rank + 1) {
                let c = row[col];
                if c != 0 {
                    for (x, &y) in row[col..].iter_mut().zip(&pivot) {
                        let t = mul(c, y);
                        *x = if *x >= t { *x - t } else { *x + (m - t) };
                    }
                }
            }
            rank += 1;
        }
        Some(rank)
    }

    /// `det A` for square `A` (panics otherwise: a programming error). Computed as
    /// `sgn(σ) · p_{n−1} / Π ℓ_i` (last Bareiss pivot of the integer-scaled rows, column pivot
    /// order `σ`, row scalings `ℓ_i`); `0` as soon as a row is dependent; `det` of `0 × 0` is `1`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::matrix::Matrix;
    /// let a = Matrix::from_i64(3, 3, &[0, 2, 1, 1, 0, 0, 3, 1, 4]);
    /// assert_eq!(a.determinant(), Rat::from_i64(-7));
    /// let h = Matrix::from_vec(2, 2, ["1", "1/2", "1/2", "1/3"]
    ///     .iter().map(|s| Rat::parse(s).unwrap()).collect());
    /// assert_eq!(h.determinant().canonical(), "1/12");
    /// ```
    pub fn determinant(&self) -> Rat {
        assert!(self.is_square(), "determinant of a non-square matrix");
        let n = self.rows;
        let mut e = FfEchelon::new(n, n);
        let mut scale = Int::one();
        for i in 0..n {
            let (l, v) = int_row(self.row(i), &[]);
            scale *= l;
            if e.insert(v).is_err() {
                return Rat::zero();
            }
        }
        let d = e.last_pivot();
        let d = if permutation_sign(&e.pivots) < 0 {
            -d
        } else {
            d
        };
        Rat::from_ints(&d, &scale).expect("row scalings are positive")
    }

    /// `A⁻¹` for square `A` (panics otherwise); `None` iff `A` is singular.
    /// Computed as [`Matrix::solve`] with `B = I`.
    ///
    /// ```
    /// use dlgeom_cert::matrix::Matrix;
    /// let a = Matrix::from_i64(2, 2, &[2, 1, 1, 1]);
    /// let inv = a.inverse().unwrap();
    /// assert_eq!(inv, Matrix::from_i64(2, 2, &[1, -1, -1, 2]));
    /// assert_eq!(a.mul(&inv), Matrix::identity(2));
    /// assert!(Matrix::from_i64(2, 2, &[1, 2, 2, 4]).inverse().is_none());
    /// ```
    pub fn inverse(&self) -> Option<Matrix> {
        assert!(self.is_square(), "inverse of a non-square matrix");
        self.solve(&Matrix::identity(self.rows))
    }

    /// For square `A` (panics otherwise, or if `B` has a different number of rows): the
    /// unique `X` with `A X = B`, or `None` iff `A` is singular. Forward Bareiss elimination
    /// of `[A' | B']` then fraction-free back substitution (module documentation).
    ///
    /// ```
    /// use dlgeom_cert::matrix::Matrix;
    /// let a = Matrix::from_i64(2, 2, &[1, 2, 3, 4]);
    /// let b = Matrix::from_i64(2, 1, &[5, 6]);
    /// let x = a.solve(&b).unwrap();
    /// assert_eq!(a.mul(&x), b);
    /// assert_eq!(x[(1, 0)].canonical(), "9/2");
    /// ```
    pub fn solve(&self, b: &Matrix) -> Option<Matrix> {
        assert!(self.is_square(), "solve needs a square matrix");
        let e = self.eliminate_augmented(b, true)?;
        Some(e.particular_solution())
    }

    /// For any `m × n` `A` and `m × k` `B` (panics if the row counts differ): some `X`
    /// (`n × k`) with `A X = B` exactly — the solution with every free (non-pivot) variable
    /// `0` — or `None` iff the system is inconsistent (`rank [A | B] > rank A`). Suitable for
    /// singular normal equations `AᵀA X = AᵀB`, which are always consistent.
    ///
    /// ```
    /// use dlgeom_cert::matrix::Matrix;
    /// let a = Matrix::from_i64(2, 2, &[1, 1, 2, 2]);
    /// let x = a.solve_consistent(&Matrix::from_i64(2, 1, &[3, 6])).unwrap();
    /// assert_eq!(x, Matrix::from_i64(2, 1, &[3, 0]));
    /// assert!(a.solve_consistent(&Matrix::from_i64(2, 1, &[3, 7])).is_none());
    /// ```
    pub fn solve_consistent(&self, b: &Matrix) -> Option<Matrix> {
        let e = self.eliminate_augmented(b, false)?;
        Some(e.particular_solution())
    }

    /// A basis of the kernel `{v : A v = 0}`: `n − rank A` vectors, one per free (non-pivot)
    /// column `f` in increasing order, with `v_f > 0`, `v_g = 0` for the other free columns,
    /// and entries scaled to integers with gcd 1. (Vectors for distinct free columns are
    /// independent because each is the only one nonzero at its own free column.)
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::matrix::Matrix;
    /// let a = Matrix::from_i64(2, 3, &[2, 4, 6, 1, 2, 3]);
    /// let k = a.kernel_basis();
    /// assert_eq!(k.len(), 2);
    /// let r = |v: &[i64]| v.iter().map(|&x| Rat::from_i64(x)).collect::<Vec<_>>();
    /// assert_eq!(k, vec![r(&[-2, 1, 0]), r(&[-3, 0, 1])]);
    /// ```
    pub fn kernel_basis(&self) -> Vec<Vec<Rat>> {
        let n = self.cols;
        let mut e = FfEchelon::new(n, n);
        for i in 0..self.rows {
            if e.rows.len() == n {
                break;
            }
            let (_, v) = int_row(self.row(i), &[]);
            let _ = e.insert(v);
        }
        let d = e.last_pivot();
        let mut is_pivot = vec![false; n];
        for &c in &e.pivots {
            is_pivot[c] = true;
        }
        let mut basis = Vec::with_capacity(n - e.rows.len());
        for f in (0..n).filter(|&f| !is_pivot[f]) {
            let t = e.rows.iter().map(|row| -(&row[f] * &d)).collect();
            let yp = e.back_substitute(t);
            let mut y = vec![Int::zero(); n];
            y[f] = d.clone();
            for (v, &c) in yp.into_iter().zip(&e.pivots) {
                y[c] = v;
            }
            let mut g = Int::zero();
            for v in &y {
                g = g.gcd(v);
            }
            if d.signum() < 0 {
                g = -g;
            }
            basis.push(y.iter().map(|v| Rat::from_int(&v.div_exact(&g))).collect());
        }
        basis
    }

    /// Eigenvalue sign counts of a symmetric matrix by exact symmetric elimination
    /// `P A Pᵀ = L D Lᵀ` (fraction-free, symmetric pivoting, and the congruence
    /// "row/column `i` += row/column `j`" when all remaining diagonal entries are zero; see
    /// the module documentation). Returns `None` if `A` is not square or not exactly
    /// symmetric; never panics.
    ///
    /// ```
    /// use dlgeom_cert::matrix::{Inertia, Matrix};
    /// let a = Matrix::from_i64(3, 3, &[0, 1, 0, 1, 0, 0, 0, 0, 0]);
    /// assert_eq!(a.ldlt_inertia(), Some(Inertia { positive: 1, zero: 1, negative: 1 }));
    /// let spd = Matrix::from_i64(2, 2, &[2, -1, -1, 2]);
    /// assert_eq!(spd.ldlt_inertia().unwrap().positive, 2);
    /// assert_eq!(Matrix::from_i64(2, 2, &[1, 2, 3, 4]).ldlt_inertia(), None);
    /// ```
    pub fn ldlt_inertia(&self) -> Option<Inertia> {
        if !self.is_square() {
            return None;
        }
        let n = self.rows;
        for i in 0..n {
            for j in i + 1..n {
                if self[(i, j)] != self[(j, i)] {
                    return None;
                }
            }
        }
        let mut l = Int::one();
        for x in &self.data {
            if !x.is_integer() {
                l = l.lcm(&x.denom());
            }
        }
        let mut a: Vec<Vec<Int>> = (0..n)
            .map(|i| {
                self.row(i)
                    .iter()
                    .map(|x| x.numer() * l.div_exact(&x.denom()))
                    .collect()
            })
            .collect();
        let mut rem: Vec<usize> = (0..n).collect();
        let mut prev = Int::one();
        let mut inertia = Inertia::default();
        while !rem.is_empty() {
            let pos = match rem.iter().position(|&i| !a[i][i].is_zero()) {
                Some(p) => p,
                None => {
                    let mut found = None;
                    'search: for (s, &i) in rem.iter().enumerate() {
                        for &j in &rem[s + 1..] {
                            if !a[i][j].is_zero() {
                                found = Some((s, i, j));
                                break 'search;
                            }
                        }
                    }
                    let Some((s, i, j)) = found else { break };
                    // Congruence by the unimodular T = I + e_j e_iᵀ on the remaining block.
                    for &k in &rem {
                        let t = a[j][k].clone();
                        a[i][k] += t;
                    }
                    for &k in &rem {
                        let t = a[k][j].clone();
                        a[k][i] += t;
                    }
                    s
                }
            };
            let p = rem.remove(pos);
            let pv = std::mem::take(&mut a[p][p]);
            for s in 0..rem.len() {
                let i = rem[s];
                for &j in &rem[s..] {
                    let t = &pv * &a[i][j] - &a[i][p] * &a[p][j];
                    let t = t.div_exact(&prev);
                    if i != j {
                        a[j][i] = t.clone();
                    }
                    a[i][j] = t;
                }
            }
            if pv.signum() * prev.signum() > 0 {
                inertia.positive += 1;
            } else {
                inertia.negative += 1;
            }
            prev = pv;
        }
        inertia.zero = rem.len();
        Some(inertia)
    }
}
