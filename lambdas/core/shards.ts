/**
 * Sharded index keys. An index whose every item shares one partition key takes every write on one partition
 * (about 1 000 writes a second); spreading the items over `count` keys by a hash of their id spreads the writes.
 * Readers then read every shard (in parallel) and merge.
 */

/** FNV-1a (32 bits) of the text, modulo `count`: stable, cheap, and even enough for random ids. */
export function shardOf(text: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % Math.max(1, count);
}

/** The key of shard `index` under `prefix`: `active#07`. Two digits sort shards in order up to 100 of them. */
export const shardKey = (prefix: string, index: number): string => `${prefix}#${String(index).padStart(2, '0')}`;

/** Every shard key under `prefix`. */
export const shardKeys = (prefix: string, count: number): string[] =>
  Array.from({ length: Math.max(1, count) }, (_, index) => shardKey(prefix, index));

/** Shard `shard`'s share of `total` over `shards`: the shares add up to the total exactly, so together they never pass it. */
export function shareOf(total: number, shards: number, shard: number): number {
  return Math.floor(total / shards) + (shard < total % shards ? 1 : 0);
}
