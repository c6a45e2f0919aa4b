//! Text in the drawing's code page: `$DWGCODEPAGE` names it for files before R2007 (R2007 and
//! later are UTF-8). Files lie about it, so every string is first checked for UTF-8 validity.
//! Then the escapes AutoCAD writes for characters outside the code page: `\U+XXXX` (a Unicode
//! scalar, UTF-16 code units for astral characters) and `\M+nXXXX` (a double-byte character of
//! one of the five East Asian code pages).

use encoding_rs::Encoding;

/// How the bytes of a string are turned into text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Codepage {
    Encoding(&'static Encoding),
    /// The upper half (0x80–0xFF) of an IBM PC code page; the lower half is ASCII.
    Dos(&'static str),
}

impl Default for Codepage {
    /// Files that say nothing (or `ANSI_1252`, by far the most common) are windows-1252.
    fn default() -> Self {
        Codepage::Encoding(encoding_rs::WINDOWS_1252)
    }
}

impl Codepage {
    /// The decoder for a `$DWGCODEPAGE` value, or `None` when the name is unknown.
    pub fn from_dxf_name(name: &str) -> Option<Codepage> {
        let upper = name.trim().to_ascii_uppercase();
        let encoding = match upper.as_str() {
            "" | "ASCII" | "UNDEFINED" | "ANSI_1252" | "ANSI_1200" | "ISO8859-1" | "ISO8859_1" => {
                encoding_rs::WINDOWS_1252
            }
            "UTF8" | "UTF-8" => encoding_rs::UTF_8,
            "ANSI_874" | "DOS874" => encoding_rs::WINDOWS_874,
            "ANSI_932" | "DOS932" | "SHIFT_JIS" => encoding_rs::SHIFT_JIS,
            "ANSI_936" | "GB2312" | "GBK" | "DOS936" => encoding_rs::GBK,
            "ANSI_949" | "KSC5601" => encoding_rs::EUC_KR,
            "ANSI_950" | "BIG5" | "DOS950" => encoding_rs::BIG5,
            "ANSI_1250" => encoding_rs::WINDOWS_1250,
            "ANSI_1251" => encoding_rs::WINDOWS_1251,
            "ANSI_1253" => encoding_rs::WINDOWS_1253,
            "ANSI_1254" => encoding_rs::WINDOWS_1254,
            "ANSI_1255" => encoding_rs::WINDOWS_1255,
            "ANSI_1256" => encoding_rs::WINDOWS_1256,
            "ANSI_1257" => encoding_rs::WINDOWS_1257,
            "ANSI_1258" => encoding_rs::WINDOWS_1258,
            "MAC-ROMAN" | "MACINTOSH" => encoding_rs::MACINTOSH,
            "DOS866" => encoding_rs::IBM866,
            "DOS437" => return Some(Codepage::Dos(DOS437)),
            "DOS850" => return Some(Codepage::Dos(DOS850)),
            "DOS852" => return Some(Codepage::Dos(DOS852)),
            "DOS855" => return Some(Codepage::Dos(DOS855)),
            "DOS857" => return Some(Codepage::Dos(DOS857)),
            "DOS860" => return Some(Codepage::Dos(DOS860)),
            "DOS861" => return Some(Codepage::Dos(DOS861)),
            "DOS863" => return Some(Codepage::Dos(DOS863)),
            "DOS864" => return Some(Codepage::Dos(DOS864)),
            "DOS865" => return Some(Codepage::Dos(DOS865)),
            "DOS869" => return Some(Codepage::Dos(DOS869)),
            other => {
                // ISO8859-2 … ISO8859-15, however the separator is written.
                let digits = other.strip_prefix("ISO8859").map(|d| d.trim_start_matches(['-', '_']))?;
                Encoding::for_label(format!("iso-8859-{digits}").as_bytes())?
            }
        };
        Some(Codepage::Encoding(encoding))
    }

    /// Decodes one string: ASCII and valid UTF-8 as they are, anything else in this code page.
    /// Returns the text and whether some bytes could not be decoded (replaced by U+FFFD).
    pub fn decode(self, raw: &[u8]) -> (String, bool) {
        let (text, lossy) = match std::str::from_utf8(raw) {
            Ok(utf8) => (utf8.to_owned(), false),
            Err(_) => match self {
                Codepage::Encoding(encoding) => {
                    let (text, had_errors) = encoding.decode_without_bom_handling(raw);
                    (text.into_owned(), had_errors)
                }
                Codepage::Dos(upper) => (decode_dos(raw, upper), false),
            },
        };
        if text.contains('\\') { (decode_escapes(&text), lossy) } else { (text, lossy) }
    }
}

fn decode_dos(raw: &[u8], upper_half: &str) -> String {
    raw.iter()
        .map(
            |&b| {
                if b < 0x80 {
                    char::from(b)
                } else {
                    upper_half.chars().nth(usize::from(b - 0x80)).unwrap_or('\u{FFFD}')
                }
            },
        )
        .collect()
}

/// The code pages `\M+n` refers to by number.
fn mbcs_encoding(n: u8) -> Option<&'static Encoding> {
    match n {
        b'1' => Some(encoding_rs::SHIFT_JIS),
        b'2' => Some(encoding_rs::BIG5),
        b'3' => Some(encoding_rs::EUC_KR),
        // 4 is Johab, which encoding_rs does not decode.
        b'5' => Some(encoding_rs::GBK),
        _ => None,
    }
}

