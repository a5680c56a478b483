//! Training data: the `dlgeom-data/1` JSON format (PRODUCT.md), CSV, validation, hashes,
//! and per-class sufficient statistics.
//!
//! MATH.md §1: `Q` classes, class `j` has inputs `x_{j,1..N_j} ∈ ℚ^Q` (`N_j ≥ 1`) and one
//! target `y_j ∈ ℚ^Q` (default one-hot `e_j`); `N = Σ_j N_j`.

use crate::arith::Rat;

/// One class: its inputs and its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    /// Optional human-readable name.
    pub name: Option<String>,
    /// The target `y_j ∈ ℚ^Q`.
    pub target: Vec<Rat>,
    /// `true` when the target was given in the file (otherwise it is the one-hot default).
    pub target_given: bool,
    /// The inputs `x_{j,i} ∈ ℚ^Q`.
    pub inputs: Vec<Vec<Rat>>,
}

/// A validated data set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Number of classes (= dimension of every space).
    pub q: usize,
    /// The classes, in file order (class `j` is `classes[j - 1]`).
    pub classes: Vec<Class>,
    /// SHA-256 (lowercase hex) of the file bytes as read.
    pub sha256_bytes: String,
    /// SHA-256 (lowercase hex) of [`Dataset::canonical_json`].
    pub sha256_canonical: String,
}

impl Dataset {
    /// Total number of points `N`.
    pub fn n(&self) -> usize {
        self.classes.iter().map(|c| c.inputs.len()).sum()
    }
    /// `N_j` for every class.
    pub fn counts(&self) -> Vec<usize> {
        self.classes.iter().map(|c| c.inputs.len()).collect()
    }
}
