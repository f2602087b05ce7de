// Whole-labelmap edits the viewer offers besides Cornerstone's own tools: shape-based interpolation
// between drawn axial slices and island removal. Each returns a LabelChange (the voxels it changed,
// with their values before and after) so that undo/redo can replay it exactly.

export class LabelChange {
  constructor({ indices, before, after }) {
    if (indices.length !== before.length || indices.length !== after.length) {
      throw new Error('A label change needs one before and one after value per voxel.');
    }
    this.indices = indices;
    this.before = before;
    this.after = after;
  }

  get size() {
    return this.indices.length;
  }

  apply(labels, { undo = false } = {}) {
    const values = undo ? this.before : this.after;
    for (let n = 0; n < this.indices.length; n++) {
      labels[this.indices[n]] = values[n];
    }
  }

  // The axial slices this change touches, for partial re-upload of the labelmap texture.
  slices(sliceVoxels) {
    const set = new Set();
    for (let n = 0; n < this.indices.length; n++) {
      set.add(Math.floor(this.indices[n] / sliceVoxels));
    }
    return [...set].sort((a, b) => a - b);
  }
}

class ChangeRecorder {
  constructor(labels) {
    this.labels = labels;
    this.indices = [];
    this.before = [];
    this.after = [];
  }

  set(index, value) {
    if (this.labels[index] === value) {
      return;
    }
    this.indices.push(index);
    this.before.push(this.labels[index]);
    this.after.push(value);
    this.labels[index] = value;
  }

  change() {
    return new LabelChange({
      indices: Uint32Array.from(this.indices),
      before: Uint8Array.from(this.before),
      after: Uint8Array.from(this.after),
    });
  }
}

// Squared Euclidean distance transform of one row/column (Felzenszwalb & Huttenlocher, 2012).
function distanceTransform1d(f, n, d, v, z) {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) {
      k++;
    }
    d[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

// Distance in pixels (scaled by spacing) from every pixel of a w x h grid to the nearest pixel where
// `isSource` is true.
function distanceTo(isSource, w, h, sx, sy) {
  const BIG = 1e20;
  const grid = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    grid[i] = isSource[i] ? 0 : BIG;
  }
  const n = Math.max(w, h);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  // Scale each axis by its spacing by transforming on a stretched grid: rows first, then columns.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) f[x] = grid[y * w + x];
    distanceTransform1d(f, w, d, v, z);
    for (let x = 0; x < w; x++) grid[y * w + x] = d[x] * sx * sx;
  }
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) f[y] = grid[y * w + x] / (sy * sy);
    distanceTransform1d(f, h, d, v, z);
    for (let y = 0; y < h; y++) grid[y * w + x] = Math.sqrt(d[y] * sy * sy);
  }
  return grid;
}

function signedDistance(mask, w, h, sx, sy) {
  const outside = mask.map((m) => (m ? 0 : 1));
  const toInside = distanceTo(mask, w, h, sx, sy);
  const toOutside = distanceTo(outside, w, h, sx, sy);
  const sdf = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    sdf[i] = mask[i] ? -toOutside[i] : toInside[i];
  }
  return sdf;
}

function sliceBox(labels, dims, z, segment, box) {
  const [nx, ny] = dims;
  const base = z * nx * ny;
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      if (labels[base + y * nx + x] === segment) {
        box.x0 = Math.min(box.x0, x);
        box.x1 = Math.max(box.x1, x);
        box.y0 = Math.min(box.y0, y);
        box.y1 = Math.max(box.y1, y);
      }
    }
  }
}

function cropMask(labels, dims, z, segment, box, w, h) {
  const [nx, ny] = dims;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = z * nx * ny + (box.y0 + y) * nx + box.x0;
    for (let x = 0; x < w; x++) mask[y * w + x] = labels[row + x] === segment ? 1 : 0;
  }
  return mask;
}

// Fills every run of empty axial slices lying between two slices that hold `segment`, by linear
// interpolation of the two slices' signed distance maps (shape-based interpolation). Voxels that
// already belong to the other segment are left alone.
export function interpolateBetweenSlices({ labels, dims, spacing, segment, slicesWithSegment }) {
  const recorder = new ChangeRecorder(labels);
  const drawn = slicesWithSegment;
  const MARGIN = 3;
  for (let n = 0; n + 1 < drawn.length; n++) {
    const z0 = drawn[n];
    const z1 = drawn[n + 1];
    if (z1 - z0 < 2) {
      continue;
    }
    const box = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
    sliceBox(labels, dims, z0, segment, box);
    sliceBox(labels, dims, z1, segment, box);
    box.x0 = Math.max(0, box.x0 - MARGIN);
    box.y0 = Math.max(0, box.y0 - MARGIN);
    box.x1 = Math.min(dims[0] - 1, box.x1 + MARGIN);
    box.y1 = Math.min(dims[1] - 1, box.y1 + MARGIN);
    const w = box.x1 - box.x0 + 1;
    const h = box.y1 - box.y0 + 1;
    const sdf0 = signedDistance(cropMask(labels, dims, z0, segment, box, w, h), w, h, spacing[0], spacing[1]);
    const sdf1 = signedDistance(cropMask(labels, dims, z1, segment, box, w, h), w, h, spacing[0], spacing[1]);
    for (let z = z0 + 1; z < z1; z++) {
      const t = (z - z0) / (z1 - z0);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          if ((1 - t) * sdf0[i] + t * sdf1[i] <= 0) {
            const index = z * dims[0] * dims[1] + (box.y0 + y) * dims[0] + box.x0 + x;
            if (labels[index] === 0) {
              recorder.set(index, segment);
            }
          }
        }
      }
    }
  }
  return recorder.change();
}

