/**
 * PNG text chunks: how a PNG figure carries its provenance (ARCHITECTURE.md §4). A text chunk
 * goes just before IEND, so every viewer still shows the image and `exiftool`,
 * `identify -verbose` or readPngText() can read it back.
 * Latin-1 text is written as tEXt (what most tools show); anything else as
 * uncompressed iTXt (UTF-8), so no character is ever mangled.
 */

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

let crcTable: Uint32Array | undefined;

/** CRC-32 as the PNG spec defines it (polynomial 0xEDB88320), over type + data. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Chunk {
  type: string;
  /** Offset of the chunk's length field. */
  start: number;
  dataStart: number;
  length: number;
}

export function isPng(png: Uint8Array): boolean {
  return png.length >= SIGNATURE.length && SIGNATURE.every((b, i) => png[i] === b);
}

function chunks(png: Uint8Array): Chunk[] {
  if (!isPng(png)) throw new Error('not a PNG: the 8-byte signature is missing');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  let pos = SIGNATURE.length;
  while (pos + 12 <= png.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(png[pos + 4], png[pos + 5], png[pos + 6], png[pos + 7]);
    if (pos + 12 + length > png.length) throw new Error(`truncated PNG: chunk ${type} at byte ${pos} runs past the end`);
    out.push({ type, start: pos, dataStart: pos + 8, length });
    pos += 12 + length;
    if (type === 'IEND') return out;
  }
  throw new Error('truncated PNG: no IEND chunk');
}

function isLatin1(s: string): boolean {
  // tEXt is Latin-1 without NUL: every code unit in 1..255.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 1 || c > 255) return false;
  }
  return true;
}

function latin1Bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

function makeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(latin1Bytes(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function checkKeyword(keyword: string): void {
  // PNG spec: 1-79 Latin-1 printable characters, no leading/trailing/double spaces.
  if (!/^[\u0021-\u007e\u00a1-\u00ff]([\u0020-\u007e\u00a1-\u00ff]{0,77}[\u0021-\u007e\u00a1-\u00ff])?$/.test(keyword) || keyword.includes('  ')) {
    throw new Error(`invalid PNG text keyword ${JSON.stringify(keyword)}: 1-79 printable Latin-1 characters`);
  }
}

/** Returns a copy of `png` with one text chunk (keyword -> text) inserted before IEND. */
export function addPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  checkKeyword(keyword);
  const iend = chunks(png).find((c) => c.type === 'IEND')!;
  let chunk: Uint8Array;
  if (isLatin1(text)) {
    // tEXt: keyword NUL text
    chunk = makeChunk('tEXt', concat([latin1Bytes(keyword), Uint8Array.of(0), latin1Bytes(text)]));
  } else {
    // iTXt: keyword NUL, compression flag 0, method 0, empty language NUL, empty translated keyword NUL, UTF-8 text
    chunk = makeChunk('iTXt', concat([latin1Bytes(keyword), Uint8Array.of(0, 0, 0, 0, 0), new TextEncoder().encode(text)]));
  }
  return concat([png.subarray(0, iend.start), chunk, png.subarray(iend.start)]);
}

/** The text stored under `keyword` (first tEXt or uncompressed iTXt chunk), or undefined. */
export function readPngText(png: Uint8Array, keyword: string): string | undefined {
  for (const c of chunks(png)) {
    if (c.type !== 'tEXt' && c.type !== 'iTXt') continue;
    const data = png.subarray(c.dataStart, c.dataStart + c.length);
    const nul = data.indexOf(0);
    if (nul < 0 || latin1(data.subarray(0, nul)) !== keyword) continue;
    if (c.type === 'tEXt') return latin1(data.subarray(nul + 1));
    if (data[nul + 1] !== 0) continue; // compressed iTXt: we never write it
    const lang = data.indexOf(0, nul + 3);
    const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
    if (translated < 0) continue;
    return new TextDecoder().decode(data.subarray(translated + 1));
  }
  return undefined;
}

/** Checks every chunk's CRC (used by tests; a viewer rejects a PNG with a bad one). */
export function pngCrcsValid(png: Uint8Array): boolean {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return chunks(png).every((c) => view.getUint32(c.dataStart + c.length) === crc32(png.subarray(c.start + 4, c.dataStart + c.length)));
}

/** Width and height from the IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const ihdr = chunks(png)[0];
  if (!ihdr || ihdr.type !== 'IHDR') throw new Error('not a PNG: the first chunk is not IHDR');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(ihdr.dataStart), height: view.getUint32(ihdr.dataStart + 4) };
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