fn hex4(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < 4 || !bytes[..4].iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let s = std::str::from_utf8(&bytes[..4]).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// Replaces `\U+XXXX` and `\M+nXXXX` escapes; every other backslash is left for the MTEXT parser.
pub(crate) fn decode_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied_to = 0;
    while let Some(offset) = memchr::memchr(b'\\', &bytes[i..]) {
        let at = i + offset;
        let rest = &bytes[at..];
        let escape = match rest.get(1..3) {
            Some([b'U' | b'u', b'+']) => hex4(&rest[3..]).map(|unit| {
                // A UTF-16 surrogate pair arrives as two escapes.
                if (0xD800..0xDC00).contains(&unit)
                    && let Some([b'\\', b'U' | b'u', b'+']) = rest.get(7..10)
                    && let Some(low @ 0xDC00..=0xDFFF) = hex4(&rest[10..])
                {
                    let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    return (char::from_u32(scalar).unwrap_or('\u{FFFD}').to_string(), 14);
                }
                (char::from_u32(unit).unwrap_or('\u{FFFD}').to_string(), 7)
            }),
            Some([b'M' | b'm', b'+']) => rest.get(3).and_then(|&n| {
                let code = hex4(rest.get(4..)?)?;
                let pair = [(code >> 8) as u8, code as u8];
                let text = match mbcs_encoding(n) {
                    Some(encoding) => encoding.decode_without_bom_handling(&pair).0.into_owned(),
                    None => "\u{FFFD}".to_owned(),
                };
                Some((text, 8))
            }),
            _ => None,
        };
        match escape {
            Some((decoded, len)) => {
                out.push_str(&text[copied_to..at]);
                out.push_str(&decoded);
                i = at + len;
                copied_to = i;
            }
            // Skip the backslash and the character after it, so `\\U+0041` stays literal.
            None => i = (at + 2).min(bytes.len()),
        }
        // Never split a UTF-8 sequence when skipping.
        while i < bytes.len() && !text.is_char_boundary(i) {
            i += 1;
        }
    }
    out.push_str(&text[copied_to..]);
    out
}

