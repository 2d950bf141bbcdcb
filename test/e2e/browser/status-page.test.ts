// The status page in a real headless Chromium: it asks for the token, shows devices and alarms,
// shows a raised alarm without a reload, loads nothing from outside the agent, and fits a phone.
// Skipped with a message when /usr/bin/chromium is absent (CI installs it).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type BrowserContext, chromium } from "playwright-core";
import { type Harness, makeAlarm, startHarness, TOKEN } from "../../integration/http/fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install it with "apt-get install -y chromium"`;

let h: Harness;
let context: BrowserContext;
let dir: string;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "edge-agent-browser-"));
  h = await startHarness();
  // A fresh profile per run (playwright passes it as --user-data-dir).
  context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  if (skip) return;
  await context?.close();
  await h?.api.stop();
  await rm(dir, { recursive: true, force: true });
});

it("shows a raised alarm live, offline, on a laptop and a phone", { skip, timeout: 60_000 }, async () => {
  h.alarms.put(makeAlarm("first-1", { title: "Breaker tripped", workOrderId: "9007199254740993123" }));
  const foreign: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host !== `127.0.0.1:${h.api.port}`) {
      foreign.push(url.href);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(h.base);

  // The shell asks for the token once, then keeps it for the session.
  await page.locator("#token").fill(TOKEN);
  await page.locator("#login button").click();
  await page.locator("#main").waitFor({ state: "visible" });
  await page.locator('#live:has-text("live")').waitFor();
  await page.locator('[data-device-id="meter-01"]').waitFor();
  assert.match(await page.locator('[data-device-id="meter-01"]').innerText(), /voltage\s+231\.50/);
  assert.match(await page.locator('[data-alarm-id="first-1"]').innerText(), /9007199254740993123/);

  // A new alarm appears without a reload.
  const navigations: string[] = [];
  page.on("framenavigated", (f) => navigations.push(f.url()));
  const raised = makeAlarm("live-raise-1", { title: "Over-voltage on incomer", created: Date.now() });
  h.alarms.put(raised);
  h.events.emit("alarmCreated", raised, h.devices.get("meter-01")!, {} as never);
  await page.locator('[data-alarm-id="live-raise-1"]').waitFor({ timeout: 5000 });
  assert.equal(await page.locator("#alarm-count").innerText(), "2");
  assert.deepEqual(navigations, [], "no reload happened");

  // Resolving removes it live.
  await h.alarms.resolve("live-raise-1", "operator", "test");
  await page.locator('[data-alarm-id="live-raise-1"]').waitFor({ state: "detached", timeout: 5000 });

  // Screenshots go to the temp dir (or SCREENSHOT_DIR, to look at them); never into the repo.
  const shots = process.env.SCREENSHOT_DIR ?? dir;
  await page.screenshot({ path: join(shots, "status-laptop.png"), fullPage: true });
  assert.ok(existsSync(join(shots, "status-laptop.png")));

  // A phone: nothing overflows sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a phone screen`);
  await page.screenshot({ path: join(shots, "status-phone.png"), fullPage: true });

  // The token is in sessionStorage, never in the served HTML or the URL.
  assert.ok(!(await page.content()).includes(TOKEN));
  assert.ok(!page.url().includes(TOKEN));

  assert.deepEqual(foreign, [], "every asset is served by the agent");
  assert.deepEqual(errors, []);
});
