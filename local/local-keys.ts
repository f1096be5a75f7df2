import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The local stack's own credentials: an Ed25519 key pair standing in for the Discord
 * application's (the stack verifies with the public half, `npm run discord` signs with the
 * private half), and a Standard Webhooks secret for reports. Made once and kept in `.local/`,
 * so restarts and the CLI agree; never used outside the sandbox.
 */
export interface LocalKeys {
  readonly discordPublicKeyHex: string;
  /** PKCS#8 PEM, for signing like Discord does. */
  readonly discordPrivateKeyPem: string;
  readonly webhookSecret: string;
  readonly discordApplicationId: string;
  /** The secret the GitHub stand-in signs `X-Hub-Signature-256` with (GitHub's is any string). */
  readonly githubWebhookSecret: string;
  /** The signing secret of the Linear stand-in's webhook (`Linear-Signature`). */
  readonly linearWebhookSecret: string;
  /** `whsec_…`: bug status events to the local product receiver are signed with it. */
  readonly bugStatusWebhookSecret: string;
}

/** The keys added after the first ones; a `keys.json` made before them gets them on load. */
function newerKeys(): Pick<
  LocalKeys,
  'githubWebhookSecret' | 'linearWebhookSecret' | 'bugStatusWebhookSecret'
> {
  return {
    githubWebhookSecret: randomBytes(20).toString('hex'),
    linearWebhookSecret: `lin_wh_${randomBytes(24).toString('base64url')}`,
    bugStatusWebhookSecret: `whsec_${randomBytes(24).toString('base64')}`,
  };
}

export function loadOrCreateLocalKeys(path: string): LocalKeys {
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Partial<LocalKeys>;
    const complete = { ...newerKeys(), ...stored } as LocalKeys;
    if (Object.keys(complete).length !== Object.keys(stored).length) {
      writeFileSync(path, `${JSON.stringify(complete, null, 2)}\n`, { mode: 0o600 });
    }
    return complete;
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const keys: LocalKeys = {
    discordPublicKeyHex: spki.subarray(spki.length - 32).toString('hex'),
    discordPrivateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    webhookSecret: `whsec_${randomBytes(24).toString('base64')}`,
    discordApplicationId: '1234567890123456789',
    ...newerKeys(),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}
