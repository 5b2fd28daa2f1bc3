//! The distribution cookie: a shared secret that must never reach a log, an error message,
//! `Debug` output or a panic, and whose memory is zeroed when it is dropped.
//!
//! ```
//! use beamlink::cookie::Cookie;
//! let c = Cookie::new("secret");
//! assert_eq!(format!("{c} {c:?}"), "Cookie(***) Cookie(***)");
//! assert_eq!(c.expose(), "secret");
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// A cookie. `Debug` and `Display` hide the value; use [`Cookie::expose`] to read it. The
/// bytes are overwritten with zeros when the last copy is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie(Zeroizing<String>);

impl From<String> for Cookie {
    fn from(s: String) -> Cookie {
        Cookie::new(s)
    }
}

impl From<&str> for Cookie {
    fn from(s: &str) -> Cookie {
        Cookie::new(s)
    }
}

impl std::str::FromStr for Cookie {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Cookie, Self::Err> {
        Ok(Cookie::new(s))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CookieError {
    #[error("$HOME is not set: cannot find .erlang.cookie")]
    NoHome,
    #[error("cannot read cookie file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cookie file {path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error(
        "cookie file {path} must be accessible by owner only (its mode is {mode:04o}; run `chmod 400 {path}`)"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error(
        "bad characters in cookie file {path}: only printable ASCII on the first line, nothing but blanks after it"
    )]
    BadCharacters { path: PathBuf },
    #[error("cookie file {path} is empty")]
    Empty { path: PathBuf },
}

impl Cookie {
    pub fn new(s: impl Into<String>) -> Cookie {
        Cookie(Zeroizing::new(s.into()))
    }

    /// The secret itself, for computing digests.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads `$HOME/.erlang.cookie` with `erl`'s rules (kernel `auth`): owner-only permissions,
    /// the first line is the cookie, only CR, LF and spaces may follow it. Unlike `erl` it never
    /// creates the file.
    ///
    /// ```no_run
    /// let cookie = beamlink::cookie::Cookie::from_home()?;
    /// # Ok::<(), beamlink::cookie::CookieError>(())
    /// ```
    pub fn from_home() -> Result<Cookie, CookieError> {
        let home = std::env::var_os("HOME").ok_or(CookieError::NoHome)?;
        Self::from_file(Path::new(&home).join(".erlang.cookie"))
    }

    /// Reads a cookie file with the same rules as [`Cookie::from_home`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Cookie, CookieError> {
        let path = path.as_ref().to_path_buf();
        let read_err = |source| CookieError::Read { path: path.clone(), source };
        let meta = std::fs::metadata(&path).map_err(read_err)?;
        if !meta.is_file() {
            return Err(CookieError::NotAFile { path });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(CookieError::Permissions { path, mode });
            }
        }
        let bytes = Zeroizing::new(std::fs::read(&path).map_err(read_err)?);
        Self::parse_file_contents(&bytes).map_err(|e| match e {
            ParseError::Bad => CookieError::BadCharacters { path },
            ParseError::Empty => CookieError::Empty { path },
        })
    }

    fn parse_file_contents(bytes: &[u8]) -> Result<Cookie, ParseError> {
        let end = bytes.iter().position(|b| *b == b'\n' || *b == b'\r').unwrap_or(bytes.len());
        let (first, rest) = bytes.split_at(end);
        // Trailing spaces on the first line stay part of the cookie, as in erl's auth.erl.
        if !first.iter().all(|b| (0x20..0x7f).contains(b)) {
            return Err(ParseError::Bad);
        }
        if !rest.iter().all(|b| matches!(b, b'\n' | b'\r' | b' ')) {
            return Err(ParseError::Bad);
        }
        if first.is_empty() {
            return Err(ParseError::Empty);
        }
        // `first` is printable ASCII, so this is valid UTF-8; no unzeroed copy is left behind.
        let mut s = Zeroizing::new(String::with_capacity(first.len()));
        s.extend(first.iter().map(|&b| b as char));
        Ok(Cookie(s))
    }
}

enum ParseError {
    Bad,
    Empty,
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cookie(***)")
    }
}

impl fmt::Display for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cookie(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, contents: &[u8], mode: u32) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("beamlink-cookie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        p
    }

    #[test]
    fn parses_like_erl() {
        let p = tmp("ok", b"secretcookie\n  \n", 0o400);
        assert_eq!(Cookie::from_file(&p).unwrap().expose(), "secretcookie");
        let p = tmp("nonl", b"ABC", 0o600);
        assert_eq!(Cookie::from_file(&p).unwrap().expose(), "ABC");
        let p = tmp("junk", b"abc\nxyz\n", 0o600);
        assert!(matches!(Cookie::from_file(&p), Err(CookieError::BadCharacters { .. })));
        // Measured with erl 25: "abc  \n \n" gives 'abc  ', a tab is "Bad characters in cookie".
        let p = tmp("spaces", b"abc  \n \n", 0o400);
        assert_eq!(Cookie::from_file(&p).unwrap().expose(), "abc  ");
        let p = tmp("tab", b"ab\tc\n", 0o400);
        assert!(matches!(Cookie::from_file(&p), Err(CookieError::BadCharacters { .. })));
        let p = tmp("empty", b"\n", 0o600);
        assert!(matches!(Cookie::from_file(&p), Err(CookieError::Empty { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_group_readable() {
        let p = tmp("open", b"secret\n", 0o644);
        let e = Cookie::from_file(&p).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("owner only") && msg.contains("0644"), "{msg}");
        assert!(!msg.contains("secret\n"));
    }

    #[test]
    fn never_printed() {
        let c = Cookie::new("hunter2");
        assert!(!format!("{c:?}{c}").contains("hunter2"));
    }
}
