// A bounded ring-buffer FIFO: push is O(1) with no allocation once full-sized, so enqueueing an
// event for a hook costs the hot path one slot write. When full, push refuses (caller counts it).

export class BoundedFifo<T> {
  readonly #buf: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#buf = new Array<T | undefined>(Math.max(1, capacity));
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): boolean {
    if (this.#size >= this.#buf.length) return false;
    this.#buf[(this.#head + this.#size) % this.#buf.length] = item;
    this.#size++;
    return true;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#size--;
    return item;
  }

  clear(): void {
    this.#buf.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }
}
