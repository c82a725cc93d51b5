import { Keyv } from 'keyv';
import { BoundedMap } from './bounded-map';

describe('BoundedMap', () => {
  it('holds at most max entries, dropping the oldest', () => {
    const map = new BoundedMap<number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) map.set(key, i);
    expect([...map]).toEqual([
      ['c', 2],
      ['d', 3],
      ['e', 4],
    ]);
  });

  it('replaces a value in place without dropping another', () => {
    const map = new BoundedMap<number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect([...map]).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it("serves as keyv's store: values with their TTL, and never more than max entries", async () => {
    const store = new BoundedMap<unknown>(100);
    const cache = new Keyv({ store });
    for (let i = 0; i < 250; i++) await cache.set(`k${i}`, { i }, 60_000);
    expect(store.size).toBe(100);
    expect(await cache.get('k249')).toEqual({ i: 249 });
    expect(await cache.get('k0')).toBeUndefined();
    await cache.set('short', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await cache.get('short')).toBeUndefined();
  });
});
