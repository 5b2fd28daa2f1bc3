//! Printing terms in Erlang syntax, matching `io_lib:format("~0tp", [T])` on OTP 25 started
//! with `+pc unicode` (so any printable Unicode text shows as a string).
//!
//! Where Erlang's output could not be parsed back into the same term, or has no syntax at
//! all, the printer departs from it:
//!
//! * A binary that is not valid UTF-8 prints as integers (`<<233>>`), where Erlang would print
//!   latin1 text (`<<"é">>`): [`parse`](super::parse) reads string segments as UTF-8, so the
//!   text form would not round-trip.
//! * Pids, ports and references print their node name where Erlang prints a node index it
//!   only knows locally: `<node@host.85.0>`, `#Port<node@host.5>`,
//!   `#Ref<node@host.3.2.1>` (words most significant first, as Erlang prints them).
//! * Local funs print as `#Fun<module.old_index.old_uniq>`, like Erlang does.
//! * Map pairs print in the order the term holds them. Decoded maps arrive in the order BEAM
//!   sent them, which for small maps is already Erlang's print order.
//! * Reserved words are OTP 25's: `maybe` and `else` print bare.

use std::fmt::{self, Display, Formatter, Write};

use super::types::{Atom, Term};

impl Display for Term {
    /// Erlang syntax on one line, as `io_lib:format("~0tp", [T])` prints it on OTP 25 with
    /// `+pc unicode`. The output parses back with [`parse`](super::parse) to the same term
    /// (for every kind `parse` accepts), so it departs from Erlang in a few places: a binary
    /// that is not UTF-8 prints as integers (`<<233>>`, not `<<"é">>`); pids, ports and
    /// references show their node name (`<a@host.85.0>`, `#Port<a@host.5>`,
    /// `#Ref<a@host.3.2.1>`); map pairs print in the order the term holds them.
    ///
    /// ```
    /// use beamlink::term::{parse, Term};
    /// let t = parse("{ok, [1,2], \"héllo\", <<\"bin\">>, #{'Key' => 1.0e20}}").unwrap();
    /// assert_eq!(t.to_string(), "{ok,[1,2],\"héllo\",<<\"bin\">>,#{'Key' => 1.0e20}}");
    /// assert_eq!(Term::from("é").to_string(), "<<\"é\"/utf8>>");
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        super::deep::around(self, || write_term(f, self))
    }
}

fn write_term(f: &mut Formatter<'_>, t: &Term) -> fmt::Result {
    {
        match t {
            Term::Int(i) => write!(f, "{i}"),
            Term::BigInt(b) => write!(f, "{b}"),
            Term::Float(x) => f.write_str(&format_float(*x)),
            Term::Atom(a) => write_atom(f, a.as_str()),
            Term::Binary(b) => write_binary(f, b),
            Term::BitBinary { bytes, bits } => write_bits(f, bytes, *bits),
            Term::Tuple(items) => {
                f.write_char('{')?;
                write_seq(f, items)?;
                f.write_char('}')
            }
            Term::List(items) => {
                if let Some(s) = printable_string(items) {
                    write_quoted(f, s.chars(), '"')
                } else {
                    f.write_char('[')?;
                    write_seq(f, items)?;
                    f.write_char(']')
                }
            }
            Term::ImproperList(items, tail) => {
                f.write_char('[')?;
                write_seq(f, items)?;
                write!(f, "|{tail}]")
            }
            Term::Map(pairs) => {
                f.write_str("#{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{k} => {v}")?;
                }
                f.write_char('}')
            }
            Term::Pid(p) => {
                f.write_char('<')?;
                write_atom(f, p.node.as_str())?;
                write!(f, ".{}.{}>", p.id, p.serial)
            }
            Term::Port(p) => {
                f.write_str("#Port<")?;
                write_atom(f, p.node.as_str())?;
                write!(f, ".{}>", p.id)
            }
            Term::Reference(r) => {
                f.write_str("#Ref<")?;
                write_atom(f, r.node.as_str())?;
                for id in r.ids.iter().rev() {
                    write!(f, ".{id}")?;
                }
                f.write_char('>')
            }
            Term::Fun(fun) => {
                f.write_str("#Fun<")?;
                write_atom(f, fun.module.as_str())?;
                write!(f, ".{}.{}>", fun.old_index, fun.old_uniq)
            }
            Term::Export(e) => {
                f.write_str("fun ")?;
                write_atom(f, e.module.as_str())?;
                f.write_char(':')?;
                write_atom(f, e.function.as_str())?;
                write!(f, "/{}", e.arity)
            }
            Term::Local(b) => write!(f, "#Local<{} bytes>", b.len()),
        }
    }
}

