import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Principal } from './principal';

/** The authenticated principal of the request. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal =>
    context.switchToHttp().getRequest<{ user: Principal }>().user,
);
