// Generates the Prisma clients at install time: one for SQLite and one for PostgreSQL, from the
// one source of models (prisma/schema.prisma). A schema names one provider, so the PostgreSQL
// schema is derived from it here (into the git-ignored src/generated/) rather than kept by hand.
// The Prisma CLI wants to download a native schema engine before most commands; generation
// never runs it, so any existing file satisfies the check and keeps installs offline-safe.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';

function generate(args) {
  const result = spawnSync('npx', ['--no-install', 'prisma', 'generate', ...args], {
    stdio: 'inherit',
    env,
  });
  if (result.status !== 0) {
    console.error('prisma generate failed: the Prisma client could not be generated (see above).');
    process.exit(result.status ?? 1);
  }
}

const source = readFileSync('prisma/schema.prisma', 'utf8');
const sqliteProvider = /provider\s*=\s*"sqlite"/;
const sqliteOutput = /output\s*=\s*"\.\.\/src\/generated\/prisma"/;
if (!sqliteProvider.test(source) || !sqliteOutput.test(source)) {
  console.error(
    'prisma/schema.prisma: expected provider "sqlite" and output "../src/generated/prisma"',
  );
  process.exit(1);
}
generate([]);

mkdirSync('src/generated', { recursive: true });
const postgres = source
  .replace(sqliteProvider, 'provider = "postgresql"')
  .replace(sqliteOutput, 'output              = "./prisma-pg"');
writeFileSync(
  'src/generated/schema.postgresql.prisma',
  `// Derived from prisma/schema.prisma by scripts/prisma-generate.mjs: do not edit.\n${postgres}`,
);
generate(['--schema', 'src/generated/schema.postgresql.prisma']);
