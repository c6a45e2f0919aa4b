//! A one-group lookahead over the tokenizer, with the cooperative guards: every so many groups it
//! asks the caller's cancel hook and checks the deadline. When a guard trips, the cursor reports
//! the end of the input, so every loop of the reader ends on its own and `read` returns the error.

use std::time::Instant;

use super::tokenizer::{Group, Next, Tokenizer};
use crate::ReadError;
use crate::diagnostics::{DiagnosticCode, DiagnosticSink, Location};

/// How often (in groups) the guards are polled: often enough to stop within a millisecond or so,
/// rarely enough that `Instant::now` does not show in profiles.
const POLL_EVERY: u32 = 4096;

pub(crate) struct Cursor<'a, 'o> {
    tok: Tokenizer<'a>,
    peeked: Option<Group<'a>>,
    deadline: Option<Instant>,
    cancel: Option<&'o (dyn Fn() -> bool + Sync + std::panic::RefUnwindSafe)>,
    until_poll: u32,
    stopped: Option<ReadError>,
    ended: bool,
}

impl<'a, 'o> Cursor<'a, 'o> {
    pub fn new(
        tok: Tokenizer<'a>,
        deadline: Option<Instant>,
        cancel: Option<&'o (dyn Fn() -> bool + Sync + std::panic::RefUnwindSafe)>,
    ) -> Self {
        Cursor { tok, peeked: None, deadline, cancel, until_poll: POLL_EVERY, stopped: None, ended: false }
    }

    pub fn location(&self, at: u32) -> Location {
        self.tok.location(at)
    }

    pub fn is_binary(&self) -> bool {
        self.tok.is_binary()
    }

    /// Stops reading with `error`: from now on the cursor is at the end.
    pub fn stop(&mut self, error: ReadError) {
        if self.stopped.is_none() {
            self.stopped = Some(error);
        }
        self.peeked = None;
        self.ended = true;
    }

    pub fn take_stop(&mut self) -> Option<ReadError> {
        self.stopped.take()
    }

    /// Bytes left after the cursor (and after any peeked group).
    pub fn rest_len(&self) -> usize {
        self.tok.rest().len()
    }

    fn poll_guards(&mut self) {
        self.until_poll = POLL_EVERY;
        if self.cancel.is_some_and(|cancelled| cancelled()) {
            self.stop(ReadError::Cancelled);
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stop(ReadError::DeadlineExceeded);
        }
    }

    /// Counts a group against the polling interval; false when a guard has stopped the read.
    #[inline]
    fn tick(&mut self) -> bool {
        self.until_poll -= 1;
        if self.until_poll == 0 {
            self.poll_guards();
        }
        !self.ended
    }

    /// Handles what the tokenizer returns besides a group: notes it, or ends the input.
    #[cold]
    fn irregular(&mut self, next: Next<'a>, diag: &mut DiagnosticSink) {
        match next {
            Next::Group(g) => self.peeked = Some(g),
            Next::BadCode { at, line } => {
                let shown = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
                diag.warn(
                    DiagnosticCode::MalformedGroupCode,
                    Some(self.location(at)),
                    format!("expected a group code, found {shown:?}; skipped the line"),
                );
            }
            Next::Truncated { at } => {
                diag.warn(DiagnosticCode::Truncated, Some(self.location(at)), "the file ends in the middle of a group");
                self.ended = true;
            }
            Next::End => self.ended = true,
        }
    }

    fn fill(&mut self, diag: &mut DiagnosticSink) {
        while self.peeked.is_none() && self.tick() {
            match self.tok.next_group() {
                Next::Group(g) => self.peeked = Some(g),
                other => self.irregular(other, diag),
            }
        }
    }

    #[inline]
    pub fn peek(&mut self, diag: &mut DiagnosticSink) -> Option<&Group<'a>> {
        if self.peeked.is_none() {
            self.fill(diag);
        }
        self.peeked.as_ref()
    }

    #[inline]
    pub fn next(&mut self, diag: &mut DiagnosticSink) -> Option<Group<'a>> {
        if self.peeked.is_none() {
            self.fill(diag);
        }
        self.peeked.take()
    }

    /// The value of the next group when its code is 0 (the start of a record), without taking it.
    pub fn peek_record(&mut self, diag: &mut DiagnosticSink) -> Option<&'a [u8]> {
        self.peek(diag).filter(|g| g.code == 0).map(|g| g.raw())
    }

    /// Takes the groups after a record's `0` group up to the next `0` group into `buf` (cleared
    /// first) and returns the record's `0` group. The next group must have code 0.
    pub fn read_record(&mut self, buf: &mut Vec<Group<'a>>, diag: &mut DiagnosticSink) -> Option<Group<'a>> {
        buf.clear();
        let head = self.next(diag)?;
        // The hot loop of the reader: straight from the tokenizer into the buffer.
        while self.tick() {
            match self.tok.next_group() {
                Next::Group(g) if g.code != 0 => buf.push(g),
                Next::Group(g) => {
                    self.peeked = Some(g);
                    break;
                }
                other => self.irregular(other, diag),
            }
        }
        Some(head)
    }
}
