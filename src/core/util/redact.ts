/**
 * Redaction of credentials before anything is stored, printed or handed on: user info in URLs,
 * secret-looking query parameters, and environment entries whose name or value looks like a secret.
 */

const SCHEME_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/i;

/** Query parameters that carry a credential (presigned URLs, tokens in links). */
const SECRET_PARAM =
  /^(x-amz-(credential|signature|security-token)|signature|sig|token|access_token|api_?key|key|secret|password|passwd|auth)$/i;

/**
 * A URL without its user name and password, and with secret-looking query values replaced by
 * "REDACTED". Text that is not a URL, or has nothing to hide, comes back unchanged (not re-serialised,
 * so `http://host:9000` stays as written).
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // scp-like syntax (git@host:repo) carries no password
  }
  let out = u.username || u.password ? url.replace(SCHEME_USERINFO, '$1') : url;
  const secretParams = [...u.searchParams.keys()].filter((k) => SECRET_PARAM.test(k));
  if (secretParams.length) {
    const q = out.indexOf('?');
    const hash = out.indexOf('#', q);
    const query = out.slice(q + 1, hash < 0 ? undefined : hash);
    const redacted = query
      .split('&')
      .map((pair) => {
        const name = decodeURIComponent(pair.split('=')[0].replace(/\+/g, ' '));
        return SECRET_PARAM.test(name) ? `${pair.split('=')[0]}=REDACTED` : pair;
      })
      .join('&');
    out = out.slice(0, q + 1) + redacted + (hash < 0 ? '' : out.slice(hash));
  }
  return out;
}

/** Every `scheme://user:password@` inside free text (a command line, an env value) without its user info. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/gi, '$1');
}

/** Words that make a variable name a secret when a part of the name is, or ends with, one of them. */
const SECRET_WORDS = [
  'KEY',
  'SECRET',
  'TOKEN',
  'PASSWORD',
  'PASSWD',
  'PASS',
  'PWD',
  'CREDENTIAL',
  'CREDENTIALS',
  'AUTH',
  'SIGNATURE',
  'DSN',
  'COOKIE',
  'PRIVATE',
];

/**
 * Whether an environment variable's name says it holds a secret: HF_TOKEN, AWS_SECRET_ACCESS_KEY,
 * PGPASSWORD, OPENAI_API_KEY, apiKey… Parts of the name are compared, so TOKENIZERS_PARALLELISM is
 * not one; PWD and OLDPWD (folders) are not either.
 */
export function looksSecret(name: string): boolean {
  if (/^(OLD)?PWD$/i.test(name)) return false;
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  return parts.some((p) =>
    SECRET_WORDS.some(
      (w) =>
        p === w || p.endsWith(w) || p.startsWith('SECRET') || p.startsWith('PASSWORD') || p.startsWith('CREDENTIAL'),
    ),
  );
}

export const REDACTED = '<redacted>';

/**
 * One "NAME=value" entry of a container image's Env: the value replaced when the name looks like a
 * secret, and user info removed from URLs in it (DATABASE_URL=postgres://user:pw@db/x).
 */
export function redactEnvEntry(entry: string): string {
  const eq = entry.indexOf('=');
  const name = eq < 0 ? entry : entry.slice(0, eq);
  if (eq < 0) return entry;
  if (looksSecret(name)) return `${name}=${REDACTED}`;
  return `${name}=${redactUrlsIn(entry.slice(eq + 1))}`;
}
