import { defineConfig } from 'prisma/config';

// The URL is only used by Prisma CLI commands; the application builds its own driver adapter.
export default defineConfig({
  schema: 'prisma/schema.prisma',
});
