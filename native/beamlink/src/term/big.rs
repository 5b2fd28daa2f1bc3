//! Integers outside `i64`, as [`Term::BigInt`](super::Term::BigInt) holds them.
//!
//! Sign and magnitude, the magnitude in place up to 128 bits and on the heap beyond, so the
//! bignums that are common on the wire (64-bit unsigned counters, 128-bit ids, nanosecond
//! sums) cost no allocation to decode, copy or drop. Arithmetic is not this type's job:
//! convert to [`num_bigint::BigInt`] for that.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use num_bigint::Sign;

/// An integer of any size, sign and magnitude.
///
/// ```
/// use beamlink::term::{Big, Term};
/// let b = Big::from(u64::MAX as i128 + 1);
/// assert_eq!(b.to_string(), "18446744073709551616");
/// assert_eq!(Term::from(b.clone()), Term::BigInt(b));
/// let huge: Big = "-123456789012345678901234567890123456789012".parse().unwrap();
/// assert!(huge.is_negative());
/// assert_eq!(huge.to_bigint().to_string(), huge.to_string());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Big {
    /// Never true for zero.
    neg: bool,
    mag: Mag,
}

/// The magnitude: `Small` whenever it fits 128 bits, so equal numbers are equal structurally.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Mag {
    /// Low word first.
    Small([u64; 2]),
    /// Little-endian 64-bit words, the highest one non-zero, more than two of them.
    Large(Box<[u64]>),
}

impl Big {
    /// From a sign and a little-endian magnitude (as `SMALL_BIG_EXT` carries it).
    pub fn from_le_bytes(negative: bool, magnitude: &[u8]) -> Big {
        // Leading zero bytes (the wire allows them) do not make a number bigger.
        let used = magnitude.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let magnitude = &magnitude[..used];
        let word = |chunk: &[u8]| {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            u64::from_le_bytes(w)
        };
        let mag = if used <= 16 {
            let (lo, hi) = magnitude.split_at(used.min(8));
            Mag::Small([word(lo), word(hi)])
        } else {
            Mag::Large(magnitude.chunks(8).map(word).collect())
        };
        Big { neg: negative && used > 0, mag }
    }

    /// From a sign and a magnitude of at most 128 bits.
    pub fn from_magnitude(negative: bool, magnitude: u128) -> Big {
        let mut b = Big::from(magnitude);
        b.neg = negative && magnitude != 0;
        b
    }

    /// The magnitude, little-endian, without leading zero bytes (empty for zero).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut v: Vec<u8> = self.words().iter().flat_map(|w| w.to_le_bytes()).collect();
        let used = v.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        v.truncate(used);
        v
    }

    /// Bytes of the magnitude without leading zeros (what the encoder writes).
    pub(crate) fn magnitude_len(&self) -> usize {
        let w = self.words();
        match w.iter().rposition(|&x| x != 0) {
            Some(i) => i * 8 + 8 - w[i].leading_zeros() as usize / 8,
            None => 0,
        }
    }

    /// Appends the magnitude (little-endian, no leading zeros) to `out`.
    pub(crate) fn write_magnitude(&self, out: &mut Vec<u8>) {
        let n = self.magnitude_len();
        match &self.mag {
            Mag::Small([lo, hi]) => {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&lo.to_le_bytes());
                b[8..].copy_from_slice(&hi.to_le_bytes());
                out.extend_from_slice(&b[..n]);
            }
            Mag::Large(_) => out.extend_from_slice(&self.to_le_bytes()),
        }
    }

    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// The same number as a [`num_bigint::BigInt`], for arithmetic.
    pub fn to_bigint(&self) -> num_bigint::BigInt {
        let sign = if self.neg { Sign::Minus } else { Sign::Plus };
        num_bigint::BigInt::from_slice(
            sign,
            &self.words().iter().flat_map(|w| [*w as u32, (w >> 32) as u32]).collect::<Vec<u32>>(),
        )
    }

    fn words(&self) -> &[u64] {
        match &self.mag {
            Mag::Small(w) => w,
            Mag::Large(w) => w,
        }
    }

    /// The magnitude if it fits 128 bits.
    pub(crate) fn small(&self) -> Option<u128> {
        match &self.mag {
            Mag::Small([lo, hi]) => Some((*hi as u128) << 64 | *lo as u128),
            Mag::Large(_) => None,
        }
    }

    fn cmp_magnitude(&self, other: &Big) -> Ordering {
        match (self.small(), other.small()) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => {
                let (a, b) = (self.words(), other.words());
                a.len().cmp(&b.len()).then_with(|| a.iter().rev().cmp(b.iter().rev()))
            }
        }
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<u128> for Big {
    fn from(v: u128) -> Big {
        Big { neg: false, mag: Mag::Small([v as u64, (v >> 64) as u64]) }
    }
}

impl From<i128> for Big {
    fn from(v: i128) -> Big {
        Big::from_magnitude(v < 0, v.unsigned_abs())
    }
}

impl From<i64> for Big {
    fn from(v: i64) -> Big {
        Big::from(v as i128)
    }
}

