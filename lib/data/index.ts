/** Dataset loaders and batching (DESIGN §4b): real data, offline, checksummed. */
export * from './text';
export * from './images';
export { parseIdx, encodeIdx, type IdxArray } from './idx';
export type { CacheInfo } from './cache';
