//! Parsing one term written as an Elixir literal: what `beamlink --elixir` reads as ARGS.
//!
//! The language is the subset of Elixir expressions that denote a constant: integers (`1_000`,
//! `0x1F`, `?a`), floats, atoms (`:ok`, `:"with space"`, `true`, `false`, `nil`), aliases
//! (`Person` is the atom `Elixir.Person`), strings (binaries, UTF-8), charlists (`'abc'`,
//! `~c"abc"`), lists with keyword tails (`[1, a: 2]`), tuples, maps (`%{"k" => 1, a: 2}`) and
//! bitstrings of bytes and strings (`<<1, "a">>`). Interpolation, sigils other than `~c`,
//! structs and expressions are refused with the position where they start.

use bytes::Bytes;
use num_bigint::BigInt;

use super::parse::ParseError;
use super::types::Term;

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 512;

/// Parses one Elixir literal, e.g. `[:hoge, "text", %{a: 1}, {:ok, 1}, [a: 1]]`.
///
/// ```
/// use beamlink::term::{parse_elixir, Term};
/// let t = parse_elixir("{:ok, [a: 1], Person, \"hi\"}").unwrap();
/// assert_eq!(t, Term::tuple([
///     Term::atom("ok"),
///     Term::list([Term::tuple([Term::atom("a"), Term::from(1)])]),
///     Term::atom("Elixir.Person"),
///     Term::from("hi"),
/// ]));
/// assert!(parse_elixir("\"#{x}\"").is_err()); // no interpolation: a literal only
/// ```
pub fn parse_elixir(text: &str) -> Result<Term, ParseError> {
    let mut p = Parser { s: text, pos: 0, depth: 0 };
    p.ws();
    let t = p.term()?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(p.err("end of input"));
    }
    Ok(t)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Whitespace and `#` comments.
    fn ws(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('#') => while !matches!(self.bump(), None | Some('\n')) {},
                _ => return,
            }
        }
    }

    fn err(&self, expected: &str) -> ParseError {
        let found = match self.peek() {
            Some(c) => format!("`{c}`"),
            None => "the end".to_string(),
        };
        self.err_msg(format!("expected {expected}, found {found}"))
    }

    fn err_msg(&self, message: String) -> ParseError {
        let before = &self.s[..self.pos];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        ParseError { offset: self.pos, line, column, message }
    }

    fn term(&mut self) -> Result<Term, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_msg(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let t = self.term_here();
        self.depth -= 1;
        t
    }

    fn term_here(&mut self) -> Result<Term, ParseError> {
        match self.peek() {
            Some('[') => self.list(),
            Some('{') => {
                self.bump();
                let items = self.items('}')?;
                Ok(Term::Tuple(items))
            }
            Some('%') => self.map(),
            Some('<') if self.rest().starts_with("<<") => self.bitstring(),
            Some('"') => {
                let s = self.quoted('"')?;
                Ok(Term::Binary(Bytes::from(s.into_bytes())))
            }
            Some('\'') => {
                let s = self.quoted('\'')?;
                Ok(Term::list(s.chars().map(|c| Term::Int(c as i64))))
            }
            Some('~') => self.sigil(),
            Some(':') if !self.rest().starts_with("::") => self.atom(),
            Some('?') => {
                self.bump();
                let c = match self.bump() {
                    Some('\\') => self.escape()?,
                    Some(c) => c,
                    None => return Err(self.err("a character after `?`")),
                };
                Ok(Term::Int(c as i64))
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.number(),
            Some(c) if c.is_ascii_uppercase() => self.alias(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let at = self.pos;
                let word = self.identifier().to_string();
                match word.as_str() {
                    "true" | "false" | "nil" => Ok(Term::atom(&word)),
                    _ => {
                        self.pos = at;
                        Err(self.err_msg(format!(
                            "`{word}` is a variable or a call, not a literal (an atom is `:{word}`)"
                        )))
                    }
                }
            }
            _ => Err(self.err("a term")),
        }
    }

    fn identifier(&mut self) -> &str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        if matches!(self.peek(), Some('?' | '!')) {
            self.bump();
        }
        &self.s[start..self.pos]
    }

    /// `Foo.Bar` → `Elixir.Foo.Bar`.
    fn alias(&mut self) -> Result<Term, ParseError> {
        let start = self.pos;
        loop {
            if !matches!(self.peek(), Some(c) if c.is_ascii_uppercase()) {
                return Err(self.err("an alias (`Foo.Bar`)"));
            }
            while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
                self.bump();
            }
            let save = self.pos;
            if self.eat(".") && matches!(self.peek(), Some(c) if c.is_ascii_uppercase()) {
                continue;
            }
            self.pos = save;
            break;
        }
        Ok(Term::atom(format!("Elixir.{}", &self.s[start..self.pos])))
    }

    /// `:name`, `:"quoted"`, `:Name` (no prefix), operators such as `:+`.
    fn atom(&mut self) -> Result<Term, ParseError> {
        self.bump();
        match self.peek() {
            Some('"') => Ok(Term::atom(self.quoted('"')?)),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_' || c == '@') {
                    self.bump();
                }
                if matches!(self.peek(), Some('?' | '!')) {
                    self.bump();
                }
                // `:Foo.Bar` is one atom in Elixir too.
                while self.rest().starts_with('.')
                    && matches!(self.rest()[1..].chars().next(), Some(c) if c.is_alphabetic())
                {
                    self.bump();
                    while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
                        self.bump();
                    }
                }
                Ok(Term::atom(&self.s[start..self.pos]))
            }
            _ => {
                const OPS: &[&str] = &[
                    "===", "!==", "==", "!=", "<=", ">=", "&&", "||", "<>", "++", "--", "..", "::", "|>",
                    "+", "-", "*", "/", "<", ">", "!", "^", "&", "|", "@", "=",
                ];
                for op in OPS {
                    if self.eat(op) {
                        return Ok(Term::atom(op));
                    }
                }
                Err(self.err("an atom name after `:`"))
            }
        }
    }

    fn number(&mut self) -> Result<Term, ParseError> {
        let start = self.pos;
        let negative = self.eat("-");
        if !negative {
            self.eat("+");
        }
        let digits_start = self.pos;
        let radix = if self.eat("0x") {
            16
        } else if self.eat("0b") {
            2
        } else if self.eat("0o") {
            8
        } else {
            10
        };
        let body_start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_digit(radix) || c == '_') {
            self.bump();
        }
        let mut float = false;
        if radix == 10
            && self.rest().starts_with('.')
            && matches!(self.rest()[1..].chars().next(), Some(c) if c.is_ascii_digit())
        {
            float = true;
            self.bump();
            while matches!(self.peek(), Some(c) if c.is_ascii_digit() || c == '_') {
                self.bump();
            }
            if matches!(self.peek(), Some('e' | 'E')) {
                self.bump();
                if !self.eat("-") {
                    self.eat("+");
                }
                while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                    self.bump();
                }
            }
        }
        let body: String = self.s[body_start..self.pos].chars().filter(|&c| c != '_').collect();
        if body.is_empty() {
            self.pos = start;
            return Err(self.err("a number"));
        }
        if float {
            let text: String = self.s[digits_start..self.pos].chars().filter(|&c| c != '_').collect();
            let x: f64 = text.parse().map_err(|_| self.err_msg(format!("bad float {text}")))?;
            return Ok(Term::Float(if negative { -x } else { x }));
        }
        let mut n = BigInt::parse_bytes(body.as_bytes(), radix)
            .ok_or_else(|| self.err_msg(format!("bad number {body}")))?;
        if negative {
            n = -n;
        }
        Ok(Term::from(n))
    }

    /// A string body up to the closing `quote`, with Elixir's escapes.
    fn quoted(&mut self, quote: char) -> Result<String, ParseError> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err_msg(format!("unterminated string: no closing {quote}"))),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => out.push(self.escape()?),
                Some('#') if self.peek() == Some('{') => {
                    self.pos -= 1;
                    return Err(self.err_msg("interpolation (#{…}) is not a literal".to_string()));
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, ParseError> {
        Ok(match self.bump() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('s') => ' ',
            Some('e') => '\u{1b}',
            Some('0') => '\0',
            Some('a') => '\u{7}',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('v') => '\u{b}',
            Some('d') => '\u{7f}',
            Some('x') => {
                let hex = if self.eat("{") {
                    let start = self.pos;
                    while matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
                        self.bump();
                    }
                    let h = self.s[start..self.pos].to_string();
                    if !self.eat("}") {
                        return Err(self.err("`}`"));
                    }
                    h
                } else {
                    let start = self.pos;
                    for _ in 0..2 {
                        if matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
                            self.bump();
                        }
                    }
                    self.s[start..self.pos].to_string()
                };
                self.code_point(&hex)?
            }
            Some('u') => {
                let hex = if self.eat("{") {
                    let start = self.pos;
                    while matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
                        self.bump();
                    }
                    let h = self.s[start..self.pos].to_string();
                    if !self.eat("}") {
                        return Err(self.err("`}`"));
                    }
                    h
                } else {
                    let start = self.pos;
                    for _ in 0..4 {
                        self.bump();
                    }
                    self.s[start..self.pos.min(self.s.len())].to_string()
                };
                self.code_point(&hex)?
            }
            Some(c) => c,
            None => return Err(self.err("an escaped character")),
        })
    }

    fn code_point(&self, hex: &str) -> Result<char, ParseError> {
        u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| self.err_msg(format!("bad escape \\x{{{hex}}}")))
    }

    /// `~c"…"` (or `~c'…'`, `~c[…]`…): a charlist. Other sigils are not literals of terms.
    fn sigil(&mut self) -> Result<Term, ParseError> {
        if !self.rest().starts_with("~c") {
            return Err(self.err("a literal (only the ~c sigil is one)"));
        }
        self.pos += 2;
        let close = match self.peek() {
            Some('"') => '"',
            Some('\'') => '\'',
            Some('(') => ')',
            Some('[') => ']',
            Some('{') => '}',
            Some('<') => '>',
            Some('/') => '/',
            Some('|') => '|',
            _ => return Err(self.err("a sigil delimiter")),
        };
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err_msg(format!("unterminated sigil: no closing {close}"))),
                Some(c) if c == close => break,
                Some('\\') => s.push(self.escape()?),
                Some(c) => s.push(c),
            }
        }
        Ok(Term::list(s.chars().map(|c| Term::Int(c as i64))))
    }

    /// Comma-separated terms up to `close`, with a keyword tail (`a: 1, b: 2`) allowed.
    fn items(&mut self, close: char) -> Result<Vec<Term>, ParseError> {
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.bump();
                return Ok(items);
            }
            if let Some(key) = self.keyword_key()? {
                self.ws();
                let v = self.term()?;
                items.push(Term::tuple([key, v]));
            } else {
                items.push(self.term()?);
            }
            self.ws();
            if !self.eat(",") {
                self.ws();
                if self.peek() == Some(close) {
                    self.bump();
                    return Ok(items);
                }
                return Err(self.err(&format!("`,` or `{close}`")));
            }
        }
    }

    /// `key: ` or `"quoted key": ` as an atom; `None` (nothing consumed) otherwise.
    fn keyword_key(&mut self) -> Result<Option<Term>, ParseError> {
        let at = self.pos;
        if self.peek() == Some('"') {
            let key = self.quoted('"')?;
            if self.eat(":") && matches!(self.peek(), Some(c) if c.is_whitespace()) {
                return Ok(Some(Term::atom(key)));
            }
            self.pos = at;
            return Ok(None);
        }
        if matches!(self.peek(), Some(c) if c.is_alphabetic() || c == '_') {
            let key = self.identifier().to_string();
            if self.eat(":") && matches!(self.peek(), Some(c) if c.is_whitespace()) {
                return Ok(Some(Term::atom(key)));
            }
        }
        self.pos = at;
        Ok(None)
    }

    fn list(&mut self) -> Result<Term, ParseError> {
        self.bump();
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.eat("]") {
                return Ok(Term::List(items));
            }
            if let Some(key) = self.keyword_key()? {
                self.ws();
                let v = self.term()?;
                items.push(Term::tuple([key, v]));
            } else {
                items.push(self.term()?);
                self.ws();
                // `[head | tail]`
                if self.eat("|") {
                    self.ws();
                    let tail = self.term()?;
                    self.ws();
                    if !self.eat("]") {
                        return Err(self.err("`]`"));
                    }
                    if matches!(tail, Term::List(_)) {
                        items.extend(tail.into_items().expect("a list"));
                        return Ok(Term::List(items));
                    }
                    return Ok(Term::ImproperList(items, Box::new(tail)));
                }
            }
            self.ws();
            if !self.eat(",") {
                self.ws();
                if self.eat("]") {
                    return Ok(Term::List(items));
                }
                return Err(self.err("`,` or `]`"));
            }
        }
    }

    /// `%{k => v, a: 1}`.
    fn map(&mut self) -> Result<Term, ParseError> {
        if !self.eat("%{") {
            return Err(self.err("`%{` (structs are not literals here; write the map)"));
        }
        let mut pairs = Vec::new();
        loop {
            self.ws();
            if self.eat("}") {
                return Ok(Term::map(pairs));
            }
            if let Some(key) = self.keyword_key()? {
                self.ws();
                pairs.push((key, self.term()?));
            } else {
                let k = self.term()?;
                self.ws();
                if !self.eat("=>") {
                    return Err(self.err("`=>`"));
                }
                self.ws();
                pairs.push((k, self.term()?));
            }
            self.ws();
            if !self.eat(",") {
                self.ws();
                if self.eat("}") {
                    return Ok(Term::map(pairs));
                }
                return Err(self.err("`,` or `}`"));
            }
        }
    }

    /// `<<1, 2, "text">>`: bytes and UTF-8 strings.
    fn bitstring(&mut self) -> Result<Term, ParseError> {
        self.pos += 2;
        let mut bytes = Vec::new();
        loop {
            self.ws();
            if self.eat(">>") {
                return Ok(Term::Binary(Bytes::from(bytes)));
            }
            match self.peek() {
                Some('"') => bytes.extend_from_slice(self.quoted('"')?.as_bytes()),
                _ => match self.number()? {
                    Term::Int(i) if (0..=255).contains(&i) => bytes.push(i as u8),
                    _ => return Err(self.err_msg("a byte is an integer from 0 to 255".to_string())),
                },
            }
            self.ws();
            if self.rest().starts_with("::") {
                return Err(self.err_msg("segment types (::) are not supported: write bytes".to_string()));
            }
            if !self.eat(",") {
                self.ws();
                if self.eat(">>") {
                    return Ok(Term::Binary(Bytes::from(bytes)));
                }
                return Err(self.err("`,` or `>>`"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::ElixirDisplay;

    fn p(s: &str) -> Term {
        parse_elixir(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// What each literal reads as, checked by printing it back as Elixir 1.14 does.
    #[test]
    fn literals_read_back_as_elixir_prints_them() {
        for (text, printed) in [
            ("[:hoge, \"text\", %{a: 1}, {:ok, 1}, [a: 1]]", "[:hoge, \"text\", %{a: 1}, {:ok, 1}, [a: 1]]"),
            ("1_000", "1000"),
            ("-0x1F", "-31"),
            ("0b101", "5"),
            ("?a", "97"),
            ("1.5e3", "1500.0"),
            ("-2.5", "-2.5"),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            (":\"with space\"", ":\"with space\""),
            (":ok?", ":ok?"),
            (":erlang", ":erlang"),
            (":+", ":+"),
            ("Person", "Person"),
            ("Foo.Bar", "Foo.Bar"),
            ("true", "true"),
            ("nil", "nil"),
            ("'abc'", "'abc'"),
            ("~c\"abc\"", "'abc'"),
            ("\"日本\\n\"", "\"日本\\n\""),
            ("\"\\u{65E5}\"", "\"日\""),
            ("[1, 2 | [3]]", "[1, 2, 3]"),
            ("[1 | 2]", "[1 | 2]"),
            ("[1, a: 2, b: 3]", "[1, {:a, 2}, {:b, 3}]"),
            // Pairs in the order written; the node orders its map itself.
            ("%{\"k\" => [1], 1 => 2}", "%{\"k\" => [1], 1 => 2}"),
            ("%{\"quoted key\": 1}", "%{\"quoted key\": 1}"),
            ("<<1, 2, \"é\">>", "<<1, 2, 195, 169>>"),
            ("{}", "{}"),
            ("[]", "[]"),
            ("%{}", "%{}"),
            ("  [1, # comment\n 2]  ", "[1, 2]"),
        ] {
            assert_eq!(ElixirDisplay(&p(text)).to_string(), printed, "{text}");
        }
        assert_eq!(p("Person"), Term::atom("Elixir.Person"));
        assert_eq!(p("\"日本\""), Term::binary("日本".as_bytes()));
    }

    #[test]
    fn what_is_not_a_literal_is_refused_where_it_starts() {
        for (text, at, needle) in [
            ("[1, x]", 5, "variable"),
            ("\"a#{b}\"", 3, "interpolation"),
            ("%URI{}", 1, "structs"),
            ("~r/a/", 1, "~c"),
            ("[1, 2", 6, "`,` or `]`"),
            ("<<1::8>>", 4, "segment types"),
            ("<<256>>", 6, "0 to 255"),
            ("{1 2}", 4, "`,` or `}`"),
        ] {
            let e = parse_elixir(text).unwrap_err();
            assert_eq!((e.line, e.column), (1, at), "{text}: {e}");
            assert!(e.message.contains(needle), "{text}: {e}");
        }
    }
}
