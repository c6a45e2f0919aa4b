//! Blocks that insert blocks: cycles (a block that contains itself, directly or through others)
//! and nesting deeper than a cap. Both are found without recursion, so no drawing can exhaust
//! the stack; whoever expands blocks (extents, tessellation) still caps its own depth.

use crate::diagnostics::{DiagnosticCode, DiagnosticSink};
use crate::entity::{Entity, EntityKind};
use crate::model::{BlockId, Drawing};

/// The blocks an entity draws through: INSERT, and the anonymous blocks of DIMENSION and
/// ACAD_TABLE.
pub fn referenced_block(entity: &Entity) -> Option<BlockId> {
    match &entity.kind {
        EntityKind::Insert(i) => Some(i.block),
        EntityKind::Dimension(d) => d.block,
        EntityKind::Table(t) => t.block,
        _ => None,
    }
}

/// The deepest nesting any drawing will follow, whatever the caller asks: recursion over blocks
/// elsewhere in the crate is bounded by it.
pub const HARD_DEPTH_CAP: usize = 256;

#[derive(Clone, Copy, PartialEq)]
enum Visit {
    New,
    OnPath,
    Done,
}

/// Reports cycles and blocks nested deeper than `max_depth`.
pub(crate) fn check_block_nesting(drawing: &Drawing, max_depth: usize, diag: &mut DiagnosticSink) {
    let n = drawing.blocks.len();
    let children: Vec<Vec<usize>> = drawing
        .blocks
        .iter()
        .map(|b| {
            let mut c: Vec<usize> =
                b.entities.iter().filter_map(referenced_block).map(BlockId::index).filter(|&i| i < n).collect();
            c.sort_unstable();
            c.dedup();
            c
        })
        .collect();
    let mut visit = vec![Visit::New; n];
    // Levels of nesting below each block (0: inserts nothing).
    let mut height = vec![0usize; n];
    for root in 0..n {
        if visit[root] != Visit::New {
            continue;
        }
        visit[root] = Visit::OnPath;
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = path.last_mut() {
            let (block, next) = *top;
            if let Some(&child) = children[block].get(next) {
                top.1 += 1;
                match visit[child] {
                    Visit::New => {
                        visit[child] = Visit::OnPath;
                        path.push((child, 0));
                    }
                    Visit::OnPath => {
                        diag.warn(
                            DiagnosticCode::BlockCycle,
                            None,
                            format!(
                                "block {:?} inserts {:?}, which contains it again: that insert is not drawn",
                                drawing.blocks[block].name, drawing.blocks[child].name
                            ),
                        );
                    }
                    Visit::Done => height[block] = height[block].max(height[child] + 1),
                }
            } else {
                path.pop();
                visit[block] = Visit::Done;
                if let Some(&(parent, _)) = path.last() {
                    height[parent] = height[parent].max(height[block] + 1);
                }
            }
        }
    }
    let cap = max_depth.min(HARD_DEPTH_CAP);
    for (i, h) in height.iter().enumerate() {
        if *h > cap {
            diag.warn(
                DiagnosticCode::BlockTooDeep,
                None,
                format!(
                    "block {:?} nests {h} levels of blocks, more than {cap}: the deeper levels are not drawn",
                    drawing.blocks[i].name
                ),
            );
        }
    }
}
