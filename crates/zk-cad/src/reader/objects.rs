//! The OBJECTS section: the layouts (LAYOUT) and the raster files images refer to (IMAGEDEF).
//! Dictionaries, groups, plot settings and the rest are read past.

use super::Reader;
use super::tokenizer::Group;
use crate::geometry::Vec2;
use crate::model::{ImageDef, Layout};

impl<'a> Reader<'a, '_> {
    pub(super) fn read_objects(&mut self) {
        let mut buf = std::mem::take(&mut self.scratch);
        loop {
            match self.cursor.peek_record(&mut self.diag) {
                None | Some(b"ENDSEC" | b"EOF" | b"SECTION") => break,
                Some(_) => {
                    let Some(head) = self.cursor.read_record(&mut buf, &mut self.diag) else { break };
                    match head.raw() {
                        b"LAYOUT" => self.layout(&buf),
                        b"IMAGEDEF" => self.image_def(&buf),
                        _ => {}
                    }
                }
            }
        }
        self.scratch = buf;
        self.end_section("OBJECTS");
    }

    fn layout(&mut self, groups: &[Group<'a>]) {
        // The plot settings part reuses codes 1, 10, 330…: read from the AcDbLayout marker on.
        let start = groups.iter().position(|g| g.code == 100 && g.raw().trim_ascii() == b"AcDbLayout").unwrap_or(0);
        let mut layout = Layout::default();
        let mut block_record = None;
        layout.handle = groups.iter().find(|g| g.code == 5).and_then(Group::handle).unwrap_or(0);
        for g in &groups[start..] {
            match g.code {
                1 => layout.name = self.text(g.raw()),
                71 => layout.tab_order = self.int32(g),
                10 => layout.limits_min.x = self.real(g),
                20 => layout.limits_min.y = self.real(g),
                11 => layout.limits_max.x = self.real(g),
                21 => layout.limits_max.y = self.real(g),
                330 => block_record = g.handle(),
                _ => {}
            }
        }
        let index = self.drawing.layouts.len();
        self.drawing.layouts.push(layout);
        if let Some(handle) = block_record {
            self.pending_layouts.push((index, handle));
        }
    }

    fn image_def(&mut self, groups: &[Group<'a>]) {
        let mut def = ImageDef::default();
        let mut size = Vec2::default();
        for g in groups {
            match g.code {
                5 => def.handle = g.handle().unwrap_or(0),
                1 => def.file_name = self.text(g.raw()),
                10 => size.x = self.real(g),
                20 => size.y = self.real(g),
                _ => {}
            }
        }
        def.size_pixels = size;
        self.drawing.image_defs.push(def);
    }

    /// Connects layouts to their blocks, and gives R12-style files (no LAYOUT objects) a model
    /// layout and, when they have paper-space entities, one paper layout.
    pub(super) fn resolve_layouts(&mut self) {
        for (index, record) in std::mem::take(&mut self.pending_layouts) {
            let by_owner = self.drawing.blocks.iter().position(|b| b.defined && b.block_record == record);
            let by_name = || {
                let name = &self.block_record_names.iter().find(|(h, _)| *h == record)?.1;
                self.drawing.find_block(name).map(|id| id.index())
            };
            let block = by_owner.or_else(by_name);
            self.drawing.layouts[index].block = block.map(|i| crate::model::BlockId(i as u32));
        }
        if !self.drawing.layouts.iter().any(Layout::is_model) {
            let block = self.drawing.find_block("*Model_Space");
            self.drawing.layouts.insert(0, Layout { name: "Model".to_owned(), block, ..Layout::default() });
        }
        let has_paper = self.drawing.layouts.iter().any(|l| !l.is_model());
        if !has_paper && self.drawing.entities.iter().any(|e| e.common.paper_space) {
            let block = self.drawing.find_block("*Paper_Space");
            self.drawing.layouts.push(Layout { name: "Layout1".to_owned(), tab_order: 1, block, ..Layout::default() });
        }
        self.drawing.layouts.sort_by_key(|l| (!l.is_model(), l.tab_order));
    }
}
