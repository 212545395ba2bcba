/**
 * Which global secondary index entries a table write changes, from the item's image before and after it, the way
 * DynamoDB decides it (Developer Guide, "Provisioned throughput considerations for Global Secondary Indexes"):
 * - the item enters an index (it now has every key attribute of the index) → 1 write (put), at the new key;
 * - it leaves one (it lost one of them, or was deleted) → 1 write (delete), at the old key;
 * - an index key attribute (partition or sort) changed value → 2 writes: delete the old entry, put the new one;
 * - otherwise 1 write when an attribute the index projects changed (ALL: any; KEYS_ONLY: none besides the keys;
 *   INCLUDE: the listed nonKeyAttributes), else 0.
 * A write that did not happen (a failed condition) changes no index: call this only for writes that succeeded.
 * Pure: the IAM proxy reads the images and hands them here.
 */

/** An attribute value in DynamoDB's JSON wire form (`{"S":"x"}`, `{"N":"1"}`, `{"M":{…}}`, …). */
export type AttributeValue = Record<string, any>;
/** An item (or key) in DynamoDB's JSON wire form. */
export type Item = Record<string, AttributeValue>;

export interface IndexSchema {
  name: string;
  partitionKey: string;
  sortKey?: string;
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** INCLUDE only: the non-key attributes the index copies. */
  nonKeyAttributes?: string[];
}

/** A table's keys and its global secondary indexes, as its template declares them. */
export interface TableSchema {
  partitionKey: string;
  sortKey?: string;
  indexes: IndexSchema[];
}

/** Writes to one index partition-key value. */
export interface IndexWrite {
  index: string;
  /** The index partition-key value written (its scalar, as `dynamodb:LeadingKeys` names it). */
  key: string;
  writes: number;
}

/** The index writes one successful table write caused, per index and index partition-key value. */
export function indexWrites(table: TableSchema, before: Item | undefined, after: Item | undefined): IndexWrite[] {
  return table.indexes.flatMap((index) => writesToIndex(table, index, before, after));
}

function writesToIndex(
  table: TableSchema,
  index: IndexSchema,
  before: Item | undefined,
  after: Item | undefined,
): IndexWrite[] {
  const keyAttributes = [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])];
  const inIndex = (item: Item | undefined): item is Item =>
    item !== undefined && keyAttributes.every((name) => item[name] !== undefined);
  const was = inIndex(before);
  const is = inIndex(after);
  const at = (item: Item, writes: number): IndexWrite => ({
    index: index.name,
    key: scalarOf(item[index.partitionKey]),
    writes,
  });
  if (!was && !is) return [];
  if (!was) return [at(after as Item, 1)];
  if (!is) return [at(before, 1)];
  if (keyAttributes.some((name) => !sameValue(before[name], after[name]))) {
    const removed = at(before, 1);
    const added = at(after, 1);
    return removed.key === added.key ? [{ ...removed, writes: 2 }] : [removed, added];
  }
  return projectedChanged(table, index, before, after) ? [at(after, 1)] : [];
}

/** Whether an attribute the index holds, besides its own keys (unchanged here), differs between the images. */
function projectedChanged(table: TableSchema, index: IndexSchema, before: Item, after: Item): boolean {
  const tableKeys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
  const projected =
    index.projection === 'ALL'
      ? unique([...Object.keys(before), ...Object.keys(after)])
      : index.projection === 'INCLUDE'
        ? (index.nonKeyAttributes ?? [])
        : [];
  // The table's own keys are in every index but never change within one item.
  return projected.some((name) => !tableKeys.includes(name) && !sameValue(before[name], after[name]));
}

/** The scalar of a key attribute (`S`, `N` or `B`): index key attributes can be nothing else. */
export function scalarOf(value: AttributeValue | undefined): string {
  if (value) for (const type of ['S', 'N', 'B']) if (typeof value[type] === 'string') return value[type];
  return JSON.stringify(value ?? null);
}

/**
 * Equality of two attribute values as DynamoDB compares them: sets are unordered, a map's keys unordered, numbers
 * by value (`1` = `1.0`); an absent attribute equals only another absent one.
 */
export function sameValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonical(a) === canonical(b);
}

function canonical(value: AttributeValue): string {
  const [type] = Object.keys(value);
  const inner = value[type];
  switch (type) {
    case 'N':
      return `N:${canonicalNumber(inner)}`;
    case 'NS':
      return `NS:${JSON.stringify((inner as string[]).map(canonicalNumber).sort())}`;
    case 'SS':
    case 'BS':
      return `${type}:${JSON.stringify([...(inner as string[])].sort())}`;
    case 'L':
      return `L:[${(inner as AttributeValue[]).map(canonical).join(',')}]`;
    case 'M':
      return `M:{${Object.keys(inner)
        .sort()
        .map((name) => `${JSON.stringify(name)}:${canonical(inner[name])}`)
        .join(',')}}`;
    default:
      return `${type}:${JSON.stringify(inner)}`;
  }
}

/** `+01.50`, `1.5`, `15E-1` → one spelling: DynamoDB stores numbers by value. */
function canonicalNumber(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match) return text;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  let digits = `${whole}${fraction}`.replace(/^0+/, '');
  let point = whole.replace(/^0+/, '').length + Number(exponent);
  if (digits === '') return '0';
  // Leading zeros of the fraction move the point left; trailing zeros are not significant.
  if (whole.replace(/^0+/, '') === '')
    point = Number(exponent) - (fraction.length - fraction.replace(/^0+/, '').length);
  digits = digits.replace(/0+$/, '');
  return `${sign === '-' ? '-' : ''}0.${digits}e${point}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
