// Lets `cargo build/clippy --workspace` link this crate against the Python it found (pyenv's
// libpython is not on the default search path); maturin's wheel builds do not need it.
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
