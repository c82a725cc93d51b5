import { ShutdownState } from './shutdown-state';

describe(ShutdownState.name, () => {
  afterEach(() => jest.useRealTimers());

  it('turns on once begun', () => {
    const state = new ShutdownState();
    expect(state.isShuttingDown).toBe(false);
    state.begin();
    expect(state.isShuttingDown).toBe(true);
  });

  it('gives the whole timeout before a drain, then what is left of it, never below 0', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const state = new ShutdownState();
    expect(state.remainingMs(25_000)).toBe(25_000);
    state.drainFor(25_000);
    jest.advanceTimersByTime(10_000);
    expect(state.remainingMs(25_000)).toBe(15_000);
    jest.advanceTimersByTime(30_000);
    expect(state.remainingMs(25_000)).toBe(0);
  });
});
