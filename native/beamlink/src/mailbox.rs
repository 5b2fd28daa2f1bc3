//! A process's mailbox: a queue many senders push to and one process takes from.
//!
//! A plain queue under a lock plus a `Notify`, rather than a channel: an idle mailbox costs a
//! few words, where a channel preallocates a block of slots for every process (and a call in
//! flight is a process).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::message::Message;

#[derive(Default)]
pub(crate) struct Mailbox {
    queue: Mutex<VecDeque<Message>>,
    /// `notify_one` leaves a permit when the owner is not waiting, so no push is missed.
    ready: Notify,
}

impl Mailbox {
    pub(crate) fn push(&self, m: Message) {
        self.queue.lock().unwrap().push_back(m);
        self.ready.notify_one();
    }

    pub(crate) fn try_pop(&self) -> Option<Message> {
        self.queue.lock().unwrap().pop_front()
    }

    /// The next message, waiting as long as it takes (cancel-safe: nothing is taken until it
    /// is returned).
    pub(crate) async fn pop(&self) -> Message {
        loop {
            if let Some(m) = self.try_pop() {
                return m;
            }
            self.ready.notified().await;
        }
    }
}
