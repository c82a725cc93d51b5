import { ApiProperty } from '@nestjs/swagger';
import { PageMeta } from '../../common/http/pagination';
import { JobResponse } from './job-response.dto';

export class JobPage {
  @ApiProperty({ type: [JobResponse] }) data!: JobResponse[];
  @ApiProperty({ type: PageMeta }) meta!: PageMeta;
}
