//! MTEXT formatting codes and the `%%` control codes of TEXT.
//!
//! MTEXT holds inline formatting: `\P` paragraph breaks, `{…}` groups, `\f` fonts, `\H` heights,
//! `\C` colours, `\S` stacked fractions and more. The parser keeps the plain text (for search and
//! facts) and, when there is formatting, runs over that text with their style (for rendering).
//! Unknown codes are kept as text rather than dropped: losing characters is worse than showing a
//! stray backslash.

use serde::Serialize;

use crate::color::Color;

/// MTEXT content after formatting codes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MTextContent {
    /// The text without codes: paragraphs separated by `\n`, stacked fractions as `a/b`.
    pub plain: String,
    /// Styled ranges of `plain`, in order and covering it; empty when the text has no formatting.
    pub runs: Vec<TextRun>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TextRun {
    /// Byte range in `MTextContent::plain`.
    pub start: usize,
    pub end: usize,
    pub style: RunStyle,
    /// Set when this run is a stacked fraction or tolerance (`\S`); `plain` holds it as `a/b`.
    pub stack: Option<Stack>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunStyle {
    pub font: Option<String>,
    pub bold: bool,
    pub italic: bool,
    pub height: Option<TextHeight>,
    pub width_factor: Option<f64>,
    pub oblique_deg: Option<f64>,
    pub tracking: Option<f64>,
    pub color: Option<Color>,
    pub underline: bool,
    pub overline: bool,
    pub strike: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum TextHeight {
    Absolute(f64),
    /// `\H0.5x;`: a factor of the current height.
    Relative(f64),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stack {
    pub upper: String,
    pub lower: String,
    pub kind: StackKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackKind {
    /// `a/b`: horizontal fraction bar.
    Fraction,
    /// `a#b`: diagonal fraction.
    Diagonal,
    /// `a^b`: tolerance, no bar.
    Tolerance,
}

/// Deepest `{` nesting followed; deeper braces are treated as text, so hostile input cannot make
/// the style stack grow without bound.
const MAX_GROUP_DEPTH: usize = 64;

/// Parses MTEXT content (already decoded from its code page and `\U+` escapes).
pub fn parse_mtext(text: &str) -> MTextContent {
    let mut parser =
        MTextParser { out: MTextContent::default(), style: RunStyle::default(), saved: Vec::new(), styled: false };
    parser.run(text);
    let mut out = parser.out;
    if !parser.styled {
        out.runs.clear();
    }
    out
}

struct MTextParser {
    out: MTextContent,
    style: RunStyle,
    saved: Vec<RunStyle>,
    /// Whether any code changed the style; plain text keeps no runs.
    styled: bool,
}

impl MTextParser {
    fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let start = self.out.plain.len();
        self.out.plain.push_str(s);
        let end = self.out.plain.len();
        match self.out.runs.last_mut() {
            Some(run) if run.stack.is_none() && run.style == self.style && run.end == start => run.end = end,
            _ => self.out.runs.push(TextRun { start, end, style: self.style.clone(), stack: None }),
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }

    fn restyle(&mut self, change: impl FnOnce(&mut RunStyle)) {
        change(&mut self.style);
        self.styled = true;
    }

    fn run(&mut self, text: &str) {
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    let Some((j, code)) = chars.next() else {
                        self.push_char('\\');
                        break;
                    };
                    let after = j + code.len_utf8();
                    match code {
                        'P' | 'X' => self.push_char('\n'),
                        'N' => self.push_char('\n'),
                        '~' => self.push_char('\u{A0}'),
                        '\\' | '{' | '}' => self.push_char(code),
                        'L' => self.restyle(|s| s.underline = true),
                        'l' => self.restyle(|s| s.underline = false),
                        'O' => self.restyle(|s| s.overline = true),
                        'o' => self.restyle(|s| s.overline = false),
                        'K' => self.restyle(|s| s.strike = true),
                        'k' => self.restyle(|s| s.strike = false),
                        'f' | 'F' | 'H' | 'W' | 'Q' | 'T' | 'C' | 'c' | 'A' | 'p' | 'S' => {
                            // Codes with an argument that ends at `;` (or, for a broken file, at the end).
                            let arg_end = text[after..].find(';').map_or(text.len(), |k| after + k);
                            let arg = &text[after..arg_end];
                            self.apply(code, arg);
                            let resume = (arg_end + 1).min(text.len());
                            while chars.peek().is_some_and(|&(k, _)| k < resume) {
                                chars.next();
                            }
                        }
                        _ => {
                            // Unknown code: keep it visible.
                            self.push_str(&text[i..after]);
                        }
                    }
                }
                '{' if self.saved.len() < MAX_GROUP_DEPTH => self.saved.push(self.style.clone()),
                '}' if !self.saved.is_empty() => {
                    if let Some(style) = self.saved.pop() {
                        self.style = style;
                    }
                }
                // Caret encoding: `^X` is the control character X ^ 0x40 (`^I` tab, `^J` line
                // feed); `^ ` is a caret. Other control characters are dropped.
                '^' => match chars.peek().map(|&(_, n)| n) {
                    Some(' ') => {
                        chars.next();
                        self.push_char('^');
                    }
                    Some(n) if n.is_ascii_graphic() => {
                        chars.next();
                        match char::from(n as u8 ^ 0x40) {
                            '\t' => self.push_char('\t'),
                            '\n' => self.push_char('\n'),
                            c if c.is_control() => {}
                            c => self.push_char(c),
                        }
                    }
                    _ => self.push_char('^'),
                },
                '%' if text[i..].starts_with("%%") => {
                    let (decoded, len) = percent_code(&text[i..]);
                    if let Some(c) = decoded {
                        self.push_char(c);
                    }
                    let resume = i + len;
                    while chars.peek().is_some_and(|&(k, _)| k < resume) {
                        chars.next();
                    }
                }
                _ => self.push_char(c),
            }
        }
    }

    fn apply(&mut self, code: char, arg: &str) {
        match code {
            'f' | 'F' => {
                let mut parts = arg.split('|');
                let name = parts.next().unwrap_or_default().trim().to_owned();
                let (mut bold, mut italic) = (false, false);
                for part in parts {
                    match part.as_bytes() {
                        [b'b', b'1', ..] => bold = true,
                        [b'i', b'1', ..] => italic = true,
                        _ => {}
                    }
                }
                self.restyle(|s| {
                    s.font = (!name.is_empty()).then_some(name);
                    s.bold = bold;
                    s.italic = italic;
                });
            }
            'H' => {
                let (number, relative) = match arg.trim().strip_suffix(['x', 'X']) {
                    Some(n) => (n, true),
                    None => (arg.trim(), false),
                };
                if let Some(v) = finite(number) {
                    self.restyle(|s| {
                        s.height = Some(if relative { TextHeight::Relative(v) } else { TextHeight::Absolute(v) })
                    });
                }
            }
            'W' => {
                let v = finite(arg.trim().trim_end_matches(['x', 'X']));
                self.restyle(|s| s.width_factor = v);
            }
            'Q' => {
                let v = finite(arg);
                self.restyle(|s| s.oblique_deg = v);
            }
            'T' => {
                let v = finite(arg.trim().trim_end_matches(['x', 'X']));
                self.restyle(|s| s.tracking = v);
            }
            'C' => {
                if let Ok(aci) = arg.trim().parse::<i64>() {
                    self.restyle(|s| s.color = Some(Color::from_aci_code(aci)));
                }
            }
            'c' => {
                // MTEXT true colours are written blue-green-red.
                if let Ok(bgr) = arg.trim().parse::<u32>() {
                    let rgb = ((bgr & 0xFF) << 16) | (bgr & 0xFF00) | ((bgr >> 16) & 0xFF);
                    self.restyle(|s| s.color = Some(Color::Rgb(rgb)));
                }
            }
            'S' => self.push_stack(arg),
            _ => {} // \A alignment and \p paragraph settings do not change the text
        }
    }

    fn push_stack(&mut self, arg: &str) {
        // The first unescaped `^`, `/` or `#` splits upper from lower; `\^` etc. are literals.
        let mut upper = String::new();
        let mut lower = String::new();
        let mut kind = None;
        let mut chars = arg.chars();
        while let Some(c) = chars.next() {
            let target = if kind.is_some() { &mut lower } else { &mut upper };
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        target.push(n);
                    }
                }
                '^' | '/' | '#' if kind.is_none() => {
                    kind = Some(match c {
                        '/' => StackKind::Fraction,
                        '#' => StackKind::Diagonal,
                        _ => StackKind::Tolerance,
                    })
                }
                _ => target.push(c),
            }
        }
        let upper = upper.trim().to_owned();
        let lower = lower.trim().to_owned();
        let Some(kind) = kind else {
            self.push_str(&upper);
            return;
        };
        let start = self.out.plain.len();
        let shown = match kind {
            StackKind::Tolerance => format!("{upper} {lower}"),
            _ => format!("{upper}/{lower}"),
        };
        self.out.plain.push_str(&shown);
        let end = self.out.plain.len();
        self.styled = true;
        self.out.runs.push(TextRun {
            start,
            end,
            style: self.style.clone(),
            stack: Some(Stack { upper, lower, kind }),
        });
    }
}

