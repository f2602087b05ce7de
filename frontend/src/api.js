// Thin wrappers over fetch for the viewer contract's endpoints (session cookie + CSRF header).

export class ApiError extends Error {
  constructor({ status, detail }) {
    super(detail || `The server answered ${status}.`);
    this.status = status;
    this.detail = detail;
  }
}

async function errorFrom(response) {
  let detail = '';
  try {
    detail = (await response.json()).detail || '';
  } catch {
    detail = response.statusText;
  }
  return new ApiError({ status: response.status, detail });
}

export class Api {
  constructor({ urls, csrfToken }) {
    this.urls = urls;
    this.csrfToken = csrfToken;
  }

  async getJson(url) {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) {
      throw await errorFrom(response);
    }
    return response.json();
  }

  async post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': this.csrfToken, Accept: 'application/json' },
      body,
    });
    if (!response.ok) {
      throw await errorFrom(response);
    }
    return response.json();
  }

  async volumeMeta(pending = null) {
    if (!pending) {
      return this.getJson(this.urls.volumeMeta);
    }
    const response = await pending;
    if (!response.ok) {
      throw await errorFrom(response);
    }
    return response.json();
  }

  revisions() {
    return this.getJson(this.urls.revisions);
  }

  // Resolves to the response, or null when the server has no labelmap to start from (204).
  // `pending` is a fetch of the same URL the page started early, if any.
  async labelmap(revision, pending = null) {
    const url = `${this.urls.labelmap}?revision=${encodeURIComponent(revision)}`;
    const response = await (pending ?? fetch(url, { credentials: 'same-origin' }));
    if (response.status === 204) {
      return null;
    }
    if (!response.ok) {
      throw await errorFrom(response);
    }
    return response;
  }

  // The labelled box of the labelmap (see labelmapCodec.js); the answer carries the server's own time
  // (Server-Timing "total") as serverMs, for the speed bench.
  async createRevision({ labelmapBlob, box, baseRevision, editCount, secondsSpent }) {
    const form = new FormData();
    form.append('base_revision', baseRevision == null ? '' : String(baseRevision));
    form.append('labelmap', labelmapBlob, 'labelmap.box.gz');
    form.append('box_offset', box.offset.join(','));
    form.append('box_size', box.size.join(','));
    form.append('edit_count', String(editCount));
    form.append('seconds_spent', secondsSpent.toFixed(1));
    const response = await fetch(this.urls.revisions, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': this.csrfToken, Accept: 'application/json' },
      body: form,
    });
    if (!response.ok) {
      throw await errorFrom(response);
    }
    const revision = await response.json();
    const timing = /total;dur=([\d.]+)/.exec(response.headers.get('Server-Timing') || '');
    return { ...revision, serverMs: timing ? Number(timing[1]) : null };
  }

  restoreRevision(revisionId) {
    return this.post(`${this.urls.revisions}${revisionId}/restore/`, new FormData());
  }

  submit() {
    return this.post(this.urls.submit, new FormData());
  }
}
