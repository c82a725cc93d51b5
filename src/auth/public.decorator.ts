import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'keel:public';

/** The route needs no credentials (every other route does). */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
