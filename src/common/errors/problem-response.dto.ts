import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorResponse {
  @ApiProperty({ example: 'email' }) field!: string;
  @ApiProperty({ example: 'email must be an email address' }) message!: string;
}

/** The application/problem+json body of every error (RFC 9457). */
export class ProblemResponse {
  @ApiProperty({ example: 'urn:keel:problem:validation-failed' }) type!: string;
  @ApiProperty({ example: 'Bad Request' }) title!: string;
  @ApiProperty({ example: 400 }) status!: number;
  @ApiProperty({ example: 'The request is invalid; see errors for each field.' }) detail!: string;
  @ApiProperty({ example: '/v1/users' }) instance!: string;
  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Stable, UPPER_SNAKE' }) code!: string;
  @ApiProperty({ example: '0f3c2a7e-9b1d-4c55-8f0e-1d2c3b4a5e6f' }) requestId!: string;
  @ApiPropertyOptional({ type: [FieldErrorResponse] }) errors?: FieldErrorResponse[];
}
