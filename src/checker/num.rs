//! The exact arithmetic the checker needs, as a small trait with two independent backends:
//! malachite (through [`crate::arith::Rat`]) and `num_rational::BigRational`. Every check is
//! written once, generically, and runs on both; a bug in one big-number library would have
//! to be repeated in the other to go unnoticed.

use crate::arith::Rat;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use std::cmp::Ordering;
use std::fmt::Debug;
use std::str::FromStr;

/// Longest number text accepted (characters); bounds the work a hostile string can demand.
pub const MAX_TEXT: usize = 100_000;

/// An exact ordered field with canonical text `"p/q"` (lowest terms, `q > 0`, integers
/// without `/1`).
pub trait Num: Clone + PartialEq + PartialOrd + Debug {
    /// Parse canonical text; anything else (other spellings, garbage, `1/0`, text longer than
    /// [`MAX_TEXT`]) is an error naming the text.
    fn parse(s: &str) -> Result<Self, String>;
    /// The canonical text.
    fn text(&self) -> String;
    /// `0`.
    fn zero() -> Self;
    /// `1`.
    fn one() -> Self;
    /// The integer `n`.
    fn from_usize(n: usize) -> Self;
    /// `self + o`.
    fn add(&self, o: &Self) -> Self;
    /// `self − o`.
    fn sub(&self, o: &Self) -> Self;
    /// `self · o`.
    fn mul(&self, o: &Self) -> Self;
    /// `self / o`, `None` when `o = 0`.
    fn div(&self, o: &Self) -> Option<Self>;
    /// `−self`.
    fn neg(&self) -> Self;
    /// `−1`, `0` or `1`.
    fn sign(&self) -> i32;
    /// `max(bits(|p|), bits(q))`.
    fn bits(&self) -> u64;
    /// Correctly rounded `f64` (nearest, ties to even), via [`Rat::to_f64`].
    fn to_f64(&self) -> f64;

    /// `|self|`.
    fn abs(&self) -> Self {
        if self.sign() < 0 {
            self.neg()
        } else {
            self.clone()
        }
    }
    /// `true` iff `0`.
    fn is_zero(&self) -> bool {
        self.sign() == 0
    }
}

fn too_long(s: &str) -> Result<(), String> {
    if s.len() > MAX_TEXT {
        Err(format!("number text of {} characters exceeds the limit of {MAX_TEXT}", s.len()))
    } else {
        Ok(())
    }
}

fn not_canonical(s: &str, c: &str) -> String {
    format!("\"{s}\" is not the canonical text of its value (\"{c}\")")
}

impl Num for Rat {
    fn parse(s: &str) -> Result<Self, String> {
        too_long(s)?;
        let r = Rat::parse(s).map_err(|e| format!("\"{s}\" is not an exact number: {e}"))?;
        let c = r.canonical();
        if c == s {
            Ok(r)
        } else {
            Err(not_canonical(s, &c))
        }
    }
    fn text(&self) -> String {
        self.canonical()
    }
    fn zero() -> Self {
        Rat::zero()
    }
    fn one() -> Self {
        Rat::one()
    }
    fn from_usize(n: usize) -> Self {
        Rat::from_i64(i64::try_from(n).unwrap_or(i64::MAX))
    }
    fn add(&self, o: &Self) -> Self {
        self + o
    }
    fn sub(&self, o: &Self) -> Self {
        self - o
    }
    fn mul(&self, o: &Self) -> Self {
        self * o
    }
    fn div(&self, o: &Self) -> Option<Self> {
        o.recip().map(|r| self * &r)
    }
    fn neg(&self) -> Self {
        -self
    }
    fn sign(&self) -> i32 {
        self.signum()
    }
    fn bits(&self) -> u64 {
        self.bit_size()
    }
    fn to_f64(&self) -> f64 {
        Rat::to_f64(self)
    }
}

impl Num for BigRational {
    fn parse(s: &str) -> Result<Self, String> {
        too_long(s)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'/') {
            return Err(format!("\"{s}\" is not an exact number of the form p/q"));
        }
        let r = BigRational::from_str(s).map_err(|e| format!("\"{s}\" is not an exact number: {e}"))?;
        let c = r.to_string();
        if c == s {
            Ok(r)
        } else {
            Err(not_canonical(s, &c))
        }
    }
    fn text(&self) -> String {
        self.to_string()
    }
    fn zero() -> Self {
        BigRational::zero()
    }
    fn one() -> Self {
        BigRational::from_integer(BigInt::from(1))
    }
    fn from_usize(n: usize) -> Self {
        BigRational::from_integer(BigInt::from(n))
    }
    fn add(&self, o: &Self) -> Self {
        self + o
    }
    fn sub(&self, o: &Self) -> Self {
        self - o
    }
    fn mul(&self, o: &Self) -> Self {
        self * o
    }
    fn div(&self, o: &Self) -> Option<Self> {
        (!o.is_zero()).then(|| self / o)
    }
    fn neg(&self) -> Self {
        -self
    }
    fn sign(&self) -> i32 {
        match self.numer().sign() {
            num_bigint::Sign::Minus => -1,
            num_bigint::Sign::NoSign => 0,
            num_bigint::Sign::Plus => 1,
        }
    }
    fn bits(&self) -> u64 {
        self.numer().bits().max(self.denom().bits())
    }
    fn to_f64(&self) -> f64 {
        // Through the canonical text, so both backends round identically.
        Rat::parse(&self.to_string()).map_or(f64::NAN, |r| r.to_f64())
    }
    fn abs(&self) -> Self {
        Signed::abs(self)
    }
}

/// `a` compared with `b` (total for exact numbers).
pub fn cmp<N: Num>(a: &N, b: &N) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}
