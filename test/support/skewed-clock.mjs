// Preloaded into a Curfew child process to make its local clock wrong by CURFEW_TEST_SKEW_MS,
// as on a machine whose NTP broke: Date.now() and new Date() are both off.
const skew = Number(process.env.CURFEW_TEST_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;
