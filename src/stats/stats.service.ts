import { Injectable } from '@nestjs/common';
import { JobsService } from '../jobs/jobs.service';
import { UsersService } from '../users/users.service';
import { StatsResponse } from './dto/stats-response.dto';

@Injectable()
export class StatsService {
  constructor(
    private readonly users: UsersService,
    private readonly jobs: JobsService,
  ) {}

  async get(): Promise<StatsResponse> {
    const [byRole, byStatus] = await Promise.all([
      this.users.countByRole(),
      this.jobs.countByStatus(),
    ]);
    return {
      users: { total: sum(byRole), byRole },
      jobs: { total: sum(byStatus), byStatus },
    };
  }
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}
