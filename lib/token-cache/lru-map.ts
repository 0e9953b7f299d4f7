/** One entry, linked to its neighbours in use order (oldest → newest). */
class Node<V> {
  older: Node<V> | undefined = undefined;
  newer: Node<V> | undefined = undefined;

  constructor(
    readonly key: string,
    public value: V,
  ) {}
}

/**
 * A `Map` bounded by `max` entries that drops the least recently used one past it. Use order is a
 * doubly linked list through the entries: a hit re-links one node (a few field writes, nothing
 * allocated, nothing rehashed), where deleting and re-inserting a `Map` key would churn V8's hash
 * table (tombstones pile up in one bucket for a hot key). A hit on the newest entry writes nothing.
 */
export class LruMap<V> {
  private readonly nodes = new Map<string, Node<V>>();
  private oldest: Node<V> | undefined;
  private newest: Node<V> | undefined;

  constructor(readonly max: number) {}

  get size(): number {
    return this.nodes.size;
  }

  /** The value, marked as just used. */
  get(key: string): V | undefined {
    const node = this.nodes.get(key);
    if (node === undefined) return undefined;
    if (node !== this.newest) {
      this.unlink(node);
      this.append(node);
    }
    return node.value;
  }

  /** The value, without marking it as used. */
  peek(key: string): V | undefined {
    return this.nodes.get(key)?.value;
  }

  has(key: string): boolean {
    return this.nodes.has(key);
  }

  /**
   * Stores `value` as the newest entry, then drops the least recently used entries past `max`,
   * skipping those `keep` says to keep (a key whose request is in flight). When only kept entries
   * are left the map stays over `max` until one of them may go.
   */
  set(key: string, value: V, keep?: (key: string) => boolean): void {
    const existing = this.nodes.get(key);
    if (existing !== undefined) {
      existing.value = value;
      if (existing !== this.newest) {
        this.unlink(existing);
        this.append(existing);
      }
    } else {
      const node = new Node(key, value);
      this.nodes.set(key, node);
      this.append(node);
    }
    let candidate = this.oldest;
    while (this.nodes.size > this.max && candidate !== undefined) {
      const next = candidate.newer;
      if (candidate.key !== key && keep?.(candidate.key) !== true) this.remove(candidate);
      candidate = next;
    }
  }

  delete(key: string): boolean {
    const node = this.nodes.get(key);
    if (node === undefined) return false;
    this.remove(node);
    return true;
  }

  /** Keys, oldest first. Deleting the key just visited is safe. */
  *keys(): IterableIterator<string> {
    for (let node = this.oldest; node !== undefined;) {
      const next = node.newer;
      yield node.key;
      node = next;
    }
  }

  /** Entries, oldest first (nothing is marked as used). */
  *entries(): IterableIterator<[string, V]> {
    for (let node = this.oldest; node !== undefined;) {
      const next = node.newer;
      yield [node.key, node.value];
      node = next;
    }
  }

  private remove(node: Node<V>): void {
    this.nodes.delete(node.key);
    this.unlink(node);
  }

  private unlink(node: Node<V>): void {
    if (node.older === undefined) this.oldest = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === undefined) this.newest = node.older;
    else node.newer.older = node.older;
    node.older = node.newer = undefined;
  }

  private append(node: Node<V>): void {
    node.older = this.newest;
    if (this.newest === undefined) this.oldest = node;
    else this.newest.newer = node;
    this.newest = node;
  }
}
