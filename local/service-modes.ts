/**
 * Which outside services are real and which are sandboxed: a service is real when its
 * credentials (and the settings it cannot work without) are in the environment or `.env`.
 */
export type ServiceName = 'discord' | 'linear' | 'posthog' | 'anthropic' | 'github';

export interface ServiceMode {
  readonly service: ServiceName;
  readonly real: boolean;
  /** What is missing for the real one, when sandboxed. */
  readonly needs: readonly string[];
}

const requirements: Record<ServiceName, readonly string[]> = {
  discord: ['DISCORD_BOT_TOKEN', 'DISCORD_APPLICATION_ID', 'DISCORD_PUBLIC_KEY'],
  linear: ['LINEAR_API_KEY', 'LINEAR_TEAM_ID'],
  posthog: ['POSTHOG_API_KEY', 'POSTHOG_PROJECT_ID'],
  anthropic: ['ANTHROPIC_API_KEY'],
  github: ['GITHUB_TOKEN', 'GITHUB_REPO'],
};

export function decideServiceModes(
  env: Record<string, string | undefined>,
): Record<ServiceName, ServiceMode> {
  const modes = {} as Record<ServiceName, ServiceMode>;
  for (const [service, names] of Object.entries(requirements) as [ServiceName, readonly string[]][]) {
    const missing = names.filter((name) => !env[name]);
    modes[service] = { service, real: missing.length === 0, needs: missing };
  }
  return modes;
}
