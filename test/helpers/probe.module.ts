import {
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  Param,
  ParseIntPipe,
  Post,
  Query,
} from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { Public } from '../../src/auth/public.decorator';
import { RequireFeature } from '../../src/common/features/require-feature.decorator';
import { Consumes } from '../../src/common/http/consumes.decorator';
import { SupersededBy } from '../../src/common/http/superseded-by.decorator';

class AddressDto {
  @IsString()
  @Length(1, 100)
  city!: string;
}

class EchoDto {
  @IsEmail()
  email!: string;

  @IsString()
  @Length(1, 50)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(150)
  age?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => AddressDto)
  address?: AddressDto;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(3)
  @IsString({ each: true })
  tags?: string[];
}

class FormDto {
  @IsString()
  grant!: string;
}

class PageQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page?: number;
}

/** Test-only routes that exercise the global pipeline (validation, errors, versioning, flags). */
@Public()
@Controller('probe')
class ProbeController {
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }

  @Post('form')
  @HttpCode(200)
  @Consumes('application/x-www-form-urlencoded')
  form(@Body() body: FormDto): FormDto {
    return body;
  }

  @Get('items/:id')
  item(
    @Param('id', ParseIntPipe) id: number,
    @Query() query: PageQuery,
  ): { id: number; page?: number } {
    return { id, page: query.page };
  }

  @Get('boom')
  boom(): never {
    throw new Error('connection to 10.0.0.5 failed: SELECT password_hash FROM users');
  }

  @Get('large')
  large(): { items: string[] } {
    return { items: Array.from({ length: 500 }, (_, i) => `item number ${i}`) };
  }

  @Get('legacy')
  @SupersededBy('/v2/probe/legacy', new Date('2026-09-01T00:00:00Z'))
  legacy(): { version: number } {
    return { version: 1 };
  }

  @Get('beta')
  @RequireFeature('beta_probe')
  beta(): { beta: true } {
    return { beta: true };
  }
}

@Public()
@Controller({ path: 'probe', version: '2' })
class ProbeV2Controller {
  @Get('legacy')
  legacy(): { version: number } {
    return { version: 2 };
  }
}

@Module({ controllers: [ProbeController, ProbeV2Controller] })
export class ProbeModule {}
