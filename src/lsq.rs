//! Exact least squares from sufficient statistics (MATH.md §6 and §8).
//!
//! For a set of points `x_i ∈ ℚ^d` with targets `y_i ∈ ℚ^Q`, write `x̃ = (x, 1)`,
//! `G = Σ x̃ x̃ᵀ`, `R = Σ x̃ yᵀ`, `T = Σ |y|²`. The affine least-squares value is
//! `min_{M,c} Σ |M x_i + c − y_i|² = T − tr(Rᵀ Z)` for any `Z` with `G Z = R`
//! (the normal equations are always consistent; when `G` is singular every solution gives
//! the same value), and the fit is `[M | c]ᵀ = Z`. The constant fit (`M = 0`) has value
//! `T − |Σ y|²/n`. Only the moments are needed, so a class of a million points costs one
//! pass to summarise.

use crate::arith::Rat;
use crate::matrix::{dot, Matrix};

/// Sufficient statistics of a weighted point set with targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moments {
    /// Number of points `n`.
    pub count: usize,
    /// `G = Σ x̃ x̃ᵀ`, `(d+1) × (d+1)` with `x̃ = (x, 1)`.
    pub gram: Matrix,
    /// `R = Σ x̃ yᵀ`, `(d+1) × Q`.
    pub cross: Matrix,
    /// `Σ y`.
    pub sum_y: Vec<Rat>,
    /// `T = Σ |y|²`.
    pub sum_yy: Rat,
}

/// An affine fit `f(x) = M x + c` and its sum of squared residuals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffineFit {
    /// `M` (`Q × d`).
    pub m: Matrix,
    /// `c`.
    pub c: Vec<Rat>,
    /// `min Σ |M x + c − y|²`.
    pub sse: Rat,
}

impl Moments {
    /// The empty set in dimension `d` with targets in `ℚ^q`.
    pub fn empty(d: usize, q: usize) -> Moments {
        Moments {
            count: 0,
            gram: Matrix::zeros(d + 1, d + 1),
            cross: Matrix::zeros(d + 1, q),
            sum_y: vec![Rat::zero(); q],
            sum_yy: Rat::zero(),
        }
    }

    /// Add `count` points with the same target `y`, given `Σ x` and `Σ x xᵀ` over them
    /// (e.g. one class's statistics).
    pub fn add_group(&mut self, count: usize, sum_x: &[Rat], sum_xx: &Matrix, y: &[Rat]) {
        let d = sum_x.len();
        let n = Rat::from_i64(count as i64);
        for a in 0..d {
            for b in 0..d {
                self.gram[(a, b)] += &sum_xx[(a, b)];
            }
            self.gram[(a, d)] += &sum_x[a];
            self.gram[(d, a)] += &sum_x[a];
            for (k, yk) in y.iter().enumerate() {
                self.cross[(a, k)] += &sum_x[a] * yk;
            }
        }
        self.gram[(d, d)] += &n;
        for (k, yk) in y.iter().enumerate() {
            self.cross[(d, k)] += &n * yk;
            self.sum_y[k] += &n * yk;
        }
        self.sum_yy += &n * &dot(y, y);
        self.count += count;
    }

    /// Add one point `x` with target `y`.
    pub fn add_point(&mut self, x: &[Rat], y: &[Rat]) {
        let d = x.len();
        let mut xx = Matrix::zeros(d, d);
        for a in 0..d {
            for b in 0..d {
                xx[(a, b)] = &x[a] * &x[b];
            }
        }
        self.add_group(1, x, &xx, y);
    }

    /// The affine least-squares fit and its value (MATH.md §6): solve `G Z = R`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::lsq::Moments;
    /// let r = |x: i64| Rat::from_i64(x);
    /// // y = 2x + 1 exactly at x = 0, 1; a third point (2, 4) is off the line by 1.
    /// let mut m = Moments::empty(1, 1);
    /// m.add_point(&[r(0)], &[r(1)]);
    /// m.add_point(&[r(1)], &[r(3)]);
    /// m.add_point(&[r(2)], &[r(4)]);
    /// let fit = m.affine_fit();
    /// assert_eq!(fit.sse.canonical(), "1/6");
    /// ```
    pub fn affine_fit(&self) -> AffineFit {
        let d = self.gram.rows - 1;
        let q = self.cross.cols;
        if self.count == 0 {
            return AffineFit {
                m: Matrix::zeros(q, d),
                c: vec![Rat::zero(); q],
                sse: Rat::zero(),
            };
        }
        let z = self
            .gram
            .solve_consistent(&self.cross)
            .expect("normal equations G Z = R are always consistent");
        let mut explained = Rat::zero();
        for (a, b) in self.cross.data.iter().zip(&z.data) {
            if !a.is_zero() {
                explained += a * b;
            }
        }
        let mut m = Matrix::zeros(q, d);
        for k in 0..q {
            for a in 0..d {
                m[(k, a)] = z[(a, k)].clone();
            }
        }
        AffineFit {
            m,
            c: (0..q).map(|k| z[(d, k)].clone()).collect(),
            sse: &self.sum_yy - &explained,
        }
    }

    /// The best constant fit `c = mean(y)` and its value `T − |Σy|²/n`.
    pub fn constant_fit(&self) -> (Vec<Rat>, Rat) {
        if self.count == 0 {
            return (vec![Rat::zero(); self.sum_y.len()], Rat::zero());
        }
        let n = Rat::from_i64(self.count as i64);
        let mean: Vec<Rat> = self.sum_y.iter().map(|s| s / &n).collect();
        let sse = &self.sum_yy - &(&dot(&self.sum_y, &self.sum_y) / &n);
        (mean, sse)
    }
}
