// The documented hub API, called with the admin token kept for this tab only (sessionStorage).
const TOKEN_KEY = 'recordonce.adminToken';

export function token() { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(value) { sessionStorage.setItem(TOKEN_KEY, value); }
export function clearToken() { sessionStorage.removeItem(TOKEN_KEY); }

/** An API error: HTTP status, the hub's error code and message (never record values). */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Calls `path` (e.g. '/v1/adapters') with JSON in and out; throws ApiError on a non-2xx answer. */
export async function api(path, { method = 'GET', body, query } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, v);
    const text = params.toString();
    if (text) url += '?' + text;
  }
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) {
    const e = json && json.error ? json.error : {};
    throw new ApiError(response.status, e.code || 'http_' + response.status, e.message || response.statusText, json);
  }
  return json;
}

/** Whether the hub serves this route at all (404 with no route means "not available on this hub"). */
export function isMissingRoute(error) {
  return error instanceof ApiError && ((error.status === 404 && /no route/.test(error.message || '')) || error.status === 405);
}