const DOS437: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
const DOS850: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u{ad}±‗¾¶§÷¸°¨·¹³²■\u{a0}";
const DOS852: &str = "ÇüéâäůćçłëŐőîŹÄĆÉĹĺôöĽľŚśÖÜŤťŁ×čáíóúĄąŽžĘę¬źČş«»░▒▓│┤ÁÂĚŞ╣║╗╝Żż┐└┴┬├─┼Ăă╚╔╩╦╠═╬¤đĐĎËďŇÍÎě┘┌█▄ŢŮ▀ÓßÔŃńňŠšŔÚŕŰýÝţ´\u{ad}˝˛ˇ˘§÷¸°¨˙űŘř■\u{a0}";
const DOS855: &str = "ђЂѓЃёЁєЄѕЅіІїЇјЈљЉњЊћЋќЌўЎџЏюЮъЪаАбБцЦдДеЕфФгГ«»░▒▓│┤хХиИ╣║╗╝йЙ┐└┴┬├─┼кК╚╔╩╦╠═╬¤лЛмМнНоОп┘┌█▄Пя▀ЯрРсСтТуУжЖвВьЬ№\u{ad}ыЫзЗшШэЭщЩчЧ§■\u{a0}";
const DOS857: &str = "ÇüéâäàåçêëèïîıÄÅÉæÆôöòûùİÖÜø£ØŞşáíóúñÑĞğ¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ºªÊËÈ�ÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµ�×ÚÛÙìÿ¯´\u{ad}±�¾¶§÷¸°¨·¹³²■\u{a0}";
const DOS860: &str = "ÇüéâãàÁçêÊèÍÔìÃÂÉÀÈôõòÚùÌÕÜ¢£Ù₧ÓáíóúñÑªº¿Ò¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
const DOS861: &str = "ÇüéâäàåçêëèÐðÞÄÅÉæÆôöþûÝýÖÜø£Ø₧ƒáíóúÁÍÓÚ¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
const DOS863: &str = "ÇüéâÂà¶çêëèïî‗À§ÉÈÊôËÏûù¤ÔÜ¢£ÙÛƒ¦´óú¨¸³¯Î⌐¬½¼¾«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
const DOS864: &str = "°·∙√▒─│┼┤┬├┴┐┌└┘β∞φ±½¼≈«»ﻷﻸ��ﻻﻼ�\u{a0}\u{ad}ﺂ£¤ﺄ��ﺎﺏﺕﺙ،ﺝﺡﺥ٠١٢٣٤٥٦٧٨٩ﻑ؛ﺱﺵﺹ؟¢ﺀﺁﺃﺅﻊﺋﺍﺑﺓﺗﺛﺟﺣﺧﺩﺫﺭﺯﺳﺷﺻﺿﻁﻅﻋﻏ¦¬÷×ﻉـﻓﻗﻛﻟﻣﻧﻫﻭﻯﻳﺽﻌﻎﻍﻡﹽّﻥﻩﻬﻰﻲﻐﻕﻵﻶﻝﻙﻱ■�";
const DOS865: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø₧ƒáíóúñÑªº¿⌐¬½¼¡«¤░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
const DOS869: &str = "������Ά�·¬¦‘’Έ―ΉΊΪΌ��ΎΫ©Ώ²³ά£έήίϊΐόύΑΒΓΔΕΖΗ½ΘΙ«»░▒▓│┤ΚΛΜΝ╣║╗╝ΞΟ┐└┴┬├─┼ΠΡ╚╔╩╦╠═╬ΣΤΥΦΧΨΩαβγ┘┌█▄δε▀ζηθικλμνξοπρσςτ΄\u{ad}±υφχ§ψ΅°¨ωϋΰώ■\u{a0}";

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(codepage: &str, raw: &[u8]) -> String {
        Codepage::from_dxf_name(codepage).unwrap().decode(raw).0
    }

    #[test]
    fn gbk_text_made_with_encoding_rs() {
        let (raw, _, _) = encoding_rs::GBK.encode("房间 面积");
        assert_eq!(decode("ANSI_936", &raw), "房间 面积");
    }

    #[test]
    fn utf8_wins_when_the_declared_codepage_lies() {
        assert_eq!(decode("ANSI_936", "房间".as_bytes()), "房间");
        assert_eq!(decode("ANSI_1252", "Grüße".as_bytes()), "Grüße");
    }

    #[test]
    fn single_byte_codepages() {
        assert_eq!(decode("ANSI_1251", &[0xCF, 0xF0, 0xE8]), "При");
        assert_eq!(decode("ANSI_1252", &[0x47, 0x72, 0xFC, 0xDF, 0x65]), "Grüße");
        assert_eq!(decode("DOS850", &[0x81, 0x9B]), "üø");
        assert_eq!(decode("DOS437", &[0x81, 0xF8]), "ü°");
        assert_eq!(decode("MAC-ROMAN", &[0x8A]), "ä");
        assert_eq!(decode("ISO8859-7", &[0xE1]), "α");
    }

    #[test]
    fn east_asian_codepages() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("図面");
        assert_eq!(decode("ANSI_932", &sjis), "図面");
        let (big5, _, _) = encoding_rs::BIG5.encode("圖面");
        assert_eq!(decode("ANSI_950", &big5), "圖面");
        let (korean, _, _) = encoding_rs::EUC_KR.encode("도면");
        assert_eq!(decode("ANSI_949", &korean), "도면");
    }

    #[test]
    fn unknown_codepages_are_none() {
        assert!(Codepage::from_dxf_name("ANSI_1361").is_none());
        assert!(Codepage::from_dxf_name("KLINGON").is_none());
        assert!(Codepage::from_dxf_name("ISO8859-99").is_none());
        assert!(Codepage::from_dxf_name("ansi_1252").is_some(), "case does not matter");
    }

    #[test]
    fn unicode_escapes() {
        assert_eq!(decode_escapes(r"\U+623F\U+95F4 A"), "房间 A");
        assert_eq!(decode_escapes(r"\u+00b0"), "°");
        assert_eq!(decode_escapes(r"\U+D83D\U+DE00"), "😀", "a surrogate pair");
        assert_eq!(decode_escapes(r"\U+D83D"), "\u{FFFD}", "a lone surrogate");
        assert_eq!(decode_escapes(r"\U+12"), r"\U+12", "too short: left alone");
        assert_eq!(decode_escapes(r"\P\U+0041"), r"\PA", "MTEXT codes stay for the MTEXT parser");
        assert_eq!(decode_escapes(r"\\U+0041"), r"\\U+0041", "an escaped backslash is literal");
        assert_eq!(decode_escapes("\\é\\U+0041"), "\\éA", "multi-byte characters after a backslash");
    }

    #[test]
    fn mbcs_escapes() {
        // 房 is B7BF in GBK.
        assert_eq!(decode_escapes(r"\M+5B7BF"), "房");
        assert_eq!(decode_escapes(r"\M+4B7BF"), "\u{FFFD}", "Johab is not decoded, and says so");
    }

    #[test]
    fn dos_tables_have_128_characters() {
        for table in [DOS437, DOS850, DOS852, DOS855, DOS857, DOS860, DOS861, DOS863, DOS864, DOS865, DOS869] {
            assert_eq!(table.chars().count(), 128);
        }
    }
}
