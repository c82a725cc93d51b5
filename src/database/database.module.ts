import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions, openDataSource } from './keel-data-source';

/** PostgreSQL through TypeORM; the embedded/services choice is made here, once. */
@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig['database']): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(config.url ?? 'embedded', config.poolSize),
            // A service that cannot reach its database exits and is restarted by its supervisor.
            retryAttempts: config.url ? 3 : 0,
            retryDelay: 2000,
          }),
          dataSourceFactory: () => openDataSource(config, config.migrateOnBoot),
        }),
      ],
    };
  }
}
