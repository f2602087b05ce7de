// The Cornerstone3D side of the viewer: one CT volume in three orthogonal viewports, a labelmap
// with the two femur segments on top, and the tool group that edits it.

import {
  RenderingEngine,
  Enums as CoreEnums,
  init as coreInit,
  volumeLoader,
  imageLoader,
  setVolumesForViewports,
  cache,
  utilities as coreUtils,
} from '@cornerstonejs/core';
import {
  init as toolsInit,
  addTool,
  ToolGroupManager,
  Enums as ToolEnums,
  segmentation,
  BrushTool,
  RectangleScissorsTool,
  CircleScissorsTool,
  SphereScissorsTool,
  PaintFillTool,
  PanTool,
  ZoomTool,
  StackScrollTool,
  WindowLevelTool,
  CrosshairsTool,
} from '@cornerstonejs/tools';

import { segmentationRenderingEngine } from '@cornerstonejs/tools/segmentation/SegmentationRenderingEngine';

const { ViewportType, OrientationAxis } = CoreEnums;
const { MouseBindings, KeyboardBindings, SegmentationRepresentations } = ToolEnums;

export const ENGINE_ID = 'osteoscreen-engine';
export const TOOL_GROUP_ID = 'osteoscreen-tools';
export const CT_VOLUME_ID = 'osteoscreen:ct';
export const LABELMAP_VOLUME_ID = 'osteoscreen:labelmap';
export const SEGMENTATION_ID = 'osteoscreen-femur-voi';

// Label values fixed by the platform: 1 = patient's LEFT proximal femur, 2 = RIGHT.
export const SEGMENTS = [
  { index: 1, label: 'Left proximal femur', color: [230, 90, 60, 255] },
  { index: 2, label: 'Right proximal femur', color: [60, 160, 250, 255] },
];

export const VIEWS = [
  { id: 'axial', orientation: OrientationAxis.AXIAL, elementId: 'ov-vp-axial' },
  { id: 'coronal', orientation: OrientationAxis.CORONAL, elementId: 'ov-vp-coronal' },
  { id: 'sagittal', orientation: OrientationAxis.SAGITTAL, elementId: 'ov-vp-sagittal' },
];

// Primary-button tools the reader switches between; the brush variants are instances of BrushTool.
export const PRIMARY_TOOLS = {
  Brush: { base: BrushTool.toolName, strategy: 'FILL_INSIDE_CIRCLE' },
  SphereBrush: { base: BrushTool.toolName, strategy: 'FILL_INSIDE_SPHERE' },
  Eraser: { base: BrushTool.toolName, strategy: 'ERASE_INSIDE_CIRCLE' },
  ThresholdBrush: { base: BrushTool.toolName, strategy: 'THRESHOLD_INSIDE_CIRCLE' },
  RectangleScissor: { base: RectangleScissorsTool.toolName },
  CircleScissor: { base: CircleScissorsTool.toolName },
  SphereScissor: { base: SphereScissorsTool.toolName },
  PaintFill: { base: PaintFillTool.toolName },
};

export function initCornerstone() {
  coreInit({
    rendering: {
      // One WebGL context serves the three viewports: fewer contexts start faster, and software
      // GL (no GPU on a reading-room VM) renders each context on the CPU.
      webGlContextCount: 1,
    },
  });
  toolsInit();
  // Every slice of our volumes is made in memory and cached up front; Cornerstone still asks an
  // image loader for them by scheme, so this one hands back the cached slice.
  imageLoader.registerImageLoader('osteoscreen', (imageId) => {
    const image = cache.getImage(imageId);
    return { promise: image ? Promise.resolve(image) : Promise.reject(new Error(`Slice ${imageId} is not in memory.`)) };
  });
}

// The opening window of the CT: bone and soft tissue both readable.
const CT_WINDOW = { width: 2000, center: 500 };

function volumeMetadata(meta) {
  return {
    BitsAllocated: 16,
    BitsStored: 16,
    SamplesPerPixel: 1,
    HighBit: 15,
    PhotometricInterpretation: 'MONOCHROME2',
    PixelRepresentation: 1,
    Modality: 'CT',
    ImageOrientationPatient: axisDirections(meta).slice(0, 6),
    PixelSpacing: [meta.spacing[1], meta.spacing[0]],
    FrameOfReferenceUID: `osteoscreen.${meta.study_id}`,
    Columns: meta.size[0],
    Rows: meta.size[1],
    voiLut: [{ windowWidth: CT_WINDOW.width, windowCenter: CT_WINDOW.center }],
    VOILUTFunction: 'LINEAR',
  };
}

