import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsNumber, ValidateBy } from 'class-validator';

export const MAX_DATA_ITEMS = 100_000;

/** `data.process`: count, sum, mean, min and max of the items, with progress. */
export class DataProcessPayload {
  @ApiProperty({
    type: [Number],
    minItems: 1,
    maxItems: MAX_DATA_ITEMS,
    description: `Finite numbers whose running total stays within ±${Number.MAX_VALUE}`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DATA_ITEMS)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @ValidateBy({
    name: 'finiteSum',
    validator: {
      // Checked here, where it is a 400: the job could only fail, or report a sum of null. Added
      // in order, as the job adds them: a total that passes the largest double on the way fails.
      validate: (items: unknown) =>
        !isNumberList(items) || Number.isFinite(items.reduce((sum, item) => sum + item, 0)),
      defaultMessage: () =>
        'the running total of items must stay a finite number (within ±1.7976931348623157e308)',
    },
  })
  items!: number[];
}

/** Items the other rules accept; anything else they report, and the sum is left alone. */
function isNumberList(items: unknown): items is number[] {
  return (
    Array.isArray(items) &&
    items.length <= MAX_DATA_ITEMS &&
    items.every((item) => typeof item === 'number' && Number.isFinite(item))
  );
}
