//! DXF group codes and values, straight off the input bytes.
//!
//! A DXF file is a flat sequence of (group code, value) pairs. In ASCII files each is a line; in
//! binary files the code is one byte (R12 and older, 255 escaping a two-byte code) or two bytes
//! (R13 and later) and the value's encoding follows from the code. Values borrow from the input:
//! nothing is copied or decoded until a reader asks for it.

use crate::diagnostics::Location;

/// One value as the file holds it. ASCII files hold only text; binary files hold typed values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Text(&'a [u8]),
    Real(f64),
    Int(i64),
    Bytes(&'a [u8]),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Group<'a> {
    pub code: i32,
    pub value: Value<'a>,
    /// Line (ASCII) or byte offset (binary) of the group code, for diagnostics (saturating).
    pub at: u32,
}

impl<'a> Group<'a> {
    /// The value as raw text bytes (not yet decoded from the code page). Numbers in binary files
    /// have no text form and give an empty slice.
    pub fn raw(&self) -> &'a [u8] {
        match self.value {
            Value::Text(t) | Value::Bytes(t) => t,
            Value::Real(_) | Value::Int(_) => b"",
        }
    }

    /// A finite floating-point value, or `None` when it does not parse (the caller reports it).
    pub fn f64(&self) -> Option<f64> {
        match self.value {
            Value::Real(v) => v.is_finite().then_some(v),
            Value::Int(v) => Some(v as f64),
            Value::Text(t) => parse_f64(t),
            Value::Bytes(_) => None,
        }
    }

    /// An integer value. ASCII writers sometimes put `1.0` where an integer belongs; integral
    /// reals in range are accepted.
    pub fn i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(v) => Some(v),
            Value::Real(v) => real_to_i64(v),
            Value::Text(t) => parse_i64(t).or_else(|| parse_f64(t).and_then(real_to_i64)),
            Value::Bytes(_) => None,
        }
    }

    /// An integer clamped into `i32` (counts, flags, enums): out-of-range values saturate.
    pub fn i32(&self) -> Option<i32> {
        self.i64().map(|v| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    }

    /// A hexadecimal handle (groups 5, 105, 320–369, 390–399, 480–481).
    pub fn handle(&self) -> Option<u64> {
        parse_hex(trim(self.raw()))
    }
}

fn real_to_i64(v: f64) -> Option<i64> {
    (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e18).then_some(v as i64)
}

pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Parses a decimal integer with optional sign and surrounding spaces; `None` on anything else.
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    let t = trim(text);
    let (negative, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(d - b'0');
    }
    Some(if negative { -value } else { value })
}

