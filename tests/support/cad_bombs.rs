//! The two CAD bombs of issue 12, written here rather than committed: tiny DXF files that describe
//! billions of block instances. `bench/cad-bombs.sh` writes the same two.

/// One 32767 × 32767 MINSERT of a block holding one line: 1,073,676,289 instances.
pub const ARRAY_INSTANCES: u64 = 32767 * 32767;
/// Thirty levels of nested 2 × 2 arrays inserted once: 1 + 4 + … + 4^30 = (4^31 − 1) / 3 instances.
pub const NESTED_INSTANCES: u64 = (4u64.pow(31) - 1) / 3;

fn dxf(blocks: &str, entities: &str) -> Vec<u8> {
    format!("0\nSECTION\n2\nBLOCKS\n{blocks}0\nENDSEC\n0\nSECTION\n2\nENTITIES\n{entities}0\nENDSEC\n0\nEOF\n")
        .into_bytes()
}

const LINE: &str = "0\nLINE\n8\n0\n10\n0\n20\n0\n11\n1\n21\n1\n";

fn minsert(block: &str, n: u32, spacing: u64) -> String {
    format!("0\nINSERT\n8\n0\n2\n{block}\n10\n0\n20\n0\n70\n{n}\n71\n{n}\n44\n{spacing}\n45\n{spacing}\n")
}

fn block(name: &str, body: &str) -> String {
    format!("0\nBLOCK\n8\n0\n2\n{name}\n70\n0\n10\n0\n20\n0\n{body}0\nENDBLK\n")
}

/// The array bomb (about 250 bytes).
pub fn array_bomb() -> Vec<u8> {
    dxf(&block("B", LINE), &minsert("B", 32767, 2))
}

/// The nested bomb (about 3.5 KB): block L0 holds the line, each L_k a 2 × 2 array of L_{k−1}.
pub fn nested_bomb() -> Vec<u8> {
    let mut blocks = block("L0", LINE);
    for k in 1..=30u32 {
        blocks.push_str(&block(&format!("L{k}"), &minsert(&format!("L{}", k - 1), 2, 1 << (k + 1))));
    }
    dxf(&blocks, &minsert("L30", 1, 1))
}
