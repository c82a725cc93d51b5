import { ValidationError } from 'class-validator';
import { ValidationFailed } from './domain-errors';
import { FieldError } from './problem-details';

/** Flattens class-validator's tree into `{field, message}` pairs with dotted paths (`items.0.name`). */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      field,
      message: constraint === 'whitelistValidation' ? `${field} is not allowed` : message,
    }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/** The ValidationPipe's exceptionFactory: a 400 VALIDATION_FAILED listing every field. */
export function validationFailed(errors: ValidationError[]): ValidationFailed {
  return new ValidationFailed(toFieldErrors(errors));
}
