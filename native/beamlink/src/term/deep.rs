//! Stack safety for deeply nested terms.
//!
//! BEAM accepts terms of any depth (a left-nested iolist built by `lists:foldl/3` over a million
//! lines is ordinary Erlang), and a term that deep would overflow any thread stack if decoding,
//! encoding, printing, comparing, cloning or dropping it recursed on that stack. Recursion is
//! kept (it is the fastest way through shallow terms, which are nearly all of them), but past a
//! shallow depth each level checks the stack left and, when it runs low, continues on a fresh
//! heap-allocated segment. Dropping is different: it needs no result, so a deep term is taken
//! apart iteratively instead, with no extra stack or heap segments at all.

use std::cell::Cell;

use super::types::Term;

/// Stack left below which nesting moves to a new segment, and that segment's size.
const RED_ZONE: usize = 128 * 1024;
const SEGMENT: usize = 4 * 1024 * 1024;
/// Nesting below this depth always fits the red zone, so it skips the check (whose first use on
/// a thread reads the thread's stack bounds).
pub(crate) const SHALLOW: usize = 16;
/// Nesting at which `Drop` switches from recursion to taking the term apart on a heap stack.
const DROP_RECURSION: usize = 64;

/// Runs `f`, one nesting level at `depth`, on a stack with room for it: past a shallow depth,
/// on a fresh heap-allocated segment when the current stack runs low. Recursive code over terms
/// (the bindings' conversions included) wraps each level in it.
///
/// ```
/// use beamlink::term::{nested, Term};
/// fn depth(t: &Term, d: usize) -> usize {
///     nested(d, || match t {
///         Term::List(items) if !items.is_empty() => 1 + items.iter().map(|i| depth(i, d + 1)).max().unwrap(),
///         _ => 0,
///     })
/// }
/// let mut t = Term::nil();
/// for _ in 0..100_000 {
///     t = Term::list([t]);
/// }
/// // 100 000 levels of recursion on a 256 KiB thread stack.
/// let d = std::thread::Builder::new()
///     .stack_size(256 * 1024)
///     .spawn(move || depth(&t, 0))
///     .unwrap()
///     .join()
///     .unwrap();
/// assert_eq!(d, 100_000);
/// ```
#[inline(always)]
pub fn nested<R>(depth: usize, f: impl FnOnce() -> R) -> R {
    if depth < SHALLOW { f() } else { grow(f) }
}

#[inline(never)]
fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

thread_local! {
    /// Nesting of the trait methods below, which have no depth parameter of their own.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// [`nested`] for recursive code that cannot pass the depth along (`Clone`, `Debug`, `==`,
/// `Display`): the depth is counted per thread.
pub(crate) fn descend<R>(f: impl FnOnce() -> R) -> R {
    struct Up(usize);
    impl Drop for Up {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(self.0));
        }
    }
    let depth = DEPTH.with(|d| {
        let v = d.get();
        d.set(v + 1);
        v
    });
    let _up = Up(depth);
    nested(depth, f)
}

/// Whether `t` is of a kind that holds other terms (so recursing into it goes one level down).
#[inline]
pub(crate) fn is_container(t: &Term) -> bool {
    matches!(t, Term::Tuple(_) | Term::List(_) | Term::ImproperList(..) | Term::Map(_) | Term::Fun(_))
}

/// Runs `f` one level down when `t` is a container (see [`descend`]), directly otherwise.
#[inline]
pub(crate) fn around<R>(t: &Term, f: impl FnOnce() -> R) -> R {
    if is_container(t) { descend(f) } else { f() }
}

impl Term {
    /// Whether this term holds other terms right now (dropping it drops them).
    #[inline(always)]
    fn has_elements(&self) -> bool {
        match self {
            Term::Tuple(v) | Term::List(v) => !v.is_empty(),
            Term::Map(p) => !p.is_empty(),
            Term::ImproperList(..) => true,
            Term::Fun(f) => !f.free_vars.is_empty(),
            _ => false,
        }
    }

    /// Runs `f` on every element of this container, in place.
    #[inline(always)]
    fn each_element(&mut self, mut f: impl FnMut(&mut Term)) {
        match self {
            Term::Tuple(v) | Term::List(v) => v.iter_mut().for_each(f),
            Term::Map(p) => p.iter_mut().for_each(|(k, v)| {
                f(k);
                f(v);
            }),
            Term::ImproperList(v, tail) => {
                v.iter_mut().for_each(&mut f);
                f(tail);
            }
            Term::Fun(fun) => fun.free_vars.iter_mut().for_each(f),
            _ => {}
        }
    }

