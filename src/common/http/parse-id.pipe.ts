import { ParseUUIDPipe } from '@nestjs/common';
import { ValidationFailed } from '../errors/domain-errors';

/** `@Param('id', ParseId)`: a malformed id is a 400 VALIDATION_FAILED, never a 500 from the database. */
export const ParseId = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationFailed([{ field: 'id', message: 'id must be a UUID' }]),
});
