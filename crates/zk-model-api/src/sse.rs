//! An incremental decoder of Server-Sent Events (the WHATWG event-stream format): bytes in, frames
//! out, whatever the chunk boundaries. Lines may end in `\n`, `\r\n` or `\r`; `:` lines are comments;
//! a frame ends at a blank line. Frames and lines are capped so a hostile stream cannot grow memory.

use thiserror::Error;

/// One event: its `event:` name (none for unnamed frames) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SseError {
    #[error("an event is larger than {0} bytes")]
    TooLarge(usize),
    #[error("an event is not valid UTF-8")]
    NotUtf8,
}

#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// A `\r` ended the last chunk: a `\n` starting the next one belongs to it.
    after_cr: bool,
    max_frame: usize,
}

impl SseDecoder {
    pub fn new(max_frame: usize) -> Self {
        Self { pending: Vec::new(), event: None, data: String::new(), has_data: false, after_cr: false, max_frame }
    }

    /// Feeds a chunk; returns the frames it completed.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<Vec<Frame>, SseError> {
        let mut frames = Vec::new();
        if self.after_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.after_cr = false;
        while let Some(end) = chunk.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.pending.extend_from_slice(&chunk[..end]);
            let line = std::mem::take(&mut self.pending);
            self.line(&line, &mut frames)?;
            let crlf = chunk[end] == b'\r' && chunk.get(end + 1) == Some(&b'\n');
            if chunk[end] == b'\r' && end + 1 == chunk.len() {
                self.after_cr = true;
            }
            chunk = &chunk[end + if crlf { 2 } else { 1 }..];
        }
        self.pending.extend_from_slice(chunk);
        if self.pending.len() > self.max_frame {
            return Err(SseError::TooLarge(self.max_frame));
        }
        Ok(frames)
    }

    /// At the end of the stream: a frame whose blank line never came is still delivered.
    pub fn finish(&mut self) -> Result<Option<Frame>, SseError> {
        let mut frames = Vec::new();
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line, &mut frames)?;
        }
        self.line(b"", &mut frames)?;
        Ok(frames.pop())
    }

    fn line(&mut self, line: &[u8], frames: &mut Vec<Frame>) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                data.pop(); // the last data line's '\n'
                frames.push(Frame { event: self.event.take(), data });
            }
            self.event = None;
            self.has_data = false;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_frame {
                    return Err(SseError::TooLarge(self.max_frame));
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            _ => {} // id, retry and unknown fields mean nothing to a chat stream
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut decoder = SseDecoder::new(1024);
        let mut all = Vec::new();
        for chunk in chunks {
            all.extend(decoder.push(chunk).expect("valid"));
        }
        all.extend(decoder.finish().expect("valid"));
        all
    }

    fn frame(event: Option<&str>, data: &str) -> Frame {
        Frame { event: event.map(str::to_owned), data: data.to_owned() }
    }

    #[test]
    fn frames_survive_any_chunking_and_line_ending() {
        let text = "event: answer\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\n\ndata: line one\ndata: line two\n\nevent: x\rdata: y\r\r";
        let expected =
            vec![frame(Some("answer"), "{\"a\":1}"), frame(None, "line one\nline two"), frame(Some("x"), "y")];
        assert_eq!(frames(&[text.as_bytes()]), expected);
        let bytes = text.as_bytes();
        for split in 1..bytes.len() {
            assert_eq!(frames(&[&bytes[..split], &bytes[split..]]), expected, "split at {split}");
        }
        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(frames(&single), expected, "one byte at a time");
    }

    #[test]
    fn multibyte_characters_split_across_chunks_are_whole() {
        let text = "data: 你好，设计师\n\n".as_bytes();
        assert_eq!(frames(&[&text[..8], &text[8..]]), vec![frame(None, "你好，设计师")]);
    }

    #[test]
    fn a_last_frame_without_its_blank_line_is_delivered() {
        assert_eq!(frames(&[b"data: [DONE]"]), vec![frame(None, "[DONE]")]);
    }

    #[test]
    fn oversized_and_invalid_frames_are_errors() {
        let mut decoder = SseDecoder::new(16);
        assert_eq!(decoder.push(b"data: 0123456789abcdef0123"), Err(SseError::TooLarge(16)));
        let mut decoder = SseDecoder::new(16);
        assert_eq!(decoder.push(b"data: 0123456789\ndata: 0123456789\n"), Err(SseError::TooLarge(16)));
        let mut decoder = SseDecoder::new(64);
        assert_eq!(decoder.push(b"data: \xff\xfe\n\n"), Err(SseError::NotUtf8));
    }
}