impl From<u64> for Big {
    fn from(v: u64) -> Big {
        Big::from(v as u128)
    }
}

impl From<&num_bigint::BigInt> for Big {
    fn from(v: &num_bigint::BigInt) -> Big {
        let (sign, bytes) = v.to_bytes_le();
        Big::from_le_bytes(sign == Sign::Minus, &bytes)
    }
}

impl From<num_bigint::BigInt> for Big {
    fn from(v: num_bigint::BigInt) -> Big {
        Big::from(&v)
    }
}

impl From<&Big> for num_bigint::BigInt {
    fn from(v: &Big) -> num_bigint::BigInt {
        v.to_bigint()
    }
}

impl From<Big> for num_bigint::BigInt {
    fn from(v: Big) -> num_bigint::BigInt {
        v.to_bigint()
    }
}

/// The number does not fit the integer type asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("integer out of range")]
pub struct OutOfRange;

impl TryFrom<&Big> for u128 {
    type Error = OutOfRange;
    fn try_from(v: &Big) -> Result<u128, OutOfRange> {
        match v.small() {
            Some(m) if !v.neg => Ok(m),
            Some(0) => Ok(0),
            _ => Err(OutOfRange),
        }
    }
}

impl TryFrom<&Big> for i128 {
    type Error = OutOfRange;
    fn try_from(v: &Big) -> Result<i128, OutOfRange> {
        let m = v.small().ok_or(OutOfRange)?;
        if v.neg {
            if m <= 1u128 << 127 { Ok((m as i128).wrapping_neg()) } else { Err(OutOfRange) }
        } else {
            i128::try_from(m).map_err(|_| OutOfRange)
        }
    }
}

impl TryFrom<&Big> for u64 {
    type Error = OutOfRange;
    fn try_from(v: &Big) -> Result<u64, OutOfRange> {
        u64::try_from(u128::try_from(v)?).map_err(|_| OutOfRange)
    }
}

impl TryFrom<&Big> for i64 {
    type Error = OutOfRange;
    fn try_from(v: &Big) -> Result<i64, OutOfRange> {
        i64::try_from(i128::try_from(v)?).map_err(|_| OutOfRange)
    }
}

impl fmt::Display for Big {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.small() {
            Some(m) => write!(f, "{}{m}", if self.neg { "-" } else { "" }),
            None => write!(f, "{}", self.to_bigint()),
        }
    }
}

impl fmt::Debug for Big {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for Big {
    type Err = num_bigint::ParseBigIntError;
    /// Decimal, with an optional sign.
    fn from_str(s: &str) -> Result<Big, Self::Err> {
        s.parse::<num_bigint::BigInt>().map(Big::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip_across_the_inline_limit() {
        let cases = [
            "0",
            "1",
            "-1",
            "18446744073709551615",
            "18446744073709551616",
            "-170141183460469231731687303715884105728",
            "340282366920938463463374607431768211455",
            "340282366920938463463374607431768211456",
            "-123456789012345678901234567890123456789012345678901234567890",
        ];
        for s in cases {
            let n: num_bigint::BigInt = s.parse().unwrap();
            let b = Big::from(&n);
            assert_eq!(b.to_string(), s);
            assert_eq!(b.to_bigint(), n);
            let (sign, mag) = n.to_bytes_le();
            let mag = if n == 0.into() { vec![] } else { mag };
            assert_eq!(b.to_le_bytes(), mag, "{s}");
            assert_eq!(b.magnitude_len(), mag.len(), "{s}");
            let mut w = Vec::new();
            b.write_magnitude(&mut w);
            assert_eq!(w, mag);
            assert_eq!(Big::from_le_bytes(sign == Sign::Minus, &mag), b);
            // Zero padding does not change the number.
            let mut padded = mag.clone();
            padded.extend_from_slice(&[0; 9]);
            assert_eq!(Big::from_le_bytes(sign == Sign::Minus, &padded), b);
        }
        assert!(!Big::from_le_bytes(true, &[0, 0]).is_negative());
    }

    #[test]
    fn order_and_ranges() {
        let nums: Vec<num_bigint::BigInt> = ["-1e40", "-5", "0", "7", "1e20", "1e38", "1e39", "1e60"]
            .iter()
            .map(|s| {
                let (m, e) = s.split_once('e').unwrap_or((s, "0"));
                m.parse::<num_bigint::BigInt>().unwrap()
                    * num_bigint::BigInt::from(10).pow(e.parse().unwrap())
            })
            .collect();
        for a in &nums {
            for b in &nums {
                assert_eq!(Big::from(a).cmp(&Big::from(b)), a.cmp(b), "{a} vs {b}");
            }
        }
        assert_eq!(i128::try_from(&Big::from(i128::MIN)), Ok(i128::MIN));
        assert_eq!(u64::try_from(&Big::from(u64::MAX)), Ok(u64::MAX));
        assert_eq!(u64::try_from(&Big::from(-1i64)), Err(OutOfRange));
        assert_eq!(i64::try_from(&Big::from(u64::MAX)), Err(OutOfRange));
    }
}
