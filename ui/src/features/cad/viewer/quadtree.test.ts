import { describe, expect, it } from 'vitest';
import { NODE, NODE_FIELDS, buildQuadtree, visibleRanges } from './quadtree';

/** `n` unit squares on a grid of `side` columns, in an order that is spatially useless (shuffled). */
function grid(n: number, side: number) {
  const keys = new Float32Array(n * 2);
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const cell = (i * 7919) % n;
    const x = (cell % side) * 10;
    const y = Math.floor(cell / side) * 10;
    keys.set([x, y], i * 2);
    boxes.set([x, y, x + 1, y + 1], i * 4);
  }
  return { keys, boxes };
}

describe('quadtree', () => {
  it('orders every primitive once and bounds every node by its primitives', () => {
    const { keys, boxes } = grid(1000, 40);
    const { order, nodes } = buildQuadtree(1000, keys, boxes, null, 16);
    expect(new Set(order).size).toBe(1000);
    const root = Array.from(nodes.subarray(0, NODE_FIELDS));
    expect(root[NODE.first]).toBe(0);
    expect(root[NODE.count]).toBe(1000);
    expect([root[NODE.minX], root[NODE.minY], root[NODE.maxX], root[NODE.maxY]]).toEqual([0, 0, 391, 241]);
    expect(root[NODE.next]).toBe(nodes.length / NODE_FIELDS);
    // Each node's range holds exactly the primitives inside its bounds' box.
    for (let i = 0; i < nodes.length / NODE_FIELDS; i++) {
      const o = i * NODE_FIELDS;
      const first = nodes[o + NODE.first] ?? 0;
      const count = nodes[o + NODE.count] ?? 0;
      for (let k = first; k < first + count; k++) {
        const p = order[k] ?? 0;
        expect(boxes[p * 4]).toBeGreaterThanOrEqual(nodes[o + NODE.minX] ?? 0);
        expect(boxes[p * 4 + 2]).toBeLessThanOrEqual(nodes[o + NODE.maxX] ?? 0);
      }
    }
  });

  it('draws everything as one range when the view covers it, and few small ranges zoomed in', () => {
    const { keys, boxes } = grid(4096, 64);
    const { order, nodes } = buildQuadtree(4096, keys, boxes, null, 16);
    expect(visibleRanges(nodes, [-1, -1, 1000, 1000], 0)).toEqual([0, 4096]);
    const zoomed = visibleRanges(nodes, [100, 100, 130, 130], 0);
    let drawn = 0;
    const seen: number[] = [];
    for (let r = 0; r < zoomed.length; r += 2) {
      drawn += zoomed[r + 1] ?? 0;
      for (let k = zoomed[r] ?? 0; k < (zoomed[r] ?? 0) + (zoomed[r + 1] ?? 0); k++) seen.push(order[k] ?? 0);
    }
    // The 16 squares that touch the view are drawn, and not much else.
    const touching = [...Array(4096).keys()].filter((p) => (boxes[p * 4] ?? 0) <= 130 && (boxes[p * 4 + 2] ?? 0) >= 100 && (boxes[p * 4 + 1] ?? 0) <= 130 && (boxes[p * 4 + 3] ?? 0) >= 100);
    expect(touching.length).toBe(16);
    for (const p of touching) expect(seen).toContain(p);
    expect(drawn).toBeLessThan(200);
  });

  it('leaves out what is smaller than the given em', () => {
    const { keys, boxes } = grid(64, 8);
    const ems = new Float32Array(64).fill(0.5);
    const { nodes } = buildQuadtree(64, keys, boxes, ems, 4);
    expect(visibleRanges(nodes, [-1, -1, 1000, 1000], 1)).toEqual([]);
    expect(visibleRanges(nodes, [-1, -1, 1000, 1000], 0.25)).toEqual([0, 64]);
  });

  it('copes with no primitives and with all at one point', () => {
    expect(buildQuadtree(0, new Float32Array(), new Float32Array()).nodes.length).toBe(0);
    const same = buildQuadtree(300, new Float32Array(600), new Float32Array(1200), null, 16);
    expect(visibleRanges(same.nodes, [-1, -1, 1, 1], 0)).toEqual([0, 300]);
  });
});
