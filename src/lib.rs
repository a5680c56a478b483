//! dlgeom-cert: exact, checkable certificates for the minimizers of deep ReLU networks
//! constructed in Chen & Muñoz Ewald, arXiv:2309.10639.
#![forbid(unsafe_code)]

pub mod arith;
pub mod cert;
pub mod certify;
pub mod checker;
pub mod cli;
pub mod cones;
pub mod construct;
pub mod data;
pub mod fastexact;
pub mod gen;
pub mod lp;
pub mod lsq;
pub mod matrix;
pub mod netio;
pub mod network;
pub mod plot;
pub mod report;
pub mod verify;
