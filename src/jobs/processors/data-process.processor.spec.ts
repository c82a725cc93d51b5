import { PermanentJobError } from '../job-queue';
import { DataProcessProcessor } from './data-process.processor';
import { JobContext } from './job-processor';

function context(): JobContext {
  return {
    id: 'job-1',
    ownerId: 'user-1',
    createdAt: new Date(),
    attempt: 1,
    progress: jest.fn(() => Promise.resolve()),
  };
}

describe(DataProcessProcessor.name, () => {
  const processor = new DataProcessProcessor();

  it('computes count, sum, mean, min and max', async () => {
    await expect(processor.process({ items: [4, -2, 10, 0.5] }, context())).resolves.toEqual({
      count: 4,
      sum: 12.5,
      mean: 3.125,
      min: -2,
      max: 10,
    });
  });

  it('fails permanently, not with a sum of null, when the sum is beyond the largest double', async () => {
    const run = processor.process({ items: [1e308, 1e308] }, context());
    await expect(run).rejects.toBeInstanceOf(PermanentJobError);
    await expect(run).rejects.toThrow(/sum of the items is beyond/);
  });
});
