pub mod arith;
pub mod data;
pub mod matrix;
