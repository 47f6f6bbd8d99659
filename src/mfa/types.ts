/** A user's TOTP enrollment; the secret only ever sealed (src/mfa/secret-box.ts). */
export interface TotpEnrollment {
  secret: { kid: string; iv: string; ct: string; tag: string };
  enrolledAt: string;
}
