/** Human-readable sizes, counts and metric values, shared by the tree, the CLI and the compare panel. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

export function formatCount(n: number | null): string {
  if (n === null) return '—';
  const units = ['', 'K', 'M', 'B', 'T'];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  // Three significant digits at most, without trailing zeros (10K, 26.8K, 1.25M).
  let r = i === 0 ? n : Number(n.toPrecision(3));
  if (Math.abs(r) >= 1000 && i > 0 && i < units.length - 1) {
    r = Number((r / 1000).toPrecision(3)); // 999.95K rounds up to 1M, not 1000K
    i++;
  }
  return `${r}${units[i]}`;
}

/** A metric value: integers as they are, else 4 significant digits, exponents for the very small or large. */
export function formatMetric(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e7 || a < 1e-4)) return v.toExponential(3).replace(/\.?0+e/, 'e'); // 6e-5, 1.25e-7
  return String(Number(v.toPrecision(4)));
}

/**
 * Text from input (file and tensor names, commit subjects, messages quoting them) made safe to print
 * on one terminal line: control characters, DEL, C1 codes and bidirectional overrides become visible
 * escapes, so a file name can neither colour the terminal nor forge a line such as "modelreg: all good".
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const UNITS: [string, number][] = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/**
 * How long ago `iso` was, seen from `now` (ms since the epoch): "just now", "5 minutes ago", "3 hours
 * ago", "2 days ago"… A time ahead of `now` (another machine's clock) reads "in 2 minutes". Text that
 * is no time comes back as it is.
 */
export function formatRelativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  for (const [unit, size] of UNITS) {
    const n = Math.floor(Math.abs(s) / size);
    if (n >= 1) return s < 0 ? `in ${n} ${unit}${n === 1 ? '' : 's'}` : `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

/** `iso` in this machine's time zone, to the second: "2026-01-03 15:30:12". Text that is no time comes back as it is. */
export function formatLocalTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Both: "3 hours ago (2026-01-03 15:30:12)", for tooltips. */
export function formatTime(iso: string, now: number): string {
  const rel = formatRelativeTime(iso, now);
  return rel === iso ? iso : `${rel} (${formatLocalTime(iso)})`;
}
