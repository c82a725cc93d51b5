import { Injectable } from '@nestjs/common';
import { UsersService } from '../../users/users.service';
import { JobPayloads, JobResults } from '../job-payloads';
import { JobProcessor } from './job-processor';

const DEFAULT_DAYS = 30;

/** Users by role and signups per day (UTC), oldest day first. */
@Injectable()
export class ReportUsersProcessor extends JobProcessor<'report.users'> {
  readonly type = 'report.users';

  constructor(private readonly users: UsersService) {
    super();
  }

  async process(payload: JobPayloads['report.users']): Promise<JobResults['report.users']> {
    const [byRole, signupsPerDay] = await Promise.all([
      this.users.countByRole(),
      this.users.signupsPerDay(payload.days ?? DEFAULT_DAYS),
    ]);
    const total = Object.values(byRole).reduce((sum, count) => sum + count, 0);
    return { total, byRole, signupsPerDay };
  }
}
