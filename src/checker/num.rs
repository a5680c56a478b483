//! The exact arithmetic the checker needs, as a small trait with two independent backends:
//! malachite (through [`crate::arith::Rat`]) and `num_rational::BigRational` (through
//! [`BigQ`], with its own gcd, reductions and comparisons). Every check is
//! written once, generically, and runs on both; a bug in one big-number library would have
//! to be repeated in the other to go unnoticed.

use crate::arith::Rat;
use num_bigint::{BigInt, BigUint, Sign};
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};
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

/// A `num_rational::BigRational` in lowest terms with a positive denominator (every
/// constructor here keeps it so), compared structurally (`=`) and by cross-multiplication
/// (`<`). num-rational's own comparison recurses once per continued-fraction term the two
/// values share: adjacent Fibonacci ratios of 20,000 digits overflow the stack, an abort
/// rather than a rejection.
#[derive(Clone, Debug)]
pub struct BigQ(BigRational);

impl BigQ {
    /// The value as num-rational's type.
    pub fn as_ratio(&self) -> &BigRational {
        &self.0
    }
    fn numer(&self) -> &BigInt {
        self.0.numer()
    }
    fn denom(&self) -> &BigInt {
        self.0.denom()
    }
    fn int(n: BigInt) -> BigQ {
        BigQ(BigRational::from_integer(n))
    }
}

impl PartialEq for BigQ {
    fn eq(&self, o: &Self) -> bool {
        self.numer() == o.numer() && self.denom() == o.denom()
    }
}

impl PartialOrd for BigQ {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        // Positive denominators: a/b < c/d ⇔ a·d < c·b.
        Some(if self.denom() == o.denom() {
            self.numer().cmp(o.numer())
        } else {
            (self.numer() * o.denom()).cmp(&(o.numer() * self.denom()))
        })
    }
}

impl Num for BigQ {
    // The field operations reduce with [`gcd`] (Euclid with Lehmer steps) and build the
    // result with `new_raw`: num-rational's own operators reduce with num-bigint's binary
    // gcd, whose every step shifts the whole number (quadratic in bits, minutes for one
    // 100,000-digit operand).
    fn add(&self, o: &Self) -> Self {
        BigQ(add_q(&self.0, &o.0))
    }
    fn sub(&self, o: &Self) -> Self {
        BigQ(add_q(&self.0, &-&o.0))
    }
    fn mul(&self, o: &Self) -> Self {
        BigQ(mul_q(&self.0, &o.0))
    }
    fn neg(&self) -> Self {
        BigQ(-&self.0)
    }
    fn parse(s: &str) -> Result<Self, String> {
        let v = if plain(s) {
            parse_q(s)
        } else {
            Err("bad text".into())
        };
        // The text of a value already known to be spelled canonically is `s` itself; only
        // a rejected spelling needs the value's own text.
        let text = |(v, spelled): &(BigRational, bool)| {
            if *spelled {
                s.to_string()
            } else {
                v.to_string()
            }
        };
        canonical(s, v, text).map(|(v, _)| BigQ(v))
    }
    fn text(&self) -> String {
        self.0.to_string()
    }
    fn from_usize(n: usize) -> Self {
        BigQ::int(BigInt::from(n))
    }
    fn div(&self, o: &Self) -> Option<Self> {
        if Zero::is_zero(&o.0) {
            return None;
        }
        let (c, d) = (o.numer(), o.denom());
        let inv = if c.sign() == Sign::Minus {
            BigRational::new_raw(-d, -c)
        } else {
            BigRational::new_raw(d.clone(), c.clone())
        };
        Some(BigQ(mul_q(&self.0, &inv)))
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
        // Through the canonical text, so both backends round identically; read without a
        // digit limit (the certificate's own numbers were bounded before they were parsed,
        // and a computed value may be longer than any data number).
        Rat::parse_with(&self.text(), &UNBOUNDED).map_or(f64::NAN, |r| r.to_f64())
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        // A numerator over the lcm of the denominators so far, reduced once.
        let (mut sn, mut sd) = (BigInt::zero(), BigInt::one());
        for (x, y) in a.iter().zip(b) {
            if Zero::is_zero(&x.0) || Zero::is_zero(&y.0) {
                continue;
            }
            let (tn, td) = (x.numer() * y.numer(), x.denom() * y.denom());
            if td == sd {
                sn += tn;
            } else {
                let g = gcd_int(&sd, &td);
                let (p, q) = (div_by(&td, &g), div_by(&sd, &g));
                sn = sn * &p + tn * q;
                sd *= p;
            }
        }
        BigQ(reduce(sn, sd).0)
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
        self.0.is_integer().then(|| self.numer().to_i64()).flatten()
    }
    fn from_i128(n: i128) -> Self {
        BigQ::int(BigInt::from(n))
    }
    fn denom_lcm(v: &[Self]) -> Self {
        let l = (v.iter()).fold(BigInt::one(), |l, x| {
            let g = gcd_int(&l, x.denom());
            div_by(&l, &g) * x.denom()
        });
        BigQ::int(l)
    }
}

