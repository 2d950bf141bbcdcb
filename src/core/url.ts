// Request URLs from a configured base URL, shared by the upstream senders, the heartbeat and the
// work-order client so a base with a path prefix ("https://host/api/v2/") means the same everywhere.

/** `baseUrl` + path, keeping any path prefix of the base. */
export function endpoint(baseUrl: string, path: string): URL {
  const u = new URL(baseUrl);
  const prefix = u.pathname.replace(/\/+$/, "");
  u.pathname = `${prefix}${path}`;
  u.search = "";
  return u;
}
