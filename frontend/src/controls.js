// The page around the viewports: status line, toolbar, segment panel, window presets, revisions,
// the conflict banner, HU under the cursor and the keyboard shortcuts listed in the page.

import { Enums as CoreEnums, utilities as coreUtils } from '@cornerstonejs/core';
import { readLabelmapInto } from './labelmapCodec.js';
import { VIEWS, CT_VOLUME_ID, cache } from './scene.js';

export const WINDOW_PRESETS = {
  bone: { width: 2000, center: 500 },
  soft: { width: 400, center: 40 },
};
// Keeps osteoporotic cancellous bone (it can fall near 100 HU) and leaves muscle (about 40-60 HU) out.
export const BONE_THRESHOLD_HU = [100, 3000];
const BRUSH_RADIUS_MM = { min: 1, max: 40 };

const $ = (id) => document.getElementById(id);

// The site's one date-time shape ("2026-12-02 04:04", local time), as osteoscreen/format.js writes it.
function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export class Controls {
  constructor({ config, meta, engine, scalarData }) {
    this.config = config;
    this.meta = meta;
    this.engine = engine;
    this.scalarData = scalarData;
    this.voxelCm3 = (meta.spacing[0] * meta.spacing[1] * meta.spacing[2]) / 1000;
    this.labelmapVisible = true;
    this.watchOverlays();
  }

  // `render: false` while the page opens: the streaming loader draws the axial view first, alone.
  applyWindow({ width, center }, { render = true } = {}) {
    const lower = center - width / 2;
    const upper = center + width / 2;
    VIEWS.forEach((v) => this.engine.getViewport(v.id).setProperties({ voiRange: { lower, upper } }));
    $('ov-ww').value = Math.round(width);
    $('ov-wc').value = Math.round(center);
    if (render) {
      this.engine.render();
    }
  }

  attach({ api, editor, saver, counter }) {
    this.api = api;
    this.editor = editor;
    this.saver = saver;
    this.counter = counter;
    editor.onChange(() => this.refresh());
    this.bindButtons();
    this.bindPanel();
    this.bindKeys();
    window.addEventListener('beforeunload', (e) => {
      if (saver.dirty || saver.saving) {
        e.preventDefault();
        e.returnValue = '';
      }
    });
    setInterval(() => this.showEffort(), 1000);
    if (this.config.readOnly) {
      document.querySelectorAll('#ov-tools button, #ov-save, #ov-submit, #ov-undo, #ov-redo, #ov-interpolate, #ov-islands')
        .forEach((b) => { b.disabled = true; });
    }
  }

  bindButtons() {
    $('ov-save').addEventListener('click', () => this.save());
    $('ov-submit').addEventListener('click', () => this.submit());
    $('ov-undo').addEventListener('click', () => this.editor.undo());
    $('ov-redo').addEventListener('click', () => this.editor.redo());
    $('ov-interpolate').addEventListener('click', () => this.runOperation('interpolate'));
    $('ov-islands').addEventListener('click', () => this.runOperation('removeIslands'));
    $('ov-conflict-reload').addEventListener('click', () => this.reloadLatest());
    $('ov-conflict-compare-btn').addEventListener('click', () => this.compare());
    $('ov-conflict-keep').addEventListener('click', () => this.keepMine());
    document.querySelectorAll('#ov-tools button').forEach((b) => b.addEventListener('click', () => this.editor.selectTool(b.dataset.tool)));
  }

  bindPanel() {
    document.querySelectorAll('.ov-seg-select').forEach((b) => b.addEventListener('click', () => this.editor.selectSegment(Number(b.dataset.segment))));
    document.querySelectorAll('.ov-seg-visible').forEach((box) => box.addEventListener('change', () => this.editor.setSegmentVisible(Number(box.dataset.segment), box.checked)));
    $('ov-opacity').addEventListener('input', (e) => this.editor.setOpacity(Number(e.target.value)));
    this.editor.setOpacity(Number($('ov-opacity').value));
    $('ov-brush-size').addEventListener('input', (e) => this.setBrushRadius(Number(e.target.value)));
    this.setBrushRadius(Number($('ov-brush-size').value));
    const thresholdChanged = () => this.editor.setThreshold(Number($('ov-threshold-low').value), Number($('ov-threshold-high').value));
    $('ov-threshold-low').addEventListener('change', thresholdChanged);
    $('ov-threshold-high').addEventListener('change', thresholdChanged);
    $('ov-threshold-bone').addEventListener('click', () => {
      [$('ov-threshold-low').value, $('ov-threshold-high').value] = BONE_THRESHOLD_HU;
      thresholdChanged();
      this.editor.selectTool('ThresholdBrush');
    });
    thresholdChanged();
    $('ov-wl-bone').addEventListener('click', () => this.applyWindow(WINDOW_PRESETS.bone));
    $('ov-wl-soft').addEventListener('click', () => this.applyWindow(WINDOW_PRESETS.soft));
    const freeWindow = () => this.applyWindow({ width: Math.max(1, Number($('ov-ww').value)), center: Number($('ov-wc').value) });
    $('ov-ww').addEventListener('change', freeWindow);
    $('ov-wc').addEventListener('change', freeWindow);
  }

  setBrushRadius(mm) {
    const radius = Math.min(BRUSH_RADIUS_MM.max, Math.max(BRUSH_RADIUS_MM.min, mm));
    $('ov-brush-size').value = radius;
    $('ov-brush-size-value').textContent = radius;
    this.editor.setBrushRadius(radius);
  }

  keyActions() {
    return {
      b: () => this.editor.selectTool('Brush'),
      s: () => this.editor.selectTool('SphereBrush'),
      e: () => this.editor.selectTool('Eraser'),
      t: () => this.editor.selectTool('ThresholdBrush'),
      r: () => this.editor.selectTool('RectangleScissor'),
      c: () => this.editor.selectTool('CircleScissor'),
      o: () => this.editor.selectTool('SphereScissor'),
      f: () => this.editor.selectTool('PaintFill'),
      1: () => this.editor.selectSegment(1),
      2: () => this.editor.selectSegment(2),
      '[': () => this.setBrushRadius(Number($('ov-brush-size').value) - 1),
      ']': () => this.setBrushRadius(Number($('ov-brush-size').value) + 1),
      i: () => this.runOperation('interpolate'),
      k: () => this.runOperation('removeIslands'),
      v: () => this.toggleLabelmap(),
      w: () => this.applyWindow(WINDOW_PRESETS.bone),
      W: () => this.applyWindow(WINDOW_PRESETS.soft),
    };
  }

  bindKeys() {
    const actions = this.keyActions();
    window.addEventListener('keydown', (e) => {
      if (e.target.closest?.('input, textarea, select')) {
        return;
      }
      const key = e.key;
      if (e.ctrlKey || e.metaKey) {
        const lower = key.toLowerCase();
        const command = { s: () => this.save(), z: () => (e.shiftKey ? this.editor.redo() : this.editor.undo()), y: () => this.editor.redo() }[lower];
        if (command) {
          e.preventDefault();
          command();
        }
        return;
      }
      if (e.altKey) {
        return;
      }
      const action = actions[key] ?? actions[key.toLowerCase() === key ? key : ''];
      if (action && !(this.config.readOnly && 'bestrcofik12'.includes(key.toLowerCase()))) {
        e.preventDefault();
        action();
      }
    });
  }

  toggleLabelmap() {
    this.labelmapVisible = !this.labelmapVisible;
    this.editor.toggleLabelmap(this.labelmapVisible);
  }

  runOperation(name) {
    const status = $('ov-status');
    const started = performance.now();
    const changed = this.editor[name]();
    const label = name === 'interpolate' ? 'Interpolated' : 'Removed islands';
    status.title = `${label}: ${changed} voxels changed in ${Math.round(performance.now() - started)} ms`;
    this.flash(changed ? `${label}: ${changed.toLocaleString()} voxels` : `${label}: nothing to change`);
  }

  flash(message) {
    const note = $('ov-effort');
    note.textContent = message;
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => this.showEffort(), 2500);
  }

  refresh() {
    document.querySelectorAll('#ov-tools button').forEach((b) => b.classList.toggle('ov-active', b.dataset.tool === this.editor.activeTool));
    document.querySelectorAll('.ov-segment').forEach((s) => s.classList.toggle('ov-active', Number(s.dataset.segment) === this.editor.activeSegment));
    this.refreshCounts();
  }

  refreshCounts() {
    for (const segment of [1, 2]) {
      const count = this.counter.total(segment);
      $(`ov-count-${segment}`).textContent = count.toLocaleString();
      $(`ov-volume-${segment}`).textContent = (count * this.voxelCm3).toFixed(2);
    }
  }

  showEffort() {
    if (!this.saver) return;
    const minutes = Math.floor(this.saver.activeMs / 60000);
    const edits = this.saver.editsSinceSave;
    $('ov-effort').textContent = edits ? `${edits} edit${edits === 1 ? '' : 's'} unsaved · ${minutes} min` : '';
  }

  showSaveState({ state, error, baseRevisionId }) {
    const status = $('ov-status');
    const number = this.revisionNumbers?.get(baseRevisionId);
    const text = {
      saved: baseRevisionId ? `Saved${number ? ` · revision ${number}` : ''}` : 'No changes yet',
      unsaved: 'Unsaved changes · autosave in a few seconds',
      saving: 'Saving…',
      error: `Not saved: ${error}. Your edits are kept here; retrying.`,
      conflict: 'Not saved: this VOI was changed elsewhere',
    }[state];
    status.dataset.state = state;
    status.textContent = text;
    this.showEffort();
  }

  async save() {
    if (this.config.readOnly) return null;
    try {
      return await this.saver.save();
    } catch {
      return null;
    }
  }

  revisionSaved() {
    this.loadRevisions();
  }

  // Newest first, whatever order the server lists them in (it lists them by number, oldest first):
  // the list shows the latest on top, and reloading or comparing after a conflict needs the latest.
  async loadRevisions() {
    const revisions = (await this.api.revisions()).slice().sort((a, b) => b.number - a.number);
    this.revisions = revisions;
    this.revisionNumbers = new Map(revisions.map((r) => [r.id, r.number]));
    const list = $('ov-revisions');
    list.replaceChildren(...revisions.map((r) => this.revisionItem(r)));
    this.saver?.publish();
  }

  revisionItem(revision) {
    const item = document.createElement('li');
    const volumes = [1, 2].map((s) => `${s}: ${Number(revision.volume_cm3?.[s] ?? 0).toFixed(1)} cm³`).join(' · ');
    const note = revision.restored_from ? ` (restored)` : '';
    item.innerHTML = `<span class="ov-rev-head"><b>#${revision.number}</b>${note} <span class="ov-muted"></span></span><span class="ov-muted ov-rev-vol"></span>`;
    item.querySelector('.ov-rev-head .ov-muted').textContent = formatTime(revision.created_at);
    item.querySelector('.ov-rev-vol').textContent = `${volumes} · ${revision.edit_count} edit${revision.edit_count === 1 ? "" : "s"}`;
    item.dataset.revisionId = revision.id;
    if (revision.id === this.saver?.baseRevisionId) {
      item.classList.add('ov-current');
    }
    if (!this.config.readOnly) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Restore';
      button.addEventListener('click', () => this.restore(revision));
      item.append(button);
    }
    return item;
  }

  async restore(revision) {
    if (this.saver.dirty && !window.confirm('Restoring drops your unsaved edits. Continue?')) {
      return;
    }
    try {
      await this.saver.saving?.catch(() => {});
      const created = await this.api.restoreRevision(revision.id);
      await this.loadLabelmap(created.id);
      this.saver.resetTo(created.id);
      await this.loadRevisions();
    } catch (error) {
      this.flash(`Restore failed: ${error.message}`);
    }
  }

  async loadLabelmap(revisionId) {
    const response = await this.api.labelmap(revisionId);
    const next = new Uint8Array(this.editor.labels.length);
    if (response) {
      await readLabelmapInto(response, next);
    }
    this.editor.replaceLabels(next);
  }

  showConflict(detail) {
    $('ov-conflict-message').textContent = `${detail} Your edits are still here and were not sent.`;
    $('ov-conflict-compare').textContent = '';
    $('ov-conflict').hidden = false;
  }

  async compare() {
    await this.loadRevisions();
    const latest = this.revisions[0];
    const mine = [1, 2].map((s) => (this.counter.total(s) * this.voxelCm3).toFixed(1));
    const theirs = [1, 2].map((s) => Number(latest?.volume_cm3?.[s] ?? 0).toFixed(1));
    $('ov-conflict-compare').textContent = `Yours: left ${mine[0]} cm³, right ${mine[1]} cm³. Latest saved (#${latest?.number}, ${formatTime(latest?.created_at)}): left ${theirs[0]} cm³, right ${theirs[1]} cm³.`;
  }

  async reloadLatest() {
    await this.loadRevisions();
    const latest = this.revisions[0];
    await this.loadLabelmap(latest ? latest.id : 'start');
    $('ov-conflict').hidden = true;
    this.saver.resetTo(latest ? latest.id : null);
    await this.loadRevisions();
  }

  // Append-only history makes this safe: the other revision stays listed and restorable.
  async keepMine() {
    await this.loadRevisions();
    $('ov-conflict').hidden = true;
    this.saver.conflict = false;
    this.saver.baseRevisionId = this.revisions[0]?.id ?? null;
    this.saver.dirty = true;
    await this.save();
  }

  // Saves what is unsaved, then shows the saved VOI's plausibility warnings (the server's, the same the
  // review page shows: an empty side, a side under 20 or over 400 cm³, a VOI touching the volume's edge)
  // and submits only once the reader confirms.
  async submit() {
    if (this.saver.dirty && !(await this.save())) {
      this.flash('Submit stopped: the last edits could not be saved.');
      return;
    }
    let warnings;
    try {
      warnings = await this.currentWarnings();
    } catch (error) {
      this.flash(`Submit stopped: ${error.message}`);
      return;
    }
    if (!(await this.confirmSubmit(warnings))) {
      return;
    }
    try {
      await this.api.submit();
      this.config.readOnly = true;
      this.editor.readOnly = true;
      this.editor.selectTool(null);
      document.querySelectorAll('#ov-tools button, #ov-save, #ov-submit, #ov-undo, #ov-redo, #ov-interpolate, #ov-islands')
        .forEach((b) => { b.disabled = true; });
      $('ov-status').textContent = 'Submitted for review';
      $('ov-status').dataset.state = 'submitted';
    } catch (error) {
      this.flash(`Submit failed: ${error.message}`);
    }
  }

  async currentWarnings() {
    await this.loadRevisions();
    return this.revisions.find((r) => r.id === this.saver.baseRevisionId)?.warnings ?? [];
  }

  // Resolves true when the reader submits, false when they go back (the button, or Escape).
  confirmSubmit(warnings) {
    const dialog = $('ov-submit-dialog');
    $('ov-submit-warnings').replaceChildren(...warnings.map((w) => {
      const item = document.createElement('li');
      item.textContent = w.message;
      item.dataset.warning = `${w.code}-${w.side}`;
      return item;
    }));
    $('ov-submit-warnings-note').hidden = warnings.length === 0;
    $('ov-submit-confirm').textContent = warnings.length ? 'Submit anyway' : 'Submit';
    $('ov-submit-back').textContent = warnings.length ? 'Go back and fix' : 'Cancel';
    dialog.showModal();
    return new Promise((resolve) => {
      const answer = (submit) => () => {
        controller.abort();
        dialog.close();
        resolve(submit);
      };
      const controller = new AbortController();
      const { signal } = controller;
      $('ov-submit-confirm').addEventListener('click', answer(true), { signal });
      $('ov-submit-back').addEventListener('click', answer(false), { signal });
      dialog.addEventListener('cancel', answer(false), { signal });
    });
  }

  // Slice numbers and HU under the cursor in each view's corner.
  watchOverlays() {
    for (const view of VIEWS) {
      const viewport = this.engine.getViewport(view.id);
      const element = viewport.element;
      const sliceLabel = document.querySelector(`[data-slice="${view.id}"]`);
      const huLabel = document.querySelector(`[data-hu="${view.id}"]`);
      // The volume's own index (z for axial, y for coronal, x for sagittal), 1-based: Cornerstone's
      // slice index counts along the view normal, which runs the other way in some planes.
      const axis = { axial: 2, coronal: 1, sagittal: 0 }[view.id];
      const showSlice = () => {
        const volume = cache.getVolume(CT_VOLUME_ID);
        const index = coreUtils.transformWorldToIndex(volume.imageData, viewport.getCamera().focalPoint)[axis];
        sliceLabel.textContent = `${index + 1}/${this.meta.size[axis]}`;
      };
      element.addEventListener(CoreEnums.Events.CAMERA_MODIFIED, showSlice);
      element.addEventListener(CoreEnums.Events.VOI_MODIFIED, (e) => {
        const range = e.detail?.range;
        if (range && view.id === 'axial') {
          $('ov-ww').value = Math.round(range.upper - range.lower);
          $('ov-wc').value = Math.round((range.upper + range.lower) / 2);
        }
      });
      element.addEventListener('mousemove', (e) => {
        huLabel.textContent = this.huAt(viewport, element, e);
      });
      element.addEventListener('mouseleave', () => { huLabel.textContent = ''; });
      showSlice();
    }
  }

  huAt(viewport, element, event) {
    const rect = element.getBoundingClientRect();
    const world = viewport.canvasToWorld([event.clientX - rect.left, event.clientY - rect.top]);
    const volume = cache.getVolume(CT_VOLUME_ID);
    const [i, j, k] = coreUtils.transformWorldToIndex(volume.imageData, world);
    const [nx, ny, nz] = this.meta.size;
    if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) {
      return '';
    }
    return ` · ${this.scalarData[k * nx * ny + j * nx + i]} HU (${i}, ${j}, ${k})`;
  }
}
