//! Exact rational and integer arithmetic: the only module that touches malachite.
//!
//! Everything the tool decides is decided with [`Rat`] (an exact rational number `p/q`,
//! `q > 0`, `gcd(p, q) = 1`) and [`Int`] (an exact integer). Both wrap the malachite crates
//! (LGPL-3.0), which are used nowhere else, so the arithmetic backend can be swapped in one
//! place.
//!
//! Text forms (PRODUCT.md, "Numbers are exact"):
//! - canonical output: `"p/q"` in lowest terms with `q > 0`, integers without `/1`
//!   ([`Rat::canonical`]);
//! - accepted input ([`Rat::parse`]): integers `"-7"`, fractions `"3/4"`, decimals `"0.125"`,
//!   scientific notation `"-1.5e-3"`; the exponent and the digit count are bounded
//!   ([`ParseLimits`]) so that a 20-byte input cannot demand gigabytes.
//!
//! Conversion to `f64` ([`Rat::to_f64`]) is correctly rounded (round to nearest, ties to
//! even); it is used only for the non-normative float cross-check (MATH.md §9).

use malachite_base::num::arithmetic::traits::{
    Abs, AddMulAssign, DivExact, Floor, Gcd, Lcm, Pow, Sign,
};
use malachite_base::num::conversion::traits::RoundingFrom;
use malachite_base::num::logic::traits::SignificantBits;
use malachite_base::rounding_modes::RoundingMode;
use malachite_nz::integer::Integer;
use malachite_nz::natural::Natural;
use malachite_q::rational::arithmetic::traits::SimplestRationalInInterval;
use malachite_q::Rational;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

/// An exact rational number, always in lowest terms with a positive denominator.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// let x = Rat::parse("-1.5e-3").unwrap();
/// assert_eq!(x.canonical(), "-3/2000");
/// assert_eq!((&x + &Rat::from_i64(1)).canonical(), "1997/2000");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rat(Rational);

/// `a·b mod m` (`a, b < m < 2⁶⁴`).
pub fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((a as u128 * b as u128) % m as u128) as u64
}

/// `a⁻¹ mod m` for a prime `m` and `a ≢ 0` (Fermat: `a^(m−2)`).
///
/// ```
/// use dlgeom_cert::arith::{inv_mod, mul_mod};
/// assert_eq!(mul_mod(inv_mod(5, 13), 5, 13), 1);
/// ```
pub fn inv_mod(a: u64, m: u64) -> u64 {
    let (mut r, mut base, mut e) = (1u64, a % m, m - 2);
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, base, m);
        }
        base = mul_mod(base, base, m);
        e >>= 1;
    }
    r
}

/// An exact integer (used by fraction-free elimination).
///
/// ```
/// use dlgeom_cert::arith::Int;
/// let a = Int::from_i64(12);
/// assert_eq!(a.div_exact(&Int::from_i64(4)), Int::from_i64(3));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Int(Integer);

/// Bounds on numeric text accepted by [`Rat::parse_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest accepted `|e|` in scientific notation.
    pub max_exponent: u64,
    /// Largest accepted number of digits (numerator, denominator and fraction together), in
    /// the text and in the canonical form `p/q` of its value (so what is written reads back).
    pub max_digits: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_exponent: 10_000,
            max_digits: 100_000,
        }
    }
}

/// Decimal digits of the canonical text of `v` (numerator and denominator; the denominator
/// `1` of an integer is not written) when they exceed `limit`, else `None`. A number of
/// `k` bits has at most `⌊0.30103·k⌋ + 1` digits (`log₁₀ 2 < 0.30103`), an integer bound
/// that decides cheaply; only above `limit` is the text counted.
fn canonical_digits_over(v: &Rational, limit: usize) -> Option<usize> {
    let (n, d) = v.numerator_and_denominator_ref();
    let bound = |x: &Natural| (x.significant_bits() as u128 * 30_103 / 100_000) as usize + 1;
    let upper = bound(n) + if *d == 1u32 { 0 } else { bound(d) };
    if upper <= limit {
        return None;
    }
    let exact = v.to_string().bytes().filter(u8::is_ascii_digit).count();
    (exact > limit).then_some(exact)
}

/// Why a piece of text is not an exact number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberError(pub String);

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, NumberError> {
    Err(NumberError(msg.into()))
}

