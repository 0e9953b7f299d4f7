import type { OAuthClock, TokenService } from 'nestjs-client-credentials';
import type { Emulator } from 'nestjs-client-credentials/testing';
import type { Upstreams } from '../upstream/upstreams.js';
import type { Progress } from './progress.js';
import { formatProviderHeading, formatStep, formatSummary, type Style } from './report.js';
import { failed, skipped, type StepResult } from './step-result.js';
import { emulatedSteps, firstTokenFromRealApi } from './steps.js';
import { TENANT_STEPS, type TenantContext } from './tenant-steps.js';

export interface WalkthroughOptions {
  tokens: TokenService;
  upstreams: Upstreams;
  emulators: ReadonlyMap<string, Emulator>;
  clock: Required<OAuthClock>;
  progress: Progress;
  style: Style;
  print(line: string): void;
  /** The merchants of one partner API, added as clients at runtime; their steps come last. */
  tenants?: TenantContext;
}

/** Runs every step for every provider, then the tenants', printing as it goes; resolves to all step results. */
export async function runWalkthrough(options: WalkthroughOptions): Promise<StepResult[]> {
  const { upstreams, emulators, tenants, style, print } = options;
  const results: StepResult[] = [];
  const run = async (steps: Array<() => Promise<StepResult>>) => {
    for (const step of steps) {
      const result = await step().catch((error: unknown) =>
        failed(
          'step',
          `threw ${error instanceof Error ? error.name : 'an error'}: ${String(error instanceof Error ? error.message : error)}`,
        ),
      );
      results.push(result);
      formatStep(result, style).forEach(print);
    }
  };
  for (const api of upstreams.all()) {
    const emulator = emulators.get(api.provider.name);
    const where = `${api.baseUrl}  ${emulator ? '(emulated)' : '(real API)'} · via ${api.via}`;
    formatProviderHeading(api.provider.name, api.provider.label, where, style).forEach(print);
    const steps = emulator
      ? emulatedSteps(api.provider).map((step) => () => step({ ...options, api, emulator }))
      : [
          () => firstTokenFromRealApi(options.tokens, api),
          async () => skipped('scripted steps', '429, 401 and refresh need the emulator'),
        ];
    await run(steps);
  }
  const merchants = tenants?.connections.all().length ?? 0;
  if (tenants !== undefined && merchants > 0) {
    const label = 'one API, a client per merchant, added at runtime';
    const where = `${tenants.partner.baseUrl}  (emulated) · ${merchants} merchants · via HttpService`;
    formatProviderHeading('partner', label, where, style).forEach(print);
    await run(TENANT_STEPS.map((step) => () => step(tenants)));
  }
  formatSummary(results, style).forEach(print);
  return results;
}