fn finite(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// One `%%` control code at the start of `s`: the character it stands for (`None` for the
/// underline/overline/strike toggles, which only change style) and how many bytes it takes.
fn percent_code(s: &str) -> (Option<char>, usize) {
    let b = s.as_bytes();
    match b.get(2) {
        Some(b'c' | b'C') => (Some('Ø'), 3),
        Some(b'd' | b'D') => (Some('°'), 3),
        Some(b'p' | b'P') => (Some('±'), 3),
        Some(b'%') => (Some('%'), 3),
        Some(b'u' | b'U' | b'o' | b'O' | b'k' | b'K') => (None, 3),
        Some(d) if d.is_ascii_digit() => {
            // %%nnn: a character by its three-digit code; 127–129 are AutoCAD's degree,
            // plus-minus and diameter symbols of its SHX fonts.
            let digits = b[2..].iter().take(3).take_while(|d| d.is_ascii_digit()).count();
            let code: u32 = s[2..2 + digits].parse().unwrap_or(0);
            let c = match code {
                127 => Some('°'),
                128 => Some('±'),
                129 => Some('Ø'),
                _ => char::from_u32(code).filter(|c| !c.is_control()),
            };
            (c, 2 + digits)
        }
        _ => (Some('%'), 1),
    }
}

/// The text of a TEXT or ATTRIB entity with its `%%` control codes replaced (TEXT has no
/// backslash formatting, only these).
pub fn decode_text_codes(text: &str) -> String {
    if !text.contains("%%") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(k) = text[i..].find("%%") {
        out.push_str(&text[i..i + k]);
        let (c, len) = percent_code(&text[i + k..]);
        if let Some(c) = c {
            out.push(c);
        }
        i += k + len;
    }
    out.push_str(&text[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_has_no_runs() {
        let m = parse_mtext("Hello world");
        assert_eq!(m.plain, "Hello world");
        assert!(m.runs.is_empty());
    }

    #[test]
    fn paragraphs_and_specials() {
        let m = parse_mtext(r"Area: 12.00 m²\PFinish: oak\P房间 7\~A\\B\{C\}");
        assert_eq!(m.plain, "Area: 12.00 m²\nFinish: oak\n房间 7\u{A0}A\\B{C}");
    }

    #[test]
    fn fonts_heights_and_colours_become_runs() {
        let m = parse_mtext(r"{\fArial|b1|i0|c0|p34;Bold}{\H2.5x;\C1;Big red} plain");
        assert_eq!(m.plain, "BoldBig red plain");
        let bold = &m.runs[0];
        assert_eq!(
            (&m.plain[bold.start..bold.end], bold.style.font.as_deref(), bold.style.bold),
            ("Bold", Some("Arial"), true)
        );
        let big = &m.runs[1];
        assert_eq!(big.style.height, Some(TextHeight::Relative(2.5)));
        assert_eq!(big.style.color, Some(Color::Aci(1)));
        let last = m.runs.last().unwrap();
        assert_eq!(&m.plain[last.start..last.end], " plain");
        assert_eq!(last.style, RunStyle::default(), "the group's style ends at its brace");
    }

    #[test]
    fn true_colour_is_bgr() {
        let m = parse_mtext(r"\c255;red");
        assert_eq!(m.runs[0].style.color, Some(Color::Rgb(0xFF0000)));
    }

    #[test]
    fn stacked_fractions() {
        let m = parse_mtext(r"1\S1/2; in \S+0.1^-0.2;");
        assert_eq!(m.plain, "11/2 in +0.1 -0.2");
        let stacks: Vec<&Stack> = m.runs.iter().filter_map(|r| r.stack.as_ref()).collect();
        assert_eq!(stacks.len(), 2);
        assert_eq!(
            (stacks[0].upper.as_str(), stacks[0].lower.as_str(), stacks[0].kind),
            ("1", "2", StackKind::Fraction)
        );
        assert_eq!(stacks[1].kind, StackKind::Tolerance);
    }

    #[test]
    fn percent_codes_in_mtext_and_text() {
        assert_eq!(parse_mtext("%%c20 %%d %%p0.1 100%%%").plain, "Ø20 ° ±0.1 100%");
        assert_eq!(decode_text_codes("%%uUnder%%u %%176 50%"), "Under ° 50%");
        assert_eq!(decode_text_codes("%%"), "%%", "a lone code is kept");
        assert_eq!(decode_text_codes("%%1292.0 90%%127"), "Ø2.0 90°", "AutoCAD's SHX codes");
    }

    #[test]
    fn carets_and_unknown_codes() {
        assert_eq!(parse_mtext("a^Ib^Jc^ d").plain, "a\tb\nc^d");
        assert_eq!(parse_mtext("abc^adef").plain, "abc!def", "^a is 0x61 ^ 0x40");
        assert_eq!(parse_mtext("x^Yz^").plain, "xz^", "control characters are dropped, a final caret kept");
        assert_eq!(parse_mtext(r"\Zodd").plain, r"\Zodd", "an unknown code stays visible");
    }

    #[test]
    fn broken_codes_do_not_panic() {
        for s in [r"\", r"\H", r"\S", r"\S1/", r"{{{{", r"}}}}", r"\f", "%%1", "%%9999", r"\S\", "^"] {
            let _ = parse_mtext(s);
            let _ = decode_text_codes(s);
        }
        let deep = "{".repeat(10_000) + "x" + &"}".repeat(10_000);
        assert!(parse_mtext(&deep).plain.contains('x'));
    }

    #[test]
    fn underline_and_strike_toggle() {
        let m = parse_mtext(r"\Lunder\l \Kstrike\k");
        assert!(m.runs[0].style.underline);
        assert!(m.runs.iter().any(|r| r.style.strike));
        assert_eq!(m.plain, "under strike");
    }
}