function segmentBox(labels, dims, segment) {
  const [nx, ny, nz] = dims;
  const box = { x0: nx, x1: -1, y0: ny, y1: -1, z0: nz, z1: -1 };
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (labels[i] === segment) {
          if (x < box.x0) box.x0 = x;
          if (x > box.x1) box.x1 = x;
          if (y < box.y0) box.y0 = y;
          if (y > box.y1) box.y1 = y;
          if (z < box.z0) box.z0 = z;
          if (z > box.z1) box.z1 = z;
        }
      }
    }
  }
  return box.x1 < 0 ? null : box;
}

// Labels the 6-connected components of `segment` inside its bounding box; returns the component id
// of every box voxel (0 = not the segment) and the size of every component.
function components(labels, dims, segment, box) {
  const [nx, ny] = dims;
  const w = box.x1 - box.x0 + 1;
  const h = box.y1 - box.y0 + 1;
  const d = box.z1 - box.z0 + 1;
  const ids = new Int32Array(w * h * d);
  const sizes = [0];
  const stack = new Int32Array(w * h * d);
  const global = (bi) => {
    const x = bi % w;
    const y = Math.floor(bi / w) % h;
    const z = Math.floor(bi / (w * h));
    return (box.z0 + z) * nx * ny + (box.y0 + y) * nx + box.x0 + x;
  };
  for (let seed = 0; seed < ids.length; seed++) {
    if (ids[seed] || labels[global(seed)] !== segment) {
      continue;
    }
    const id = sizes.length;
    let top = 0;
    let size = 0;
    stack[top++] = seed;
    ids[seed] = id;
    while (top) {
      const bi = stack[--top];
      size++;
      const x = bi % w;
      const y = Math.floor(bi / w) % h;
      const z = Math.floor(bi / (w * h));
      const neighbours = [
        x > 0 ? bi - 1 : -1, x < w - 1 ? bi + 1 : -1,
        y > 0 ? bi - w : -1, y < h - 1 ? bi + w : -1,
        z > 0 ? bi - w * h : -1, z < d - 1 ? bi + w * h : -1,
      ];
      for (const nb of neighbours) {
        if (nb >= 0 && !ids[nb] && labels[global(nb)] === segment) {
          ids[nb] = id;
          stack[top++] = nb;
        }
      }
    }
    sizes.push(size);
  }
  return { ids, sizes, global };
}

// Keeps only the largest 6-connected component of each segment: a proximal femur VOI is one piece,
// so any other piece is a stray brush mark or a threshold leak.
export function removeIslands({ labels, dims, segments }) {
  const recorder = new ChangeRecorder(labels);
  for (const segment of segments) {
    const box = segmentBox(labels, dims, segment);
    if (!box) {
      continue;
    }
    const { ids, sizes, global } = components(labels, dims, segment, box);
    let largest = 1;
    for (let id = 2; id < sizes.length; id++) {
      if (sizes[id] > sizes[largest]) largest = id;
    }
    for (let bi = 0; bi < ids.length; bi++) {
      if (ids[bi] && ids[bi] !== largest) {
        recorder.set(global(bi), 0);
      }
    }
  }
  return recorder.change();
}

// Voxel counts per axial slice for segments 1 and 2, updated slice by slice after each edit so the
// live totals stay cheap on a 50-million-voxel labelmap.
export class SegmentCounter {
  constructor({ labels, dims, segments }) {
    this.labels = labels;
    this.dims = dims;
    this.segments = segments;
    this.sliceVoxels = dims[0] * dims[1];
    this.bySlice = new Map(segments.map((s) => [s, new Int32Array(dims[2])]));
  }

  recountSlices(slices) {
    for (const z of slices) {
      const counts = new Int32Array(256);
      const start = z * this.sliceVoxels;
      const end = start + this.sliceVoxels;
      for (let i = start; i < end; i++) counts[this.labels[i]]++;
      for (const s of this.segments) this.bySlice.get(s)[z] = counts[s];
    }
  }

  recountAll() {
    this.recountSlices(Array.from({ length: this.dims[2] }, (_, z) => z));
  }

  total(segment) {
    return this.bySlice.get(segment).reduce((a, b) => a + b, 0);
  }

  slicesWith(segment) {
    const result = [];
    this.bySlice.get(segment).forEach((count, z) => count > 0 && result.push(z));
    return result;
  }
}
