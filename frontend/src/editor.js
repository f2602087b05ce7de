// Editing the labelmap: which tool and segment are active, our own whole-volume operations
// (interpolation, island removal, replacing the labelmap with a saved revision) with undo/redo, and
// turning Cornerstone's "labelmap changed" events into dirty state and an edit count.

import { cache, eventTarget, utilities as coreUtils } from '@cornerstonejs/core';
import { Enums as ToolEnums, segmentation, utilities as toolUtils } from '@cornerstonejs/tools';
import { interpolateBetweenSlices, removeIslands, LabelChange } from './labelEdits.js';
import {
  LABELMAP_VOLUME_ID, PRIMARY_TOOLS, SEGMENTATION_ID, SEGMENTS, TOOL_GROUP_ID, VIEWS, isToolDrag, isToolPress,
  labelmapSpecifier,
} from './scene.js';

const { DefaultHistoryMemo } = coreUtils.HistoryMemo;
const { MouseBindings } = ToolEnums;
const RECOUNT_DELAY_MS = 60;
// Main-thread time one piece of the live recount may take, well inside a 16.7 ms frame.
const RECOUNT_BUDGET_MS = 4;
// Scissors and fill write the labelmap on release, sometimes a few frames later.
const STROKE_COMMIT_GRACE_MS = 600;

export class Editor {
  constructor({ engine, toolGroup, labels, meta, counter, saver, readOnly }) {
    this.engine = engine;
    this.toolGroup = toolGroup;
    this.labels = labels;
    this.meta = meta;
    this.counter = counter;
    this.saver = saver;
    this.readOnly = readOnly;
    this.sliceVoxels = meta.size[0] * meta.size[1];
    this.activeTool = null;
    this.activeSegment = 1;
    this.opacity = 0.5;
    this.quiet = 0;
    this.strokeChanged = false;
    this.pendingSlices = new Set();
    this.recountAllPending = false;
    this.recountTimer = null;
    this.recountQueue = new Set();
    this.brushSlices = new Set();
    this.listeners = new Set();
    this.armed = false;
    this.disarmTimer = null;
    eventTarget.addEventListener(ToolEnums.Events.SEGMENTATION_DATA_MODIFIED, (evt) => this.onDataModified(evt));
    this.watchPointer();
  }

  // Only a reader's press in a view makes the labelmap dirty: Cornerstone also reports "modified"
  // while it sets up the representation, which must not trigger a save. One press with changes is
  // one edit, however many frames the stroke took; some tools commit just after the release.
  watchPointer() {
    for (const view of VIEWS) {
      const viewport = this.engine.getViewport(view.id);
      const track = (e) => {
        if (isToolDrag(e)) this.noteBrushAt(viewport, e);
      };
      viewport.element.addEventListener('pointerdown', (e) => {
        if (isToolPress(e) && this.activeTool) {
          clearTimeout(this.disarmTimer);
          this.armed = true;
        }
      }, { capture: true });
      // The mouse events Cornerstone paints from, as it gets them: during an echoed stroke those are held
      // and handed over frames later (strokeEcho.js, even after the release and the end of the edit), so
      // the pointer events run ahead of the writes.
      viewport.element.addEventListener('mousedown', track, { capture: true });
      viewport.element.addEventListener('mousemove', track, { capture: true });
    }
    // After Cornerstone has handled the release (its listener is on the document): what a stroke noted and
    // did not write (the threshold brush over soft tissue) must not stand for a later change's slices.
    window.addEventListener('mouseup', () => this.brushSlices.clear());
    window.addEventListener('pointerup', () => {
      if (this.armed) {
        this.disarmTimer = setTimeout(() => this.endStroke(), STROKE_COMMIT_GRACE_MS);
      }
    }, { capture: true });
  }

