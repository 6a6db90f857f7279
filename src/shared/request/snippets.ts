// The request as text: one tensor per line in the panel, and as a command to copy: curl, and Python with requests. Plain strings (the page shows
// them, the tests run them). A large request goes through a file rather than onto the command line.
import type { RequestTarget } from './contract';

/** Requests up to this many characters are written inline; larger ones are read from request.json. */
export const INLINE_CHARS = 2000;

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function curlSnippet(t: RequestTarget, request: string): string {
  const body = compact(request);
  const lines = [
    `curl -sS -X POST ${shellQuote(t.endpoint)}`,
    `  -H 'Content-Type: application/json'`,
    ...(t.needsToken ? [`  -H "Authorization: Bearer $MODELREG_TOKEN"`] : []),
    body.length <= INLINE_CHARS ? `  -d ${shellQuote(body)}` : `  -d @request.json`,
  ];
  return lines.join(' \\\n');
}

export function pythonSnippet(t: RequestTarget, request: string): string {
  const body = compact(request);
  const inline = body.length <= INLINE_CHARS;
  return [
    ...(inline ? [] : ['import json']),
    ...(t.needsToken ? ['import os'] : []),
    'import requests',
    '',
    inline ? `request = ${pythonLiteral(body)}` : 'with open("request.json") as f:\n    request = json.load(f)',
    `response = requests.post(`,
    `    ${JSON.stringify(t.endpoint)},`,
    `    json=request,`,
    ...(t.needsToken ? ['    headers={"Authorization": "Bearer " + os.environ["MODELREG_TOKEN"]},'] : []),
    `    timeout=60,`,
    `)`,
    `response.raise_for_status()`,
    `for output in response.json()["outputs"]:`,
    `    print(output["name"], output["shape"], output["data"][:10])`,
  ].join('\n');
}

/** The request on one line when it is JSON; as typed otherwise (the server will say what is wrong). */
function compact(request: string): string {
  try {
    return JSON.stringify(JSON.parse(request));
  } catch {
    return request.trim();
  }
}

/** JSON as a Python literal: true/false/null become True/False/None outside strings. */
function pythonLiteral(json: string): string {
  return json.replace(/("(?:[^"\\]|\\.)*")|\btrue\b|\bfalse\b|\bnull\b/g, (m, str: string | undefined) =>
    str ? str : m === 'true' ? 'True' : m === 'false' ? 'False' : 'None',
  );
}

/** A request or answer as JSON with one tensor per line: readable for small ones, not a number per line for large ones. */
export function tensorsPerLine(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return JSON.stringify(body, null, 1);
  const lines = Object.entries(body).map(([k, v]) =>
    (k === 'inputs' || k === 'outputs') && Array.isArray(v)
      ? ` ${JSON.stringify(k)}: [\n${v.map((t) => `  ${JSON.stringify(t)}`).join(',\n')}\n ]`
      : ` ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
  );
  return `{\n${lines.join(',\n')}\n}`;
}
