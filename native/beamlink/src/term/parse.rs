//! Parsing one Erlang term written in Erlang syntax.
//!
//! The accepted language is the subset of Erlang expressions that denote a constant term:
//! numbers, atoms, strings, binaries, tuples, lists, maps and `fun M:F/A`. Pids, ports,
//! references and local funs have no source syntax in Erlang, so they are rejected.
//!
//! A string segment inside a binary means what it means in Erlang: without a type
//! (`<<"日本">>`) each code point is one byte, truncated to its low 8 bits; with `/utf8`
//! (`<<"日本"/utf8>>`) it is UTF-8.

use bytes::Bytes;
use num_bigint::{BigInt, Sign};
use num_traits::{One, Signed, Zero};

use super::types::{Atom, ExportFun, Term};

/// Nesting deeper than this is rejected. The parser recurses once per level, and the limit
/// keeps that recursion far from the stack size of a default thread.
const MAX_DEPTH: usize = 512;

/// Integer segment sizes above this are refused so `<<0:99999999999>>` cannot allocate
/// gigabytes.
const MAX_SEGMENT_BITS: u64 = 1 << 20;

/// Why a text is not a term, and where.
///
/// `offset` is a byte offset into the input; `line` and `column` are 1-based, the column
/// counting characters rather than bytes.
///
/// ```
/// let err = beamlink::term::parse("{ok,\n  [1,2}").unwrap_err();
/// assert_eq!((err.line, err.column), (2, 7));
/// assert_eq!(err.to_string(), "2:7: expected `,`, `|` or `]`, found `}`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses one Erlang term, e.g. `{ok, [1, 2.5, <<"bin">>, #{key => "str"}]}`.
///
/// Surrounding whitespace, `%` comments and one trailing `.` are allowed. Strings become
/// lists of code points, as in Erlang (`""` is `[]`); integers beyond `i64` become
/// [`Term::BigInt`].
///
/// As in Erlang, a string segment in a binary is one byte per code point (`<<"é">>` is
/// `<<233>>`, `<<"日">>` is `<<229>>`: the low 8 bits), and UTF-8 with `/utf8`
/// (`<<"é"/utf8>>` is `<<195,169>>`). Pids, ports, references and
/// local funs have no source syntax and are rejected; `fun M:F/A` is accepted. Nesting deeper
/// than 512 levels is an error rather than a stack overflow.
///
/// ```
/// use beamlink::term::{parse, Term};
/// let t = parse("{ok, [1,2]}.").unwrap();
/// assert_eq!(t, Term::tuple([Term::atom("ok"), Term::list([Term::Int(1), Term::Int(2)])]));
/// assert_eq!(parse("\"hi\"").unwrap(), Term::list([Term::Int(104), Term::Int(105)]));
/// assert_eq!(parse("<<\"hi\">>").unwrap(), Term::binary(&b"hi"[..]));
/// assert!(parse("{ok,").is_err());
/// ```
pub fn parse(text: &str) -> Result<Term, ParseError> {
    let mut p = Parser { src: text, pos: 0 };
    let term = p.term(0)?;
    p.skip_ws();
    if p.peek() == Some('.') {
        p.pos += 1;
        p.skip_ws();
    }
    match p.peek() {
        None => Ok(term),
        Some(_) => Err(p.unexpected("end of input")),
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.src[self.pos..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error_at(&self, offset: usize, message: String) -> ParseError {
        let before = &self.src[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError { offset, line, column, message }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.pos, message.into())
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        let found = match self.peek() {
            None => "end of input".to_string(),
            Some(c) => format!("`{c}`"),
        };
        self.error(format!("expected {expected}, found {found}"))
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if c == '%' {
                match self.src[self.pos..].find('\n') {
                    Some(i) => self.pos += i + 1,
                    None => self.pos = self.src.len(),
                }
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        if self.src[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, s: &str, expected: &str) -> Result<(), ParseError> {
        if self.eat(s) { Ok(()) } else { Err(self.unexpected(expected)) }
    }

    fn term(&mut self, depth: usize) -> Result<Term, ParseError> {
        self.skip_ws();
        if depth > MAX_DEPTH {
            return Err(self.error(format!("terms nested deeper than {MAX_DEPTH} levels")));
        }
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.unexpected("a term"));
        };
        match c {
            '{' => {
                self.pos += 1;
                let items = self.sequence('}', "`,` or `}`", depth)?;
                Ok(Term::Tuple(items))
            }
            '[' => self.list(depth),
            '#' if self.peek2() == Some('{') => self.map(depth),
            '<' if self.peek2() == Some('<') => self.binary(),
            '"' => {
                let s = self.strings()?;
                Ok(Term::List(s.into_iter().map(|c| Term::Int(c as i64)).collect()))
            }
            '\'' => Ok(Term::Atom(self.quoted_atom()?)),
            '$' | '0'..='9' => self.number(false),
            '-' | '+' => {
                self.pos += 1;
                self.skip_ws();
                match self.peek() {
                    Some('$' | '0'..='9') => self.number(c == '-'),
                    _ => Err(self.unexpected("a number after the sign")),
                }
            }
            c if is_atom_start(c) => {
                let name = self.bare_name();
                if name == "fun" { self.export_fun() } else { Ok(Term::atom(name)) }
            }
            c if c.is_uppercase() || c == '_' => {
                let name = self.bare_name();
                Err(self.error_at(start, format!("variables are not allowed in a term: `{name}`")))
            }
            _ => Err(self.unexpected("a term")),
        }
    }

    /// Elements up to `close`; the opening bracket has been consumed.
    fn sequence(&mut self, close: char, expected: &str, depth: usize) -> Result<Vec<Term>, ParseError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.term(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.unexpected(expected)),
            }
        }
    }

    fn list(&mut self, depth: usize) -> Result<Term, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.pos += 1;
            return Ok(Term::List(items));
        }
        loop {
            items.push(self.term(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(Term::List(items));
                }
                Some('|') if self.peek2() != Some('|') => {
                    self.pos += 1;
                    let tail = self.term(depth + 1)?;
                    self.expect("]", "`]`")?;
                    // `[a|[b]]` is the proper list `[a,b]`; keep the representation canonical.
                    return Ok(Term::cons(items, tail));
                }
                _ => return Err(self.unexpected("`,`, `|` or `]`")),
            }
        }
    }

    fn map(&mut self, depth: usize) -> Result<Term, ParseError> {
        self.pos += 2;
        let mut pairs: Vec<(Term, Term)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.pos += 1;
            return Ok(Term::Map(pairs));
        }
        loop {
            let key = self.term(depth + 1)?;
            self.expect("=>", "`=>`")?;
            let value = self.term(depth + 1)?;
            // Erlang lets a later duplicate key win; Term::Map promises unique keys.
            match pairs.iter_mut().find(|(k, _)| *k == key) {
                Some(pair) => pair.1 = value,
                None => pairs.push((key, value)),
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    return Ok(Term::Map(pairs));
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }

    /// `fun M:F/A`, with `fun` already consumed.
    fn export_fun(&mut self) -> Result<Term, ParseError> {
        let module = self.atom_only()?;
        self.expect(":", "`:`")?;
        let function = self.atom_only()?;
        self.expect("/", "`/`")?;
        self.skip_ws();
        let at = self.pos;
        let arity = match self.number(false)? {
            Term::Int(a) if (0..=255).contains(&a) => a as u8,
            _ => return Err(self.error_at(at, "arity must be an integer in 0..=255".into())),
        };
        Ok(Term::Export(Box::new(ExportFun { module, function, arity })))
    }

    fn atom_only(&mut self) -> Result<Atom, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some('\'') => self.quoted_atom(),
            Some(c) if is_atom_start(c) => Ok(Atom::new(self.bare_name())),
            _ => Err(self.unexpected("an atom")),
        }
    }

    fn bare_name(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_name_char(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        &self.src[start..self.pos]
    }

    fn quoted_atom(&mut self) -> Result<Atom, ParseError> {
        let chars = self.quoted('\'')?;
        let mut name = String::with_capacity(chars.len());
        for c in chars {
            match char::from_u32(c) {
                Some(c) => name.push(c),
                None => return Err(self.error(format!("atom contains invalid code point {c}"))),
            }
        }
        Ok(Atom::from(name))
    }

    /// One or more adjacent string literals (Erlang concatenates `"ab" "cd"`).
    fn strings(&mut self) -> Result<Vec<u32>, ParseError> {
        let mut out = self.quoted('"')?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.peek() == Some('"') {
                out.extend(self.quoted('"')?);
            } else {
                self.pos = save;
                return Ok(out);
            }
        }
    }

    /// Code points of a quoted literal; kept as `u32` because Erlang strings may hold values
    /// (surrogates, say) that are not Rust `char`s.
    fn quoted(&mut self, quote: char) -> Result<Vec<u32>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.bump() {
                None => {
                    return Err(self.error_at(start, format!("unterminated {quote}...{quote} literal")));
                }
                Some(c) if c == quote => return Ok(out),
                Some('\\') => out.push(self.escape()?),
                Some(c) => out.push(c as u32),
            }
        }
    }

    /// The character after a backslash, with the backslash consumed.
    fn escape(&mut self) -> Result<u32, ParseError> {
        let at = self.pos;
        let Some(c) = self.bump() else {
            return Err(self.unexpected("an escape sequence"));
        };
        Ok(match c {
            'b' => 8,
            'd' => 127,
            'e' => 27,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            's' => 32,
            't' => 9,
            'v' => 11,
            '0'..='7' => {
                let mut v = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                v
            }
            'x' => {
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let digits_at = self.pos;
                    let mut v: u32 = 0;
                    while let Some(d) = self.peek().and_then(|c| c.to_digit(16)) {
                        self.pos += 1;
                        v = match v.checked_mul(16).map(|v| v + d) {
                            Some(v) if v <= 0x10FFFF => v,
                            _ => {
                                return Err(self.error_at(at, "\\x{...} escape is beyond U+10FFFF".into()));
                            }
                        };
                    }
                    if self.pos == digits_at || self.peek() != Some('}') {
                        return Err(self.unexpected("hex digits and `}`"));
                    }
                    self.pos += 1;
                    v
                } else {
                    let mut v = 0;
                    for _ in 0..2 {
                        match self.peek().and_then(|c| c.to_digit(16)) {
                            Some(d) => {
                                v = v * 16 + d;
                                self.pos += 1;
                            }
                            None => return Err(self.unexpected("two hex digits after \\x")),
                        }
                    }
                    v
                }
            }
            // Erlang keeps the low five bits of any character: `\^A` and `\^a` are 1, `\^?` is 31.
            '^' => match self.bump() {
                Some(c) => (c as u32) & 0x1F,
                None => return Err(self.error_at(at, "unterminated control escape \\^".into())),
            },
            // Erlang maps any other escaped character to itself (`\'`, `\"`, `\\`, `\z`).
            c => c as u32,
        })
    }

    /// An integer, float or `$c` character, without its sign.
    fn number(&mut self, negative: bool) -> Result<Term, ParseError> {
        let start = self.pos;
        if self.peek() == Some('$') {
            self.pos += 1;
            let v = match self.bump() {
                None => return Err(self.unexpected("a character after `$`")),
                Some('\\') => self.escape()?,
                Some(c) => c as u32,
            };
            let v = v as i64;
            return Ok(Term::Int(if negative { -v } else { v }));
        }
        let digits = self.digits(10);
        if digits.is_empty() {
            return Err(self.unexpected("a number"));
        }
        if self.peek() == Some('#') {
            let radix: u32 = digits.parse().ok().filter(|r| (2..=36).contains(r)).ok_or_else(|| {
                self.error_at(start, format!("radix must be between 2 and 36, got {digits}"))
            })?;
            self.pos += 1;
            let body = self.digits(radix);
            if body.is_empty() {
                return Err(self.unexpected(&format!("base-{radix} digits")));
            }
            return Ok(int_term(&body, radix, negative));
        }
        let is_float = self.peek() == Some('.') && self.peek2().is_some_and(|c| c.is_ascii_digit());
        if !is_float {
            return Ok(int_term(&digits, 10, negative));
        }
        self.pos += 1;
        let mut text = String::new();
        if negative {
            text.push('-');
        }
        text.push_str(&digits);
        text.push('.');
        text.push_str(&self.digits(10));
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            let mut exp = String::from("e");
            if let Some(s @ ('+' | '-')) = self.peek() {
                exp.push(s);
                self.pos += 1;
            }
            let d = self.digits(10);
            if d.is_empty() {
                self.pos = save;
                return Err(self.unexpected("exponent digits"));
            }
            text.push_str(&exp);
            text.push_str(&d);
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Term::Float(f)),
            _ => Err(self.error_at(start, format!("float out of range: {text}"))),
        }
    }

    /// Digits in `radix`, allowing `_` between digits; returns them without underscores.
    fn digits(&mut self, radix: u32) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_digit(radix) {
                out.push(c);
                self.pos += 1;
            } else if c == '_' && !out.is_empty() && self.peek2().is_some_and(|n| n.is_digit(radix)) {
                self.pos += 1;
            } else {
                break;
            }
        }
        out
    }

    fn binary(&mut self) -> Result<Term, ParseError> {
        self.pos += 2;
        let mut w = BitWriter::default();
        if self.eat(">>") {
            return Ok(w.finish());
        }
        loop {
            self.segment(&mut w)?;
            self.skip_ws();
            if self.eat(",") {
                continue;
            }
            if self.eat(">>") {
                return Ok(w.finish());
            }
            return Err(self.unexpected("`,` or `>>`"));
        }
    }

    fn segment(&mut self, w: &mut BitWriter) -> Result<(), ParseError> {
        self.skip_ws();
        let start = self.pos;
        enum Value {
            Int(BigInt),
            Float(f64),
            Str(Vec<u32>),
        }
        let value = match self.peek() {
            Some('"') => Value::Str(self.strings()?),
            Some(c @ ('-' | '+' | '$' | '0'..='9')) => {
                let neg = c == '-';
                if c == '-' || c == '+' {
                    self.pos += 1;
                    self.skip_ws();
                }
                match self.number(neg)? {
                    Term::Int(i) => Value::Int(BigInt::from(i)),
                    Term::BigInt(ref b) => Value::Int(b.to_bigint()),
                    Term::Float(f) => Value::Float(f),
                    _ => unreachable!("number() yields numbers only"),
                }
            }
            _ => return Err(self.unexpected("a binary segment (integer, float or string)")),
        };
        self.skip_ws();
        let mut size: Option<u64> = None;
        if self.peek() == Some(':') {
            self.pos += 1;
            self.skip_ws();
            let at = self.pos;
            let d = self.digits(10);
            size = Some(d.parse().ok().filter(|s| *s <= MAX_SEGMENT_BITS).ok_or_else(|| {
                self.error_at(at, format!("expected a segment size up to {MAX_SEGMENT_BITS}"))
            })?);
        }
        let mut kind = None;
        let mut little = false;
        if self.eat("/") {
            loop {
                self.skip_ws();
                let at = self.pos;
                match self.bare_name() {
                    t @ ("integer" | "float" | "utf8" | "binary") => kind = Some(t),
                    "big" | "signed" | "unsigned" => {}
                    "little" => little = true,
                    "" => return Err(self.unexpected("a segment type")),
                    other => {
                        return Err(self.error_at(at, format!("unsupported segment type `{other}`")));
                    }
                }
                if !self.eat("-") {
                    break;
                }
            }
        }
        let bad = |p: &Self, what: &str| Err(p.error_at(start, what.to_string()));
        match (value, kind) {
            (Value::Str(chars), None | Some("integer")) => {
                if size.is_some() {
                    return bad(self, "a string segment cannot have a size");
                }
                // Erlang's default segment type is an 8-bit integer per character.
                let bytes: Vec<u8> = chars.iter().map(|&c| c as u8).collect();
                w.push_bytes(&bytes);
            }
            (Value::Str(chars), Some("utf8")) => {
                if size.is_some() {
                    return bad(self, "a string segment cannot have a size");
                }
                for c in chars {
                    match char::from_u32(c) {
                        Some(c) => {
                            let mut buf = [0; 4];
                            w.push_bytes(c.encode_utf8(&mut buf).as_bytes());
                        }
                        None => {
                            return bad(self, "string segment holds a code point UTF-8 cannot encode");
                        }
                    }
                }
            }
            (Value::Int(v), Some("utf8")) => match v.try_into().ok().and_then(char::from_u32) {
                Some(c) if size.is_none() => {
                    let mut buf = [0; 4];
                    w.push_bytes(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => return bad(self, "utf8 segment needs a valid code point and no size"),
            },
            (Value::Int(v), None | Some("integer")) => {
                let bits = size.unwrap_or(8) as usize;
                if little && !bits.is_multiple_of(8) {
                    return bad(self, "little-endian segments must be a whole number of bytes");
                }
                w.push_int(&v, bits, little);
            }
            (Value::Float(f), None | Some("float")) => {
                push_float(w, f, size, little).or_else(|m| bad(self, m))?
            }
            (Value::Int(v), Some("float")) => {
                let f = v.to_string().parse::<f64>().unwrap_or(f64::INFINITY);
                push_float(w, f, size, little).or_else(|m| bad(self, m))?
            }
            _ => return bad(self, "segment value does not match its type"),
        }
        Ok(())
    }
}

fn push_float(w: &mut BitWriter, f: f64, size: Option<u64>, little: bool) -> Result<(), &'static str> {
    let mut bytes = match size.unwrap_or(64) {
        64 => f.to_be_bytes().to_vec(),
        32 => {
            let g = f as f32;
            if g.is_infinite() && f.is_finite() {
                return Err("float does not fit 32 bits");
            }
            g.to_be_bytes().to_vec()
        }
        _ => return Err("float segments must be 32 or 64 bits"),
    };
    if !f.is_finite() {
        return Err("float out of range");
    }
    if little {
        bytes.reverse();
    }
    w.push_bytes(&bytes);
    Ok(())
}

