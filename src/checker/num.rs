//! The exact arithmetic the checker needs, as a small trait with two independent backends:
//! malachite (through [`crate::arith::Rat`]) and `num_rational::BigRational`. Every check is
//! written once, generically, and runs on both; a bug in one big-number library would have
//! to be repeated in the other to go unnoticed.

use crate::arith::Rat;
use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::Zero;
use std::fmt::Debug;
use std::str::FromStr;

/// The parser of [`Num::parse`]: no digit limit of its own. Only text made of digits, `-`
/// and `/` (the characters of canonical numbers, [`plain`]) reaches it; the digits of every
/// such string of a certificate are bounded before any is parsed ([`super::CertLimits`],
/// applied by [`super::Checker::check`]), which bounds the work a hostile string can demand;
/// the data is read under `--max-digits`, which that bound includes.
const UNBOUNDED: crate::arith::ParseLimits = crate::arith::ParseLimits {
    max_exponent: 0,
    max_digits: usize::MAX,
};

/// Only digits, `-` and `/`: the only characters a canonical number has. Any other text is
/// rejected before it is parsed (this also keeps the parsers' own extensions, `+`, `_`,
/// decimals and exponents, out).
pub fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'/')
}

/// An exact ordered field with canonical text `"p/q"` (lowest terms, `q > 0`, integers
/// without `/1`).
pub trait Num: Clone + PartialEq + PartialOrd + Debug {
    /// Parse canonical text; anything else (other spellings, garbage, `1/0`) is an error
    /// naming the text. The caller bounds its length ([`super::CertLimits`]).
    fn parse(s: &str) -> Result<Self, String>;
    /// The canonical text.
    fn text(&self) -> String;
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
    /// `−1`, `0` or `1`.
    fn sign(&self) -> i32;
    /// `max(bits(|p|), bits(q))`.
    fn bits(&self) -> u64;
    /// Correctly rounded `f64` (nearest, ties to even), via [`Rat::to_f64`].
    fn to_f64(&self) -> f64;

    /// `0`.
    fn zero() -> Self {
        Self::from_usize(0)
    }
    /// `1`.
    fn one() -> Self {
        Self::from_usize(1)
    }
    /// `−self`.
    fn neg(&self) -> Self {
        Self::zero().sub(self)
    }
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
    /// `Σ a_i b_i` (each backend reduces once, at the end).
    fn dot(a: &[Self], b: &[Self]) -> Self;
    /// The residue `p·q⁻¹ mod m` of `p/q` for a prime `m < 2⁶³`, `None` when `m` divides `q`.
    fn mod_prime(&self, m: u64) -> Option<u64>;
    /// The least common multiple of the denominators of `v` (`1` for an empty `v`).
    fn denom_lcm(v: &[Self]) -> Self;
    /// `Some(n)` when the value is an integer `n` that fits in an `i64`.
    fn to_i64(&self) -> Option<i64>;
    /// The integer `n`.
    fn from_i128(n: i128) -> Self;
}

/// `a·b mod m`.
fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    (a as u128 * b as u128 % m as u128) as u64
}

/// `q⁻¹ mod m` for a prime `m` by Fermat (`q^{m−2}`); `None` when `q ≡ 0`.
pub fn inv_mod(q: u64, m: u64) -> Option<u64> {
    let (mut base, mut e, mut r) = (q % m, m - 2, 1u64);
    if base == 0 {
        return None;
    }
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, base, m);
        }
        base = mul_mod(base, base, m);
        e >>= 1;
    }
    Some(r)
}

fn canonical<T>(
    s: &str,
    value: Result<T, String>,
    text: impl Fn(&T) -> String,
) -> Result<T, String> {
    let v = value.map_err(|e| format!("\"{s}\" is not an exact number ({e})"))?;
    match text(&v) {
        c if c == s => Ok(v),
        c => Err(format!(
            "\"{s}\" is not the canonical text of its value (\"{c}\")"
        )),
    }
}