/// `x / g` for a `g > 0` known to divide `x` (no division when `g = 1`).
fn div_by(x: &BigInt, g: &BigInt) -> BigInt {
    if g.is_one() {
        x.clone()
    } else {
        x / g
    }
}

/// `gcd(|a|, |b|)` as a non-negative `BigInt`.
fn gcd_int(a: &BigInt, b: &BigInt) -> BigInt {
    BigInt::from_biguint(Sign::Plus, gcd(a.magnitude(), b.magnitude()))
}

/// `n/d` in lowest terms with a positive denominator (`d ≠ 0`), and whether it already
/// was (`gcd(|n|, d) = 1` and `d > 0`), so that canonical input is not divided at all.
fn reduce(n: BigInt, d: BigInt) -> (BigRational, bool) {
    if n.is_zero() {
        return (<BigRational as Zero>::zero(), d.is_one());
    }
    let g = gcd_int(&n, &d);
    let (n, d, lowest) = if g.is_one() {
        (n, d, true)
    } else {
        (&n / &g, &d / &g, false)
    };
    if d.sign() == Sign::Minus {
        (BigRational::new_raw(-n, -d), false)
    } else {
        (BigRational::new_raw(n, d), lowest)
    }
}

/// The value of number text the way `num_rational`'s `FromStr` reads it (`n` or `n/d`,
/// the same error texts), reduced with [`gcd`], and whether the text is the canonical
/// spelling of that value: digits without leading zeros, no `-0`, no `/1`, and already in
/// lowest terms with a positive denominator. Those are exactly the texts `to_string` gives.
fn parse_q(s: &str) -> Result<(BigRational, bool), String> {
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let bad = || "failed to parse integer".to_string();
    let num = BigInt::from_str(n).map_err(|_| bad())?;
    let den = BigInt::from_str(d).map_err(|_| bad())?;
    if den.is_zero() {
        return Err("zero value denominator".into());
    }
    let digits = |t: &str| t == "0" || !t.starts_with('0');
    let spelled = match n.strip_prefix('-') {
        Some(m) => m != "0" && digits(m),
        None => digits(n),
    } && (!s.contains('/') || (!d.starts_with(['0', '-']) && d != "1"));
    let (v, lowest) = reduce(num, den);
    Ok((v, spelled && lowest))
}

/// `x + y`, reduced (Henrici: only the gcd of the denominators and one more of the sum).
fn add_q(x: &BigRational, y: &BigRational) -> BigRational {
    if Zero::is_zero(x) {
        return y.clone();
    }
    if Zero::is_zero(y) {
        return x.clone();
    }
    let (a, b, c, d) = (x.numer(), x.denom(), y.numer(), y.denom());
    if b == d {
        return reduce(a + c, b.clone()).0;
    }
    let g = gcd_int(b, d);
    if g.is_one() {
        // A prime dividing b·d divides exactly one of b, d and not the numerator over it.
        return BigRational::new_raw(a * d + c * b, b * d);
    }
    let (b1, d1) = (b / &g, d / &g);
    let t = a * &d1 + c * &b1;
    if t.is_zero() {
        return <BigRational as Zero>::zero();
    }
    let g2 = gcd_int(&t, &g);
    BigRational::new_raw(div_by(&t, &g2), b1 * div_by(d, &g2))
}

