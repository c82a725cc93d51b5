import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../auth/public.decorator';
import { FeaturesService } from './features.service';

@ApiTags('features')
@Public()
@Controller('features')
export class FeaturesController {
  constructor(private readonly features: FeaturesService) {}

  @Get()
  @ApiOperation({ summary: 'Feature flags and whether each is on' })
  @ApiOkResponse({
    description: 'Flag name to state',
    schema: {
      type: 'object',
      additionalProperties: { type: 'boolean' },
      example: { registration: true, v2_api: true, webhooks: true },
    },
  })
  list(): Readonly<Record<string, boolean>> {
    return this.features.all();
  }
}