  // The labelmap slices a brush at this pointer position can reach: a disc or ball of radius brushSize
  // around the point, in whichever view, lies within that many mm of it along the slice axis. Noted from
  // the mouse event Cornerstone is about to paint from (its write reports "modified" in the same task),
  // and used when Cornerstone reports that write without its slices.
  noteBrushAt(viewport, e) {
    const radiusMm = this.activeTool && this.toolGroup.getToolConfiguration(this.activeTool, 'brushSize');
    const volume = cache.getVolume(LABELMAP_VOLUME_ID);
    if (!radiusMm || !volume?.imageData) return;
    const rect = viewport.canvas.getBoundingClientRect();
    const world = viewport.canvasToWorld([e.clientX - rect.left, e.clientY - rect.top]);
    const index = [0, 0, 0];
    volume.imageData.worldToIndex(world, index);
    const reach = radiusMm / this.meta.spacing[2] + 1;
    const last = this.meta.size[2] - 1;
    for (let z = Math.max(0, Math.floor(index[2] - reach)); z <= Math.min(last, Math.ceil(index[2] + reach)); z++) {
      this.brushSlices.add(z);
    }
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  emit() {
    this.listeners.forEach((listener) => listener());
  }

  selectTool(name) {
    if (this.activeTool) {
      this.toolGroup.setToolPassive(this.activeTool);
    }
    this.activeTool = this.readOnly ? null : name;
    if (this.activeTool) {
      this.toolGroup.setToolActive(this.activeTool, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    }
    this.emit();
  }

  selectSegment(index) {
    this.activeSegment = index;
    segmentation.segmentIndex.setActiveSegmentIndex(SEGMENTATION_ID, index);
    this.emit();
  }

  setBrushRadius(mm) {
    toolUtils.segmentation.setBrushSizeForToolGroup(TOOL_GROUP_ID, mm);
  }

  setThreshold(low, high) {
    for (const [name, spec] of Object.entries(PRIMARY_TOOLS)) {
      if (spec.strategy?.startsWith('THRESHOLD')) {
        this.toolGroup.setToolConfiguration(name, { threshold: { range: [low, high], isDynamic: false } });
      }
    }
  }

  onDataModified(evt) {
    const slices = evt.detail?.modifiedSlicesToUse;
    // Cornerstone's brush reports every slice its voxel manager has marked since the labelmap was made
    // (all of them, once a saved revision was loaded), and never unmarks them: each move would then
    // recount, and re-upload to the GPU, the whole volume. This event has taken its list; start afresh.
    cache.getVolume(LABELMAP_VOLUME_ID)?.voxelManager?.resetModifiedSlices?.();
    if (slices?.length) {
      slices.forEach((z) => this.pendingSlices.add(z));
    } else if (this.brushSlices.size) {
      this.brushSlices.forEach((z) => this.pendingSlices.add(z));
    } else {
      this.recountAllPending = true;
    }
    this.brushSlices.clear();
    this.scheduleRecount();
    if (this.quiet === 0 && this.armed) {
      this.strokeChanged = true;
      this.saver.markDirty();
    }
  }

  endStroke() {
    this.armed = false;
    if (this.strokeChanged) {
      this.strokeChanged = false;
      this.saver.countEdit();
    }
  }

  // The live voxel counts follow the labelmap slice by slice, in short slices of main-thread time: a
  // change Cornerstone reports without its slices (a labelmap loaded from a revision, then painted) means
  // every slice, 60-100 ms of counting on a 512 x 512 x 300 case, which in one piece would hold up the
  // next frames of a stroke. The counts shown are exact once the queue is empty.
  scheduleRecount() {
    if (this.recountTimer) {
      return;
    }
    this.recountTimer = setTimeout(() => {
      this.recountTimer = null;
      const slices = this.recountAllPending
        ? Array.from({ length: this.meta.size[2] }, (_, z) => z) : [...this.pendingSlices];
      this.pendingSlices.clear();
      this.recountAllPending = false;
      slices.forEach((z) => this.recountQueue.add(z));
      this.countSomeSlices();
    }, RECOUNT_DELAY_MS);
  }

  countSomeSlices() {
    const started = performance.now();
    for (const z of this.recountQueue) {
      if (performance.now() - started > RECOUNT_BUDGET_MS) {
        // A macrotask, so input and frames can run in between.
        setTimeout(() => this.countSomeSlices(), 0);
        return;
      }
      this.counter.recountSlices([z]);
      this.recountQueue.delete(z);
    }
    this.emit();
  }

  // Whatever is queued, counted now (before an operation that reads the counts).
  finishRecount() {
    clearTimeout(this.recountTimer);
    this.recountTimer = null;
    if (this.recountAllPending) {
      this.counter.recountAll();
    } else {
      this.counter.recountSlices([...this.pendingSlices, ...this.recountQueue]);
    }
    this.pendingSlices.clear();
    this.recountQueue.clear();
    this.recountAllPending = false;
  }

  // Tells Cornerstone (texture upload, render) and our counters that these slices changed.
  notifyChanged(slices) {
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(SEGMENTATION_ID, slices);
  }

  // Our own edits and undo/redo announce their changes quietly and count as exactly one edit.
  quietly(fn) {
    this.quiet++;
    try {
      return fn();
    } finally {
      this.quiet--;
    }
  }

  applyChange(change) {
    if (change.size === 0) {
      return 0;
    }
    const slices = change.slices(this.sliceVoxels);
    DefaultHistoryMemo.push({
      id: `osteoscreen-${performance.now()}`,
      operationType: 'labelmap',
      restoreMemo: (undo) => {
        change.apply(this.labels, { undo });
        this.notifyChanged(slices);
      },
    });
    this.quietly(() => this.notifyChanged(slices));
    this.saver.markDirty();
    this.saver.countEdit();
    return change.size;
  }

  interpolate() {
    if (this.readOnly) return 0;
    this.finishRecount();
    const change = interpolateBetweenSlices({
      labels: this.labels, dims: this.meta.size, spacing: this.meta.spacing,
      segment: this.activeSegment, slicesWithSegment: this.counter.slicesWith(this.activeSegment),
    });
    return this.applyChange(change);
  }

  removeIslands() {
    if (this.readOnly) return 0;
    const change = removeIslands({ labels: this.labels, dims: this.meta.size, segments: SEGMENTS.map((s) => s.index) });
    return this.applyChange(change);
  }

  // Replaces the whole labelmap (a restored or reloaded revision); undoable, not an edit.
  replaceLabels(next) {
    const indices = [];
    for (let i = 0; i < next.length; i++) {
      if (next[i] !== this.labels[i]) indices.push(i);
    }
    const idx = Uint32Array.from(indices);
    const change = new LabelChange({
      indices: idx,
      before: Uint8Array.from(idx, (i) => this.labels[i]),
      after: Uint8Array.from(idx, (i) => next[i]),
    });
    change.apply(this.labels);
    this.quietly(() => this.notifyChanged(change.slices(this.sliceVoxels)));
    this.counter.recountAll();
    this.emit();
  }

  undo() {
    this.replay(() => DefaultHistoryMemo.undo(), DefaultHistoryMemo.canUndo);
  }

  redo() {
    this.replay(() => DefaultHistoryMemo.redo(), DefaultHistoryMemo.canRedo);
  }

  replay(step, possible) {
    if (this.readOnly || !possible) {
      return;
    }
    this.quietly(step);
    this.saver.markDirty();
    this.saver.countEdit();
    this.engine.render();
  }

  toggleLabelmap(visible) {
    for (const view of VIEWS) {
      segmentation.config.visibility.setSegmentationRepresentationVisibility(view.id, labelmapSpecifier(), visible);
    }
  }

  setSegmentVisible(index, visible) {
    for (const view of VIEWS) {
      segmentation.config.visibility.setSegmentIndexVisibility(view.id, labelmapSpecifier(), index, visible);
    }
  }

  setOpacity(alpha) {
    // The stroke echo (strokeEcho.js) paints with the same opacity as the labelmap.
    this.opacity = alpha;
    segmentation.config.style.setStyle(
      { type: ToolEnums.SegmentationRepresentations.Labelmap },
      { fillAlpha: alpha, fillAlphaInactive: alpha, outlineOpacity: 1, renderOutline: true },
    );
    this.engine.render();
  }
}
