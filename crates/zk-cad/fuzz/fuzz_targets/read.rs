//! Any bytes: `read` returns a drawing or an error, and the facts and scenes of any drawing it
//! returns can be computed, without a panic, an abort, a hang or a runaway allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = zk_cad::ReadOptions { max_bytes: 1 << 22, ..zk_cad::ReadOptions::default() };
    if let Ok((drawing, _diagnostics)) = zk_cad::read(data, &options) {
        let _ = zk_cad::facts(&drawing, options.max_block_depth);
        let scene_options = zk_cad::TessellateOptions { max_vertices: 1_000_000, ..Default::default() };
        for layout in &drawing.layouts {
            let _ = zk_cad::tessellate(&drawing, layout, &scene_options);
        }
    }
});
