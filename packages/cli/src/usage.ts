/** Wrong command-line use: the usage is printed and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The `bazaar` command's help text. */
export const USAGE = `Usage: bazaar <command> [options]

Commands:
  up       start the whole system in embedded mode (what \`npm start\` runs)
             --replicas svc=N[,svc=N...]   instances per service (e.g. catalog=3,gateway=2)
             --data-dir DIR                data folder (default BAZAAR_DATA_DIR or <repo>/.data)
             --gateway-port N              default BAZAAR_GATEWAY_PORT or 8080
             --registry-port N             default BAZAAR_REGISTRY_PORT or 8761
             --log-level LEVEL             fatal, error, warn, info, debug, trace (default info)
             --verbose                     print every start-up line (by default only warnings and
                                           errors until ready; all lines are in <data>/logs)
  status   services, instances, health and circuit states (--registry URL, --gateway URL)
             --registry URL                default BAZAAR_REGISTRY_URL or http://127.0.0.1:8761
  admin reset-password             a new generated password for the admin (or --email ADDRESS);
                                   every session of that account ends; needs Bazaar running
             --data-dir DIR, --registry URL
  events dead                      every service's dead letters (events a consumer failed on)
  events redrive [--service S [--id N]]
                                   process dead letters again (all, one service's, or one)
             --data-dir DIR, --database URL (one service's database, in production)
  logs [SERVICE] [--trace ID] [--since 10m|DATE] [-f] [--json]
                                   every instance's log lines in time order (embedded mode;
                                   -f follows new lines), from --data-dir DIR
  config get <service>             a service's live config (the values on stdout, its version on stderr)
  config set <service> <file.json|-> --reason "why" [--expect N]
                                   replace its values whole (from a file or stdin); --expect refuses
                                   the change unless the current version is N
  config history <service>         every version, newest first: author, reason, what changed
  config rollback <service> <version> --reason "why"
                                   a new version equal to an old one
             --gateway URL (default http://127.0.0.1:8080), --data-dir DIR (the admin's credentials.json)
  build-web [--force]              build the web app into web/dist (\`up\` does it when sources changed)
  alert-rules [--check]            write deploy/prometheus/ (rules, promtool tests) from the kit's alert
                                   rules; --check exits 1 when it is out of date (--out DIR elsewhere)
  help     show this text
`;
