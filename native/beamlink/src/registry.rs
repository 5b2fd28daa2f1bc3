//! The routing table: the node's local processes (each with its mailbox, links, monitors and
//! spawn requests) and their registered names.
//!
//! The node delivers every signal through it; it knows nothing of connections or of the
//! process handle, which sit above it (`message` → `mailbox` → `registry` → `node` →
//! `process`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::fasthash::{FastMap, FastSet};
use crate::mailbox::Mailbox;
use crate::message::Message;
use crate::term::{Atom, Pid, Reference, Term};

/// A monitor a process holds on another process or name.
pub(crate) struct Monitor {
    pub reference: Reference,
    /// The node of the target (ours for a local one).
    pub node: Atom,
    /// The pid or name monitored (a placeholder until a spawn reply names the process).
    pub target: Term,
}

/// A spawn request waiting for its reply.
pub(crate) struct Spawning {
    pub request: Reference,
    /// The node asked.
    pub node: Atom,
    /// A successful reply stays out of the mailbox: the caller waits for the monitor's DOWN.
    pub quiet: bool,
}

/// A monitor others hold on a process.
pub(crate) struct Watcher {
    pub reference: Reference,
    pub watcher: Pid,
    /// What they named, our pid or our registered name: the DOWN names it the same way.
    pub object: Term,
}

/// What the table knows of one local process.
pub(crate) struct ProcEntry {
    pub mailbox: Arc<Mailbox>,
    pub links: FastSet<Pid>,
    pub watchers: Vec<Watcher>,
    pub monitors: Few<Monitor>,
    pub spawning: Few<Spawning>,
    pub name: Option<Atom>,
}

/// Why [`Registry::register`] refused.
pub(crate) enum RegisterError {
    NameInUse,
    NoProcess,
}

pub(crate) struct Registry {
    procs: Mutex<FastMap<u32, ProcEntry>>,
    names: Mutex<FastMap<Atom, u32>>,
    next_id: AtomicU32,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry { procs: Mutex::default(), names: Mutex::default(), next_id: AtomicU32::new(1) }
    }

    /// A new process: its number and mailbox.
    pub(crate) fn spawn(&self) -> (u32, Arc<Mailbox>) {
        let mailbox = Arc::new(Mailbox::default());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let entry = ProcEntry {
            mailbox: mailbox.clone(),
            links: FastSet::default(),
            watchers: Vec::new(),
            monitors: Few::default(),
            spawning: Few::default(),
            name: None,
        };
        self.procs.lock().unwrap().insert(id, entry);
        (id, mailbox)
    }

    /// Runs `f` on process `id`'s entry (under the table's lock); `None` if it is gone.
    pub(crate) fn with<T>(&self, id: u32, f: impl FnOnce(&mut ProcEntry) -> T) -> Option<T> {
        self.procs.lock().unwrap().get_mut(&id).map(f)
    }

    /// Puts `m` in process `id`'s mailbox; false if the process is gone.
    pub(crate) fn deliver(&self, id: u32, m: Message) -> bool {
        match self.procs.lock().unwrap().get(&id) {
            Some(p) => {
                p.mailbox.push(m);
                true
            }
            None => false,
        }
    }

    /// Takes process `id` out of the table (and its name with it).
    pub(crate) fn remove(&self, id: u32) -> Option<ProcEntry> {
        let entry = self.procs.lock().unwrap().remove(&id)?;
        if let Some(n) = &entry.name {
            self.names.lock().unwrap().remove(n);
        }
        Some(entry)
    }

    pub(crate) fn register(&self, name: Atom, id: u32) -> Result<(), RegisterError> {
        let mut names = self.names.lock().unwrap();
        if names.contains_key(&name) {
            return Err(RegisterError::NameInUse);
        }
        let mut procs = self.procs.lock().unwrap();
        let p = procs.get_mut(&id).ok_or(RegisterError::NoProcess)?;
        p.name = Some(name.clone());
        names.insert(name, id);
        Ok(())
    }

    /// The process registered under `name`.
    pub(crate) fn whereis(&self, name: &Atom) -> Option<u32> {
        self.names.lock().unwrap().get(name).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.procs.lock().unwrap().len()
    }

    /// Runs `f` on every entry, under the table's lock.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u32, &mut ProcEntry)) {
        for (id, p) in self.procs.lock().unwrap().iter_mut() {
            f(*id, p);
        }
    }
}

/// A small collection whose first element is held in place: a process in a call holds one
/// monitor and one spawn request, which then cost no allocation.
pub(crate) struct Few<T> {
    first: Option<T>,
    rest: Vec<T>,
}

impl<T> Default for Few<T> {
    fn default() -> Few<T> {
        Few { first: None, rest: Vec::new() }
    }
}

impl<T> Few<T> {
    pub(crate) fn push(&mut self, v: T) {
        if self.first.is_none() {
            self.first = Some(v);
        } else {
            self.rest.push(v);
        }
    }

    pub(crate) fn find_mut(&mut self, mut pred: impl FnMut(&T) -> bool) -> Option<&mut T> {
        self.first.iter_mut().chain(self.rest.iter_mut()).find(|v| pred(v))
    }

    /// Takes out the first element matching `pred`.
    pub(crate) fn take(&mut self, mut pred: impl FnMut(&T) -> bool) -> Option<T> {
        if self.first.as_ref().is_some_and(&mut pred) {
            let v = self.first.take();
            if !self.rest.is_empty() {
                self.first = Some(self.rest.swap_remove(0));
            }
            return v;
        }
        let i = self.rest.iter().position(pred)?;
        Some(self.rest.swap_remove(i))
    }

    /// Takes out every element matching `pred`.
    pub(crate) fn take_all(&mut self, mut pred: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut out = Vec::new();
        while let Some(v) = self.take(&mut pred) {
            out.push(v);
        }
        out
    }

    pub(crate) fn into_vec(self) -> Vec<T> {
        let mut v = self.rest;
        if let Some(f) = self.first {
            v.insert(0, f);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_keeps_its_elements_whatever_is_taken() {
        let mut f = Few::default();
        for i in 0..5 {
            f.push(i);
        }
        assert_eq!(f.take(|v| *v == 0), Some(0));
        assert_eq!(f.take(|v| *v == 3), Some(3));
        assert_eq!(f.take(|v| *v == 3), None);
        *f.find_mut(|v| *v == 4).unwrap() = 40;
        let mut evens = f.take_all(|v| v % 2 == 0);
        evens.sort();
        assert_eq!(evens, [2, 40]);
        assert_eq!(f.into_vec(), [1]);
    }
}
