import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

import { AppModule } from './app.module.js';
import { API_KEY_SCHEME, BEARER_SCHEME } from './auth/scope.decorator.js';
import { jsonBodiesWithinRouteLimits } from './common/body-limits.js';
import { DomainExceptionFilter } from './common/domain-exception.filter.js';
import { JsonLogger } from './common/json.logger.js';
import { refuseNulInUrl, requestIdMiddleware } from './common/request-id.middleware.js';
import type { AppConfig } from './config/app.config.js';
import type { Database } from './database/database.js';

/**
 * Builds the Nest application with everything main.ts and the tests share: body handling, validation,
 * the error filter, OpenAPI and shutdown hooks. Call `listen` on the result to serve.
 */
export async function createApp(config: AppConfig, db: Database): Promise<NestExpressApplication> {
  JsonLogger.setLevel(config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, db), {
    bodyParser: false,
    logger: JsonLogger.for('nest'),
  });

  app.disable('x-powered-by');
  app.use(requestIdMiddleware);
  app.use(refuseNulInUrl);
  app.use(jsonBodiesWithinRouteLimits());
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
  app.useGlobalFilters(new DomainExceptionFilter());
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'openapi.json' });

  return app;
}

export function buildOpenApiDocument(app: NestExpressApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ADWS injection graph')
    .setDescription(
      'Correlates process injection with Active Directory Web Services (ADWS) connections from the injected ' +
        'process, on a per-device process graph built from Microsoft Defender for Endpoint telemetry.',
    )
    .setVersion('0.1.0')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'Authorization: Bearer <API key>' },
      BEARER_SCHEME,
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key' }, API_KEY_SCHEME)
    .build();

  return requireKeysWhereScoped(SwaggerModule.createDocument(app, config));
}

/** Every operation that declares a scope (x-required-scope) accepts either scheme; the others need no key. */
function requireKeysWhereScoped(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path) as Array<Record<string, unknown>>) {
      if (typeof operation !== 'object' || operation === null || !('x-required-scope' in operation)) continue;
      operation.security = [{ [BEARER_SCHEME]: [] }, { [API_KEY_SCHEME]: [] }];
    }
  }

  return document;
}
