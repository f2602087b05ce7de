// The site's one date-time shape in the browser, the same as the server's ("2026-12-02 04:04", the
// user's time zone), and the `tz` cookie that tells the server which zone the user is in.
const pad = (n) => String(n).padStart(2, "0");

export function formatDateTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return "–";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function plural(n, singular, pluralForm = `${singular}s`) {
  return `${n} ${Math.abs(n) === 1 ? singular : pluralForm}`;
}

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone && !document.cookie.split("; ").includes(`tz=${encodeURIComponent(zone)}`)) {
  document.cookie = `tz=${encodeURIComponent(zone)}; path=/; max-age=31536000; SameSite=Lax`;
}
