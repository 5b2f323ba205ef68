// Generates the Prisma client at install time.
// The Prisma CLI wants to download a native schema engine before most commands; generation
// never runs it, so any existing file satisfies the check and keeps installs offline-safe.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
if (result.status !== 0) {
  console.error('prisma generate failed: the Prisma client could not be generated (see above).');
  process.exit(result.status ?? 1);
}
