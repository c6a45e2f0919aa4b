//! The BLOCKS section (`BLOCK`, its entities, `ENDBLK`) and the entity lists shared with the
//! ENTITIES section, including the records that belong to the one before them: VERTEX…SEQEND
//! after a POLYLINE, ATTRIB…SEQEND after an INSERT.

use super::Reader;
use super::tokenizer::Group;
use crate::diagnostics::DiagnosticCode;
use crate::entity::{Entity, EntityKind};
use crate::geometry::Vec3;
use crate::model::Block;

impl<'a> Reader<'a, '_> {
    pub(super) fn read_blocks(&mut self) {
        let mut buf = std::mem::take(&mut self.scratch);
        loop {
            match self.cursor.peek_record(&mut self.diag) {
                None | Some(b"ENDSEC" | b"EOF" | b"SECTION") => break,
                Some(b"BLOCK") => {
                    let Some(head) = self.cursor.read_record(&mut buf, &mut self.diag) else { break };
                    let block = self.block_header(&buf);
                    self.scratch = std::mem::take(&mut buf);
                    let entities = self.read_entity_list(true);
                    buf = std::mem::take(&mut self.scratch);
                    match self.cursor.peek_record(&mut self.diag) {
                        Some(b"ENDBLK") => {
                            self.cursor.read_record(&mut buf, &mut self.diag);
                        }
                        _ => self.diag.info(
                            DiagnosticCode::Structure,
                            self.location(head.at),
                            format!("block {:?} has no ENDBLK", block.0.name),
                        ),
                    }
                    self.define_block(block.0, block.1, entities);
                }
                Some(_) => {
                    // Entities between ENDBLK and the next BLOCK belong nowhere.
                    if let Some(head) = self.cursor.read_record(&mut buf, &mut self.diag) {
                        let kind = String::from_utf8_lossy(head.raw()).into_owned();
                        self.diag.warn(
                            DiagnosticCode::Structure,
                            self.location(head.at),
                            format!("{kind} outside any BLOCK was skipped"),
                        );
                    }
                }
            }
        }
        self.scratch = buf;
        self.end_section("BLOCKS");
    }

    /// The BLOCK record: its definition minus the entities, and its raw name.
    fn block_header(&mut self, groups: &[Group<'a>]) -> (Block, &'a [u8]) {
        let mut block = Block { defined: true, ..Block::default() };
        let mut raw_name: &'a [u8] = b"";
        let mut base = Vec3::ZERO;
        for g in groups {
            match g.code {
                2 => raw_name = g.raw(),
                3 if raw_name.is_empty() => raw_name = g.raw(),
                4 => block.description = self.text(g.raw()),
                1 => {
                    let path = self.text(g.raw());
                    block.xref_path = (!path.is_empty()).then_some(path);
                }
                10 => base.x = self.real(g),
                20 => base.y = self.real(g),
                30 => base.z = self.real(g),
                70 => block.flags = self.int32(g),
                330 => block.block_record = g.handle().unwrap_or(0),
                _ => {}
            }
        }
        block.base_point = base;
        block.name = self.text(raw_name);
        (block, raw_name)
    }

    fn define_block(&mut self, mut block: Block, raw_name: &'a [u8], entities: Vec<Entity>) {
        block.entities = entities;
        match self.blocks.get(raw_name) {
            Some(id) if self.drawing.blocks[id as usize].defined => {
                self.diag.warn(
                    DiagnosticCode::DuplicateBlock,
                    None,
                    format!(
                        "block {:?} is defined twice; the second definition ({} entities) was dropped",
                        block.name,
                        block.entities.len()
                    ),
                );
            }
            Some(id) => self.drawing.blocks[id as usize] = block,
            None => {
                let id = self.drawing.blocks.len() as u32;
                self.drawing.blocks.push(block);
                self.blocks.insert(raw_name, id);
            }
        }
    }

    /// Reads entity records up to the end of the section (or, in a block, up to ENDBLK).
    pub(super) fn read_entity_list(&mut self, in_block: bool) -> Vec<Entity> {
        let mut out = Vec::new();
        let mut buf = std::mem::take(&mut self.scratch);
        loop {
            let Some(kind) = self.cursor.peek_record(&mut self.diag) else {
                if self.cursor.peek(&mut self.diag).is_none() {
                    break;
                }
                // A stray non-zero group (only possible right after a broken record start).
                self.cursor.next(&mut self.diag);
                continue;
            };
            match kind {
                b"ENDSEC" | b"EOF" | b"SECTION" => break,
                b"ENDBLK" | b"BLOCK" if in_block => break,
                _ => {}
            }
            let Some(head) = self.cursor.read_record(&mut buf, &mut self.diag) else { break };
            self.count_record();
            match kind {
                b"POLYLINE" => {
                    let polyline = self.polyline(&buf);
                    let common = self.common(&buf);
                    let polyline = self.polyline_vertices(polyline, &mut buf);
                    out.push(Entity { common, kind: EntityKind::Polyline(Box::new(polyline)) });
                }
                b"INSERT" => {
                    let (mut insert, common) = self.insert(&buf);
                    self.attributes(&mut insert.attributes, &mut buf);
                    out.push(Entity { common, kind: EntityKind::Insert(Box::new(insert)) });
                }
                b"VERTEX" | b"ATTRIB" | b"SEQEND" | b"ENDBLK" => {
                    let name = String::from_utf8_lossy(kind);
                    self.diag.warn(
                        DiagnosticCode::OrphanRecord,
                        self.location(head.at),
                        format!("{name} without the entity it belongs to was skipped"),
                    );
                }
                _ => {
                    if let Some(entity) = self.entity(kind, &buf) {
                        out.push(entity);
                    }
                }
            }
        }
        self.scratch = buf;
        out
    }

    /// Takes the ATTRIB records (and the SEQEND) after an INSERT.
    fn attributes(&mut self, into: &mut Vec<Entity>, buf: &mut Vec<Group<'a>>) {
        while self.cursor.peek_record(&mut self.diag) == Some(b"ATTRIB") {
            self.cursor.read_record(buf, &mut self.diag);
            self.count_record();
            let (attribute, common) = self.attribute(buf);
            into.push(Entity { common, kind: EntityKind::Attribute(Box::new(attribute)) });
        }
        // A Vec's first push reserves four slots; most inserts have one or two attributes.
        into.shrink_to_fit();
        // A SEQEND here can only close this INSERT, with or without attributes.
        if self.cursor.peek_record(&mut self.diag) == Some(b"SEQEND") {
            self.cursor.read_record(buf, &mut self.diag);
        }
    }
}
