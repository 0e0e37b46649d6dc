// TEMPORARY STUB (not committed)
export class NegativeIds {
  #m = new Map<string, number>();
  constructor(readonly max: number, readonly ttl: number, readonly now: () => number) {}
  has(hi: number, lo: number): boolean { const e = this.#m.get(`${hi}:${lo}`); return e !== undefined && e > this.now(); }
  add(hi: number, lo: number): void { this.#m.set(`${hi}:${lo}`, this.now() + this.ttl); }
  delete(hi: number, lo: number): boolean { return this.#m.delete(`${hi}:${lo}`); }
  clear(): void { this.#m.clear(); }
  get size(): number { return this.#m.size; }
}
