// The viewer's scene format (crates/zk-cad/src/wire.rs): the header's types, generated from the Rust
// ones by ts-rs. `decode.ts` checks every value it relies on, since a scene comes over the network.
export type { GlyphRange, GlyphRun, SceneBatch, SceneGlyphs, SceneHeader, SceneLayer, SceneShortfall, SceneText, SceneViewport, Slice } from '@/lib/api';
