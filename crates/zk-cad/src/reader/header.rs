//! The HEADER section: `9 $NAME` followed by the variable's value groups.

use super::Reader;
use super::tokenizer::{BinaryType, Group, binary_type};
use crate::codepage::Codepage;
use crate::diagnostics::DiagnosticCode;
use crate::geometry::{Vec2, Vec3};
use crate::model::HeaderValue;

impl<'a> Reader<'a, '_> {
    pub(super) fn read_header(&mut self) {
        let mut name: Option<String> = None;
        let mut values: Vec<HeaderValue> = Vec::new();
        while let Some(g) = self.cursor.peek(&mut self.diag) {
            let g = *g;
            if g.code == 0 {
                break;
            }
            self.cursor.next(&mut self.diag);
            if g.code == 9 {
                if let Some(done) = name.take() {
                    self.set_header_var(done, std::mem::take(&mut values));
                }
                name = Some(String::from_utf8_lossy(g.raw().trim_ascii()).to_ascii_uppercase());
            } else if name.is_some() {
                let value = self.header_value(&g);
                values.push(value);
            }
        }
        if let Some(done) = name.take() {
            self.set_header_var(done, values);
        }
        self.end_section("HEADER");
    }

    fn header_value(&mut self, g: &Group<'a>) -> HeaderValue {
        match binary_type(g.code) {
            BinaryType::Real => match g.f64() {
                Some(v) => HeaderValue::Real(v),
                None => {
                    self.malformed(g, "a number");
                    HeaderValue::Real(0.0)
                }
            },
            BinaryType::Int16 | BinaryType::Int32 | BinaryType::Int64 | BinaryType::Bool => match g.i64() {
                Some(v) => HeaderValue::Int(v),
                None => {
                    self.malformed(g, "an integer");
                    HeaderValue::Int(0)
                }
            },
            BinaryType::Text | BinaryType::Chunk => HeaderValue::Text(self.text(g.raw())),
        }
    }

    fn set_header_var(&mut self, name: String, values: Vec<HeaderValue>) {
        let header = &mut self.drawing.header;
        let text = |values: &[HeaderValue]| match values.first() {
            Some(HeaderValue::Text(t)) => Some(t.trim().to_owned()),
            _ => None,
        };
        let int = |values: &[HeaderValue]| match values.first() {
            Some(HeaderValue::Int(v)) => Some((*v).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
            Some(HeaderValue::Real(v)) => Some(v.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32),
            _ => None,
        };
        let real = |values: &[HeaderValue]| match values.first() {
            Some(HeaderValue::Real(v)) => Some(*v),
            Some(HeaderValue::Int(v)) => Some(*v as f64),
            _ => None,
        };
        let reals: Vec<f64> = values
            .iter()
            .filter_map(|v| match v {
                HeaderValue::Real(r) => Some(*r),
                _ => None,
            })
            .collect();
        match name.as_str() {
            "$ACADVER" => header.version = text(&values),
            "$DWGCODEPAGE" => {
                header.codepage = text(&values);
                let name = header.codepage.clone().unwrap_or_default();
                match Codepage::from_dxf_name(&name) {
                    Some(codepage) => self.codepage = codepage,
                    None => self.diag.warn(
                        DiagnosticCode::UnknownCodepage,
                        None,
                        format!("code page {name:?} is not supported; text outside ASCII may show wrong characters"),
                    ),
                }
            }
            "$INSUNITS" => header.insunits = int(&values),
            "$MEASUREMENT" => header.measurement = int(&values),
            "$EXTMIN" if reals.len() >= 2 => {
                header.extmin = Some(Vec3::new(reals[0], reals[1], reals.get(2).copied().unwrap_or(0.0)))
            }
            "$EXTMAX" if reals.len() >= 2 => {
                header.extmax = Some(Vec3::new(reals[0], reals[1], reals.get(2).copied().unwrap_or(0.0)))
            }
            "$LIMMIN" if reals.len() >= 2 => header.limmin = Some(Vec2::new(reals[0], reals[1])),
            "$LIMMAX" if reals.len() >= 2 => header.limmax = Some(Vec2::new(reals[0], reals[1])),
            "$LTSCALE" => header.ltscale = real(&values),
            "$TDCREATE" => header.created_julian = real(&values),
            "$TDUPDATE" => header.updated_julian = real(&values),
            _ => {}
        }
        header.vars.insert(name, values);
    }
}

/// Seconds since the Unix epoch for a DXF Julian date (`$TDCREATE`, `$TDUPDATE`), or `None` when
/// the value is not a plausible date. Plain arithmetic: no calendar library, no time zone, so no
/// value and no `TZ` can make it fail.
pub fn julian_to_unix_seconds(julian: f64) -> Option<f64> {
    // Julian day 2440587.5 is 1970-01-01T00:00:00Z. Accept years 1000–9999 or so.
    const UNIX_EPOCH_JD: f64 = 2_440_587.5;
    (julian.is_finite() && (2_086_302.5..=5_373_484.5).contains(&julian)).then_some((julian - UNIX_EPOCH_JD) * 86_400.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julian_dates_convert_without_calendar_code() {
        assert_eq!(julian_to_unix_seconds(2_440_587.5), Some(0.0));
        assert_eq!(julian_to_unix_seconds(2_440_588.5), Some(86_400.0));
        assert_eq!(julian_to_unix_seconds(1e300), None);
        assert_eq!(julian_to_unix_seconds(2e9), None);
        assert_eq!(julian_to_unix_seconds(-1e300), None);
        assert_eq!(julian_to_unix_seconds(f64::NAN), None);
    }
}
