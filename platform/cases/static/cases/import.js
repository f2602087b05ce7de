// The coordinator's import page: every dropped CT file is uploaded on its own XMLHttpRequest (so each
// has its own progress bar and its own answer), and a QCT CSV is checked row by row before it is stored.
import { filesOfDirectory, zipFolder } from "./zip.js";

const NIFTI = /\.nii(\.gz)?$/i;
const ACCEPTED = /\.(nii|nii\.gz|zip)$/i;

function errorText(xhrOrBody, status) {
  // The platform's own message: DRF answers {"detail": ...} or {"field": ["...", ...]}.
  const body = typeof xhrOrBody === "string" ? safeJson(xhrOrBody) : xhrOrBody;
  if (body && typeof body.detail === "string") return body.detail;
  if (body && typeof body === "object") {
    return Object.entries(body).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
  }
  return status ? `the server answered ${status}` : "the upload did not reach the server";
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}

function studyIdOf(file) {
  return NIFTI.test(file.name) ? file.name.replace(NIFTI, "") : "";
}

function row(file) {
  const tr = document.createElement("tr");
  tr.dataset.file = file.name;
  const cells = [file.name, studyIdOf(file) || "from the DICOM header", "", ""].map((text) => {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  });
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  cells[2].appendChild(bar);
  cells[3].dataset.field = "result";
  return { tr, bar, result: cells[3] };
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function showOutcome(section, view, xhr) {
  const body = safeJson(xhr.responseText) || {};
  view.result.textContent = "";
  if (xhr.status === 201 || xhr.status === 200) {
    view.tr.dataset.state = "imported";
    view.result.append(xhr.status === 201 ? "imported as " : "already stored as ",
      link(section.dataset.caseUrl.replace("/0/", `/${body.id}/`), body.study_id));
  } else if (xhr.status === 202) {
    view.tr.dataset.state = "queued";
    view.result.append("importing in the background: ",
      link(section.dataset.jobUrl.replace("/0/", `/${body.job.id}/`), "follow the job"));
  } else {
    view.tr.dataset.state = "refused";
    view.result.classList.add("error");
    view.result.textContent = errorText(xhr.responseText, xhr.status);
  }
}

function upload(section, file, view) {
  return new Promise((resolve) => {
    const form = new FormData();
    form.append("file", file);
    const studyId = studyIdOf(file);
    if (studyId) form.append("study_id", studyId);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", section.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", section.dataset.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) view.bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => { view.bar.value = 100; showOutcome(section, view, xhr); resolve(); });
    xhr.addEventListener("error", () => {
      view.tr.dataset.state = "refused";
      view.result.textContent = errorText(null, 0);
      resolve();
    });
    xhr.send(form);
  });
}

async function importFiles(section, files) {
  const table = section.querySelector("table.uploads");
  const body = section.querySelector("#ct-uploads");
  table.hidden = false;
  const views = [];
  for (const file of files) {
    const view = row(file);
    body.appendChild(view.tr);
    if (!ACCEPTED.test(file.name)) {
      view.tr.dataset.state = "refused";
      view.result.classList.add("error");
      view.result.textContent = `${file.name}: send a NIfTI file (.nii, .nii.gz) or a DICOM series as .zip`;
      continue;
    }
    views.push([file, view]);
  }
  // One upload after the other: the server reads each volume in full, and parallel uploads would only
  // compete for the same bandwidth and memory.
  for (const [file, view] of views) await upload(section, file, view);
  section.dataset.done = String(Number(section.dataset.done || 0) + files.length);
}

function setUpDropZone(section) {
  const zone = section.querySelector(".dropzone");
  const input = section.querySelector("#ct-files");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    // Entries must be read before the event returns; a folder then becomes one zip.
    const entries = [...e.dataTransfer.items].map((item) => item.webkitGetAsEntry?.());
    const files = [...e.dataTransfer.files];
    const folders = entries.filter((entry) => entry?.isDirectory);
    const plain = files.filter((file, i) => !entries[i]?.isDirectory);
    const zipped = await Promise.all(folders.map(async (entry) => zipFolder(await filesOfDirectory(entry), `${entry.name}.zip`)));
    importFiles(section, [...plain, ...zipped]);
  });
  input.addEventListener("change", () => { importFiles(section, [...input.files]); input.value = ""; });
  const folderInput = section.querySelector("#ct-folder");
  folderInput.addEventListener("change", async () => {
    importFiles(section, await foldersAsZips([...folderInput.files]));
    folderInput.value = "";
  });
}

// A chosen folder arrives as its files with their paths; each top-level folder becomes one zip.
async function foldersAsZips(files) {
  const byFolder = new Map();
  for (const file of files) {
    const [top, ...rest] = file.webkitRelativePath.split("/");
    if (!byFolder.has(top)) byFolder.set(top, []);
    byFolder.get(top).push({ name: rest.join("/") || file.name, file });
  }
  return Promise.all([...byFolder].map(([folder, entries]) => zipFolder(entries, `${folder}.zip`)));
}

async function postQct(section, file, dryRun) {
  const form = new FormData();
  form.append("file", file);
  form.append("dry_run", dryRun ? "true" : "false");
  const response = await fetch(section.dataset.uploadUrl, {
    method: "POST", body: form, headers: { "X-CSRFToken": section.dataset.csrf, Accept: "application/json" },
  });
  return { status: response.status, body: safeJson(await response.text()) || {} };
}

function showProblems(section, problems) {
  const table = section.querySelector("#qct-problems");
  const body = table.querySelector("tbody");
  body.textContent = "";
  for (const p of problems) {
    const tr = document.createElement("tr");
    for (const text of [p.row, p.column || "(whole row)", p.message]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  table.hidden = problems.length === 0;
}

function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function setUpQct(section) {
  const input = section.querySelector("#qct-file");
  const check = section.querySelector("#qct-check");
  const store = section.querySelector("#qct-store");
  const summary = section.querySelector("#qct-summary");
  input.addEventListener("change", () => { store.disabled = true; store.title = "check the file first"; });
  check.addEventListener("click", async () => {
    if (!input.files.length) { summary.textContent = "Choose a CSV file first."; return; }
    const { status, body } = await postQct(section, input.files[0], true);
    const problems = body.problems || [];
    showProblems(section, problems);
    if (status !== 200) {
      summary.textContent = errorText(body, status);
    } else if (problems.length) {
      const rows = new Set(problems.map((p) => p.row)).size;
      summary.textContent = `Refused: ${plural(problems.length, "problem")} in ${plural(rows, "row")} of ${body.rows} (rows counted as lines of the file, the header is row 1). Nothing was stored; fix the file and check it again.`;
    } else {
      summary.textContent = `${plural(body.rows, "row")} checked, no problem found. Nothing is stored until you import.`;
    }
    store.disabled = status !== 200 || problems.length > 0;
    store.title = store.disabled ? "the file has problems: fix them and check again" : "";
  });
  store.addEventListener("click", async () => {
    store.disabled = true;
    const { status, body } = await postQct(section, input.files[0], false);
    showProblems(section, body.problems || []);
    summary.textContent = status === 201 ? `Imported ${plural(body.imported, "QCT result")}.` : errorText(body, status);
  });
}

setUpDropZone(document.getElementById("ct-import"));
setUpQct(document.getElementById("qct-import"));