/// `x · y`, reduced by the two cross gcds (the factors are already in lowest terms).
fn mul_q(x: &BigRational, y: &BigRational) -> BigRational {
    if Zero::is_zero(x) || Zero::is_zero(y) {
        return <BigRational as Zero>::zero();
    }
    let (a, b, c, d) = (x.numer(), x.denom(), y.numer(), y.denom());
    let (g1, g2) = (gcd_int(a, d), gcd_int(c, b));
    BigRational::new_raw(
        div_by(a, &g1) * div_by(c, &g2),
        div_by(b, &g2) * div_by(d, &g1),
    )
}

/// `gcd(a, b)` of naturals: Euclid, where every step between operands of nearly the same
/// size is a Lehmer step (Knuth, TAOCP vol. 2, §4.5.2, Algorithm L, with a two-word
/// window): the quotients are found from the leading 126 bits in machine arithmetic and
/// applied to the full numbers at once as a 2 × 2 matrix of one-word cofactors, in one pass
/// over the words; a step between operands of very different sizes is one division, and
/// operands of two words finish in machine words. Quadratic in the number of words with a
/// small constant, against num-bigint's binary gcd, which shifts the whole number for
/// every bit removed.
///
/// Only the unimodularity of the matrix is relied on (its determinant is `±1` whatever
/// quotients were guessed, so the gcd of the pair is kept); a combination that would come
/// out negative or not smaller is replaced by a plain division step.
pub fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let (mut u, mut v) = if a >= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    };
    // Invariant: u ≥ v.
    loop {
        if v.is_zero() {
            return u;
        }
        if let Some(y) = v.to_u128() {
            if y == 1 {
                return v;
            }
            let x = (&u % &v).to_u128().unwrap_or(0);
            return BigUint::from(gcd_u128(y, x));
        }
        if u.bits() - v.bits() >= 32 {
            let r = &u % &v;
            u = std::mem::replace(&mut v, r);
            continue;
        }
        let (mut x, mut y) = (u.to_u64_digits(), v.to_u64_digits());
        if lehmer(&mut x, &mut y) {
            (u, v) = (from_limbs(&x), from_limbs(&y));
        } else {
            let r = &u % &v;
            u = std::mem::replace(&mut v, r);
        }
    }
}

/// Lehmer steps on `u ≥ v` (little-endian words, no leading zero words) while both have
/// more than two words and their sizes differ by less than 32 bits; `false` if no step
/// could be taken (the caller then divides).
fn lehmer(u: &mut Vec<u64>, v: &mut Vec<u64>) -> bool {
    let (mut nu, mut nv) = (Vec::with_capacity(u.len()), Vec::with_capacity(u.len()));
    let mut progressed = false;
    while v.len() > 2 && limb_bits(u) - limb_bits(v) < 32 {
        let shift = limb_bits(u) - 126;
        let m = cofactors(window(u, shift), window(v, shift));
        if m[1] == 0 {
            break;
        }
        if !(apply(&mut nu, u, v, m[0], m[1]) && apply(&mut nv, u, v, m[2], m[3])) {
            break;
        }
        if limb_cmp(&nu, &nv).is_lt() || limb_cmp(&nu, u).is_ge() {
            break;
        }
        std::mem::swap(u, &mut nu);
        std::mem::swap(v, &mut nv);
        progressed = true;
    }
    progressed
}

