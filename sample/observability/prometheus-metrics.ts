import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The OpenTelemetry SDK as an app would set it up, with a Prometheus exporter read through the
 * app's own `GET /metrics` (no second port). Registered before the app is created: the library
 * takes its meter when OAuthModule starts.
 */
export class PrometheusMetrics {
  readonly exporter = new PrometheusExporter({ preventServerStart: true });
  private readonly provider = new MeterProvider({ readers: [this.exporter] });

  static start(): PrometheusMetrics {
    const started = new PrometheusMetrics();
    metrics.setGlobalMeterProvider(started.provider);
    return started;
  }

  async stop(): Promise<void> {
    metrics.disable();
    await this.provider.shutdown();
  }
}
