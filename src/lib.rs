//! dlgeom-cert: exact, checkable certificates for the minimizers of deep ReLU networks
//! constructed in Chen & Muñoz Ewald, arXiv:2309.10639.
#![forbid(unsafe_code)]

pub mod arith;
pub mod cones;
pub mod data;
pub mod gen;
pub mod lp;
pub mod matrix;
