//! Terms as JSON (`--json`). The mapping, also in the README:
//!
//! | term | JSON |
//! | --- | --- |
//! | integer (any size), float | number (big integers with all their digits) |
//! | `true`, `false` | `true`, `false` |
//! | `nil` (Elixir's nil) | `null` |
//! | any other atom | string: `ok` → `"ok"` |
//! | binary that is UTF-8 text | string |
//! | other binary | `{"$binary": "<base64>"}` |
//! | bitstring | `{"$bitstring": "<base64>", "bits": <total bits>}` |
//! | list that Erlang prints as a string (`"abc"`) | string |
//! | other proper list, tuple | array |
//! | improper list `[a \| b]` | `{"$improper": [a, b]}` (elements, then the tail) |
//! | map whose keys are all atoms or text binaries (distinct as strings) | object |
//! | other map | `{"$map": [[key, value], …]}` |
//! | pid, port, reference, fun | string, as printed (`"<0.85.0>"`, `"#Ref<…>"`) |

use std::fmt::{self, Write};

use beamlink::term::{Term, nested};

use crate::print;

/// Writes `t` as JSON; `elixir` picks the syntax of pids and other opaque terms.
pub fn write(w: &mut impl Write, t: &Term, elixir: bool) -> fmt::Result {
    value(w, t, elixir, 0)
}

fn value(w: &mut impl Write, t: &Term, elixir: bool, depth: usize) -> fmt::Result {
    nested(depth, || match t {
        Term::Int(i) => write!(w, "{i}"),
        Term::BigInt(b) => write!(w, "{b}"),
        Term::Float(x) => write!(w, "{x:?}"),
        Term::Atom(a) => match a.as_str() {
            "true" | "false" => w.write_str(a.as_str()),
            "nil" => w.write_str("null"),
            s => string(w, s),
        },
        Term::Binary(b) => match std::str::from_utf8(b) {
            Ok(s) => string(w, s),
            Err(_) => {
                w.write_str("{\"$binary\": \"")?;
                base64(w, b)?;
                w.write_str("\"}")
            }
        },
        Term::BitBinary { bytes, bits } => {
            w.write_str("{\"$bitstring\": \"")?;
            base64(w, bytes)?;
            let total = bytes.len().saturating_sub(1) * 8 + usize::from(*bits);
            write!(w, "\", \"bits\": {total}}}")
        }
        Term::List(items) => match printable(items) {
            Some(s) => string(w, &s),
            None => array(w, items.iter(), elixir, depth),
        },
        Term::Tuple(items) => array(w, items.iter(), elixir, depth),
        Term::ImproperList(items, tail) => {
            w.write_str("{\"$improper\": ")?;
            array(w, items.iter().chain(std::iter::once(&**tail)), elixir, depth)?;
            w.write_char('}')
        }
        Term::Map(pairs) => match object_keys(pairs) {
            Some(keys) => {
                w.write_char('{')?;
                for (i, (k, (_, v))) in keys.iter().zip(pairs).enumerate() {
                    if i > 0 {
                        w.write_str(", ")?;
                    }
                    string(w, k)?;
                    w.write_str(": ")?;
                    value(w, v, elixir, depth + 1)?;
                }
                w.write_char('}')
            }
            None => {
                w.write_str("{\"$map\": [")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        w.write_str(", ")?;
                    }
                    w.write_char('[')?;
                    value(w, k, elixir, depth + 1)?;
                    w.write_str(", ")?;
                    value(w, v, elixir, depth + 1)?;
                    w.write_char(']')?;
                }
                w.write_str("]}")
            }
        },
        other => string(w, &print::term(other, elixir)),
    })
}

fn array<'a>(
    w: &mut impl Write,
    items: impl Iterator<Item = &'a Term>,
    elixir: bool,
    depth: usize,
) -> fmt::Result {
    w.write_char('[')?;
    for (i, t) in items.enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        value(w, t, elixir, depth + 1)?;
    }
    w.write_char(']')
}

/// The keys as strings when every key is an atom or UTF-8 binary and no two read the same.
fn object_keys(pairs: &[(Term, Term)]) -> Option<Vec<String>> {
    let keys: Vec<String> = pairs
        .iter()
        .map(|(k, _)| match k {
            Term::Atom(a) => Some(a.as_str().to_string()),
            Term::Binary(b) => std::str::from_utf8(b).ok().map(str::to_string),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut seen: Vec<&String> = keys.iter().collect();
    seen.sort();
    seen.dedup();
    (seen.len() == keys.len()).then_some(keys)
}

/// The list as text if Erlang prints it as a string (`io_lib:printable_unicode_list/1`).
fn printable(items: &[Term]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    items
        .iter()
        .map(|t| match t {
            Term::Int(i) => u32::try_from(*i)
                .ok()
                .filter(|&c| matches!(c, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF | 8..=13 | 27))
                .and_then(char::from_u32),
            _ => None,
        })
        .collect()
}

/// A JSON string literal.
pub fn string(w: &mut impl Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            '\n' => w.write_str("\\n")?,
            '\r' => w.write_str("\\r")?,
            '\t' => w.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(w, "\\u{:04x}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    w.write_char('"')
}

/// Standard base64 with padding.
fn base64(w: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                w.write_char(A[(n >> (18 - 6 * i) & 63) as usize] as char)?;
            } else {
                w.write_char('=')?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(t: &Term) -> String {
        let mut s = String::new();
        write(&mut s, t, false).unwrap();
        s
    }

    #[test]
    fn the_documented_mapping() {
        let p = |s: &str| beamlink::term::parse(s).unwrap();
        for (erl, json) in [
            ("42", "42"),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("1.5", "1.5"),
            ("true", "true"),
            ("nil", "null"),
            ("ok", "\"ok\""),
            ("<<\"text\">>", "\"text\""),
            ("<<255, 0>>", "{\"$binary\": \"/wA=\"}"),
            ("<<1:3>>", "{\"$bitstring\": \"IA==\", \"bits\": 3}"),
            ("\"abc\"", "\"abc\""),
            ("[1, 2]", "[1, 2]"),
            ("[]", "[]"),
            ("{ok, 1}", "[\"ok\", 1]"),
            ("[a | b]", "{\"$improper\": [\"a\", \"b\"]}"),
            ("#{a => 1, <<\"b\">> => \"x\\n\"}", "{\"a\": 1, \"b\": \"x\\n\"}"),
            ("#{1 => 2}", "{\"$map\": [[1, 2]]}"),
            ("#{a => 1, <<\"a\">> => 2}", "{\"$map\": [[\"a\", 1], [\"a\", 2]]}"),
        ] {
            assert_eq!(j(&p(erl)), json, "{erl}");
        }
        assert_eq!(j(&Term::from(&b"foobar"[..])), "\"foobar\"");
    }
}
