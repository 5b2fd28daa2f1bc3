//! The shell's line editor (rustyline: editing, history) on a thread of its own, since reading
//! a line blocks; the async shell asks it for lines with a prompt and awaits the answer.
//! Started only by `shell`, so no other command pays for it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use rustyline::error::ReadlineError;
use rustyline::{DefaultEditor, ExternalPrinter};
use tokio::sync::oneshot;

/// What reading a line gave.
pub enum Read {
    Line(String),
    /// Ctrl-C while reading.
    Interrupted,
    /// Ctrl-D on an empty line, or the end of input.
    Eof,
}

type Printer = Box<dyn ExternalPrinter + Send>;

pub struct LineEditor {
    requests: Option<mpsc::Sender<(String, oneshot::Sender<Read>)>>,
    /// Prints above the line being edited (output that arrives while the prompt is shown).
    printer: Option<Printer>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Whether the thread is inside `readline` (then it cannot be waited for at the end).
    reading: Arc<AtomicBool>,
}

impl LineEditor {
    /// Starts the editor with the history in `history` (read now, written at the end).
    pub fn start(history: Option<PathBuf>) -> std::io::Result<LineEditor> {
        let mut rl = DefaultEditor::new().map_err(std::io::Error::other)?;
        if let Some(h) = &history {
            let _ = rl.load_history(h);
        }
        let printer = rl.create_external_printer().ok().map(|p| Box::new(p) as Printer);
        let (tx, rx) = mpsc::channel::<(String, oneshot::Sender<Read>)>();
        let reading = Arc::new(AtomicBool::new(false));
        let busy = reading.clone();
        let thread = std::thread::spawn(move || {
            while let Ok((prompt, reply)) = rx.recv() {
                busy.store(true, Ordering::SeqCst);
                let line = rl.readline(&prompt);
                busy.store(false, Ordering::SeqCst);
                let read = match line {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = rl.add_history_entry(line.as_str());
                        }
                        Read::Line(line)
                    }
                    Err(ReadlineError::Interrupted) => Read::Interrupted,
                    Err(_) => Read::Eof,
                };
                let _ = reply.send(read);
            }
            if let Some(h) = &history {
                let _ = rl.save_history(h);
            }
        });
        Ok(LineEditor { requests: Some(tx), printer, thread: Some(thread), reading })
    }

    /// Reads one line after showing `prompt`.
    pub async fn read(&self, prompt: &str) -> Read {
        let (reply, answer) = oneshot::channel();
        if !self.read_request(prompt, reply) {
            return Read::Eof;
        }
        answer.await.unwrap_or(Read::Eof)
    }

    /// Asks for a line; the answer comes on `reply`. `false` if the editor is gone.
    pub fn read_request(&self, prompt: &str, reply: oneshot::Sender<Read>) -> bool {
        match &self.requests {
            Some(r) => r.send((prompt.to_string(), reply)).is_ok(),
            None => false,
        }
    }

    /// Shows `text` while a line is being read (above it), without garbling the line.
    pub fn print_above(&mut self, text: &str) -> bool {
        match &mut self.printer {
            Some(p) => p.print(text.to_string()).is_ok(),
            None => false,
        }
    }
}

impl Drop for LineEditor {
    /// Lets the thread save the history and end (unless it is blocked reading a line: we
    /// are leaving on a signal, and the process exit ends it).
    fn drop(&mut self) {
        self.requests.take();
        if let Some(t) = self.thread.take()
            && !self.reading.load(Ordering::SeqCst)
        {
            let _ = t.join();
        }
    }
}
