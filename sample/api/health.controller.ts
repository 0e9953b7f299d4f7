import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, NotFoundException, Optional, Req, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { OAuthHealthIndicator } from 'nestjs-client-credentials/terminus';
import { PrometheusMetrics } from '../observability/prometheus-metrics.js';

/** `GET /health` (terminus, the OAuth indicator) and `GET /metrics` (Prometheus text format). */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly oauth: OAuthHealthIndicator,
    @Optional() private readonly metrics?: PrometheusMetrics,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.oauth.isHealthy('oauth')]);
  }

  @Get('metrics')
  scrape(@Req() request: IncomingMessage, @Res() response: ServerResponse) {
    if (this.metrics === undefined) throw new NotFoundException('metrics are exported in --serve mode');
    this.metrics.exporter.getMetricsRequestHandler(request, response);
  }
}
