//! The TABLES section: layers, linetypes, text styles, block records and dimension styles.
//! VPORT, VIEW, UCS and APPID entries are read past.

use super::Reader;
use super::tokenizer::Group;
use crate::color::Color;
use crate::diagnostics::DiagnosticCode;
use crate::model::{Layer, LayerId, Linetype, LinetypeShape, TextStyle};

impl<'a> Reader<'a, '_> {
    pub(super) fn read_tables(&mut self) {
        let mut buf = std::mem::take(&mut self.scratch);
        loop {
            match self.cursor.peek_record(&mut self.diag) {
                None | Some(b"ENDSEC" | b"EOF" | b"SECTION") => break,
                Some(b"TABLE") => {
                    // The table's own groups (name, count, handle) carry nothing we need.
                    self.cursor.read_record(&mut buf, &mut self.diag);
                    self.read_table_entries(&mut buf);
                }
                Some(_) => {
                    if let Some(head) = self.cursor.read_record(&mut buf, &mut self.diag) {
                        self.diag.info(
                            DiagnosticCode::Structure,
                            self.location(head.at),
                            "a table entry outside TABLE…ENDTAB was read anyway",
                        );
                        self.table_entry(head.raw(), &buf);
                    }
                }
            }
        }
        self.scratch = buf;
        self.end_section("TABLES");
    }

    fn read_table_entries(&mut self, buf: &mut Vec<Group<'a>>) {
        loop {
            match self.cursor.peek_record(&mut self.diag) {
                Some(b"ENDTAB") => {
                    self.cursor.read_record(buf, &mut self.diag);
                    return;
                }
                None | Some(b"ENDSEC" | b"EOF" | b"SECTION" | b"TABLE") => {
                    self.diag.info(DiagnosticCode::Structure, None, "a table without ENDTAB");
                    return;
                }
                Some(_) => {
                    if let Some(head) = self.cursor.read_record(buf, &mut self.diag) {
                        self.table_entry(head.raw(), buf);
                    }
                }
            }
        }
    }

    fn table_entry(&mut self, kind: &[u8], groups: &[Group<'a>]) {
        match kind {
            b"LAYER" => self.layer_entry(groups),
            b"LTYPE" => self.linetype_entry(groups),
            b"STYLE" => self.style_entry(groups),
            b"BLOCK_RECORD" => {
                let handle = groups.iter().find(|g| g.code == 5).and_then(Group::handle);
                let name = groups.iter().find(|g| g.code == 2).map(|g| self.text(g.raw()));
                if let (Some(handle), Some(name)) = (handle, name) {
                    self.block_record_names.push((handle, name));
                }
            }
            b"DIMSTYLE" => {
                if let Some(g) = groups.iter().find(|g| g.code == 2) {
                    let name = self.text(g.raw());
                    self.drawing.dim_styles.push(name);
                }
            }
            _ => {}
        }
    }

    fn entry_name(groups: &[Group<'a>]) -> Option<&'a [u8]> {
        groups.iter().find(|g| g.code == 2).map(|g| g.raw()).filter(|n| !n.is_empty())
    }

    fn layer_entry(&mut self, groups: &[Group<'a>]) {
        let Some(raw_name) = Self::entry_name(groups) else {
            self.diag.info(
                DiagnosticCode::Structure,
                groups.first().and_then(|g| self.location(g.at)),
                "a LAYER entry without a name was skipped",
            );
            return;
        };
        let name = self.text(raw_name);
        let mut layer = Layer { declared: true, ..Layer::undeclared(name) };
        let mut true_color = None;
        for g in groups {
            match g.code {
                5 => layer.handle = g.handle().unwrap_or(0),
                6 => layer.linetype = self.linetype_ref(g.raw()),
                62 => {
                    let aci = self.int(g);
                    layer.on = aci >= 0;
                    // A layer's colour is never BYLAYER/BYBLOCK: fall back to white.
                    layer.color = match Color::from_aci_code(aci) {
                        c @ Color::Aci(_) => c,
                        _ => Color::Aci(7),
                    };
                }
                70 => {
                    let flags = self.int(g);
                    layer.frozen = flags & 1 != 0;
                    layer.locked = flags & 4 != 0;
                }
                290 => layer.plot = self.int(g) != 0,
                370 => layer.lineweight = self.int16(g),
                420 => true_color = Some(self.int(g)),
                _ => {}
            }
        }
        if let Some(rgb) = true_color {
            layer.color = Color::Rgb((rgb & 0xFF_FFFF) as u32);
        }
        match self.layers.get(raw_name) {
            Some(id) if self.drawing.layers[id as usize].declared => {
                self.diag.info(
                    DiagnosticCode::Structure,
                    None,
                    format!("layer {:?} is declared twice; the first is kept", layer.name),
                );
            }
            Some(id) => self.drawing.layers[id as usize] = layer,
            None => {
                let id = LayerId(self.drawing.layers.len() as u32);
                self.drawing.layers.push(layer);
                self.layers.insert(raw_name, id.0);
            }
        }
    }

    fn linetype_entry(&mut self, groups: &[Group<'a>]) {
        let Some(raw_name) = Self::entry_name(groups) else { return };
        let mut linetype = Linetype { name: self.text(raw_name), declared: true, ..Linetype::default() };
        for g in groups {
            match g.code {
                3 => linetype.description = self.text(g.raw()),
                40 => linetype.pattern_length = self.real(g),
                49 => linetype.pattern.push(self.real(g)),
                74 => {
                    // A complex element follows the dash it belongs to.
                    let flags = self.int(g);
                    if flags != 0 {
                        linetype.embedded.push(LinetypeShape {
                            element: linetype.pattern.len().saturating_sub(1),
                            scale: 1.0,
                            ..LinetypeShape::default()
                        });
                    }
                }
                9 => {
                    let text = self.text(g.raw());
                    if let Some(shape) = linetype.embedded.last_mut() {
                        shape.text = Some(text);
                    }
                }
                75 | 340 | 46 | 50 | 44 | 45 => {
                    let Some(shape) = linetype.embedded.last_mut() else { continue };
                    match g.code {
                        75 => shape.shape_number = g.i32(),
                        340 => shape.style_handle = g.handle(),
                        46 => shape.scale = g.f64().unwrap_or(1.0),
                        50 => shape.rotation = g.f64().unwrap_or(0.0),
                        44 => shape.offset.x = g.f64().unwrap_or(0.0),
                        _ => shape.offset.y = g.f64().unwrap_or(0.0),
                    }
                }
                _ => {}
            }
        }
        match self.linetypes.get(raw_name) {
            Some(id) if self.drawing.linetypes[id as usize].declared => {}
            Some(id) => self.drawing.linetypes[id as usize] = linetype,
            None => {
                let id = self.drawing.linetypes.len() as u32;
                self.drawing.linetypes.push(linetype);
                self.linetypes.insert(raw_name, id);
            }
        }
    }

    fn style_entry(&mut self, groups: &[Group<'a>]) {
        let Some(raw_name) = Self::entry_name(groups) else {
            // Shape files are STYLE entries with an empty name; they are not text styles.
            return;
        };
        let mut style =
            TextStyle { name: self.text(raw_name), width_factor: 1.0, declared: true, ..TextStyle::default() };
        let mut in_acad_xdata = false;
        for g in groups {
            match g.code {
                3 => style.font_file = self.text(g.raw()),
                4 => style.bigfont_file = self.text(g.raw()),
                40 => style.fixed_height = self.real(g),
                41 => style.width_factor = self.real(g),
                50 => style.oblique = self.real(g),
                70 => style.flags = self.int32(g),
                1001 => in_acad_xdata = g.raw() == b"ACAD",
                1000 if in_acad_xdata && style.font_family.is_none() => {
                    let family = self.text(g.raw());
                    style.font_family = (!family.is_empty()).then_some(family);
                }
                _ => {}
            }
        }
        match self.text_styles.get(raw_name) {
            Some(id) if self.drawing.text_styles[id as usize].declared => {}
            Some(id) => self.drawing.text_styles[id as usize] = style,
            None => {
                let id = self.drawing.text_styles.len() as u32;
                self.drawing.text_styles.push(style);
                self.text_styles.insert(raw_name, id);
            }
        }
    }
}
