//! x
pub struct ElixirDisplay<'a>(pub &'a super::Term);
