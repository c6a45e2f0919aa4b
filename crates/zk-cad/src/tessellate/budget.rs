//! How much of a layout a scene may hold, and what a scene cut short reports: "N of M instances
//! drawn". A 268-byte DXF (one 32767 × 32767 MINSERT) or a few kilobytes of nested 2 × 2 arrays
//! describe billions of block instances; the tessellator stops at its budgets, and the total it
//! would have drawn is counted here from the blocks alone, without expanding one instance.

use std::collections::HashMap;

use crate::entity::{Entity, EntityKind};
use crate::model::{BlockId, Drawing};
use crate::nesting::HARD_DEPTH_CAP;

/// Which budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`super::TessellateOptions::max_vertices`].
    Vertices(usize),
    /// [`super::TessellateOptions::max_instances`].
    Instances(u64),
}

/// What a scene cut short by a budget drew: block instances (inserts, each cell of an array,
/// nested ones included) drawn against the number the layout holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shortfall {
    pub limit: Limit,
    pub instances_drawn: u64,
    /// Counted without expanding, saturating at `u64::MAX`.
    pub instances_total: u64,
}

impl Shortfall {
    /// The diagnostic's message, which the viewer also shows.
    pub fn message(&self) -> String {
        let budget = match self.limit {
            Limit::Vertices(n) => format!("{n} vertices"),
            Limit::Instances(n) => format!("{n} instances"),
        };
        if self.instances_total == 0 {
            format!("the layout needs more than {budget}; the rest was not drawn")
        } else {
            format!(
                "{} of {} instances drawn: over the budget of {budget}; the rest was not drawn",
                self.instances_drawn, self.instances_total
            )
        }
    }
}

/// Block instances the tessellator would draw for `entities` (top level, depth 0), counted as it
/// counts them: every cell of every INSERT's array whose block has entities, through nested blocks
/// and the blocks of dimensions, tables and multileaders, down to `max_depth`; a block inside
/// itself counts nothing. Memoised per (block, depth), so nested arrays cost one visit per block
/// and level, not per instance; the recursion is capped at [`HARD_DEPTH_CAP`].
pub fn instances_in<'d>(drawing: &'d Drawing, entities: impl Iterator<Item = &'d Entity>, max_depth: usize) -> u64 {
    let mut counter = Counter {
        drawing,
        max_depth: max_depth.min(HARD_DEPTH_CAP),
        memo: HashMap::new(),
        in_progress: vec![false; drawing.blocks.len()],
    };
    entities.fold(0u64, |total, e| total.saturating_add(counter.entity(e, 0)))
}

struct Counter<'d> {
    drawing: &'d Drawing,
    max_depth: usize,
    memo: HashMap<(BlockId, usize), u64>,
    in_progress: Vec<bool>,
}

impl Counter<'_> {
    /// Instances drawn for an entity standing at `depth`.
    fn entity(&mut self, e: &Entity, depth: usize) -> u64 {
        if e.common.invisible {
            return 0;
        }
        match &e.kind {
            EntityKind::Insert(insert) => {
                if self.drawing.block(insert.block).is_none_or(|b| b.entities.is_empty()) {
                    return 0;
                }
                let cells = u64::from(insert.rows).saturating_mul(u64::from(insert.columns));
                let each = 1u64.saturating_add(self.block(insert.block, depth));
                cells.saturating_mul(each)
            }
            EntityKind::Dimension(d) => d.block.map_or(0, |b| self.block(b, depth)),
            EntityKind::Table(t) => t.block.map_or(0, |b| self.block(b, depth)),
            EntityKind::MLeader(m) => match (m.block_handle, m.block_location) {
                (Some(handle), Some(_)) => self
                    .drawing
                    .blocks
                    .iter()
                    .position(|b| b.block_record == handle)
                    .map_or(0, |i| self.block(BlockId(i as u32), depth)),
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Instances inside one instance of `id` drawn through an entity at `depth` (its content
    /// stands at `depth + 1`, drawn only below the depth cap).
    fn block(&mut self, id: BlockId, depth: usize) -> u64 {
        let Some(block) = self.drawing.block(id) else { return 0 };
        if depth >= self.max_depth || self.in_progress.get(id.index()).copied().unwrap_or(true) {
            return 0;
        }
        if let Some(&n) = self.memo.get(&(id, depth)) {
            return n;
        }
        self.in_progress[id.index()] = true;
        let n = block.entities.iter().fold(0u64, |total, e| total.saturating_add(self.entity(e, depth + 1)));
        self.in_progress[id.index()] = false;
        self.memo.insert((id, depth), n);
        n
    }
}
