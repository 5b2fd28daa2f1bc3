//! Structs in Elixir syntax, as `inspect/1` prints them on Elixir 1.14: the standard library's
//! own forms (`1..3`, `MapSet.new([1, 2])`, `~D[2024-01-02]`, `~r/ab+c/i`…) and `%Mod{…}`
//! for any other map with a `__struct__` key.
//!
//! Approximations, because a term does not carry what the module knows: fields print in the
//! map's order (sorted by key) where Elixir follows the struct's definition order, and a map
//! naming a module that does not exist still prints as a struct (Elixir prints it as a map).

use std::fmt::{self, Formatter, Write};

use super::types::Term;

/// Writes `pairs` as the struct they describe; `None` (nothing written) when they are not a
/// struct: no `__struct__` key naming an `Elixir.` module, or a key that is not an atom.
pub(super) fn write(
    f: &mut Formatter<'_>,
    pairs: &[(Term, Term)],
    write_term: fn(&mut Formatter<'_>, &Term) -> fmt::Result,
    write_key: fn(&mut Formatter<'_>, &Term) -> fmt::Result,
) -> Option<fmt::Result> {
    let name = pairs.iter().find(|(k, _)| k.is_atom("__struct__"))?.1.as_atom()?;
    let short = name.strip_prefix("Elixir.")?;
    if !pairs.iter().all(|(k, _)| matches!(k, Term::Atom(_))) {
        return None;
    }
    let field = |key: &str| pairs.iter().find(|(k, _)| k.is_atom(key)).map(|(_, v)| v);
    let special = match short {
        "Range" => range(field),
        "MapSet" => return field("map").and_then(|m| mapset(f, m, write_term)),
        "Date" => iso(field).and_then(|()| date(field)).map(|d| format!("~D[{d}]")),
        "Time" => iso(field).and_then(|()| time(field)).map(|t| format!("~T[{t}]")),
        "NaiveDateTime" => iso(field).and_then(|()| Some(format!("~N[{} {}]", date(field)?, time(field)?))),
        "DateTime" => iso(field).and_then(|()| datetime(field)),
        "Regex" => regex(field),
        _ => None,
    };
    if let Some(text) = special {
        return Some(f.write_str(&text));
    }
    Some(generic(f, short, pairs, write_term, write_key))
}

/// `%Mod{k: v, …}` without the `__struct__` and `__exception__` keys.
fn generic(
    f: &mut Formatter<'_>,
    short: &str,
    pairs: &[(Term, Term)],
    write_term: fn(&mut Formatter<'_>, &Term) -> fmt::Result,
    write_key: fn(&mut Formatter<'_>, &Term) -> fmt::Result,
) -> fmt::Result {
    write!(f, "%{short}{{")?;
    let shown = pairs.iter().filter(|(k, _)| !k.is_atom("__struct__") && !k.is_atom("__exception__"));
    for (i, (k, v)) in shown.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_key(f, k)?;
        write_term(f, v)?;
    }
    f.write_char('}')
}

fn int<'a>(field: impl Fn(&str) -> Option<&'a Term>, key: &str) -> Option<i64> {
    field(key)?.as_int()
}

/// `first..last`, or `first..last//step` unless the step is 1.
fn range<'a>(field: impl Fn(&str) -> Option<&'a Term>) -> Option<String> {
    let (first, last) = (int(&field, "first")?, int(&field, "last")?);
    match field("step") {
        None => Some(format!("{first}..{last}")),
        Some(s) => match s.as_int()? {
            1 => Some(format!("{first}..{last}")),
            step => Some(format!("{first}..{last}//{step}")),
        },
    }
}

/// `MapSet.new([…])` from the set's internal map (its keys are the members).
fn mapset(
    f: &mut Formatter<'_>,
    map: &Term,
    write_term: fn(&mut Formatter<'_>, &Term) -> fmt::Result,
) -> Option<fmt::Result> {
    let Term::Map(members) = map else { return None };
    Some((|| {
        f.write_str("MapSet.new([")?;
        for (i, (k, _)) in members.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_term(f, k)?;
        }
        f.write_str("])")
    })())
}

/// Only the ISO calendar has the sigil forms.
fn iso<'a>(field: impl Fn(&str) -> Option<&'a Term>) -> Option<()> {
    field("calendar")?.is_atom("Elixir.Calendar.ISO").then_some(())
}

fn date<'a>(field: impl Fn(&str) -> Option<&'a Term>) -> Option<String> {
    let (y, m, d) = (int(&field, "year")?, int(&field, "month")?, int(&field, "day")?);
    let year = if y < 0 { format!("-{:04}", -y) } else { format!("{y:04}") };
    Some(format!("{year}-{m:02}-{d:02}"))
}

/// `HH:MM:SS` and the microseconds to the precision they carry.
fn time<'a>(field: impl Fn(&str) -> Option<&'a Term>) -> Option<String> {
    let (h, m, s) = (int(&field, "hour")?, int(&field, "minute")?, int(&field, "second")?);
    let [us, precision] = field("microsecond")?.as_tuple()? else { return None };
    let (us, precision) = (us.as_int()?, precision.as_int()?);
    let mut t = format!("{h:02}:{m:02}:{s:02}");
    if (1..=6).contains(&precision) {
        let digits = format!("{us:06}");
        t.push('.');
        t.push_str(digits.get(..precision as usize)?);
    }
    Some(t)
}

