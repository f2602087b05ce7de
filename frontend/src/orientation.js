// Orientation markers: the patient direction at each edge of every view (R/L, A/P, S/I), read from the
// view's own camera, so they stay right whatever the volume's direction, a flip or a rotation.
//
// World coordinates are LPS (DICOM's patient system, which the platform's volumes use): +x points to the
// patient's Left, +y Posterior, +z Superior. On the standard radiological axial display the patient's right
// is therefore on the screen's left: the marker on the left edge of the axial view reads "R".

import { Enums as CoreEnums } from '@cornerstonejs/core';
import { VIEWS } from './scene.js';

const LETTERS = [['R', 'L'], ['A', 'P'], ['I', 'S']];
// An axis adds its letter to an edge's marker when the edge's direction leans at least this much along it
// (about 17 degrees): an oblique view reads "LP", a straight one just "L".
const OBLIQUE_SHARE = 0.3;
const EDGES = ['top', 'right', 'bottom', 'left'];

// The letters of a world direction, strongest axis first.
export function directionLetters(direction) {
  const length = Math.hypot(...direction) || 1;
  return [0, 1, 2]
    .map((axis) => ({ axis, share: direction[axis] / length }))
    .filter(({ share }) => Math.abs(share) >= OBLIQUE_SHARE)
    .sort((a, b) => Math.abs(b.share) - Math.abs(a.share))
    .map(({ axis, share }) => LETTERS[axis][share > 0 ? 1 : 0])
    .join('');
}

// The world directions of the screen's right and down in a viewport, measured through the viewport's own
// canvas-to-world transform (so a flipped or rotated camera is honoured without knowing its conventions).
function screenDirections(viewport) {
  const { width, height } = viewport.canvas.getBoundingClientRect();
  const centre = [width / 2, height / 2];
  const origin = viewport.canvasToWorld(centre);
  const towards = (dx, dy) => viewport.canvasToWorld([centre[0] + dx, centre[1] + dy]).map((v, i) => v - origin[i]);
  const right = towards(10, 0);
  const down = towards(0, 10);
  const negate = (v) => v.map((c) => -c);
  return { top: negate(down), right, bottom: down, left: negate(right) };
}

export function showOrientationMarkers(engine) {
  for (const view of VIEWS) {
    const viewport = engine.getViewport(view.id);
    const cell = viewport.element.parentNode;
    const markers = Object.fromEntries(EDGES.map((edge) => {
      const marker = document.createElement('span');
      marker.className = `ov-orient ov-orient-${edge}`;
      marker.dataset.orientation = `${view.id}-${edge}`;
      cell.append(marker);
      return [edge, marker];
    }));
    const update = () => {
      const directions = screenDirections(viewport);
      EDGES.forEach((edge) => { markers[edge].textContent = directionLetters(directions[edge]); });
    };
    viewport.element.addEventListener(CoreEnums.Events.CAMERA_MODIFIED, update);
    update();
  }
}
