import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsNumber } from 'class-validator';

export const MAX_DATA_ITEMS = 100_000;

/** `data.process`: count, sum, mean, min and max of the items, with progress. */
export class DataProcessPayload {
  @ApiProperty({ type: [Number], minItems: 1, maxItems: MAX_DATA_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DATA_ITEMS)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  items!: number[];
}
