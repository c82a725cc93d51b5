import { Injectable } from '@nestjs/common';
import { UsersService } from '../users/users.service';
import { StatsResponse } from './dto/stats-response.dto';

@Injectable()
export class StatsService {
  constructor(private readonly users: UsersService) {}

  async get(): Promise<StatsResponse> {
    const byRole = await this.users.countByRole();
    return {
      users: { total: Object.values(byRole).reduce((sum, count) => sum + count, 0), byRole },
    };
  }
}
