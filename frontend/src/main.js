// The proximal-femur annotation viewer: boots Cornerstone3D on the page that
// annotations/templates/annotations/viewer.html renders, streams the CT in, loads the reader's
// labelmap and wires saving. Speed matters: the first axial slice is drawn as soon as its bytes are
// here, before the rest of the volume has arrived.

import './viewer.css';
import { Enums as CoreEnums, utilities as coreUtils } from '@cornerstonejs/core';
import { Api } from './api.js';
import { BENCH_BUILD, mark } from './timings.js';
import * as benchProbe from './benchProbe.js';
import { streamVolumeInto } from './volumeStream.js';
import { readLabelmapInto } from './labelmapCodec.js';
import { Saver } from './saver.js';
import { SegmentCounter } from './labelEdits.js';
import { Editor } from './editor.js';
import { Controls } from './controls.js';
import { echoBrushStrokes, echoesActiveTool } from './strokeEcho.js';
import { showOrientationMarkers } from './orientation.js';
import { openingPoint, openEveryViewAt } from './openingPoint.js';
import {
  initCornerstone, createCtVolume, createLabelmapVolume, createViewports, invalidateSlices,
  addFemurSegmentation, createToolGroup, renderOnlyWhileStroking, VIEWS, SEGMENTS, CT_VOLUME_ID, LABELMAP_VOLUME_ID, cache,
} from './scene.js';

if (BENCH_BUILD) benchProbe.installBenchProbe();
mark('scriptStart');

// Air, so that slices still on the wire show black rather than mid-grey.
const AIR_HU = -1024;

function readConfig() {
  const node = document.getElementById('viewer-config');
  if (!node) {
    throw new Error('The page has no viewer configuration.');
  }
  let config = JSON.parse(node.textContent);
  if (typeof config === 'string') {
    config = JSON.parse(config);
  }
  return config;
}

function showFatal(message) {
  const status = document.getElementById('ov-status');
  if (status) {
    status.dataset.state = 'error';
    status.textContent = message;
  }
  document.getElementById('ov-root')?.setAttribute('data-state', 'error');
  if (BENCH_BUILD) benchProbe.reportError(message);
}

// The view opens on the middle axial slice (through the hips on a pelvic CT; the page's inline script
// has usually drawn it already from a byte range of the volume). The volume arrives inferior slice first
// (z grows toward the head in LPS); Cornerstone draws the opening slice as soon as its bytes are here and
// takes the axial view over from the preview. While the rest streams in, the views redraw at a gentle pace
// (each redraw uploads the new slices and costs real time on software GL). Once the whole CT and the
// labelmap are here, all three views move to planes through a femur (openingPoint.js).
const STREAMING_REDRAW_MS = 400;

function progressiveRenderer(engine, volume, openingSlice) {
  const axial = engine.getViewport('axial');
  let firstDrawn = false;
  let lastDraw = 0;
  const element = axial.element;
  const onRendered = () => {
    mark('cornerstoneFirstSlice');
    mark('firstSlice');
    document.getElementById('ov-root').dataset.cornerstoneDrawn = '1';
    document.getElementById('ov-preview-axial')?.remove();
    element.removeEventListener(CoreEnums.Events.IMAGE_RENDERED, onRendered);
  };
  return (from, to) => {
    invalidateSlices(volume, from, to);
    const now = performance.now();
    if (!firstDrawn && to > openingSlice) {
      mark('firstSliceBytes');
      firstDrawn = true;
      lastDraw = now;
      element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, onRendered);
      engine.renderViewport('axial');
      return true;
    }
    if (firstDrawn && now - lastDraw > STREAMING_REDRAW_MS) {
      lastDraw = now;
      engine.render();
      return true;
    }
    return false;
  };
}

// The volume's own z index an axial view shows (Cornerstone's slice index runs along the view normal,
// which may point either way).
function axialVolumeSlice(viewport) {
  const volume = cache.getVolume(CT_VOLUME_ID);
  return Math.round(coreUtils.transformWorldToIndex(volume.imageData, viewport.getCamera().focalPoint)[2]);
}

async function openOnSlice(engine, z, nz) {
  const viewport = engine.getViewport('axial');
  await coreUtils.jumpToSlice(viewport.element, { imageIndex: z });
  if (axialVolumeSlice(viewport) !== z) {
    await coreUtils.jumpToSlice(viewport.element, { imageIndex: nz - 1 - z });
  }
}

