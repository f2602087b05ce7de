// Where the three views open: a point inside a proximal femur, so that every plane shows one (the sagittal
// view at the volume's middle cuts the midline, where there is no femur). In order of trust:
//   1. the centroid of a femur in the labelmap the page starts from (the reader's revision or the model's
//      start labelmap): the patient's left (label 1) if drawn, else the right;
//   2. a femur found in the CT itself (femurInImage);
//   3. none: the views stay at the volume's middle.

import { Enums as CoreEnums, utilities as coreUtils } from '@cornerstonejs/core';
import { labelledBox } from './labelmapCodec.js';
import { VIEWS, CT_VOLUME_ID, cache } from './scene.js';

// Cortical and dense trabecular bone; muscle (40-60 HU), fat and unenhanced vessels stay below. Osteoporotic
// cancellous bone can fall under it, but each femur's cortex never does.
const BONE_HU = 250;
const METAL_HU = 3000;
// Adult femoral heads lie about 8-10 cm either side of the midline and the greater trochanters up to about
// 15 cm; the spine, sacrum and pubic symphysis lie within 4 cm of it.
const LATERAL_MM = [40, 170];
// Less bone than this in a slice's lateral band is noise, a calcification or a bone island, not a femur.
const MIN_BONE_MM2 = 80;
// A femur is followed up from the scan's inferior end through a window this wide around its last centre.
const TRACK_RADIUS_MM = 25;
// How far up it is followed: far enough to leave the shaft's end of the scan, not so far as to reach the
// acetabulum on a scan that starts at the lesser trochanter.
const TRACK_LENGTH_MM = 60;
const SEED_STEPS = 3;
// The image is read on a grid of about this pitch: enough for a bone 2 cm across, quick on 512 x 512 x 300.
const SAMPLE_MM = 2;

export function openingPoint({ labels, scalarData, meta }) {
  return labelCentroid(labels, meta.size, 1) ?? labelCentroid(labels, meta.size, 2) ?? femurInImage(scalarData, meta);
}

// The voxel nearest the centroid of `segment`, or null when it has no voxel.
export function labelCentroid(labels, dims, segment) {
  const box = labelledBox(labels, dims);
  const [nx, ny] = dims;
  const [x0, y0, z0] = box.offset;
  const [w, h, d] = box.size;
  let n = 0;
  const sum = [0, 0, 0];
  for (let z = z0; z < z0 + d; z++) {
    for (let y = y0; y < y0 + h; y++) {
      const row = (z * ny + y) * nx;
      for (let x = x0; x < x0 + w; x++) {
        if (labels[row + x] === segment) {
          n++;
          sum[0] += x; sum[1] += y; sum[2] += z;
        }
      }
    }
  }
  return n ? sum.map((s) => Math.round(s / n)) : null;
}

// A voxel inside a femur, found in the CT: the lateral bone at the scan's inferior end (below the pelvis a
// hip CT holds no other bone that far from the midline), followed up slice by slice. Works on the voxel
// grid, so it needs x along the patient's left-right axis and z along the head-foot axis (the platform's
// canonical volumes are); anything else, or no such bone, gives null.
export function femurInImage(scalarData, meta) {
  const axes = axisDirections(meta.direction);
  if (Math.abs(axes[0][0]) < 0.9 || Math.abs(axes[2][2]) < 0.9) return null;
  const image = { data: scalarData, dims: meta.size, spacing: meta.spacing };
  const step = meta.spacing.map((s) => Math.max(1, Math.round(SAMPLE_MM / s)));
  const midline = boneMidline(image, step);
  if (midline === null) return null;
  // Patient's left (+x in LPS) first: it carries label 1, the segment the reader starts with.
  const leftSign = Math.sign(axes[0][0]);
  const upward = Math.sign(axes[2][2]);
  for (const side of [leftSign, -leftSign]) {
    const femur = followFemur(image, step, { midline, side, upward });
    if (femur) return femur;
  }
  return null;
}

// SimpleITK's row-major direction matrix -> the world direction of each index axis.
function axisDirections(d) {
  return [[d[0], d[3], d[6]], [d[1], d[4], d[7]], [d[2], d[5], d[8]]];
}

function isBone(hu) {
  return hu >= BONE_HU && hu < METAL_HU;
}

// The median x index of the sampled bone: the skeleton of the pelvis and legs is near enough symmetric.
function boneMidline({ data, dims: [nx, ny, nz] }, [sx, sy, sz]) {
  const histogram = new Float64Array(nx);
  let total = 0;
  for (let z = 0; z < nz; z += sz) {
    for (let y = 0; y < ny; y += sy) {
      const row = (z * ny + y) * nx;
      for (let x = 0; x < nx; x += sx) {
        if (isBone(data[row + x])) { histogram[x]++; total++; }
      }
    }
  }
  if (total === 0) return null;
  for (let x = 0, seen = 0; x < nx; x++) {
    seen += histogram[x];
    if (seen >= total / 2) return x;
  }
  return null;
}