/// Powers of ten that are exact in an f64, for the fast path below.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Parses a finite float. Most DXF coordinates are short plain decimals (`1234.567`): those take
/// Clinger's fast path (an exact integer mantissa below 2^53 divided by an exact power of ten is
/// correctly rounded); anything else goes to the standard library's parser.
pub(crate) fn parse_f64(text: &[u8]) -> Option<f64> {
    let padded = matches!(text.first(), Some(b' ' | b'\t')) || matches!(text.last(), Some(b' ' | b'\t' | b'\r'));
    let t = if padded { trim(text) } else { text };
    let (negative, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut i = 0;
    let mut mantissa: u64 = 0;
    while i < body.len() && i < 19 {
        let d = body[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        mantissa = mantissa * 10 + u64::from(d);
        i += 1;
    }
    let integer_digits = i;
    let mut fraction_digits = 0;
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && integer_digits + fraction_digits < 19 {
            let d = body[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            mantissa = mantissa * 10 + u64::from(d);
            i += 1;
            fraction_digits += 1;
        }
    }
    if i == body.len()
        && integer_digits + fraction_digits > 0
        && mantissa < (1 << 53)
        && fraction_digits < EXACT_POW10.len()
    {
        let v = mantissa as f64 / EXACT_POW10[fraction_digits];
        return Some(if negative { -v } else { v });
    }
    let v: f64 = std::str::from_utf8(t).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Parses up to 16 hex digits; `None` for empty, longer or non-hex text.
pub(crate) fn parse_hex(t: &[u8]) -> Option<u64> {
    if t.is_empty() || t.len() > 16 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in t {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

/// Parses a group code line: digits with optional sign and padding (`  0`, `100`, ` 10`).
#[inline(always)]
fn parse_code(line: &[u8]) -> Option<i32> {
    let mut i = 0;
    while i < line.len() && line[i] == b' ' {
        i += 1;
    }
    let negative = i < line.len() && line[i] == b'-';
    if negative {
        i += 1;
    }
    let start = i;
    let mut value: i32 = 0;
    while i < line.len() && line[i].is_ascii_digit() {
        if i - start >= 6 {
            return None;
        }
        value = value * 10 + i32::from(line[i] - b'0');
        i += 1;
    }
    if i == start || !line[i..].iter().all(|b| b.is_ascii_whitespace()) {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// How a binary DXF encodes the value of a group code (the DXF reference's group code ranges).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryType {
    Text,
    Real,
    Int16,
    Int32,
    Int64,
    Bool,
    Chunk,
}

pub(crate) fn binary_type(code: i32) -> BinaryType {
    match code {
        10..=59 | 110..=149 | 210..=239 | 460..=469 | 1010..=1059 => BinaryType::Real,
        60..=79 | 170..=179 | 270..=289 | 370..=389 | 400..=409 | 1060..=1070 => BinaryType::Int16,
        90..=99 | 420..=429 | 440..=459 | 1071 => BinaryType::Int32,
        160..=169 => BinaryType::Int64,
        290..=299 => BinaryType::Bool,
        310..=319 | 1004 => BinaryType::Chunk,
        _ => BinaryType::Text,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Lines end with `eol` (`\n`, with an optional `\r` before it, or a lone `\r` in old Mac files).
    Ascii { eol: u8 },
    /// `wide_codes`: two-byte group codes (R13+); otherwise one byte, 255 escaping a two-byte code.
    Binary { wide_codes: bool },
}

/// What the tokenizer found next.
#[derive(Debug, PartialEq)]
pub(crate) enum Next<'a> {
    Group(Group<'a>),
    /// A code line that is not an integer; the tokenizer has skipped it.
    BadCode {
        at: u32,
        line: &'a [u8],
    },
    /// The input ends in the middle of a group.
    Truncated {
        at: u32,
    },
    End,
}

pub(crate) struct Tokenizer<'a> {
    data: &'a [u8],
    pos: usize,
    encoding: Encoding,
    /// The 1-based number of the next ASCII line.
    line: u64,
}

impl<'a> Tokenizer<'a> {
    /// Reads `data` from `start`, the first group (after any binary sentinel or byte-order mark).
    pub fn new(data: &'a [u8], start: usize, encoding: Encoding) -> Self {
        Tokenizer { data, pos: start, encoding, line: 1 }
    }

    pub fn location(&self, at: u32) -> Location {
        match self.encoding {
            Encoding::Ascii { .. } => Location::Line(u64::from(at)),
            Encoding::Binary { .. } => Location::Offset(u64::from(at)),
        }
    }

    pub fn is_binary(&self) -> bool {
        matches!(self.encoding, Encoding::Binary { .. })
    }

    /// Bytes not consumed yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    #[inline(always)]
    pub fn next_group(&mut self) -> Next<'a> {
        match self.encoding {
            Encoding::Ascii { eol } => self.next_ascii(eol),
            Encoding::Binary { wide_codes } => self.next_binary(wide_codes),
        }
    }

    #[inline(always)]
    fn next_line(&mut self, eol: u8) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..).filter(|r| !r.is_empty())?;
        let line = match find_byte(eol, rest) {
            Some(end) => {
                self.pos += end + 1;
                &rest[..end]
            }
            None => {
                self.pos = self.data.len();
                rest
            }
        };
        self.line += 1;
        Some(match line.last() {
            Some(b'\r') if eol == b'\n' => &line[..line.len() - 1],
            _ => line,
        })
    }

    // Always inlined: in the reader's hot loop, returning a `Next` through memory costs more
    // than the tokenizing itself.
    #[inline(always)]
    fn next_ascii(&mut self, eol: u8) -> Next<'a> {
        let at = saturate(self.line);
        let Some(code_line) = self.next_line(eol) else { return Next::End };
        let Some(code) = parse_code(code_line) else {
            if code_line.trim_ascii().is_empty() && self.rest().trim_ascii().is_empty() {
                return Next::End; // blank lines at the end of the file
            }
            if self.value_follows_bad_code(eol) {
                self.next_line(eol);
            }
            return Next::BadCode { at, line: code_line };
        };
        match self.next_line(eol) {
            Some(value) => Next::Group(Group { code, value: Value::Text(value), at }),
            None => Next::Truncated { at },
        }
    }

    /// After a line that should have been a group code: is the next line its value (a damaged
    /// code), or the next code (a lost line shifted the pairs)? Whichever reading gives the longer
    /// run of valid codes in the lines ahead wins; a tie keeps the pairs (skips the value too).
    #[cold]
    fn value_follows_bad_code(&self, eol: u8) -> bool {
        const LOOKAHEAD: usize = 16;
        let mut valid = [false; LOOKAHEAD];
        let mut rest = self.rest();
        for slot in &mut valid {
            if rest.is_empty() {
                break;
            }
            let (line, next) = match find_byte(eol, rest) {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            *slot = parse_code(line).is_some();
            rest = next;
        }
        let run = |first: usize| valid[first..].iter().step_by(2).take_while(|v| **v).count();
        run(1) >= run(0)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(bytes)
    }

    fn next_binary(&mut self, wide_codes: bool) -> Next<'a> {
        let at = saturate(self.pos as u64);
        if self.pos >= self.data.len() {
            return Next::End;
        }
        let code = if wide_codes {
            match self.take(2) {
                Some(b) => i32::from(i16::from_le_bytes([b[0], b[1]])),
                None => return Next::Truncated { at },
            }
        } else {
            match self.take(1) {
                Some([255]) => match self.take(2) {
                    Some(b) => i32::from(i16::from_le_bytes([b[0], b[1]])),
                    None => return Next::Truncated { at },
                },
                Some(b) => i32::from(b[0]),
                None => return Next::Truncated { at },
            }
        };
        let value = match binary_type(code) {
            BinaryType::Text => {
                let rest = self.rest();
                match memchr::memchr(0, rest) {
                    Some(end) => {
                        self.pos += end + 1;
                        Some(Value::Text(&rest[..end]))
                    }
                    None => None,
                }
            }
            BinaryType::Real => self.take(8).map(|b| Value::Real(f64::from_le_bytes(fixed(b)))),
            BinaryType::Int16 => self.take(2).map(|b| Value::Int(i64::from(i16::from_le_bytes(fixed(b))))),
            BinaryType::Int32 => self.take(4).map(|b| Value::Int(i64::from(i32::from_le_bytes(fixed(b))))),
            BinaryType::Int64 => self.take(8).map(|b| Value::Int(i64::from_le_bytes(fixed(b)))),
            BinaryType::Bool => self.take(1).map(|b| Value::Int(i64::from(b[0]))),
            BinaryType::Chunk => match self.take(1) {
                Some(&[len]) => self.take(usize::from(len)).map(Value::Bytes),
                _ => None,
            },
        };
        match value {
            Some(value) => Next::Group(Group { code, value, at }),
            None => {
                self.pos = self.data.len();
                Next::Truncated { at }
            }
        }
    }
}

/// The first `byte` in `hay`. DXF lines are mostly a few bytes long, where a plain loop beats
/// memchr's vector set-up; long lines (binary chunks, MTEXT) go to memchr.
#[inline(always)]
pub(crate) fn find_byte(byte: u8, hay: &[u8]) -> Option<usize> {
    const SHORT: usize = 16;
    let head = hay.len().min(SHORT);
    let mut i = 0;
    while i < head {
        if hay[i] == byte {
            return Some(i);
        }
        i += 1;
    }
    if hay.len() <= SHORT {
        return None;
    }
    memchr::memchr(byte, &hay[SHORT..]).map(|i| i + SHORT)
}

fn saturate(n: u64) -> u32 {
    n.min(u64::from(u32::MAX)) as u32
}

/// Copies a slice of known length into an array (the callers took exactly `N` bytes).
fn fixed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(text: &str) -> Vec<(i32, String)> {
        let mut t = Tokenizer::new(text.as_bytes(), 0, Encoding::Ascii { eol: b'\n' });
        let mut out = Vec::new();
        while let Next::Group(g) = t.next_group() {
            out.push((g.code, String::from_utf8_lossy(g.raw()).into_owned()));
        }
        out
    }

    #[test]
    fn ascii_groups_with_padding_and_crlf() {
        let g = groups("  0\r\nSECTION\r\n  2\r\nHEADER\r\n 10\r\n1.5\r\n");
        assert_eq!(g, vec![(0, "SECTION".into()), (2, "HEADER".into()), (10, "1.5".into())]);
    }

    #[test]
    fn find_byte_short_and_long() {
        assert_eq!(find_byte(b'\n', b"10\n"), Some(2));
        assert_eq!(find_byte(b'\n', b"abc"), None);
        let long = [b"x".repeat(100).as_slice(), b"\n"].concat();
        assert_eq!(find_byte(b'\n', &long), Some(100));
        assert_eq!(find_byte(b'\n', &b"x".repeat(100)), None);
    }

    #[test]
    fn values_keep_leading_spaces() {
        assert_eq!(groups("1\n  indented text\n"), vec![(1, "  indented text".into())]);
    }

    #[test]
    fn a_damaged_code_is_skipped_with_its_value() {
        let mut t = Tokenizer::new(b"0\nLINE\nxx\n1.5\n8\nL\n0\nEOF\n", 0, Encoding::Ascii { eol: b'\n' });
        assert!(matches!(t.next_group(), Next::Group(g) if g.code == 0));
        assert!(matches!(t.next_group(), Next::BadCode { at: 3, .. }));
        assert!(matches!(t.next_group(), Next::Group(g) if g.code == 8 && g.raw() == b"L"));
    }

    #[test]
    fn a_lost_line_is_recovered_by_shifting_the_pairs() {
        // The value of group 8 is missing: "10" became its value and "1.5" a code line.
        let mut t = Tokenizer::new(b"0\nLINE\n8\n10\n1.5\n20\n2.5\n0\nEOF\n", 0, Encoding::Ascii { eol: b'\n' });
        t.next_group();
        t.next_group();
        assert!(matches!(t.next_group(), Next::BadCode { .. }));
        assert!(matches!(t.next_group(), Next::Group(g) if g.code == 20 && g.raw() == b"2.5"));
    }

    #[test]
    fn a_value_missing_at_the_end_is_truncation() {
        let mut t = Tokenizer::new(b"0\nLINE\n10", 0, Encoding::Ascii { eol: b'\n' });
        t.next_group();
        assert!(matches!(t.next_group(), Next::Truncated { .. }));
    }

    #[test]
    fn numbers_parse_strictly_but_tolerate_padding() {
        assert_eq!(parse_f64(b" 12.5 "), Some(12.5));
        assert_eq!(parse_f64(b"-0.125"), Some(-0.125));
        assert_eq!(parse_f64(b"1e+20"), Some(1e20));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"1."), Some(1.0));
        assert_eq!(parse_f64(b"0.1"), Some(0.1), "the fast path rounds like the standard parser");
        assert_eq!(parse_f64(b"123456789.123456789"), "123456789.123456789".parse().ok());
        assert_eq!(parse_f64(b"1e400"), None, "infinite");
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b"1.#QNAN"), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_f64(b"."), None);
        assert_eq!(parse_i64(b"  -32768"), Some(-32768));
        assert_eq!(parse_i64(b"99999999999999999999"), None, "too long, not wrapped");
        let g = Group { code: 70, value: Value::Text(b"1.0"), at: 1 };
        assert_eq!(g.i64(), Some(1), "integral reals are accepted as integers");
        let g = Group { code: 70, value: Value::Text(b"1e300"), at: 1 };
        assert_eq!(g.i64(), None, "not wrapped or saturated silently");
        assert_eq!(parse_hex(b"1F"), Some(31));
        assert_eq!(parse_hex(b"12345678901234567"), None);
    }

    #[test]
    fn fast_float_path_agrees_with_std() {
        for s in
            ["0", "1", "3.14159", "4200.0", "123.456", "0.001", "99999.999", "1234567890.12345", "0.30000000000000004"]
        {
            assert_eq!(parse_f64(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
        }
    }

    #[test]
    fn binary_wide_codes_and_types() {
        let mut data = Vec::new();
        data.extend_from_slice(&0i16.to_le_bytes());
        data.extend_from_slice(b"LINE\0");
        data.extend_from_slice(&10i16.to_le_bytes());
        data.extend_from_slice(&2.5f64.to_le_bytes());
        data.extend_from_slice(&70i16.to_le_bytes());
        data.extend_from_slice(&(-3i16).to_le_bytes());
        data.extend_from_slice(&90i16.to_le_bytes());
        data.extend_from_slice(&100_000i32.to_le_bytes());
        data.extend_from_slice(&290i16.to_le_bytes());
        data.push(1);
        data.extend_from_slice(&310i16.to_le_bytes());
        data.extend_from_slice(&[3, 0xAA, 0xBB, 0xCC]);
        let mut t = Tokenizer::new(&data, 0, Encoding::Binary { wide_codes: true });
        let mut got = Vec::new();
        while let Next::Group(g) = t.next_group() {
            got.push(g);
        }
        assert_eq!(got.len(), 6);
        assert_eq!(got[0].raw(), b"LINE");
        assert_eq!(got[1].f64(), Some(2.5));
        assert_eq!(got[2].i64(), Some(-3));
        assert_eq!(got[3].i64(), Some(100_000));
        assert_eq!(got[4].i64(), Some(1));
        assert_eq!(got[5].raw(), &[0xAA, 0xBB, 0xCC]);
    }

    #[test]
    fn binary_narrow_codes_escape_with_255() {
        let mut data = vec![0];
        data.extend_from_slice(b"SECTION\0");
        data.push(255);
        data.extend_from_slice(&1001i16.to_le_bytes());
        data.extend_from_slice(b"APP\0");
        let mut t = Tokenizer::new(&data, 0, Encoding::Binary { wide_codes: false });
        assert!(matches!(t.next_group(), Next::Group(g) if g.code == 0));
        assert!(matches!(t.next_group(), Next::Group(g) if g.code == 1001 && g.raw() == b"APP"));
    }

    #[test]
    fn binary_truncation_mid_value() {
        let mut data = Vec::new();
        data.extend_from_slice(&10i16.to_le_bytes());
        data.extend_from_slice(&[0, 0, 0]);
        let mut t = Tokenizer::new(&data, 0, Encoding::Binary { wide_codes: true });
        assert_eq!(t.next_group(), Next::Truncated { at: 0 });
        assert_eq!(t.next_group(), Next::End);
    }
}
