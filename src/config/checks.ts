// Semantic checks that a JSON Schema cannot express: unique ids, references that resolve, fields
// required by another field's value, and safety rules (docs/configuration.md, docs/mqtt.md, docs/http-api.md). Runs on a schema-valid
// document; returns every problem found (warnings carry severity "warning"), never throws.

import type { Problem } from "../core/errors.js";
import { allowedHostProblem, isLoopback } from "../core/net.js";
import { suggestion } from "./did-you-mean.js";
import { childPath } from "./json-scan.js";
import type { Config, ModbusPointConfig, MqttConfig } from "./schema.js";

export { isLoopback };

const MQTT_SCHEMES = ["mqtt:", "mqtts:", "ws:", "wss:"];
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
/** Registers per value for each point type (string: its `length`). */
export const REGISTER_COUNT: Readonly<Record<string, number>> = {
  bool: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};
const JSON_PATH = /^\$(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[\d+\]|\[(?:"[^"]*"|'[^']*')\])*$/;

/** Number of `+`/`#` wildcards in an MQTT topic filter, or a problem message when the filter is malformed. */
export function topicWildcards(topic: string): number | string {
  const levels = topic.split("/");
  let n = 0;
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as string;
    if (l === "+") n++;
    else if (l === "#") {
      if (i !== levels.length - 1) return "'#' is only allowed as the last topic level";
      n++;
    } else if (l.includes("+") || l.includes("#")) return `wildcards must fill a whole topic level, got '${l}'`;
  }
  return n;
}

function isUrl(s: string, schemes: readonly string[]): boolean {
  try {
    return schemes.includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

/** Whether the runtime knows `tz` as an IANA time zone. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function checkConfig(c: Config, file: string): Problem[] {
  const out: Problem[] = [];
  const err = (path: string, message: string, hint?: string): void => {
    out.push({ file, path, message, ...(hint ? { hint } : {}) });
  };
  const warn = (path: string, message: string, hint?: string): void => {
    out.push({ file, path, message, severity: "warning", ...(hint ? { hint } : {}) });
  };
  const unique = (items: readonly { id: string }[], base: string, what: string): void => {
    const first = new Map<string, number>();
    items.forEach((it, i) => {
      const prev = first.get(it.id);
      if (prev === undefined) first.set(it.id, i);
      else err(`${base}[${i}].id`, `duplicate ${what} id '${it.id}'`, `already used by ${base}[${prev}]`);
    });
  };

  if (c.log?.level !== undefined && !LOG_LEVELS.includes(c.log.level)) {
    err("$.log.level", `unknown log level '${c.log.level}'`, suggestion(c.log.level, LOG_LEVELS));
  }

  const tick = c.hooks?.tickIntervalMs;
  if (tick !== undefined && tick > 0 && tick < 100) {
    err("$.hooks.tickIntervalMs", `${tick} ms is too short for onTick`, "use at least 100, or 0 to turn onTick off");
  }
  if (c.timezone !== undefined && !isTimeZone(c.timezone)) {
    err("$.timezone", `unknown time zone '${c.timezone}'`, "use an IANA name such as Europe/Prague or UTC");
  }

  // MQTT (docs/mqtt.md)
  const subs = c.mqtt?.subscriptions ?? [];
  if (c.mqtt) {
    const url = c.mqtt.url;
    if (url !== "embedded" && !isUrl(url, MQTT_SCHEMES)) {
      err("$.mqtt.url", `unsupported broker URL '${url}'`, 'use mqtt://, mqtts://, ws://, wss:// or "embedded"');
    }
    if (url !== "embedded" && c.mqtt.port !== undefined) {
      warn("$.mqtt.port", "only used by the embedded broker", "put the port in mqtt.url");
    }
    checkEmbeddedBroker(c.mqtt, err, warn);
    if (c.mqtt.tls && isUrl(url, ["mqtt:", "ws:"])) {
      warn("$.mqtt.tls", `ignored with a plain ${new URL(url).protocol}// URL`, "use mqtts:// or wss://");
    }
    if (c.mqtt.reconnectMinMs !== undefined && c.mqtt.reconnectMaxMs !== undefined) {
      if (c.mqtt.reconnectMinMs > c.mqtt.reconnectMaxMs) err("$.mqtt.reconnectMinMs", "must not exceed reconnectMaxMs");
    }
    subs.forEach((s, i) => {
      const base = `$.mqtt.subscriptions[${i}]`;
      const wild = topicWildcards(s.topic);
      if (typeof wild === "string") {
        err(`${base}.topic`, wild);
        return;
      }
      if (s.device.startsWith("$")) {
        if (!JSON_PATH.test(s.device)) err(`${base}.device`, `invalid JSON path '${s.device}'`, "e.g. $.meta.id");
      } else {
        const refs = [...s.device.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1]));
        if (refs.length === 0 && wild > 0) {
          warn(
            `${base}.device`,
            `every topic matching '${s.topic}' maps to the one device '${s.device}'`,
            "use {1} for the level matched by the first wildcard",
          );
        }
        for (const n of refs) {
          if (n < 1 || n > wild) {
            err(
              `${base}.device`,
              `{${n}} refers to wildcard ${n} but topic '${s.topic}' has ${wild} wildcard${wild === 1 ? "" : "s"}`,
              wild > 0 ? `use {1}${wild > 1 ? `..{${wild}}` : ""}` : "use a JSON path such as $.meta.id",
            );
          }
        }
      }
      if (s.values !== undefined && !JSON_PATH.test(s.values))
        err(`${base}.values`, `invalid JSON path '${s.values}'`, "'$' is the whole payload, '$.data' a field");
      if (s.offlineAfter !== undefined && s.expectedIntervalMs === undefined)
        warn(`${base}.offlineAfter`, "has no effect without expectedIntervalMs");
    });
  }

  // Modbus (docs/modbus.md)
  const buses = c.modbus?.buses ?? [];
  const mdevs = c.modbus?.devices ?? [];
  unique(buses, "$.modbus.buses", "bus");
  unique(mdevs, "$.modbus.devices", "device");
  const busById = new Map(buses.map((b) => [b.id, b]));
  buses.forEach((b, i) => {
    const base = `$.modbus.buses[${i}]`;
    if (b.transport === "rtu") {
      if (b.path === undefined)
        err(`${base}.path`, "required for transport 'rtu'", "the serial port, e.g. /dev/ttyUSB0");
      if (b.host !== undefined) err(`${base}.host`, "not used by transport 'rtu'", "use 'tcp' or 'rtu-over-tcp'");
    } else {
      if (b.host === undefined)
        err(`${base}.host`, `required for transport '${b.transport}'`, "the IP address or name of the device");
      for (const k of ["path", "baudRate", "parity", "dataBits", "stopBits"] as const) {
        if (b[k] !== undefined) err(`${base}.${k}`, `serial setting not used by transport '${b.transport}'`);
      }
    }
    if (b.reconnectMinMs !== undefined && b.reconnectMaxMs !== undefined && b.reconnectMinMs > b.reconnectMaxMs)
      err(`${base}.reconnectMinMs`, "must not exceed reconnectMaxMs");
  });
  const unitsSeen = new Map<string, number>();
  mdevs.forEach((d, i) => {
    const base = `$.modbus.devices[${i}]`;
    const bus = busById.get(d.bus);
    if (!bus) {
      err(
        `${base}.bus`,
        `unknown bus '${d.bus}'`,
        suggestion(
          d.bus,
          buses.map((b) => b.id),
          "defined buses",
        ) ?? "no buses are defined in modbus.buses",
      );
    } else {
      if (bus.transport !== "tcp" && d.unitId === 0)
        err(`${base}.unitId`, "0 is the broadcast address on a serial line; no device answers it");
      const unitKey = `${d.bus}\u0000${d.unitId}`;
      const prev = unitsSeen.get(unitKey);
      if (prev !== undefined)
        warn(`${base}.unitId`, `unit ${d.unitId} on bus '${d.bus}' is also polled as $.modbus.devices[${prev}]`);
      else unitsSeen.set(unitKey, i);
    }
    const names = new Map<string, number>();
    d.points.forEach((p, j) => {
      const pb = `${base}.points[${j}]`;
      const prevName = names.get(p.name);
      if (prevName !== undefined)
        err(`${pb}.name`, `duplicate point name '${p.name}'`, `already used by points[${prevName}]`);
      else names.set(p.name, j);
      checkPoint(p, pb, err);
    });
  });

  // Device metadata and quotas (docs/configuration.md)
  const meta = c.devices ?? {};
  const modbusIds = new Set(mdevs.map((d) => d.id));
  for (const [id, m] of Object.entries(meta)) {
    const dev = mdevs.find((d) => d.id === id);
    if (dev && m.product !== undefined && m.product !== dev.product) {
      err(
        `${childPath("$.devices", id)}.product`,
        `'${m.product}' contradicts product '${dev.product}' of the Modbus device`,
      );
    }
    if (!dev && subs.length === 0) {
      warn(
        childPath("$.devices", id),
        `'${id}' is not a Modbus device and there are no MQTT subscriptions`,
        suggestion(id, [...modbusIds], "Modbus devices"),
      );
    }
  }
  const quotas = c.quotas ?? [];
  unique(quotas, "$.quotas", "quota");
  const known = [...new Set([...modbusIds, ...Object.keys(meta)])];
  quotas.forEach((q, i) => {
    const dev = mdevs.find((d) => d.id === q.device);
    if (dev && !dev.points.some((p) => p.name === q.metric)) {
      const names = dev.points.map((p) => p.name);
      const message = `Modbus device '${dev.id}' has no point '${q.metric}'`;
      const hint = suggestion(q.metric, names, "its points");
      if (subs.length > 0) warn(`$.quotas[${i}].metric`, message, hint);
      else err(`$.quotas[${i}].metric`, message, hint);
    }
    if (known.includes(q.device)) return;
    const hint = suggestion(q.device, known, "known devices");
    if (subs.length > 0) {
      warn(`$.quotas[${i}].device`, `'${q.device}' is not configured; expecting it from MQTT`, hint);
    } else {
      err(`$.quotas[${i}].device`, `unknown device '${q.device}'`, hint ?? "no devices are configured");
    }
  });

  // Upstream and work orders (docs/upstream.md)
  if (c.upstream) {
    if (!isUrl(c.upstream.baseUrl, ["http:", "https:"]))
      err("$.upstream.baseUrl", `must be an http:// or https:// URL, got '${c.upstream.baseUrl}'`);
    if (!c.upstream.token) warn("$.upstream.token", "empty: requests are sent without credentials");
  }
  if (c.workOrders && c.workOrders.enabled !== false) {
    if (!isUrl(c.workOrders.baseUrl, ["http:", "https:"]))
      err("$.workOrders.baseUrl", `must be an http:// or https:// URL, got '${c.workOrders.baseUrl}'`);
    if (c.workOrders.appSecret === "")
      err(
        "$.workOrders.appSecret",
        "must not be empty when work orders are enabled",
        "every request is signed with it",
      );
  }

  // Local API (docs/http-api.md): never expose an unauthenticated API beyond this machine.
  const http = c.http;
  if (http && http.enabled !== false) {
    const host = http.host ?? "127.0.0.1";
    if (!isLoopback(host) && !http.token) {
      err(
        "$.http.token",
        `required when http.host is '${host}' (not a loopback address)`,
        `set a token, e.g. "$\{API_TOKEN}", or bind to 127.0.0.1`,
      );
    }
    (http.allowedHosts ?? []).forEach((h, i) => {
      const why = allowedHostProblem(h);
      if (why) err(`$.http.allowedHosts[${i}]`, `'${h}': ${why}`, 'e.g. "gw-01.plant.example" or "*.plant.example"');
    });
  }
  return out;
}

/** Who may log in to the embedded broker, and a loud warning when anyone on the network can. */
function checkEmbeddedBroker(
  m: MqttConfig,
  err: (path: string, message: string, hint?: string) => void,
  warn: (path: string, message: string, hint?: string) => void,
): void {
  const users = m.users ?? [];
  if (m.url !== "embedded") {
    if (users.length > 0) warn("$.mqtt.users", "only used by the embedded broker", 'ignored unless url is "embedded"');
    return;
  }
  const seen = new Map<string, number>();
  users.forEach((u, i) => {
    const prev = seen.get(u.username);
    if (prev !== undefined)
      err(`$.mqtt.users[${i}].username`, `duplicate user '${u.username}'`, `already mqtt.users[${prev}]`);
    else seen.set(u.username, i);
    if (u.username === m.username)
      err(
        `$.mqtt.users[${i}].username`,
        `'${u.username}' is the agent's own mqtt.username`,
        "give devices their own login",
      );
    if (u.password === "")
      warn(`$.mqtt.users[${i}].password`, `empty: anyone who knows the user name '${u.username}' can publish`);
  });
  if (m.username && !m.password)
    warn("$.mqtt.password", "empty: anyone who knows mqtt.username can publish to the embedded broker");
  const secured = Boolean(m.username) || users.length > 0;
  const host = m.host ?? "127.0.0.1";
  if (!secured && !isLoopback(host)) {
    warn(
      "$.mqtt.host",
      `the embedded broker listens on '${host}' without authentication: anyone who can reach it can publish readings and raise or clear alarms`,
      'set mqtt.username/mqtt.password (the agent\'s login) and mqtt.users (device logins), e.g. "password": "${MQTT_PASSWORD}"',
    );
  }
}

function checkPoint(
  p: ModbusPointConfig,
  pb: string,
  err: (path: string, message: string, hint?: string) => void,
): void {
  const bitTable = p.table === "coil" || p.table === "discrete";
  if (bitTable && p.type !== "bool") {
    err(`${pb}.type`, `must be 'bool' for table '${p.table}' (single bits), got '${p.type}'`);
    return;
  }
  if (bitTable && p.bit !== undefined) err(`${pb}.bit`, `not used with table '${p.table}'`);
  if (!bitTable && p.type === "bool" && p.bit === undefined)
    err(
      `${pb}.bit`,
      `required for a bool read from ${p.table === "input" ? "an input" : "a holding"} register`,
      "the bit index 0–15",
    );
  if (p.type !== "bool" && p.bit !== undefined) err(`${pb}.bit`, "only used with type 'bool'");
  if (p.type === "string" && p.length === undefined)
    err(`${pb}.length`, "required for type 'string'", "the length in registers (2 characters each)");
  if (p.type !== "string" && p.length !== undefined) err(`${pb}.length`, "only used with type 'string'");
  const regs = p.type === "string" ? (p.length ?? 1) : (REGISTER_COUNT[p.type] ?? 1);
  if (p.order !== undefined && p.type !== "string" && regs < 2)
    err(`${pb}.order`, `only used with multi-register types, not '${p.type}'`);
  if (p.address + regs > 65536) err(`${pb}.address`, `${p.address} + ${regs} registers runs past 65535`);
  if (p.writable && p.table === "discrete") err(`${pb}.writable`, "discrete inputs are read-only");
  if (p.writable && p.table === "input") err(`${pb}.writable`, "input registers are read-only");
  if (p.type === "bool" && (p.scale !== undefined || p.offset !== undefined))
    err(`${pb}.${p.scale !== undefined ? "scale" : "offset"}`, "not used with type 'bool'");
}