/// `~U[…Z]` in UTC; elsewhere `#DateTime<… +01:00 CET Europe/Paris>`.
fn datetime<'a>(field: impl Fn(&str) -> Option<&'a Term>) -> Option<String> {
    let (d, t) = (date(&field)?, time(&field)?);
    let zone = match field("time_zone")? {
        Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => return None,
    };
    let offset = int(&field, "utc_offset")? + int(&field, "std_offset")?;
    if zone == "Etc/UTC" && offset == 0 {
        return Some(format!("~U[{d} {t}Z]"));
    }
    let abbr = match field("zone_abbr")? {
        Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => return None,
    };
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.abs();
    Some(format!("#DateTime<{d} {t}{sign}{:02}:{:02} {abbr} {zone}>", o / 3600, o / 60 % 60))
}

/// `~r/source/opts`, with `/` in the source escaped.
fn regex<'a>(field: impl Fn(&str) -> Option<&'a Term>) -> Option<String> {
    let text = |t: &Term| match t {
        Term::Binary(b) => std::str::from_utf8(b).ok().map(str::to_string),
        _ => None,
    };
    let source = text(field("source")?)?;
    let opts = match field("opts")? {
        Term::List(l) if l.is_empty() => String::new(),
        other => text(other)?,
    };
    Some(format!("~r/{}/{opts}", source.replace('/', "\\/")))
}

#[cfg(test)]
mod tests {
    use crate::term::{ElixirDisplay, Term};

    fn strukt(name: &str, fields: &[(&str, Term)]) -> Term {
        let mut pairs = vec![(Term::atom("__struct__"), Term::atom(name))];
        pairs.extend(fields.iter().map(|(k, v)| (Term::atom(k), v.clone())));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        Term::Map(pairs)
    }

    fn ex(t: &Term) -> String {
        ElixirDisplay(t).to_string()
    }

    fn s(x: &str) -> Term {
        Term::from(x)
    }

    /// Each expected string was printed by `inspect/1` on Elixir 1.14.0, but for the field
    /// order of `%URI{}` (definition order there, key order here).
    #[test]
    fn as_elixir_1_14_prints_them() {
        let i = Term::from;
        let iso = || ("calendar", Term::atom("Elixir.Calendar.ISO"));
        let us = |v: i64, p: i64| ("microsecond", Term::tuple([i(v), i(p)]));
        let cases: Vec<(Term, &str)> = vec![
            (strukt("Elixir.Range", &[("first", i(1)), ("last", i(3)), ("step", i(1))]), "1..3"),
            (strukt("Elixir.Range", &[("first", i(1)), ("last", i(10)), ("step", i(2))]), "1..10//2"),
            (strukt("Elixir.Range", &[("first", i(3)), ("last", i(1)), ("step", i(-1))]), "3..1//-1"),
            (
                strukt(
                    "Elixir.MapSet",
                    &[("map", Term::Map((1..=3).map(|k| (i(k), Term::nil())).collect())), ("version", i(2))],
                ),
                "MapSet.new([1, 2, 3])",
            ),
            (
                strukt("Elixir.Date", &[iso(), ("year", i(2024)), ("month", i(1)), ("day", i(2))]),
                "~D[2024-01-02]",
            ),
            (
                strukt(
                    "Elixir.Time",
                    &[iso(), ("hour", i(12)), ("minute", i(0)), ("second", i(1)), us(123000, 3)],
                ),
                "~T[12:00:01.123]",
            ),
            (
                strukt(
                    "Elixir.NaiveDateTime",
                    &[
                        iso(),
                        ("year", i(2024)),
                        ("month", i(1)),
                        ("day", i(2)),
                        ("hour", i(12)),
                        ("minute", i(0)),
                        ("second", i(0)),
                        us(0, 0),
                    ],
                ),
                "~N[2024-01-02 12:00:00]",
            ),
            (
                strukt(
                    "Elixir.DateTime",
                    &[
                        iso(),
                        ("year", i(2024)),
                        ("month", i(1)),
                        ("day", i(2)),
                        ("hour", i(12)),
                        ("minute", i(0)),
                        ("second", i(0)),
                        us(0, 0),
                        ("time_zone", s("Etc/UTC")),
                        ("zone_abbr", s("UTC")),
                        ("utc_offset", i(0)),
                        ("std_offset", i(0)),
                    ],
                ),
                "~U[2024-01-02 12:00:00Z]",
            ),
            (strukt("Elixir.Regex", &[("source", s("ab+c")), ("opts", s("i"))]), "~r/ab+c/i"),
            (
                strukt(
                    "Elixir.RuntimeError",
                    &[("__exception__", Term::atom("true")), ("message", s("kaboom"))],
                ),
                "%RuntimeError{message: \"kaboom\"}",
            ),
            (
                strukt("Elixir.Version", &[("major", i(1)), ("minor", i(2)), ("patch", i(3))]),
                "%Version{major: 1, minor: 2, patch: 3}",
            ),
            (
                strukt("Elixir.URI", &[("host", s("x")), ("port", i(8)), ("scheme", s("http"))]),
                "%URI{host: \"x\", port: 8, scheme: \"http\"}",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(ex(&t), want);
        }
        // Not structs: an Erlang record-like map, a string key, a non-Elixir module.
        let plain =
            Term::Map(vec![(Term::atom("__struct__"), Term::atom("not_elixir")), (Term::atom("a"), i(1))]);
        assert_eq!(ex(&plain), "%{__struct__: :not_elixir, a: 1}");
    }
}
