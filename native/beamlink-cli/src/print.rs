//! Terms as text: Erlang syntax by default, Elixir with `--elixir`.

use beamlink::term::{ElixirDisplay, Term};

pub fn term(t: &Term, elixir: bool) -> String {
    if elixir { ElixirDisplay(t).to_string() } else { t.to_string() }
}
