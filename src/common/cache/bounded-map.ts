/**
 * The embedded cache's store (keyv takes any Map): at most `max` entries, the least recently
 * read or written making room. Cache keys include the query string, which any caller chooses,
 * and keyv drops an expired entry only when it is read, so a plain Map would grow without end.
 * A Map iterates in insertion order: a read moves its entry to the end, so the first is the
 * least recently used.
 */
export class BoundedMap<V> extends Map<string, V> {
  constructor(private readonly max: number) {
    super();
  }

  override get(key: string): V | undefined {
    const value = super.get(key);
    if (value !== undefined) {
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }

  override set(key: string, value: V): this {
    if (super.has(key)) super.delete(key);
    else if (this.size >= this.max) this.delete(this.keys().next().value as string);
    return super.set(key, value);
  }
}
