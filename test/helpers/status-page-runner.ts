// Runs the status page's script (PAGE_JS) against a real agent in a node:vm context with the few DOM
// calls it makes (createElement, appendChild, getElementById, events) and the real fetch. Enough to
// check what the page renders from /status and /events without a browser.

import { createContext, runInContext } from "node:vm";
import { PAGE_JS } from "../../src/http/status-page.js";

export class FakeElement {
  readonly tagName: string;
  readonly children: FakeElement[] = [];
  readonly attributes = new Map<string, string>();
  readonly listeners = new Map<string, ((e: { preventDefault(): void }) => void)[]>();
  hidden = false;
  disabled = false;
  className = "";
  value = "";
  #text = "";
  tBodies: FakeElement[] = [];

  constructor(tag: string) {
    this.tagName = tag.toUpperCase();
    if (tag === "table") this.tBodies = [new FakeElement("tbody")];
  }
  get textContent(): string {
    return this.#text + this.children.map((c) => c.textContent).join("");
  }
  set textContent(t: string) {
    this.children.length = 0;
    this.#text = String(t);
  }
  get firstChild(): FakeElement | null {
    return this.children[0] ?? null;
  }
  appendChild(c: FakeElement): FakeElement {
    this.children.push(c);
    return c;
  }
  removeChild(c: FakeElement): FakeElement {
    const i = this.children.indexOf(c);
    if (i >= 0) this.children.splice(i, 1);
    return c;
  }
  setAttribute(k: string, v: string): void {
    this.attributes.set(k, String(v));
  }
  getAttribute(k: string): string | null {
    return this.attributes.get(k) ?? null;
  }
  addEventListener(type: string, fn: (e: { preventDefault(): void }) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(fn);
    this.listeners.set(type, list);
  }
  focus(): void {}
  click(): void {
    for (const fn of this.listeners.get("click") ?? []) fn({ preventDefault() {} });
  }
  /** Every descendant (depth first) matching `pred`. */
  findAll(pred: (e: FakeElement) => boolean): FakeElement[] {
    const out: FakeElement[] = [];
    for (const c of this.children) {
      if (pred(c)) out.push(c);
      out.push(...c.findAll(pred));
    }
    return out;
  }
}

export interface PageRun {
  byId(id: string): FakeElement;
  /** Stops the page's timers and its event stream. */
  close(): void;
}

/** `globals`: more of the page's world (e.g. `window` with `prompt` and `alert` answered by the test). */
export function runStatusPage(base: string, token = "", globals: Record<string, unknown> = {}): PageRun {
  const ids = new Map<string, FakeElement>();
  const tables = new Set(["alarms", "repeats", "hooks"]);
  const byId = (id: string): FakeElement => {
    let e = ids.get(id);
    if (e === undefined) {
      e = new FakeElement(tables.has(id) ? "table" : "div");
      ids.set(id, e);
    }
    return e;
  };
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const aborts = new Set<AbortController>();
  const store = new Map<string, string>([["edge-agent-token", token]]);
  const context = createContext({
    document: {
      getElementById: byId,
      createElement: (tag: string) => new FakeElement(tag),
      createTextNode: (t: string) => {
        const e = new FakeElement("#text");
        e.textContent = t;
        return e;
      },
    },
    sessionStorage: {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
      removeItem: (k: string) => store.delete(k),
    },
    fetch: (url: string, init: RequestInit = {}) => fetch(base + url, init),
    AbortController: class extends AbortController {
      constructor() {
        super();
        aborts.add(this);
      }
    },
    TextDecoder,
    console,
    setTimeout: (fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      timers.add(t);
      return t;
    },
    setInterval: (fn: () => void, ms: number) => {
      const t = setInterval(fn, ms);
      timers.add(t);
      return t;
    },
    clearTimeout: (t: ReturnType<typeof setTimeout>) => clearTimeout(t),
    ...globals,
  });
  runInContext(PAGE_JS, context);
  return {
    byId,
    close() {
      for (const t of timers) {
        clearTimeout(t);
        clearInterval(t);
      }
      for (const a of aborts) a.abort();
    },
  };
}