/// Largest number of decimal digits a parsed number may have in memory, whatever the limit
/// flags say (about 1.7 GB of limbs): above it the parser refuses instead of letting the
/// allocator abort.
pub const MAX_MATERIALISED_DIGITS: i128 = 1 << 32;

/// The value of the decimal digit string `digits` if it is at most `limit`, else `None`.
/// Compared as text (leading zeros removed, then length, then lexicographic), so that an
/// exponent of any length is judged without a fixed-width conversion that could wrap.
///
/// ```
/// use dlgeom_cert::arith::exponent_within;
/// assert_eq!(exponent_within("0007", 10), Some(7));
/// assert_eq!(exponent_within("18446744073709551615", u64::MAX), Some(u64::MAX));
/// assert_eq!(exponent_within("18446744073709551616", u64::MAX), None);
/// assert_eq!(exponent_within("99999999999999999999", u64::MAX), None);
/// assert_eq!(exponent_within("11", 10), None);
/// ```
pub fn exponent_within(digits: &str, limit: u64) -> Option<u64> {
    let t = digits.trim_start_matches('0');
    let lim = limit.to_string();
    let within = t.len() < lim.len() || (t.len() == lim.len() && t <= lim.as_str());
    if !within {
        return None;
    }
    if t.is_empty() {
        return Some(0);
    }
    t.parse::<u64>().ok()
}

