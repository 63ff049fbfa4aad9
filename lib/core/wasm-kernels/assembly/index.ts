// Entry point of the kernel module (see ../build.mjs). Everything exported here is a
// plain function on pointers into tfjs-backend-wasm's heap.
export { permute6, transpose2d, gather, copy2d } from './copy';
export { sumMiddle } from './reduce';
export { gemm, peak } from './gemm';
export { geluForward, geluBackward } from './gelu';
export { layerNormForward, layerNormBackward, rmsNormForward, rmsNormBackward } from './norm';
export { softmaxForward, softmaxBackward, crossEntropyForward, crossEntropyBackward } from './softmax';
export { adam } from './adam';
