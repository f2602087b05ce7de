// An immediate 2-D echo of brush strokes. On software WebGL (a reading-room VM without a GPU) Cornerstone's
// render of one viewport costs far more than a frame, so the labelmap it shows lags the pointer. While the
// reader paints, we draw the brush footprint (the same circle the tool fills, in the segment's colour and
// opacity) on a plain transparent <canvas> over the viewport, in the pointer event itself; it is cleared
// once Cornerstone reports (IMAGE_RENDERED) a render of that viewport made after the labelmap write. The
// echo is only pixels on screen: the labelmap, saving and undo never see it.
//
// The labelmap write itself (Cornerstone's handling of the drag, about a dozen ms on a 512 x 512 slice)
// would still run inside the pointer event, in the frame that must carry the echo. So during an echoed
// stroke the mouse press and moves (and the release that follows them) are held at the window and handed
// to Cornerstone, in order and each once, in a task right after that frame: the disc is on screen first,
// then the voxels are written. No event is dropped or reordered; a release waits for the moves before it.

import { Enums as CoreEnums, eventTarget } from '@cornerstonejs/core';
import { Enums as ToolEnums } from '@cornerstonejs/tools';
import { PRIMARY_TOOLS, SEGMENTS, VIEWS, isToolDrag } from './scene.js';
import { BENCH_BUILD } from './timings.js';
import { recordStrokeEcho } from './benchProbe.js';

// The fill strategies whose footprint in the viewed plane is a disc of radius brushSize (mm): the sphere
// brush cuts the current slice in the same disc, and the threshold brush paints within it. The eraser shows
// nothing beyond Cornerstone's own cursor.
const ECHOED_STRATEGIES = new Set(['FILL_INSIDE_CIRCLE', 'FILL_INSIDE_SPHERE', 'THRESHOLD_INSIDE_CIRCLE']);

class ViewportEcho {
  constructor(viewport) {
    this.viewport = viewport;
    // A sibling of Cornerstone's element (which owns its own children and resize handling), laid exactly
    // over it by the same absolute inset-0 box in the view's cell.
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'ov-stroke-echo';
    viewport.element.after(this.canvas);
    this.context = this.canvas.getContext('2d');
    // Discs drawn since the last clear; `written` once the tool's labelmap write for them has happened, so
    // a render that started before the write does not clear a disc it does not yet show.
    this.discs = [];
    // Sized now and on every resize, not in the first press: allocating the canvas' pixels there made the
    // press the slowest event of a stroke.
    this.fitToElement();
    new ResizeObserver(() => this.fitToElement()).observe(viewport.element);
  }

  // Canvas pixels track the element's CSS size times the device pixel ratio, as Cornerstone's canvas does.
  fitToElement() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(this.viewport.element.clientWidth * ratio);
    const height = Math.round(this.viewport.element.clientHeight * ratio);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.discs.forEach((disc) => this.paint(disc));
    }
    return ratio;
  }

  // Cornerstone's own canvas coordinates (CSS pixels from the canvas corner) and its world transform, so
  // the disc sits where the tool fills: centre under the pointer, radius = brushSize mm along the view's up.
  addDisc(event, { radiusMm, color, opacity }) {
    const rect = this.viewport.canvas.getBoundingClientRect();
    const point = [event.clientX - rect.left, event.clientY - rect.top];
    const centre = this.viewport.canvasToWorld(point);
    const up = this.viewport.getCamera().viewUp;
    const edge = this.viewport.worldToCanvas(centre.map((c, i) => c + up[i] * radiusMm));
    const ratio = this.fitToElement();
    const disc = {
      x: point[0] * ratio, y: point[1] * ratio, r: Math.hypot(edge[0] - point[0], edge[1] - point[1]) * ratio,
      color, written: false,
    };
    // One opacity for the whole echo (on the element, not per disc), so overlapping discs look like one
    // painted region, as the labelmap does, instead of darkening where they overlap.
    this.canvas.style.opacity = String(opacity);
    this.discs.push(disc);
    this.paint(disc);
  }

  paint(disc) {
    this.context.fillStyle = `rgb(${disc.color[0]}, ${disc.color[1]}, ${disc.color[2]})`;
    this.context.beginPath();
    this.context.arc(disc.x, disc.y, disc.r, 0, 2 * Math.PI);
    this.context.fill();
  }

  markWritten() {
    this.discs.forEach((disc) => { disc.written = true; });
  }

  // The real render shows every disc whose write came before it; keep only the rest.
  renderedCaughtUp() {
    if (!this.discs.some((disc) => disc.written)) return;
    this.discs = this.discs.filter((disc) => !disc.written);
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.discs.forEach((disc) => this.paint(disc));
  }
}

// Runs callback in a new task (a message, not a timer: no 4 ms clamp), after whatever is queued.
function nextTask(callback) {
  const channel = new MessageChannel();
  channel.port1.onmessage = callback;
  channel.port2.postMessage(null);
}

// Runs callback(frameTime) in a task posted from the next requestAnimationFrame: once that frame (with
// whatever was drawn before it) has been produced. frameTime is the frame's own start time.
function afterNextFrame(callback) {
  requestAnimationFrame((frameTime) => nextTask(() => callback(frameTime)));
}

