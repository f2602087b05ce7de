// Measurements for bench/bench_viewer.py and the browser tests, in the bench build only (main.js, saver.js
// and strokeEcho.js call these behind BENCH_BUILD, which the production build folds to false, so none of
// this ships). Nothing here runs at import: each recorder starts when it is installed.
//
//   window.__viewerTimings  milestones (from the "viewer:*" User Timing marks) and the last save's figures
//   window.__viewerStrokes  one entry per pointer move shown during a brush stroke (watchStrokeLatency)
//   window.__viewerEchoes   one entry per disc the 2-D stroke echo drew (strokeEcho.js)
//   window.__viewer         the viewer's parts (editor, saver, counter, engine...) for tests to drive
//   window.__viewerError    the message of a viewer that could not start

import { Enums as CoreEnums, eventTarget as coreEventTarget } from '@cornerstonejs/core';
import { Enums as ToolEnums } from '@cornerstonejs/tools';
import { VIEWS } from './scene.js';

const MARK_PREFIX = 'viewer:';

// Copies every "viewer:*" mark, those made before the bundle ran (the page's preview) included, into
// window.__viewerTimings as {name: ms since navigation start}.
export function installBenchProbe() {
  const timings = {};
  window.__viewerTimings = timings;
  window.__viewerStrokes = [];
  window.__viewerEchoes = [];
  const copy = (entries) => entries.forEach((entry) => {
    if (entry.name.startsWith(MARK_PREFIX)) {
      const name = entry.name.slice(MARK_PREFIX.length);
      if (!(name in timings)) timings[name] = entry.startTime;
      if (entry.detail) Object.assign(timings, entry.detail);
    }
  });
  copy(performance.getEntriesByType('mark'));
  // Marks are delivered to observers asynchronously; "ready" must be readable the moment it is made.
  const markNow = performance.mark.bind(performance);
  performance.mark = (name, options) => {
    const entry = markNow(name, options);
    copy([entry]);
    return entry;
  };
}

export function recordSave({ started, encoded, finished, serverMs, bytes, saveCount }) {
  Object.assign(window.__viewerTimings, {
    lastSaveMs: finished - started,
    lastSaveEncodeMs: encoded - started,
    lastSaveServerMs: serverMs ?? null,
    lastSaveBytes: bytes,
    saveCount,
  });
}

// One entry per pointer press or move the 2-D stroke echo drew, ms from the pointer event:
// {dispatchedMs: to our handler, drawnMs: to the disc drawn on the overlay canvas, visibleMs: to the end of
// the frame that carries it to the screen; eventAt: the event's time, frameAt: that frame's start time}.
export function recordStrokeEcho(entry) {
  window.__viewerEchoes.push(entry);
}

export function reportError(message) {
  window.__viewerError = message;
}

export function exposeViewer(parts) {
  window.__viewer = parts;
}

// Brush latency, per pointer move of a stroke: from the event to the labelmap write (the tool's work,
// signalled by Cornerstone's "segmentation data modified"), and to the WebGL frame that shows it; with the
// render's own time (from the frame's start) and how many viewports that frame re-rendered. One entry per
// shown move in window.__viewerStrokes: {frameMs, writeMs, renderMs, viewsRendered}.
export function watchStrokeLatency(engine) {
  let pending = null;
  const renders = new Set();
  for (const view of VIEWS) {
    const element = engine.getViewport(view.id).element;
    element.addEventListener('pointermove', (e) => {
      if (e.buttons === 1 && !e.shiftKey && !e.ctrlKey && !e.altKey && pending === null) {
        pending = { event: e.timeStamp, viewportId: view.id, written: null };
      }
    }, { capture: true });
    element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, () => {
      if (pending?.written == null) return;
      renders.add(view.id);
      if (view.id !== pending.viewportId) return;
      const now = performance.now();
      window.__viewerStrokes.push({
        frameMs: now - pending.event,
        writeMs: pending.written - pending.event,
        // Cornerstone renders segmentations in a requestAnimationFrame callback, where the document
        // timeline's time is that frame's start; so this is the frame's work up to the rendered event, even
        // when the render was deferred (scene.renderOnlyWhileStroking) past the write.
        renderMs: now - document.timeline.currentTime,
        viewsRendered: renders.size,
      });
      pending = null;
      renders.clear();
    });
  }
  coreEventTarget.addEventListener(ToolEnums.Events.SEGMENTATION_DATA_MODIFIED, () => {
    if (pending && pending.written == null) {
      pending.written = performance.now();
    }
  });
}
