/**
 * The embedded cache's store (keyv takes any Map): at most `max` entries, the oldest making room.
 * Cache keys include the query string, which any caller chooses, and keyv drops an expired entry
 * only when it is read, so a plain Map would grow without end.
 */
export class BoundedMap<V> extends Map<string, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: string, value: V): this {
    if (!this.has(key) && this.size >= this.max) this.delete(this.keys().next().value as string);
    return super.set(key, value);
  }
}
