import { SetMetadata } from '@nestjs/common';

export const FEATURE_KEY = 'keel:feature';

/** The route (or every route of the controller) exists only while the flag is on; else 404. */
export const RequireFeature = (name: string) => SetMetadata(FEATURE_KEY, name);