/// `s` itself when short, else its first and last 20 characters around the count of those
/// left out (a hostile number can be megabytes long; a message quotes it readably).
fn shorten_text(s: &str) -> String {
    let n = s.chars().count();
    if n <= 60 {
        return s.to_string();
    }
    let head: String = s.chars().take(20).collect();
    let tail: String = s.chars().skip(n - 20).collect();
    format!("{head}…({} characters)…{tail}", n - 40)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl Rat {
    /// `0`.
    pub fn zero() -> Rat {
        Rat(Rational::from(0u32))
    }
    /// `1`.
    pub fn one() -> Rat {
        Rat(Rational::from(1u32))
    }
    /// The integer `n` as a rational.
    pub fn from_i64(n: i64) -> Rat {
        Rat(Rational::from(n))
    }
    /// The integer `n` as a rational.
    pub fn from_i128(n: i128) -> Rat {
        Rat(Rational::from(n))
    }
    /// `Some(n)` when the value is an integer `n` that fits in an `i64`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// assert_eq!(Rat::from_i64(-7).to_i64(), Some(-7));
    /// assert_eq!(Rat::from_frac(1, 2).unwrap().to_i64(), None);
    /// ```
    pub fn to_i64(&self) -> Option<i64> {
        i64::try_from(&self.0).ok()
    }
    /// `n/d`; `None` when `d = 0`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// assert_eq!(Rat::from_frac(6, -4).unwrap().canonical(), "-3/2");
    /// assert!(Rat::from_frac(1, 0).is_none());
    /// ```
    pub fn from_frac(n: i64, d: i64) -> Option<Rat> {
        if d == 0 {
            None
        } else {
            Some(Rat(Rational::from_signeds(n, d)))
        }
    }
    /// `n/d` for exact integers; `None` when `d = 0`.
    pub fn from_ints(n: &Int, d: &Int) -> Option<Rat> {
        if d.is_zero() {
            None
        } else {
            Some(Rat(Rational::from_integers_ref(&n.0, &d.0)))
        }
    }
    /// `Σ a_i b_i`, reduced once: the running sum is a numerator over the lcm of the
    /// denominators seen so far (only denominators meet a gcd per term, never the growing
    /// numerator). When every entry is an integer of magnitude below `2⁶³` (the checker's
    /// scaled rows and inputs), the sum is taken in `i128` with overflow checks instead.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// let r = |s: &str| Rat::parse(s).unwrap();
    /// let a = [r("1/2"), r("-2/3"), r("0"), r("5")];
    /// let b = [r("3/4"), r("9/10"), r("7"), r("1/5")];
    /// assert_eq!(Rat::dot(&a, &b).canonical(), "31/40"); // 3/8 − 3/5 + 1
    /// ```
    pub fn dot(a: &[Rat], b: &[Rat]) -> Rat {
        // Integers below 2⁶³ in magnitude (scaled inputs and rows): an `i128` sum, checked.
        let small = || -> Option<i128> {
            let mut s = 0i128;
            for (x, y) in a.iter().zip(b) {
                let (x, y) = (x.to_i64()?, y.to_i64()?);
                s = s.checked_add(x as i128 * y as i128)?;
            }
            Some(s)
        };
        if let Some(s) = small() {
            return Rat::from_i128(s);
        }
        let mut terms = a
            .iter()
            .zip(b)
            .filter(|(x, y)| !x.is_zero() && !y.is_zero());
        // One term (e.g. a row of the identity): its product, already in lowest terms.
        let (first, rest) = (terms.next(), terms.clone().next());
        match (first, rest) {
            (None, _) => return Rat::zero(),
            (Some((x, y)), None) => return x * y,
            _ => {}
        }
        let (mut sn, mut sd) = (Integer::from(0), Natural::from(1u32));
        for (x, y) in first.into_iter().chain(terms) {
            let tn = Integer::from_sign_and_abs(
                x.is_negative() == y.is_negative(),
                x.0.numerator_ref() * y.0.numerator_ref(),
            );
            let td = x.0.denominator_ref() * y.0.denominator_ref();
            if td == sd {
                sn += tn;
            } else {
                let g = (&sd).gcd(&td);
                let (a, b) = (&td / &g, &sd / &g);
                sn = sn * Integer::from(&a) + tn * Integer::from(b);
                sd *= a;
            }
        }
        Rat(Rational::from_integers(sn, Integer::from(sd)))
    }
    /// The integer `n` as a rational.
    pub fn from_int(n: &Int) -> Rat {
        Rat(Rational::from(&n.0))
    }

    /// The exact value of a finite `f64` (every finite binary float is a rational);
    /// `None` for NaN and infinities.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// assert_eq!(Rat::from_f64_exact(0.1).unwrap().canonical(),
    ///            "3602879701896397/36028797018963968");
    /// ```
    pub fn from_f64_exact(x: f64) -> Option<Rat> {
        Rational::try_from(x).ok().map(Rat)
    }

    /// Parse exact numeric text with the default [`ParseLimits`].
    pub fn parse(s: &str) -> Result<Rat, NumberError> {
        Rat::parse_with(s, &ParseLimits::default())
    }

    /// Parse exact numeric text: `[-+]digits`, `[-+]digits/digits`,
    /// `[-+]digits[.digits][e[-+]digits]` (also `.5`, `5.`). No spaces, no `NaN`/`inf`,
    /// no zero denominator; the exponent and digit count are bounded by `limits`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// assert_eq!(Rat::parse("0.125").unwrap().canonical(), "1/8");
    /// assert_eq!(Rat::parse("6/-4").is_err(), true);
    /// assert!(Rat::parse("1/0").is_err());
    /// assert!(Rat::parse("1e999999999").is_err());
    /// ```
    pub fn parse_with(s: &str, limits: &ParseLimits) -> Result<Rat, NumberError> {
        if s.is_empty() {
            return err("empty text is not a number");
        }
        let (neg, body) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower.starts_with("nan") || lower.starts_with("inf") {
            return err(format!(
                "\"{s}\" is not a finite exact number (NaN and infinities are not allowed)"
            ));
        }
        let digits = body.bytes().filter(|b| b.is_ascii_digit()).count();
        if digits > limits.max_digits {
            return err(format!(
                "number has {digits} digits, more than the limit of {} (raise it with --max-digits)",
                limits.max_digits
            ));
        }
        let value = if let Some((n, d)) = body.split_once('/') {
            if !is_digits(n) || !is_digits(d) {
                return err(format!(
                    "\"{s}\" is not a fraction of the form p/q with decimal digits (a sign may only stand in front)"
                ));
            }
            let n = Natural::from_str(n)
                .map_err(|_| NumberError(format!("bad numerator in \"{s}\"")))?;
            let d = Natural::from_str(d)
                .map_err(|_| NumberError(format!("bad denominator in \"{s}\"")))?;
            if d == 0u32 {
                return err(format!("\"{s}\" has a zero denominator"));
            }
            Rational::from_naturals(n, d)
        } else {
            let (mant, exp) = match body.find(['e', 'E']) {
                Some(i) => (&body[..i], Some(&body[i + 1..])),
                None => (body, None),
            };
            let (ip, fp) = match mant.split_once('.') {
                Some((a, b)) => (a, b),
                None => (mant, ""),
            };
            if (ip.is_empty() && fp.is_empty())
                || (!ip.is_empty() && !is_digits(ip))
                || (!fp.is_empty() && !is_digits(fp))
            {
                return err(format!(
                    "\"{s}\" is not a number (expected e.g. -7, 3/4, 0.125, -1.5e-3)"
                ));
            }
            // The exponent is read as a decimal magnitude compared with the limit digit
            // string against digit string: no fixed-width integer can wrap or saturate
            // into an accepted value (`1e18446744073709551616` is refused, never `1e-1`).
            let mut e: i128 = 0;
            if let Some(x) = exp {
                let (eneg, ed) = match x.as_bytes().first() {
                    Some(b'-') => (true, &x[1..]),
                    Some(b'+') => (false, &x[1..]),
                    _ => (false, x),
                };
                if !is_digits(ed) {
                    return err(format!("\"{s}\" has a malformed exponent"));
                }
                let mag = match exponent_within(ed, limits.max_exponent) {
                    Some(m) => m,
                    None => {
                        return err(format!(
                            "\"{}\": exponent magnitude exceeds the limit of {} (raise it with --max-exponent)",
                            shorten_text(s),
                            limits.max_exponent
                        ))
                    }
                };
                e = if eneg {
                    -i128::from(mag)
                } else {
                    i128::from(mag)
                };
            }
            let all = format!("{ip}{fp}");
            let significant = all.trim_start_matches('0');
            // `e` and `fp.len()` are both below 2^64, so the difference fits in an i128.
            let e = e - fp.len() as i128;
            if significant.is_empty() {
                // Zero, whatever the exponent: nothing to allocate.
                Rational::from(0u32)
            } else {
                // Size the value before allocating it (MATH-free, but it is what keeps a
                // 20-byte input from demanding gigabytes): `m·10^e` with `e ≥ 0` has exactly
                // `digits(m) + e` digits; `m/10^k` in lowest terms has a denominator
                // `10^k/g` with `g | m`, so more than `k − digits(m)` digits.
                let sig = significant.len() as i128;
                let least_digits = if e >= 0 { sig + e } else { -e - sig + 1 };
                if least_digits > limits.max_digits as i128 {
                    return err(format!(
                        "\"{}\" has at least {least_digits} digits in lowest terms p/q, more than the limit of {} (raise it with --max-digits)",
                        shorten_text(s),
                        limits.max_digits
                    ));
                }
                // What survives the limit test is at most `max_digits + 2·digits(text)`
                // digits; refuse what no machine can hold (2^32 decimal digits ≈ 1.7 GB)
                // instead of aborting in the allocator when the limits were raised.
                let alloc_digits = if e >= 0 { sig + e } else { sig - e };
                if alloc_digits > MAX_MATERIALISED_DIGITS {
                    return err(format!(
                        "\"{}\" would need about {alloc_digits} digits in memory, more than this tool can hold ({MAX_MATERIALISED_DIGITS})",
                        shorten_text(s)
                    ));
                }
                let m = Natural::from_str(significant)
                    .map_err(|_| NumberError(format!("bad digits in \"{}\"", shorten_text(s))))?;
                let ten = Natural::from(10u32);
                if e >= 0 {
                    Rational::from(m * (&ten).pow(e as u64))
                } else {
                    Rational::from_naturals(m, (&ten).pow((-e) as u64))
                }
            }
        };
        // The limit also bounds the canonical text `p/q` (lowest terms), which is what the
        // tool writes back: `1.5e3` and `0.1111…` may grow when written exactly (at most by the
        // exponent, or from `q = 10^k` to `2^a 5^b`), and what is written must read back.
        if let Some(canonical) = canonical_digits_over(&value, limits.max_digits) {
            return err(format!(
                "number has {canonical} digits in lowest terms p/q, more than the limit of {} (raise it with --max-digits)",
                limits.max_digits
            ));
        }
        Ok(Rat(if neg { -value } else { value }))
    }

    /// Canonical text: `"p/q"` in lowest terms with `q > 0`, or `"p"` for an integer.
    pub fn canonical(&self) -> String {
        self.0.to_string()
    }

    /// Correctly rounded conversion to `f64` (nearest, ties to even; overflow gives ±inf).
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// assert_eq!(Rat::parse("1/3").unwrap().to_f64(), 1.0 / 3.0);
    /// ```
    pub fn to_f64(&self) -> f64 {
        f64::rounding_from(&self.0, RoundingMode::Nearest).0
    }

    /// `true` iff the value is `0`.
    pub fn is_zero(&self) -> bool {
        self.0 == 0u32
    }
    /// `-1`, `0` or `1`.
    pub fn signum(&self) -> i32 {
        match self.0.sign() {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }
    /// `true` iff `> 0`.
    pub fn is_positive(&self) -> bool {
        self.signum() > 0
    }
    /// `true` iff `< 0`.
    pub fn is_negative(&self) -> bool {
        self.signum() < 0
    }
    /// `|x|`.
    pub fn abs(&self) -> Rat {
        Rat((&self.0).abs())
    }
    /// `1/x`; `None` for `x = 0`.
    pub fn recip(&self) -> Option<Rat> {
        if self.is_zero() {
            None
        } else {
            Some(Rat(Rational::from(1u32) / &self.0))
        }
    }
    /// `x²`.
    pub fn square(&self) -> Rat {
        Rat(&self.0 * &self.0)
    }
    /// `max(x, 0)` (the ReLU ramp).
    pub fn relu(&self) -> Rat {
        if self.is_positive() {
            self.clone()
        } else {
            Rat::zero()
        }
    }
    /// The signed numerator `p` of `p/q`.
    pub fn numer(&self) -> Int {
        let n = Integer::from(self.0.numerator_ref());
        Int(if self.is_negative() { -n } else { n })
    }
    /// The residue of `p/q` modulo the prime `m` (`p · q⁻¹ mod m`, in `0..m`), or `None`
    /// when `m` divides `q` (then `p/q` has no residue).
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// let r = |s: &str| Rat::parse(s).unwrap();
    /// assert_eq!(r("-1/2").mod_prime(7), Some(3)); // 2·3 ≡ −1 (mod 7)
    /// assert_eq!(r("5/14").mod_prime(7), None);
    /// ```
    pub fn mod_prime(&self, m: u64) -> Option<u64> {
        if self.is_zero() {
            return Some(0);
        }
        let modulus = Natural::from(m);
        let residue = |x: &Natural| u64::try_from(&(x % &modulus)).expect("below m");
        let (n, d) = (
            residue(self.0.numerator_ref()),
            residue(self.0.denominator_ref()),
        );
        if d == 0 {
            return None;
        }
        let n = if self.is_negative() && n != 0 {
            m - n
        } else {
            n
        };
        // An integer needs no inverse (`inv_mod` costs a modular exponentiation).
        Some(if d == 1 {
            n
        } else {
            mul_mod(n, inv_mod(d, m), m)
        })
    }
    /// The positive denominator `q` of `p/q`.
    pub fn denom(&self) -> Int {
        Int(Integer::from(self.0.denominator_ref()))
    }
    /// Bits of the larger of `|p|` and `q`: a measure of how big the number is.
    pub fn bit_size(&self) -> u64 {
        self.0
            .numerator_ref()
            .significant_bits()
            .max(self.0.denominator_ref().significant_bits())
    }
    /// `⌊x⌋`.
    ///
    /// ```
    /// use dlgeom_cert::arith::{Int, Rat};
    /// assert_eq!(Rat::parse("-7/2").unwrap().floor(), Int::from_i64(-4));
    /// ```
    pub fn floor(&self) -> Int {
        Int((&self.0).floor())
    }
    /// `true` iff the denominator is 1.
    pub fn is_integer(&self) -> bool {
        *self.0.denominator_ref() == 1u32
    }

    /// The simplest rational strictly between `a` and `b` (smallest denominator, then
    /// smallest numerator magnitude; Stern–Brocot / continued fractions). `None` if `a ≥ b`.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// let a = Rat::parse("0.3141").unwrap();
    /// let b = Rat::parse("0.3142").unwrap();
    /// assert_eq!(Rat::simplest_between(&a, &b).unwrap().canonical(), "49/156");
    /// ```
    pub fn simplest_between(a: &Rat, b: &Rat) -> Option<Rat> {
        if a >= b {
            None
        } else {
            Some(Rat(Rational::simplest_rational_in_open_interval(
                &a.0, &b.0,
            )))
        }
    }
}

impl Int {
    /// The integer `n`.
    pub fn from_i64(n: i64) -> Int {
        Int(Integer::from(n))
    }
    /// `0`.
    pub fn zero() -> Int {
        Int(Integer::from(0u32))
    }
    /// `1`.
    pub fn one() -> Int {
        Int(Integer::from(1u32))
    }
    /// `true` iff `0`.
    pub fn is_zero(&self) -> bool {
        self.0 == 0u32
    }
    /// `-1`, `0` or `1`.
    pub fn signum(&self) -> i32 {
        match self.0.sign() {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }
    /// `self / d` where `d` is known to divide `self` exactly (Bareiss steps).
    /// Panics (a programming error) when `d = 0`.
    pub fn div_exact(&self, d: &Int) -> Int {
        Int((&self.0).div_exact(&d.0))
    }
    /// `gcd(|a|, |b|)` (non-negative).
    pub fn gcd(&self, other: &Int) -> Int {
        Int(Integer::from(
            self.0.unsigned_abs_ref().gcd(other.0.unsigned_abs_ref()),
        ))
    }
    /// `lcm(|a|, |b|)` (non-negative).
    pub fn lcm(&self, other: &Int) -> Int {
        Int(Integer::from(
            self.0.unsigned_abs_ref().lcm(other.0.unsigned_abs_ref()),
        ))
    }
    /// `|a|`.
    pub fn abs(&self) -> Int {
        Int((&self.0).abs())
    }
    /// Decimal text.
    pub fn canonical(&self) -> String {
        self.0.to_string()
    }
    /// Number of significant bits of `|a|`.
    pub fn bit_size(&self) -> u64 {
        self.0.significant_bits()
    }
    /// `Some(a)` when it fits in an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        i64::try_from(&self.0).ok()
    }
    /// `self += a·b` in place, without a temporary for the product (hot loops of
    /// [`crate::fastexact`]).
    ///
    /// ```
    /// use dlgeom_cert::arith::Int;
    /// let mut s = Int::from_i64(1);
    /// s.add_mul_assign(&Int::from_i64(-3), &Int::from_i64(4));
    /// assert_eq!(s, Int::from_i64(-11));
    /// ```
    pub fn add_mul_assign(&mut self, a: &Int, b: &Int) {
        self.0.add_mul_assign(&a.0, &b.0);
    }
    /// Compare `|self|` with `|other|` without allocating.
    ///
    /// ```
    /// use dlgeom_cert::arith::Int;
    /// use std::cmp::Ordering;
    /// assert_eq!(Int::from_i64(-5).cmp_abs(&Int::from_i64(3)), Ordering::Greater);
    /// ```
    pub fn cmp_abs(&self, other: &Int) -> Ordering {
        self.0.unsigned_abs_ref().cmp(other.0.unsigned_abs_ref())
    }
    /// The integer `n` (for machine-integer fast paths).
    pub fn from_i128(n: i128) -> Int {
        Int(Integer::from(n))
    }
    /// `Some(a)` when it fits in an `i128`.
    pub fn to_i128(&self) -> Option<i128> {
        i128::try_from(&self.0).ok()
    }
    /// `n/d` correctly rounded to `f64` (nearest, ties to even), the same value as
    /// `Rat::from_ints(n, d).to_f64()`, without reducing the fraction: one division instead
    /// of a gcd. With `e = bits(|n|) − bits(d)` and `s = 55 − e`, `q = ⌊|n|·2^s / d⌋` lies in
    /// `[2⁵⁴, 2⁵⁶)`; its top 53 bits, rounded with the dropped bits and the remainder as a
    /// sticky bit, give `m·2^{k−s}` exactly. Results outside the normal range (and `d ≤ 0`)
    /// take the reducing path.
    ///
    /// ```
    /// use dlgeom_cert::arith::{Int, Rat};
    /// let (n, d) = (Int::from_i64(-2), Int::from_i64(6));
    /// assert_eq!(Int::ratio_to_f64(&n, &d), -1.0 / 3.0);
    /// assert_eq!(Int::ratio_to_f64(&n, &d), Rat::from_ints(&n, &d).unwrap().to_f64());
    /// ```
    pub fn ratio_to_f64(n: &Int, d: &Int) -> f64 {
        use malachite_base::num::arithmetic::traits::DivRem;
        let slow = || Rat::from_ints(n, d).map_or(f64::NAN, |r| r.to_f64());
        if n.is_zero() || d.signum() <= 0 {
            return if n.is_zero() && d.signum() > 0 {
                0.0
            } else {
                slow()
            };
        }
        let (a, b) = (n.0.unsigned_abs_ref(), d.0.unsigned_abs_ref());
        let s = 55 - (a.significant_bits() as i64 - b.significant_bits() as i64);
        let (q, r) = if s >= 0 {
            (a << s as u64).div_rem(b)
        } else {
            a.div_rem(&(b << s.unsigned_abs()))
        };
        let Ok(q) = u64::try_from(&q) else {
            return slow();
        };
        let drop = 64 - q.leading_zeros() - 53; // 2 or 3
        let (mut m, rest, half) = (q >> drop, q & ((1 << drop) - 1), 1u64 << (drop - 1));
        if rest > half || (rest == half && (r != 0u32 || m & 1 == 1)) {
            m += 1;
        }
        let k = drop as i64 - s;
        if !(-1000..=900).contains(&k) {
            return slow();
        }
        // 2^k exactly (a normal power of two), so the product is exact.
        let v = m as f64 * f64::from_bits(((k + 1023) as u64) << 52);
        if n.signum() < 0 {
            -v
        } else {
            v
        }
    }
}

impl fmt::Display for Rat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Debug for Rat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Debug for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! binops {
    ($t:ident, $($tr:ident $m:ident $atr:ident $am:ident),*) => {$(
        impl $tr<$t> for $t { type Output = $t; fn $m(self, o: $t) -> $t { $t(self.0.$m(o.0)) } }
        impl $tr<&$t> for $t { type Output = $t; fn $m(self, o: &$t) -> $t { $t(self.0.$m(&o.0)) } }
        impl $tr<$t> for &$t { type Output = $t; fn $m(self, o: $t) -> $t { $t((&self.0).$m(o.0)) } }
        impl<'a, 'b> $tr<&'b $t> for &'a $t { type Output = $t; fn $m(self, o: &'b $t) -> $t { $t((&self.0).$m(&o.0)) } }
        impl $atr<$t> for $t { fn $am(&mut self, o: $t) { self.0.$am(o.0) } }
        impl $atr<&$t> for $t { fn $am(&mut self, o: &$t) { self.0.$am(&o.0) } }
    )*};
}
binops!(Rat, Add add AddAssign add_assign, Sub sub SubAssign sub_assign, Mul mul MulAssign mul_assign);
binops!(Int, Add add AddAssign add_assign, Sub sub SubAssign sub_assign, Mul mul MulAssign mul_assign);

/// Exact division; panics (a programming error) on division by zero — callers check first.
impl Div<&Rat> for &Rat {
    type Output = Rat;
    fn div(self, o: &Rat) -> Rat {
        assert!(!o.is_zero(), "exact division by zero");
        Rat(&self.0 / &o.0)
    }
}
impl Div<Rat> for Rat {
    type Output = Rat;
    fn div(self, o: Rat) -> Rat {
        &self / &o
    }
}
impl Div<&Rat> for Rat {
    type Output = Rat;
    fn div(self, o: &Rat) -> Rat {
        &self / o
    }
}
impl Neg for Rat {
    type Output = Rat;
    fn neg(self) -> Rat {
        Rat(-self.0)
    }
}
impl Neg for &Rat {
    type Output = Rat;
    fn neg(self) -> Rat {
        Rat(-&self.0)
    }
}
impl Neg for Int {
    type Output = Int;
    fn neg(self) -> Int {
        Int(-self.0)
    }
}
impl Neg for &Int {
    type Output = Int;
    fn neg(self) -> Int {
        Int(-&self.0)
    }
}
impl std::iter::Sum for Rat {
    fn sum<I: Iterator<Item = Rat>>(iter: I) -> Rat {
        let mut s = Rat::zero();
        for x in iter {
            s += x;
        }
        s
    }
}

/// The scalar operations the network code needs, so one evaluation routine runs both in
/// exact arithmetic ([`Rat`]) and in `f64` for the non-normative cross-check (MATH.md §9).
pub trait Scalar:
    Clone
    + PartialOrd
    + fmt::Debug
    + Send
    + Sync
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + for<'a> AddAssign<&'a Self>
    + Neg<Output = Self>
{
    /// `0`.
    fn zero() -> Self;
    /// Conversion of an exact value (correctly rounded for `f64`).
    fn from_rat(r: &Rat) -> Self;
    /// `a·b` from references (avoids clones for big numbers).
    fn mul_ref(a: &Self, b: &Self) -> Self;
    /// `a - b` from references.
    fn sub_ref(a: &Self, b: &Self) -> Self;
    /// `self / n` for a positive count `n`.
    fn div_count(&self, n: usize) -> Self;
    /// `-1`, `0`, `1` (for `f64`, `0` only for an exact zero).
    fn sign(&self) -> i32;
    /// `|x|`.
    fn abs_val(&self) -> Self;
    /// Approximate value (for reporting only).
    fn approx(&self) -> f64;
    /// Whether sums over points may be split across threads. Exact sums are associative, so
    /// `Rat` says yes; `f64` says no, so that float results are reproducible bit for bit by
    /// a sequential loop in data order (the checker recomputes them).
    const PARALLEL: bool;
}

impl Scalar for Rat {
    const PARALLEL: bool = true;
    fn zero() -> Self {
        Rat::zero()
    }
    fn from_rat(r: &Rat) -> Self {
        r.clone()
    }
    fn mul_ref(a: &Self, b: &Self) -> Self {
        a * b
    }
    fn sub_ref(a: &Self, b: &Self) -> Self {
        a - b
    }
    fn div_count(&self, n: usize) -> Self {
        Rat(&self.0 / Rational::from(n as u64))
    }
    fn sign(&self) -> i32 {
        self.signum()
    }
    fn abs_val(&self) -> Self {
        self.abs()
    }
    fn approx(&self) -> f64 {
        self.to_f64()
    }
}

impl Scalar for f64 {
    const PARALLEL: bool = false;
    fn zero() -> Self {
        0.0
    }
    fn from_rat(r: &Rat) -> Self {
        r.to_f64()
    }
    fn mul_ref(a: &Self, b: &Self) -> Self {
        a * b
    }
    fn sub_ref(a: &Self, b: &Self) -> Self {
        a - b
    }
    fn div_count(&self, n: usize) -> Self {
        self / n as f64
    }
    fn sign(&self) -> i32 {
        if *self > 0.0 {
            1
        } else if *self < 0.0 {
            -1
        } else {
            0
        }
    }
    fn abs_val(&self) -> Self {
        self.abs()
    }
    fn approx(&self) -> f64 {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        for (s, c) in [
            ("-7", "-7"),
            ("3/4", "3/4"),
            ("6/8", "3/4"),
            ("0.125", "1/8"),
            ("-1.5e-3", "-3/2000"),
            ("1E3", "1000"),
            (".5", "1/2"),
            ("5.", "5"),
            ("+2", "2"),
            ("0", "0"),
            ("-0", "0"),
            ("00012", "12"),
        ] {
            assert_eq!(Rat::parse(s).unwrap().canonical(), c, "{s}");
        }
        for s in [
            "",
            "-",
            "1/0",
            "NaN",
            "inf",
            "-Infinity",
            "1e999999999",
            "1/-2",
            "-1/-2",
            "1 ",
            " 1",
            "1e",
            "e5",
            ".",
            "1.2.3",
            "0x10",
            "1/2/3",
            "1.5/2",
            "١",
        ] {
            assert!(Rat::parse(s).is_err(), "{s:?} should fail");
        }
    }

    #[test]
    fn f64_rounding() {
        assert_eq!(Rat::parse("0.1").unwrap().to_f64(), 0.1);
        assert_eq!(Rat::parse("1e400").unwrap().to_f64(), f64::INFINITY);
        let x = Rat::from_f64_exact(1.0 / 3.0).unwrap();
        assert_eq!(x.to_f64(), 1.0 / 3.0);
    }
}
