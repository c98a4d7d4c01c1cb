import { OpsAlertList, Problem } from '@bazaar/contracts';
import type { FastifyInstance } from 'fastify';
import type { AlertEvaluator } from '../ops/alert-evaluator.ts';

/** `GET /api/ops/alerts` (admins only, by the route table): the embedded evaluator's active alerts. */
export function opsAlertRoutes(
  scope: FastifyInstance,
  deps: { alerts: Pick<AlertEvaluator, 'alerts'> },
): void {
  scope.get(
    '/api/ops/alerts',
    {
      schema: {
        tags: ['ops'],
        operationId: 'listOpsAlerts',
        summary: 'Alerts pending or firing',
        description:
          "The alert rules of `deploy/prometheus/`, evaluated by the gateway over every instance's " +
          'metrics at each scrape: alerts whose condition holds, `pending` until it has held for the ' +
          "rule's `for`, then `firing` (listed first). `evaluatedAt` is null before the first round.",
        response: { 200: OpsAlertList, 401: Problem, 403: Problem },
      },
    },
    async () => deps.alerts.alerts(),
  );
}
