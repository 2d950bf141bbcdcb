// `edge-agent sim [--port N] [--host H] [--unit N] [--rtu PATH [--baud 9600]]`: runs the simulated
// Modbus power meter until SIGINT/SIGTERM, then closes its sockets and port and resolves 0.

import { errorMessage } from "../core/errors.js";
import { SIM_REGISTER_MAP, SimulatedMeter } from "../sources/modbus/sim.js";
import { parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, waitForShutdownSignal } from "./io.js";

const USAGE = "Usage: edge-agent sim [--port N] [--host H] [--unit N] [--rtu PATH] [--baud N]\n";

function intArg(v: string | undefined, def: number, name: string, min: number, max: number): number | string {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    return `--${name} must be an integer from ${min} to ${max}, got "${v}"`;
  return n;
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, {
    port: { type: "string" },
    host: { type: "string" },
    unit: { type: "string" },
    rtu: { type: "string" },
    baud: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (!parsed.ok) {
    io.stderr(`${parsed.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const port = intArg(v.port, 5020, "port", 0, 65535);
  const unit = intArg(v.unit, 1, "unit", 1, 247);
  const baud = intArg(v.baud, 9600, "baud", 300, 4_000_000);
  for (const x of [port, unit, baud]) {
    if (typeof x === "string") {
      io.stderr(`${x}\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
  const host = v.host ?? "127.0.0.1";
  const meter = new SimulatedMeter({ port: port as number, host, unitId: unit as number });
  try {
    await meter.start();
    if (v.rtu) await meter.startRtu(v.rtu, baud as number);
  } catch (err) {
    await meter.stop().catch(() => {});
    io.stderr(`sim: cannot start: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  }
  io.stdout(`Simulated Modbus TCP power meter on ${host}:${meter.port}\n`);
  if (v.rtu) io.stdout(`Also serving Modbus RTU on ${v.rtu} at ${baud} baud\n`);
  io.stdout(`${SIM_REGISTER_MAP.replace("%UNIT%", String(unit))}\nPress Ctrl+C to stop.\n`);
  await waitForShutdownSignal();
  await meter.stop();
  io.stdout("sim: stopped\n");
  return EXIT_OK;
}
