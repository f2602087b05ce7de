// The labelmap travels as raw uint8 (x fastest, then y, then z) compressed with gzip. The browser's
// own CompressionStream does the work natively, off the JavaScript heap.

const GZIP_MAGIC = [0x1f, 0x8b];

export async function gzipLabelmap(labels) {
  const stream = new Blob([labels]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).blob();
}

// Reads a labelmap response into `target`; accepts a gzip body (the contract) or, should a proxy have
// already decoded it, the raw bytes.
export async function readLabelmapInto(response, target) {
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== target.length && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  if (bytes.length !== target.length) {
    throw new Error(`The saved labelmap has ${bytes.length} voxels but the case has ${target.length}.`);
  }
  target.set(bytes);
}