// Whether strokes of the reader's current tool are echoed (scene.renderOnlyWhileStroking defers their
// WebGL render while the pointer moves).
export function echoesActiveTool(editor) {
  return !editor.readOnly && ECHOED_STRATEGIES.has(PRIMARY_TOOLS[editor.activeTool]?.strategy);
}

export function echoBrushStrokes({ engine, editor, toolGroup }) {
  const echoes = VIEWS.map((view) => new ViewportEcho(engine.getViewport(view.id)));
  const brushOptions = () => {
    if (!echoesActiveTool(editor)) return null;
    const segment = SEGMENTS.find((s) => s.index === editor.activeSegment);
    const radiusMm = toolGroup.getToolConfiguration(editor.activeTool, 'brushSize');
    return segment && radiusMm ? { radiusMm, color: segment.color, opacity: editor.opacity } : null;
  };
  for (const echo of echoes) {
    const element = echo.viewport.element;
    // Capture phase: our listener runs before Cornerstone's tools handle the same press or move, so the
    // disc is on its canvas before the labelmap write and the WebGL render are even started.
    const onPointer = (e) => {
      if (!isToolDrag(e)) return;
      const options = brushOptions();
      if (!options) return;
      // Chrome hands mouse moves to the page at the start of a frame, so part of event-to-visible is
      // the browser's wait before dispatch; dispatchedMs tells that part apart from ours.
      const dispatched = performance.now();
      echo.addDisc(e, options);
      const drawn = performance.now();
      // The frame that carries the disc to the screen has finished its update once a task posted from
      // its requestAnimationFrame runs; that is "visible", not merely "drawn".
      // eventAt and frameAt (the start of the frame that shows the disc) let the bench tell whether a frame
      // began between the event and that one, i.e. whether the disc missed the first frame it could be in.
      if (BENCH_BUILD) {
        afterNextFrame((frameAt) => recordStrokeEcho({
          dispatchedMs: dispatched - e.timeStamp, drawnMs: drawn - e.timeStamp,
          visibleMs: performance.now() - e.timeStamp, eventAt: e.timeStamp, frameAt,
        }));
      }
    };
    element.addEventListener('pointerdown', onPointer, { capture: true });
    element.addEventListener('pointermove', onPointer, { capture: true });
    element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, () => echo.renderedCaughtUp());
  }
  eventTarget.addEventListener(ToolEnums.Events.SEGMENTATION_DATA_MODIFIED, () => {
    echoes.forEach((echo) => echo.markWritten());
  });
  // A move that wrote nothing (the threshold brush over soft tissue) sends no "modified"; the render that
  // follows the release still shows the truth, so after a release (and the writes held before it) every
  // disc may be cleared by it.
  const writes = new DeferredStrokeWrites(() => echoes.forEach((echo) => echo.markWritten()));
  for (const echo of echoes) {
    echo.viewport.element.addEventListener('pointerdown', (e) => {
      if (isToolDrag(e) && brushOptions()) writes.begin();
    }, { capture: true });
  }
  window.addEventListener('pointerup', () => writes.end(), { capture: true });
}

const REPLAYED_INIT_KEYS = [
  'bubbles', 'cancelable', 'composed', 'detail', 'screenX', 'screenY', 'clientX', 'clientY', 'ctrlKey',
  'shiftKey', 'altKey', 'metaKey', 'button', 'buttons', 'relatedTarget', 'movementX', 'movementY',
];

// Holds the mouse events of a stroke and hands copies of them to their targets after the next frame.
export class DeferredStrokeWrites {
  constructor(onReleased) {
    this.onReleased = onReleased;
    this.stroking = false;
    this.queued = [];
    this.scheduled = false;
    this.replayed = new WeakSet();
    window.addEventListener('mousemove', (e) => this.hold(e, this.stroking), { capture: true });
    // The press of an echoed stroke is held too (Cornerstone's press handling, hit tests of the crosshairs
    // and the like, would otherwise run in the frame of the first disc). A release, or a press that is not
    // an echoed stroke's, goes straight through unless events are still held: then it waits behind them.
    window.addEventListener('mousedown', (e) => this.hold(e, this.stroking || this.queued.length > 0), { capture: true });
    window.addEventListener('mouseup', (e) => this.hold(e, this.queued.length > 0), { capture: true });
  }

  begin() {
    this.stroking = true;
  }

  end() {
    if (!this.stroking) return;
    this.stroking = false;
    if (this.queued.length === 0) this.onReleased();
  }

  hold(event, when) {
    if (!when || this.replayed.has(event)) return;
    event.stopImmediatePropagation();
    const init = { view: window };
    REPLAYED_INIT_KEYS.forEach((key) => { init[key] = event[key]; });
    this.queued.push({ type: event.type, target: event.target, init });
    if (this.scheduled) return;
    this.scheduled = true;
    afterNextFrame(() => this.replay());
  }

  // One held event per task: Cornerstone's handling of a press or move takes 5-15 ms on a 512 x 512 slice,
  // and between two of them the browser may start the next frame (and hand the page the next move) instead
  // of waiting for the whole queue.
  replay() {
    const next = this.queued.shift();
    if (next) {
      const copy = new MouseEvent(next.type, next.init);
      this.replayed.add(copy);
      (next.target.isConnected ? next.target : document).dispatchEvent(copy);
    }
    if (this.queued.length > 0) {
      nextTask(() => this.replay());
      return;
    }
    this.scheduled = false;
    if (!this.stroking) this.onReleased();
  }
}
