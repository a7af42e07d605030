import { describe, expect, it } from 'vitest';
import { StartStorm } from '../../src/worker/start-storm.js';

/** begin() `count` times; the nice value each start got. */
function beginMany(storm: StartStorm, count: number): (number | undefined)[] {
  return Array.from({ length: count }, () => storm.begin());
}

describe('StartStorm (which starts are lowered during a start storm)', () => {
  it('keeps the first stormSize starts at the emperor priority and lowers every later one while they are starting', () => {
    const storm = new StartStorm({ nice: 19, stormSize: 3 });
    expect(beginMany(storm, 5)).toEqual([undefined, undefined, undefined, 19, 19]);
    expect(storm.starting).toBe(5);
  });

  it('gives the configured nice value, not a fixed one', () => {
    const storm = new StartStorm({ nice: 7, stormSize: 1 });
    expect(beginMany(storm, 3)).toEqual([undefined, 7, 7]);
  });

  it('lowers every start with stormSize 0', () => {
    const storm = new StartStorm({ nice: 19, stormSize: 0 });
    expect(beginMany(storm, 3)).toEqual([19, 19, 19]);
  });

  it('never lowers with nice 0, however many are starting, but still counts them', () => {
    for (const stormSize of [0, 1, 2]) {
      const storm = new StartStorm({ nice: 0, stormSize });
      expect(beginMany(storm, 6)).toEqual(Array(6).fill(undefined));
      expect(storm.starting).toBe(6);
    }
  });

  it('says the storm goes on while more than stormSize are starting, and is over once no more are', () => {
    const storm = new StartStorm({ nice: 19, stormSize: 2 });
    beginMany(storm, 4);
    // 4 -> 3: more than 2 starting.
    expect(storm.end()).toBe(false);
    expect(storm.starting).toBe(3);
    // 3 -> 2: each of the 2 left sees 1 other starting, so neither would be lowered if begun now.
    expect(storm.end()).toBe(true);
    expect(storm.end()).toBe(true);
    expect(storm.end()).toBe(true);
    expect(storm.starting).toBe(0);
  });

  it('with stormSize 1, the storm is over once one alone is starting', () => {
    const storm = new StartStorm({ nice: 19, stormSize: 1 });
    expect(beginMany(storm, 3)).toEqual([undefined, 19, 19]);
    expect(storm.end()).toBe(false);
    expect(storm.end()).toBe(true);
  });

  it('lowers again once a storm builds up again after an end', () => {
    const storm = new StartStorm({ nice: 19, stormSize: 2 });
    expect(beginMany(storm, 3)).toEqual([undefined, undefined, 19]);
    storm.end();
    storm.end();
    // One starting: the next is not lowered, the one after it is.
    expect(beginMany(storm, 2)).toEqual([undefined, 19]);
  });

  it('never counts below 0: an end too many leaves the next start a lone one', () => {
    const storm = new StartStorm({ nice: 19, stormSize: 1 });
    expect(storm.end()).toBe(true);
    expect(storm.end()).toBe(true);
    expect(storm.starting).toBe(0);
    storm.begin();
    storm.end();
    storm.end();
    expect(storm.starting).toBe(0);
    expect(beginMany(storm, 2)).toEqual([undefined, 19]);
  });

  it('with stormSize 0 the storm is over only once nothing is starting', () => {
    const storm = new StartStorm({ nice: 19, stormSize: 0 });
    beginMany(storm, 2);
    expect(storm.end()).toBe(false);
    expect(storm.end()).toBe(true);
  });
});