impl Display for Atom {
    /// The atom as Erlang source, quoted only when it has to be.
    ///
    /// ```
    /// use beamlink::term::Atom;
    /// assert_eq!(Atom::new("ok").to_string(), "ok");
    /// assert_eq!(Atom::new("Hello world").to_string(), "'Hello world'");
    /// assert_eq!(Atom::new("end").to_string(), "'end'");
    /// ```
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_atom(f, self.as_str())
    }
}

fn write_seq(f: &mut Formatter<'_>, items: &[Term]) -> fmt::Result {
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write!(f, "{t}")?;
    }
    Ok(())
}

/// `erl_scan:reserved_word/1` on OTP 25 (without the `maybe_expr` feature).
const RESERVED: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond",
    "div", "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor",
];

fn atom_needs_quotes(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return true;
    };
    let lower = first.is_ascii_lowercase() || (('\u{DF}'..='\u{FF}').contains(&first) && first != '\u{F7}');
    let rest_ok = chars.all(|c| {
        c.is_ascii_alphanumeric()
            || c == '_'
            || c == '@'
            || (('\u{C0}'..='\u{FF}').contains(&c) && c != '\u{D7}' && c != '\u{F7}')
    });
    !(lower && rest_ok) || RESERVED.contains(&name)
}

pub(super) fn write_atom(f: &mut impl Write, name: &str) -> fmt::Result {
    if atom_needs_quotes(name) { write_quoted(f, name.chars(), '\'') } else { f.write_str(name) }
}

