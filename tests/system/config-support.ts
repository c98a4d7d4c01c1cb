/**
 * The config center as an admin drives it through the gateway, for system tests: read a service's
 * current document, change its values on top of the current version, and wait until every up
 * instance reports having applied a version.
 */
import assert from 'node:assert/strict';
import type { ConfigDocument, OpsServiceList } from '@bazaar/contracts';
import type { System } from '../../packages/cli/src/system.ts';
import { type Account, api } from '../security/support.ts';
import { eventually } from './support.ts';

export function configCenter(system: System, admin: Account) {
  /** The admin's call to the ops API. */
  const ops = (method: string, path: string, body?: unknown) =>
    api(system, method, path, { token: admin.accessToken, body });

  async function current(service: string): Promise<ConfigDocument> {
    const res = await ops('GET', `/api/ops/config/${service}`);
    assert.equal(res.status, 200, res.text);
    return res.body as unknown as ConfigDocument;
  }

  /** Replaces `service`'s values on top of its current version; answers the new document. */
  async function change(service: string, values: unknown, reason: string): Promise<ConfigDocument> {
    const { version } = await current(service);
    const res = await ops('PUT', `/api/ops/config/${service}`, { values, reason, expectedVersion: version });
    assert.equal(res.status, 200, res.text);
    return res.body as unknown as ConfigDocument;
  }

  /** What every up instance of `service` reports of its live config, from the ops console's list. */
  async function applied(service: string) {
    const res = await ops('GET', '/api/ops/services');
    assert.equal(res.status, 200, res.text);
    const list = res.body as unknown as OpsServiceList;
    return (list.items.find((s) => s.name === service)?.instances ?? [])
      .filter((i) => i.status === 'up')
      .map((i) => i.config);
  }

  /** Waits until every up instance of `service` reports having applied `version`. */
  function appliedEverywhere(service: string, version: number) {
    return eventually(
      `${service} instances apply version ${version}`,
      () => applied(service),
      (configs) => configs.length > 0 && configs.every((c) => c?.version === version && c.error === null),
    );
  }

  /** Changes `service`'s values and waits until every up instance applied them. */
  async function changeApplied(service: string, values: unknown, reason: string): Promise<ConfigDocument> {
    const document = await change(service, values, reason);
    await appliedEverywhere(service, document.version);
    return document;
  }

  return { ops, current, change, applied, appliedEverywhere, changeApplied };
}