fn int_term(digits: &str, radix: u32, negative: bool) -> Term {
    let v = BigInt::parse_bytes(digits.as_bytes(), radix).unwrap_or_default();
    Term::from(if negative { -v } else { v })
}

/// Unquoted atoms start with a lowercase letter; Erlang counts latin1 lowercase letters too.
fn is_atom_start(c: char) -> bool {
    c.is_ascii_lowercase() || (('\u{DF}'..='\u{FF}').contains(&c) && c != '\u{F7}')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || c == '@'
        || (('\u{C0}'..='\u{FF}').contains(&c) && c != '\u{D7}' && c != '\u{F7}')
}

/// Accumulates bits most-significant first, as the binary syntax lays them out.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte; 0 means the last byte is full (or there is none).
    used: u8,
}

impl BitWriter {
    fn push_bit(&mut self, bit: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if bit && let Some(last) = self.bytes.last_mut() {
            *last |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        if self.used == 0 {
            self.bytes.extend_from_slice(bytes);
        } else {
            for &b in bytes {
                for i in 0..8 {
                    self.push_bit(b & (0x80 >> i) != 0);
                }
            }
        }
    }

    /// The low `bits` bits of `v` in two's complement, as `<<V:Bits>>` does.
    fn push_int(&mut self, v: &BigInt, bits: usize, little: bool) {
        if bits == 0 {
            return;
        }
        let modulus = BigInt::one() << bits;
        let mut m = v % &modulus;
        if m.is_negative() {
            m += &modulus;
        }
        debug_assert!(m.sign() != Sign::Minus && (m.is_zero() || m.bits() as usize <= bits));
        let (_, raw) = m.to_bytes_be();
        let width = bits.div_ceil(8);
        let mut padded = vec![0u8; width - raw.len().min(width)];
        padded.extend_from_slice(&raw[raw.len().saturating_sub(width)..]);
        if little {
            padded.reverse();
            self.push_bytes(&padded);
            return;
        }
        let skip = width * 8 - bits;
        for i in skip..width * 8 {
            self.push_bit(padded[i / 8] & (0x80 >> (i % 8)) != 0);
        }
    }

    fn finish(self) -> Term {
        if self.used == 0 {
            Term::Binary(Bytes::from(self.bytes))
        } else {
            Term::BitBinary { bytes: Bytes::from(self.bytes), bits: self.used }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Term {
        parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn ints(v: &[i64]) -> Term {
        Term::list(v.iter().map(|&i| Term::Int(i)))
    }

    #[test]
    fn integers() {
        assert_eq!(p("42"), Term::Int(42));
        assert_eq!(p("-42."), Term::Int(-42));
        assert_eq!(p("- 7"), Term::Int(-7));
        assert_eq!(p("16#FF"), Term::Int(255));
        assert_eq!(p("-2#1010"), Term::Int(-10));
        assert_eq!(p("36#zz"), Term::Int(1295));
        assert_eq!(p("1_000_000"), Term::Int(1_000_000));
        assert_eq!(p("$a"), Term::Int(97));
        assert_eq!(p("$\\n"), Term::Int(10));
        assert_eq!(p("$é"), Term::Int(233));
        assert_eq!(p("$ "), Term::Int(32));
        assert_eq!(p("-9223372036854775808"), Term::Int(i64::MIN));
        assert_eq!(p("9223372036854775808"), Term::from(1u64 << 63));
        assert_eq!(
            p("-123456789012345678901234567890"),
            Term::BigInt("-123456789012345678901234567890".parse().unwrap())
        );
    }

    #[test]
    fn floats() {
        assert_eq!(p("1.5"), Term::Float(1.5));
        assert_eq!(p("-2.0e10"), Term::Float(-2.0e10));
        assert_eq!(p("1.0e-3"), Term::Float(0.001));
        assert_eq!(p("1.0E+3"), Term::Float(1000.0));
        assert_eq!(p("1_0.2_5"), Term::Float(10.25));
        assert!(parse("1.0e999").is_err());
        // `1.` is the integer 1 followed by the terminating dot.
        assert_eq!(p("1."), Term::Int(1));
    }

    #[test]
    fn atoms() {
        assert_eq!(p("ok"), Term::atom("ok"));
        assert_eq!(p("foo_bar@host"), Term::atom("foo_bar@host"));
        assert_eq!(p("'Hello world'"), Term::atom("Hello world"));
        assert_eq!(p(r"'it\'s\n'"), Term::atom("it's\n"));
        assert_eq!(p("'héllo'"), Term::atom("héllo"));
        assert_eq!(p("héllo"), Term::atom("héllo"));
        assert_eq!(p("''"), Term::atom(""));
        assert_eq!(p("true"), Term::atom("true"));
        assert!(parse("Foo").unwrap_err().message.contains("variable"));
    }

    #[test]
    fn strings() {
        assert_eq!(p("\"\""), Term::nil());
        assert_eq!(p("\"abc\""), ints(&[97, 98, 99]));
        assert_eq!(p(r#""\n\t\\\"\x{1F600}\xFF\101\^A\s""#), ints(&[10, 9, 92, 34, 0x1F600, 255, 65, 1, 32]));
        assert_eq!(p("\"héllo\""), ints(&[104, 233, 108, 108, 111]));
        assert_eq!(p("\"ab\" \"cd\""), ints(&[97, 98, 99, 100]));
        assert!(parse("\"abc").is_err());
        assert!(parse(r#""\x{110000}""#).is_err());
    }

    #[test]
    fn binaries() {
        assert_eq!(p("<<>>"), Term::binary(&b""[..]));
        assert_eq!(p("<<1,2,3>>"), Term::binary(&[1u8, 2, 3][..]));
        assert_eq!(p("<< \"text\" >>"), Term::binary(&b"text"[..]));
        // As Erlang: one byte per code point (low 8 bits) unless /utf8.
        assert_eq!(p("<<\"é\">>"), Term::binary(&[233u8][..]));
        assert_eq!(p("<<\"日本\">>"), Term::binary(&[0xE5u8, 0x2C][..]));
        assert_eq!(p("<<\"日本\"/utf8>>"), Term::binary("日本".as_bytes()));
        assert_eq!(p("<<\"é\"/utf8>>"), Term::binary("é".as_bytes()));
        assert_eq!(p("<<256>>"), Term::binary(&[0u8][..]));
        assert_eq!(p("<<-1>>"), Term::binary(&[255u8][..]));
        assert_eq!(p("<<1:16>>"), Term::binary(&[0u8, 1][..]));
        assert_eq!(p("<<1:16/little>>"), Term::binary(&[1u8, 0][..]));
        assert_eq!(p("<<233/utf8>>"), Term::binary("é".as_bytes()));
        assert_eq!(p("<<1.5/float>>"), Term::binary(1.5f64.to_be_bytes().to_vec()));
        assert_eq!(p("<<5:3>>"), Term::BitBinary { bytes: Bytes::from_static(&[0b1010_0000]), bits: 3 });
        assert_eq!(p("<<1,2:4>>"), Term::BitBinary { bytes: Bytes::from_static(&[1, 0x20]), bits: 4 });
        assert_eq!(p("<<1:1,0:7>>"), Term::binary(&[0x80u8][..]));
        assert!(parse("<<a>>").is_err());
        assert!(parse("<<1:99999999999999>>").is_err());
    }

    #[test]
    fn containers() {
        assert_eq!(p("{}"), Term::tuple([]));
        assert_eq!(p("{a, b}"), Term::tuple([Term::atom("a"), Term::atom("b")]));
        assert_eq!(p("[1,2]"), ints(&[1, 2]));
        assert_eq!(p("[1|2]"), Term::ImproperList(vec![Term::Int(1)], Box::new(Term::Int(2))));
        assert_eq!(
            p("[a,b|c]"),
            Term::ImproperList(vec![Term::atom("a"), Term::atom("b")], Box::new(Term::atom("c")))
        );
        assert_eq!(p("[1|[2]]"), ints(&[1, 2]));
        assert_eq!(p("[1|\"\"]"), ints(&[1]));
        assert_eq!(
            p("#{a => 1, \"k\" => [x]}"),
            Term::map([(Term::atom("a"), Term::Int(1)), (ints(&[107]), Term::list([Term::atom("x")]))])
        );
        assert_eq!(p("#{a => 1, a => 2}"), Term::map([(Term::atom("a"), Term::Int(2))]));
        assert_eq!(p("#{}"), Term::map([]));
        assert_eq!(
            p("fun lists:map/2"),
            Term::Export(Box::new(ExportFun { module: "lists".into(), function: "map".into(), arity: 2 }))
        );
    }

    #[test]
    fn comments_and_whitespace() {
        assert_eq!(
            p("  % a comment\n {ok, % inline\n 1} . \n"),
            Term::tuple([Term::atom("ok"), Term::Int(1)])
        );
    }

    #[test]
    fn errors_carry_positions() {
        let e = parse("[1,2").unwrap_err();
        assert_eq!((e.offset, e.line, e.column), (4, 1, 5));
        assert_eq!(e.message, "expected `,`, `|` or `]`, found end of input");
        let e = parse("{a} b").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(parse("").is_err());
        assert!(parse("{a}..").is_err());
        assert!(parse("<0.1.0>").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let ok = format!("{}{}", "{".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_term_like_text(s in "[\\[\\]{}<>#=,|:/$\\\\'\"0-9a-zA-Z_.+\\- %\n]{0,64}") {
            let _ = parse(&s);
        }
    }
}
