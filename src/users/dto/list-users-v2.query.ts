import { IntersectionType } from '@nestjs/swagger';
import { CursorQuery } from '../../common/http/pagination';
import { UserFilterQuery } from './user-filter.query';

export class ListUsersV2Query extends IntersectionType(CursorQuery, UserFilterQuery) {}