    /// Drops the elements of this container (leaving it empty) without the drop glue's call
    /// per element: elements that own nothing are skipped, containers are emptied first.
    /// Recursion goes `budget` levels deep; below that the rest is taken apart on a heap stack.
    #[inline(never)]
    fn drop_elements(&mut self, budget: usize) {
        match self {
            Term::Tuple(v) | Term::List(v) => drop_vec(v, budget),
            Term::Map(p) => {
                let mut pairs = std::mem::take(p);
                let len = pairs.len();
                // SAFETY: as in `drop_vec`, each key and value is dropped once, in place.
                unsafe {
                    pairs.set_len(0);
                    let base = pairs.as_mut_ptr();
                    for i in 0..len {
                        let (k, v) = &mut *base.add(i);
                        drop_in_place(k, budget);
                        drop_in_place(v, budget);
                    }
                }
            }
            Term::ImproperList(v, tail) => {
                drop_vec(v, budget);
                if tail.has_elements() {
                    if budget > 0 {
                        tail.drop_elements(budget - 1);
                    } else {
                        drop_deep(std::mem::take(&mut **tail));
                    }
                }
            }
            Term::Fun(f) => drop_vec(&mut f.free_vars, budget),
            _ => {}
        }
    }
}

/// Drops `t` in place: nothing to do for numbers; containers drop their elements first.
///
/// # Safety
/// `t` must not be used or dropped again.
#[inline(always)]
unsafe fn drop_in_place(t: &mut Term, budget: usize) {
    match t {
        // The commonest elements own nothing at all (an interned atom is a plain pointer).
        Term::Int(_) | Term::Float(_) => {}
        Term::Atom(a) if !a.is_counted() => {}
        _ => {
            if t.has_elements() {
                if budget > 0 {
                    t.drop_elements(budget - 1);
                } else {
                    drop_deep(std::mem::take(t));
                }
            }
            // SAFETY: the caller's promise.
            unsafe { std::ptr::drop_in_place(t) }
        }
    }
}

/// Frees `v`'s elements and its buffer; `v` is left empty.
#[inline(always)]
fn drop_vec(v: &mut Vec<Term>, budget: usize) {
    let mut items = std::mem::take(v);
    let len = items.len();
    // Length 0 first: should a drop panic, the rest leaks instead of dropping twice.
    // SAFETY: the elements are dropped below, each once, through a pointer into the buffer,
    // which `items` frees (without running element drops) when it goes out of scope.
    unsafe {
        items.set_len(0);
        let base = items.as_mut_ptr();
        for i in 0..len {
            drop_in_place(&mut *base.add(i), budget);
        }
    }
}

/// A term too deep to recurse into, taken apart on a heap stack.
#[inline(never)]
fn drop_deep(t: Term) {
    let mut stack = vec![t];
    while let Some(mut t) = stack.pop() {
        t.each_element(|e| {
            if e.has_elements() {
                stack.push(std::mem::take(e));
            }
        });
        // `t` drops here holding no container with elements: no recursion.
    }
}

impl Drop for Term {
    /// Leaves cost a discriminant check; a container drops its elements itself (recursing at
    /// most [`DROP_RECURSION`] levels, then on a heap stack) and the glue frees the rest.
    #[inline(always)]
    fn drop(&mut self) {
        if self.has_elements() {
            self.drop_elements(DROP_RECURSION);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::term::{self, Term};

    fn deep_list(n: usize) -> Term {
        let mut t = Term::nil();
        for i in 0..n {
            t = Term::list([t, Term::from(i as i64)]);
        }
        t
    }

    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap()
    }

    #[test]
    fn deep_terms_through_every_operation_on_a_small_stack() {
        on_small_stack(|| {
            let t = deep_list(200_000);
            let copy = t.clone();
            assert!(t == copy);
            assert_eq!(term::compare(&t, &copy), std::cmp::Ordering::Equal);
            let bytes = term::encode(&t);
            let back = term::Decoder::new(&bytes[1..]).with_limits(term::Limits::trusted()).term().unwrap();
            assert!(back == t);
            assert!(t.to_string().starts_with("[[[[["));
            assert!(format!("{t:?}").starts_with("List([List([List(["));
            assert!(format!("{}", term::ElixirDisplay(&t)).starts_with("[[[[["));
            drop((t, copy, back));
        });
    }

    #[test]
    fn deep_maps_tuples_and_improper_tails_drop_without_recursing() {
        on_small_stack(|| {
            let mut t = Term::nil();
            for i in 0..200_000i64 {
                t = match i % 4 {
                    0 => Term::tuple([t]),
                    1 => Term::map([(Term::from(i), t)]),
                    2 => Term::ImproperList(vec![Term::from(i)], Box::new(t)),
                    _ => Term::list([t]),
                };
            }
            let c = t.clone();
            assert!(c == t);
            drop(t);
            drop(c);
        });
    }

    #[test]
    fn chains_of_improper_tails_drop_without_recursing() {
        on_small_stack(|| {
            let mut t = Term::nil();
            for i in 0..200_000i64 {
                t = Term::ImproperList(vec![Term::from(i), Term::atom("x")], Box::new(t));
            }
            drop(t);
        });
    }
}
