//! Standard output as a command writes it: every write is checked. A closed pipe (`| head`)
//! ends the command quietly, as it ends other Unix tools; any other failure (a full disk) is
//! an error exit. Nothing here panics, unlike `println!`.

use std::fmt::Display;
use std::io::{self, Write};

use crate::cmd::Failure;
use crate::exit;

/// Writes to stdout, turning write errors into the command's failure. What remote code
/// prints goes through [`printed`](Self::printed): straight out, or (for `--json`) kept for
/// the document's `"output"` field.
#[derive(Default)]
pub struct Out {
    keep: Option<String>,
}

impl Out {
    /// An `Out` that keeps printed text for a JSON document when `json` is set.
    pub fn new(json: bool) -> Out {
        Out { keep: json.then(String::new) }
    }

    /// Text the remote code printed.
    pub fn printed(&mut self, s: &str) -> Result<(), Failure> {
        match &mut self.keep {
            Some(k) => {
                k.push_str(s);
                Ok(())
            }
            None => {
                self.write(s)?;
                self.flush()
            }
        }
    }

    /// The printed text kept so far (for `--json`).
    pub fn kept(&self) -> &str {
        self.keep.as_deref().unwrap_or("")
    }

    pub fn write(&mut self, s: &str) -> Result<(), Failure> {
        io::stdout().write_all(s.as_bytes()).map_err(failure)
    }

    pub fn line(&mut self, s: impl Display) -> Result<(), Failure> {
        let mut o = io::stdout().lock();
        writeln!(o, "{s}").map_err(failure)
    }

    /// Pushes out what is buffered: a full disk is often only seen here.
    pub fn flush(&mut self) -> Result<(), Failure> {
        io::stdout().flush().map_err(failure)
    }
}

fn failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure { code: exit::CLOSED_PIPE, message: String::new() }
    } else {
        Failure { code: exit::CANNOT_WRITE, message: format!("cannot write the output: {e}") }
    }
}

/// A line on stderr; if stderr is gone too there is nobody left to tell.
pub fn warn(message: impl Display) {
    let _ = writeln!(io::stderr(), "beamlink: {message}");
}
