import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuth } from '../auth/api-auth.decorator';
import { Roles } from '../auth/roles.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { BroadcastAccepted } from './dto/broadcast-accepted.dto';
import { BroadcastDto } from './dto/broadcast.dto';
import { RealtimeGateway } from './realtime.gateway';

@ApiTags('realtime')
@ApiAuth()
@Controller('realtime')
export class RealtimeController {
  constructor(private readonly realtime: RealtimeGateway) {}

  @Post('broadcast')
  @Roles('admin')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Send `broadcast {message, at}` to every socket of /realtime (all instances), or to one room',
  })
  @ApiAcceptedResponse({
    type: BroadcastAccepted,
    description: 'Sent to the sockets connected at this moment; nothing is stored',
  })
  @ApiProblems(400, 401, 403, 415, 429)
  broadcast(@Body() body: BroadcastDto): BroadcastAccepted {
    return this.realtime.broadcast(body);
  }
}
