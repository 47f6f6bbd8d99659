/** Code-unit order: the same on every instance and in every store (localeCompare follows ICU). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
