/**
 * `npm start`: everything in one process on the embedded defaults (DESIGN §3). Invalid
 * configuration stops start-up with one line per problem and a non-zero exit.
 */
import { createTasdeed } from './app.js';
import { loadCatalogue } from './config/catalogue.js';
import { parseEnv } from './config/env.js';
import { createLogger } from './observability/logger.js';

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`tasdeed: ${line}\n`);
  process.stderr.write('tasdeed: not started; fix the configuration above and start again.\n');
  process.exit(1);
}

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const catalogue = loadCatalogue(
    env.ok ? env.config.cataloguePath : process.env.TASDEED_CATALOGUE?.trim() || null,
  );
  const problems = [...(env.ok ? [] : env.problems), ...(catalogue.ok ? [] : catalogue.problems)];
  if (!env.ok || !catalogue.ok) fail(problems);

  const config = env.config;
  const logger = createLogger({ level: config.logLevel });
  let tasdeed;
  try {
    tasdeed = await createTasdeed({ config, catalogue: catalogue.catalogue, logger });
  } catch (error) {
    fail([error instanceof Error ? error.message : String(error)]);
  }
  let port: number;
  try {
    port = await tasdeed.start();
  } catch (error) {
    const code = (error as { code?: string }).code;
    fail([
      code === 'EADDRINUSE'
        ? `PORT: ${config.host}:${config.port} is already in use`
        : error instanceof Error
          ? error.message
          : String(error),
    ]);
  }
  logger.info(
    { port, sandbox: config.sandbox, database: config.database.kind, publicUrl: config.publicUrl },
    `Tasdeed is listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    tasdeed
      .stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  fail([error instanceof Error ? error.message : String(error)]);
});
