// Saving without losing a stroke: every save is a new revision based on the last one this page saved
// (or loaded). Autosave runs every few seconds while there are unsaved edits. A 409 means someone
// (another tab) saved since: we stop autosaving and show the conflict rather than overwrite anything.

import { ApiError } from './api.js';
import { encodeLabelmapBox } from './labelmapCodec.js';
import { BENCH_BUILD, mark } from './timings.js';
import { recordSave } from './benchProbe.js';

// A reader pausing for this long has probably finished a stroke; saving then costs them nothing.
export const AUTOSAVE_INTERVAL_MS = 4000;

export class Saver {
  constructor({ api, labels, dims, baseRevisionId, onState, onSaved, onConflict, isEditing = () => false }) {
    this.isEditing = isEditing;
    this.api = api;
    this.labels = labels;
    this.dims = dims;
    this.baseRevisionId = baseRevisionId;
    this.onState = onState;
    this.onSaved = onSaved;
    this.onConflict = onConflict;
    this.dirty = false;
    this.saving = null;
    this.conflict = false;
    this.editsSinceSave = 0;
    this.activeMs = 0;
    this.lastActivity = performance.now();
    this.generation = 0;
    this.saveCount = 0;
    this.timer = setInterval(() => this.autosave(), AUTOSAVE_INTERVAL_MS);
  }

  // Counts time spent editing, not time the tab sat open: gaps over a minute are not counted.
  noteActivity() {
    const now = performance.now();
    this.activeMs += Math.min(now - this.lastActivity, 60000);
    this.lastActivity = now;
  }

  // Called on every change to the labelmap (many per brush stroke).
  markDirty() {
    this.noteActivity();
    this.generation++;
    if (!this.dirty) {
      this.dirty = true;
      this.publish();
    }
  }

  // Called once per finished edit (a stroke, an interpolation, an undo).
  countEdit() {
    this.editsSinceSave++;
    this.publish();
  }

  publish(error) {
    let state = 'saved';
    if (this.conflict) state = 'conflict';
    else if (error) state = 'error';
    else if (this.saving) state = 'saving';
    else if (this.dirty) state = 'unsaved';
    this.onState({ state, error, baseRevisionId: this.baseRevisionId });
  }

  autosave() {
    // Never mid-stroke: the revision would hold half a stroke and miss its edit count.
    if (this.dirty && !this.saving && !this.conflict && !this.isEditing()) {
      this.save().catch(() => {});
    }
  }

  async save() {
    if (this.saving) {
      return this.saving;
    }
    if (this.conflict) {
      throw new Error('This VOI changed elsewhere; reload before saving.');
    }
    this.saving = this.saveOnce().finally(() => {
      this.saving = null;
    });
    return this.saving;
  }

  async saveOnce() {
    const started = performance.now();
    const generation = this.generation;
    const edits = this.editsSinceSave;
    this.noteActivity();
    const seconds = this.activeMs / 1000;
    this.publish();
    try {
      const { blob, box } = await encodeLabelmapBox(this.labels, this.dims);
      const encoded = performance.now();
      const revision = await this.api.createRevision({
        labelmapBlob: blob, box, baseRevision: this.baseRevisionId,
        editCount: edits, secondsSpent: seconds,
      });
      this.baseRevisionId = revision.id;
      this.editsSinceSave -= edits;
      this.activeMs -= seconds * 1000;
      this.dirty = this.generation !== generation;
      this.saveCount++;
      if (BENCH_BUILD) {
        recordSave({
          started, encoded, finished: performance.now(), serverMs: revision.serverMs, bytes: blob.size, saveCount: this.saveCount,
        });
      }
      mark('firstSave');
      this.publish();
      this.onSaved(revision);
      return revision;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        this.conflict = true;
        this.publish();
        this.onConflict(error.detail);
      } else {
        this.publish(error.message || String(error));
      }
      throw error;
    }
  }

  // After a restore or reload the page's labelmap equals a server revision again.
  resetTo(revisionId) {
    this.baseRevisionId = revisionId;
    this.dirty = false;
    this.conflict = false;
    this.editsSinceSave = 0;
    this.generation++;
    this.publish();
  }
}
