/** `$INSUNITS` names (zk-cad's units_name) as the short symbol after a length. */
const SYMBOLS: Record<string, string> = {
  inches: 'in',
  feet: 'ft',
  miles: 'mi',
  millimeters: 'mm',
  centimeters: 'cm',
  meters: 'm',
  kilometers: 'km',
  microinches: 'µin',
  mils: 'mil',
  yards: 'yd',
  angstroms: 'Å',
  nanometers: 'nm',
  microns: 'µm',
  decimeters: 'dm',
  decameters: 'dam',
  hectometers: 'hm',
  gigameters: 'Gm',
  'astronomical units': 'AU',
  'light years': 'ly',
  parsecs: 'pc',
  'US survey feet': 'ft (US)',
};

/** "mm" for "millimeters"; "" for no or unknown units. */
export function unitSymbol(units: string | null | undefined): string {
  return units ? (SYMBOLS[units] ?? '') : '';
}

/**
 * A length as CAD programs show it: up to four decimals, trailing zeros dropped, with the unit
 * symbol. Small numbers keep significant digits.
 */
export function formatLength(value: number, units: string | null | undefined, locale = 'en'): string {
  const abs = Math.abs(value);
  const digits = abs === 0 || abs >= 1 ? 4 : Math.min(10, 3 - Math.floor(Math.log10(abs)));
  const text = new Intl.NumberFormat(locale, { maximumFractionDigits: digits, useGrouping: false }).format(value);
  const symbol = unitSymbol(units);
  return symbol ? `${text} ${symbol}` : text;
}
