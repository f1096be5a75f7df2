import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocalKeys } from './local-keys.js';
import { signReport } from './report-sender.js';

/**
 * `npm run report -- "<description>" [options]`: posts a bug report to the local stack's webhook,
 * signed with Standard Webhooks as the product's backend would, then waits for its bug card.
 */
const usage = `usage: npm run report -- "<description>" [--email maya@example.com] [--user u_123]
                  [--logs "<console logs>"] [--session <posthog session id>] [--url URL] [--wait SECONDS]`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      user: { type: 'string' },
      logs: { type: 'string' },
      session: { type: 'string' },
      page: { type: 'string' },
      url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? '3000'}` },
      wait: { type: 'string', default: '20' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const description = positionals.join(' ');
  if (values.help || !description) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  // The same configuration as `npm start`: BUG_REPORT_WEBHOOK_SECRET from the environment or
  // `.env` wins over the sandbox's secret in .local/keys.json (local/local-settings.ts).
  if (existsSync('.env')) process.loadEnvFile('.env');
  const keysPath = join(process.cwd(), '.local', 'keys.json');
  const envSecret = process.env.BUG_REPORT_WEBHOOK_SECRET?.trim();
  if (!envSecret && !existsSync(keysPath)) {
    console.error('No local keys yet: start the local stack first with `npm start`.');
    return 2;
  }
  const secret = envSecret || (JSON.parse(readFileSync(keysPath, 'utf8')) as LocalKeys).webhookSecret;
  const report = {
    id: `r_${Date.now()}`,
    description,
    user_id: values.user,
    user_email: values.email,
    console_logs: values.logs,
    posthog_session_id: values.session,
    url: values.page,
    app_version: '2.8.1',
    device_info: { os: 'iOS 17.4', model: 'iPhone 15', browser: 'Safari' },
    created_at: new Date().toISOString(),
  };
  const signed = signReport(secret, report);
  const response = await fetch(`${values.url}/webhooks/bug-report`, {
    method: 'POST',
    headers: signed.headers,
    body: signed.body,
  });
  const answer = await response.text();
  console.log(`→ ${response.status} ${answer}`);
  if (response.status !== 202 || Number(values.wait) <= 0) return response.status === 202 ? 0 : 1;
  const { bugId } = JSON.parse(answer) as { bugId: string };

  const deadline = Date.now() + Number(values.wait) * 1000;
  while (Date.now() < deadline) {
    const state = (await (await fetch(`${values.url}/_local/state`)).json()) as {
      bugs: {
        bugId: string;
        status: string;
        priority: number | null;
        duplicateOf?: string;
        card?: unknown;
      }[];
    };
    const bug = state.bugs.find((candidate) => candidate.bugId === bugId);
    if (bug && (bug.card || bug.status === 'duplicate')) {
      console.log(
        bug.status === 'duplicate'
          ? `bugbot: ${bugId} is a duplicate of ${bug.duplicateOf} (no new card; the original's thread was told)`
          : `bugbot: ${bugId} is ${bug.status}${bug.priority ? ` (P${bug.priority})` : ''}; its card is in the sandbox #bug-reports`,
      );
      return 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  console.log(`… no card yet for ${bugId} (see the stack's logs and ${values.url}/_local/state)`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
