/**
 * The parts of the WebAssembly API this code uses, typed here: the notebook kernel (tslab)
 * compiles lib/ without the DOM lib that declares `WebAssembly`, so naming the global's
 * types directly would not compile there.
 */

/** A compiled module: opaque here. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Module: new (bytes: Uint8Array | ArrayBuffer) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  instantiate(bytes: Uint8Array | ArrayBuffer, imports: object): Promise<{ instance: WasmInstance; module: WasmModule }>;
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
