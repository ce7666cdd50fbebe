// Every time on the page says its timezone: the viewer's by default, or a job's own.

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const formats = new Map();

function formatter(zone) {
  if (!formats.has(zone)) {
    formats.set(zone, new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "short", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
    }));
  }
  return formats.get(zone);
}

export function formatAt(iso, zone = viewerZone) {
  if (!iso) return "—";
  return formatter(zone).format(new Date(iso));
}

export function formatSeconds(seconds) {
  if (seconds == null) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function since(iso, now = Date.now()) {
  if (!iso) return null;
  return Math.max(0, (now - new Date(iso).getTime()) / 1000);
}

// <input type="datetime-local"> holds the viewer's wall time without a zone; the API wants an instant.
export function localInputToIso(value) {
  return value ? new Date(value).toISOString() : null;
}
