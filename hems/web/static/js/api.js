// The JSON API client: CSRF header on every change, errors as readable messages.

export const session = { csrf: null, user: null, role: null, readOnly: false };

export class ApiError extends Error {
  constructor(status, message, field) { super(message); this.status = status; this.field = field; }
}

export async function api(method, path, body) {
  const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (method !== "GET" && session.csrf) opts.headers["X-CSRF-Token"] = session.csrf;
  let resp;
  try { resp = await fetch(`/api/v1${path}`, opts); }
  catch { throw new ApiError(0, "hems is not reachable: check the network"); }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    if (resp.status === 401 && !path.startsWith("/auth/")) window.dispatchEvent(new Event("hems:logged-out"));
    throw new ApiError(resp.status, data.error || resp.statusText, data.field);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const put = (path, body) => api("PUT", path, body);
export const post = (path, body) => api("POST", path, body);
export const del = (path) => api("DELETE", path);
