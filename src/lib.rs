//! dlgeom-cert: exact, checkable certificates for the minimizers of deep ReLU networks
//! constructed in Chen & Muñoz Ewald, arXiv:2309.10639.
#![forbid(unsafe_code)]

pub mod arith;
pub mod cert;
pub mod checker;
pub mod cones;
pub mod data;
pub mod gen;
pub mod lp;
pub mod matrix;
pub mod certify;
pub mod construct;
pub mod lsq;
pub mod network;
pub mod verify;
pub mod report;
pub mod netio;
pub mod plot;
pub mod cli;