async function loadStartingLabelmap(api, config, labels, prefetch) {
  const revision = prefetch?.labelmapRevision ?? config.currentRevisionId ?? 'start';
  const response = await api.labelmap(revision, prefetch?.labelmap);
  if (response) {
    await readLabelmapInto(response, labels);
  }
  return config.currentRevisionId ?? null;
}

// The viewer fills the window below whatever header the site puts above it.
function fitToWindow() {
  const root = document.getElementById('ov-root');
  const fit = () => root.style.setProperty('--ov-height', `${Math.max(560, window.innerHeight - root.getBoundingClientRect().top - 2)}px`);
  fit();
  window.addEventListener('resize', fit);
}

async function boot() {
  const config = readConfig();
  fitToWindow();
  // The template starts these downloads before this bundle has even been parsed, and hands them over once.
  const prefetch = window.osteoscreenPrefetch ?? null;
  delete window.osteoscreenPrefetch;
  const api = new Api(config);
  const metaPromise = api.volumeMeta(prefetch?.meta);
  const rawPromise = prefetch?.raw ?? fetch(config.urls.volumeRaw, { credentials: 'same-origin' });
  document.getElementById('ov-study').textContent ||= config.studyId ?? '';
  initCornerstone();
  mark('cornerstoneReady');
  const meta = await metaPromise;
  mark('meta');
  const voxels = meta.size[0] * meta.size[1] * meta.size[2];
  const sliceVoxels = meta.size[0] * meta.size[1];
  const scalarData = new Int16Array(voxels).fill(AIR_HU);
  const labels = new Uint8Array(voxels);
  const ctVolume = createCtVolume(meta, scalarData);
  mark('volumeCreated');
  const engine = await createViewports();
  mark('viewportsCreated');
  const openingSlice = Math.floor(meta.size[2] / 2);
  await openOnSlice(engine, openingSlice, meta.size[2]);
  showOrientationMarkers(engine);
  const controls = new Controls({ config, meta, engine, scalarData });
  controls.applyWindow({ width: 2000, center: 500 }, { render: false });
  mark('viewportsReady');
  await streamVolumeInto({
    responsePromise: rawPromise, scalarData, sliceVoxels, onSlices: progressiveRenderer(engine, ctVolume, openingSlice),
  });
  engine.render();
  mark('volumeLoaded');
  const baseRevisionId = await loadStartingLabelmap(api, config, labels, prefetch);
  mark('labelmapLoaded');
  const femur = openingPoint({ labels, scalarData, meta });
  await setUpEditing({ config, api, meta, engine, labels, baseRevisionId, controls, femur });
}

async function setUpEditing({ config, api, meta, engine, labels, baseRevisionId, controls, femur }) {
  createLabelmapVolume(meta, labels);
  mark('labelmapVolumeCreated');
  await addFemurSegmentation();
  mark('segmentationAdded');
  const toolGroup = createToolGroup();
  // Every view moves to a plane through a femur once the CT and the labelmap are here; after the tools
  // are set up, as the crosshairs tool centres the views on the volume when it starts.
  if (femur) openEveryViewAt(engine, femur);
  const counter = new SegmentCounter({ labels, dims: meta.size, segments: SEGMENTS.map((s) => s.index) });
  counter.recountAll();
  mark('counted');
  let editor = null;
  const saver = new Saver({
    api, labels, dims: meta.size, baseRevisionId,
    isEditing: () => Boolean(editor?.armed),
    onState: (s) => controls.showSaveState(s),
    onSaved: (revision) => controls.revisionSaved(revision),
    onConflict: (detail) => controls.showConflict(detail),
  });
  editor = new Editor({ engine, toolGroup, labels, meta, counter, saver, readOnly: config.readOnly });
  controls.attach({ api, editor, saver, counter });
  if (BENCH_BUILD) benchProbe.watchStrokeLatency(engine);
  echoBrushStrokes({ engine, editor, toolGroup });
  renderOnlyWhileStroking(engine, { deferStroke: () => echoesActiveTool(editor) });
  editor.selectTool(config.readOnly ? null : 'Brush');
  controls.refreshCounts();
  await controls.loadRevisions();
  saver.publish();
  document.getElementById('ov-root').dataset.state = 'ready';
  mark('ready');
  if (BENCH_BUILD) {
    benchProbe.exposeViewer({
      editor, saver, controls, engine, labels, meta, counter, labelmapVolume: () => cache.getVolume(LABELMAP_VOLUME_ID),
    });
  }
}

boot().catch((error) => {
  console.error(error);
  showFatal(`The viewer could not start: ${error.message || error}`);
});

