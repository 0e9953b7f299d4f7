import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OAuthClients, TokenService, type OAuthClock } from 'nestjs-client-credentials';
import { AppModule } from './app.module.js';
import { PrometheusMetrics } from './observability/prometheus-metrics.js';
import { startEmulatedProviders } from './emulated-providers.js';
import { isConfiguredForReal, PROVIDERS } from './providers.js';
import { startEmulatedPartner } from './tenants/emulated-partner.js';
import { MerchantConnections } from './tenants/merchant-connections.service.js';
import { MERCHANTS } from './tenants/merchants.js';
import { SecretVault } from './tenants/secret-vault.js';
import { Upstreams } from './upstream/upstreams.js';
import { terminalProgress } from './walkthrough/progress.js';
import { COLOURS, fit, PLAIN } from './walkthrough/report.js';
import { runWalkthrough } from './walkthrough/run-walkthrough.js';

export interface SampleOptions {
  /** Keep the app listening instead of walking through. */
  serve?: boolean;
  port?: number;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** For the sample's own test: a fake clock shared by the app and the emulators. */
  clock?: Required<OAuthClock>;
}

export interface SampleRun {
  exitCode: number;
  /** Set in serve mode: stops the app and the emulators. */
  close(): Promise<void>;
}

const SYSTEM_CLOCK: Required<OAuthClock> = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Starts emulators for every provider not configured for real, then the app. */
export async function runSample({
  serve = false,
  port = 3000,
  out = process.stdout,
  clock,
}: SampleOptions = {}): Promise<SampleRun> {
  const style = out.isTTY ? COLOURS : PLAIN;
  const print = (line: string) => out.write(`${line}\n`);
  const emulated = await startEmulatedProviders(
    PROVIDERS.filter((p) => !isConfiguredForReal(p)),
    clock,
  );
  // The merchants' partner is always emulated: the secret of each merchant's client goes into the vault.
  const vault = new SecretVault();
  const partner = await startEmulatedPartner(MERCHANTS, vault, clock).catch(async (error: unknown) => {
    await emulated.close();
    throw error;
  });
  let app: INestApplication | undefined;
  const metrics = serve ? PrometheusMetrics.start() : undefined;
  const close = async () => {
    await app?.close();
    await metrics?.stop();
    await emulated.close();
    await partner.close();
  };
  try {
    const options = { emulatedEnv: emulated.env, clock, metrics, partner: { accounts: partner.accounts, vault } };
    app = await NestFactory.create(AppModule.register(options), {
      logger: serve ? ['log', 'warn', 'error'] : false,
    });
    const merchants = app.get(MerchantConnections);
    print(style.bold(fit('nestjs-client-credentials · sample', 0)));
    print(
      style.dim(
        `${PROVIDERS.length} upstream APIs, ${emulated.emulators.size} emulated on 127.0.0.1, no network needed`,
      ),
    );

    if (serve) {
      // The merchants already connected, as an app adds them from its database when it starts.
      await app.init();
      for (const account of merchants.all()) await merchants.connect(account);
      await app.listen(port, '127.0.0.1');
      const base = await app.getUrl();
      print('');
      print(`listening on ${base}  (Ctrl+C to stop)`);
      print(`  GET ${base}/providers`);
      print(`  GET ${base}/tokens          fingerprints and expiry, never tokens`);
      print(`  GET ${base}/health          the OAuth health indicator (@nestjs/terminus)`);
      print(`  GET ${base}/metrics         OpenTelemetry metrics, Prometheus text format`);
      for (const provider of PROVIDERS) print(`  GET ${base}/providers/${provider.name}/ping`);
      print(`  GET ${base}/merchants       each merchant's client, added at runtime`);
      for (const { merchant } of merchants.all()) print(`  GET ${base}/merchants/${merchant.id}/ping`);
      print(`  DELETE ${base}/merchants/acme/connection   removes its client (PUT adds it)`);
      return { exitCode: 0, close };
    }

    await app.init();
    const actualClock = clock ?? SYSTEM_CLOCK;
    const results = await runWalkthrough({
      tokens: app.get(TokenService),
      upstreams: app.get(Upstreams),
      emulators: emulated.emulators,
      clock: actualClock,
      progress: terminalProgress(out, actualClock),
      style,
      print,
      tenants: {
        connections: merchants,
        clients: app.get(OAuthClients),
        tokens: app.get(TokenService),
        vault,
        partner: partner.emulator,
      },
    });
    await close();
    return { exitCode: results.every((r) => r.ok) ? 0 : 1, close: async () => undefined };
  } catch (error) {
    await close();
    throw error;
  }
}
