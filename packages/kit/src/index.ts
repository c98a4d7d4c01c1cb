export { type ActiveAlert, AlertTracker } from './alerts/alert-state.ts';
export { runExample } from './alerts/examples.ts';
export { type Expr, type Labels, longestWindow, type Selector, selectorsOf, selects } from './alerts/expr.ts';
export { renderCondition, renderDuration, renderExpr } from './alerts/promql.ts';
export {
  type AlertExample,
  type AlertRule,
  EXAMPLE_STEP_SECONDS,
  evaluateRule,
  type Severity,
} from './alerts/rule.ts';
export { alertRules } from './alerts/rules.ts';
export { type ScrapedSample, SeriesStore, type TargetScrape } from './alerts/series-store.ts';
export { type AppDependencies, type BuiltApp, buildApp } from './app.ts';
export { type AuthMetrics, authMetrics } from './auth/auth-metrics.ts';
export { Authenticator, type AuthenticatorOptions, type AuthSources } from './auth/authenticator.ts';
export { CredentialCheck } from './auth/credentials.ts';
export {
  assertOwnerOrAdmin,
  currentUser,
  isOwnerOrAdmin,
  type Principals,
  requireRole,
  requireService,
  requireUser,
} from './auth/guards.ts';
export {
  createIdentityApi,
  type ExchangedToken,
  type IdentityApi,
  type IdentityApiOptions,
} from './auth/identity-api.ts';
export { JwksCache, type JwksCacheOptions, type JwksFetchReason } from './auth/jwks-cache.ts';
export { LruCache } from './auth/lru-cache.ts';
export {
  type AuthUser,
  KeysUnavailable,
  type RejectReason,
  type ServiceCaller,
  TokenRejected,
} from './auth/principal.ts';
export { bearerToken, INVALID_TOKEN_CHALLENGE, installRequestAuth } from './auth/request-auth.ts';
export { RevocationList, readRevocations } from './auth/revocation-list.ts';
export { ServiceTokens, type ServiceTokensOptions } from './auth/service-tokens.ts';
export {
  type TokenKind,
  TokenVerifier,
  type TokenVerifierOptions,
  type VerifyOutcome,
} from './auth/token-verifier.ts';
export { durableName, type JetStreamTransportOptions, jetStreamTransport } from './bus/jetstream.ts';
export { type PgBossTransportOptions, pgBossTransport } from './bus/pg-boss.ts';
export { selectTransport } from './bus/select.ts';
export type {
  BusSubscription,
  BusTransport,
  Delivery,
  DeliveryOutcome,
  TransportEvents,
  TransportKind,
} from './bus/transport.ts';
export type { ChaosState } from './chaos.ts';
export { Deadline } from './client/deadline.ts';
export { DeadlineExceededError, ServiceUnavailableError, UpstreamError } from './client/errors.ts';
export {
  type Availability,
  type CallOptions,
  type CallResult,
  type EndpointView,
  ServiceClient,
} from './client/service-client.ts';
export { ConfigError, type KitConfig, KitConfigSchema, loadConfig, readEnv } from './config.ts';
export { currentContext, type RequestContext, runWithContext } from './context.ts';
export { kitMigrations, migrate, migrateService, readMigrations } from './db/migrate.ts';
export { createPool, databaseReachable, observePool } from './db/pool.ts';
export {
  type AuthSettings,
  authEnabled,
  defineService,
  type RegistryView,
  type ServiceContext,
  type ServiceDefinition,
} from './definition.ts';
export { AppError, problem } from './errors.ts';
export {
  type ConsumerDefinition,
  type EventWriter,
  OUTBOX_CHANNEL,
  outboxWriter,
  type Queryable,
  withTransaction,
} from './events/api.ts';
export {
  type ConsumerRunnerOptions,
  consumerGroup,
  consumerSubscription,
  handleOnce,
  type InboxOutcome,
} from './events/consumers.ts';
export {
  DEAD_LETTER_CHANNEL,
  type DeadLetter,
  listDeadLetters,
  type Redriver,
  type RedriverOptions,
  requestRedrive,
  startRedriver,
} from './events/dead-letters.ts';
export { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './events/relay.ts';
export { type EventRuntime, type EventRuntimeOptions, startEventRuntime } from './events/runtime.ts';
export { checkLiveConfig, type LiveConfigCheck } from './live-config/check.ts';
export {
  LiveConfig,
  type LiveConfigOptions,
  type LiveConfigView,
  registryConfigFetch,
} from './live-config/live-config.ts';
export { createLogger } from './log.ts';
export { createMetrics, type KitMetrics, scrapeTimeGauge, statusClass } from './metrics.ts';
export { sendProblem, toAppError } from './problem-handler.ts';
export { Registration } from './registry/registration.ts';
export { type InstanceSource, RegistryWatch } from './registry/watch.ts';
export { type RunningService, startService } from './start.ts';
export type { FinishedSpan } from './telemetry/local-exporter.ts';
export { startWorkSpan, traceTransaction, tracingActive, type WorkSpan } from './telemetry/spans.ts';
export { installTracing, startTracing, type Tracing, type TracingOptions } from './telemetry/tracer.ts';
export { crashPoint } from './test-hooks.ts';
export { type Clock, ManualClock, sleep, systemClock } from './time.ts';
export { continueTrace, type TraceContext, traceparent } from './trace.ts';
