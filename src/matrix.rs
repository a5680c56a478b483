//! Exact dense matrices over [`Rat`].
//!
//! Row-major storage. Products and transposes here; elimination-based operations
//! (solve, inverse, rank, kernel, LDLᵀ inertia) use fraction-free Bareiss elimination on
//! integer-scaled rows, and every result carries what is needed to re-check it.

use crate::arith::Rat;
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
        let mut c = Matrix::zeros(self.rows, b.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = &self[(i, k)];
                if a.is_zero() {
                    continue;
                }
                for j in 0..b.cols {
                    let p = a * &b[(k, j)];
                    c[(i, j)] += p;
                }
            }
        }
        c
    }
    /// `A·v`.
    pub fn mul_vec(&self, v: &[Rat]) -> Vec<Rat> {
        assert_eq!(self.cols, v.len(), "matrix-vector dimensions");
        (0..self.rows).map(|i| dot(self.row(i), v)).collect()
    }
    /// `A + B`.
    pub fn add(&self, b: &Matrix) -> Matrix {
        assert_eq!((self.rows, self.cols), (b.rows, b.cols), "matrix sum dimensions");
        Matrix::from_vec(
            self.rows,
            self.cols,
            self.data.iter().zip(&b.data).map(|(x, y)| x + y).collect(),
        )
    }
    /// `A − B`.
    pub fn sub(&self, b: &Matrix) -> Matrix {
        assert_eq!((self.rows, self.cols), (b.rows, b.cols), "matrix difference dimensions");
        Matrix::from_vec(
            self.rows,
            self.cols,
            self.data.iter().zip(&b.data).map(|(x, y)| x - y).collect(),
        )
    }
    /// `s·A`.
    pub fn scale(&self, s: &Rat) -> Matrix {
        Matrix::from_vec(self.rows, self.cols, self.data.iter().map(|x| x * s).collect())
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

/// `Σ a_i b_i`.
pub fn dot(a: &[Rat], b: &[Rat]) -> Rat {
    assert_eq!(a.len(), b.len(), "dot product lengths");
    let mut s = Rat::zero();
    for (x, y) in a.iter().zip(b) {
        if !x.is_zero() {
            s += x * y;
        }
    }
    s
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
