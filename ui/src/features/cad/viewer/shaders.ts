// GLSL ES 3.00 for WebGL2. Positions come in scene coordinates (relative to the scene's origin,
// small enough for f32); `u_transform` (computed in double precision on the CPU) takes them to clip
// space: clip = M · (x, y, 1).

/** Lines, triangles and points of one colour (`u_color`). */
export const FLAT_VERTEX = `#version 300 es
layout(location = 0) in vec2 a_position;
uniform mat3 u_transform;
uniform float u_pointSize;
void main() {
  vec3 p = u_transform * vec3(a_position, 1.0);
  gl_Position = vec4(p.xy, 0.0, 1.0);
  gl_PointSize = u_pointSize;
}`;

export const FLAT_FRAGMENT = `#version 300 es
precision mediump float;
uniform vec4 u_color;
out vec4 o_color;
void main() {
  o_color = u_color;
}`;

/**
 * Glyphs: a mesh in em units (per vertex) placed by each instance's affine transform; the instance
 * also names its layer (shown or not: a texel of `u_layers`) and its ink (0xRRGGBB, or all ones for
 * the foreground colour).
 */
export const GLYPH_VERTEX = `#version 300 es
layout(location = 0) in vec2 a_corner;
layout(location = 1) in vec4 a_abcd;
layout(location = 2) in vec2 a_offset;
layout(location = 3) in uint a_layer;
layout(location = 4) in uint a_ink;
uniform mat3 u_transform;
uniform highp usampler2D u_layers;
uniform vec3 u_foreground;
out vec3 v_color;
void main() {
  uint shown = texelFetch(u_layers, ivec2(int(a_layer % 1024u), int(a_layer / 1024u)), 0).r;
  if (shown == 0u) {
    // Outside the clip volume: the triangle is dropped before rasterisation.
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    v_color = vec3(0.0);
    return;
  }
  vec2 scene = vec2(a_abcd.x * a_corner.x + a_abcd.z * a_corner.y + a_offset.x,
                    a_abcd.y * a_corner.x + a_abcd.w * a_corner.y + a_offset.y);
  vec3 p = u_transform * vec3(scene, 1.0);
  gl_Position = vec4(p.xy, 0.0, 1.0);
  v_color = a_ink == 0xFFFFFFFFu
    ? u_foreground
    : vec3(float((a_ink >> 16) & 255u), float((a_ink >> 8) & 255u), float(a_ink & 255u)) / 255.0;
}`;

export const GLYPH_FRAGMENT = `#version 300 es
precision mediump float;
in vec3 v_color;
out vec4 o_color;
void main() {
  o_color = vec4(v_color, 1.0);
}`;

/** The last finished picture of a large scene, drawn as a textured rectangle in scene coordinates. */
export const IMAGE_VERTEX = `#version 300 es
layout(location = 0) in vec2 a_position;
layout(location = 1) in vec2 a_uv;
uniform mat3 u_transform;
out vec2 v_uv;
void main() {
  vec3 p = u_transform * vec3(a_position, 1.0);
  gl_Position = vec4(p.xy, 0.0, 1.0);
  v_uv = a_uv;
}`;

export const IMAGE_FRAGMENT = `#version 300 es
precision mediump float;
uniform sampler2D u_image;
in vec2 v_uv;
out vec4 o_color;
void main() {
  o_color = texture(u_image, v_uv);
}`;
