/**
 * IDX format (LeCun's MNIST files, reused by Fashion-MNIST): two zero bytes, a
 * type code, the number of dimensions, then each dimension as a big-endian u32,
 * then the data. Only unsigned bytes (type 0x08) occur in the image sets we load.
 */
import { DataError } from '../core/errors';

export interface IdxArray {
  dims: number[];
  /** View into the input buffer (no copy). */
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Parses an IDX ubyte array; `file` names the source in error messages. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const bad = (why: string) => new DataError(`not a valid IDX file: ${file} (${why})`);
  if (bytes.length < 4) throw bad(`${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw bad('magic number does not start with two zero bytes');
  if (bytes[2] !== UBYTE) throw bad(`type code 0x${bytes[2].toString(16)}, only 0x08 (unsigned byte) is supported`);
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (rank === 0 || bytes.length < headerBytes) throw bad(`rank ${rank} with ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - headerBytes !== expected) {
    throw bad(`dims ${dims.join('x')} need ${expected} data bytes, found ${bytes.length - headerBytes}`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encodes an IDX ubyte array (used by tests to build small fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
