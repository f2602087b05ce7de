// Evaluation dashboard charts: plain SVG, no build step, no library.
//
// Each <figure data-chart="KIND" data-source="ID"> on the page is drawn from the JSON in
// <script id="ID" type="application/json"> (Django's json_script). Every figure gets three buttons: the
// drawing as SVG, as PNG, and its data as CSV, so a figure in the paper can be remade from the CSV.

const SVG_NS = 'http://www.w3.org/2000/svg';
// Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
const CLASS_COLOURS = { normal: '#0072B2', osteopenia: '#E69F00', osteoporosis: '#D55E00' };
const FALLBACK_COLOURS = ['#009E73', '#CC79A7', '#56B4E9', '#000000'];
const FONT = '12px system-ui, sans-serif';

function svgElement(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

function colourFor(name, index) {
  return CLASS_COLOURS[name] || FALLBACK_COLOURS[index % FALLBACK_COLOURS.length];
}

function fixed(value, digits = 3) {
  return value === null || value === undefined ? '–' : Number(value).toFixed(digits);
}

function newSvg(width, height, title) {
  const svg = svgElement('svg', {
    xmlns: SVG_NS, viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    style: `font: ${FONT}; background: #fff`,
  });
  svg.append(svgElement('title', {}, title));
  svg.append(svgElement('rect', { x: 0, y: 0, width, height, fill: '#fff' }));
  return svg;
}

// --- ROC curves -----------------------------------------------------------------------------------

// data: {title, curves: [{label, class, auc: {auc, low, high}, roc: {fpr, tpr, thresholds}}]}
export function drawRoc(figure, data) {
  const size = 320, margin = { left: 48, top: 28, right: 12, bottom: 42 }, legendWidth = 300;
  const svg = newSvg(margin.left + size + margin.right + legendWidth, margin.top + size + margin.bottom, data.title);
  const x = (fpr) => margin.left + fpr * size;
  const y = (tpr) => margin.top + (1 - tpr) * size;
  svg.append(svgElement('text', { x: margin.left, y: 18, 'font-weight': 'bold' }, data.title));
  const plot = svgElement('g');
  svg.append(plot);
  for (let tick = 0; tick <= 1.0001; tick += 0.2) {
    plot.append(svgElement('line', { x1: x(tick), x2: x(tick), y1: y(0), y2: y(1), stroke: '#eee' }));
    plot.append(svgElement('line', { x1: x(0), x2: x(1), y1: y(tick), y2: y(tick), stroke: '#eee' }));
    plot.append(svgElement('text', { x: x(tick), y: y(0) + 16, 'text-anchor': 'middle' }, tick.toFixed(1)));
    plot.append(svgElement('text', { x: x(0) - 6, y: y(tick) + 4, 'text-anchor': 'end' }, tick.toFixed(1)));
  }
  plot.append(svgElement('rect', { x: x(0), y: y(1), width: size, height: size, fill: 'none', stroke: '#333' }));
  plot.append(svgElement('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(1), stroke: '#999', 'stroke-dasharray': '4 4' }));
  plot.append(svgElement('text', { x: x(0.5), y: y(0) + 34, 'text-anchor': 'middle' }, '1 − specificity'));
  plot.append(svgElement('text', {
    x: 14, y: y(0.5), 'text-anchor': 'middle', transform: `rotate(-90 14 ${y(0.5)})`,
  }, 'sensitivity'));

  const drawn = data.curves.filter((curve) => curve.roc);
  const lines = drawn.map((curve, index) => {
    const points = curve.roc.fpr.map((fpr, i) => `${x(fpr).toFixed(1)},${y(curve.roc.tpr[i]).toFixed(1)}`);
    const line = svgElement('polyline', {
      points: points.join(' '), fill: 'none', stroke: colourFor(curve.class, index), 'stroke-width': 2,
      ...(curve.dashed ? { 'stroke-dasharray': '6 3' } : {}),
    });
    plot.append(line);
    const legendY = margin.top + 14 + index * 20;
    const entry = svgElement('g', { style: 'cursor: pointer', 'data-curve': index });
    entry.append(svgElement('line', {
      x1: x(1) + 20, x2: x(1) + 40, y1: legendY - 4, y2: legendY - 4, stroke: colourFor(curve.class, index), 'stroke-width': 3,
      ...(curve.dashed ? { 'stroke-dasharray': '6 3' } : {}),
    }));
    const auc = curve.auc ? `AUC ${fixed(curve.auc.auc)} (${fixed(curve.auc.low)}–${fixed(curve.auc.high)})` : 'AUC –';
    entry.append(svgElement('text', { x: x(1) + 46, y: legendY }, `${curve.label}: ${auc}`));
    // Clicking a legend entry hides or shows its curve, to read overlapping curves apart.
    entry.addEventListener('click', () => {
      const hidden = line.getAttribute('visibility') === 'hidden';
      line.setAttribute('visibility', hidden ? 'visible' : 'hidden');
      entry.setAttribute('opacity', hidden ? 1 : 0.4);
    });
    svg.append(entry);
    return line;
  });
  addRocHover(svg, plot, drawn, lines, { x, y, size, margin });
  return svg;
}

// A marker and a read-out follow the pointer along the nearest visible curve: threshold, sensitivity and
// specificity of that operating point.
function addRocHover(svg, plot, curves, lines, { x, y, size, margin }) {
  const marker = svgElement('circle', { r: 4, fill: 'none', stroke: '#000', visibility: 'hidden' });
  const readout = svgElement('text', { x: margin.left + 6, y: margin.top + size - 8, visibility: 'hidden' });
  plot.append(marker, readout);
  const area = svgElement('rect', { x: x(0), y: y(1), width: size, height: size, fill: 'transparent' });
  plot.append(area);
  area.addEventListener('mousemove', (event) => {
    const box = svg.getBoundingClientRect();
    const scale = svg.viewBox.baseVal.width / box.width;
    const px = (event.clientX - box.left) * scale, py = (event.clientY - box.top) * scale;
    let best = null;
    curves.forEach((curve, c) => {
      if (lines[c].getAttribute('visibility') === 'hidden') return;
      curve.roc.fpr.forEach((fpr, i) => {
        const distance = (x(fpr) - px) ** 2 + (y(curve.roc.tpr[i]) - py) ** 2;
        if (!best || distance < best.distance) best = { distance, curve, i };
      });
    });
    if (!best) return;
    const { curve, i } = best;
    marker.setAttribute('cx', x(curve.roc.fpr[i]));
    marker.setAttribute('cy', y(curve.roc.tpr[i]));
    readout.textContent = `${curve.label}: threshold ${fixed(curve.roc.thresholds[i])}, ` +
      `sens ${fixed(curve.roc.tpr[i])}, spec ${fixed(1 - curve.roc.fpr[i])}`;
    marker.setAttribute('visibility', 'visible');
    readout.setAttribute('visibility', 'visible');
  });
  area.addEventListener('mouseleave', () => {
    marker.setAttribute('visibility', 'hidden');
    readout.setAttribute('visibility', 'hidden');
  });
}

function rocCsv(data) {
  const rows = [['curve', 'class', 'threshold', 'fpr', 'tpr']];
  for (const curve of data.curves) {
    if (!curve.roc) continue;
    curve.roc.fpr.forEach((fpr, i) => rows.push([curve.label, curve.class, curve.roc.thresholds[i], fpr, curve.roc.tpr[i]]));
  }
  return rows;
}

// --- Confusion matrix -----------------------------------------------------------------------------

// data: {title, classes: [...], matrix: [[...]]} with rows = true class, columns = predicted class.
export function drawConfusion(figure, data) {
  const cell = 88, left = 110, top = 60, k = data.classes.length;
  const svg = newSvg(left + k * cell + 20, top + k * cell + 50, data.title);
  svg.append(svgElement('text', { x: 8, y: 18, 'font-weight': 'bold' }, data.title));
  svg.append(svgElement('text', { x: left + (k * cell) / 2, y: 40, 'text-anchor': 'middle' }, 'predicted'));
  svg.append(svgElement('text', {
    x: 14, y: top + (k * cell) / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${top + (k * cell) / 2})`,
  }, 'true (QCT)'));
  data.matrix.forEach((row, i) => {
    const rowTotal = row.reduce((a, b) => a + b, 0) || 1;
    svg.append(svgElement('text', { x: left - 6, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'end' }, data.classes[i]));
    row.forEach((count, j) => {
      // Shade by the share of the true class, so rows of different sizes read alike.
      const share = count / rowTotal;
      svg.append(svgElement('rect', {
        x: left + j * cell, y: top + i * cell, width: cell, height: cell, stroke: '#fff',
        fill: `rgba(0, 114, 178, ${(0.08 + 0.85 * share).toFixed(3)})`,
      }));
      svg.append(svgElement('text', {
        x: left + j * cell + cell / 2, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'middle',
        fill: share > 0.5 ? '#fff' : '#000', 'font-weight': 'bold',
      }, String(count)));
    });
  });
  data.classes.forEach((name, j) => {
    svg.append(svgElement('text', { x: left + j * cell + cell / 2, y: top + k * cell + 16, 'text-anchor': 'middle' }, name));
  });
  return svg;
}

function confusionCsv(data) {
  return [['true \\ predicted', ...data.classes], ...data.matrix.map((row, i) => [data.classes[i], ...row])];
}

// --- Feature coefficients -------------------------------------------------------------------------

// data: {title, features: [{name, coefficient}]}: the LASSO-selected radiomics features (Fig. 3).
export function drawCoefficients(figure, data) {
  const rowHeight = 20, labelWidth = 330, barWidth = 260, top = 30;
  const features = [...data.features].sort((a, b) => Math.abs(b.coefficient) - Math.abs(a.coefficient));
  const svg = newSvg(labelWidth + barWidth + 70, top + Math.max(1, features.length) * rowHeight + 20, data.title);
  svg.append(svgElement('text', { x: 8, y: 18, 'font-weight': 'bold' }, data.title));
  const largest = Math.max(1e-12, ...features.map((f) => Math.abs(f.coefficient)));
  const zero = labelWidth + barWidth / 2;
  svg.append(svgElement('line', { x1: zero, x2: zero, y1: top - 4, y2: top + features.length * rowHeight, stroke: '#333' }));
  features.forEach((feature, i) => {
    const width = (Math.abs(feature.coefficient) / largest) * (barWidth / 2);
    const rowY = top + i * rowHeight;
    svg.append(svgElement('text', { x: labelWidth - 6, y: rowY + 14, 'text-anchor': 'end' }, feature.name));
    svg.append(svgElement('rect', {
      x: feature.coefficient < 0 ? zero - width : zero, y: rowY + 3, width, height: rowHeight - 6,
      fill: feature.coefficient < 0 ? '#D55E00' : '#0072B2',
    }));
    svg.append(svgElement('text', { x: labelWidth + barWidth + 6, y: rowY + 14 }, fixed(feature.coefficient, 4)));
  });
  return svg;
}

function coefficientCsv(data) {
  return [['feature', 'coefficient'], ...data.features.map((f) => [f.name, f.coefficient])];
}

// --- Study flow (Fig. 1) --------------------------------------------------------------------------

// data: {title, screened, excluded: [{reason, n}], included, subsets: [{name, n}]}
export function drawFlow(figure, data) {
  const width = 640, boxHeight = 40;
  const excludedHeight = 24 + 16 * Math.max(1, data.excluded.length);
  const svg = newSvg(width, 170 + excludedHeight + 2 * boxHeight, data.title);
  const box = (x, y, w, h, lines) => {
    svg.append(svgElement('rect', { x, y, width: w, height: h, fill: '#f7f7f7', stroke: '#333', rx: 4 }));
    lines.forEach((line, i) => svg.append(svgElement('text', { x: x + 8, y: y + 18 + i * 16 }, line)));
  };
  const arrow = (x1, y1, x2, y2) => svg.append(svgElement('line', {
    x1, y1, x2, y2, stroke: '#333', 'marker-end': 'url(#arrow)',
  }));
  const defs = svgElement('defs');
  const marker = svgElement('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' });
  marker.append(svgElement('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#333' }));
  defs.append(marker);
  svg.append(defs);
  svg.append(svgElement('text', { x: 8, y: 18, 'font-weight': 'bold' }, data.title));
  box(200, 24, 240, boxHeight, [`screened: ${data.screened}`]);
  const excludedLines = [`excluded: ${data.excluded.reduce((a, e) => a + e.n, 0)}`,
    ...data.excluded.map((e) => `  ${e.reason}: ${e.n}`)];
  box(400, 72, 230, excludedHeight, excludedLines);
  arrow(320, 24 + boxHeight, 320, 92 + excludedHeight);
  arrow(320, 72 + excludedHeight / 2, 400, 72 + excludedHeight / 2);
  const includedY = 92 + excludedHeight;
  box(200, includedY, 240, boxHeight, [`included: ${data.included}`]);
  const subsetWidth = 180, gap = (width - subsetWidth * data.subsets.length) / (data.subsets.length + 1);
  data.subsets.forEach((subset, i) => {
    const x = gap + i * (subsetWidth + gap);
    arrow(320, includedY + boxHeight, x + subsetWidth / 2, includedY + boxHeight + 30);
    box(x, includedY + boxHeight + 30, subsetWidth, boxHeight, [`${subset.name}: ${subset.n}`]);
  });
  return svg;
}

function flowCsv(data) {
  return [['stage', 'detail', 'n'], ['screened', '', data.screened],
    ...data.excluded.map((e) => ['excluded', e.reason, e.n]), ['included', '', data.included],
    ...data.subsets.map((s) => ['subset', s.name, s.n])];
}

// --- Downloads ------------------------------------------------------------------------------------

function csvText(rows) {
  const quote = (value) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return rows.map((row) => row.map(quote).join(',')).join('\n') + '\n';
}

function save(blob, filename) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function svgText(svg) {
  return new XMLSerializer().serializeToString(svg);
}

// PNG at twice the drawn size, for print.
function savePng(svg, filename) {
  const image = new Image();
  const scale = 2;
  image.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = svg.viewBox.baseVal.width * scale;
    canvas.height = svg.viewBox.baseVal.height * scale;
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    canvas.toBlob((blob) => save(blob, filename), 'image/png');
  };
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText(svg))}`;
}

const CHARTS = {
  roc: [drawRoc, rocCsv],
  confusion: [drawConfusion, confusionCsv],
  coefficients: [drawCoefficients, coefficientCsv],
  flow: [drawFlow, flowCsv],
};

function addDownloads(figure, svg, rows, name) {
  const bar = document.createElement('div');
  bar.className = 'figure-downloads no-print';
  const button = (label, action) => {
    const element = document.createElement('button');
    element.type = 'button';
    element.textContent = label;
    element.dataset.download = label.toLowerCase();
    element.addEventListener('click', action);
    bar.append(element);
  };
  button('SVG', () => save(new Blob([svgText(svg)], { type: 'image/svg+xml' }), `${name}.svg`));
  button('PNG', () => savePng(svg, `${name}.png`));
  button('CSV', () => save(new Blob([csvText(rows)], { type: 'text/csv' }), `${name}.csv`));
  figure.append(bar);
}

export function drawAll(root = document) {
  for (const figure of root.querySelectorAll('figure[data-chart]')) {
    const [draw, csv] = CHARTS[figure.dataset.chart] || [];
    const source = document.getElementById(figure.dataset.source);
    if (!draw || !source) continue;
    const data = JSON.parse(source.textContent);
    const svg = draw(figure, data);
    figure.querySelector('.chart')?.replaceChildren(svg) ?? figure.prepend(svg);
    addDownloads(figure, svg, csv(data), figure.dataset.name || figure.dataset.chart);
  }
  // Tables marked data-csv get a CSV button too (Tables 1-3, per-case predictions).
  for (const table of root.querySelectorAll('table[data-csv]')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'no-print';
    button.dataset.download = 'csv';
    button.textContent = 'CSV';
    button.addEventListener('click', () => {
      const rows = [...table.querySelectorAll('tr')].map((tr) => [...tr.children].map((cell) => cell.textContent.trim()));
      save(new Blob([csvText(rows)], { type: 'text/csv' }), `${table.dataset.csv}.csv`);
    });
    table.before(button);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => drawAll());
else drawAll();
