import { WasmVipsImages } from '../../adapters/wasm-vips-images';

/** Image derivatives with libvips compiled to WebAssembly: loaded (about 0.5 s) at the first derivative, not at cold start. */
export const images = () => new WasmVipsImages();