/// Algorithm L's inner loop on the windows `x ≥ y` (`x < 2¹²⁶`): the cofactors
/// `[a, b, c, d]` of the Euclid steps that the windows determine (the quotient of `u/v`
/// lies between `(x + a)/(y + c)` and `(x + b)/(y + d)`; a step is taken while both give
/// the same quotient), stopping before a cofactor reaches `2⁶³`; `b = 0` if none.
fn cofactors(x: u128, y: u128) -> [i128; 4] {
    const LIM: i128 = 1 << 63;
    let (mut x, mut y) = (x as i128, y as i128);
    let (mut a, mut b, mut c, mut d) = (1i128, 0i128, 0i128, 1i128);
    loop {
        let (yc, yd, xa, xb) = (y + c, y + d, x + a, x + b);
        if yc <= 0 || yd <= 0 || xa < 0 || xb < 0 {
            break;
        }
        let q = xa / yc;
        if q != xb / yd {
            break;
        }
        let next = |s: i128, t: i128| q.checked_mul(t).and_then(|qt| s.checked_sub(qt));
        let (Some(nc), Some(nd), Some(ny)) = (next(a, c), next(b, d), next(x, y)) else {
            break;
        };
        if nc.abs() >= LIM || nd.abs() >= LIM {
            break;
        }
        (a, b, c, d, x, y) = (c, d, nc, nd, y, ny);
    }
    [a, b, c, d]
}

/// `out = s·u + t·v` in one pass for cofactors `|s|, |t| < 2⁶³` of opposite signs (or one
/// zero); `false` if they are not, or if the result would be negative.
fn apply(out: &mut Vec<u64>, u: &[u64], v: &[u64], s: i128, t: i128) -> bool {
    // out = p·P − m·M with non-negative one-word factors.
    let (p, pv, m, mv) = match (s >= 0 && t <= 0, s <= 0 && t >= 0) {
        (true, _) => (s as u64, u, (-t) as u64, v),
        (_, true) => (t as u64, v, (-s) as u64, u),
        _ => return false,
    };
    out.clear();
    let (mut pc, mut mc, mut borrow) = (0u128, 0u128, false);
    for i in 0..u.len().max(v.len()) {
        let pp = p as u128 * pv.get(i).copied().unwrap_or(0) as u128 + pc;
        let mm = m as u128 * mv.get(i).copied().unwrap_or(0) as u128 + mc;
        let (r, b1) = (pp as u64).overflowing_sub(mm as u64);
        let (r, b2) = r.overflowing_sub(borrow as u64);
        out.push(r);
        (pc, mc, borrow) = (pp >> 64, mm >> 64, b1 || b2);
    }
    // The value is below 2^(64·len) exactly when what is left over cancels.
    if pc != mc + borrow as u128 {
        return false;
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    true
}

/// Bits of a little-endian word vector without leading zero words.
fn limb_bits(x: &[u64]) -> u64 {
    x.last()
        .map_or(0, |&w| 64 * x.len() as u64 - w.leading_zeros() as u64)
}

/// Compares little-endian word vectors without leading zero words.
fn limb_cmp(x: &[u64], y: &[u64]) -> std::cmp::Ordering {
    x.len()
        .cmp(&y.len())
        .then_with(|| x.iter().rev().cmp(y.iter().rev()))
}

/// The 128 bits of `x` from bit `shift` on (`⌊x / 2^shift⌋ mod 2¹²⁸`).
fn window(x: &[u64], shift: u64) -> u128 {
    let (i, r) = ((shift / 64) as usize, shift % 64);
    let get = |k: usize| x.get(k).copied().unwrap_or(0) as u128;
    let lo = get(i) | get(i + 1) << 64;
    if r == 0 {
        lo
    } else {
        (lo >> r) | (get(i + 2) << (128 - r))
    }
}

/// The natural with these little-endian words.
fn from_limbs(x: &[u64]) -> BigUint {
    BigUint::new(
        x.iter()
            .flat_map(|&w| [w as u32, (w >> 32) as u32])
            .collect(),
    )
}

/// Euclid on machine words.
fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