macro_rules! ring_ops {
    () => {
        fn add(&self, o: &Self) -> Self {
            self + o
        }
        fn sub(&self, o: &Self) -> Self {
            self - o
        }
        fn mul(&self, o: &Self) -> Self {
            self * o
        }
        fn neg(&self) -> Self {
            -self
        }
    };
}

impl Num for Rat {
    ring_ops!();
    fn parse(s: &str) -> Result<Self, String> {
        let v = if plain(s) {
            Rat::parse_with(s, &UNBOUNDED).map_err(|e| e.0)
        } else {
            Err("bad text".into())
        };
        canonical(s, v, Rat::canonical)
    }
    fn text(&self) -> String {
        self.canonical()
    }
    fn from_usize(n: usize) -> Self {
        Rat::from_i64(i64::try_from(n).unwrap_or(i64::MAX))
    }
    fn div(&self, o: &Self) -> Option<Self> {
        (!o.is_zero()).then(|| self / o)
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
    fn dot(a: &[Self], b: &[Self]) -> Self {
        Rat::dot(a, b)
    }
    fn mod_prime(&self, m: u64) -> Option<u64> {
        Rat::mod_prime(self, m)
    }
    fn to_i64(&self) -> Option<i64> {
        Rat::to_i64(self)
    }
    fn from_i128(n: i128) -> Self {
        Rat::from_i128(n)
    }
    fn denom_lcm(v: &[Self]) -> Self {
        Rat::from_int(
            &v.iter()
                .fold(crate::arith::Int::one(), |l, x| l.lcm(&x.denom())),
        )
    }
}

impl Num for BigRational {
    ring_ops!();
    fn parse(s: &str) -> Result<Self, String> {
        let v = if plain(s) {
            BigRational::from_str(s).map_err(|e| e.to_string())
        } else {
            Err("bad text".into())
        };
        canonical(s, v, BigRational::to_string)
    }
    fn text(&self) -> String {
        self.to_string()
    }
    fn from_usize(n: usize) -> Self {
        BigRational::from_integer(BigInt::from(n))
    }
    fn div(&self, o: &Self) -> Option<Self> {
        (!Zero::is_zero(o)).then(|| self / o)
    }
    fn sign(&self) -> i32 {
        match self.numer().sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        }
    }
    fn bits(&self) -> u64 {
        self.numer().bits().max(self.denom().bits())
    }
    fn to_f64(&self) -> f64 {
        // Through the canonical text, so both backends round identically.
        Rat::parse(&self.to_string()).map_or(f64::NAN, |r| r.to_f64())
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        // A numerator over the lcm of the denominators so far, reduced once.
        let (mut sn, mut sd) = (BigInt::zero(), BigInt::from(1));
        for (x, y) in a.iter().zip(b) {
            if Zero::is_zero(x) || Zero::is_zero(y) {
                continue;
            }
            let (tn, td) = (x.numer() * y.numer(), x.denom() * y.denom());
            if td == sd {
                sn += tn;
            } else {
                let g = num_integer::Integer::gcd(&sd, &td);
                let (p, q) = (&td / &g, &sd / &g);
                sn = sn * &p + tn * q;
                sd *= p;
            }
        }
        BigRational::new(sn, sd)
    }
    fn mod_prime(&self, m: u64) -> Option<u64> {
        let modulo = |x: &BigInt| -> u64 {
            let r = x % BigInt::from(m);
            let r = if r.sign() == Sign::Minus {
                r + BigInt::from(m)
            } else {
                r
            };
            r.to_u64_digits().1.first().copied().unwrap_or(0)
        };
        let inv = inv_mod(modulo(self.denom()), m)?;
        Some(mul_mod(modulo(self.numer()), inv, m))
    }
    fn to_i64(&self) -> Option<i64> {
        use num_traits::ToPrimitive;
        self.is_integer().then(|| self.numer().to_i64()).flatten()
    }
    fn from_i128(n: i128) -> Self {
        BigRational::from_integer(BigInt::from(n))
    }
    fn denom_lcm(v: &[Self]) -> Self {
        let l = (v.iter()).fold(BigInt::from(1), |l, x| {
            num_integer::Integer::lcm(&l, x.denom())
        });
        BigRational::from_integer(l)
    }
}
