// Address and host-name helpers shared by the config checks, the local API and the embedded MQTT
// broker, so "loopback" and "which names does this server answer to" have one definition.

import { isIP } from "node:net";
import { hostname } from "node:os";

/** Lower-cases, trims, removes IPv6 brackets, an IPv6 zone ("%eth0") and a trailing dot. */
function bare(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const zone = h.indexOf("%");
  if (zone >= 0 && h.includes(":")) h = h.slice(0, zone);
  if (h.endsWith(".") && isIP(h.slice(0, -1)) === 0) h = h.slice(0, -1);
  return h;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail expanded), or null. */
function ipv6Groups(h: string): number[] | null {
  if (isIP(h) !== 6) return null;
  let text = h;
  const lastColon = text.lastIndexOf(":");
  const v4 = text.slice(lastColon + 1);
  if (v4.includes(".")) {
    // Rewrite the dotted IPv4 tail as two hex groups so one parser handles every spelling.
    const o = v4.split(".").map(Number);
    const hex = (a: number, b: number): string => ((a << 8) | b).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hex(o[0] ?? 0, o[1] ?? 0)}:${hex(o[2] ?? 0, o[3] ?? 0)}`;
  }
  const [head = "", rest, extra] = text.split("::");
  if (extra !== undefined) return null;
  const parse = (s: string): number[] => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const a = parse(head);
  const b = rest === undefined ? [] : parse(rest);
  const fill = 8 - a.length - b.length;
  if (fill < 0 || (rest === undefined && fill !== 0)) return null;
  return [...a, ...new Array<number>(fill).fill(0), ...b];
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for, else null. */
function mappedV4(groups: readonly number[]): string | null {
  if (groups.slice(0, 5).some((g) => g !== 0) || groups[5] !== 0xffff) return null;
  const hi = groups[6] ?? 0;
  const lo = groups[7] ?? 0;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * True for names and addresses only this machine can reach: "localhost" and "*.localhost",
 * 127.0.0.0/8, ::1 in any spelling, and their IPv4-mapped IPv6 forms. Brackets are allowed.
 */
export function isLoopback(host: string): boolean {
  const h = bare(host);
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  const g = ipv6Groups(h);
  if (!g) return false;
  const v4 = mappedV4(g);
  if (v4 !== null) return v4.startsWith("127.");
  return g.slice(0, 7).every((x) => x === 0) && g[7] === 1;
}

/** True for the "any address" binds: 0.0.0.0, :: (and their spellings). */
export function isWildcard(host: string): boolean {
  const h = bare(host);
  if (h === "0.0.0.0") return true;
  const g = ipv6Groups(h);
  return g?.every((x) => x === 0) === true;
}

/** A socket's remote address in its usual form: IPv4-mapped IPv6 shown as IPv4. */
export function remoteAddress(addr: string | undefined): string {
  if (!addr) return "unknown";
  const h = bare(addr);
  const g = ipv6Groups(h);
  const v4 = g ? mappedV4(g) : null;
  return v4 ?? h;
}

/** Splits a Host header ("name", "name:port", "[v6]:port") into its host part; null when malformed. */
export function hostOfHeader(header: string | undefined): { host: string; port: number | null } | null {
  if (header === undefined) return null;
  const v = header.trim();
  if (v === "" || /[\s/\\@?#]/.test(v)) return null;
  let host: string;
  let port: string | undefined;
  if (v.startsWith("[")) {
    const end = v.indexOf("]");
    if (end < 0) return null;
    host = v.slice(1, end);
    const after = v.slice(end + 1);
    if (after !== "" && !after.startsWith(":")) return null;
    port = after === "" ? undefined : after.slice(1);
    if (isIP(bare(host)) !== 6) return null;
  } else {
    const parts = v.split(":");
    if (parts.length > 2) return null;
    host = parts[0] ?? "";
    port = parts[1];
  }
  if (host === "") return null;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return null;
  const n = port === undefined ? null : Number(port);
  if (n !== null && n > 65535) return null;
  return { host: bare(host), port: n };
}

/** Why an `http.allowedHosts` entry is unusable, or null when it is a plain name, `*.domain` or an IP. */
export function allowedHostProblem(entry: string): string | null {
  const e = entry.trim();
  if (e === "") return "empty entry";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(e)) return "write the host name only, without a scheme";
  if (isIP(bare(e)) !== 0) return null;
  if (e.includes(":")) return "write the host name only, without a port (any port is accepted)";
  if (!/^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i.test(e))
    return "not a host name";
  return null;
}

export interface HostAllowListOptions {
  /** The address the server is bound to (http.host). */
  bindHost: string;
  /** Extra names (or IPs) the server is reached under; "*.example.com" matches any subdomain. */
  allowedHosts?: readonly string[];
  /** The machine's host name (defaults to os.hostname(); injectable for tests). */
  machineName?: string;
}

/**
 * Decides whether a request's Host header names this server. A page served from an attacker's
 * domain that re-resolves to 127.0.0.1 (DNS rebinding) still sends its own domain as Host, so
 * refusing unknown names keeps such a page out even when no token is set. An IP literal cannot be
 * rebound (no DNS is involved: the browser connected to that very address), so when the server
 * listens on every interface any IP literal is accepted — which also covers Docker port
 * publishing and NAT, where the address the client used is not one of this machine's.
 */
export class HostAllowList {
  readonly #names = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #anyIp: boolean;

  constructor(opts: HostAllowListOptions) {
    const bind = bare(opts.bindHost);
    this.#anyIp = isWildcard(bind);
    if (!this.#anyIp) this.#names.add(canonicalIp(bind));
    if (this.#anyIp) {
      const machine = bare(opts.machineName ?? safeHostname());
      if (machine !== "") {
        this.#names.add(machine);
        if (!machine.includes(".")) this.#names.add(`${machine}.local`);
      }
    }
    for (const raw of opts.allowedHosts ?? []) {
      const e = bare(raw);
      if (e.startsWith("*.")) this.#suffixes.push(e.slice(1));
      else if (e !== "") this.#names.add(canonicalIp(e));
    }
  }

  /** True when the host part of a Host header names this server (any port). */
  allows(host: string): boolean {
    const h = bare(host);
    if (isLoopback(h)) return true;
    if (isIP(h) !== 0) return this.#anyIp || this.#names.has(canonicalIp(h));
    if (this.#names.has(h)) return true;
    return this.#suffixes.some((s) => h.endsWith(s) && h.length > s.length);
  }
}

/** One spelling per IPv6 address so "::1" and "0:0::1" compare equal; names pass through. */
function canonicalIp(h: string): string {
  const g = ipv6Groups(h);
  if (!g) return h;
  return mappedV4(g) ?? g.map((x) => x.toString(16)).join(":");
}

function safeHostname(): string {
  try {
    return hostname();
  } catch {
    return "";
  }
}
