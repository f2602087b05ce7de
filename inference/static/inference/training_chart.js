// The training chart: loss (left axis) and validation Dice (right axis, 0-1) per epoch, both as lines
// with ticks on every axis and a legend. Validation runs every few epochs, so the Dice line joins the
// validated epochs and marks each one.
const NS = "http://www.w3.org/2000/svg";
const W = 680, H = 280, L = 56, R = 56, T = 30, B = 40;
const LOSS = "#c0392b", DICE = "#2471a3";

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function ticks(max, count) {
  // Round steps (1, 2 or 5 times a power of ten) so tick labels read cleanly.
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  // The last tick is at or above the maximum, so the curve never leaves the plot.
  const values = [0];
  while (values.at(-1) < max) values.push(Number((values.at(-1) + step).toPrecision(6)));
  return values;
}

function axes(svg, { maxEpoch, maxLoss, x, yLoss, yDice }) {
  svg.append(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#888" }));
  svg.append(el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: LOSS }));
  svg.append(el("line", { x1: W - R, y1: T, x2: W - R, y2: H - B, stroke: DICE }));
  for (const e of ticks(maxEpoch, 8).filter((e) => e >= 1 || maxEpoch < 2)) {
    svg.append(el("line", { x1: x(e), y1: H - B, x2: x(e), y2: H - B + 4, stroke: "#888" }));
    svg.append(el("text", { x: x(e), y: H - B + 16, "font-size": 11, "text-anchor": "middle" }, String(e)));
  }
  for (const v of ticks(maxLoss, 4)) {
    svg.append(el("line", { x1: L - 4, y1: yLoss(v), x2: W - R, y2: yLoss(v), stroke: "#eee" }));
    svg.append(el("text", { x: L - 6, y: yLoss(v) + 4, "font-size": 11, "text-anchor": "end", fill: LOSS }, v.toString()));
  }
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(el("line", { x1: W - R, y1: yDice(v), x2: W - R + 4, y2: yDice(v), stroke: DICE }));
    svg.append(el("text", { x: W - R + 6, y: yDice(v) + 4, "font-size": 11, fill: DICE }, v.toFixed(2)));
  }
  svg.append(el("text", { x: (W + L - R) / 2, y: H - 6, "font-size": 12, "text-anchor": "middle" }, "epoch"));
  svg.append(el("text", { x: 14, y: (T + H - B) / 2, "font-size": 12, fill: LOSS, "text-anchor": "middle",
    transform: `rotate(-90 14 ${(T + H - B) / 2})` }, "training loss"));
  svg.append(el("text", { x: W - 10, y: (T + H - B) / 2, "font-size": 12, fill: DICE, "text-anchor": "middle",
    transform: `rotate(90 ${W - 10} ${(T + H - B) / 2})` }, "validation Dice"));
}

function legend(svg) {
  const items = [["training loss", LOSS, ""], ["validation Dice", DICE, ""]];
  items.forEach(([label, colour], i) => {
    const x0 = L + 8 + i * 150;
    svg.append(el("line", { x1: x0, y1: 12, x2: x0 + 24, y2: 12, stroke: colour, "stroke-width": 2.5 }));
    svg.append(el("text", { x: x0 + 30, y: 16, "font-size": 12 }, label));
  });
}

function line(points, x, y, colour) {
  const d = points.map((p, i) => `${i ? "L" : "M"}${x(p.epoch).toFixed(1)},${y(p).toFixed(1)}`).join("");
  return el("path", { d, fill: "none", stroke: colour, "stroke-width": 2, "stroke-linejoin": "round" });
}

export function draw(figure, points) {
  const svg = figure.querySelector("svg");
  svg.replaceChildren();
  if (!points || !points.length) {
    svg.append(el("text", { x: L, y: H / 2 }, "waiting for the first epoch…"));
    return;
  }
  const has = (key) => (p) => p[key] !== null && p[key] !== undefined;
  const withLoss = points.filter(has("loss"));
  const withDice = points.filter(has("val_dice"));
  const maxEpoch = Math.max(...points.map((p) => p.epoch), 2);
  const maxLoss = ticks(Math.max(...withLoss.map((p) => p.loss), 1e-6), 4).at(-1);
  const scale = { maxEpoch, maxLoss,
    x: (e) => L + ((W - L - R) * (e - 1)) / Math.max(maxEpoch - 1, 1),
    yLoss: (v) => T + (H - T - B) * (1 - v / maxLoss),
    yDice: (v) => T + (H - T - B) * (1 - v) };
  axes(svg, scale);
  legend(svg);
  const fine = points.find((p) => p.stage === "fine");
  if (fine && points[0].stage !== "fine") {
    const at = scale.x(fine.epoch);
    svg.append(el("line", { x1: at, y1: T, x2: at, y2: H - B, stroke: "#bbb", "stroke-dasharray": "4 3" }));
    svg.append(el("text", { x: at + 4, y: T + 12, "font-size": 11, fill: "#666" }, "fine stage"));
  }
  svg.append(line(withLoss, scale.x, (p) => scale.yLoss(p.loss), LOSS));
  svg.append(line(withDice, scale.x, (p) => scale.yDice(p.val_dice), DICE));
  for (const p of withDice) svg.append(el("circle", { cx: scale.x(p.epoch), cy: scale.yDice(p.val_dice), r: 3, fill: DICE }));
  const last = points[points.length - 1];
  const lastDice = withDice.at(-1);
  figure.querySelector('[data-field="last"]').textContent =
    `epoch ${last.epoch}${last.stage ? ` (${last.stage} stage)` : ""}: loss ${last.loss?.toFixed(4) ?? "–"}` +
    (lastDice ? `; validation Dice ${lastDice.val_dice.toFixed(3)} at epoch ${lastDice.epoch}` : "");
}

for (const figure of document.querySelectorAll("figure.training-chart")) {
  draw(figure, JSON.parse(document.getElementById(figure.dataset.pointsId).textContent));
  const id = figure.dataset.jobId;
  if (id) {
    document.addEventListener("job:update", (event) => {
      if (String(event.detail.id) === id) draw(figure, (event.detail.data || {}).loss_curve);
    });
  }
}
