/**
 * A delivery's last error as the sender recorded it (`HTTP 503`, `ECONNREFUSED`, a sentence)
 * put in words an admin acts on: what happened and where to look.
 */
export function describeDeliveryError(error: string | undefined): string {
  if (!error) return '';
  const http = /^HTTP (\d{3})$/.exec(error);
  if (http) {
    const status = Number(http[1]);
    const meaning = HTTP_WORDS[status] ?? (status >= 500 ? 'the app failed' : status >= 400 ? 'the app refused the logout token' : 'unexpected answer');
    const next = status >= 400 && status < 500 && status !== 408 && status !== 429 ? ' (not retried: fix the app or its URI, then retry)' : ' (retried later)';
    return `The app answered ${status}: ${meaning}${next}.`;
  }
  const code = NETWORK_WORDS[error];
  if (code) return `${code} (retried later).`;
  return error.charAt(0).toUpperCase() + error.slice(1) + (/[.!?]$/.test(error) ? '' : '.');
}

const HTTP_WORDS: Record<number, string> = {
  400: 'it could not read or verify the logout token',
  401: 'it wants credentials',
  403: 'it refused the request',
  404: 'nothing is at that URI',
  405: 'that URI does not accept POST',
  408: 'it timed out reading the request',
  410: 'that URI is gone',
  429: 'it asked to slow down',
  500: 'it had an internal error',
  502: 'a gateway in front of it failed',
  503: 'it is unavailable',
  504: 'a gateway in front of it timed out',
};

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'Nothing listens at that address: the connection was refused',
  ECONNRESET: 'The app dropped the connection',
  ENOTFOUND: 'The host name does not resolve (DNS)',
  EAI_AGAIN: 'The host name could not be resolved just now (DNS)',
  ETIMEDOUT: 'The app did not answer in time',
  EHOSTUNREACH: 'The host cannot be reached',
  ENETUNREACH: 'The network cannot be reached',
  UND_ERR_CONNECT_TIMEOUT: 'Connecting to the app timed out',
  UND_ERR_HEADERS_TIMEOUT: 'The app accepted the connection but did not answer in time',
  UND_ERR_BODY_TIMEOUT: 'The app started answering but did not finish in time',
  UND_ERR_SOCKET: 'The connection to the app failed',
  CERT_HAS_EXPIRED: "The app's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "The app's TLS certificate is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "The app's TLS certificate cannot be verified",
  ERR_TLS_CERT_ALTNAME_INVALID: "The app's TLS certificate is for another host name",
};

/** Why a session ended, as a delivery's reason, in words. */
export function describeEndReason(reason: string): string {
  return END_WORDS[reason] ?? reason;
}

const END_WORDS: Record<string, string> = {
  logout: 'signed out',
  idle: 'idle timeout',
  absolute: 'absolute timeout',
  admin: 'revoked by an admin',
  policy: 'ended by a policy change',
  user_disabled: 'user disabled',
  client_deleted: 'client deleted',
};
