// The labelmap's wire formats. Uploads send only the box that holds every labelled voxel (a femur VOI
// fills a few MB of a 52 MB grid), gzip-compressed by the browser's own CompressionStream, with the box's
// offset and size; the server expands it (annotations/labelmaps.py, ".box.gz"). Downloads are the whole
// grid as raw uint8 gzip. Voxel order everywhere: x fastest, then y, then z.

const GZIP_MAGIC = [0x1f, 0x8b];

async function gzipBytes(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).blob();
}

// Index of the first / last non-zero byte of labels[from, to), or -1. Whole 32-bit words are tested
// where the bytes are aligned: background is most of the volume and this skips it four voxels at a time.
function firstNonzero(labels, words, from, to) {
  let i = from;
  for (; i < to && (i & 3); i++) if (labels[i] !== 0) return i;
  if (words) {
    const wordEnd = to >> 2;
    for (let w = i >> 2; w < wordEnd; w++) {
      if (words[w] !== 0) {
        for (let b = w << 2; ; b++) if (labels[b] !== 0) return b;
      }
    }
    i = Math.max(i, wordEnd << 2);
  }
  for (; i < to; i++) if (labels[i] !== 0) return i;
  return -1;
}

function lastNonzero(labels, words, from, to) {
  let i = to - 1;
  for (; i >= from && ((i + 1) & 3); i--) if (labels[i] !== 0) return i;
  if (words) {
    const wordStart = (from + 3) >> 2;
    for (let w = ((i + 1) >> 2) - 1; w >= wordStart; w--) {
      if (words[w] !== 0) {
        for (let b = (w << 2) + 3; ; b--) if (labels[b] !== 0) return b;
      }
    }
    i = Math.min(i, (wordStart << 2) - 1);
  }
  for (; i >= from; i--) if (labels[i] !== 0) return i;
  return -1;
}

// The smallest box (voxel offset and size, x y z) holding every non-zero voxel; size [0, 0, 0] when the
// labelmap is empty. Slices outside the labelled slab are skipped word by word; inside it, each row is
// only scanned where it could widen the box.
export function labelledBox(labels, [nx, ny, nz]) {
  const words = labels.byteOffset % 4 === 0 ? new Uint32Array(labels.buffer, labels.byteOffset, labels.length >> 2) : null;
  const sliceVoxels = nx * ny;
  const first = firstNonzero(labels, words, 0, labels.length);
  if (first < 0) {
    return { offset: [0, 0, 0], size: [0, 0, 0] };
  }
  const last = lastNonzero(labels, words, first, labels.length);
  const z0 = Math.floor(first / sliceVoxels);
  const z1 = Math.floor(last / sliceVoxels);
  let [x0, x1, y0, y1] = [nx, -1, ny, -1];
  for (let z = z0; z <= z1; z++) {
    const start = z * sliceVoxels;
    const f = firstNonzero(labels, words, start, start + sliceVoxels);
    if (f < 0) continue;
    const l = lastNonzero(labels, words, f, start + sliceVoxels);
    const yf = Math.floor((f - start) / nx);
    const yl = Math.floor((l - start) / nx);
    y0 = Math.min(y0, yf);
    y1 = Math.max(y1, yl);
    x0 = Math.min(x0, (f - start) % nx);
    x1 = Math.max(x1, (l - start) % nx);
    for (let y = yf; y <= yl; y++) {
      const row = start + y * nx;
      for (let x = 0; x < x0; x++) if (labels[row + x] !== 0) { x0 = x; break; }
      for (let x = nx - 1; x > x1; x--) if (labels[row + x] !== 0) { x1 = x; break; }
    }
  }
  return { offset: [x0, y0, z0], size: [x1 - x0 + 1, y1 - y0 + 1, z1 - z0 + 1] };
}

// The voxels of `box`, x fastest, in a new compact array.
export function cropToBox(labels, [nx, ny], { offset: [x0, y0, z0], size: [w, h, d] }) {
  const out = new Uint8Array(w * h * d);
  let o = 0;
  for (let z = z0; z < z0 + d; z++) {
    for (let y = y0; y < y0 + h; y++) {
      const start = (z * ny + y) * nx + x0;
      out.set(labels.subarray(start, start + w), o);
      o += w;
    }
  }
  return out;
}

// What a save sends: the labelled box, gzip-compressed, and where it lies on the grid.
export async function encodeLabelmapBox(labels, dims) {
  const box = labelledBox(labels, dims);
  const blob = await gzipBytes(cropToBox(labels, dims, box));
  return { blob, box };
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
