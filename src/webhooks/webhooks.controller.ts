import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IncomingHttpHeaders } from 'node:http';
import { ApiKeyScopes } from '../auth/api-key-scopes.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { Principal } from '../auth/principal';
import { RequireFeature } from '../common/features/require-feature.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { WebhookAccepted } from './dto/webhook-accepted.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@RequireFeature('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post(':source')
  @HttpCode(202)
  @ApiKeyScopes('webhooks:write')
  @ApiOperation({
    summary: 'Receive an event from a partner (API key with webhooks:write; JSON up to 256 kB)',
  })
  @ApiHeader({
    name: 'X-Event-Id',
    required: false,
    description:
      "The sender's event id: a repeat from the same sender (the key's owner) and source returns the first eventId",
  })
  @ApiBody({ required: true, schema: { description: 'The event: any JSON document' } })
  @ApiAcceptedResponse({ type: WebhookAccepted })
  @ApiProblems(400, 401, 403, 404, 413, 415, 429, 503)
  receive(
    @CurrentUser() principal: Principal,
    @Param('source') source: string,
    @Headers() headers: IncomingHttpHeaders,
    @Body() payload: unknown,
  ): Promise<WebhookAccepted> {
    return this.webhooks.receive(principal, source, headers, payload);
  }
}
