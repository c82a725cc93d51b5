import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ContentTypeGuard } from './content-type.guard';

/** The HTTP contract checks that run before authentication: a body in the wrong media type is a 415. */
@Module({ providers: [{ provide: APP_GUARD, useClass: ContentTypeGuard }] })
export class HttpModule {}