// createLocalVolume gives every slice the volume's origin; tools that map a slice's imageId to a
// plane need each slice's own position, so we register it.
function registerSlicePositions(volume, meta) {
  const [sx, sy, sz] = meta.spacing;
  const d = meta.direction;
  const axes = axisDirections(meta);
  volume.imageIds.forEach((imageId, k) => {
    const position = [0, 1, 2].map((a) => meta.origin[a] + d[a * 3 + 2] * sz * k);
    coreUtils.genericMetadataProvider.add(imageId, {
      type: 'imagePlaneModule',
      metadata: {
        frameOfReferenceUID: `osteoscreen.${meta.study_id}`,
        rows: meta.size[1],
        columns: meta.size[0],
        imageOrientationPatient: axes.slice(0, 6),
        rowCosines: axes.slice(0, 3),
        columnCosines: axes.slice(3, 6),
        imagePositionPatient: position,
        pixelSpacing: [sy, sx],
        rowPixelSpacing: sy,
        columnPixelSpacing: sx,
        sliceThickness: sz,
      },
    });
    // The CT window, found per slice: without it Cornerstone computes one from the middle slice, which
    // is still a constant while the volume streams in, and vtk logs "zero width color range".
    coreUtils.genericMetadataProvider.add(imageId, {
      type: 'voiLutModule',
      metadata: { windowWidth: [CT_WINDOW.width], windowCenter: [CT_WINDOW.center], voiLUTFunction: 'LINEAR' },
    });
  });
}

// The contract's direction is SimpleITK's row-major matrix (its columns are the axis directions);
// Cornerstone wants the three axis direction vectors one after the other.
function axisDirections(meta) {
  const d = meta.direction;
  return [d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]];
}

function geometry(meta) {
  return {
    dimensions: [...meta.size],
    spacing: [...meta.spacing],
    origin: [...meta.origin],
    direction: axisDirections(meta),
  };
}

export function createCtVolume(meta, scalarData) {
  const volume = volumeLoader.createLocalVolume(CT_VOLUME_ID, {
    ...geometry(meta),
    metadata: volumeMetadata(meta),
    scalarData,
  });
  registerSlicePositions(volume, meta);
  return volume;
}

export function createLabelmapVolume(meta, labels) {
  const volume = volumeLoader.createLocalLabelmapVolume(
    { ...geometry(meta), metadata: volumeMetadata(meta), scalarData: labels, referencedVolumeId: CT_VOLUME_ID },
    LABELMAP_VOLUME_ID,
  );
  registerSlicePositions(volume, meta);
  return volume;
}

export async function createViewports() {
  const engine = new RenderingEngine(ENGINE_ID);
  engine.setViewports(
    VIEWS.map((view) => ({
      viewportId: view.id,
      type: ViewportType.ORTHOGRAPHIC,
      element: document.getElementById(view.elementId),
      defaultOptions: { orientation: view.orientation, background: [0, 0, 0] },
    })),
  );
  await setVolumesForViewports(engine, [{ volumeId: CT_VOLUME_ID }], VIEWS.map((v) => v.id));
  return engine;
}

// Marks slices [from, to) of a volume as changed so the next render uploads just them.
export function invalidateSlices(volume, from, to) {
  for (let z = from; z < to; z++) {
    volume.vtkOpenGLTexture.setUpdatedFrame(z);
  }
}

export async function addFemurSegmentation() {
  segmentation.addSegmentations([
    {
      segmentationId: SEGMENTATION_ID,
      representation: { type: SegmentationRepresentations.Labelmap, data: { volumeId: LABELMAP_VOLUME_ID } },
      config: {
        label: 'Proximal femur VOI',
        segments: Object.fromEntries(SEGMENTS.map((s) => [s.index, { label: s.label, segmentIndex: s.index }])),
      },
    },
  ]);
  await segmentation.addLabelmapRepresentationToViewportMap(
    Object.fromEntries(VIEWS.map((v) => [v.id, [{ segmentationId: SEGMENTATION_ID, type: SegmentationRepresentations.Labelmap }]])),
  );
  for (const view of VIEWS) {
    for (const segment of SEGMENTS) {
      segmentation.config.color.setSegmentIndexColor(view.id, SEGMENTATION_ID, segment.index, segment.color);
    }
  }
  segmentation.segmentIndex.setActiveSegmentIndex(SEGMENTATION_ID, 1);
}

