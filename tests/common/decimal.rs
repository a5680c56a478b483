//! The independent reference reader of exact number text (on `num-bigint`, sharing no
//! code with `dlgeom_cert::arith`): what `Rat::parse_with` must return for every text and
//! every limit. Used by `tests/fuzz.rs`, `tests/reader_soundness.rs` and the cargo-fuzz
//! target `fuzz/fuzz_targets/rat_parse.rs`.
#![allow(dead_code)]

use dlgeom_cert::arith::ParseLimits;
use num_bigint::{BigInt, BigUint};
use num_rational::BigRational;
use num_traits::{Signed, Zero};

pub fn digits_only(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn decimal_digits(x: &BigInt) -> usize {
    x.abs().to_string().len()
}

/// Digits of the canonical text `p/q` (the denominator `1` is not written).
pub fn canonical_digits(v: &BigRational) -> usize {
    decimal_digits(v.numer())
        + if v.is_integer() {
            0
        } else {
            decimal_digits(v.denom())
        }
}

/// The slow reference reader: the value of `s` under `limits`, or `None` when the tool must
/// refuse it. The exponent is a `BigInt`, so nothing wraps; values are materialised only
/// when the test's digit limit (at most a few thousand) makes that cheap, and otherwise
/// refused by the plain size argument (`m·10^e` has at least `e + 1` digits, `m/10^k` in
/// lowest terms has a denominator of more than `k − digits(m)` digits).
pub fn reference(s: &str, limits: &ParseLimits) -> Option<BigRational> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.bytes().filter(u8::is_ascii_digit).count() > limits.max_digits {
        return None;
    }
    let value = if let Some((n, d)) = body.split_once('/') {
        if !digits_only(n) || !digits_only(d) {
            return None;
        }
        let d: BigInt = d.parse().ok()?;
        if d.is_zero() {
            return None;
        }
        BigRational::new(n.parse().ok()?, d)
    } else {
        let (mant, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        let ok = |p: &str| p.is_empty() || digits_only(p);
        if (ip.is_empty() && fp.is_empty()) || !ok(ip) || !ok(fp) {
            return None;
        }
        let e: BigInt = match exp {
            None => BigInt::zero(),
            Some(x) => {
                let (eneg, ed) = match x.as_bytes().first() {
                    Some(b'-') => (true, &x[1..]),
                    Some(b'+') => (false, &x[1..]),
                    _ => (false, x),
                };
                if !digits_only(ed) {
                    return None;
                }
                let mag: BigUint = ed.parse().ok()?;
                if mag > BigUint::from(limits.max_exponent) {
                    return None;
                }
                let mag = BigInt::from(mag);
                if eneg {
                    -mag
                } else {
                    mag
                }
            }
        };
        let m: BigInt = format!("0{ip}{fp}").parse().ok()?;
        if m.is_zero() {
            BigRational::zero()
        } else {
            let e = e - BigInt::from(fp.len());
            let bound = BigInt::from(limits.max_digits) + BigInt::from(body.len()) + 2;
            if e.abs() > bound {
                return None;
            }
            let k: usize = e.abs().try_into().ok()?;
            let p = num_traits::pow(BigInt::from(10), k);
            if e.is_negative() {
                BigRational::new(m, p)
            } else {
                BigRational::from_integer(m * p)
            }
        }
    };
    if canonical_digits(&value) > limits.max_digits {
        return None;
    }
    Some(if neg { -value } else { value })
}

pub fn canon(v: &BigRational) -> String {
    if v.is_integer() {
        v.numer().to_string()
    } else {
        format!("{}/{}", v.numer(), v.denom())
    }
}
