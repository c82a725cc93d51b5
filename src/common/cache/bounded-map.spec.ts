import { Keyv } from 'keyv';
import { BoundedMap } from './bounded-map';

describe('BoundedMap', () => {
  it('holds at most max entries, dropping the least recently written', () => {
    const map = new BoundedMap<number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) map.set(key, i);
    expect([...map]).toEqual([
      ['c', 2],
      ['d', 3],
      ['e', 4],
    ]);
  });

  it('keeps an entry that was read and drops the least recently used instead', () => {
    const map = new BoundedMap<number>(3);
    map.set('a', 1).set('b', 2).set('c', 3);
    expect(map.get('a')).toBe(1);
    map.set('d', 4);
    expect([...map.keys()]).toEqual(['c', 'a', 'd']);
    expect(map.get('b')).toBeUndefined();
  });

  it('replaces a value without dropping another, and counts the write as a use', () => {
    const map = new BoundedMap<number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect([...map]).toEqual([
      ['b', 2],
      ['a', 3],
    ]);
    map.set('c', 4);
    expect([...map.keys()]).toEqual(['a', 'c']);
  });

  it('a miss or has() changes nothing', () => {
    const map = new BoundedMap<number>(2);
    map.set('a', 1).set('b', 2);
    expect(map.get('x')).toBeUndefined();
    expect(map.has('a')).toBe(true);
    map.set('c', 3);
    expect([...map.keys()]).toEqual(['b', 'c']);
  });

  it("serves as keyv's store: values with their TTL, and never more than max entries", async () => {
    const store = new BoundedMap<unknown>(100);
    const cache = new Keyv({ store });
    for (let i = 0; i < 250; i++) await cache.set(`k${i}`, { i }, 60_000);
    expect(store.size).toBe(100);
    expect(await cache.get('k249')).toEqual({ i: 249 });
    expect(await cache.get('k0')).toBeUndefined();
    // A hot entry outlives a stream of new ones.
    for (let i = 250; i < 400; i++) {
      expect(await cache.get('k249')).toEqual({ i: 249 });
      await cache.set(`k${i}`, { i }, 60_000);
    }
    expect(store.size).toBe(100);
    expect(await cache.get('k249')).toEqual({ i: 249 });
    await cache.set('short', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await cache.get('short')).toBeUndefined();
  });
});