function addPrimaryTools(toolGroup) {
  for (const [name, spec] of Object.entries(PRIMARY_TOOLS)) {
    if (spec.strategy) {
      toolGroup.addToolInstance(name, spec.base, {
        activeStrategy: spec.strategy,
        brushSize: 8,
        threshold: { range: [100, 3000], isDynamic: false },
        // Our own I key interpolates between slices; the brush's built-in one needs an extra package.
        actions: {
          interpolate: { method: 'interpolate', bindings: [] },
          interpolateExtrapolation: { method: 'interpolate', bindings: [] },
        },
      });
    } else {
      toolGroup.addToolInstance(name, spec.base);
    }
  }
}

// The primary button works the active tool unless a modifier turns it into another (createToolGroup: Ctrl
// pans, Alt sets the window, Shift moves the crosshairs). A press of it, and a move with it held down:
function withoutToolModifier(e) {
  return !e.shiftKey && !e.ctrlKey && !e.altKey;
}

export function isToolPress(e) {
  return e.button === 0 && withoutToolModifier(e);
}

export function isToolDrag(e) {
  return (e.buttons & 1) === 1 && withoutToolModifier(e);
}

export function createToolGroup() {
  const tools = [BrushTool, RectangleScissorsTool, CircleScissorsTool, SphereScissorsTool, PaintFillTool,
    PanTool, ZoomTool, StackScrollTool, WindowLevelTool, CrosshairsTool];
  tools.forEach((tool) => addTool(tool));
  const toolGroup = ToolGroupManager.createToolGroup(TOOL_GROUP_ID);
  [PanTool, ZoomTool, StackScrollTool, WindowLevelTool].forEach((t) => toolGroup.addTool(t.toolName));
  toolGroup.addTool(CrosshairsTool.toolName, {
    getReferenceLineColor: (viewportId) => ({ axial: 'rgb(250, 200, 60)', coronal: 'rgb(120, 220, 120)', sagittal: 'rgb(200, 120, 250)' })[viewportId],
  });
  addPrimaryTools(toolGroup);
  VIEWS.forEach((v) => toolGroup.addViewport(v.id, ENGINE_ID));
  toolGroup.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  toolGroup.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  toolGroup.setToolActive(PanTool.toolName, {
    bindings: [{ mouseButton: MouseBindings.Auxiliary }, { mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Ctrl }],
  });
  toolGroup.setToolActive(WindowLevelTool.toolName, {
    bindings: [{ mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Alt }],
  });
  toolGroup.setToolActive(CrosshairsTool.toolName, {
    bindings: [{ mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Shift }],
  });
  return toolGroup;
}

// During a stroke only the viewport being painted re-renders its labelmap (once per frame: Cornerstone's
// segmentation renderer batches by requestAnimationFrame); the other two views catch up when the stroke
// ends. On software GL one viewport render costs far more than a frame, so three per pointer move tripled
// the brush lag. Cornerstone asks its segmentation renderer for every viewport showing the segmentation;
// this narrows that list while a primary-button press is down in one of our views.
//
// When `deferStroke()` says the stroke is echoed on a 2-D canvas (strokeEcho.js), even the painted view
// waits: its render runs once the pointer rests for STROKE_REST_MS, or on release. The echo is drawn in the
// pointer event, but a canvas reaches the screen only when the main thread finishes the frame, and a
// WebGL render in that frame (hundreds of ms on software GL) would hold the echo back with it.
const STROKE_REST_MS = 150;

export function renderOnlyWhileStroking(engine, { deferStroke = () => false } = {}) {
  let strokeViewport = null;
  let restTimer = null;
  const schedule = segmentationRenderingEngine._setViewportsToBeRenderedNextFrame.bind(segmentationRenderingEngine);
  segmentationRenderingEngine._setViewportsToBeRenderedNextFrame = (viewportIds) => {
    if (!strokeViewport) {
      schedule(viewportIds);
    } else if (deferStroke()) {
      const painted = strokeViewport;
      clearTimeout(restTimer);
      restTimer = setTimeout(() => schedule([painted]), STROKE_REST_MS);
    } else {
      schedule(viewportIds.filter((id) => id === strokeViewport));
    }
  };
  for (const view of VIEWS) {
    engine.getViewport(view.id).element.addEventListener('pointerdown', (e) => {
      if (isToolPress(e)) {
        strokeViewport = view.id;
      }
    }, { capture: true });
  }
  window.addEventListener('pointerup', () => {
    if (strokeViewport) {
      strokeViewport = null;
      clearTimeout(restTimer);
      segmentationRenderingEngine.renderSegmentation(SEGMENTATION_ID);
    }
  }, { capture: true });
}

export function labelmapSpecifier() {
  return { segmentationId: SEGMENTATION_ID, type: SegmentationRepresentations.Labelmap };
}

export { cache, segmentation };
