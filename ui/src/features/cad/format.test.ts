import { describe, expect, it } from 'vitest';
import type { Facts } from '@/lib/api';
import { blocksOf } from './api';
import { formatLength, unitSymbol } from './format';

describe('formatting lengths', () => {
  it('uses the unit symbol of $INSUNITS', () => {
    expect(unitSymbol('millimeters')).toBe('mm');
    expect(unitSymbol('US survey feet')).toBe('ft (US)');
    expect(unitSymbol(null)).toBe('');
    expect(unitSymbol('unitless')).toBe('');
  });

  it('shows up to four decimals without trailing zeros', () => {
    expect(formatLength(5000, 'millimeters')).toBe('5000 mm');
    expect(formatLength(1234.56789, 'meters')).toBe('1234.5679 m');
    expect(formatLength(0.000123456, null)).toBe('0.0001235');
    expect(formatLength(0, 'inches')).toBe('0 in');
  });
});

describe('blocks of the facts', () => {
  it('lists blocks by insert count', () => {
    const block = (name: string, inserts: number, entities: number) => ({ name, inserts, entities, xref_path: null, defined: true });
    const facts = { blocks: [block('DOOR', 2, 3), block('CHAIR', 12, 2), block('UNUSED', 0, 4)] } as unknown as Facts;
    expect(blocksOf(facts)).toEqual([
      { name: 'CHAIR', inserts: 12, entities: 2 },
      { name: 'DOOR', inserts: 2, entities: 3 },
      { name: 'UNUSED', inserts: 0, entities: 4 },
    ]);
    expect(blocksOf(null)).toEqual([]);
  });
});