/// Quotes text the way `io_lib:write_string/2` does in Unicode mode.
fn write_quoted(f: &mut impl Write, chars: impl Iterator<Item = char>, quote: char) -> fmt::Result {
    f.write_char(quote)?;
    for c in chars {
        match c {
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            '\\' => f.write_str("\\\\")?,
            ' '..='~' => f.write_char(c)?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{0B}' => f.write_str("\\v")?,
            '\u{08}' => f.write_str("\\b")?,
            '\u{0C}' => f.write_str("\\f")?,
            '\u{1B}' => f.write_str("\\e")?,
            '\u{7F}' => f.write_str("\\d")?,
            c if (c as u32) < 0xA0 => write!(f, "\\{:03o}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char(quote)
}

/// `io_lib:printable_unicode_list/1` for one character.
fn printable_char(c: u32) -> bool {
    matches!(c, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        || matches!(c, 8..=13 | 27)
}

/// The list as a string if Erlang would print it as one.
fn printable_string(items: &[Term]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    items
        .iter()
        .map(|t| match t {
            Term::Int(i) => u32::try_from(*i).ok().filter(|&c| printable_char(c)).and_then(char::from_u32),
            _ => None,
        })
        .collect()
}

fn write_binary(f: &mut Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !s.is_empty()
        && s.chars().all(|c| printable_char(c as u32))
    {
        f.write_str("<<")?;
        write_quoted(f, s.chars(), '"')?;
        return f.write_str(if s.is_ascii() { ">>" } else { "/utf8>>" });
    }
    f.write_str("<<")?;
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write!(f, "{b}")?;
    }
    f.write_str(">>")
}

fn write_bits(f: &mut Formatter<'_>, bytes: &[u8], bits: u8) -> fmt::Result {
    let Some((last, whole)) = bytes.split_last() else {
        return f.write_str("<<>>");
    };
    f.write_str("<<")?;
    for b in whole {
        write!(f, "{b},")?;
    }
    let bits = bits.clamp(1, 8);
    write!(f, "{}:{bits}>>", u16::from(*last) >> (8 - bits))
}

/// Shortest round-trip form, laid out as `float_to_list(F, [short])` does: plain decimal
/// unless scientific notation is strictly shorter or the value is at least 2^53. Checked
/// against OTP 25 on 10,000 random floats.
pub(super) fn format_float(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    if !x.is_finite() {
        // BEAM has no such floats; print something recognisable rather than panic.
        return format!("{x}");
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, e.g. "-1.2345e-5".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let n = digits.len() as i32;

    let scientific = format!("{}.{}e{exp}", &digits[..1], if n > 1 { &digits[1..] } else { "0" });
    let fixed = if exp >= 0 {
        if exp + 1 >= n {
            format!("{digits}{}.0", "0".repeat((exp + 1 - n) as usize))
        } else {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{int}.{frac}")
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    };
    // Beyond 2^53 not every integer is a float, so OTP does not print the value as if it
    // were exact; it switches to scientific notation even where that is longer.
    let inexact = x.abs() >= 9007199254740992.0;
    let body = if inexact || scientific.len() < fixed.len() { scientific } else { fixed };
    if x < 0.0 { format!("-{body}") } else { body }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::parse;
    use super::super::types::{ExportFun, Fun, Pid, Port, Reference};
    use super::*;
    use bytes::Bytes;
    use num_bigint::BigInt;
    use proptest::prelude::*;

    fn ints(v: &[i64]) -> Term {
        Term::list(v.iter().map(|&i| Term::Int(i)))
    }

    fn a(s: &str) -> Term {
        Term::atom(s)
    }

    /// Every expected string was printed by `io_lib:format("~0tp", [T])` on OTP 25 with
    /// `+pc unicode`.
    #[test]
    fn matches_otp_25() {
        let big: BigInt = "12345678901234567890123".parse().unwrap();
        let cases: Vec<(Term, &str)> = vec![
            (a("ok"), "ok"),
            (a("Hello"), "'Hello'"),
            (a("foo bar"), "'foo bar'"),
            (a("[]"), "'[]'"),
            (Term::nil(), "[]"),
            (a("and"), "'and'"),
            (a("end"), "'end'"),
            (a("receive"), "'receive'"),
            (a("maybe"), "maybe"),
            (a("else"), "else"),
            (a("foo_bar@host"), "foo_bar@host"),
            (a("a.b"), "'a.b'"),
            (a("héllo"), "héllo"),
            (a(""), "''"),
            (a("Ω"), "'Ω'"),
            (a("a\nb"), "'a\\nb'"),
            (a("it's"), "'it\\'s'"),
            (a("\\"), "'\\\\'"),
            (a("_a"), "'_a'"),
            (a("aB9@_"), "aB9@_"),
            (a("Elixir.Foo"), "'Elixir.Foo'"),
            (ints(&[97, 98, 99]), "\"abc\""),
            (ints(&[97, 10, 98, 9, 34, 113, 92]), "\"a\\nb\\t\\\"q\\\\\""),
            (ints(&[104, 233, 108, 108, 111]), "\"héllo\""),
            (ints(&[1, 2, 3]), "[1,2,3]"),
            (ints(&[10]), "\"\\n\""),
            (ints(&[7]), "[7]"),
            (ints(&[8]), "\"\\b\""),
            (ints(&[27]), "\"\\e\""),
            (ints(&[127]), "[127]"),
            (ints(&[128]), "[128]"),
            (ints(&[160]), "\"\u{A0}\""),
            (ints(&[256]), "\"Ā\""),
            (ints(&[0x1F600]), "\"😀\""),
            (ints(&[0xD800]), "[55296]"),
            (ints(&[0]), "[0]"),
            (ints(&[11]), "\"\\v\""),
            (ints(&[12]), "\"\\f\""),
            (ints(&[13]), "\"\\r\""),
            (ints(&[11, 12, 8, 127]), "[11,12,8,127]"),
            (Term::binary(&[1u8, 2, 3][..]), "<<1,2,3>>"),
            (Term::from("abc"), "<<\"abc\">>"),
            (Term::from("héllo"), "<<\"héllo\"/utf8>>"),
            (Term::from("😀"), "<<\"😀\"/utf8>>"),
            (Term::from(""), "<<>>"),
            (Term::from("a\n"), "<<\"a\\n\">>"),
            (Term::binary(&b"a\0"[..]), "<<97,0>>"),
            (Term::binary(&b"a\x07"[..]), "<<97,7>>"),
            (Term::BitBinary { bytes: Bytes::from_static(&[0b1010_0000]), bits: 3 }, "<<5:3>>"),
            (Term::BitBinary { bytes: Bytes::from_static(&[1, 0x20]), bits: 4 }, "<<1,2:4>>"),
            (Term::Float(1.0), "1.0"),
            (Term::Float(0.1), "0.1"),
            (Term::Float(1.0e20), "1.0e20"),
            (Term::Float(-2.5e-5), "-2.5e-5"),
            (Term::Float(1.0e15), "1.0e15"),
            (Term::Float(123456789.0), "123456789.0"),
            (Term::Float(0.001), "0.001"),
            (Term::Float(0.0001), "0.0001"),
            (Term::Float(1.5e300), "1.5e300"),
            (Term::Float(-0.0), "-0.0"),
            (Term::Float(5.0e-324), "5.0e-324"),
            (Term::Float(f64::MAX), "1.7976931348623157e308"),
            (Term::Float(100.0), "100.0"),
            (Term::Float(1000.0), "1.0e3"),
            (Term::Float(1234.0), "1234.0"),
            (Term::Float(12345678901234567890.0), "1.2345678901234567e19"),
            (Term::Float(2.0e-5), "2.0e-5"),
            (Term::Float(1.2e-4), "1.2e-4"),
            (Term::Float(123.456), "123.456"),
            (Term::map([(a("a"), Term::Int(1)), (a("b"), ints(&[1, 2]))]), "#{a => 1,b => [1,2]}"),
            (Term::map([]), "#{}"),
            (
                Term::map([(Term::Int(1), Term::Int(2)), (ints(&[107]), Term::list([a("x")]))]),
                "#{1 => 2,\"k\" => [x]}",
            ),
            (Term::tuple([]), "{}"),
            (Term::tuple([a("a"), a("b")]), "{a,b}"),
            (Term::ImproperList(vec![Term::Int(1)], Box::new(Term::Int(2))), "[1|2]"),
            (Term::ImproperList(vec![a("a"), a("b")], Box::new(a("c"))), "[a,b|c]"),
            (Term::ImproperList(vec![Term::Int(97), Term::Int(98)], Box::new(a("x"))), "[97,98|x]"),
            (
                Term::Export(Box::new(ExportFun {
                    module: "lists".into(),
                    function: "map".into(),
                    arity: 2,
                })),
                "fun lists:map/2",
            ),
            (Term::from(big.clone()), "12345678901234567890123"),
            (Term::from(-big), "-12345678901234567890123"),
            (Term::Int(-5), "-5"),
            (Term::list([ints(&[97])]), "[\"a\"]"),
            (Term::list([ints(&[97, 98, 99]), ints(&[100, 101, 102])]), "[\"abc\",\"def\"]"),
            (Term::list([Term::from("a")]), "[<<\"a\">>]"),
            (Term::tuple([ints(&[97, 98, 99])]), "{\"abc\"}"),
            (ints(&[97, 127]), "[97,127]"),
            (ints(&[97, 8]), "\"a\\b\""),
            (a("\u{1}\u{85}\u{7F}a"), "'\\001\\205\\da'"),
            (Term::BitBinary { bytes: Bytes::from_static(b"abc\x20"), bits: 3 }, "<<97,98,99,1:3>>"),
            (ints(&[0xFFFE]), "[65534]"),
            (Term::binary(&[239u8, 191, 190][..]), "<<239,191,190>>"),
            (Term::ImproperList(vec![Term::Int(97)], Box::new(Term::from("b"))), "[97|<<\"b\">>]"),
            (Term::map([(Term::nil(), Term::from(""))]), "#{[] => <<>>}"),
        ];
        for (term, want) in cases {
            assert_eq!(term.to_string(), want, "{term:?}");
        }
    }

    #[test]
    fn identifiers() {
        let node = Atom::new("a@host");
        let pid = Term::Pid(Pid { node: node.clone(), id: 85, serial: 0, creation: 1 });
        assert_eq!(pid.to_string(), "<a@host.85.0>");
        let port = Term::Port(Port { node: node.clone(), id: 5, creation: 1 });
        assert_eq!(port.to_string(), "#Port<a@host.5>");
        let r = Term::Reference(Reference { node: Atom::new("x-y@h"), creation: 1, ids: vec![3, 2, 1] });
        assert_eq!(r.to_string(), "#Ref<'x-y@h'.1.2.3>");
        let fun = Term::Fun(Box::new(Fun {
            arity: 1,
            uniq: [0; 16],
            index: 0,
            module: "chk".into(),
            old_index: 0,
            old_uniq: 29249728,
            pid: Pid { node, id: 1, serial: 0, creation: 1 },
            free_vars: vec![],
        }));
        assert_eq!(fun.to_string(), "#Fun<chk.0.29249728>");
    }

    /// Not Erlang's output (`<<"é">>`), see the module docs.
    #[test]
    fn latin1_binaries_print_as_bytes() {
        assert_eq!(Term::binary(&[233u8][..]).to_string(), "<<233>>");
    }

    /// `~0p` output on OTP 25 for random bit patterns and random decimals (part of a run of
    /// 10,000 that all matched).
    #[test]
    fn float_layout_samples() {
        let samples: &[(u64, &str)] = &[
            (3056375020077584080, "2.3043695068794426e-104"),
            (2947214485621449078, "1.1751603981349682e-111"),
            (12141888535475191721, "-1.3524985602560558e-113"),
            (4057794765446854739, "1.9022988601546975e-37"),
            (14070229709167552650, "-1.0976145778987284e16"),
            (15616135562279875193, "-2.386404594582852e119"),
            (10957186726675709180, "-8.697966640227551e-193"),
            (2779240701851052637, "6.749223586165827e-123"),
            (7169767195694758474, "1.947967232682318e171"),
            (12412244860861100636, "-1.6060117888363187e-95"),
            (8418597947845255894, "6.119824377526386e254"),
            (14952523960450721260, "-1.019762322074424e75"),
            (14070229709167552650, "-1.0976145778987284e16"),
            (4878732966334132167, "1.4945713969294067e18"),
            (4901801267968213984, "5.233437095104374e19"),
            (14098091455156354223, "-8.100123026012466e17"),
            (14082828111122796964, "-7.321081540202349e16"),
            (14124759420912896932, "-4.8943833959563035e19"),
            (4852617297469150306, "2.697639367398644e16"),
            (14107287314077571874, "-3.336642959641036e18"),
            (4695312175596568576, "822470.0"),
            (4860983585805394688, "9.7651e16"),
            (4825326961286430720, "4.0471e14"),
            (4818924001659060224, "1.43e14"),
            (4896302505871233656, "2.2091e19"),
            (4945865661342621612, "4.544e22"),
            (4875266509687506176, "8.8004e17"),
            (4575277103188355058, "0.0074827999999999995"),
            (4483419582604636134, "5.6592000000000005e-9"),
            (4853741699050653696, "3.1474e16"),
            (4456166490053066792, "8.543300000000001e-11"),
            (4417409940057037893, "2.1169e-13"),
            (4612136378390124954, "2.2"),
            (4396453625571443742, "8.589099999999999e-15"),
            (4900199660186104152, "3.9214e19"),
            (4561566802769086402, "9.1372e-4"),
            (4648403954150269780, "590.346"),
            (4632997474076570157, "55.427"),
            (4646586399856904897, "447.857"),
            (4645655280633946046, "394.929"),
            (4649162441251574776, "676.576"),
            (4635605339735794385, "83.914"),
            (4646646354026944266, "451.265"),
            (4648386757788411363, "588.391"),
            (4647968230886321684, "540.81"),
            (4649394068769128579, "702.909"),
            (4651553360072499266, "948.392"),
            (4578013706163546629, "0.011900349425492793"),
            (13790391180033290791, "-0.002113205726813189"),
            (4568794732199316811, "0.0028832447163310896"),
            (13809852923522312985, "-0.04385426488439332"),
            (4568081968945939474, "0.0025741329292192716"),
        ];
        for &(bits, want) in samples {
            assert_eq!(format_float(f64::from_bits(bits)), want);
        }
        for (x, want) in [(9007199254740993.0, "9.007199254740992e15"), (1.0e23, "1.0e23"), (1.2e8, "1.2e8")]
        {
            assert_eq!(format_float(x), want);
        }
    }

    fn leaf() -> impl Strategy<Value = Term> {
        prop_oneof![
            any::<i64>().prop_map(Term::Int),
            any::<i128>().prop_map(Term::from),
            any::<f64>().prop_filter("BEAM floats are finite", |f| f.is_finite()).prop_map(Term::Float),
            "\\PC{0,8}".prop_map(Term::atom),
            "[a-z][a-zA-Z0-9_@]{0,6}".prop_map(Term::atom),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(Term::from),
            "\\PC{0,8}".prop_map(Term::from),
            prop::collection::vec(0u32..0x11_0000, 0..6)
                .prop_map(|v| Term::list(v.into_iter().map(Term::from))),
            "[ -~\n\t]{0,8}".prop_map(|s| Term::list(s.chars().map(|c| Term::from(c as u32)))),
            (prop::collection::vec(any::<u8>(), 1..4), 1u8..8).prop_map(|(mut b, bits)| {
                let last = b.len() - 1;
                b[last] &= 0xFFu8 << (8 - bits);
                Term::BitBinary { bytes: Bytes::from(b), bits }
            }),
            ("[a-z]{1,5}", "\\PC{1,5}", any::<u8>()).prop_map(|(m, f, arity)| Term::Export(Box::new(
                ExportFun { module: Atom::new(m), function: Atom::new(f), arity }
            ))),
        ]
    }

    pub(crate) fn parseable_term() -> impl Strategy<Value = Term> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Term::Tuple),
                prop::collection::vec(inner.clone(), 0..6).prop_map(Term::List),
                (prop::collection::vec(inner.clone(), 1..4), inner.clone())
                    .prop_filter("tail must not be a list", |(_, t)| {
                        !matches!(t, Term::List(_) | Term::ImproperList(..))
                    })
                    .prop_map(|(v, t)| Term::ImproperList(v, Box::new(t))),
                prop::collection::vec((inner.clone(), inner), 0..5).prop_map(|pairs| {
                    let mut uniq: Vec<(Term, Term)> = Vec::new();
                    for (k, v) in pairs {
                        if !uniq.iter().any(|(k2, _)| *k2 == k) {
                            uniq.push((k, v));
                        }
                    }
                    Term::Map(uniq)
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn display_round_trips_through_parse(t in parseable_term()) {
            let text = t.to_string();
            let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(back, t, "{}", text);
        }
    }
}
