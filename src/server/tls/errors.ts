// A TLS set-up an operator can fix (a certificate file that cannot be read or does not match
// its key, a CA that refuses the order): said in one line, like every other start-up failure.
export class TlsError extends Error {
  override name = 'TlsError';
}
