// Timing marks the speed bench (bench/bench_viewer.py) and the browser test read from the page.
// Times are milliseconds since navigation start (performance.now()), so "first slice" includes
// loading the page, the bundle and the first bytes of the volume.

// The page's inline script may already have marked its preview of the first slice.
const timings = window.__viewerTimings ?? {};
const strokes = [];
const echoes = [];
window.__viewerTimings = timings;
window.__viewerStrokes = strokes;
window.__viewerEchoes = echoes;

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

// One entry per pointer move shown during a brush stroke: {frameMs: pointer event to the frame that shows
// it, writeMs: the tool's labelmap write in the event, renderMs: the render of that frame, viewsRendered}.
export function recordStrokeFrame(entry) {
  strokes.push(entry);
}

// One entry per pointer press or move the 2-D stroke echo (strokeEcho.js) drew, ms from the pointer event:
// {dispatchedMs: to our handler, drawnMs: to the disc drawn on the overlay canvas, visibleMs: to the end of
// the frame that carries it to the screen; eventAt: the event's time, frameAt: that frame's start time}.
export function recordStrokeEcho(entry) {
  echoes.push(entry);
}
