import { SetMetadata } from '@nestjs/common';

export const CONSUMES_KEY = 'keel:consumes';

/** The request media types a route accepts; routes without it accept JSON only. */
export const Consumes = (...mediaTypes: string[]) => SetMetadata(CONSUMES_KEY, mediaTypes);
