//! Any bytes: `read` returns a drawing or an error, and everything the product derives from a
//! drawing it returns (facts, the scene of every layout with its glyphs, the viewer's encoded
//! scene, a small PNG and the SVG of model space) can be computed, without a panic, an abort, a
//! hang or a runaway allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = zk_cad::ReadOptions { max_bytes: 1 << 22, ..zk_cad::ReadOptions::default() };
    if let Ok((drawing, _diagnostics)) = zk_cad::read(data, &options) {
        let _ = zk_cad::facts(&drawing, options.max_block_depth);
        let scene_options = zk_cad::TessellateOptions { max_vertices: 1_000_000, ..Default::default() };
        for (index, layout) in drawing.layouts.iter().enumerate() {
            let Ok((scene, _)) = zk_cad::tessellate(&drawing, layout, &scene_options) else { continue };
            let _ = zk_cad::wire::encode_scene(&drawing, layout, &scene, 0);
            if index == 0 {
                let raster = zk_cad::raster::RasterOptions { width: 64, ..Default::default() };
                let _ = zk_cad::raster::scene_to_png(&scene, &raster);
                let _ = zk_cad::svg::scene_to_svg(&scene, &zk_cad::svg::SvgOptions::default());
            }
        }
    }
});
