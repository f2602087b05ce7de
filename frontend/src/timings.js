// Timing marks the speed bench (bench/bench_viewer.py) and the browser test read from the page.
// Times are milliseconds since navigation start (performance.now()), so "first slice" includes
// loading the page, the bundle and the first bytes of the volume.

const timings = {};
const strokes = [];
window.__viewerTimings = timings;
window.__viewerStrokes = strokes;

export function mark(name, extra) {
  if (name in timings) {
    return;
  }
  timings[name] = performance.now();
  performance.mark(`viewer:${name}`);
  if (extra) {
    Object.assign(timings, extra);
  }
}

export function record(name, milliseconds) {
  timings[name] = milliseconds;
}

// One entry per rendered brush frame: milliseconds from the pointer event to the frame that shows it.
export function recordStrokeFrame(milliseconds) {
  strokes.push(milliseconds);
}
