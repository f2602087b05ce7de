// Live progress bars: every .job-progress element polls its job until it has finished.
// Polling (not websockets) keeps the deployment to plain WSGI processes behind any proxy.
const POLL_MS = 1000;
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function render(el, job) {
  el.dataset.status = job.status;
  el.querySelector(".bar-fill").style.width = `${Math.round(job.progress)}%`;
  const status = el.querySelector('[data-field="status"]');
  status.textContent = job.status;
  status.className = `badge status-${job.status}`;
  el.querySelector('[data-field="message"]').textContent = job.message || "";
  el.querySelector('[data-field="error"]').textContent = job.status === "failed" ? (job.error || "").slice(0, 300) : "";
  const cancel = el.querySelector(".job-cancel");
  if (cancel && FINISHED.has(job.status)) cancel.remove();
  el.dispatchEvent(new CustomEvent("job:update", { detail: job, bubbles: true }));
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
  while (!FINISHED.has(el.dataset.status)) {
    try {
      const r = await fetch(`/api/jobs/${id}/`, { headers: { Accept: "application/json" } });
      if (r.ok) render(el, await r.json());
    } catch (e) { /* a missed poll is retried */ }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

for (const el of document.querySelectorAll(".job-progress:not([data-following])")) {
  el.dataset.following = "1";
  follow(el);
}
