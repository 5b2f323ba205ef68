/**
 * `npm start`: everything in one process on the embedded defaults (docs/design.md §3). Invalid
 * configuration stops start-up with one line per problem and a non-zero exit.
 */
import { createTasdeed } from './app.js';
import { loadCatalogue } from './config/catalogue.js';
import { parseEnv } from './config/env.js';
import { createLogger } from './observability/logger.js';

/** Stops start-up: one line per problem, then what to do about it. */
function fail(lines: string[], hint = 'fix the configuration above and start again'): never {
  for (const line of lines) process.stderr.write(`tasdeed: ${line}\n`);
  process.stderr.write(`tasdeed: not started; ${hint}.\n`);
  process.exit(1);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What a failed listen means, naming the variable to change. */
function listenProblem(error: unknown, host: string, port: number): string {
  switch ((error as { code?: string }).code) {
    case 'EADDRINUSE':
      return `PORT: ${host}:${port} is already in use`;
    case 'EACCES':
      return `PORT: ${port} needs privileges this process does not have (use 1024 or above)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST: "${host}" is not a known host name or address`;
    case 'EADDRNOTAVAIL':
      return `HOST: ${host} is not an address of this machine`;
    default:
      return messageOf(error);
  }
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
    // The database could not be opened or migrated: its message says what and where.
    fail([messageOf(error)], 'fix the problem above and start again');
  }
  let port: number;
  try {
    port = await tasdeed.start();
  } catch (error) {
    await tasdeed.stop().catch(() => undefined);
    fail([listenProblem(error, config.host, config.port)]);
  }
  logger.info(
    {
      port,
      sandbox: tasdeed.sandbox.on,
      database: config.database.kind,
      publicUrl: config.publicUrl,
    },
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
  fail([messageOf(error)], 'fix the problem above and start again');
});
