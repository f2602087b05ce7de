// Milestones of the viewer's start-up as User Timing marks ("viewer:firstSlice", "viewer:ready"...): the
// browser's Performance panel shows them, each is marked once, and they cost nothing worth counting. Times
// are milliseconds since navigation start, so "first slice" includes loading the page, the bundle and the
// first bytes of the volume; the page's inline script marks its own preview of that slice the same way.
//
// Everything that records more than a milestone (per-stroke latency, echo timings, save figures) and the
// page handle the browser tests drive live in benchProbe.js, which only the bench build contains
// (`npm run build:bench`, see vite.config.js): the production bundle keeps no growing arrays and sets no
// globals. BENCH_BUILD is a constant the build replaces, so the bench-only branches vanish from production.

export const BENCH_BUILD = import.meta.env.MODE === 'bench';

export function mark(name) {
  const entry = `viewer:${name}`;
  if (performance.getEntriesByName(entry, 'mark').length === 0) {
    performance.mark(entry);
  }
}
