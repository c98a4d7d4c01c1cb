import type { Role } from '@bazaar/contracts';

/** The end user a request acts for, from a verified access token. */
export interface AuthUser {
  id: string;
  role: Role;
  /** The session (refresh-token family) the token belongs to. */
  sid: string;
}

/** The service that made a call, from a verified `Bazaar-Service-Token` addressed to this service. */
export interface ServiceCaller {
  service: string;
}

/** Why a token was refused: for logs and metrics, never shown to the client. */
export type RejectReason =
  | 'malformed'
  | 'algorithm'
  | 'type'
  | 'unknown-key'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not-yet-valid'
  | 'claims'
  | 'revoked';

/** A token that is not accepted. */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
  readonly reason: RejectReason;
  constructor(reason: RejectReason, detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.reason = reason;
  }
}

/** The signing keys could not be had (identity unreachable and nothing cached): the token is not judged. */
export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable';
}
