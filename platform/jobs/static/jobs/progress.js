// Live progress bars: every .job-progress element polls its job until it has finished.
// Polling (not websockets) keeps the deployment to plain WSGI processes behind any proxy. A job is asked
// after 1 s, then every 2, 4, 8 and at most 10 s: a long training is not polled every second, and a
// hidden tab waits until it is shown again.
import { formatDateTime } from "../osteoscreen/format.js";

const FIRST_POLL_MS = 1000;
const MAX_POLL_MS = 10000;
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function render(el, job) {
  el.dataset.status = job.status;
  const bar = el.querySelector(".job-bar");
  bar.value = Math.round(job.progress);
  bar.textContent = `${Math.round(job.progress)} %`;
  const status = el.querySelector('[data-field="status"]');
  status.textContent = job.status;
  status.className = `badge status-${job.status}`;
  el.querySelector('[data-field="message"]').textContent = job.message || "";
  el.querySelector('[data-field="error"]').textContent = job.status === "failed" ? (job.error || "").slice(0, 300) : "";
  const cancel = el.querySelector(".job-cancel");
  if (cancel && FINISHED.has(job.status)) cancel.remove();
  if (job.finished_at) el.dataset.finishedAt = formatDateTime(job.finished_at);
  el.dispatchEvent(new CustomEvent("job:update", { detail: job, bubbles: true }));
}

function visible() {
  if (!document.hidden) return Promise.resolve();
  return new Promise((resolve) => document.addEventListener("visibilitychange", resolve, { once: true }));
}

async function follow(el) {
  const id = el.dataset.jobId;
  const cancel = el.querySelector(".job-cancel");
  if (cancel) {
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      const r = await fetch(`/api/jobs/${id}/cancel/`, { method: "POST", headers: { "X-CSRFToken": csrfToken() } });
      if (r.ok) render(el, await r.json());
    });
  }
  let wait = FIRST_POLL_MS;
  while (!FINISHED.has(el.dataset.status)) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    await visible();
    wait = Math.min(wait * 2, MAX_POLL_MS);
    try {
      const r = await fetch(`/api/jobs/${id}/`, { headers: { Accept: "application/json" } });
      if (r.ok) render(el, await r.json());
    } catch (e) { /* a missed poll is retried */ }
  }
}

for (const el of document.querySelectorAll(".job-progress:not([data-following])")) {
  el.dataset.following = "1";
  follow(el);
}