// A row of a slice that is bone over more than this share of its width is the scanner's table (or a
// board under the patient), never a femur: the two femurs together cross well under a fifth of a row.
const TABLE_ROW_SHARE = 0.4;

function tableRows({ data, dims: [nx, ny] }, [sx, sy], z) {
  const table = new Uint8Array(ny);
  for (let y = 0; y < ny; y += sy) {
    const row = (z * ny + y) * nx;
    let bone = 0;
    for (let x = 0; x < nx; x += sx) if (isBone(data[row + x])) bone++;
    table[y] = bone * sx > TABLE_ROW_SHARE * nx ? 1 : 0;
  }
  return table;
}

// Bone samples of slice z inside a box of x and y indices, the table left out: their count and centre.
function boneIn(image, [sx, sy], z, [xa, xb], [ya, yb]) {
  const { data, dims: [nx, ny] } = image;
  const table = tableRows(image, [sx, sy], z);
  let n = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = Math.max(0, ya); y <= Math.min(ny - 1, yb); y += sy) {
    if (table[y]) continue;
    const row = (z * ny + y) * nx;
    for (let x = Math.max(0, xa); x <= Math.min(nx - 1, xb); x += sx) {
      if (isBone(data[row + x])) { n++; sumX += x; sumY += y; }
    }
  }
  return n ? { n, x: sumX / n, y: sumY / n } : { n: 0 };
}

function followFemur(image, step, { midline, side, upward }) {
  const { dims: [nx, ny, nz], spacing: [dx, dy, dz] } = image;
  const sampleMm2 = step[0] * dx * step[1] * dy;
  const enough = (found) => found.n * sampleMm2 >= MIN_BONE_MM2;
  const band = LATERAL_MM.map((mm) => midline + side * Math.round(mm / dx)).sort((a, b) => a - b);
  const slices = [];
  for (let k = 0; k < nz; k += step[2]) slices.push(upward > 0 ? k : nz - 1 - k);
  const seedAt = slices.findIndex((z) => enough(boneIn(image, step, z, band, [0, ny - 1])));
  if (seedAt < 0) return null;
  const [rx, ry] = [Math.round(TRACK_RADIUS_MM / dx), Math.round(TRACK_RADIUS_MM / dy)];
  const near = (z, centre) => boneIn(image, step, z, [Math.round(centre.x) - rx, Math.round(centre.x) + rx], [Math.round(centre.y) - ry, Math.round(centre.y) + ry]);
  let z = slices[seedAt];
  // The band may hold more than one bone; a few mean-shift steps settle on the one nearest its centre.
  let centre = boneIn(image, step, z, band, [0, ny - 1]);
  for (let i = 0; i < SEED_STEPS; i++) {
    const settled = near(z, centre);
    if (!enough(settled)) break;
    centre = settled;
  }
  for (const next of slices.slice(seedAt + 1)) {
    if (Math.abs(next - slices[seedAt]) * dz > TRACK_LENGTH_MM) break;
    const around = near(next, centre);
    if (!enough(around)) break;
    centre = around;
    z = next;
  }
  return [Math.round(centre.x), Math.round(centre.y), z].map((v, i) => Math.min(Math.max(v, 0), [nx, ny, nz][i] - 1));
}

// Opens every view on the plane through voxel `index`, and keeps it there when Cornerstone resets a view's
// camera on its own (a reset tells the crosshairs tool to centre every view on the volume): a reset view
// comes back to the femur, not to the volume's middle.
export function openEveryViewAt(engine, index) {
  showPointInEveryView(engine, index);
  for (const view of VIEWS) {
    engine.getViewport(view.id).element.addEventListener(CoreEnums.Events.CAMERA_RESET, () => {
      showPointInEveryView(engine, index);
    });
  }
}

// Moves each view along its own normal to the plane through voxel `index`, keeping its zoom and pan.
function showPointInEveryView(engine, index) {
  const volume = cache.getVolume(CT_VOLUME_ID);
  const target = coreUtils.transformIndexToWorld(volume.imageData, index);
  for (const view of VIEWS) {
    const viewport = engine.getViewport(view.id);
    const { focalPoint, position, viewPlaneNormal: normal } = viewport.getCamera();
    const along = [0, 1, 2].reduce((sum, i) => sum + (target[i] - focalPoint[i]) * normal[i], 0);
    viewport.setCamera({
      focalPoint: focalPoint.map((v, i) => v + along * normal[i]),
      position: position.map((v, i) => v + along * normal[i]),
    });
  }
  engine.render();
}
